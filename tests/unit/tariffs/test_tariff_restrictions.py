"""Every TariffRestrictions kind, checked through pricing: windows, wraps, dates, kWh, current, power,
duration, day of week, DST in Europe/Amsterdam, and the reservation kinds."""

from __future__ import annotations

import pytest
from tariff_builders import D, at, costs, el, energy_by_element, hours, pc, period, price, tariff, totals

from evroam.tariffs import DstOverlap, ExpiredReservationFlat, PricingOptions, WrappedWindowDay

AMS = "Europe/Amsterdam"


def two_rates(cheap: str = "0.20", **restrictions: object):
    """Element 0 at 0.50 under `restrictions`, element 1 the unrestricted fallback."""
    return tariff(el(pc("ENERGY", "0.50"), **restrictions), el(pc("ENERGY", cheap)))


def linear(start: str, end: str, kwh: str | None = None):
    """One period from start to end with 1 kWh per hour unless `kwh` says otherwise."""
    s, e = at(start), at(end)
    energy = kwh if kwh is not None else D((e - s).total_seconds()) / 3600
    return [period(s, energy=energy)], s, e


def test_time_window_splits_a_period_at_its_start():
    result = price(two_rates(start_time="17:00", end_time="20:00"), *linear("2024-01-15 16:00", "2024-01-15 18:00"))
    assert energy_by_element(result) == {0: D(1), 1: D(1)}
    assert [p.start.strftime("%H:%M") for p in result.periods] == ["16:00", "17:00"]
    assert result.total_cost.excl_vat == D("0.70")


@pytest.mark.parametrize(
    ("start", "end", "night_kwh"),
    [
        ("2024-01-15 21:00", "2024-01-15 23:00", D(1)),  # into the window at 22:00
        ("2024-01-16 05:00", "2024-01-16 07:00", D(1)),  # out of it at 06:00
        ("2024-01-15 23:00", "2024-01-16 01:00", D(2)),  # across midnight, inside throughout
        ("2024-01-15 12:00", "2024-01-15 14:00", D(0)),
    ],
)
def test_window_wrapping_past_midnight(start: str, end: str, night_kwh: D):
    # mod_tariffs_tariffrestrictions_class: "If end_time < start_time then the period wraps around to the next day"
    result = price(two_rates(start_time="22:00", end_time="06:00"), *linear(start, end))
    assert energy_by_element(result).get(0, D(0)) == night_kwh


def test_end_time_midnight_means_end_of_day():
    result = price(two_rates(start_time="20:00", end_time="00:00"), *linear("2024-01-15 23:00", "2024-01-16 01:00"))
    assert energy_by_element(result) == {0: D(1), 1: D(1)}
    assert [p.start.strftime("%H:%M") for p in result.periods] == ["23:00", "00:00"]


def test_start_time_alone_and_end_time_alone():
    from_18 = price(two_rates(start_time="18:00"), *linear("2024-01-15 17:00", "2024-01-15 19:00"))
    until_18 = price(two_rates(end_time="18:00"), *linear("2024-01-15 17:00", "2024-01-15 19:00"))
    assert energy_by_element(from_18) == {1: D(1), 0: D(1)}
    assert [line.element_index for line in until_18.lines()] == [0, 1]


def test_start_date_inclusive_end_date_exclusive_in_local_time():
    # Local 2024-03-12 in Amsterdam (CET, UTC+1) is 2024-03-11 23:00 to 2024-03-12 23:00 UTC.
    t = two_rates(start_date="2024-03-12", end_date="2024-03-13")
    result = price(t, *linear("2024-03-11 22:00", "2024-03-12 23:30"), tz=AMS)
    assert energy_by_element(result) == {1: D("1.5"), 0: D(24)}
    assert result.unrounded.excl_vat == D("12.30")


def test_kwh_thresholds_split_by_interpolation_min_inclusive_max_exclusive():
    t = tariff(el(pc("ENERGY", "0.30"), max_kwh=10), el(pc("ENERGY", "0.20"), min_kwh=10))
    one_period = price(t, *linear("2024-01-15 10:00", "2024-01-15 12:00", kwh="20"))
    assert energy_by_element(one_period) == {0: D(10), 1: D(10)}
    assert [p.start.strftime("%H:%M") for p in one_period.periods] == ["10:00", "11:00"]
    start = at("2024-01-15 10:00")
    exact = [period(start, energy=10), period(start + hours(1), energy=5)]
    result = price(t, exact, start, start + hours(2))
    assert energy_by_element(result) == {0: D(10), 1: D(5)}


