"""Reading tariff and CDR JSON for a price check, leniently: fields pricing does not need may be missing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError

from evroam.modules.cdrs.models import ChargingPeriod
from evroam.modules.tariffs.models import Tariff
from evroam.tariffs.errors import PricingError
from evroam.types import DateTime, Number, OcpiModel, Price

__all__ = ["COST_FIELDS", "CdrDocument", "read_cdr", "read_tariff"]

COST_FIELDS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)
# Identity fields a tariff needs to be a valid Tariff but pricing never reads.
_PLACEHOLDERS = {"country_code": "ZZ", "party_id": "ZZZ", "last_updated": "1970-01-01T00:00:00Z"}


def _problem(what: str, exc: ValidationError) -> PricingError:
    details = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()[:5])
    return PricingError(f"invalid {what}: {details}")


def read_tariff(data: Any) -> tuple[Tariff, list[str]]:
    """A Tariff from JSON data, with placeholders for missing identity fields (named in the second value)."""
    if not isinstance(data, dict):
        raise PricingError("a tariff must be a JSON object")
    filled = [key for key in _PLACEHOLDERS if key not in data]
    try:
        return Tariff.model_validate({**{k: _PLACEHOLDERS[k] for k in filled}, **data}), filled
    except ValidationError as exc:
        raise _problem("tariff", exc) from None


class _CdrCore(OcpiModel):
    """The parts of a CDR a price check reads (mod_cdrs_cdr_object)."""

    start_date_time: DateTime
    end_date_time: DateTime
    currency: str | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    tariffs: list[dict[str, Any]] | None = None
    total_cost: Price | None = None
    total_fixed_cost: Price | None = None
    total_energy_cost: Price | None = None
    total_time_cost: Price | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    total_energy: Number | None = None
    total_time: Number | None = None
    total_parking_time: Number | None = None


@dataclass(frozen=True, slots=True)
class CdrDocument:
    """A CDR as far as pricing goes: periods, embedded tariffs and the totals it states."""

    core: _CdrCore
    tariffs: tuple[Tariff, ...]
    warnings: tuple[str, ...]

    @property
    def charging_periods(self) -> list[ChargingPeriod]:
        return self.core.charging_periods

    def stated_costs(self) -> dict[str, Price]:
        """The cost fields the CDR states, by name."""
        return {name: value for name in COST_FIELDS if (value := getattr(self.core, name)) is not None}

    def stated_quantities(self) -> dict[str, Decimal]:
        """total_energy, total_time and total_parking_time as stated."""
        names = ("total_energy", "total_time", "total_parking_time")
        return {name: value for name in names if (value := getattr(self.core, name)) is not None}


def read_cdr(data: Any) -> CdrDocument:
    """The pricing-relevant part of CDR JSON; other CDR fields may be missing or incomplete."""
    if not isinstance(data, dict):
        raise PricingError("a CDR must be a JSON object")
    try:
        core = _CdrCore.model_validate(data)
    except ValidationError as exc:
        raise _problem("CDR", exc) from None
    tariffs: list[Tariff] = []
    warnings: list[str] = []
    for index, raw in enumerate(core.tariffs or []):
        tariff, filled = read_tariff(raw)
        tariffs.append(tariff)
        if filled:
            warnings.append(f"CDR tariff {index} lacks {', '.join(filled)}")
    return CdrDocument(core, tuple(tariffs), tuple(warnings))
