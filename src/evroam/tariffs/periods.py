"""Charging periods as the engine reads them, and their splitting wherever the active element changes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

from evroam.modules.cdrs.models import CdrDimensionType, ChargingPeriod
from evroam.tariffs.clock import HOUR, ZoneClock, to_us
from evroam.tariffs.errors import PricingError
from evroam.tariffs.plan import ENERGY, PARKING, RESERVED, TIME, Component, TariffPlan, Triggers
from evroam.tariffs.restrictions import Point

__all__ = ["Piece", "Session", "Usage", "read_periods", "split"]

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
    get = values.get
    average = volumes[ENERGY] / volumes[TIME] if volumes[TIME] > 0 else _ZERO
    power, current = get(_T.POWER), get(_T.CURRENT)
    low_power, high_power = get(_T.MIN_POWER), get(_T.MAX_POWER)
    low_current, high_current = get(_T.MIN_CURRENT), get(_T.MAX_CURRENT)
    return (
        _first(low_current, current, high_current, _ZERO),
        _first(high_current, current, low_current, _ZERO),
        _first(low_power, power, high_power, average),
        _first(high_power, power, low_power, average),
    )


def _first(a: Decimal | None, b: Decimal | None, c: Decimal | None, default: Decimal) -> Decimal:
    return a if a is not None else b if b is not None else c if c is not None else default


class Session:
    """What splitting needs to know about the whole session."""

    __slots__ = (
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


def split(usage: Usage, session: Session) -> list[Piece]:
    """Cut a period wherever another element becomes active for one of its dimensions.

    OCPI 2.2.1 mod_cdrs_charging_period: a new period starts at every moment relevant to the cost. Cut
    points come from time-of-day, date and day-of-week boundaries in local time (DST included), session
    duration thresholds, and kWh thresholds with energy interpolated linearly over the period. Each stretch
    between cut points is evaluated at its middle, where no restriction is on its edge, and neighbours with
    the same components are merged again.
    """
    triggers = session.triggers[usage.mask]
    begin, finish = usage.start, usage.end
    length = finish - begin
    cuts: list[int] = []
    if length > 0:
        if triggers.uses_clock:
            cuts = [t - begin for t in session.clock.boundaries(begin, finish, triggers.walls)]
        for threshold in triggers.durations:
            cuts.append(session.charge_start + threshold - begin)
        for threshold in triggers.reservation_durations:
            cuts.append(session.reservation_start + threshold - begin)
        parking, energy = usage.volumes[PARKING], usage.volumes[ENERGY]
        if triggers.parking_durations and parking > 0:
            before, hours = usage.parking_before * _HOUR, parking * _HOUR
            cuts.extend([int((t - before) / hours * length) for t in triggers.parking_durations])
        if triggers.kwhs and energy > 0:
            before = usage.energy_before
            cuts.extend([int((k - before) / energy * length) for k in triggers.kwhs])
        if cuts:
            cuts = sorted({c for c in cuts if 0 < c < length})
    if not cuts:
        return [Piece(usage, begin, finish, _picks(usage, session, triggers, 0, length, length))]
    pieces: list[Piece] = []
    a = 0
    for b in (*cuts, length):
        picks = _picks(usage, session, triggers, a, b, length)
        if pieces and pieces[-1].picks == picks:
            pieces[-1].end = begin + b
        else:
            pieces.append(Piece(usage, begin + a, begin + b, picks))
        a = b
    if len(pieces) > 1:
        _apportion(usage, pieces)
    return pieces


def _picks(
    usage: Usage, session: Session, triggers: Triggers, a: int, b: int, length: int
) -> tuple[Component | None, ...]:
    plan, mask = session.plan, usage.mask
    instant = usage.start + (a + b) // 2
    energy = usage.energy_before
    if triggers.kwhs:
        volume = usage.volumes[ENERGY]
        if volume:
            energy += volume * (a + b) / (2 * length) if length else volume / 2
    wall = 0
    if triggers.uses_clock:
        clock = session.clock
        wall = clock.wall(instant, True) if session.first_occurrence else instant + clock.offset(instant)
    point = Point(wall, energy, usage.currents)
    candidates = session.candidates
    duration = instant - session.charge_start
    pick = plan.pick
    e = pick(candidates[ENERGY], point, duration) if mask & 1 else None
    t = pick(candidates[TIME], point, duration) if mask & 2 else None
    p = r = None
    if mask & 4:
        parked = duration
        if not plan.parking_by_session:
            so_far = usage.parking_before + usage.volumes[PARKING] * (a + b) / (2 * length or 1)
            parked = int(so_far * _HOUR)
        p = pick(candidates[PARKING], point, parked)
    if mask & 8:
        r = pick(candidates[RESERVED], point, instant - session.reservation_start)
    return (e, t, p, r)


def _apportion(usage: Usage, pieces: list[Piece]) -> None:
    # Volumes are shared in proportion to time (energy: linear interpolation); the last piece takes the
    # remainder so the pieces add up to the period exactly.
    length = Decimal(usage.end - usage.start)
    remaining = list(usage.volumes)
    before = usage.energy_before
    for piece in pieces[:-1]:
        share = Decimal(piece.end - piece.start) / length
        piece.volumes = [v * share for v in usage.volumes]
        piece.energy_before = before
        before += piece.volumes[ENERGY]
        remaining = [r - v for r, v in zip(remaining, piece.volumes, strict=True)]
    pieces[-1].volumes, pieces[-1].energy_before = remaining, before
