"""Properties of the engine over generated tariffs and sessions: never negative, bounded by min/max price,
totals equal to the breakdown, and more energy or more time never costing less."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tariff_builders import period, tariff

from evroam.modules.cdrs.models import ChargingPeriod
from evroam.modules.tariffs.models import Tariff
from evroam.tariffs import PricingOptions, PricingResult, price_periods

ZONES = ["UTC", "Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
NOISE = Decimal("1e-18")
# EVROAM_TARIFF_EXAMPLES=5000 for a longer hunt.
EXAMPLES = int(os.environ.get("EVROAM_TARIFF_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

money = st.decimals(min_value=0, max_value=5, places=2)
times_of_day = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


def restrictions(kwh_only: bool) -> st.SearchStrategy[dict[str, Any]]:
    if kwh_only:
        kinds = {"min_kwh": st.integers(0, 40), "max_kwh": st.integers(1, 60)}
    else:
        kinds = {
            "start_time": times_of_day,
            "end_time": times_of_day,
            "day_of_week": st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True),
            "min_duration": st.integers(0, 4 * 3600),
            "max_duration": st.integers(1, 8 * 3600),
            "min_power": st.integers(0, 50),
            "max_power": st.integers(1, 150),
            "min_current": st.integers(0, 32),
            "max_current": st.integers(1, 64),
        }
    return st.fixed_dictionaries({}, optional=kinds)


@st.composite
def elements(draw: st.DrawFn, unit_steps: bool, monotone_energy: bool) -> dict[str, Any]:
    kinds = draw(
        st.lists(st.sampled_from(["FLAT", "ENERGY", "TIME", "PARKING_TIME"]), min_size=1, max_size=3, unique=True)
    )
    if monotone_energy and "ENERGY" in kinds:
        kinds = ["ENERGY"]  # an ENERGY element restricted by kWh only, as nothing else may look at energy
    steps = st.just(1) if unit_steps else st.sampled_from([0, 1, 60, 300, 900, 1000, 5000])
    components = [
        {
            "type": kind,
            "price": draw(money),
            "step_size": draw(steps),
            **({"vat": draw(st.sampled_from([0, 9, 21]))} if draw(st.booleans()) else {}),
        }
        for kind in kinds
    ]
    restricted = draw(restrictions(kwh_only=monotone_energy and kinds == ["ENERGY"]))
    if monotone_energy and kinds != ["ENERGY"]:
        restricted = {k: v for k, v in restricted.items() if not k.endswith("_kwh")}
    return {"price_components": components, **({"restrictions": restricted} if restricted else {})}


@st.composite
def tariffs(
    draw: st.DrawFn, unit_steps: bool = False, monotone_energy: bool = False, full_limits: bool = False
) -> Tariff:
    fields: dict[str, Any] = {}
    low = draw(st.none() | st.decimals(min_value=0, max_value=10, places=2))
    high = draw(st.none() | st.decimals(min_value=0, max_value=60, places=2))
    if low is not None and high is not None and low > high:
        low, high = high, low
    if low is not None:
        with_incl = full_limits or draw(st.booleans())
        fields["min_price"] = {"excl_vat": low, "incl_vat": low * Decimal("1.1")} if with_incl else {"excl_vat": low}
    if high is not None:
        fields["max_price"] = {"excl_vat": high, "incl_vat": high * Decimal("1.1")}
    chosen = draw(st.lists(elements(unit_steps, monotone_energy), min_size=1, max_size=5))
    return tariff(*chosen, **fields)


@st.composite
def sessions(draw: st.DrawFn) -> tuple[list[ChargingPeriod], datetime, datetime, str]:
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 366 * 24 * 60)))
    moment, periods = start, []
    for _ in range(draw(st.integers(1, 4))):
        seconds = draw(st.integers(0, 5 * 3600))
        hours = Decimal(seconds) / 3600
        kind = draw(st.sampled_from(["charging", "parking", "energy"]))
        power = {"min_power": draw(st.integers(0, 60)), "max_power": draw(st.integers(60, 150))}
        current = {"max_current": draw(st.integers(0, 64))}
        wh = Decimal(draw(st.integers(0, 60_000))) / 1000
        if kind == "charging":
            periods.append(period(moment, energy=wh, time=hours, **power, **current))
        elif kind == "parking":
            periods.append(period(moment, parking=hours))
        else:
            periods.append(period(moment, energy=wh, **power))
        moment += timedelta(seconds=seconds)
    return periods, start, moment, draw(st.sampled_from(ZONES))


def run(t: Tariff, session: tuple[list[ChargingPeriod], datetime, datetime, str]) -> PricingResult:
    periods, start, end, zone = session
    return price_periods(t, periods, start=start, end=end, time_zone=zone)


@SETTINGS
@given(tariffs(), sessions())
def test_costs_are_never_negative(t: Tariff, session: Any) -> None:
    result = run(t, session)
    assert result.total_cost.excl_vat >= 0
    assert result.total_cost.incl_vat is not None
    assert result.total_cost.incl_vat >= 0
    assert all(line.excl_vat >= 0 and line.incl_vat >= 0 for line in result.lines())
    assert all(amount.excl_vat >= 0 and amount.incl_vat >= 0 for amount in result.categories.values())


@SETTINGS
@given(tariffs(), sessions())
def test_min_and_max_price_are_respected(t: Tariff, session: Any) -> None:
    result = run(t, session)
    total = result.unrounded
    if t.max_price is not None:
        assert total.excl_vat <= t.max_price.excl_vat
        assert t.max_price.incl_vat is None or total.incl_vat <= t.max_price.incl_vat
    if t.min_price is not None:
        assert total.excl_vat >= t.min_price.excl_vat
        assert t.min_price.incl_vat is None or total.incl_vat >= t.min_price.incl_vat


@SETTINGS
@given(tariffs(), sessions())
def test_total_equals_the_sum_of_the_breakdown(t: Tariff, session: Any) -> None:
    result = run(t, session)
    lines = result.lines()
    assert abs(sum((line.excl_vat for line in lines), Decimal(0)) - result.subtotal.excl_vat) <= NOISE
    assert abs(sum((line.incl_vat for line in lines), Decimal(0)) - result.subtotal.incl_vat) <= NOISE
    assert abs(sum((v.incl_vat for v in result.vat), Decimal(0)) - result.subtotal.incl_vat) <= NOISE
    excl, incl = result.subtotal
    for adjustment in result.limits:
        if adjustment.part == "excl_vat":
            excl += adjustment.after - adjustment.before
        else:
            incl += adjustment.after - adjustment.before
    assert abs(excl - result.unrounded.excl_vat) <= NOISE
    assert abs(incl - result.unrounded.incl_vat) <= NOISE
    assert sum((p.energy for p in result.periods), Decimal(0)) - result.total_energy <= NOISE


# Both monotonicity properties use step_size 1: with larger steps the spec's "last component's step_size"
# rule (mod_cdrs_step_size) can make a longer session cheaper (a later element with a smaller step), which is
# the rule, not an engine error. Their limits state incl_vat too: for a limit without it, incl_vat follows
# the session's VAT share (limits.apply_limits), which more VAT-free usage dilutes.


@SETTINGS
@given(tariffs(unit_steps=True, full_limits=True), sessions(), st.integers(1, 3 * 3600), st.booleans())
def test_more_time_never_costs_less(t: Tariff, session: Any, seconds: int, parking: bool) -> None:
    periods, start, end, zone = session
    hours = Decimal(seconds) / 3600
    longer = [*periods, period(end, parking=hours) if parking else period(end, time=hours, max_power=100)]
    before = run(t, session).unrounded
    after = price_periods(t, longer, start=start, end=end + timedelta(seconds=seconds), time_zone=zone).unrounded
    assert after.excl_vat >= before.excl_vat - NOISE
    assert after.incl_vat >= before.incl_vat - NOISE


@SETTINGS
@given(tariffs(unit_steps=True, monotone_energy=True, full_limits=True), sessions(), st.data())
def test_more_energy_never_costs_less(t: Tariff, session: Any, data: st.DataObject) -> None:
    # ENERGY elements restricted by energy so far only (otherwise moving energy into a cheaper time window
    # or kWh tier of a later period can lower the total, as the spec's per-instant rules intend).
    periods, start, end, zone = session
    index = data.draw(st.integers(0, len(periods) - 1))
    extra = Decimal(data.draw(st.integers(1, 20_000))) / 1000
    target = periods[index]
    dims = [
        d.model_copy(update={"volume": d.volume + extra}) if d.type.value == "ENERGY" else d for d in target.dimensions
    ]
    if not any(d.type.value == "ENERGY" for d in dims):
        return
    more = [*periods[:index], target.model_copy(update={"dimensions": dims}), *periods[index + 1 :]]
    # A period with only ENERGY counts as charging time when it delivered energy and as parking time when it
    # did not (PricingOptions.infer_time_from_timestamps); that switch is about time, so it is off here.
    options = PricingOptions(infer_time_from_timestamps=False)
    before = price_periods(t, periods, start=start, end=end, time_zone=zone, options=options).unrounded
    after = price_periods(t, more, start=start, end=end, time_zone=zone, options=options).unrounded
    assert after.excl_vat >= before.excl_vat - NOISE
    assert after.incl_vat >= before.incl_vat - NOISE
