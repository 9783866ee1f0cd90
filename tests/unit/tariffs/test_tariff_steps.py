"""step_size: rounding up once per session and dimension, with the last priced component's step and price."""

from __future__ import annotations

import pytest
from tariff_builders import D, at, el, hours, pc, period, price, tariff

from evroam.tariffs import PricingOptions, TimeStepRounding
from evroam.tariffs.steps import round_up

START = at("2024-01-15 10:00")


@pytest.mark.parametrize(
    ("step", "billed", "cost"),
    [(1, D(116), D("0.029")), (25, D(125), D("0.03125")), (500, D(500), D("0.125"))],
)
def test_115_2_wh_rounded_up_to_the_step(step: int, billed: D, cost: D):
    # mod_tariffs_pricecomponent_class note on step_size
    assert round_up(D("115.2"), step) == billed
    t = tariff(el(pc("ENERGY", "0.25", step=step)))
    result = price(t, [period(START, energy="0.1152")], START, START + hours(1))
    assert result.unrounded.excl_vat == cost
    line = result.lines()[0]
    assert line.step is not None
    assert (line.step.consumed, line.step.billed, line.step.unit) == (D("115.2"), billed, "Wh")


def test_step_size_zero_does_not_round():
    assert round_up(D("115.2"), 0) == D("115.2")


def test_rounding_happens_once_per_session_not_per_period():
    t = tariff(el(pc("ENERGY", "1.00", step=1000)))
    periods = [
        period(START, energy="0.4"),
        period(START + hours(1), energy="0.4"),
        period(START + hours(2), energy="0.4"),
    ]
    result = price(t, periods, START, START + hours(3))
    assert result.unrounded.excl_vat == D("2.00")  # 1.2 kWh -> 2 kWh, not 3 x 1 kWh
    assert [line.billed_volume for line in result.lines()] == [D("0.4"), D("0.4"), D("1.2")]


def test_the_last_components_step_and_price_apply():
    t = tariff(
        el(pc("ENERGY", "1.00", step=5000), end_time="11:00"),
        el(pc("ENERGY", "2.00", step=100)),
    )
    periods = [period(START, energy="3.3"), period(at("2024-01-15 11:00"), energy="0.25")]
    result = price(t, periods, START, START + hours(2))
    # 3.55 kWh -> 3.6 kWh with the last step (100 Wh); the extra 0.05 kWh at the last price
    assert result.unrounded.excl_vat == D("3.3") + D("0.30") * 2


def test_noise_from_split_volumes_never_adds_a_step():
    # 15 minutes of parking cut in three by time windows: the shares add up to 0.25 h within Decimal noise,
    # which must not round 900 s up to 1800 s.
    t = tariff(
        el(pc("PARKING_TIME", "4.00", step=900), end_time="10:05"),
        el(pc("PARKING_TIME", "4.00", step=900), end_time="10:10"),
        el(pc("PARKING_TIME", "4.00", step=900)),
    )
    start = at("2024-01-15 10:00")
    result = price(t, [period(start, parking=D(1) / 4)], start, start + hours(D(1) / 4))
    assert len(result.periods) == 3
    assert result.total_cost.excl_vat == D("1.00")


def test_parking_becomes_free_later_last_paid_step_applies():
    # mod_tariffs "switching to Free-of-Charge Tariff Element"; digest 4.7 rule 5
    t = tariff(el(pc("PARKING_TIME", "6.00", step=900), end_time="10:10"), el(pc("ENERGY", "0.25")))
    result = price(t, [period(START, parking="0.5")], START, START + hours("0.5"))
    parking = result.lines()[0]
    assert parking.step is not None
    assert (parking.step.consumed, parking.step.billed) == (D(600), D(900))
    assert result.total_cost.excl_vat == D("1.50")


def test_time_alone_is_rounded_with_its_step():
    t = tariff(el(pc("TIME", "6.00", step=900)))
    periods = [period(START, time=D(20) / 60), period(START + hours(D(20) / 60), parking=1)]
    result = price(t, periods, START, START + hours(D(80) / 60))
    assert result.total_cost.excl_vat == D("3.00")  # 20 min -> 30 min; parking is free, not TIME


def test_time_then_parking_rounds_only_parking_by_default():
    t = tariff(el(pc("TIME", "6.00", step=900), pc("PARKING_TIME", "6.00", step=900)))
    periods = [period(START, time=D(20) / 60), period(START + hours(D(20) / 60), parking=D(5) / 60)]
    result = price(t, periods, START, START + hours(D(25) / 60))
    assert result.total_cost.excl_vat == D("3.50")  # 20 min charging + 15 min parking
    assert any("TIME not rounded" in note for note in result.notes)


def test_combined_time_step_rounds_the_time_total():
    t = tariff(el(pc("TIME", "6.00", step=900), pc("PARKING_TIME", "12.00", step=900)))
    periods = [period(START, time=D(20) / 60), period(START + hours(D(20) / 60), parking=D(5) / 60)]
    options = PricingOptions(time_step_rounding=TimeStepRounding.COMBINED)
    result = price(t, periods, START, START + hours(D(25) / 60), options=options)
    # 25 min -> 30 min; the extra 5 min at the last (parking) price: 20 min x 0.10 + 10 min x 0.20
    assert result.total_cost.excl_vat == D("4.00")
    last = result.lines()[-1]
    assert last.step is not None
    assert last.step.rounded == (last.dimension.__class__.TIME, last.dimension.__class__.PARKING_TIME)


def test_reservation_time_is_rounded_on_its_own():
    t = tariff(el(pc("TIME", "6.00", step=600), reservation="RESERVATION"), el(pc("TIME", "6.00", step=600)))
    periods = [period(START, reservation=D(7) / 60), period(START + hours(D(7) / 60), time=D(21) / 60)]
    result = price(t, periods, START, START + hours(D(28) / 60))
    assert result.total_cost.excl_vat == D("1.00") + D("3.00")  # 7 -> 10 min, 21 -> 30 min
