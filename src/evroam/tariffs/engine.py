"""Pricing: a session's charging periods (or a CDR) against a tariff, with an auditable breakdown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from evroam.modules.cdrs.models import CDR, ChargingPeriod
from evroam.modules.tariffs.models import Tariff
from evroam.tariffs.breakdown import (
    Amount,
    CostCategory,
    CostLine,
    PricedPeriod,
    PricingResult,
    StepAdjustment,
    VatTotal,
)
from evroam.tariffs.clock import HOUR, to_us, zone_clock
from evroam.tariffs.errors import PricingError
from evroam.tariffs.limits import apply_limits
from evroam.tariffs.options import DEFAULT_OPTIONS, DstOverlap, PricingOptions
from evroam.tariffs.periods import Piece, SessionContext, Usage, read_periods, split
from evroam.tariffs.plan import ENERGY, PARKING, RESERVED, Component, TariffPlan, plan_for
from evroam.tariffs.restrictions import Point
from evroam.tariffs.steps import step_extras

__all__ = ["price_cdr", "price_periods", "tariff_of"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HOUR = Decimal(HOUR)
_RESERVATION_ONLY = 1 << RESERVED


def price_periods(
    tariff: Tariff,
    periods: Sequence[ChargingPeriod],
    *,
    start: datetime,
    end: datetime,
    time_zone: str,
    options: PricingOptions = DEFAULT_OPTIONS,
    reservation_expired: bool | None = None,
) -> PricingResult:
    """Price charging periods from `start` to `end` (the session, or CDR, start and end) against `tariff`.

    `time_zone` is the Location's IANA time zone: restrictions use local time (mod_tariffs_tariffrestrictions_
    class). Periods holding only RESERVATION_TIME are the reservation; when `reservation_expired` is None a
    reservation counts as expired when no charging session followed it. One tariff prices the whole session:
    the one valid at its start (mod_tariffs_tariff_object note on start_date_time; see selection.py).
    """
    plan = plan_for(tariff, options)
    clock = zone_clock(time_zone)
    start_us, end_us = to_us(start), to_us(end)
    if end_us < start_us:
        raise PricingError("the session ends before it starts")
    usages = read_periods(periods, start_us, end_us, options.infer_time_from_timestamps, plan.electric)
    if not usages:  # nothing measured yet: the FLAT fee alone
        empty = ChargingPeriod.model_construct(start_date_time=start, dimensions=[], tariff_id=None)
        usages = [Usage(0, start_us, end_us, empty, False, False)]
    reserved = [u for u in usages if u.mask == _RESERVATION_ONLY]
    charging = [u for u in usages if u.mask != _RESERVATION_ONLY] if reserved else usages
    expired = bool(reserved) and not charging if reservation_expired is None else reservation_expired
    # min/max_duration count from the start of the charging session, after any reservation.
    charge_start = charging[0].start if reserved and charging else start_us
    first_occurrence = options.dst_overlap is DstOverlap.FIRST_OCCURRENCE
    session = SessionContext(plan, clock, charge_start, start_us, expired, first_occurrence)
    pieces = [piece for usage in usages for piece in split(usage, session)]
    flats = _flat_fees(plan, session, charging, reserved, pieces)

    # step_size needs each dimension's priced total and last priced piece before any line is final.
    totals = [_ZERO, _ZERO, _ZERO, _ZERO]
    last: list[tuple[int, Component] | None] = [None, None, None, None]
    for index, piece in enumerate(pieces):
        volumes = piece.volumes
        for dim, component in enumerate(piece.picks):
            if component is not None and volumes[dim]:
                totals[dim] += volumes[dim]
                last[dim] = (index, component)
    extras, time_unrounded = step_extras(totals, last, options.time_step_rounding)
    extra_at = {(tail[0], e.dimension): e for e in extras if (tail := last[e.dimension]) is not None}

    tariff_id = plan.id
    charged: dict[Component, Decimal] = {}  # excl. VAT per component; VAT follows from the component
    priced: list[PricedPeriod] = []
    for index, piece in enumerate(pieces):
        lines: list[CostLine] = []
        fees = flats.get(index)
        if fees is not None:
            for fee in fees:
                lines.append(_cost_line(fee, _ONE, _ONE, None))
                charged[fee] = charged.get(fee, _ZERO) + fee.price
        volumes = piece.volumes
        for dim, component in enumerate(piece.picks):
            if component is None or not volumes[dim]:
                continue
            volume = billed = volumes[dim]
            step = None
            if extra_at:
                extra = extra_at.get((index, dim))
                if extra is not None:
                    billed, step = volume + extra.volume, extra.adjustment
            line = _cost_line(component, volume, billed, step)
            lines.append(line)
            charged[component] = charged.get(component, _ZERO) + line.excl_vat
        priced.append(
            PricedPeriod(
                piece.usage.index,
                piece.start,
                piece.end,
                tariff_id,
                volumes[0],
                volumes[1],
                volumes[2],
                volumes[3],
                tuple(lines),
            )
        )
    categories: dict[CostCategory, list[Decimal]] = {}
    rates: dict[Decimal | None, list[Decimal]] = {}
    for component, excl in charged.items():
        incl = excl * component.vat_factor
        by_category = categories.get(component.category)
        if by_category is None:
            categories[component.category] = [excl, incl]
        else:
            by_category[0] += excl
            by_category[1] += incl
        by_rate = rates.get(component.vat)
        if by_rate is None:
            rates[component.vat] = [excl, incl]
        else:
            by_rate[0] += excl
            by_rate[1] += incl

    excl_sum = incl_sum = _ZERO
    for excl, incl in categories.values():
        excl_sum += excl
        incl_sum += incl
    subtotal = Amount(excl_sum, incl_sum)
    total, limits = apply_limits(subtotal, plan.min_price, plan.max_price)
    notes: list[str] = []
    if plan.vat_unknown:
        notes.append("no price component states a VAT rate: incl_vat equals excl_vat")
    if time_unrounded:
        notes.append("TIME not rounded by step_size because PARKING_TIME is priced too (mod_cdrs_step_size)")
    if reserved and expired:
        notes.append("reservation expired without a charging session: RESERVATION_EXPIRES elements apply")
    energy = parking = reservation = _ZERO
    for usage in usages:
        volumes = usage.volumes
        energy += volumes[ENERGY]
        parking += volumes[PARKING]
        reservation += volumes[RESERVED]
    return PricingResult(
        tariff_id=tariff_id,
        currency=plan.currency,
        time_zone=clock.name,
        rounding=options.rounding,
        periods=tuple(priced),
        vat=tuple(VatTotal(rate, v[0], v[1] - v[0], v[1]) for rate, v in rates.items()),
        limits=limits,
        notes=tuple(notes),
        vat_unknown=plan.vat_unknown,
        subtotal=subtotal,
        unrounded=total,
        categories={c: Amount(v[0], v[1]) for c, v in categories.items()},
        total_energy=energy,
        total_time=Decimal(end_us - start_us) / _HOUR,
        total_parking_time=parking,
        total_reservation_time=reservation,
    )


def _cost_line(component: Component, volume: Decimal, billed: Decimal, step: StepAdjustment | None) -> CostLine:
    excl = billed * component.price
    return CostLine(
        component.dimension,
        component.category,
        component.tariff_id,
        component.element_index,
        component.component_index,
        component.price,
        component.vat,
        component.step_size,
        volume,
        billed,
        step,
        excl,
        excl * component.vat_factor,
    )


def _flat_fees(
    plan: TariffPlan, session: SessionContext, charging: list[Usage], reserved: list[Usage], pieces: list[Piece]
) -> dict[int, list[Component]]:
    """FLAT fees, once per session (mod_tariffs_tariffdimensiontype_enum FLAT; digest 4.7): the FLAT of the first
    element active at the start of the charging session, evaluated with no energy yet and the first period's
    current and power, and likewise at the reservation start for the reservation (or expiry) fee. Each goes
    on the first piece of its part of the session; a reservation that expired pays no charging start fee."""
    fees: dict[int, list[Component]] = {}
    clock, fo = session.clock, session.first_occurrence

    def first_piece(usage: Usage) -> int:
        return next(i for i, piece in enumerate(pieces) if piece.usage is usage)

    if charging:
        first = charging[0]
        point = Point(clock.wall(session.charge_start, fo), _ZERO, first.currents)
        fee = plan.pick(plan.flat, point, 0)
        if fee is not None:
            fees.setdefault(first_piece(first), []).append(fee)
    if reserved:
        first = reserved[0]
        point = Point(clock.wall(session.reservation_start, fo), _ZERO, first.currents)
        groups: tuple[tuple[Component, ...], ...] = (plan.reservation_flat,)
        if session.expired:
            groups = (plan.reservation_flat, plan.expiry_flat_only) if plan.add_expiry_fee else (plan.expired_flat,)
        for group in groups:
            fee = plan.pick(group, point, 0)
            if fee is not None:
                fees.setdefault(first_piece(first), []).append(fee)
    return fees


def price_cdr(
    cdr: CDR,
    tariff: Tariff | None = None,
    *,
    time_zone: str,
    options: PricingOptions = DEFAULT_OPTIONS,
) -> PricingResult:
    """Price a CDR (the eMSP's invoice check) with `tariff` or, when None, the tariff its periods name among
    its own `tariffs` (or its only tariff). A CDR has no time zone: pass the Location's."""
    chosen = tariff or tariff_of(cdr.charging_periods, cdr.tariffs or [])
    if chosen.currency.upper() != cdr.currency.upper():
        raise PricingError(f"tariff {chosen.id} is in {chosen.currency}, the CDR in {cdr.currency}")
    return price_periods(
        chosen,
        cdr.charging_periods,
        start=cdr.start_date_time,
        end=cdr.end_date_time,
        time_zone=time_zone,
        options=options,
    )


def tariff_of(periods: Sequence[ChargingPeriod], tariffs: Sequence[Tariff]) -> Tariff:
    """The tariff a CDR's periods name (mod_cdrs_chargingperiod_class tariff_id), or its only tariff."""
    named = {p.tariff_id.casefold() for p in periods if p.tariff_id is not None}
    if len(named) > 1:
        raise PricingError(f"the periods name several tariffs ({', '.join(sorted(named))}); price each separately")
    if named:
        wanted = named.pop()
        for tariff in tariffs:
            if tariff.id.casefold() == wanted:
                return tariff
        raise PricingError(f"the periods name tariff {wanted!r}, which the CDR does not include")
    if len(tariffs) == 1:
        return tariffs[0]
    raise PricingError(f"cannot tell which of {len(tariffs)} tariffs applies: name one")
