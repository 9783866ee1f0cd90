"""The worked examples of OCPI 2.2.1 mod_tariffs / mod_cdrs (digest 4.7), as our own fixtures."""

from __future__ import annotations

from decimal import Decimal

from tariff_builders import D, at, costs, el, hours, pc, period, price, tariff, totals

from evroam.tariffs import ParkingDuration, PricingOptions, TimeStepRounding

START = at("2024-01-15 09:00")  # a Monday


def energy_session(kwh: str, parking_minutes: int = 0) -> tuple[list, object, object]:
    charge_end = START + hours(1)
    periods = [period(START, energy=kwh, time=1)]
    end = charge_end
    if parking_minutes:
        periods.append(period(charge_end, parking=D(parking_minutes) / 60))
        end = charge_end + hours(D(parking_minutes) / 60)
    return periods, START, end


def test_simple_025_per_kwh_20_kwh_costs_5_00_and_5_50():
    # mod_tariffs_simple_tariff_example_0_25_euro_per_kwh
    t = tariff(el(pc("ENERGY", "0.25", 10)))
    assert totals(price(t, *energy_session("20"))) == (D("5.00"), D("5.50"))


def test_start_fee_050_at_20_percent_adds_once():
    # mod_tariffs_tariff_example_0_25_euro_per_kwh_start
    t = tariff(el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10)))
    result = price(t, *energy_session("20"))
    assert totals(result) == (D("5.50"), D("6.10"))
    assert costs(result)["total_fixed_cost"] == (D("0.50"), D("0.60"))
    assert costs(result)["total_energy_cost"] == (D("5.00"), D("5.50"))


def test_min_price_lifts_a_small_session_only():
    # mod_tariffs_tariff_example_0_25_euro_per_kwh_min_price: < 2 kWh costs 0.50 / 0.55
    t = tariff(el(pc("ENERGY", "0.25", 10)), min_price={"excl_vat": "0.50", "incl_vat": "0.55"})
    assert totals(price(t, *energy_session("20"))) == (D("5.00"), D("5.50"))
    small = price(t, *energy_session("1.2"))
    assert totals(small) == (D("0.50"), D("0.55"))
    assert costs(small)["total_energy_cost"] == (D("0.30"), D("0.33"))


def test_parking_billed_per_15_minutes_40_minutes_cost_45():
    # mod_tariffs_tariff_example_0_25_euro_per_kwh_parking_start: 7.00 / 7.90
    t = tariff(el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10), pc("PARKING_TIME", "2.00", 20, 900)))
    result = price(t, *energy_session("20", parking_minutes=40))
    assert totals(result) == (D("7.00"), D("7.90"))
    assert costs(result)["total_parking_cost"] == (D("1.50"), D("1.80"))
    parking = [line for line in result.lines() if line.dimension.value == "PARKING_TIME"]
    assert parking[-1].billed_volume == D("0.75")


def test_max_price_caps_50_kwh_but_not_30_kwh():
    # mod_tariffs_tariff_example_0_25_euro_per_kwh_start_max_price
    t = tariff(
        el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10)),
        max_price={"excl_vat": "10.00", "incl_vat": "11.00"},
        end_date_time="2019-06-30T23:59:59Z",
    )
    assert totals(price(t, *energy_session("50"))) == (D("10.00"), D("11.00"))
    assert totals(price(t, *energy_session("30"))) == (D("8.00"), D("8.85"))


def test_two_euro_per_hour_for_2_5_hours():
    # mod_tariffs_simple_tariff_example_2_euro_per_hour: parking is not billed as TIME
    t = tariff(el(pc("TIME", "2.00", 10, 60)))
    periods = [period(START, energy=30, time="2.5"), period(START + hours(2.5), parking=1)]
    result = price(t, periods, START, START + hours(3.5))
    assert totals(result) == (D("5.00"), D("5.50"))


