"""Unit tests of the canonical CDRs models (CDR and its classes, CDR enums and rules)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from evroam.modules.cdrs.models import (
    CDR,
    SESSION_ONLY_DIMENSIONS,
    AuthMethod,
    CdrDimension,
    CdrDimensionType,
    CdrLocation,
    CdrToken,
    ChargingPeriod,
    SignedData,
    SignedValue,
)
from evroam.modules.locations.models import ConnectorType, PowerType
from evroam.modules.tariffs.models import Tariff
from evroam.modules.tokens.models import TokenType

from support.dicts import with_fields as _with
from support.dicts import without_fields as _without

SPEC_EXAMPLES = Path("/work/shared/ocpi-reference/spec-examples/2.2.1")

CDR_TOKEN: dict[str, Any] = {
    "country_code": "FR",
    "party_id": "MSP",
    "uid": "7E11A4C2",
    "type": "RFID",
    "contract_id": "FR-MSP-C99887766-1",
}

CDR_LOCATION: dict[str, Any] = {
    "id": "LOC-LYON-3",
    "name": "Parking Part-Dieu Niveau -1",
    "address": "17 Rue du Docteur Bouchut",
    "city": "Lyon",
    "postal_code": "69003",
    "state": "Rhone",
    "country": "FRA",
    "coordinates": {"latitude": "45.760580", "longitude": "4.859120"},
    "evse_uid": "EVSE-3-A",
    "evse_id": "FR*CPX*E3A0001",
    "connector_id": "1",
    "connector_standard": "IEC_62196_T2_COMBO",
    "connector_format": "CABLE",
    "connector_power_type": "DC",
}

TARIFF: dict[str, Any] = {
    "country_code": "FR",
    "party_id": "CPX",
    "id": "TAR-DC-1",
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.45, "vat": 20.0, "step_size": 1}]},
        {"price_components": [{"type": "PARKING_TIME", "price": 6.0, "vat": 20.0, "step_size": 60}]},
    ],
    "last_updated": "2022-01-01T00:00:00Z",
}

SIGNED_DATA: dict[str, Any] = {
    "encoding_method": "OCMF",
    "encoding_method_version": 1,
    "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7q1Zb2b3Q==",
    "signed_values": [
        {"nature": "Start", "plain_data": "OCMF|{...start...}", "signed_data": "c3RhcnQtc2lnbmF0dXJl"},
        {"nature": "End", "plain_data": "OCMF|{...end...}", "signed_data": "ZW5kLXNpZ25hdHVyZQ=="},
    ],
    "url": "https://transparency.example.org/verify/abc",
}

CDR_FULL: dict[str, Any] = {
    "country_code": "FR",
    "party_id": "CPX",
    "id": "cdr-2022-000417",
    "start_date_time": "2022-05-17T10:02:11Z",
    "end_date_time": "2022-05-17T10:47:59Z",
    "session_id": "sess-000417",
    "cdr_token": CDR_TOKEN,
    "auth_method": "COMMAND",
    "authorization_reference": "msp-auth-4411",
    "cdr_location": CDR_LOCATION,
    "meter_id": "DC-MTR-42",
    "currency": "EUR",
    "tariffs": [TARIFF],
    "charging_periods": [
        {
            "start_date_time": "2022-05-17T10:02:11Z",
            "dimensions": [
                {"type": "ENERGY", "volume": 38.215},
                {"type": "MAX_POWER", "volume": 120.5},
                {"type": "MIN_POWER", "volume": 22.1},
                {"type": "TIME", "volume": 0.6},
            ],
            "tariff_id": "TAR-DC-1",
        },
        {
            "start_date_time": "2022-05-17T10:38:11Z",
            "dimensions": [
                {"type": "PARKING_TIME", "volume": 0.163},
                {"type": "MAX_CURRENT", "volume": 0.5},
                {"type": "MIN_CURRENT", "volume": 0.1},
                {"type": "RESERVATION_TIME", "volume": 0.25},
            ],
            "tariff_id": "TAR-DC-1",
        },
    ],
    "signed_data": SIGNED_DATA,
    "total_cost": {"excl_vat": 18.17, "incl_vat": 21.8},
    "total_fixed_cost": {"excl_vat": 0.5, "incl_vat": 0.6},
    "total_energy": 38.215,
    "total_energy_cost": {"excl_vat": 17.2, "incl_vat": 20.64},
    "total_time": 0.763,
    "total_time_cost": {"excl_vat": 0.22, "incl_vat": 0.26},
    "total_parking_time": 0.163,
    "total_parking_cost": {"excl_vat": 0.98, "incl_vat": 1.18},
    "total_reservation_cost": {"excl_vat": 0.25, "incl_vat": 0.3},
    "remark": "Stopped by the driver via the app",
    "invoice_reference_id": "INV-2022-05-0042",
    "home_charging_compensation": False,
    "last_updated": "2022-05-17T10:50:00Z",
}

CDR_MIN: dict[str, Any] = {
    "country_code": "FR",
    "party_id": "CPX",
    "id": "cdr-1",
    "start_date_time": "2022-05-17T10:02:11Z",
    "end_date_time": "2022-05-17T10:47:59Z",
    "cdr_token": CDR_TOKEN,
    "auth_method": "WHITELIST",
    "cdr_location": {key: value for key, value in CDR_LOCATION.items() if key not in ("name", "postal_code", "state")},
    "currency": "EUR",
    "charging_periods": [{"start_date_time": "2022-05-17T10:02:11Z", "dimensions": [{"type": "ENERGY", "volume": 5}]}],
    "total_cost": {"excl_vat": 2.25},
    "total_energy": 5,
    "total_time": 0.75,
    "last_updated": "2022-05-17T10:50:00Z",
}

CDR_REQUIRED = [
    "country_code",
    "party_id",
    "id",
    "start_date_time",
    "end_date_time",
    "cdr_token",
    "auth_method",
    "cdr_location",
    "currency",
    "charging_periods",
    "total_cost",
    "total_energy",
    "total_time",
    "last_updated",
]

CDR_LOCATION_REQUIRED = [
    "id",
    "address",
    "city",
    "country",
    "coordinates",
    "evse_uid",
    "evse_id",
    "connector_id",
    "connector_standard",
    "connector_format",
    "connector_power_type",
]


def _errors(model: type[BaseModel], data: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [dict(error) for error in info.value.errors()]


def _error_locs(model: type[BaseModel], data: Any) -> list[tuple[str | int, ...]]:
    return [tuple(error["loc"]) for error in _errors(model, data)]


def _credit_of(original: dict[str, Any], suffix: str = "-C") -> dict[str, Any]:
    """A credit CDR for `original`: new id, credit=true, reference to the original, negated total_cost."""
    credit = copy.deepcopy(original)
    credit["id"] = original["id"] + suffix
    credit["credit"] = True
    credit["credit_reference_id"] = original["id"]
    credit["total_cost"] = {key: -value for key, value in original["total_cost"].items()}
    return credit


# --- CDR: valid examples and serialisation -----------------------------------------------------


def test_complete_cdr_is_valid() -> None:
    cdr = CDR.model_validate(CDR_FULL)
    assert cdr.auth_method is AuthMethod.COMMAND
    assert isinstance(cdr.cdr_token, CdrToken)
    assert isinstance(cdr.cdr_location, CdrLocation)
    assert cdr.cdr_location.connector_standard is ConnectorType.IEC_62196_T2_COMBO
    assert cdr.cdr_location.connector_power_type is PowerType.DC
    assert cdr.tariffs is not None
    assert isinstance(cdr.tariffs[0], Tariff)
    assert cdr.signed_data is not None
    assert isinstance(cdr.signed_data.signed_values[1], SignedValue)
    assert cdr.total_energy == Decimal("38.215")
    assert cdr.home_charging_compensation is False


def test_minimal_cdr_is_valid_and_omits_absent_optionals() -> None:
    cdr = CDR.model_validate(CDR_MIN)
    assert cdr.session_id is None
    assert cdr.tariffs is None
    assert cdr.credit is None
    dumped = cdr.to_dict()
    for absent in (
        "session_id",
        "authorization_reference",
        "meter_id",
        "tariffs",
        "signed_data",
        "total_fixed_cost",
        "total_energy_cost",
        "total_time_cost",
        "total_parking_time",
        "total_parking_cost",
        "total_reservation_cost",
        "remark",
        "invoice_reference_id",
        "credit",
        "credit_reference_id",
        "home_charging_compensation",
    ):
        assert absent not in dumped
    assert "incl_vat" not in dumped["total_cost"]
    assert "name" not in dumped["cdr_location"]


@pytest.mark.parametrize("fixture", [CDR_FULL, CDR_MIN], ids=["complete", "minimal"])
def test_cdr_round_trip_equals_input(fixture: dict[str, Any]) -> None:
    cdr = CDR.model_validate(fixture)
    assert cdr.to_dict() == fixture
    assert json.loads(cdr.to_json()) == fixture
    assert CDR.model_validate_json(cdr.to_json()) == cdr


def test_cdr_keeps_unknown_fields_at_every_level() -> None:
    data = copy.deepcopy(CDR_FULL)
    data["x_billing_batch"] = "B-17"
    data["cdr_token"]["x_card_label"] = "blue"
    data["cdr_location"]["x_floor"] = "-1"
    data["cdr_location"]["coordinates"]["x_accuracy_m"] = 4
    data["charging_periods"][1]["dimensions"][0]["x_estimated"] = True
    data["signed_data"]["signed_values"][0]["x_meter_serial"] = "SN-1"
    data["tariffs"][0]["x_tariff_group"] = "dc"
    data["total_energy_cost"]["x_note"] = "rounded"
    assert CDR.model_validate(data).to_dict() == data


@pytest.mark.parametrize(
    ("given", "emitted"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200Z"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123Z"),
    ],
)
def test_cdr_accepts_every_spec_datetime_form(given: str, emitted: str) -> None:
    data = _with(CDR_MIN, start_date_time=given, end_date_time=given, last_updated=given)
    data["charging_periods"][0]["start_date_time"] = given
    dumped = CDR.model_validate(data).to_dict()
    assert [
        dumped["start_date_time"],
        dumped["end_date_time"],
        dumped["last_updated"],
        dumped["charging_periods"][0]["start_date_time"],
    ] == [emitted] * 4


def test_cdr_keeps_decimals_exact() -> None:
    raw = json.dumps(
        _with(CDR_MIN, total_energy=15.342, total_time=1.973, total_cost={"excl_vat": 0.1, "incl_vat": 0.2})
    )
    cdr = CDR.model_validate_json(raw)
    assert cdr.total_energy == Decimal("15.342")
    assert cdr.total_time == Decimal("1.973")
    assert cdr.total_cost.incl_vat is not None
    assert cdr.total_cost.excl_vat + cdr.total_cost.incl_vat == Decimal("0.3")
    assert json.loads(cdr.to_json())["total_energy"] == 15.342


# --- CDR id and credit rules -------------------------------------------------------------------


def test_regular_cdr_id_may_have_36_characters() -> None:
    assert CDR.model_validate(_with(CDR_MIN, id="c" * 36)).id == "c" * 36


@pytest.mark.parametrize("credit", [None, False])
def test_regular_cdr_id_longer_than_36_is_rejected(credit: bool | None) -> None:
    data = _with(CDR_MIN, id="c" * 37)
    if credit is not None:
        data["credit"] = credit
    errors = _errors(CDR, data)
    assert [tuple(e["loc"]) for e in errors] == [("id",)]
    assert "36" in errors[0]["msg"]


def test_credit_cdr_id_may_have_39_characters() -> None:
    original = _with(CDR_FULL, id="9f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f")
    credit = _credit_of(original, suffix="-CR")
    assert len(credit["id"]) == 39
    assert CDR.model_validate(credit).id == credit["id"]


def test_credit_cdr_id_longer_than_39_is_rejected() -> None:
    credit = _with(_credit_of(CDR_MIN), id="c" * 40)
    assert ("id",) in _error_locs(CDR, credit)


def test_credit_cdr_requires_credit_reference_id() -> None:
    data = _without(_credit_of(CDR_MIN), "credit_reference_id")
    errors = _errors(CDR, data)
    assert [tuple(e["loc"]) for e in errors] == [("credit_reference_id",)]
    assert "credit" in errors[0]["msg"]


def test_credit_reference_id_alone_does_not_allow_a_long_id() -> None:
    # Only `credit: true` makes a CDR a credit CDR; a reference without it leaves the 36 limit in place.
    data = _with(CDR_MIN, id="c" * 37, credit_reference_id="cdr-1")
    assert _error_locs(CDR, data) == [("id",)]


def test_negative_total_cost_is_accepted_on_a_credit_cdr() -> None:
    credit = _credit_of(CDR_FULL)
    cdr = CDR.model_validate(credit)
    assert cdr.credit is True
    assert cdr.credit_reference_id == CDR_FULL["id"]
    assert cdr.total_cost.excl_vat == Decimal("-18.17")
    assert cdr.total_cost.incl_vat == Decimal("-21.8")
    assert cdr.to_dict()["total_cost"] == {"excl_vat": -18.17, "incl_vat": -21.8}


def test_credit_cdr_round_trip_equals_input() -> None:
    credit = _credit_of(CDR_FULL)
    assert CDR.model_validate(credit).to_dict() == credit


@pytest.mark.parametrize(("field", "value"), [("credit", "true"), ("credit", 1), ("home_charging_compensation", "no")])
def test_cdr_booleans_must_be_json_booleans(field: str, value: Any) -> None:
    assert (field,) in _error_locs(CDR, _with(CDR_MIN, **{field: value}))


# --- CDR charging periods ----------------------------------------------------------------------


def test_cdr_requires_at_least_one_charging_period() -> None:
    assert ("charging_periods",) in _error_locs(CDR, _with(CDR_MIN, charging_periods=[]))


def test_cdr_charging_period_requires_at_least_one_dimension() -> None:
    data = _with(CDR_MIN, charging_periods=[{"start_date_time": "2022-05-17T10:02:11Z", "dimensions": []}])
    assert ("charging_periods", 0, "dimensions") in _error_locs(CDR, data)


@pytest.mark.parametrize("dimension", sorted(SESSION_ONLY_DIMENSIONS))
def test_cdr_rejects_session_only_dimension(dimension: CdrDimensionType) -> None:
    data = copy.deepcopy(CDR_FULL)
    data["charging_periods"][1]["dimensions"].append({"type": dimension.value, "volume": 10})
    errors = _errors(CDR, data)
    assert [tuple(e["loc"]) for e in errors] == [("charging_periods", 1, "dimensions", 4, "type")]
    assert dimension.value in errors[0]["msg"]
    assert "Session" in errors[0]["msg"]


def test_cdr_reports_every_session_only_dimension() -> None:
    data = copy.deepcopy(CDR_MIN)
    data["charging_periods"] = [
        {"start_date_time": "2022-05-17T10:02:11Z", "dimensions": [{"type": "POWER", "volume": 11}]},
        {
            "start_date_time": "2022-05-17T10:12:11Z",
            "dimensions": [{"type": "ENERGY", "volume": 1}, {"type": "STATE_OF_CHARGE", "volume": 80}],
        },
    ]
    assert _error_locs(CDR, data) == [
        ("charging_periods", 0, "dimensions", 0, "type"),
        ("charging_periods", 1, "dimensions", 1, "type"),
    ]


def test_session_only_dimensions_are_exactly_the_ones_the_spec_marks() -> None:
    assert {d.value for d in SESSION_ONLY_DIMENSIONS} == {
        "CURRENT",
        "ENERGY_EXPORT",
        "ENERGY_IMPORT",
        "POWER",
        "STATE_OF_CHARGE",
    }


def test_charging_period_on_its_own_accepts_session_only_dimensions() -> None:
    # The rule belongs to the CDR: the same ChargingPeriod class serves Sessions, where they are allowed.
    period = ChargingPeriod.model_validate(
        {"start_date_time": "2022-05-17T10:02:11Z", "dimensions": [{"type": "CURRENT", "volume": 16}]}
    )
    assert period.dimensions[0].type is CdrDimensionType.CURRENT


def test_energy_dimension_may_be_negative() -> None:
    # mod_cdrs_cdrdimensiontype_enum: a negative ENERGY volume means more energy was fed back than charged.
    assert CdrDimension.model_validate({"type": "ENERGY", "volume": -1.5}).volume == Decimal("-1.5")


@pytest.mark.parametrize(("volume", "valid"), [(0, True), (100, True), (55.5, True), (-1, False), (100.1, False)])
def test_state_of_charge_is_a_percentage(volume: float, valid: bool) -> None:
    data = {"type": "STATE_OF_CHARGE", "volume": volume}
    if valid:
        assert CdrDimension.model_validate(data).volume == Decimal(str(volume))
    else:
        assert _error_locs(CdrDimension, data) == [("volume",)]


def test_charging_period_tariff_id_is_at_most_36_characters() -> None:
    data = copy.deepcopy(CDR_MIN)
    data["charging_periods"][0]["tariff_id"] = "t" * 37
    assert ("charging_periods", 0, "tariff_id") in _error_locs(CDR, data)


# --- CDR: required fields, lengths, enums and types --------------------------------------------


@pytest.mark.parametrize("field", CDR_REQUIRED)
def test_cdr_rejects_missing_required_field(field: str) -> None:
    assert (field,) in _error_locs(CDR, _without(CDR_FULL, field))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country_code", "FRA"),
        ("party_id", "CPXX"),
        ("id", "c" * 40),
        ("session_id", "s" * 37),
        ("authorization_reference", "a" * 37),
        ("meter_id", "m" * 256),
        ("currency", "EURO"),
        ("currency", "EU"),
        ("remark", "r" * 256),
        ("invoice_reference_id", "i" * 40),
        ("credit_reference_id", "c" * 40),
    ],
)
def test_cdr_rejects_bad_string_lengths(field: str, value: str) -> None:
    assert (field,) in _error_locs(CDR, _with(CDR_FULL, **{field: value}))


def test_cdr_rejects_unknown_auth_method() -> None:
    assert ("auth_method",) in _error_locs(CDR, _with(CDR_MIN, auth_method="PLUG_AND_CHARGE"))


def test_cdr_rejects_flat_dimension_removed_since_2_2() -> None:
    data = copy.deepcopy(CDR_MIN)
    data["charging_periods"][0]["dimensions"] = [{"type": "FLAT", "volume": 1}]
    assert ("charging_periods", 0, "dimensions", 0, "type") in _error_locs(CDR, data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_energy", "15 kWh"),
        ("total_time", None),
        ("total_parking_time", [1]),
        ("end_date_time", "2022-13-01T00:00:00Z"),
        ("charging_periods", "none"),
        ("tariffs", {"id": "x"}),
        ("cdr_location", []),
        ("total_cost", "18.17"),
    ],
)
def test_cdr_rejects_wrong_types(field: str, value: Any) -> None:
    assert (field,) in _error_locs(CDR, _with(CDR_MIN, **{field: value}))


def test_cdr_rejects_an_invalid_embedded_tariff() -> None:
    data = copy.deepcopy(CDR_FULL)
    del data["tariffs"][0]["elements"]
    assert ("tariffs", 0, "elements") in _error_locs(CDR, data)


# --- CdrToken ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["country_code", "party_id", "uid", "type", "contract_id"])
def test_cdr_token_requires_every_field(field: str) -> None:
    assert _error_locs(CdrToken, _without(CDR_TOKEN, field)) == [(field,)]


def test_cdr_token_round_trip_and_unknown_fields() -> None:
    data = _with(CDR_TOKEN, x_source="whitelist")
    token = CdrToken.model_validate(data)
    assert token.type is TokenType.RFID
    assert token.to_dict() == data


@pytest.mark.parametrize("token_type", ["AD_HOC_USER", "APP_USER", "OTHER", "RFID", "EMAID"])
def test_cdr_token_accepts_every_token_type(token_type: str) -> None:
    assert CdrToken.model_validate(_with(CDR_TOKEN, type=token_type)).type.value == token_type


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "BADGE"), ("uid", "u" * 37), ("contract_id", "c" * 37), ("country_code", "FRA"), ("party_id", 12)],
)
def test_cdr_token_rejects_invalid_values(field: str, value: Any) -> None:
    assert (field,) in _error_locs(CdrToken, _with(CDR_TOKEN, **{field: value}))


# --- CdrLocation ---------------------------------------------------------------------------------


def test_cdr_location_round_trip_equals_input() -> None:
    assert CdrLocation.model_validate(CDR_LOCATION).to_dict() == CDR_LOCATION


def test_reservation_only_cdr_accepts_na_evse_fields() -> None:
    # OCPI 2.2.1 mod_cdrs_cdr_location_class: a CDR for a reservation that never became a session may
    # use "#NA" for evse_uid, evse_id and connector_id, and has no session_id.
    data = copy.deepcopy(CDR_MIN)
    assert "session_id" not in data
    data["cdr_location"].update(evse_uid="#NA", evse_id="#NA", connector_id="#NA")
    data["charging_periods"] = [
        {"start_date_time": "2022-05-17T10:02:11Z", "dimensions": [{"type": "RESERVATION_TIME", "volume": 0.25}]}
    ]
    cdr = CDR.model_validate(data)
    assert (cdr.cdr_location.evse_uid, cdr.cdr_location.evse_id, cdr.cdr_location.connector_id) == ("#NA",) * 3
    assert cdr.to_dict() == data


@pytest.mark.parametrize("field", CDR_LOCATION_REQUIRED)
def test_cdr_location_rejects_missing_required_field(field: str) -> None:
    assert (field,) in _error_locs(CdrLocation, _without(CDR_LOCATION, field))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "l" * 37),
        ("name", "n" * 256),
        ("address", "a" * 46),
        ("city", "c" * 46),
        ("postal_code", "p" * 11),
        ("state", "s" * 21),
        ("country", "FRAN"),
        ("country", "FR"),
        ("evse_uid", "e" * 37),
        ("evse_id", "e" * 49),
        ("connector_id", "c" * 37),
        ("connector_standard", "TYPE2"),
        ("connector_format", "PLUG"),
        ("connector_power_type", "AC"),
    ],
)
def test_cdr_location_rejects_invalid_values(field: str, value: str) -> None:
    assert (field,) in _error_locs(CdrLocation, _with(CDR_LOCATION, **{field: value}))


def test_cdr_location_evse_id_may_have_48_characters() -> None:
    assert CdrLocation.model_validate(_with(CDR_LOCATION, evse_id="E" * 48)).evse_id == "E" * 48


def test_cdr_location_rejects_malformed_coordinates() -> None:
    data = copy.deepcopy(CDR_MIN)
    data["cdr_location"]["coordinates"] = {"latitude": "45.7", "longitude": "4.859120"}
    assert ("cdr_location", "coordinates", "latitude") in _error_locs(CDR, data)


# --- SignedData and SignedValue ------------------------------------------------------------------


def test_signed_data_round_trip_and_minimal_form() -> None:
    assert SignedData.model_validate(SIGNED_DATA).to_dict() == SIGNED_DATA
    minimal = {"encoding_method": "Alfen Eichrecht", "signed_values": [SIGNED_DATA["signed_values"][0]]}
    signed = SignedData.model_validate(minimal)
    assert signed.public_key is None
    assert signed.to_dict() == minimal


def test_signed_data_requires_at_least_one_signed_value() -> None:
    assert _error_locs(SignedData, _with(SIGNED_DATA, signed_values=[])) == [("signed_values",)]


@pytest.mark.parametrize("field", ["encoding_method", "signed_values"])
def test_signed_data_rejects_missing_required_field(field: str) -> None:
    assert _error_locs(SignedData, _without(SIGNED_DATA, field)) == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("encoding_method", "e" * 37),
        ("public_key", "k" * 513),
        ("url", "https://example.org/" + "u" * 493),
        ("encoding_method_version", "1"),
        ("encoding_method_version", 1.0),
        ("encoding_method_version", True),
    ],
)
def test_signed_data_rejects_invalid_values(field: str, value: Any) -> None:
    assert (field,) in _error_locs(SignedData, _with(SIGNED_DATA, **{field: value}))


def test_signed_value_lengths_are_at_their_maximum_accepted() -> None:
    value = SignedValue.model_validate({"nature": "N" * 32, "plain_data": "p" * 512, "signed_data": "s" * 5000})
    assert (len(value.nature), len(value.plain_data), len(value.signed_data)) == (32, 512, 5000)


@pytest.mark.parametrize(("field", "length"), [("nature", 33), ("plain_data", 513), ("signed_data", 5001)])
def test_signed_value_rejects_values_beyond_their_length(field: str, length: int) -> None:
    data = _with(SIGNED_DATA["signed_values"][0], **{field: "x" * length})
    errors = _errors(SignedValue, data)
    assert [(tuple(e["loc"]), e["type"]) for e in errors] == [((field,), "string_too_long")]


@pytest.mark.parametrize("field", ["nature", "plain_data", "signed_data"])
def test_signed_value_requires_every_field(field: str) -> None:
    assert _error_locs(SignedValue, _without(SIGNED_DATA["signed_values"][0], field)) == [(field,)]


def test_signed_value_accepts_natures_beyond_start_end_intermediate() -> None:
    # mod_cdrs_signed_value_class lists Start, End, Intermediate and says "Others might be added later".
    data = _with(SIGNED_DATA["signed_values"][0], nature="Pause")
    assert SignedValue.model_validate(data).nature == "Pause"


def test_cdr_locates_errors_inside_signed_data() -> None:
    data = copy.deepcopy(CDR_FULL)
    data["signed_data"]["signed_values"][1]["signed_data"] = "s" * 5001
    assert _error_locs(CDR, data) == [("signed_data", "signed_values", 1, "signed_data")]


# --- enums -------------------------------------------------------------------------------------


def test_cdr_enums_have_exactly_the_spec_values() -> None:
    assert {m.value for m in AuthMethod} == {"AUTH_REQUEST", "COMMAND", "WHITELIST"}
    assert {m.value for m in CdrDimensionType} == {
        "CURRENT",
        "ENERGY",
        "ENERGY_EXPORT",
        "ENERGY_IMPORT",
        "MAX_CURRENT",
        "MIN_CURRENT",
        "MAX_POWER",
        "MIN_POWER",
        "PARKING_TIME",
        "POWER",
        "RESERVATION_TIME",
        "STATE_OF_CHARGE",
        "TIME",
    }


# --- OCPI 2.2.1 spec example ---------------------------------------------------------------------


def test_spec_cdr_example_fails_only_on_the_known_cdr_token_erratum() -> None:
    if not SPEC_EXAMPLES.is_dir():
        pytest.skip(f"spec examples not available at {SPEC_EXAMPLES}")
    example = json.loads((SPEC_EXAMPLES / "cdr_example.json").read_text())
    # Known erratum: cdr_example.json predates the CdrToken country_code/party_id fields that 2.2.1 made
    # required, so it must fail for exactly those two missing fields and nothing else.
    errors = _errors(CDR, example)
    assert sorted((tuple(e["loc"]), e["type"]) for e in errors) == [
        (("cdr_token", "country_code"), "missing"),
        (("cdr_token", "party_id"), "missing"),
    ]
    example["cdr_token"].update(country_code="DE", party_id="ACC")
    cdr = CDR.model_validate(example)
    assert cdr.total_cost.incl_vat == Decimal("4.40")