def test_kwh_thresholds_split_a_period_without_duration_by_its_energy():
    # A last period starting at the session end still delivered its energy: the first 10 kWh at the
    # element valid below max_kwh, the rest at the next.
    t = tariff(el(pc("ENERGY", "0.30"), max_kwh=10), el(pc("ENERGY", "0.20"), min_kwh=12))
    end = at("2024-01-15 12:00")
    start = end - hours(1)
    periods = [period(start, energy=4), period(end, energy=16)]
    result = price(t, periods, start, end)
    assert energy_by_element(result) == {0: D(10), 1: D(8)}  # 2 kWh (10 to 12) are free
    assert result.unrounded.excl_vat == D("4.60")
    only = price(tariff(el(pc("ENERGY", "0.01"), max_kwh=1)), [period(end, energy=2)], end, end)
    assert only.unrounded.excl_vat == D("0.01")


@pytest.mark.parametrize(
    ("dimensions", "applies"),
    [
        ({"min_current": 32}, True),  # inclusive
        ({"min_current": "31.9"}, False),
        ({"current": 40}, True),  # the average when no MIN_CURRENT is given
        ({"max_current": 48}, True),  # the only value known
        ({"min_current": 20, "max_current": 48}, False),  # not throughout the period
        ({}, False),  # no current measured counts as 0 A
    ],
)
def test_min_current(dimensions: dict, applies: bool):
    start = at("2024-01-15 10:00")
    result = price(two_rates(min_current=32), [period(start, energy=10, **dimensions)], start, start + hours(1))
    assert (0 in energy_by_element(result)) is applies


@pytest.mark.parametrize(
    ("dimensions", "applies"),
    [({"max_current": 16}, False), ({"max_current": "15.9"}, True), ({}, True)],  # max exclusive; 0 A < 16
)
def test_max_current(dimensions: dict, applies: bool):
    start = at("2024-01-15 10:00")
    result = price(two_rates(max_current=16), [period(start, energy=10, **dimensions)], start, start + hours(1))
    assert (0 in energy_by_element(result)) is applies


@pytest.mark.parametrize(
    ("dimensions", "applies"),
    [
        ({"max_power": 11}, False),  # exclusive
        ({"max_power": "10.9"}, True),
        ({"power": 7}, True),
        ({"time": 1}, True),  # 10 kWh in 1 h charging: 10 kW on average
        ({"time": "0.5"}, False),  # 20 kW on average
    ],
)
def test_max_power(dimensions: dict, applies: bool):
    start = at("2024-01-15 10:00")
    result = price(two_rates(max_power=11), [period(start, energy=10, **dimensions)], start, start + hours(1))
    assert (0 in energy_by_element(result)) is applies


def test_min_power_inclusive():
    start = at("2024-01-15 10:00")
    t = two_rates(min_power=50)
    assert 0 in energy_by_element(price(t, [period(start, energy=50, min_power=50)], start, start + hours(1)))
    assert 0 not in energy_by_element(price(t, [period(start, energy=50, min_power=49)], start, start + hours(1)))


def test_min_and_max_duration_cut_at_the_threshold():
    t = tariff(
        el(pc("TIME", "0.00"), max_duration=1800),
        el(pc("TIME", "1.00"), min_duration=1800, max_duration=3600),
        el(pc("TIME", "2.00"), min_duration=3600),
    )
    start = at("2024-01-15 10:00")
    result = price(t, [period(start, time="1.5")], start, start + hours("1.5"))
    assert [(p.start.strftime("%H:%M"), p.lines[0].element_index) for p in result.periods] == [
        ("10:00", 0),
        ("10:30", 1),
        ("11:00", 2),
    ]
    assert result.unrounded.excl_vat == D("1.50")


def test_duration_counts_from_the_session_start_not_the_period():
    t = two_rates(min_duration=3600)
    start = at("2024-01-15 10:00")
    periods = [period(start, parking=1), period(start + hours(1), energy=2)]
    assert energy_by_element(price(t, periods, start, start + hours(2))) == {0: D(2)}


def test_day_of_week_uses_the_local_date():
    # Friday 23:30 UTC is Saturday 00:30 in Amsterdam.
    t = two_rates(day_of_week=["SATURDAY"])
    args = linear("2024-01-19 23:30", "2024-01-20 00:00")
    assert energy_by_element(price(t, *args, tz=AMS)) == {0: D("0.5")}
    assert energy_by_element(price(t, *args, tz="UTC")) == {1: D("0.5")}


def test_wrapping_window_day_of_week_is_a_setting():
    t = two_rates(cheap="0.30", start_time="22:00", end_time="06:00", day_of_week=["FRIDAY"])
    args = linear("2024-01-19 23:00", "2024-01-20 02:00")  # Friday 23:00 to Saturday 02:00
    assert energy_by_element(price(t, *args)) == {0: D(1), 1: D(2)}
    window_start = PricingOptions(wrapped_window_day=WrappedWindowDay.WINDOW_START)
    assert energy_by_element(price(t, *args, options=window_start)) == {0: D(3)}


