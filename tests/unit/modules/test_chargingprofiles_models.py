"""Unit tests of the canonical ChargingProfiles models (profiles, requests, responses, results, enums)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from evroam.modules.chargingprofiles.models import (
    ActiveChargingProfile,
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfilePeriod,
    ChargingProfileResponse,
    ChargingProfileResponseType,
    ChargingProfileResult,
    ChargingProfileResultType,
    ChargingRateUnit,
    ClearProfileResult,
    SetChargingProfile,
)
from evroam.types import OcpiModel

from support.dicts import with_fields as _with
from support.dicts import without_fields as _without

PROFILE_FULL: dict[str, Any] = {
    "start_date_time": "2023-09-12T18:00:00Z",
    "duration": 7200,
    "charging_rate_unit": "A",
    "min_charging_rate": 6.5,
    "charging_profile_period": [
        {"start_period": 0, "limit": 16},
        {"start_period": 1800, "limit": 10.5},
        {"start_period": 5400, "limit": 32},
    ],
}
PROFILE_MIN: dict[str, Any] = {"charging_rate_unit": "W"}

SET_PROFILE: dict[str, Any] = {
    "charging_profile": PROFILE_FULL,
    "response_url": "https://scsp.example.net/ocpi/2.2.1/chargingprofiles/result/0b7d",
}
ACTIVE_PROFILE: dict[str, Any] = {
    "start_date_time": "2023-09-12T18:05:00Z",
    "charging_profile": {
        "charging_rate_unit": "W",
        "charging_profile_period": [{"start_period": 0, "limit": 11000}, {"start_period": 900, "limit": 7400.5}],
    },
}
RESPONSE: dict[str, Any] = {"result": "ACCEPTED", "timeout": 45}
ACTIVE_RESULT_FULL: dict[str, Any] = {"result": "ACCEPTED", "profile": ACTIVE_PROFILE}
ACTIVE_RESULT_MIN: dict[str, Any] = {"result": "UNKNOWN"}
PROFILE_RESULT: dict[str, Any] = {"result": "REJECTED"}
CLEAR_RESULT: dict[str, Any] = {"result": "ACCEPTED"}

VALID_OBJECTS: list[tuple[type[OcpiModel], dict[str, Any]]] = [
    (ChargingProfile, PROFILE_FULL),
    (ChargingProfile, PROFILE_MIN),
    (ChargingProfilePeriod, {"start_period": 60, "limit": 8.1}),
    (SetChargingProfile, SET_PROFILE),
    (ActiveChargingProfile, ACTIVE_PROFILE),
    (ChargingProfileResponse, RESPONSE),
    (ActiveChargingProfileResult, ACTIVE_RESULT_FULL),
    (ActiveChargingProfileResult, ACTIVE_RESULT_MIN),
    (ChargingProfileResult, PROFILE_RESULT),
    (ClearProfileResult, CLEAR_RESULT),
]
VALID_IDS = [
    "profile-complete",
    "profile-minimal",
    "period",
    "set_charging_profile",
    "active_charging_profile",
    "response",
    "active_result-complete",
    "active_result-minimal",
    "profile_result",
    "clear_result",
]

REQUIRED_FIELDS: list[tuple[type[OcpiModel], dict[str, Any], str]] = [
    (ChargingProfile, PROFILE_FULL, "charging_rate_unit"),
    (ChargingProfilePeriod, {"start_period": 0, "limit": 16}, "start_period"),
    (ChargingProfilePeriod, {"start_period": 0, "limit": 16}, "limit"),
    (SetChargingProfile, SET_PROFILE, "charging_profile"),
    (SetChargingProfile, SET_PROFILE, "response_url"),
    (ActiveChargingProfile, ACTIVE_PROFILE, "start_date_time"),
    (ActiveChargingProfile, ACTIVE_PROFILE, "charging_profile"),
    (ChargingProfileResponse, RESPONSE, "result"),
    (ChargingProfileResponse, RESPONSE, "timeout"),
    (ActiveChargingProfileResult, ACTIVE_RESULT_FULL, "result"),
    (ChargingProfileResult, PROFILE_RESULT, "result"),
    (ClearProfileResult, CLEAR_RESULT, "result"),
]


def _error_locs(model: type[BaseModel], data: Any) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [tuple(error["loc"]) for error in info.value.errors()]


# --- every object: valid examples, round trip, unknown fields, required fields ------------------


@pytest.mark.parametrize(("model", "fixture"), VALID_OBJECTS, ids=VALID_IDS)
def test_charging_profiles_object_round_trip_equals_input(model: type[OcpiModel], fixture: dict[str, Any]) -> None:
    parsed = model.model_validate(fixture)
    assert parsed.to_dict() == fixture
    assert json.loads(parsed.to_json()) == fixture
    assert model.model_validate_json(parsed.to_json()) == parsed


@pytest.mark.parametrize(("model", "fixture"), VALID_OBJECTS, ids=VALID_IDS)
def test_charging_profiles_object_keeps_unknown_fields(model: type[OcpiModel], fixture: dict[str, Any]) -> None:
    data = _with(fixture, x_algorithm="v2", x_meta={"source": "scsp"})
    assert model.model_validate(data).to_dict() == data


def test_charging_profiles_keep_unknown_fields_in_nested_objects() -> None:
    data = copy.deepcopy(SET_PROFILE)
    data["charging_profile"]["x_priority"] = 3
    data["charging_profile"]["charging_profile_period"][1]["x_number_phases"] = 1
    assert SetChargingProfile.model_validate(data).to_dict() == data


@pytest.mark.parametrize(
    ("model", "fixture", "field"),
    REQUIRED_FIELDS,
    ids=[f"{model.__name__}-{field}" for model, _, field in REQUIRED_FIELDS],
)
def test_charging_profiles_object_rejects_missing_required_field(
    model: type[OcpiModel], fixture: dict[str, Any], field: str
) -> None:
    assert _error_locs(model, _without(fixture, field)) == [(field,)]


# --- ChargingProfile and ChargingProfilePeriod -------------------------------------------------


def test_complete_charging_profile_is_valid() -> None:
    profile = ChargingProfile.model_validate(PROFILE_FULL)
    assert profile.charging_rate_unit is ChargingRateUnit.A
    assert profile.duration == 7200
    assert profile.min_charging_rate == Decimal("6.5")
    assert profile.charging_profile_period is not None
    assert [p.limit for p in profile.charging_profile_period] == [Decimal(16), Decimal("10.5"), Decimal(32)]


def test_minimal_charging_profile_is_relative_and_open_ended() -> None:
    profile = ChargingProfile.model_validate(PROFILE_MIN)
    assert profile.start_date_time is None
    assert profile.duration is None
    assert profile.min_charging_rate is None
    assert profile.charging_profile_period is None
    assert profile.to_dict() == {"charging_rate_unit": "W"}


def test_charging_profile_accepts_an_empty_period_list() -> None:
    # `*` cardinality: an empty list is allowed.
    assert ChargingProfile.model_validate(_with(PROFILE_MIN, charging_profile_period=[])).charging_profile_period == []


@pytest.mark.parametrize("limit", [0, 8, 8.1, "8.1", "8.10", 7400.5, -3.5])
def test_period_limit_with_at_most_one_decimal_is_accepted(limit: Any) -> None:
    period = ChargingProfilePeriod.model_validate({"start_period": 0, "limit": limit})
    assert period.limit == Decimal(str(limit))


@pytest.mark.parametrize("limit", [8.15, 0.05, 7400.55, "16.123"])
def test_period_limit_with_more_than_one_decimal_is_rejected(limit: Any) -> None:
    with pytest.raises(ValidationError) as info:
        ChargingProfile.model_validate(
            _with(
                PROFILE_MIN,
                charging_profile_period=[{"start_period": 0, "limit": 16}, {"start_period": 60, "limit": limit}],
            )
        )
    errors = info.value.errors()
    assert [tuple(e["loc"]) for e in errors] == [("charging_profile_period", 1, "limit")]
    assert "one decimal" in errors[0]["msg"]


def test_period_limit_with_one_decimal_and_trailing_zero_is_accepted_from_json() -> None:
    period = ChargingProfilePeriod.model_validate_json('{"start_period": 0, "limit": 8.10}')
    assert period.limit == Decimal("8.1")


@pytest.mark.parametrize("rate", [6, 6.5, 0.1])
def test_min_charging_rate_with_at_most_one_decimal_is_accepted(rate: float) -> None:
    assert ChargingProfile.model_validate(_with(PROFILE_MIN, min_charging_rate=rate)).min_charging_rate == Decimal(
        str(rate)
    )


@pytest.mark.parametrize("rate", [6.25, 0.01])
def test_min_charging_rate_with_more_than_one_decimal_is_rejected(rate: float) -> None:
    assert _error_locs(ChargingProfile, _with(PROFILE_MIN, min_charging_rate=rate)) == [("min_charging_rate",)]


@pytest.mark.parametrize("unit", ["kW", "w", "WATT", "AMPERE", ""])
def test_charging_rate_unit_other_than_w_or_a_is_rejected(unit: str) -> None:
    assert _error_locs(ChargingProfile, _with(PROFILE_MIN, charging_rate_unit=unit)) == [("charging_rate_unit",)]


@pytest.mark.parametrize("value", ["60", 60.0, 1.5, True, None])
def test_period_start_period_must_be_an_int(value: Any) -> None:
    assert _error_locs(ChargingProfilePeriod, {"start_period": value, "limit": 16}) == [("start_period",)]


@pytest.mark.parametrize("value", ["3600", 3600.0, False])
def test_profile_duration_must_be_an_int(value: Any) -> None:
    assert _error_locs(ChargingProfile, _with(PROFILE_MIN, duration=value)) == [("duration",)]


@pytest.mark.parametrize("value", ["sixteen", None, [16]])
def test_period_limit_must_be_a_number(value: Any) -> None:
    assert _error_locs(ChargingProfilePeriod, {"start_period": 0, "limit": value}) == [("limit",)]


@pytest.mark.parametrize(
    ("given", "emitted"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200Z"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123Z"),
    ],
)
def test_charging_profiles_accept_every_spec_datetime_form(given: str, emitted: str) -> None:
    profile = ChargingProfile.model_validate(_with(PROFILE_MIN, start_date_time=given))
    assert profile.to_dict()["start_date_time"] == emitted
    active = ActiveChargingProfile.model_validate(_with(ACTIVE_PROFILE, start_date_time=given))
    assert active.to_dict()["start_date_time"] == emitted


def test_charging_profile_rejects_a_malformed_start_date_time() -> None:
    assert _error_locs(ChargingProfile, _with(PROFILE_MIN, start_date_time="18:00")) == [("start_date_time",)]


def test_charging_profile_keeps_decimals_exact() -> None:
    raw = json.dumps(_with(PROFILE_MIN, charging_profile_period=[{"start_period": 0, "limit": 0.1}]))
    profile = ChargingProfile.model_validate_json(raw)
    assert profile.charging_profile_period is not None
    assert profile.charging_profile_period[0].limit * 3 == Decimal("0.3")


# --- requests, responses and results -----------------------------------------------------------


def test_set_charging_profile_locates_errors_inside_the_profile() -> None:
    data = copy.deepcopy(SET_PROFILE)
    data["charging_profile"]["charging_profile_period"][2]["limit"] = 32.25
    assert _error_locs(SetChargingProfile, data) == [("charging_profile", "charging_profile_period", 2, "limit")]


def test_set_charging_profile_rejects_response_url_longer_than_255() -> None:
    too_long = "https://scsp.example.net/" + "r" * 231
    assert _error_locs(SetChargingProfile, _with(SET_PROFILE, response_url=too_long)) == [("response_url",)]


def test_charging_profile_response_timeout_is_a_json_integer() -> None:
    response = ChargingProfileResponse.model_validate(RESPONSE)
    assert type(response.timeout) is int
    assert type(json.loads(response.to_json())["timeout"]) is int


@pytest.mark.parametrize("timeout", ["45", 45.0, 4.5, True])
def test_charging_profile_response_rejects_a_timeout_that_is_not_an_int(timeout: Any) -> None:
    assert _error_locs(ChargingProfileResponse, _with(RESPONSE, timeout=timeout)) == [("timeout",)]


@pytest.mark.parametrize("result", [m.value for m in ChargingProfileResponseType])
def test_charging_profile_response_accepts_every_response_type(result: str) -> None:
    assert ChargingProfileResponse.model_validate(_with(RESPONSE, result=result)).result.value == result


@pytest.mark.parametrize("result", ["UNKNOWN", "TIMEOUT", "accepted"])
def test_charging_profile_response_rejects_unknown_response_type(result: str) -> None:
    assert _error_locs(ChargingProfileResponse, _with(RESPONSE, result=result)) == [("result",)]


@pytest.mark.parametrize("model", [ActiveChargingProfileResult, ChargingProfileResult, ClearProfileResult])
@pytest.mark.parametrize("result", [m.value for m in ChargingProfileResultType])
def test_results_accept_every_result_type(model: type[OcpiModel], result: str) -> None:
    assert model.model_validate({"result": result}).to_dict() == {"result": result}


@pytest.mark.parametrize("model", [ActiveChargingProfileResult, ChargingProfileResult, ClearProfileResult])
@pytest.mark.parametrize("result", ["TOO_OFTEN", "UNKNOWN_SESSION", "FAILED"])
def test_results_reject_unknown_result_type(model: type[OcpiModel], result: str) -> None:
    assert _error_locs(model, {"result": result}) == [("result",)]


def test_active_charging_profile_result_carries_the_profile() -> None:
    result = ActiveChargingProfileResult.model_validate(ACTIVE_RESULT_FULL)
    assert result.result is ChargingProfileResultType.ACCEPTED
    assert isinstance(result.profile, ActiveChargingProfile)
    assert result.profile.charging_profile.charging_rate_unit is ChargingRateUnit.W


def test_active_charging_profile_result_rejects_an_incomplete_profile() -> None:
    data = copy.deepcopy(ACTIVE_RESULT_FULL)
    del data["profile"]["start_date_time"]
    assert _error_locs(ActiveChargingProfileResult, data) == [("profile", "start_date_time")]


# --- enums -------------------------------------------------------------------------------------


def test_charging_profiles_enums_have_exactly_the_spec_values() -> None:
    assert {m.value for m in ChargingRateUnit} == {"W", "A"}
    assert {m.value for m in ChargingProfileResponseType} == {
        "ACCEPTED",
        "NOT_SUPPORTED",
        "REJECTED",
        "TOO_OFTEN",
        "UNKNOWN_SESSION",
    }
    assert {m.value for m in ChargingProfileResultType} == {"ACCEPTED", "REJECTED", "UNKNOWN"}