def test_three_euro_per_hour_and_five_euro_parking():
    # mod_tariffs_simple_tariff_example_3_euro_per_hour_5_euro_parking: 150 min + 42 min -> 11.25 / 12.75
    t = tariff(el(pc("TIME", "3.00", 10, 60), pc("PARKING_TIME", "5.00", 20, 300)))
    periods = [period(START, time="2.5"), period(START + hours(2.5), parking=D(42) / 60)]
    result = price(t, periods, START, START + hours(2.5) + hours(D(42) / 60))
    assert totals(result) == (D("11.25"), D("12.75"))
    assert costs(result)["total_time_cost"] == (D("7.50"), D("8.25"))
    assert costs(result)["total_parking_cost"] == (D("3.75"), D("4.50"))


def test_1_90_per_hour_at_5_2_percent_billed_per_5_minutes():
    # mod_tariffs_simple_tariff_example_with_alternative_multi_language_text: 4.75 / 5.00
    t = tariff(el(pc("TIME", "1.90", "5.2", 300)))
    assert totals(price(t, [period(START, time="2.5")], START, START + hours(2.5))) == (D("4.75"), D("5.00"))


def test_reservation_priced_per_hour_before_charging():
    # mod_tariffs_tariff_example_15_reservation_5_euro_per_hour: 15 min reservation, 20 kWh -> 6.75 / 7.60
    t = tariff(
        el(pc("TIME", "5.00", 20, 60), reservation="RESERVATION"),
        el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10)),
    )
    charge = START + hours("0.25")
    periods = [period(START, reservation="0.25"), period(charge, energy=20, time=1)]
    result = price(t, periods, START, charge + hours(1))
    assert totals(result) == (D("6.75"), D("7.60"))
    assert costs(result)["total_reservation_cost"] == (D("1.25"), D("1.50"))
    assert costs(result)["total_fixed_cost"] == (D("0.50"), D("0.60"))


def test_reservation_fee_and_time_rounded_to_5_minutes():
    # mod_tariffs_tariff_example_16_reservation_2_euro_fee_5_euro_per_hour: 13 min -> 15 min, 8.75 / 10.00.
    # 2.2.1 lists the 2.00 fee as "2.00 incl. VAT"; with its 20 % VAT that is 2.40 (as 2.3.0 shows), which the
    # stated 10.00 total needs.
    t = tariff(
        el(pc("FLAT", "2.00", 20), pc("TIME", "5.00", 20, 300), reservation="RESERVATION"),
        el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10)),
    )
    charge = START + hours(D(13) / 60)
    periods = [period(START, reservation=D(13) / 60), period(charge, energy=20, time=1)]
    result = price(t, periods, START, charge + hours(1))
    assert totals(result) == (D("8.75"), D("10.00"))
    assert costs(result)["total_reservation_cost"] == (D("3.25"), D("3.90"))


def expire_fee_tariff():
    # mod_tariffs_tariff_example_17_reservation_with_expire_fee
    return tariff(
        el(pc("FLAT", "4.00", 20), reservation="RESERVATION_EXPIRES"),
        el(pc("TIME", "2.00", 20, 600), reservation="RESERVATION"),
        el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10)),
    )


def test_used_reservation_pays_time_but_no_expiry_fee():
    charge = START + hours(D(22) / 60)
    periods = [period(START, reservation=D(22) / 60), period(charge, energy=20, time=1)]
    assert totals(price(expire_fee_tariff(), periods, START, charge + hours(1))) == (D("6.50"), D("7.30"))


def test_expired_reservation_pays_time_and_expiry_fee_but_no_start_fee():
    result = price(expire_fee_tariff(), [period(START, reservation=1)], START, START + hours(1))
    assert totals(result) == (D("6.00"), D("7.20"))
    assert costs(result)["total_fixed_cost"] is None
    assert costs(result)["total_reservation_cost"] == (D("6.00"), D("7.20"))


def expire_time_tariff():
    # mod_tariffs_tariff_example_18_reservation_with_expire_time
    return tariff(
        el(pc("TIME", "6.00", 20, 600), reservation="RESERVATION_EXPIRES"),
        el(pc("TIME", "3.00", 20, 600), reservation="RESERVATION"),
        el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10)),
    )


def test_used_reservation_time_at_reservation_rate():
    charge = START + hours(D(22) / 60)
    periods = [period(START, reservation=D(22) / 60), period(charge, energy=20, time=1)]
    assert totals(price(expire_time_tariff(), periods, START, charge + hours(1))) == (D("7.00"), D("7.90"))


