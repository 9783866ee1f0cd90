"""Charging periods as the engine reads them, and their splitting wherever the active element changes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

from evroam.modules.cdrs.models import CdrDimensionType, ChargingPeriod
from evroam.tariffs.clock import HOUR, ZoneClock, to_us
from evroam.tariffs.errors import PricingError
from evroam.tariffs.plan import (
    CLOCK,
    DURATION,
    ENERGY,
    KWH,
    PARKED,
    PARKING,
    RESERVED,
    RESERVED_DURATION,
    TIME,
    Component,
    TariffPlan,
    Triggers,
)
from evroam.tariffs.restrictions import Point

__all__ = ["Piece", "SessionContext", "Usage", "read_periods", "split"]

_ZERO = Decimal(0)
_HOUR = Decimal(HOUR)
_NO_CURRENTS: tuple[Decimal, Decimal, Decimal, Decimal] = (_ZERO, _ZERO, _ZERO, _ZERO)
_T = CdrDimensionType
Currents = tuple[Decimal, Decimal, Decimal, Decimal]  # for min_current, max_current, min_power, max_power checks
_SLOT = {_T.ENERGY: ENERGY, _T.TIME: TIME, _T.PARKING_TIME: PARKING, _T.RESERVATION_TIME: RESERVED}


class Usage:
    """One charging period: its stretch of time (microseconds), volumes, and current/power for restrictions.

    `volumes` holds kWh, charging hours, parking hours and reservation hours (indexes plan.ENERGY...RESERVED).
    Current and power restrictions use the period's values (OCPI 2.2.1 mod_cdrs_charging_period: a CPO SHALL
    start a new period when e.g. the current crosses a tariff threshold). A min_* restriction is checked
    against MIN_CURRENT/MIN_POWER, a max_* one against MAX_CURRENT/MAX_POWER, each falling back to the average
    (CURRENT/POWER) and then to the other bound, so an element applies only if its restriction held for the
    whole period. Without power dimensions the average power is the period's energy over its charging time;
    without current dimensions the current counts as 0 A.
    """

    __slots__ = ("currents", "end", "energy_before", "index", "mask", "parking_before", "start", "volumes")

    def __init__(
        self, index: int, start: int, end: int, period: ChargingPeriod, infer_time: bool, electric: bool
    ) -> None:
        self.index, self.start, self.end = index, start, end
        volumes = [_ZERO, _ZERO, _ZERO, _ZERO]
        timed = False
        values: dict[CdrDimensionType, Decimal] = {}
        for dimension in period.dimensions:
            slot = _SLOT.get(dimension.type)
            if slot is not None:
                volumes[slot] += dimension.volume
                timed = timed or slot != ENERGY
            elif electric:
                values[dimension.type] = dimension.volume
        # A negative ENERGY volume is net export (mod_cdrs_cdrdimensiontype_enum); 2.2.1 tariffs price only
        # consumption, so export is billed as nothing.
        if volumes[ENERGY] < 0:
            volumes[ENERGY] = _ZERO
        if not timed and infer_time and end > start:
            volumes[TIME if volumes[ENERGY] > 0 else PARKING] = Decimal(end - start) / _HOUR
        self.volumes = volumes
        energy, time, parking, reservation = volumes
        self.mask = (energy > 0) | (time > 0) << TIME | (parking > 0) << PARKING | (reservation > 0) << RESERVED
        self.energy_before = self.parking_before = _ZERO
        self.currents: Currents = _currents(values, volumes) if electric else _NO_CURRENTS


def _currents(values: dict[CdrDimensionType, Decimal], volumes: list[Decimal]) -> Currents:
    # (min_current, max_current, min_power, max_power) checks: each bound, else the average, else the other
    # bound; with no power measured at all, the energy over the charging time.
    get = values.get
    low_current, current, high_current = get(_T.MIN_CURRENT), get(_T.CURRENT), get(_T.MAX_CURRENT)
    low_power, power, high_power = get(_T.MIN_POWER), get(_T.POWER), get(_T.MAX_POWER)
    if current is None:
        current = low_current if low_current is not None else high_current if high_current is not None else _ZERO
    if power is None:
        power = low_power if low_power is not None else high_power
        if power is None:
            power = volumes[ENERGY] / volumes[TIME] if volumes[TIME] > 0 else _ZERO
    return (
        low_current if low_current is not None else current,
        high_current if high_current is not None else current,
        low_power if low_power is not None else power,
        high_power if high_power is not None else power,
    )


class SessionContext:
    """What splitting needs to know about the whole session."""

    __slots__ = (
        "all_kinds",
        "candidates",
        "charge_start",
        "clock",
        "expired",
        "first_occurrence",
        "plan",
        "reservation_start",
        "triggers",
    )

    def __init__(
        self,
        plan: TariffPlan,
        clock: ZoneClock,
        charge_start: int,
        reservation_start: int,
        expired: bool,
        first_occurrence: bool,
    ) -> None:
        self.plan, self.clock = plan, clock
        self.charge_start, self.reservation_start = charge_start, reservation_start
        self.expired, self.first_occurrence = expired, first_occurrence
        self.candidates = plan.expired_candidates if expired else plan.candidates
        self.triggers = plan.expired_triggers if expired else plan.triggers
        self.all_kinds = plan.expired_all_kinds if expired else plan.all_kinds


class Piece:
    """A part of a period with one active component per dimension (None: that dimension is free)."""

    __slots__ = ("end", "energy_before", "picks", "start", "usage", "volumes")

    def __init__(self, usage: Usage, start: int, end: int, picks: tuple[Component | None, ...]) -> None:
        self.usage, self.start, self.end, self.picks = usage, start, end, picks
        self.volumes, self.energy_before = usage.volumes, usage.energy_before


def read_periods(
    periods: Sequence[ChargingPeriod], start: int, end: int, infer_time: bool, electric: bool
) -> list[Usage]:
    """Periods in time order, each ending where the next starts and the last at the session end
    (mod_cdrs_chargingperiod_class), with the energy and parking time accumulated before each."""
    starts = [to_us(p.start_date_time) for p in periods]
    order = list(range(len(periods)))
    if any(a > b for a, b in pairwise(starts)):
        order.sort(key=starts.__getitem__)
    usages: list[Usage] = []
    energy = parking = _ZERO
    for n, index in enumerate(order):
        begin = starts[index]
        finish = starts[order[n + 1]] if n + 1 < len(order) else end
        if begin < start or finish < begin:
            moment = periods[index].start_date_time.isoformat()
            raise PricingError(f"charging period {index} ({moment}) lies outside the session")
        usage = Usage(index, begin, finish, periods[index], infer_time, electric)
        usage.energy_before, usage.parking_before = energy, parking
        energy += usage.volumes[ENERGY]
        parking += usage.volumes[PARKING]
        usages.append(usage)
    return usages


def split(usage: Usage, session: SessionContext) -> list[Piece]:
    """Cut a period wherever another element becomes active for one of its dimensions.

    OCPI 2.2.1 mod_cdrs_charging_period: a new period starts at every moment relevant to the cost. Cut
    points come from time-of-day, date and day-of-week boundaries in local time (DST included), session
    duration thresholds, and kWh thresholds with energy interpolated linearly over the period. The stretch
    after a cut is evaluated at its middle, where no restriction is on its edge, unless no element up to the
    active one looks at that kind of cut; neighbours with the same components stay one piece.
    """
    triggers = session.triggers[usage.mask]
    begin, finish = usage.start, usage.end
    length = finish - begin
    if length == 0 and triggers.kwhs and usage.volumes[ENERGY] > 0:
        return _split_instant(usage, session, triggers)
    cuts: dict[int, int] = {}  # position (microseconds into the period) -> kinds of cut there
    # Cut positions are whole microseconds; at a kWh (or parking-time) threshold the volume shared out is
    # the threshold itself, not the interpolation at the rounded position.
    exact: dict[int, tuple[int, Decimal]] = {}
    if length > 0:
        if triggers.uses_clock:
            for instant in session.clock.boundaries(begin, finish, triggers.walls):
                cuts[instant - begin] = CLOCK
        for threshold in triggers.durations:
            at = session.charge_start + threshold - begin
            cuts[at] = cuts.get(at, 0) | DURATION
        for threshold in triggers.reservation_durations:
            at = session.reservation_start + threshold - begin
            cuts[at] = cuts.get(at, 0) | RESERVED_DURATION
        parking, energy = usage.volumes[PARKING], usage.volumes[ENERGY]
        if triggers.parking_durations and parking > 0:
            before, hours = usage.parking_before * _HOUR, parking * _HOUR
            for threshold in triggers.parking_durations:
                at = int((threshold - before) / hours * length)
                cuts[at] = cuts.get(at, 0) | PARKED
                exact[at] = (PARKING, threshold / _HOUR - usage.parking_before)
        if triggers.kwhs and energy > 0:
            before = usage.energy_before
            for kwh in triggers.kwhs:
                at = int((kwh - before) / energy * length)
                cuts[at] = cuts.get(at, 0) | KWH
                exact[at] = (ENERGY, kwh - before)
    positions = sorted(c for c in cuts if 0 < c < length) if cuts else ()
    if not positions:
        picks, _ = _picks(usage, session, triggers, 0, length, length)
        return [Piece(usage, begin, finish, picks)]
    picks, relevant = _picks(usage, session, triggers, 0, positions[0], length)
    pieces = [Piece(usage, begin, begin + positions[0], picks)]
    for n, a in enumerate(positions):
        b = positions[n + 1] if n + 1 < len(positions) else length
        if cuts[a] & relevant:
            found, relevant = _picks(usage, session, triggers, a, b, length)
            if found != picks:
                picks = found
                pieces.append(Piece(usage, begin + a, begin + b, picks))
                continue
        pieces[-1].end = begin + b
    if len(pieces) > 1:
        _apportion(usage, pieces, exact)
    return pieces


def _split_instant(usage: Usage, session: SessionContext, triggers: Triggers) -> list[Piece]:
    """A period without duration (it starts when the next one, or the session, ends) that delivered energy:
    cut where the energy crosses a kWh threshold, each part evaluated at its middle in energy, the
    period's volumes shared out in proportion to energy."""
    before, energy = usage.energy_before, usage.volumes[ENERGY]
    marks = sorted({k - before for k in triggers.kwhs if 0 < k - before < energy})
    pieces: list[Piece] = []
    ends: list[Decimal] = []  # energy into the period at each piece's end
    for low, high in pairwise([_ZERO, *marks, energy]):
        picks, _ = _picks(usage, session, triggers, 0, 0, 0, energy_at=before + (low + high) / 2)
        if pieces and picks == pieces[-1].picks:
            ends[-1] = high
        else:
            pieces.append(Piece(usage, usage.start, usage.end, picks))
            ends.append(high)
    volumes = usage.volumes
    done = [_ZERO, _ZERO, _ZERO, _ZERO]
    for piece, high in zip(pieces, ends, strict=True):
        if high == energy:  # the last piece: exactly what is left
            upto = list(volumes)
        else:
            upto = [v * high / energy if v else v for v in volumes]
            upto[ENERGY] = high
        piece.volumes = [u - d for u, d in zip(upto, done, strict=True)]
        piece.energy_before = before + done[ENERGY]
        done = upto
    return pieces