def test_spring_forward_window_opens_when_the_clock_jumps_past_its_start():
    # 2024-03-31: Amsterdam jumps from 02:00 CET to 03:00 CEST at 01:00 UTC; 02:30 never happens.
    result = price(
        two_rates(start_time="02:30", end_time="06:00"), *linear("2024-03-31 00:00", "2024-03-31 02:00"), tz=AMS
    )
    assert energy_by_element(result) == {1: D(1), 0: D(1)}
    assert [p.start.strftime("%H:%M") for p in result.periods] == ["00:00", "01:00"]


def test_spring_forward_window_inside_the_gap_never_applies():
    result = price(
        two_rates(start_time="02:00", end_time="02:30"), *linear("2024-03-31 00:00", "2024-03-31 02:00"), tz=AMS
    )
    assert energy_by_element(result) == {1: D(2)}


@pytest.mark.parametrize(
    ("overlap", "window", "expected"),
    [
        # 2024-10-27: 03:00 CEST back to 02:00 CET at 01:00 UTC; 02:00-03:00 local happens twice.
        (DstOverlap.WALL_CLOCK, ("02:30", "05:00"), {0: D(3), 1: D(1)}),
        (DstOverlap.FIRST_OCCURRENCE, ("02:30", "05:00"), {0: D("3.5"), 1: D("0.5")}),
        (DstOverlap.WALL_CLOCK, ("00:00", "02:30"), {0: D(1), 1: D(3)}),
        (DstOverlap.FIRST_OCCURRENCE, ("00:00", "02:30"), {0: D("0.5"), 1: D("3.5")}),
    ],
)
def test_fall_back_overlap(overlap: DstOverlap, window: tuple[str, str], expected: dict):
    t = two_rates(start_time=window[0], end_time=window[1])
    options = PricingOptions(dst_overlap=overlap)
    result = price(t, *linear("2024-10-27 00:00", "2024-10-27 04:00"), tz=AMS, options=options)
    assert energy_by_element(result) == expected


def test_fall_back_sunday_lasts_25_hours():
    t = two_rates(day_of_week=["SUNDAY"])
    result = price(t, *linear("2024-10-26 21:00", "2024-10-28 00:00"), tz=AMS)
    # Saturday 23:00 local to Monday 01:00 local: 1 h + 25 h + 1 h
    assert energy_by_element(result) == {1: D(2), 0: D(25)}


def test_reservation_elements_price_only_reservation_time():
    t = tariff(
        el(pc("TIME", "6.00"), reservation="RESERVATION"),
        el(pc("TIME", "1.00")),
    )
    start = at("2024-01-15 10:00")
    periods = [period(start, reservation="0.5"), period(start + hours("0.5"), energy=5, time=1)]
    result = price(t, periods, start, start + hours("1.5"))
    assert costs(result)["total_reservation_cost"] == (D("3.00"), D("3.00"))
    assert costs(result)["total_time_cost"] == (D("1.00"), D("1.00"))


def fee_tariff():
    return tariff(
        el(pc("FLAT", "2.00"), reservation="RESERVATION"),
        el(pc("FLAT", "4.00"), reservation="RESERVATION_EXPIRES"),
        el(pc("FLAT", "0.50"), pc("ENERGY", "0.25")),
    )


def test_used_reservation_pays_the_reservation_fee():
    start = at("2024-01-15 10:00")
    periods = [period(start, reservation="0.5"), period(start + hours("0.5"), energy=4, time=1)]
    result = price(fee_tariff(), periods, start, start + hours("1.5"))
    assert costs(result)["total_reservation_cost"] == (D("2.00"), D("2.00"))
    assert costs(result)["total_fixed_cost"] == (D("0.50"), D("0.50"))


@pytest.mark.parametrize(
    ("setting", "fee"),
    [(ExpiredReservationFlat.REPLACE, D("4.00")), (ExpiredReservationFlat.ADD, D("6.00"))],
)
def test_expired_reservation_fee_replaces_or_adds(setting: ExpiredReservationFlat, fee: D):
    start = at("2024-01-15 10:00")
    options = PricingOptions(expired_reservation_flat=setting)
    result = price(fee_tariff(), [period(start, reservation=1)], start, start + hours(1), options=options)
    assert totals(result) == (fee, fee)
    assert any("expired" in note for note in result.notes)


def test_reservation_expiry_can_be_stated_by_the_caller():
    start = at("2024-01-15 10:00")
    result = price(fee_tariff(), [period(start, reservation=1)], start, start + hours(1), reservation_expired=False)
    assert totals(result) == (D("2.00"), D("2.00"))


def test_flat_fee_comes_from_the_element_active_at_session_start():
    t = tariff(el(pc("FLAT", "1.00"), start_time="22:00", end_time="06:00"), el(pc("FLAT", "0.50")))
    night = price(t, *linear("2024-01-15 23:00", "2024-01-16 08:00"))
    day = price(t, *linear("2024-01-15 21:00", "2024-01-15 23:00"))
    assert night.total_cost.excl_vat == D("1.00")
    assert day.total_cost.excl_vat == D("0.50")