def test_expired_reservation_time_at_expiry_rate():
    # mod_tariffs_reservation_restriction_type: both kinds have TIME -> RESERVATION_EXPIRES prices it
    result = price(expire_time_tariff(), [period(START, reservation="1.5")], START, START + hours(1.5))
    assert totals(result) == (D("9.00"), D("10.80"))


def test_max_power_example_20_30():
    # mod_tariffs "Tariff with max_power Tariff Restrictions": 1 kWh @6 kW, 40 kWh @48 kW, 0.5 kWh @4 kW
    t = tariff(
        el(pc("ENERGY", "0.20", 20), max_power=16),
        el(pc("ENERGY", "0.35", 20), max_power=32),
        el(pc("ENERGY", "0.50", 20)),
    )
    p1, p2, p3 = START, START + hours(D(1) / 6), START + hours(D(1) / 6 + D(40) / 48)
    periods = [
        period(p1, energy=1, max_power=6),
        period(p2, energy=40, max_power=48),
        period(p3, energy="0.5", max_power=4),
    ]
    result = price(t, periods, START, p3 + hours(D("0.125")))
    assert result.total_cost.excl_vat == D("20.30")


def test_max_duration_example_0_30():
    # mod_tariffs "Tariff with max_duration Tariff Restrictions": 5 kWh in 30 min free, 1.2 kWh at 0.25
    t = tariff(
        el(pc("ENERGY", "0.00", 20), max_duration=1800),
        el(pc("ENERGY", "0.25", 20), max_duration=3600),
        el(pc("ENERGY", "0.40", 20)),
    )
    periods = [period(START, energy=5), period(START + hours("0.5"), energy="1.2")]
    assert price(t, periods, START, START + hours(D(40) / 60)).total_cost.excl_vat == D("0.30")


def complex_tariff():
    # mod_tariffs_complex_tariff_example (tariff_4)
    weekdays = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    return tariff(
        el(pc("FLAT", "2.50", 15)),
        el(pc("TIME", "1.00", 20, 900), max_current=32),
        el(pc("TIME", "2.00", 20, 600), min_current=32, day_of_week=weekdays),
        el(pc("TIME", "1.25", 20, 600), min_current=32, day_of_week=["SATURDAY", "SUNDAY"]),
        el(pc("PARKING_TIME", "5.00", 10, 300), start_time="09:00", end_time="18:00", day_of_week=weekdays),
        el(pc("PARKING_TIME", "6.00", 10, 300), start_time="10:00", end_time="17:00", day_of_week=["SATURDAY"]),
    )


def test_complex_monday_morning_9_00_and_10_30():
    # 165 min charging at 16 A (the text's "147 minutes (charging)" is an erratum: it bills 165), 42 min parking
    start = at("2024-01-15 09:30")
    charge_end = start + hours(D(165) / 60)
    periods = [period(start, time=D(165) / 60, max_current=16), period(charge_end, parking=D(42) / 60)]
    result = price(complex_tariff(), periods, start, charge_end + hours(D(42) / 60))
    assert totals(result) == (D("9.00"), D("10.30"))


def test_complex_saturday_afternoon_12_375():
    start = at("2024-01-20 13:30")
    charge_end = start + hours(D(114) / 60)
    periods = [period(start, time=D(114) / 60, min_current=43), period(charge_end, parking=D(71) / 60)]
    result = price(complex_tariff(), periods, start, charge_end + hours(D(71) / 60))
    assert result.unrounded == (D("12.375"), D("13.975"))
    assert totals(result) == (D("12.38"), D("13.98"))  # half up, in money.round_money