def _picks(
    usage: Usage,
    session: SessionContext,
    triggers: Triggers,
    a: int,
    b: int,
    length: int,
    energy_at: Decimal | None = None,
) -> tuple[tuple[Component | None, ...], int]:
    """The active component per dimension in the middle of [a, b) (or where the energy so far is
    `energy_at`), and the cut kinds that could change them."""
    plan, mask = session.plan, usage.mask
    instant = usage.start + (a + b) // 2
    energy = usage.energy_before
    if energy_at is not None:
        energy = energy_at
    elif triggers.kwhs:
        volume = usage.volumes[ENERGY]
        if volume:
            energy += volume * (a + b) / (2 * length) if length else volume / 2
    wall = 0
    if triggers.uses_clock:
        clock = session.clock
        wall = clock.wall(instant, True) if session.first_occurrence else instant + clock.offset(instant)
    point = Point(wall, energy, usage.currents)
    candidates, every = session.candidates, session.all_kinds
    duration = instant - session.charge_start
    pick = plan.pick
    e = t = p = r = None
    kinds = 0
    if mask & 1:
        e = pick(candidates[ENERGY], point, duration)
        kinds |= every[ENERGY] if e is None else e.kinds_upto
    if mask & 2:
        t = pick(candidates[TIME], point, duration)
        kinds |= every[TIME] if t is None else t.kinds_upto
    if mask & 4:
        parked = duration
        if not plan.parking_by_session:
            so_far = usage.parking_before + usage.volumes[PARKING] * (a + b) / (2 * length or 1)
            parked = int(so_far * _HOUR)
        p = pick(candidates[PARKING], point, parked)
        kinds |= every[PARKING] if p is None else p.kinds_upto
    if mask & 8:
        r = pick(candidates[RESERVED], point, instant - session.reservation_start)
        kinds |= every[RESERVED] if r is None else r.kinds_upto
    return (e, t, p, r), kinds


def _apportion(usage: Usage, pieces: list[Piece], exact: dict[int, tuple[int, Decimal]]) -> None:
    # Volumes are shared in proportion to time (energy: linear interpolation), except that a piece ending at
    # a threshold cut ends exactly at the threshold; the last piece takes the remainder so that the pieces
    # add up to the period exactly.
    length = Decimal(usage.end - usage.start)
    volumes = usage.volumes
    done = [_ZERO, _ZERO, _ZERO, _ZERO]  # volume up to the current piece's start
    for piece in pieces[:-1]:
        cut = piece.end - usage.start
        share = Decimal(cut) / length
        upto = [v * share if v else v for v in volumes]
        snapped = exact.get(cut)
        if snapped is not None:
            upto[snapped[0]] = snapped[1]
        piece.volumes = [u - d for u, d in zip(upto, done, strict=True)]
        piece.energy_before = usage.energy_before + done[ENERGY]
        done = upto
    last = pieces[-1]
    last.volumes = [v - d for v, d in zip(volumes, done, strict=True)]
    last.energy_before = usage.energy_before + done[ENERGY]
