"""Unit tests of the canonical Sessions models (Session, ChargingPreferences, Sessions enums)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.modules.cdrs.models import AuthMethod, CdrDimensionType, ChargingPeriod
from evroam.modules.sessions.models import (
    ChargingPreferences,
    ChargingPreferencesResponse,
    ProfileType,
    Session,
    SessionStatus,
)

from support.dicts import with_fields as _with
from support.dicts import without_fields as _without

SPEC_EXAMPLES = Path("/work/shared/ocpi-reference/spec-examples/2.2.1")

CDR_TOKEN: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "EXM",
    "uid": "04A3B2C1D0E9F8",
    "type": "RFID",
    "contract_id": "NL-EXM-C00012345-7",
}

SESSION_FULL: dict[str, Any] = {
    "country_code": "DE",
    "party_id": "CPX",
    "id": "sess-7f3c2a10-0001",
    "start_date_time": "2021-03-04T08:15:00Z",
    "end_date_time": "2021-03-04T09:45:30Z",
    "kwh": 18.75,
    "cdr_token": CDR_TOKEN,
    "auth_method": "AUTH_REQUEST",
    "authorization_reference": "auth-ref-991",
    "location_id": "LOC-BERLIN-07",
    "evse_uid": "EVSE-07-2",
    "connector_id": "2",
    "meter_id": "MTR-000912",
    "currency": "EUR",
    "charging_periods": [
        {
            "start_date_time": "2021-03-04T08:15:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": 12.5},
                {"type": "MAX_CURRENT", "volume": 32},
                {"type": "STATE_OF_CHARGE", "volume": 64},
                {"type": "POWER", "volume": 11.1},
            ],
            "tariff_id": "TAR-STD",
        },
        {
            "start_date_time": "2021-03-04T09:00:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": 6.25},
                {"type": "PARKING_TIME", "volume": 0.5},
                {"type": "CURRENT", "volume": 15.8},
                {"type": "ENERGY_IMPORT", "volume": 6.3},
                {"type": "ENERGY_EXPORT", "volume": 0.05},
            ],
        },
    ],
    "total_cost": {"excl_vat": 7.35, "incl_vat": 8.75},
    "status": "COMPLETED",
    "last_updated": "2021-03-04T09:45:31Z",
}

SESSION_MIN: dict[str, Any] = {
    "country_code": "DE",
    "party_id": "CPX",
    "id": "sess-2",
    "start_date_time": "2021-03-04T08:15:00Z",
    "kwh": 0,
    "cdr_token": CDR_TOKEN,
    "auth_method": "WHITELIST",
    "location_id": "LOC-BERLIN-07",
    "evse_uid": "EVSE-07-1",
    "connector_id": "1",
    "currency": "EUR",
    "status": "PENDING",
    "last_updated": "2021-03-04T08:15:00Z",
}

PREFERENCES_FULL: dict[str, Any] = {
    "profile_type": "FAST",
    "departure_time": "2021-03-04T17:30:00Z",
    "energy_need": 32.5,
    "discharge_allowed": False,
}

PREFERENCES_MIN: dict[str, Any] = {"profile_type": "REGULAR"}

SESSION_REQUIRED = [
    "country_code",
    "party_id",
    "id",
    "start_date_time",
    "kwh",
    "cdr_token",
    "auth_method",
    "location_id",
    "evse_uid",
    "connector_id",
    "currency",
    "status",
    "last_updated",
]


def _error_locs(model: type[Session] | type[ChargingPreferences], data: Any) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [tuple(error["loc"]) for error in info.value.errors()]


# --- Session: valid examples and serialisation --------------------------------------------------


def test_complete_session_is_valid() -> None:
    session = Session.model_validate(SESSION_FULL)
    assert session.status is SessionStatus.COMPLETED
    assert session.auth_method is AuthMethod.AUTH_REQUEST
    assert session.cdr_token.party_id == "EXM"
    assert session.charging_periods is not None
    assert isinstance(session.charging_periods[0], ChargingPeriod)
    assert session.total_cost is not None
    assert session.total_cost.incl_vat == Decimal("8.75")


def test_minimal_session_is_valid_and_omits_absent_optionals() -> None:
    session = Session.model_validate(SESSION_MIN)
    assert session.end_date_time is None
    assert session.charging_periods is None
    assert session.total_cost is None
    dumped = session.to_dict()
    for absent in ("end_date_time", "authorization_reference", "meter_id", "charging_periods", "total_cost"):
        assert absent not in dumped


@pytest.mark.parametrize("fixture", [SESSION_FULL, SESSION_MIN], ids=["complete", "minimal"])
def test_session_round_trip_equals_input(fixture: dict[str, Any]) -> None:
    session = Session.model_validate(fixture)
    assert session.to_dict() == fixture
    assert json.loads(session.to_json()) == fixture
    assert Session.model_validate_json(session.to_json()) == session


def test_session_serialises_numbers_as_json_numbers() -> None:
    emitted = json.loads(Session.model_validate(SESSION_FULL).to_json())
    numbers = [
        emitted["kwh"],
        emitted["total_cost"]["excl_vat"],
        emitted["charging_periods"][0]["dimensions"][1]["volume"],
    ]
    assert numbers == [18.75, 7.35, 32]
    assert all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers)


def test_session_keeps_unknown_fields_at_every_level() -> None:
    data = copy.deepcopy(SESSION_FULL)
    data["x_vendor_flag"] = {"nested": [1, 2]}
    data["cdr_token"]["x_token_note"] = "kept"
    data["charging_periods"][0]["x_period_source"] = "meter"
    data["charging_periods"][0]["dimensions"][0]["x_precision"] = 3
    data["total_cost"]["x_rounding"] = "HALF_UP"
    assert Session.model_validate(data).to_dict() == data


def test_session_normalises_datetime_without_designator_to_utc_z() -> None:
    session = Session.model_validate(_with(SESSION_MIN, start_date_time="2021-03-04T08:15:00"))
    assert session.to_dict()["start_date_time"] == "2021-03-04T08:15:00Z"


@pytest.mark.parametrize(
    ("given", "emitted"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200Z"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123Z"),
    ],
)
def test_session_accepts_every_spec_datetime_form(given: str, emitted: str) -> None:
    data = _with(SESSION_FULL, start_date_time=given, end_date_time=given, last_updated=given)
    data["charging_periods"][0]["start_date_time"] = given
    dumped = Session.model_validate(data).to_dict()
    assert dumped["start_date_time"] == emitted
    assert dumped["end_date_time"] == emitted
    assert dumped["last_updated"] == emitted
    assert dumped["charging_periods"][0]["start_date_time"] == emitted


def test_session_keeps_decimals_exact() -> None:
    raw = json.dumps(_with(SESSION_MIN, kwh=0.1, total_cost={"excl_vat": 0.2, "incl_vat": 0.3}))
    session = Session.model_validate_json(raw)
    assert session.kwh == Decimal("0.1")
    assert session.total_cost is not None
    assert session.kwh + session.total_cost.excl_vat == Decimal("0.3")
    assert session.total_cost.incl_vat == Decimal("0.3")


# --- Session: spec rules -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["evse_uid", "connector_id"])
def test_session_accepts_na_for_unassigned_reservation_evse(field: str) -> None:
    # OCPI 2.2.1 mod_sessions_session_object: "#NA" for a reservation without an assigned EVSE.
    data = _with(SESSION_MIN, status="RESERVATION", auth_method="COMMAND", **{field: "#NA"})
    session = Session.model_validate(data)
    assert getattr(session, field) == "#NA"
    assert session.status is SessionStatus.RESERVATION


@pytest.mark.parametrize(
    "dimension",
    ["CURRENT", "ENERGY_EXPORT", "ENERGY_IMPORT", "POWER", "STATE_OF_CHARGE"],
)
def test_session_may_use_session_only_dimensions(dimension: str) -> None:
    data = _with(
        SESSION_MIN,
        charging_periods=[
            {"start_date_time": "2021-03-04T08:15:00Z", "dimensions": [{"type": dimension, "volume": 42}]}
        ],
    )
    session = Session.model_validate(data)
    assert session.charging_periods is not None
    assert session.charging_periods[0].dimensions[0].type is CdrDimensionType(dimension)


def test_session_accepts_an_empty_charging_periods_list() -> None:
    # `*` cardinality: an empty list is allowed (and means "no periods" on a PUT).
    assert Session.model_validate(_with(SESSION_MIN, charging_periods=[])).charging_periods == []


def test_session_charging_period_needs_at_least_one_dimension() -> None:
    data = _with(SESSION_MIN, charging_periods=[{"start_date_time": "2021-03-04T08:15:00Z", "dimensions": []}])
    assert ("charging_periods", 0, "dimensions") in _error_locs(Session, data)


def test_session_state_of_charge_above_100_is_rejected() -> None:
    data = _with(
        SESSION_MIN,
        charging_periods=[
            {
                "start_date_time": "2021-03-04T08:15:00Z",
                "dimensions": [{"type": "STATE_OF_CHARGE", "volume": 100.5}],
            }
        ],
    )
    assert ("charging_periods", 0, "dimensions", 0, "volume") in _error_locs(Session, data)


@pytest.mark.parametrize("field", SESSION_REQUIRED)
def test_session_rejects_missing_required_field(field: str) -> None:
    assert (field,) in _error_locs(Session, _without(SESSION_FULL, field))


@pytest.mark.parametrize("field", ["country_code", "party_id", "uid", "type", "contract_id"])
def test_session_rejects_cdr_token_without_identifying_field(field: str) -> None:
    data = copy.deepcopy(SESSION_MIN)
    del data["cdr_token"][field]
    assert ("cdr_token", field) in _error_locs(Session, data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country_code", "DEU"),
        ("party_id", "CPXX"),
        ("id", "s" * 37),
        ("authorization_reference", "r" * 37),
        ("location_id", "L" * 37),
        ("evse_uid", "E" * 37),
        ("connector_id", "C" * 37),
        ("meter_id", "m" * 256),
        ("currency", "EURO"),
    ],
)
def test_session_rejects_too_long_strings(field: str, value: str) -> None:
    assert (field,) in _error_locs(Session, _with(SESSION_FULL, **{field: value}))


def test_session_rejects_currency_that_is_not_three_characters() -> None:
    assert ("currency",) in _error_locs(Session, _with(SESSION_MIN, currency="EU"))


def test_session_rejects_control_characters_in_ids() -> None:
    assert ("id",) in _error_locs(Session, _with(SESSION_MIN, id="abc\ndef"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "RESERVED"),
        ("status", "active"),
        ("auth_method", "APP"),
    ],
)
def test_session_rejects_unknown_enum_values(field: str, value: str) -> None:
    assert (field,) in _error_locs(Session, _with(SESSION_MIN, **{field: value}))


def test_session_rejects_unknown_cdr_token_type() -> None:
    data = copy.deepcopy(SESSION_MIN)
    data["cdr_token"]["type"] = "NFC"
    assert ("cdr_token", "type") in _error_locs(Session, data)


def test_session_rejects_unknown_dimension_type() -> None:
    data = _with(
        SESSION_MIN,
        charging_periods=[{"start_date_time": "2021-03-04T08:15:00Z", "dimensions": [{"type": "FLAT", "volume": 1}]}],
    )
    assert ("charging_periods", 0, "dimensions", 0, "type") in _error_locs(Session, data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kwh", "lots"),
        ("kwh", None),
        ("start_date_time", "yesterday"),
        ("start_date_time", 1614845700),
        ("last_updated", "2021-02-30T10:00:00Z"),
        ("cdr_token", "04A3B2C1D0E9F8"),
        ("charging_periods", {"start_date_time": "2021-03-04T08:15:00Z"}),
        ("total_cost", 7.35),
        ("id", 101),
    ],
)
def test_session_rejects_wrong_types(field: str, value: Any) -> None:
    assert (field,) in _error_locs(Session, _with(SESSION_MIN, **{field: value}))


def test_session_rejects_total_cost_without_excl_vat() -> None:
    assert ("total_cost", "excl_vat") in _error_locs(Session, _with(SESSION_MIN, total_cost={"incl_vat": 1}))


# --- ChargingPreferences ------------------------------------------------------------------------


def test_complete_charging_preferences_are_valid() -> None:
    preferences = ChargingPreferences.model_validate(PREFERENCES_FULL)
    assert preferences.profile_type is ProfileType.FAST
    assert preferences.energy_need == Decimal("32.5")
    assert preferences.discharge_allowed is False


def test_minimal_charging_preferences_are_valid() -> None:
    preferences = ChargingPreferences.model_validate(PREFERENCES_MIN)
    assert preferences.departure_time is None
    assert preferences.energy_need is None
    # Absent means false per the spec, but stays absent so that it is not emitted.
    assert preferences.discharge_allowed is None


@pytest.mark.parametrize("fixture", [PREFERENCES_FULL, PREFERENCES_MIN], ids=["complete", "minimal"])
def test_charging_preferences_round_trip_equals_input(fixture: dict[str, Any]) -> None:
    assert ChargingPreferences.model_validate(fixture).to_dict() == fixture


def test_charging_preferences_keep_unknown_fields() -> None:
    data = _with(PREFERENCES_FULL, x_min_soc=20)
    assert ChargingPreferences.model_validate(data).to_dict() == data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("profile_type", "ECO"),
        ("departure_time", "tonight"),
        ("energy_need", "a lot"),
        ("discharge_allowed", "yes"),
        ("discharge_allowed", 1),
    ],
)
def test_charging_preferences_reject_invalid_values(field: str, value: Any) -> None:
    assert (field,) in _error_locs(ChargingPreferences, _with(PREFERENCES_FULL, **{field: value}))


def test_charging_preferences_require_profile_type() -> None:
    assert ("profile_type",) in _error_locs(ChargingPreferences, {"energy_need": 10})


# --- enums -------------------------------------------------------------------------------------


def test_sessions_enums_have_exactly_the_spec_values() -> None:
    assert {m.value for m in SessionStatus} == {"ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION"}
    assert {m.value for m in ProfileType} == {"CHEAP", "FAST", "GREEN", "REGULAR"}
    assert {m.value for m in ChargingPreferencesResponse} == {
        "ACCEPTED",
        "DEPARTURE_REQUIRED",
        "ENERGY_NEED_REQUIRED",
        "NOT_POSSIBLE",
        "PROFILE_TYPE_NOT_SUPPORTED",
    }


def test_charging_preferences_response_is_a_plain_json_string() -> None:
    assert json.dumps(ChargingPreferencesResponse.NOT_POSSIBLE) == '"NOT_POSSIBLE"'
    assert ChargingPreferencesResponse("PROFILE_TYPE_NOT_SUPPORTED") is (
        ChargingPreferencesResponse.PROFILE_TYPE_NOT_SUPPORTED
    )


# --- OCPI 2.2.1 spec examples -------------------------------------------------------------------


def _spec_example(name: str) -> dict[str, Any]:
    if not SPEC_EXAMPLES.is_dir():
        pytest.skip(f"spec examples not available at {SPEC_EXAMPLES}")
    data: dict[str, Any] = json.loads((SPEC_EXAMPLES / name).read_text())
    return data


@pytest.mark.parametrize("name", ["session_example_1_simple_start.json", "session_example_2_short_finished.json"])
def test_spec_session_examples_fail_only_on_the_known_cdr_token_erratum(name: str) -> None:
    # Known erratum: the 2.2.1 session examples predate the CdrToken country_code/party_id fields that
    # 2.2.1 made required, so they must fail for exactly those two missing fields and nothing else.
    example = _spec_example(name)
    with pytest.raises(ValidationError) as info:
        Session.model_validate(example)
    assert sorted((tuple(e["loc"]), e["type"]) for e in info.value.errors()) == [
        (("cdr_token", "country_code"), "missing"),
        (("cdr_token", "party_id"), "missing"),
    ]
    # With the missing token owner filled in, the example is a valid Session.
    example["cdr_token"].update(country_code="NL", party_id="TST")
    Session.model_validate(example)


@pytest.mark.parametrize(
    "name", ["session_patch_example_charging_period.json", "session_patch_example_total_cost.json"]
)
def test_spec_session_patch_examples_are_valid_partial_sessions(name: str) -> None:
    # PATCH bodies are partial Sessions: every field they carry must be a Session field, last_updated is
    # mandatory (mod_sessions_patch_method), and applying them to a complete Session (charging_periods
    # appended, everything else replaced) must yield a valid Session.
    patch = _spec_example(name)
    assert "last_updated" in patch
    assert set(patch) <= set(Session.model_fields)
    merged = copy.deepcopy(SESSION_FULL)
    for field, value in patch.items():
        if field == "charging_periods":
            merged["charging_periods"] = merged.get("charging_periods", []) + value
        else:
            merged[field] = value
    session = Session.model_validate(merged)
    assert session.last_updated.isoformat().startswith(patch["last_updated"][:19])