def test_first_hour_of_parking_free_needs_parking_duration_reading():
    # mod_tariffs_first_hour_free_energy (tariff_7): 20 kWh then 2:45 parking -> 7.30. It models "first hour of
    # parking" with min/max_duration, which the restriction table defines on the session duration; only the
    # ParkingDuration.PARKING setting reproduces the stated total (digest section 8 item 9).
    t = tariff(
        el(pc("PARKING_TIME", "0.00", step=60), min_duration=0, max_duration=3600),
        el(pc("PARKING_TIME", "2.00", step=60), min_duration=3600, max_duration=10800),
        el(pc("PARKING_TIME", "3.00", step=60), min_duration=10800),
        el(pc("ENERGY", "0.00"), max_kwh="1.0"),
        el(pc("ENERGY", "0.20"), min_kwh="1.0"),
    )
    charge_end = START + hours(1)
    periods = [period(START, energy=20, time=1), period(charge_end, parking="2.75")]
    end = charge_end + hours("2.75")
    parking_reading = price(t, periods, START, end, options=PricingOptions(parking_duration=ParkingDuration.PARKING))
    assert parking_reading.total_cost.excl_vat == D("7.30")
    # By session duration, parking runs from 1:00 to 3:45 into the session: 2 h at 2.00 + 0.75 h at 3.00.
    assert price(t, periods, START, end).total_cost.excl_vat == D("3.80") + D("4.00") + D("2.25")


def step_size_tariff():
    # mod_tariffs "Example Tariff" for step_size (tariff_14); times are UTC here
    return tariff(
        el(pc("TIME", "1.20", step=1800), pc("PARKING_TIME", "1.00", step=900), start_time="00:00", end_time="17:00"),
        el(pc("TIME", "2.40", step=900), pc("PARKING_TIME", "1.00", step=900), start_time="17:00", end_time="20:00"),
        el(pc("TIME", "2.40", step=900), start_time="20:00", end_time="00:00"),
    )


def test_step_size_switching_element_1_parking_rounded_alone():
    # 2.3.0 rewrite of "switching to different Tariff Element #1": 0.10 + 0.20 + 0.25 (parking 2 -> 15 min)
    start = at("2024-01-15 16:55")
    periods = [period(start, time=D(10) / 60), period(start + hours(D(10) / 60), parking=D(2) / 60)]
    end = start + hours(D(12) / 60)
    assert price(step_size_tariff(), periods, start, end).unrounded.excl_vat == D("0.55")


def test_step_size_switching_element_1_combined_reading_is_a_setting():
    # 2.2.1 text of the same example rounds total session time 12 -> 15 min, 5 min parking: 0.383 EUR
    start = at("2024-01-15 16:55")
    periods = [period(start, time=D(10) / 60), period(start + hours(D(10) / 60), parking=D(2) / 60)]
    options = PricingOptions(time_step_rounding=TimeStepRounding.COMBINED)
    result = price(step_size_tariff(), periods, start, start + hours(D(12) / 60), options=options)
    assert result.total_cost.excl_vat == D("0.38")
    assert abs(result.unrounded.excl_vat - D("0.3833333")) < D("0.0000001")


def test_step_size_switching_element_2_rounds_total_with_last_step():
    # "switching to different Tariff Element #2": 35 min -> 45 min, 25 min at 1.20 + 20 min at 2.40 = 1.30
    start = at("2024-01-15 16:35")
    result = price(step_size_tariff(), [period(start, time=D(35) / 60)], start, start + hours(D(35) / 60))
    assert result.unrounded.excl_vat == D("1.30")
    assert [p.start.strftime("%H:%M") for p in result.periods] == ["16:35", "17:00"]


def test_step_size_switching_to_free_parking_uses_last_paid_step():
    # "switching to Free-of-Charge Tariff Element": charging 19:40-19:52 (12 min at 2.40 = 0.48), parking
    # 19:52-20:12, free after 20:00, so 8 paid minutes rounded to 15 at 1.00/h = 0.25. Neither text's total
    # (2.2.1: 0.78, 2.3.0: 0.80) follows from its own tariff (digest 4.7 [ERRATUM]); the rule they state does.
    start = at("2024-01-15 19:40")
    charge_end = start + hours(D(12) / 60)
    periods = [period(start, time=D(12) / 60), period(charge_end, parking=D(20) / 60)]
    result = price(step_size_tariff(), periods, start, charge_end + hours(D(20) / 60))
    assert result.unrounded.excl_vat == D("0.73")
    parking = [line for line in result.lines() if line.dimension.value == "PARKING_TIME"]
    assert parking[-1].step is not None
    assert parking[-1].step.consumed == D(480)
    assert parking[-1].step.billed == D(900)


