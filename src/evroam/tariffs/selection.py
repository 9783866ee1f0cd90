"""Which of a connector's tariffs applies to a session: Tariff.type against the context, and validity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from evroam.modules.sessions.models import ProfileType
from evroam.modules.tariffs.models import Tariff, TariffType

__all__ = ["TariffContext", "is_valid_at", "select_tariff"]

_PROFILE_TYPES = {
    ProfileType.CHEAP: TariffType.PROFILE_CHEAP,
    ProfileType.FAST: TariffType.PROFILE_FAST,
    ProfileType.GREEN: TariffType.PROFILE_GREEN,
    ProfileType.REGULAR: TariffType.REGULAR,
}


@dataclass(frozen=True, slots=True)
class TariffContext:
    """How the session was started: ad-hoc payment at the Charge Point, and the charging preference in force."""

    ad_hoc_payment: bool = False
    profile: ProfileType | None = None

    @property
    def wanted(self) -> TariffType:
        """The TariffType made for this context (mod_tariffs_tariff_type)."""
        if self.ad_hoc_payment:
            return TariffType.AD_HOC_PAYMENT
        # REGULAR: "when using an RFID, without any Charging Preference, or when Charging Preference: REGULAR".
        return _PROFILE_TYPES[self.profile] if self.profile is not None else TariffType.REGULAR


def is_valid_at(tariff: Tariff, moment: datetime) -> bool:
    """Whether `moment` lies in [start_date_time, end_date_time] (UTC; "The time after which this tariff is
    no longer valid" leaves end_date_time itself valid)."""
    if tariff.start_date_time is not None and moment < tariff.start_date_time:
        return False
    return tariff.end_date_time is None or moment <= tariff.end_date_time


def select_tariff(
    tariffs: Sequence[Tariff],
    moment: datetime,
    *,
    tariff_ids: Sequence[str] | None = None,
    context: TariffContext | None = None,
) -> Tariff | None:
    """The tariff for a session starting at `moment`, or None when none applies.

    Candidates are the connector's `tariff_ids` (ids compared case-insensitively, in connector order), or
    all `tariffs`. Among those valid at `moment`, a tariff of the context's type wins over one without type
    ("When omitted, this tariff is valid for all sessions", mod_tariffs_tariff_object); for a PROFILE_*
    preference without a tariff of its own, a REGULAR tariff comes last. Ties go to connector order. The tariff
    chosen at the session start prices the whole session, as consumer law in many countries requires
    (mod_tariffs_tariff_object note on start_date_time).
    """
    wanted = (context or TariffContext()).wanted
    if tariff_ids is not None:
        by_id = {t.id.casefold(): t for t in reversed(tariffs)}
        ordered = [by_id[i.casefold()] for i in tariff_ids if i.casefold() in by_id]
    else:
        ordered = list(tariffs)
    ranked: list[tuple[int, int, Tariff]] = []
    for position, tariff in enumerate(ordered):
        if not is_valid_at(tariff, moment):
            continue
        if tariff.type is wanted:
            rank = 0
        elif tariff.type is None:
            rank = 1
        elif tariff.type is TariffType.REGULAR and wanted.name.startswith("PROFILE_"):
            rank = 2
        else:
            continue
        ranked.append((rank, position, tariff))
    return min(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None
