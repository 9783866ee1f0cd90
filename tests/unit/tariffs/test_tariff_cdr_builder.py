"""A priced CDR built from a finished Session, its Location and tariffs; the running cost of an active one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tariff_builders import D, at, el, hours, pc, period, tariff

from evroam.modules.cdrs.models import CDR, CdrDimensionType
from evroam.modules.locations.models import Location
from evroam.modules.sessions.models import Session
from evroam.tariffs import PricingError, build_cdr, price_cdr, price_periods, running_total_cost

START = at("2024-01-15 15:30")
NOW = at("2024-01-15 19:00")


def location(**connector: Any) -> Location:
    return Location.model_validate(
        {
            "country_code": "NL",
            "party_id": "EVR",
            "id": "LOC1",
            "publish": True,
            "name": "Station",
            "address": "Main Street 1",
            "city": "Amsterdam",
            "postal_code": "1011AA",
            "country": "NLD",
            "coordinates": {"latitude": "52.37000", "longitude": "4.89000"},
            "time_zone": "Europe/Amsterdam",
            "evses": [
                {
                    "uid": "EVSE1",
                    "evse_id": "NL*EVR*E1",
                    "status": "CHARGING",
                    "connectors": [
                        {
                            "id": "1",
                            "standard": "IEC_62196_T2",
                            "format": "SOCKET",
                            "power_type": "AC_3_PHASE",
                            "max_voltage": 230,
                            "max_amperage": 32,
                            "tariff_ids": ["DAY"],
                            "last_updated": "2024-01-01T00:00:00Z",
                            **connector,
                        }
                    ],
                    "last_updated": "2024-01-01T00:00:00Z",
                }
            ],
            "last_updated": "2024-01-01T00:00:00Z",
        }
    )


def day_tariff():
    # 17:00-21:00 local costs more: a session from 16:30 local is split at 17:00 local (16:00 UTC)
    return tariff(
        el(pc("FLAT", "0.50", 21)),
        el(pc("ENERGY", "0.45", 21), start_time="17:00", end_time="21:00"),
        el(pc("ENERGY", "0.30", 21)),
        el(pc("PARKING_TIME", "2.00", 21, 300)),
        tariff_id="DAY",
    )


def session(parked: str = "0.5", **fields: Any) -> Session:
    periods = [
        period(START, energy="12.5", time=1, max_power=22, power=12),
        period(at("2024-01-15 16:30"), parking=parked),
    ]
    return Session.model_validate(
        {
            "country_code": "NL",
            "party_id": "EVR",
            "id": "S1",
            "start_date_time": START,
            "end_date_time": at("2024-01-15 17:00"),
            "kwh": "12.5",
            "cdr_token": {"country_code": "DE", "party_id": "EMS", "uid": "U1", "type": "RFID", "contract_id": "C1"},
            "auth_method": "AUTH_REQUEST",
            "authorization_reference": "REF1",
            "location_id": "LOC1",
            "evse_uid": "EVSE1",
            "connector_id": "1",
            "meter_id": "M1",
            "currency": "EUR",
            "charging_periods": [p.to_dict() for p in periods],
            "status": "COMPLETED",
            "last_updated": "2024-01-15T17:00:00Z",
            **fields,
        }
    )


def test_built_cdr_validates_and_carries_the_engine_totals():
    s, loc, tariffs = session(), location(), [day_tariff()]
    cdr = build_cdr(s, loc, tariffs, cdr_id="CDR-1", now=NOW)
    again = CDR.model_validate(cdr.to_dict())
    assert again == cdr
    expected = price_periods(
        tariffs[0],
        s.charging_periods or [],
        start=s.start_date_time,
        end=at("2024-01-15 17:00"),
        time_zone="Europe/Amsterdam",
    )
    assert cdr.total_cost == expected.total_cost
    assert cdr.total_energy_cost == expected.total_energy_cost
    assert cdr.total_fixed_cost == expected.total_fixed_cost
    assert cdr.total_parking_cost == expected.total_parking_cost
    assert cdr.total_time_cost is None
    assert (cdr.total_energy, cdr.total_time, cdr.total_parking_time) == (D("12.5"), D("1.5"), D("0.5"))


def test_built_cdr_periods_are_split_and_name_the_tariff():
    cdr = build_cdr(session(), location(), [day_tariff()], cdr_id="CDR-1", now=NOW)
    assert [p.start_date_time for p in cdr.charging_periods] == [START, at("2024-01-15 16:00"), at("2024-01-15 16:30")]
    assert {p.tariff_id for p in cdr.charging_periods} == {"DAY"}
    first = {d.type: d.volume for d in cdr.charging_periods[0].dimensions}
    assert first[CdrDimensionType.ENERGY] == D("6.25")
    assert first[CdrDimensionType.MAX_POWER] == D(22)
    assert CdrDimensionType.POWER not in first  # Session-only dimension dropped
    total = sum(
        (d.volume for p in cdr.charging_periods for d in p.dimensions if d.type is CdrDimensionType.ENERGY), Decimal(0)
    )
    assert total == D("12.5")


def test_built_cdr_copies_session_and_location_data():
    cdr = build_cdr(session(), location(), [day_tariff()], cdr_id="CDR-1", now=NOW)
    assert (cdr.id, cdr.session_id, cdr.country_code, cdr.party_id) == ("CDR-1", "S1", "NL", "EVR")
    assert (cdr.auth_method.value, cdr.authorization_reference, cdr.meter_id) == ("AUTH_REQUEST", "REF1", "M1")
    assert cdr.cdr_token.uid == "U1"
    assert cdr.last_updated == NOW
    assert cdr.tariffs is not None
    assert [t.id for t in cdr.tariffs] == ["DAY"]
    loc = cdr.cdr_location
    assert (loc.id, loc.name, loc.city, loc.postal_code, loc.country) == (
        "LOC1",
        "Station",
        "Amsterdam",
        "1011AA",
        "NLD",
    )
    assert (loc.evse_uid, loc.evse_id, loc.connector_id) == ("EVSE1", "NL*EVR*E1", "1")
    assert loc.connector_standard.value == "IEC_62196_T2"


def test_cdr_priced_again_by_the_emsp_gives_the_same_total():
    cdr = build_cdr(session(), location(), [day_tariff()], cdr_id="CDR-1", now=NOW)
    assert price_cdr(cdr, time_zone="Europe/Amsterdam").total_cost == cdr.total_cost


def test_running_total_of_an_active_session():
    active = session(parked="0.25", end_date_time=None, status="ACTIVE")
    running = running_total_cost(active, location(), [day_tariff()], now=at("2024-01-15 16:45"))
    finished = build_cdr(session(), location(), [day_tariff()], cdr_id="X", now=NOW).total_cost
    assert running.excl_vat < finished.excl_vat
    # 15 of the 30 parking minutes reported so far, at 2.00/h: 0.50 less than the finished session
    assert finished.excl_vat - running.excl_vat == D("0.50")


def test_session_without_periods_is_priced_on_its_kwh():
    cdr = build_cdr(session(charging_periods=None, kwh=10), location(), [day_tariff()], cdr_id="C", now=NOW)
    assert cdr.total_energy == D(10)
    assert len(cdr.charging_periods) >= 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_date_time": None}, "has not ended"),
        ({"connector_id": "9"}, "no EVSE"),
        ({"currency": "USD"}, "in EUR"),
    ],
)
def test_what_cannot_become_a_cdr(changes: dict, message: str):
    with pytest.raises(PricingError, match=message):
        build_cdr(session(**changes), location(), [day_tariff()], cdr_id="C", now=NOW)


def test_no_applicable_tariff_is_an_error():
    with pytest.raises(PricingError, match="no tariff"):
        build_cdr(session(), location(tariff_ids=["OTHER"]), [day_tariff()], cdr_id="C", now=NOW)


def test_evse_without_evse_id_uses_its_uid():
    loc = location()
    assert loc.evses is not None
    evse = loc.evses[0].model_copy(update={"evse_id": None})
    loc = loc.model_copy(update={"evses": [evse]})
    assert build_cdr(session(), loc, [day_tariff()], cdr_id="C", now=NOW).cdr_location.evse_id == "EVSE1"


def test_hours_helper_is_exact():
    assert START + hours("0.5") == at("2024-01-15 16:00")


def test_reservation_without_evse_gets_na_ids():
    # OCPI 2.2.1 mod_cdrs_cdr_location_class: "#NA" ids for a reservation that never became a session
    t = tariff(el(pc("TIME", "5.00", 20, 60), reservation="RESERVATION"), el(pc("ENERGY", "0.30")), tariff_id="DAY")
    reservation = session(
        evse_uid="#NA",
        connector_id="#NA",
        charging_periods=[period(START, reservation=1).to_dict()],
        end_date_time=START + hours(1),
        kwh=0,
    )
    cdr = build_cdr(reservation, location(), [t], cdr_id="R-1", now=NOW)
    assert (cdr.cdr_location.evse_uid, cdr.cdr_location.connector_id) == ("#NA", "#NA")
    assert cdr.total_reservation_cost is not None
    assert cdr.total_reservation_cost.excl_vat == D("5.00")


def test_price_cdr_refuses_a_tariff_in_another_currency():
    cdr = build_cdr(session(), location(), [day_tariff()], cdr_id="CDR-1", now=NOW)
    with pytest.raises(PricingError, match="in USD"):
        price_cdr(cdr, tariff(el(pc("ENERGY", "0.30")), currency="USD"), time_zone="Europe/Amsterdam")