def test_energy_step_500_across_a_price_switch():
    # mod_cdrs_step_size: 4.3 kWh at 0.20 + 1.1 kWh at 0.27, step 500 Wh -> 5.5 kWh, extra 0.1 at 0.27
    t = tariff(
        el(pc("ENERGY", "0.20", step=500), end_time="17:00"),
        el(pc("ENERGY", "0.27", step=500), start_time="17:00"),
    )
    start = at("2024-01-15 16:00")
    periods = [period(start, energy="4.3"), period(at("2024-01-15 17:00"), energy="1.1")]
    result = price(t, periods, start, at("2024-01-15 18:00"))
    assert result.unrounded.excl_vat == D("4.3") * D("0.20") + D("1.2") * D("0.27")


def test_time_step_10_minutes_across_a_price_switch():
    # mod_cdrs_step_size: 6 min at 5/h + 22 min at 7/h, step 10 min -> 30 min, 24 min after 17:00
    t = tariff(el(pc("TIME", "5", step=600), end_time="17:00"), el(pc("TIME", "7", step=600), start_time="17:00"))
    start = at("2024-01-15 16:54")
    result = price(t, [period(start, time=D(28) / 60)], start, start + hours(D(28) / 60))
    assert result.unrounded.excl_vat == D("0.5") + D("2.8")


def test_charging_not_rounded_when_parking_follows():
    # mod_cdrs_step_size: 21 min charging (1.00/h) + 16 min parking (2.00/h), both step 10 min -> 21 + 20 min
    t = tariff(el(pc("TIME", "1.00", step=600), pc("PARKING_TIME", "2.00", step=600)))
    start = at("2024-01-15 10:00")
    periods = [period(start, time=D(21) / 60), period(start + hours(D(21) / 60), parking=D(16) / 60)]
    result = price(t, periods, start, start + hours(D(37) / 60))
    expected = D(21) / 60 * 1 + D(20) / 60 * 2
    assert abs(result.unrounded.excl_vat - expected) < Decimal("1e-20")
    assert result.total_cost.excl_vat == D("1.02")


def test_charging_21_and_parking_7_minutes_both_step_5():
    # mod_cdrs_step_size: charging billed 21 min (not 25), parking 10 min
    t = tariff(el(pc("TIME", "6.00", step=300), pc("PARKING_TIME", "6.00", step=300)))
    start = at("2024-01-15 10:00")
    periods = [period(start, time=D(21) / 60), period(start + hours(D(21) / 60), parking=D(7) / 60)]
    result = price(t, periods, start, start + hours(D(28) / 60))
    assert result.unrounded.excl_vat == D("3.10")  # (21 + 10) minutes at 0.10 per minute


# -- the same totals in the OCPI 2.3.0 form: before_taxes and a TaxAmount per rate (types_price_class) ----


def test_taxes_form_has_one_tax_amount_per_vat_rate():
    # The start-fee example: 0.50 at 20 % and 5.00 at 10 % -> 0.10 + 0.50 of VAT.
    t = tariff(el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10)))
    taxed = price(t, *energy_session("20")).total_cost_with_taxes()
    assert taxed == {
        "before_taxes": "5.50",
        "taxes": [
            {"name": "VAT", "percentage": "20", "amount": "0.10"},
            {"name": "VAT", "percentage": "10", "amount": "0.50"},
        ],
    }


def test_taxes_form_after_a_price_limit_is_the_difference_of_the_bounded_totals():
    t = tariff(el(pc("ENERGY", "0.25", 10)), min_price={"excl_vat": "0.50", "incl_vat": "0.55"})
    taxed = price(t, *energy_session("1.2")).total_cost_with_taxes("BTW")
    assert taxed == {"before_taxes": "0.50", "taxes": [{"name": "BTW", "amount": "0.05", "percentage": "10"}]}


def test_taxes_form_without_vat_has_no_tax_amount():
    t = tariff(el(pc("ENERGY", "0.25")))
    assert price(t, *energy_session("20")).total_cost_with_taxes() == {"before_taxes": "5.00", "taxes": []}
