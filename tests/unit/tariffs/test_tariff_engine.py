"""The engine's totals, VAT, min/max price, rounding, breakdown and errors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tariff_builders import D, at, costs, el, hours, pc, period, price, tariff, totals

from evroam.modules.cdrs.models import CDR
from evroam.tariffs import CostCategory, PricingError, minor_units, price_cdr, round_money

START = at("2024-01-15 10:00")
END = START + hours(1)


def one_hour(**volumes: object) -> tuple[list, object, object]:
    return [period(START, **volumes)], START, END


def test_absent_vat_means_no_vat_and_is_noted():
    result = price(tariff(el(pc("ENERGY", "0.25"))), *one_hour(energy=10))
    assert totals(result) == (D("2.50"), D("2.50"))
    assert result.vat_unknown
    assert result.vat[0].rate is None
    assert any("no price component states a VAT rate" in note for note in result.notes)


def test_zero_vat_is_a_rate_not_unknown():
    result = price(tariff(el(pc("ENERGY", "0.25", 0))), *one_hour(energy=10))
    assert totals(result) == (D("2.50"), D("2.50"))
    assert not result.vat_unknown
    assert result.vat[0].rate == D(0)
    assert not result.notes


def test_amounts_are_kept_per_vat_rate():
    t = tariff(el(pc("FLAT", "1.00", 20), pc("ENERGY", "0.25", 10), pc("PARKING_TIME", "2.00")))
    result = price(t, [period(START, energy=10, time=1), period(END, parking=1)], START, END + hours(1))
    by_rate = {v.rate: (v.excl_vat, v.vat, v.incl_vat) for v in result.vat}
    assert by_rate == {
        D(20): (D("1.00"), D("0.20"), D("1.20")),
        D(10): (D("2.50"), D("0.25"), D("2.75")),
        None: (D("2.00"), D("0"), D("2.00")),
    }
    assert not result.vat_unknown
    assert totals(result) == (D("5.50"), D("5.95"))


def test_min_price_adjustment_is_visible_and_parts_bounded_independently():
    t = tariff(el(pc("ENERGY", "0.25", 10)), min_price={"excl_vat": "1.00", "incl_vat": "1.05"})
    # 4 kWh: 1.00 excl (at the bound), 1.10 incl (above it): nothing changes
    assert price(t, *one_hour(energy=4)).limits == ()
    # 3.9 kWh: 0.975 / 1.0725 -> 1.00 / 1.0725: only excl_vat is lifted
    result = price(t, *one_hour(energy="3.9"))
    assert [(a.limit, a.part, a.after) for a in result.limits] == [("min_price", "excl_vat", D("1.00"))]
    assert totals(result) == (D("1.00"), D("1.07"))


def test_max_price_caps_each_part():
    t = tariff(el(pc("ENERGY", "1.00", 25)), max_price={"excl_vat": "10.00", "incl_vat": "11.00"})
    result = price(t, *one_hour(energy="9.5"))  # 9.50 excl (under), 11.875 incl (over)
    assert totals(result) == (D("9.50"), D("11.00"))
    assert [(a.limit, a.part) for a in result.limits] == [("max_price", "incl_vat")]
    assert result.subtotal == (D("9.50"), D("11.875"))


def test_limit_without_incl_vat_moves_incl_in_proportion():
    t = tariff(el(pc("ENERGY", "0.50", 20)), min_price={"excl_vat": "2.00"})
    result = price(t, *one_hour(energy=2))
    assert totals(result) == (D("2.00"), D("2.40"))


def test_free_of_charge_tariff_costs_nothing():
    # mod_tariffs_free_of_charge_tariff_example: a FLAT component of price 0
    result = price(tariff(el(pc("FLAT", "0.00", step=0))), *one_hour(energy=30, time=1))
    assert totals(result) == (D("0.00"), D("0.00"))
    assert costs(result)["total_fixed_cost"] == (D("0.00"), D("0.00"))
    assert [line.dimension.value for line in result.lines()] == ["FLAT"]


def test_flat_fee_is_charged_once_per_session():
    t = tariff(el(pc("FLAT", "1.00", 0)))
    periods = [period(START + hours(i / 2), time="0.5") for i in range(3)]
    result = price(t, periods, START, START + hours("1.5"))
    assert totals(result) == (D("1.00"), D("1.00"))
    assert [len(p.lines) for p in result.periods] == [1, 0, 0]


def test_parking_flat_fee_counts_as_parking_cost():
    t = tariff(el(pc("FLAT", "1.00"), pc("PARKING_TIME", "2.00")), el(pc("ENERGY", "0.30")))
    result = price(t, [period(START, energy=10, time=1), period(END, parking="0.5")], START, END + hours("0.5"))
    assert costs(result)["total_parking_cost"] == (D("2.00"), D("2.00"))
    assert costs(result)["total_fixed_cost"] is None
    assert result.categories[CostCategory.PARKING] == (D("2.00"), D("2.00"))


def test_no_matching_element_means_the_dimension_is_free():
    t = tariff(el(pc("ENERGY", "0.30"), start_time="18:00", end_time="20:00"))
    result = price(t, *one_hour(energy=10))
    assert totals(result) == (D("0.00"), D("0.00"))
    assert costs(result)["total_energy_cost"] is None


def test_parking_without_a_parking_component_is_free_not_time():
    t = tariff(el(pc("TIME", "2.00")))
    result = price(t, [period(START, time=1), period(END, parking=3)], START, END + hours(3))
    assert totals(result) == (D("2.00"), D("2.00"))
    assert result.total_parking_time == D(3)
    assert result.total_time == D(4)


def test_periods_without_time_dimensions_count_their_duration():
    t = tariff(el(pc("TIME", "2.00"), pc("PARKING_TIME", "1.00")))
    result = price(t, [period(START, energy=10), period(END, energy=0)], START, END + hours(1))
    assert costs(result)["total_time_cost"] == (D("2.00"), D("2.00"))
    assert costs(result)["total_parking_cost"] == (D("1.00"), D("1.00"))


def test_negative_energy_is_not_billed():
    result = price(tariff(el(pc("ENERGY", "0.25"))), *one_hour(energy=-3, time=1))
    assert totals(result) == (D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("EUR", D("1.24")), ("JPY", D("1")), ("KWD", D("1.236")), ("XYZ", D("1.24"))],
)
def test_totals_rounded_to_the_currencys_minor_unit(currency: str, expected: D):
    t = tariff(el(pc("ENERGY", "0.2345")), currency=currency)
    result = price(t, *one_hour(energy="5.27"))
    assert result.unrounded.excl_vat == D("1.235815")
    assert result.total_cost.excl_vat == expected


def test_rounding_is_half_up_on_final_totals_only():
    assert round_money(D("0.125"), "EUR") == D("0.13")
    assert round_money(D("0.1249999999999999999999999999"), "EUR") == D("0.13")  # noise, not a value
    assert round_money(D("0.124999"), "EUR") == D("0.12")
    assert round_money(D("-0.125"), "EUR") == D("-0.13")
    assert minor_units("jpy") == 0
    t = tariff(el(pc("TIME", "0.01")))
    periods = [period(START + hours(i), time=1) for i in range(3)]
    # 0.005 per half hour would round to 0.01 each; the total of 0.03 is what counts
    result = price(t, periods, START, START + hours(3))
    assert result.total_cost.excl_vat == D("0.03")


def test_total_equals_the_sum_of_the_breakdown():
    t = tariff(
        el(pc("FLAT", "0.50", 21)),
        el(pc("ENERGY", "0.40", 21, 100), start_time="17:00", end_time="21:00"),
        el(pc("ENERGY", "0.30", 21, 100)),
        el(pc("PARKING_TIME", "3.00", 21, 300)),
        max_price={"excl_vat": "30.00", "incl_vat": "36.30"},
    )
    start = at("2024-01-15 15:30")
    periods = [period(start, energy="23.4567", time=3), period(at("2024-01-15 18:30"), parking="0.77")]
    result = price(t, periods, start, at("2024-01-15 19:16:12"), tz="Europe/Amsterdam")
    lines = result.lines()
    assert sum((line.excl_vat for line in lines), Decimal(0)) == result.subtotal.excl_vat
    assert sum((line.incl_vat for line in lines), Decimal(0)) - result.subtotal.incl_vat < Decimal("1e-20")
    assert sum((v.excl_vat for v in result.vat), Decimal(0)) == result.subtotal.excl_vat
    assert result.total_cost.excl_vat == round_money(result.unrounded.excl_vat, "EUR")


def test_breakdown_names_tariff_element_component_and_step():
    t = tariff(el(pc("FLAT", "0.50", 20), pc("ENERGY", "0.25", 10, 1000)), tariff_id="TARIFF-9")
    result = price(t, *one_hour(energy="2.5"))
    flat, energy = result.lines()
    assert (flat.tariff_id, flat.element_index, flat.component_index, flat.category) == (
        "TARIFF-9",
        0,
        0,
        CostCategory.FIXED,
    )
    assert (energy.component_index, energy.volume, energy.billed_volume, energy.vat) == (1, D("2.5"), D(3), D(10))
    assert energy.step is not None
    assert (energy.step.consumed, energy.step.billed) == (D(2500), D(3000))
    assert (energy.excl_vat, energy.incl_vat) == (D("0.75"), D("0.825"))
    assert result.periods[0].tariff_id == "TARIFF-9"


def test_result_serialises_to_json():
    t = tariff(el(pc("ENERGY", "0.25", 10)), max_price={"excl_vat": "1.00"})
    data = price(t, *one_hour(energy=10)).to_dict()
    text = json.dumps(data)
    assert json.loads(text)["total_cost"] == {"excl_vat": "1.00", "incl_vat": "1.10"}
    assert data["limits"][0]["limit"] == "max_price"
    assert data["periods"][0]["lines"][0]["dimension"] == "ENERGY"


def test_session_without_periods_pays_the_flat_fee():
    t = tariff(el(pc("FLAT", "1.50"), pc("ENERGY", "0.25")))
    result = price(t, [], START, END)
    assert totals(result) == (D("1.50"), D("1.50"))


def test_periods_out_of_order_are_sorted():
    t = tariff(el(pc("ENERGY", "0.25")))
    periods = [period(END, energy=2), period(START, energy=1)]
    result = price(t, periods, START, END + hours(1))
    assert [p.source_index for p in result.periods] == [1, 0]
    assert totals(result) == (D("0.75"), D("0.75"))


@pytest.mark.parametrize(
    ("periods", "start", "end", "message"),
    [
        ([period(START, energy=1)], END, START, "ends before it starts"),
        ([period(START - hours(1), energy=1)], START, END, "outside the session"),
        ([period(END + hours(1), energy=1)], START, END, "outside the session"),
    ],
)
def test_periods_outside_the_session_are_refused(periods: list, start: object, end: object, message: str):
    with pytest.raises(PricingError, match=message):
        price(tariff(el(pc("ENERGY", "0.25"))), periods, start, end)


def test_prices_including_taxes_are_refused_not_guessed():
    t = tariff(el(pc("ENERGY", "0.30", 21)), tax_included="YES")
    with pytest.raises(PricingError, match="including taxes"):
        price(t, *one_hour(energy=1))
    assert totals(price(tariff(el(pc("ENERGY", "0.30", 21)), tax_included="NO"), *one_hour(energy=1))) == (
        D("0.30"),
        D("0.36"),
    )


def test_unknown_time_zone_is_refused():
    with pytest.raises(PricingError, match="unknown time zone"):
        price(tariff(el(pc("ENERGY", "0.25"))), *one_hour(energy=1), tz="Mars/Olympus")


def cdr_with(tariffs: list, periods: list) -> CDR:
    return CDR.model_validate(
        {
            "country_code": "NL",
            "party_id": "EVR",
            "id": "CDR1",
            "start_date_time": "2024-01-15T10:00:00Z",
            "end_date_time": "2024-01-15T11:00:00Z",
            "cdr_token": {"country_code": "DE", "party_id": "EMS", "uid": "U1", "type": "RFID", "contract_id": "C1"},
            "auth_method": "WHITELIST",
            "cdr_location": {
                "id": "L1",
                "address": "Street 1",
                "city": "Town",
                "country": "NLD",
                "coordinates": {"latitude": "52.00000", "longitude": "4.00000"},
                "evse_uid": "E1",
                "evse_id": "NL*EVR*E1",
                "connector_id": "1",
                "connector_standard": "IEC_62196_T2",
                "connector_format": "SOCKET",
                "connector_power_type": "AC_3_PHASE",
            },
            "currency": "EUR",
            "tariffs": [t.to_dict() for t in tariffs],
            "charging_periods": [p.to_dict() for p in periods],
            "total_cost": {"excl_vat": 0},
            "total_energy": 10,
            "total_time": 1,
            "last_updated": "2024-01-15T11:00:00Z",
        }
    )


def test_price_cdr_uses_the_tariff_its_periods_name():
    cheap, dear = tariff(el(pc("ENERGY", "0.10")), tariff_id="A"), tariff(el(pc("ENERGY", "0.90")), tariff_id="B")
    p = period(START, energy=10).model_copy(update={"tariff_id": "b"})
    assert price_cdr(cdr_with([cheap, dear], [p]), time_zone="UTC").total_cost.excl_vat == D("9.00")
    with pytest.raises(PricingError, match="cannot tell"):
        price_cdr(cdr_with([cheap, dear], [period(START, energy=10)]), time_zone="UTC")
    only = price_cdr(cdr_with([cheap], [period(START, energy=10)]), time_zone="UTC")
    assert only.tariff_id == "A"
