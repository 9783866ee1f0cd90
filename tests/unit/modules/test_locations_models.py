"""Unit tests for the canonical Locations models (OCPI 2.2.1 mod_locations, 2.3.0 additions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.modules.locations.models import (
    EVSE,
    AdditionalGeoLocation,
    Capability,
    Connector,
    ConnectorCapability,
    ConnectorType,
    EnergyMix,
    EnergySource,
    EnvironmentalImpact,
    EVSEParking,
    EVSEPosition,
    ExceptionalPeriod,
    GeoLocation,
    Hours,
    Location,
    Parking,
    ParkingRestriction,
    PublishTokenType,
    RegularHours,
    Status,
    StatusSchedule,
    TokenType,
)
from evroam.types import OcpiModel

# --- fixtures (plain dicts; every function returns a fresh copy) -----------------------------------------

_TS = "2024-03-11T08:15:00Z"


def geo() -> dict[str, Any]:
    return {"latitude": "51.923456", "longitude": "4.4712345"}


def image_full() -> dict[str, Any]:
    return {
        "url": "https://img.example.com/site-7/front.jpg",
        "thumbnail": "https://img.example.com/site-7/front-thumb.jpg",
        "category": "LOCATION",
        "type": "jpeg",
        "width": 1024,
        "height": 768,
    }


def energy_mix_full() -> dict[str, Any]:
    return {
        "is_green_energy": False,
        "energy_sources": [
            {"source": "WIND", "percentage": 42.5},
            {"source": "SOLAR", "percentage": 20},
            {"source": "GAS", "percentage": 37.5},
        ],
        "environ_impact": [
            {"category": "CARBON_DIOXIDE", "amount": 143.2},
            {"category": "NUCLEAR_WASTE", "amount": 0.0004},
        ],
        "supplier_name": "Polder Stroom",
        "energy_product_name": "Polder Mix 2024",
    }


def regular_hours() -> dict[str, Any]:
    return {"weekday": 3, "period_begin": "07:30", "period_end": "22:45"}


def hours_full() -> dict[str, Any]:
    return {
        "twentyfourseven": False,
        "regular_hours": [regular_hours(), {"weekday": 6, "period_begin": "09:00", "period_end": "17:00"}],
        "exceptional_openings": [{"period_begin": "2024-12-29T09:00:00Z", "period_end": "2024-12-29T13:00:00Z"}],
        "exceptional_closings": [{"period_begin": "2024-12-25T00:00:00Z", "period_end": "2024-12-26T00:00:00Z"}],
    }


def connector_full() -> dict[str, Any]:
    return {
        "id": "2",
        "standard": "IEC_62196_T2_COMBO",
        "format": "CABLE",
        "power_type": "DC",
        "max_voltage": 920,
        "max_amperage": 400,
        "max_electric_power": 150000,
        "tariff_ids": ["T-FAST", "T-ADHOC"],
        "terms_and_conditions": "https://cpo.example.com/terms",
        "capabilities": ["ISO_15118_2_PLUG_AND_CHARGE", "ISO_15118_20_PLUG_AND_CHARGE"],
        "last_updated": _TS,
    }


def connector_min() -> dict[str, Any]:
    return {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": _TS,
    }


def evse_full() -> dict[str, Any]:
    return {
        "uid": "evse-0001",
        "evse_id": "NL*EVR*E0001*1",
        "status": "AVAILABLE",
        "status_schedule": [
            {
                "period_begin": "2024-04-01T00:00:00Z",
                "period_end": "2024-04-02T00:00:00Z",
                "status": "INOPERATIVE",
            }
        ],
        "capabilities": ["RESERVABLE", "REMOTE_START_STOP_CAPABLE", "RFID_READER"],
        "connectors": [connector_min(), connector_full()],
        "floor_level": "-1",
        "coordinates": geo(),
        "physical_reference": "Pillar 12",
        "directions": [{"language": "nl", "text": "Achter de slagboom links"}],
        "parking_restrictions": ["EV_ONLY", "EMPLOYEES"],
        "parking": [{"parking_id": "P-1", "evse_position": "LEFT"}],
        "images": [image_full()],
        "accepted_service_providers": ["Road Runner Mobility", "Volt Pass"],
        "last_updated": _TS,
    }


def evse_min() -> dict[str, Any]:
    return {"uid": "evse-0002", "status": "CHARGING", "connectors": [connector_min()], "last_updated": _TS}


def parking_full() -> dict[str, Any]:
    return {
        "id": "P-1",
        "physical_reference": "12A",
        "vehicle_types": ["PERSONAL_VEHICLE", "VAN"],
        "max_vehicle_weight": 3500,
        "max_vehicle_height": 275.5,
        "max_vehicle_length": 600,
        "max_vehicle_width": 250,
        "parking_space_length": 620,
        "parking_space_width": 300,
        "dangerous_goods_allowed": False,
        "direction": "PERPENDICULAR",
        "drive_through": False,
        "restricted_to_type": True,
        "reservation_required": False,
        "time_limit": 120,
        "roofed": True,
        "images": [image_full()],
        "lighting": True,
        "refrigeration_outlet": False,
        "standards": ["PAS 1899"],
        "apds_reference": "apds:space:rotterdam:0042",
    }


def parking_min() -> dict[str, Any]:
    return {
        "id": "P-2",
        "vehicle_types": ["MOTORCYCLE"],
        "restricted_to_type": False,
        "reservation_required": False,
    }


def business(name: str) -> dict[str, Any]:
    logo = image_full() | {"category": "OPERATOR", "type": "png"}
    return {"name": name, "website": "https://www.example.com", "logo": logo}


def location_full() -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "EVR",
        "id": "LOC-0001",
        "publish": False,
        "publish_allowed_to": [
            {"uid": "04A1B2C3D4", "type": "RFID"},
            {"visual_number": "NL-EVR-000123-4", "issuer": "Evroam Cards"},
            {"group_id": "DEPOT-WEST"},
            {
                "uid": "app-77",
                "type": "APP_USER",
                "visual_number": "77",
                "issuer": "Evroam App",
                "group_id": "DEPOT-EAST",
            },
        ],
        "name": "Depot Waalhaven",
        "address": "Waalhaven Zuidzijde 3",
        "city": "Rotterdam",
        "postal_code": "3089 JH",
        "state": "Zuid-Holland",
        "country": "NLD",
        "coordinates": geo(),
        "related_locations": [
            {"latitude": "51.9240001", "longitude": "4.47001", "name": {"language": "en", "text": "Gate B"}}
        ],
        "parking_type": "PARKING_LOT",
        "evses": [evse_full(), evse_min()],
        "parking_places": [parking_full(), parking_min()],
        "directions": [{"language": "en", "text": "Enter via gate B, chargers on the left"}],
        "operator": business("Evroam Charging"),
        "suboperator": business("Harbour Services"),
        "owner": business("Port Depot BV"),
        "facilities": ["PARKING_LOT", "WIFI", "CAFE"],
        "time_zone": "Europe/Amsterdam",
        "opening_times": hours_full(),
        "charging_when_closed": False,
        "images": [image_full()],
        "energy_mix": energy_mix_full(),
        "help_phone": "+31 10 123 4567",
        "last_updated": _TS,
    }


def location_min() -> dict[str, Any]:
    return {
        "country_code": "BE",
        "party_id": "ABC",
        "id": "L2",
        "publish": True,
        "address": "Rue de la Loi 16",
        "city": "Bruxelles",
        "country": "BEL",
        "coordinates": {"latitude": "50.84621", "longitude": "4.36667"},
        "time_zone": "Europe/Brussels",
        "last_updated": _TS,
    }


# (model, complete example, minimal example) for every object and class of the module.
EXAMPLES: list[tuple[type[OcpiModel], Callable[[], dict[str, Any]], Callable[[], dict[str, Any]]]] = [
    (Location, location_full, location_min),
    (EVSE, evse_full, evse_min),
    (Connector, connector_full, connector_min),
    (GeoLocation, geo, geo),
    (
        AdditionalGeoLocation,
        lambda: location_full()["related_locations"][0],
        lambda: {"latitude": "-33.8688197", "longitude": "151.2092955"},
    ),
    (EnergyMix, energy_mix_full, lambda: {"is_green_energy": True}),
    (
        EnergySource,
        lambda: {"source": "NUCLEAR", "percentage": 12.75},
        lambda: {"source": "COAL", "percentage": 0},
    ),
    (
        EnvironmentalImpact,
        lambda: {"category": "CARBON_DIOXIDE", "amount": 372},
        lambda: {"category": "NUCLEAR_WASTE", "amount": 0.0006},
    ),
    (
        ExceptionalPeriod,
        lambda: hours_full()["exceptional_closings"][0],
        lambda: hours_full()["exceptional_openings"][0],
    ),
    (Hours, hours_full, lambda: {"twentyfourseven": True}),
    (RegularHours, regular_hours, lambda: {"weekday": 7, "period_begin": "00:00", "period_end": "23:59"}),
    (PublishTokenType, lambda: location_full()["publish_allowed_to"][3], lambda: {"group_id": "G1"}),
    (
        StatusSchedule,
        lambda: evse_full()["status_schedule"][0],
        lambda: {"period_begin": "2024-05-01T06:00:00Z", "status": "PLANNED"},
    ),
    (Parking, parking_full, parking_min),
    (EVSEParking, lambda: {"parking_id": "P-1", "evse_position": "CENTER"}, lambda: {"parking_id": "P-9"}),
]
_IDS = [model.__name__ for model, _, _ in EXAMPLES]


def error_locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[int | str, ...]]:
    return [tuple(err["loc"]) for err in exc.value.errors()]


def assert_rejected_at(model: type[OcpiModel], data: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        model.model_validate(data)
    assert loc in error_locs(exc), f"expected an error at {loc}, got {error_locs(exc)}"


# --- complete, minimal, round trip, unknown fields --------------------------------------------------------


@pytest.mark.parametrize(("model", "full", "minimal"), EXAMPLES, ids=_IDS)
def test_complete_example_round_trips_unchanged(
    model: type[OcpiModel], full: Callable[[], dict[str, Any]], minimal: Callable[[], dict[str, Any]]
) -> None:
    assert model.model_validate(full()).to_dict() == full()


@pytest.mark.parametrize(("model", "full", "minimal"), EXAMPLES, ids=_IDS)
def test_minimal_example_round_trips_without_adding_fields(
    model: type[OcpiModel], full: Callable[[], dict[str, Any]], minimal: Callable[[], dict[str, Any]]
) -> None:
    assert model.model_validate(minimal()).to_dict() == minimal()


@pytest.mark.parametrize(("model", "full", "minimal"), EXAMPLES, ids=_IDS)
def test_unknown_fields_are_kept_round_trip(
    model: type[OcpiModel], full: Callable[[], dict[str, Any]], minimal: Callable[[], dict[str, Any]]
) -> None:
    data = minimal() | {"x_vendor_note": "kept", "x_vendor_obj": {"a": [1, 2]}}
    assert model.model_validate(data).to_dict() == data


@pytest.mark.parametrize(("model", "full", "minimal"), EXAMPLES, ids=_IDS)
def test_to_json_is_the_same_document_as_to_dict(
    model: type[OcpiModel], full: Callable[[], dict[str, Any]], minimal: Callable[[], dict[str, Any]]
) -> None:
    obj = model.model_validate(full())
    assert json.loads(obj.to_json()) == obj.to_dict()


def test_complete_location_parses_into_typed_objects() -> None:
    loc = Location.model_validate(location_full())
    assert loc.evses is not None
    evse = loc.evses[0]
    assert evse.status is Status.AVAILABLE
    assert evse.capabilities == [
        Capability.RESERVABLE,
        Capability.REMOTE_START_STOP_CAPABLE,
        Capability.RFID_READER,
    ]
    assert evse.parking_restrictions == [ParkingRestriction.EV_ONLY, ParkingRestriction.EMPLOYEES]
    assert evse.parking == [EVSEParking(parking_id="P-1", evse_position=EVSEPosition.LEFT)]
    assert evse.connectors[1].capabilities == [
        ConnectorCapability.ISO_15118_2_PLUG_AND_CHARGE,
        ConnectorCapability.ISO_15118_20_PLUG_AND_CHARGE,
    ]
    assert evse.connectors[1].max_electric_power == 150000
    assert loc.publish_allowed_to is not None
    assert loc.publish_allowed_to[0].type is TokenType.RFID
    assert loc.last_updated == datetime(2024, 3, 11, 8, 15, tzinfo=UTC)
    assert loc.energy_mix is not None
    assert loc.energy_mix.energy_sources is not None
    assert loc.energy_mix.energy_sources[0].percentage == Decimal("42.5")


def test_unknown_fields_are_kept_in_nested_objects() -> None:
    data = location_full()
    data["evses"][0]["x_evse"] = 1
    data["evses"][0]["connectors"][0]["x_connector"] = {"deep": True}
    data["coordinates"]["x_geo"] = "w"
    data["opening_times"]["regular_hours"][0]["x_rh"] = None
    data["operator"]["logo"]["x_logo"] = "l"
    out = Location.model_validate(data).to_dict()
    assert out["evses"][0]["x_evse"] == 1
    assert out["evses"][0]["connectors"][0]["x_connector"] == {"deep": True}
    assert out["coordinates"]["x_geo"] == "w"
    assert out["operator"]["logo"]["x_logo"] == "l"
    # an unknown field holding null is dropped like any absent optional
    assert "x_rh" not in out["opening_times"]["regular_hours"][0]


@pytest.mark.parametrize("value", ["absent", None, []], ids=["absent", "null", "empty"])
@pytest.mark.parametrize(
    "field",
    [
        "publish_allowed_to",
        "related_locations",
        "evses",
        "directions",
        "facilities",
        "images",
        "parking_places",
    ],
)
def test_star_lists_accept_absent_null_and_empty(field: str, value: object) -> None:
    data = location_min()
    if value != "absent":
        data[field] = value
    loc = Location.model_validate(data)
    assert getattr(loc, field) == (None if value in ("absent", None) else [])


def test_absent_optionals_are_omitted_from_output() -> None:
    out = Location.model_validate(location_min() | {"name": None, "evses": None}).to_dict()
    assert "name" not in out
    assert "evses" not in out
    # OCPI 2.2.1 mod_locations_location_object: charging_when_closed defaults to true when absent; the
    # model does not invent the field.
    assert "charging_when_closed" not in out


def test_to_json_emits_spec_json() -> None:
    raw = Location.model_validate(location_full()).to_json()
    doc = json.loads(raw)
    assert doc["last_updated"] == "2024-03-11T08:15:00Z"
    assert doc["energy_mix"]["energy_sources"][0]["percentage"] == 42.5
    assert doc["parking_places"][0]["max_vehicle_weight"] == 3500
    assert b'"42.5"' not in raw  # numbers are JSON numbers, never strings


def test_decimal_values_are_kept_exact() -> None:
    src = EnergySource.model_validate({"source": "WIND", "percentage": 33.3333333})
    assert src.percentage == Decimal("33.3333333")
    impact = EnvironmentalImpact.model_validate_json('{"category": "CARBON_DIOXIDE", "amount": 0.30000000000000004}')
    assert impact.amount == Decimal("0.30000000000000004")
    park = Parking.model_validate(parking_min() | {"time_limit": Decimal("90.125")})
    assert park.time_limit == Decimal("90.125")


# --- DateTime ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "emitted"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200Z"),
        ("2016-12-29T17:45:09.2", "2016-12-29T17:45:09.200Z"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123Z"),
        ("2018-01-01T01:08:01.123Z", "2018-01-01T01:08:01.123Z"),
    ],
)
def test_all_spec_datetime_forms_are_accepted_and_emitted_in_utc(given: str, emitted: str) -> None:
    conn = Connector.model_validate(connector_min() | {"last_updated": given})
    assert conn.last_updated.tzinfo is not None
    assert conn.to_dict()["last_updated"] == emitted
    sched = StatusSchedule.model_validate({"period_begin": given, "period_end": given, "status": "PLANNED"})
    assert sched.to_dict()["period_end"] == emitted


def test_invalid_datetime_is_rejected_at_its_field() -> None:
    assert_rejected_at(Connector, connector_min() | {"last_updated": "29-06-2015 20:39"}, ("last_updated",))
    assert_rejected_at(
        Hours,
        {
            "twentyfourseven": True,
            "exceptional_closings": [{"period_begin": "2018-12-25", "period_end": _TS}],
        },
        ("exceptional_closings", 0, "period_begin"),
    )


# --- required fields, enums, lengths and types --------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["country_code", "party_id", "id", "publish", "address", "city", "country", "coordinates", "time_zone"],
)
def test_location_required_field_missing_is_rejected(field: str) -> None:
    data = location_min()
    del data[field]
    assert_rejected_at(Location, data, (field,))


@pytest.mark.parametrize("field", ["id", "standard", "format", "power_type", "max_voltage", "max_amperage"])
def test_connector_required_field_missing_is_rejected(field: str) -> None:
    data = connector_min()
    del data[field]
    assert_rejected_at(Connector, data, (field,))


def test_location_without_last_updated_is_rejected() -> None:
    data = location_min()
    del data["last_updated"]
    assert_rejected_at(Location, data, ("last_updated",))


def test_connector_type_uses_the_spec_spelling_of_iec_60309() -> None:
    assert ConnectorType("IEC_60309_2_single_16") is ConnectorType.IEC_60309_2_single_16
    assert ConnectorType.IEC_60309_2_three_64.value == "IEC_60309_2_three_64"
    assert_rejected_at(Connector, connector_min() | {"standard": "IEC_60309_2_SINGLE_16"}, ("standard",))


@pytest.mark.parametrize("standard", ["MCS", "SAE_J3400", "CHAOJI", "PANTOGRAPH_TOP_DOWN", "NEMA_14_50", "TESLA_S"])
def test_connector_type_accepts_2_2_1_and_2_3_0_values(standard: str) -> None:
    assert Connector.model_validate(connector_min() | {"standard": standard}).standard == standard


@pytest.mark.parametrize("restriction", ["EMPLOYEES", "TAXIS", "TENANTS", "EV_ONLY", "MOTORCYCLES"])
def test_parking_restriction_accepts_2_2_1_and_2_3_0_values(restriction: str) -> None:
    evse = EVSE.model_validate(evse_min() | {"parking_restrictions": [restriction]})
    assert evse.parking_restrictions == [ParkingRestriction(restriction)]


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (EVSE, evse_min() | {"status": "BROKEN"}, ("status",)),
        (EVSE, evse_min() | {"status": "available"}, ("status",)),
        (EVSE, evse_min() | {"capabilities": ["TELEPORT"]}, ("capabilities", 0)),
        (EVSE, evse_min() | {"parking_restrictions": ["VIP"]}, ("parking_restrictions", 0)),
        (Connector, connector_min() | {"format": "PLUG"}, ("format",)),
        (Connector, connector_min() | {"power_type": "AC_4_PHASE"}, ("power_type",)),
        (Connector, connector_min() | {"capabilities": ["WIRELESS"]}, ("capabilities", 0)),
        (Location, location_min() | {"parking_type": "ROOFTOP"}, ("parking_type",)),
        (Location, location_min() | {"facilities": ["CASINO"]}, ("facilities", 0)),
        (EnergySource, {"source": "HAMSTER", "percentage": 1}, ("source",)),
        (EnvironmentalImpact, {"category": "NOISE", "amount": 1}, ("category",)),
        (PublishTokenType, {"uid": "X", "type": "NFC"}, ("type",)),
        (StatusSchedule, {"period_begin": _TS, "status": "GONE"}, ("status",)),
        (EVSEParking, {"parking_id": "P", "evse_position": "TOP"}, ("evse_position",)),
        (Parking, parking_min() | {"vehicle_types": ["TANK"]}, ("vehicle_types", 0)),
        (Parking, parking_min() | {"direction": "DIAGONAL"}, ("direction",)),
        (
            Location,
            location_min() | {"images": [image_full() | {"category": "SELFIE"}]},
            ("images", 0, "category"),
        ),
    ],
)
def test_unknown_enum_value_is_rejected(model: type[OcpiModel], data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    assert_rejected_at(model, data, loc)


@pytest.mark.parametrize(
    ("field", "max_len"),
    [
        ("country_code", 2),
        ("party_id", 3),
        ("id", 36),
        ("name", 255),
        ("address", 45),
        ("city", 45),
        ("postal_code", 10),
        ("state", 20),
        ("time_zone", 255),
        ("help_phone", 25),
    ],
)
def test_location_string_longer_than_spec_is_rejected(field: str, max_len: int) -> None:
    assert Location.model_validate(location_min() | {field: "A" * max_len})
    assert_rejected_at(Location, location_min() | {field: "A" * (max_len + 1)}, (field,))


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (EVSE, evse_min() | {"uid": "u" * 37}, ("uid",)),
        (EVSE, evse_min() | {"evse_id": "E" * 49}, ("evse_id",)),
        (EVSE, evse_min() | {"floor_level": "-1234"}, ("floor_level",)),
        (EVSE, evse_min() | {"physical_reference": "p" * 17}, ("physical_reference",)),
        (EVSE, evse_min() | {"accepted_service_providers": ["m" * 51]}, ("accepted_service_providers", 0)),
        (
            EVSE,
            evse_min() | {"directions": [{"language": "nld", "text": "x"}]},
            ("directions", 0, "language"),
        ),
        (EVSE, evse_min() | {"images": [image_full() | {"type": "jpeg2"}]}, ("images", 0, "type")),
        (Connector, connector_min() | {"id": "c" * 37}, ("id",)),
        (Connector, connector_min() | {"tariff_ids": ["t" * 37]}, ("tariff_ids", 0)),
        (
            Connector,
            connector_min() | {"terms_and_conditions": "https://x/" + "a" * 250},
            ("terms_and_conditions",),
        ),
        (EnergyMix, {"is_green_energy": True, "supplier_name": "s" * 65}, ("supplier_name",)),
        (EnergyMix, {"is_green_energy": True, "energy_product_name": "s" * 65}, ("energy_product_name",)),
        (PublishTokenType, {"uid": "u" * 37, "type": "RFID"}, ("uid",)),
        (PublishTokenType, {"visual_number": "v" * 65, "issuer": "i"}, ("visual_number",)),
        (PublishTokenType, {"visual_number": "v", "issuer": "i" * 65}, ("issuer",)),
        (PublishTokenType, {"group_id": "g" * 37}, ("group_id",)),
        (EVSEParking, {"parking_id": "p" * 37}, ("parking_id",)),
        (Parking, parking_min() | {"id": "p" * 37}, ("id",)),
        (Parking, parking_min() | {"physical_reference": "r" * 13}, ("physical_reference",)),
        (Parking, parking_min() | {"standards": ["s" * 37]}, ("standards", 0)),
        (Location, location_min() | {"operator": {"name": "n" * 101}}, ("operator", "name")),
    ],
)
def test_nested_string_longer_than_spec_is_rejected(
    model: type[OcpiModel], data: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    assert_rejected_at(model, data, loc)


@pytest.mark.parametrize("country", ["NL", "NEDERLAND", "", "NLDX"])
def test_location_country_must_be_an_alpha3_code(country: str) -> None:
    # OCPI 2.2.1 mod_locations_location_object: country is ISO 3166-1 alpha-3 (country_code is alpha-2)
    assert_rejected_at(Location, location_min() | {"country": country}, ("country",))


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "LOC-é"), ("country_code", "N\u00e9"), ("party_id", "A\tB"), ("name", "two\nlines")],
)
def test_ci_strings_and_strings_reject_forbidden_characters(field: str, value: str) -> None:
    assert_rejected_at(Location, location_min() | {field: value}, (field,))


def test_string_fields_accept_utf8() -> None:
    loc = Location.model_validate(location_min() | {"name": "Zürich Hauptbahnhof Süd", "city": "Liège"})
    assert loc.city == "Liège"


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (Location, location_min() | {"address": 12}, ("address",)),
        (Location, location_min() | {"id": 1012}, ("id",)),
        (Location, location_min() | {"publish": "true"}, ("publish",)),
        (Location, location_min() | {"publish": 1}, ("publish",)),
        (Location, location_min() | {"charging_when_closed": "no"}, ("charging_when_closed",)),
        (Location, location_min() | {"evses": {"uid": "x"}}, ("evses",)),
        (
            Location,
            location_min() | {"coordinates": {"latitude": 51.92345, "longitude": "4.47123"}},
            ("coordinates", "latitude"),
        ),
        (EVSE, evse_min() | {"physical_reference": 3}, ("physical_reference",)),
        (EVSE, evse_min() | {"floor_level": -1}, ("floor_level",)),
        (Connector, connector_min() | {"max_voltage": "230"}, ("max_voltage",)),
        (Connector, connector_min() | {"max_voltage": 230.5}, ("max_voltage",)),
        (Connector, connector_min() | {"max_amperage": True}, ("max_amperage",)),
        (Connector, connector_min() | {"max_electric_power": 22.0}, ("max_electric_power",)),
        (Connector, connector_min() | {"tariff_ids": "T1"}, ("tariff_ids",)),
        (RegularHours, {"weekday": "1", "period_begin": "08:00", "period_end": "09:00"}, ("weekday",)),
        (EnergyMix, {"is_green_energy": "yes"}, ("is_green_energy",)),
        (Hours, {"twentyfourseven": 1}, ("twentyfourseven",)),
        (Parking, parking_min() | {"restricted_to_type": "false"}, ("restricted_to_type",)),
        (Parking, parking_min() | {"max_vehicle_weight": "heavy"}, ("max_vehicle_weight",)),
    ],
)
def test_wrong_json_type_is_rejected(model: type[OcpiModel], data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    assert_rejected_at(model, data, loc)


# --- GeoLocation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        ("50.770774", "-126.104965"),
        ("0.00000", "0.00000"),
        ("-9.1234567", "-179.1234567"),
        ("-33.8688197", "151.2092955"),  # 11 / 12 characters: the regex allows it, see GeoLocation
    ],
)
def test_geolocation_accepts_spec_regex(latitude: str, longitude: str) -> None:
    assert GeoLocation.model_validate({"latitude": latitude, "longitude": longitude}).latitude == latitude


@pytest.mark.parametrize(
    "latitude",
    [
        "51.9234",
        "51.92345678",
        "151.92345",
        "51,923456",
        "+51.923456",
        "51923456",
        " 51.923456",
        "51.923456\n",
        "N51",
    ],
)
def test_geolocation_rejects_latitude_outside_regex(latitude: str) -> None:
    assert_rejected_at(GeoLocation, {"latitude": latitude, "longitude": "4.47123"}, ("latitude",))


@pytest.mark.parametrize("longitude", ["4.4712", "1234.47123", "4.471234567", "4,47123", "E4.47123", ""])
def test_geolocation_rejects_longitude_outside_regex(longitude: str) -> None:
    assert_rejected_at(GeoLocation, {"latitude": "51.92345", "longitude": longitude}, ("longitude",))


def test_additional_geolocation_applies_the_same_regexes() -> None:
    assert_rejected_at(AdditionalGeoLocation, {"latitude": "51.9", "longitude": "4.47123"}, ("latitude",))
    assert_rejected_at(AdditionalGeoLocation, {"latitude": "51.92345", "longitude": "4.4"}, ("longitude",))
    data = location_min() | {"related_locations": [{"latitude": "51.92345", "longitude": "4.4"}]}
    assert_rejected_at(Location, data, ("related_locations", 0, "longitude"))


def test_evse_coordinates_are_validated_in_place() -> None:
    data = location_min() | {"evses": [evse_min() | {"coordinates": {"latitude": "x", "longitude": "4.47123"}}]}
    assert_rejected_at(Location, data, ("evses", 0, "coordinates", "latitude"))


# --- Hours and RegularHours ---------------------------------------------------------------------------------


@pytest.mark.parametrize("weekday", [0, 8, -1, 10])
def test_regular_hours_weekday_outside_1_to_7_is_rejected(weekday: int) -> None:
    assert_rejected_at(RegularHours, regular_hours() | {"weekday": weekday}, ("weekday",))


@pytest.mark.parametrize("weekday", [1, 2, 3, 4, 5, 6, 7])
def test_regular_hours_weekday_1_to_7_is_accepted(weekday: int) -> None:
    assert RegularHours.model_validate(regular_hours() | {"weekday": weekday}).weekday == weekday


@pytest.mark.parametrize("field", ["period_begin", "period_end"])
@pytest.mark.parametrize("value", ["8:00", "24:00", "12:60", "1200", "12:00:00", "ab:cd", "", " 08:00"])
def test_regular_hours_period_must_match_time_pattern(field: str, value: str) -> None:
    data = {"weekday": 1, "period_begin": "00:00", "period_end": "23:59"} | {field: value}
    assert_rejected_at(RegularHours, data, (field,))


@pytest.mark.parametrize(("begin", "end"), [("18:00", "08:00"), ("12:00", "12:00"), ("23:59", "00:00")])
def test_regular_hours_period_end_must_be_later_than_begin(begin: str, end: str) -> None:
    with pytest.raises(ValidationError) as exc:
        RegularHours.model_validate({"weekday": 1, "period_begin": begin, "period_end": end})
    assert error_locs(exc) == [("period_end",)]
    assert "later than period_begin" in exc.value.errors()[0]["msg"]


@pytest.mark.parametrize("regular", ["absent", None, []], ids=["absent", "null", "empty"])
def test_hours_without_twentyfourseven_requires_regular_hours(regular: object) -> None:
    data: dict[str, Any] = {"twentyfourseven": False}
    if regular != "absent":
        data["regular_hours"] = regular
    with pytest.raises(ValidationError) as exc:
        Hours.model_validate(data)
    assert error_locs(exc) == [("regular_hours",)]
    assert "twentyfourseven" in exc.value.errors()[0]["msg"]


def test_hours_requirement_is_reported_inside_the_location() -> None:
    data = location_min() | {"opening_times": {"twentyfourseven": False}}
    assert_rejected_at(Location, data, ("opening_times", "regular_hours"))


def test_hours_twentyfourseven_does_not_require_regular_hours() -> None:
    assert Hours.model_validate({"twentyfourseven": True}).regular_hours is None


def test_hours_twentyfourseven_with_regular_hours_is_tolerated() -> None:
    # OCPI 2.2.1 mod_locations_hours_class: regular_hours "only to be used if twentyfourseven=false";
    # advisory, so tolerated rather than rejected.
    hours = Hours.model_validate({"twentyfourseven": True, "regular_hours": [regular_hours()]})
    assert hours.regular_hours is not None


def test_hours_invalid_regular_hours_entry_is_located() -> None:
    data = hours_full()
    data["regular_hours"][1]["period_end"] = "08:00"
    assert_rejected_at(Hours, data, ("regular_hours", 1, "period_end"))


# --- PublishTokenType and publish ---------------------------------------------------------------------------


def test_publish_token_needs_uid_visual_number_or_group_id() -> None:
    with pytest.raises(ValidationError) as exc:
        PublishTokenType.model_validate({"type": "RFID", "issuer": "Someone"})
    assert error_locs(exc) == [("uid",)]
    assert "at least one of uid, visual_number or group_id" in exc.value.errors()[0]["msg"]


def test_publish_token_uid_requires_type() -> None:
    with pytest.raises(ValidationError) as exc:
        PublishTokenType.model_validate({"uid": "04A1B2C3D4"})
    assert error_locs(exc) == [("type",)]


def test_publish_token_visual_number_requires_issuer() -> None:
    with pytest.raises(ValidationError) as exc:
        PublishTokenType.model_validate({"visual_number": "NL-EVR-1"})
    assert error_locs(exc) == [("issuer",)]


@pytest.mark.parametrize(
    "token",
    [
        {"uid": "04A1", "type": "RFID"},
        {"visual_number": "123", "issuer": "X"},
        {"group_id": "G"},
        {"uid": "u", "type": "EMAID"},
    ],
)
def test_publish_token_valid_combinations_are_accepted(token: dict[str, Any]) -> None:
    assert PublishTokenType.model_validate(token).to_dict() == token


def test_publish_token_rules_are_reported_inside_the_location() -> None:
    data = location_min() | {"publish": False, "publish_allowed_to": [{"group_id": "G"}, {"uid": "u"}]}
    assert_rejected_at(Location, data, ("publish_allowed_to", 1, "type"))


def test_publish_allowed_to_only_when_publish_is_false() -> None:
    data = location_min() | {"publish": True, "publish_allowed_to": [{"group_id": "G"}]}
    with pytest.raises(ValidationError) as exc:
        Location.model_validate(data)
    assert error_locs(exc) == [("publish_allowed_to",)]
    assert "publish is false" in exc.value.errors()[0]["msg"]


def test_publish_true_with_empty_publish_allowed_to_is_accepted() -> None:
    assert Location.model_validate(location_min() | {"publish": True, "publish_allowed_to": []})


def test_unpublished_location_without_allowed_tokens_is_accepted() -> None:
    assert Location.model_validate(location_min() | {"publish": False}).publish is False


# --- EVSE, connectors, uniqueness ---------------------------------------------------------------------------


def test_evse_needs_at_least_one_connector() -> None:
    assert_rejected_at(EVSE, evse_min() | {"connectors": []}, ("connectors",))
    data = evse_min()
    del data["connectors"]
    assert_rejected_at(EVSE, data, ("connectors",))
    assert_rejected_at(EVSE, evse_min() | {"connectors": None}, ("connectors",))


def test_evse_without_connector_is_reported_inside_the_location() -> None:
    data = location_min() | {"evses": [evse_full(), evse_min() | {"connectors": []}]}
    assert_rejected_at(Location, data, ("evses", 1, "connectors"))


def test_evse_connector_ids_must_be_unique_case_insensitively() -> None:
    data = evse_min() | {"connectors": [connector_min(), connector_full() | {"id": "1"}]}
    assert_rejected_at(EVSE, data, ("connectors", 1, "id"))
    data = evse_min() | {"connectors": [connector_min() | {"id": "a"}, connector_full() | {"id": "A"}]}
    assert_rejected_at(EVSE, data, ("connectors", 1, "id"))


def test_connector_ids_may_repeat_across_evses() -> None:
    assert Location.model_validate(location_min() | {"evses": [evse_full(), evse_min()]})


def test_location_evse_uids_must_be_unique() -> None:
    data = location_min() | {"evses": [evse_min(), evse_full() | {"uid": "EVSE-0002"}]}
    assert_rejected_at(Location, data, ("evses", 1, "uid"))


def test_location_parking_ids_must_be_unique() -> None:
    data = location_min() | {"parking_places": [parking_full(), parking_min() | {"id": "p-1"}]}
    assert_rejected_at(Location, data, ("parking_places", 1, "id"))


def test_removed_evse_may_drop_its_evse_id() -> None:
    evse = EVSE.model_validate(evse_min() | {"status": "REMOVED"})
    assert evse.status is Status.REMOVED
    assert evse.evse_id is None


# --- EnergyMix and Image ------------------------------------------------------------------------------------


@pytest.mark.parametrize("percentage", [-1, -0.0001, 100.0001, 250])
def test_energy_source_percentage_outside_0_to_100_is_rejected(percentage: float) -> None:
    with pytest.raises(ValidationError) as exc:
        EnergySource.model_validate({"source": "WIND", "percentage": percentage})
    assert error_locs(exc) == [("percentage",)]
    assert "between 0 and 100" in exc.value.errors()[0]["msg"]


@pytest.mark.parametrize("percentage", [0, 0.5, 100])
def test_energy_source_percentage_bounds_are_inclusive(percentage: float) -> None:
    assert EnergySource.model_validate({"source": "WIND", "percentage": percentage})


def test_energy_source_percentage_is_reported_inside_the_location() -> None:
    mix = energy_mix_full()
    mix["energy_sources"][2]["percentage"] = 101
    assert_rejected_at(
        Location, location_min() | {"energy_mix": mix}, ("energy_mix", "energy_sources", 2, "percentage")
    )


def test_image_type_is_a_cistring_4() -> None:
    data = location_min() | {"images": [image_full() | {"type": "image/png"}]}
    assert_rejected_at(Location, data, ("images", 0, "type"))
    data = location_min() | {"images": [{k: v for k, v in image_full().items() if k != "type"}]}
    assert_rejected_at(Location, data, ("images", 0, "type"))
    assert Location.model_validate(location_min() | {"images": [image_full() | {"type": "svg"}]})


def test_image_width_is_int5() -> None:
    data = location_min() | {"images": [image_full() | {"width": 100000}]}
    assert_rejected_at(Location, data, ("images", 0, "width"))


# --- Parking (2.3.0) ----------------------------------------------------------------------------------------


def test_parking_needs_at_least_one_vehicle_type() -> None:
    assert_rejected_at(Parking, parking_min() | {"vehicle_types": []}, ("vehicle_types",))


@pytest.mark.parametrize("field", ["id", "vehicle_types", "restricted_to_type", "reservation_required"])
def test_parking_required_field_missing_is_rejected(field: str) -> None:
    data = parking_min()
    del data[field]
    assert_rejected_at(Parking, data, (field,))


def test_location_2_3_0_fields_are_optional() -> None:
    loc = Location.model_validate(location_min())
    assert loc.parking_places is None
    assert loc.help_phone is None


# --- the spec's own examples --------------------------------------------------------------------------------

_SPEC_EXAMPLES = Path("/work/shared/ocpi-reference/spec-examples/2.2.1")
# Listed as known errata in ocpi-reference/README.md; these must NOT validate.
_KNOWN_INVALID = {
    # uses `floor` (not floor_level), a number for physical_reference, connector lacks required fields
    "location_put_example_add_evse.json": EVSE,
}


def _location_example_files() -> list[str]:
    if not _SPEC_EXAMPLES.is_dir():
        return []
    return sorted(p.name for p in _SPEC_EXAMPLES.glob("location_*.json"))


def _location_example_target(name: str, data: dict[str, Any]) -> tuple[type[OcpiModel], Any]:
    """The class an example file holds, unwrapping the files that show one field of a larger object."""
    if name.startswith("location_example"):
        return Location, data
    if name.startswith("location_energymix_example"):
        return EnergyMix, data["energy_mix"]  # wrapper {"energy_mix": ...}
    if name.startswith("location_hours_"):
        return Hours, data
    if name == "location_regularhours_example.json":
        return Hours, data["opening_times"]  # wrapper {"opening_times": ...}
    if name.startswith("location_put_example"):
        return EVSE, data
    # PATCH bodies are partial objects: apply them to a complete object of the type the URL depth names.
    if name == "location_patch_example_location.json":
        return Location, location_min() | data
    if name in ("location_patch_example_status.json", "location_patch_example_remove_evse.json"):
        return EVSE, evse_min() | data
    if name == "location_patch_example_tariff.json":
        return Connector, connector_min() | data
    raise AssertionError(f"no target class known for spec example {name}")


@pytest.mark.parametrize("name", _location_example_files() or ["<absent>"])
def test_spec_location_examples_validate(name: str) -> None:
    if not _SPEC_EXAMPLES.is_dir():
        pytest.skip(f"{_SPEC_EXAMPLES} not present")
    data = json.loads((_SPEC_EXAMPLES / name).read_text())
    model, target = _location_example_target(name, data)
    if name in _KNOWN_INVALID:
        with pytest.raises(ValidationError):
            model.model_validate(target)
        return
    parsed = model.model_validate(target)
    assert json.loads(parsed.to_json()) == parsed.to_dict()
