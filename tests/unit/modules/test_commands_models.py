"""Unit tests of the canonical Commands models (command bodies, CommandResponse, CommandResult, enums)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from evroam.modules.commands.models import (
    COMMAND_BODIES,
    CancelReservation,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    CommandType,
    ReserveNow,
    StartSession,
    StopSession,
    UnlockConnector,
)
from evroam.modules.tokens.models import Token
from evroam.types import OcpiModel

from support.dicts import with_fields as _with
from support.dicts import without_fields as _without

TOKEN: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "MSP",
    "uid": "adhoc-0c6f3e2b",
    "type": "AD_HOC_USER",
    "contract_id": "NL-MSP-C00077001-X",
    "issuer": "Example MSP",
    "valid": True,
    "whitelist": "NEVER",
    "last_updated": "2023-06-01T09:00:00Z",
}

RESPONSE_URL = "https://emsp.example.com/ocpi/2.2.1/commands/START_SESSION/6a1e9c2f"

START_SESSION_FULL: dict[str, Any] = {
    "response_url": RESPONSE_URL,
    "token": TOKEN,
    "location_id": "LOC-UTRECHT-4",
    "evse_uid": "EVSE-4-1",
    "connector_id": "2",
    "authorization_reference": "msp-ref-5531",
}
START_SESSION_MIN: dict[str, Any] = {"response_url": RESPONSE_URL, "token": TOKEN, "location_id": "LOC-UTRECHT-4"}

RESERVE_NOW_FULL: dict[str, Any] = {
    "response_url": "https://emsp.example.com/ocpi/2.2.1/commands/RESERVE_NOW/77",
    "token": TOKEN,
    "expiry_date": "2023-06-01T10:30:00Z",
    "reservation_id": "res-77",
    "location_id": "LOC-UTRECHT-4",
    "evse_uid": "EVSE-4-2",
    "authorization_reference": "msp-ref-5532",
}
RESERVE_NOW_MIN: dict[str, Any] = {
    key: RESERVE_NOW_FULL[key] for key in ("response_url", "token", "expiry_date", "reservation_id", "location_id")
}

CANCEL_RESERVATION: dict[str, Any] = {
    "response_url": "https://emsp.example.com/ocpi/2.2.1/commands/CANCEL_RESERVATION/78",
    "reservation_id": "res-77",
}
STOP_SESSION: dict[str, Any] = {
    "response_url": "https://emsp.example.com/ocpi/2.2.1/commands/STOP_SESSION/79",
    "session_id": "sess-4-000912",
}
UNLOCK_CONNECTOR: dict[str, Any] = {
    "response_url": "https://emsp.example.com/ocpi/2.2.1/commands/UNLOCK_CONNECTOR/80",
    "location_id": "LOC-UTRECHT-4",
    "evse_uid": "EVSE-4-1",
    "connector_id": "2",
}

COMMAND_RESPONSE_FULL: dict[str, Any] = {
    "result": "ACCEPTED",
    "timeout": 30,
    "message": [
        {"language": "en", "text": "Command sent to the charge point"},
        {"language": "nl", "text": "Opdracht verstuurd naar de laadpaal"},
    ],
}
COMMAND_RESPONSE_MIN: dict[str, Any] = {"result": "REJECTED", "timeout": 0}
COMMAND_RESULT_FULL: dict[str, Any] = {
    "result": "EVSE_OCCUPIED",
    "message": [{"language": "en", "text": "Another vehicle is connected"}],
}
COMMAND_RESULT_MIN: dict[str, Any] = {"result": "ACCEPTED"}

VALID_OBJECTS: list[tuple[type[OcpiModel], dict[str, Any]]] = [
    (StartSession, START_SESSION_FULL),
    (StartSession, START_SESSION_MIN),
    (ReserveNow, RESERVE_NOW_FULL),
    (ReserveNow, RESERVE_NOW_MIN),
    (CancelReservation, CANCEL_RESERVATION),
    (StopSession, STOP_SESSION),
    (UnlockConnector, UNLOCK_CONNECTOR),
    (CommandResponse, COMMAND_RESPONSE_FULL),
    (CommandResponse, COMMAND_RESPONSE_MIN),
    (CommandResult, COMMAND_RESULT_FULL),
    (CommandResult, COMMAND_RESULT_MIN),
]
VALID_IDS = [
    "start_session-complete",
    "start_session-minimal",
    "reserve_now-complete",
    "reserve_now-minimal",
    "cancel_reservation",
    "stop_session",
    "unlock_connector",
    "command_response-complete",
    "command_response-minimal",
    "command_result-complete",
    "command_result-minimal",
]

REQUIRED_FIELDS: list[tuple[type[OcpiModel], dict[str, Any], str]] = [
    *[(StartSession, START_SESSION_FULL, f) for f in ("response_url", "token", "location_id")],
    *[
        (ReserveNow, RESERVE_NOW_FULL, f)
        for f in ("response_url", "token", "expiry_date", "reservation_id", "location_id")
    ],
    *[(CancelReservation, CANCEL_RESERVATION, f) for f in ("response_url", "reservation_id")],
    *[(StopSession, STOP_SESSION, f) for f in ("response_url", "session_id")],
    *[(UnlockConnector, UNLOCK_CONNECTOR, f) for f in ("response_url", "location_id", "evse_uid", "connector_id")],
    *[(CommandResponse, COMMAND_RESPONSE_FULL, f) for f in ("result", "timeout")],
    (CommandResult, COMMAND_RESULT_FULL, "result"),
]


def _error_locs(model: type[BaseModel], data: Any) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [tuple(error["loc"]) for error in info.value.errors()]


# --- every object: valid examples, round trip, unknown fields, required fields ------------------


@pytest.mark.parametrize(("model", "fixture"), VALID_OBJECTS, ids=VALID_IDS)
def test_command_object_round_trip_equals_input(model: type[OcpiModel], fixture: dict[str, Any]) -> None:
    parsed = model.model_validate(fixture)
    assert parsed.to_dict() == fixture
    assert json.loads(parsed.to_json()) == fixture
    assert model.model_validate_json(parsed.to_json()) == parsed


@pytest.mark.parametrize(("model", "fixture"), VALID_OBJECTS, ids=VALID_IDS)
def test_command_object_keeps_unknown_fields(model: type[OcpiModel], fixture: dict[str, Any]) -> None:
    data = _with(fixture, x_trace_id="trace-0001", x_nested={"a": [1, None]})
    assert model.model_validate(data).to_dict() == data


@pytest.mark.parametrize(
    ("model", "fixture", "field"),
    REQUIRED_FIELDS,
    ids=[f"{model.__name__}-{field}" for model, _, field in REQUIRED_FIELDS],
)
def test_command_object_rejects_missing_required_field(
    model: type[OcpiModel], fixture: dict[str, Any], field: str
) -> None:
    assert _error_locs(model, _without(fixture, field)) == [(field,)]


@pytest.mark.parametrize(
    ("model", "fixture"),
    [
        (StartSession, START_SESSION_FULL),
        (ReserveNow, RESERVE_NOW_FULL),
        (CancelReservation, CANCEL_RESERVATION),
        (StopSession, STOP_SESSION),
        (UnlockConnector, UNLOCK_CONNECTOR),
    ],
)
def test_command_body_rejects_response_url_longer_than_255(model: type[OcpiModel], fixture: dict[str, Any]) -> None:
    too_long = "https://emsp.example.com/" + "r" * 231
    assert len(too_long) == 256
    assert _error_locs(model, _with(fixture, response_url=too_long)) == [("response_url",)]


# --- StartSession ------------------------------------------------------------------------------


def test_start_session_complete_is_valid() -> None:
    command = StartSession.model_validate(START_SESSION_FULL)
    assert isinstance(command.token, Token)
    assert (command.evse_uid, command.connector_id) == ("EVSE-4-1", "2")


def test_start_session_minimal_lets_the_charge_point_choose_the_evse() -> None:
    command = StartSession.model_validate(START_SESSION_MIN)
    assert command.evse_uid is None
    assert command.connector_id is None
    assert "evse_uid" not in command.to_dict()


def test_start_session_with_evse_but_without_connector_is_valid() -> None:
    command = StartSession.model_validate(_with(START_SESSION_MIN, evse_uid="EVSE-4-1"))
    assert command.connector_id is None


def test_start_session_connector_id_requires_evse_uid() -> None:
    with pytest.raises(ValidationError) as info:
        StartSession.model_validate(_with(START_SESSION_MIN, connector_id="2"))
    errors = info.value.errors()
    assert [tuple(e["loc"]) for e in errors] == [("evse_uid",)]
    assert "connector_id" in errors[0]["msg"]


def test_start_session_requires_a_complete_token() -> None:
    data = copy.deepcopy(START_SESSION_FULL)
    del data["token"]["whitelist"]
    assert _error_locs(StartSession, data) == [("token", "whitelist")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("location_id", "l" * 37),
        ("evse_uid", "e" * 37),
        ("connector_id", "c" * 37),
        ("authorization_reference", "a" * 37),
        ("token", "adhoc-0c6f3e2b"),
        ("location_id", 4),
    ],
)
def test_start_session_rejects_invalid_values(field: str, value: Any) -> None:
    assert (field,) in _error_locs(StartSession, _with(START_SESSION_FULL, **{field: value}))


# --- ReserveNow, CancelReservation, StopSession, UnlockConnector -------------------------------


@pytest.mark.parametrize(
    ("given", "emitted"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200Z"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123Z"),
    ],
)
def test_reserve_now_accepts_every_spec_datetime_form(given: str, emitted: str) -> None:
    command = ReserveNow.model_validate(_with(RESERVE_NOW_MIN, expiry_date=given))
    assert command.to_dict()["expiry_date"] == emitted


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expiry_date", "in 30 minutes"),
        ("reservation_id", "r" * 37),
        ("reservation_id", 77),
        ("evse_uid", "e" * 37),
        ("authorization_reference", "a" * 37),
    ],
)
def test_reserve_now_rejects_invalid_values(field: str, value: Any) -> None:
    assert _error_locs(ReserveNow, _with(RESERVE_NOW_FULL, **{field: value})) == [(field,)]


def test_reserve_now_reservation_id_is_a_string_since_2_2() -> None:
    # 2.1.1 used an int reservation_id; 2.2.1 makes it CiString(36).
    assert ReserveNow.model_validate(_with(RESERVE_NOW_MIN, reservation_id="0042")).reservation_id == "0042"


def test_cancel_reservation_rejects_too_long_reservation_id() -> None:
    data = _with(CANCEL_RESERVATION, reservation_id="r" * 37)
    assert _error_locs(CancelReservation, data) == [("reservation_id",)]


def test_stop_session_rejects_too_long_session_id() -> None:
    assert _error_locs(StopSession, _with(STOP_SESSION, session_id="s" * 37)) == [("session_id",)]


@pytest.mark.parametrize("field", ["location_id", "evse_uid", "connector_id"])
def test_unlock_connector_rejects_too_long_ids(field: str) -> None:
    assert _error_locs(UnlockConnector, _with(UNLOCK_CONNECTOR, **{field: "x" * 37})) == [(field,)]


# --- CommandResponse and CommandResult ---------------------------------------------------------


def test_command_response_timeout_is_a_json_integer() -> None:
    response = CommandResponse.model_validate(COMMAND_RESPONSE_FULL)
    assert response.timeout == 30
    assert type(response.timeout) is int
    emitted = json.loads(response.to_json())
    assert type(emitted["timeout"]) is int


@pytest.mark.parametrize("timeout", ["30", 30.0, 1.5, True, None, "thirty"])
def test_command_response_rejects_a_timeout_that_is_not_an_int(timeout: Any) -> None:
    assert _error_locs(CommandResponse, _with(COMMAND_RESPONSE_MIN, timeout=timeout)) == [("timeout",)]


@pytest.mark.parametrize("result", [m.value for m in CommandResponseType])
def test_command_response_accepts_every_response_type(result: str) -> None:
    assert CommandResponse.model_validate(_with(COMMAND_RESPONSE_MIN, result=result)).result.value == result


@pytest.mark.parametrize("result", ["TIMEOUT", "accepted", "OK"])
def test_command_response_rejects_unknown_response_type(result: str) -> None:
    # TIMEOUT was a CommandResponseType in 2.1.1 only; in 2.2.1 it is a CommandResultType.
    assert _error_locs(CommandResponse, _with(COMMAND_RESPONSE_MIN, result=result)) == [("result",)]


@pytest.mark.parametrize(
    ("model", "fixture"),
    [(CommandResponse, COMMAND_RESPONSE_FULL), (CommandResult, COMMAND_RESULT_FULL)],
)
def test_command_messages_must_be_a_list_of_display_texts(model: type[OcpiModel], fixture: dict[str, Any]) -> None:
    assert ("message",) in _error_locs(model, _with(fixture, message={"language": "en", "text": "x"}))
    bad_language = _with(fixture, message=[{"language": "en", "text": "ok"}, {"language": "eng", "text": "x"}])
    assert _error_locs(model, bad_language) == [("message", 1, "language")]
    assert _error_locs(model, _with(fixture, message=[{"language": "en"}])) == [("message", 0, "text")]


@pytest.mark.parametrize("result", [m.value for m in CommandResultType])
def test_command_result_accepts_every_result_type(result: str) -> None:
    assert CommandResult.model_validate({"result": result}).result is CommandResultType(result)


@pytest.mark.parametrize("result", ["UNKNOWN_SESSION", "CANCELLED_RESERVATION", ""])
def test_command_result_rejects_unknown_result_type(result: str) -> None:
    assert _error_locs(CommandResult, {"result": result}) == [("result",)]


# --- enums and the command/body mapping ---------------------------------------------------------


def test_commands_enums_have_exactly_the_spec_values() -> None:
    assert {m.value for m in CommandType} == {
        "CANCEL_RESERVATION",
        "RESERVE_NOW",
        "START_SESSION",
        "STOP_SESSION",
        "UNLOCK_CONNECTOR",
    }
    assert {m.value for m in CommandResponseType} == {"NOT_SUPPORTED", "REJECTED", "ACCEPTED", "UNKNOWN_SESSION"}
    assert {m.value for m in CommandResultType} == {
        "ACCEPTED",
        "CANCELED_RESERVATION",
        "EVSE_OCCUPIED",
        "EVSE_INOPERATIVE",
        "FAILED",
        "NOT_SUPPORTED",
        "REJECTED",
        "TIMEOUT",
        "UNKNOWN_RESERVATION",
    }


def test_command_bodies_map_every_command_type_to_its_object() -> None:
    expected = {
        CommandType.CANCEL_RESERVATION: CancelReservation,
        CommandType.RESERVE_NOW: ReserveNow,
        CommandType.START_SESSION: StartSession,
        CommandType.STOP_SESSION: StopSession,
        CommandType.UNLOCK_CONNECTOR: UnlockConnector,
    }
    assert expected == COMMAND_BODIES
    assert set(COMMAND_BODIES) == set(CommandType)


@pytest.mark.parametrize(
    ("segment", "body"),
    [
        ("CANCEL_RESERVATION", CANCEL_RESERVATION),
        ("RESERVE_NOW", RESERVE_NOW_FULL),
        ("START_SESSION", START_SESSION_FULL),
        ("STOP_SESSION", STOP_SESSION),
        ("UNLOCK_CONNECTOR", UNLOCK_CONNECTOR),
    ],
)
def test_command_body_is_parsed_by_the_command_url_segment(segment: str, body: dict[str, Any]) -> None:
    model = COMMAND_BODIES[CommandType(segment)]
    assert model.model_validate(body).to_dict() == body


def test_command_body_of_another_command_is_rejected() -> None:
    assert set(_error_locs(COMMAND_BODIES[CommandType.UNLOCK_CONNECTOR], STOP_SESSION)) == {
        ("location_id",),
        ("evse_uid",),
        ("connector_id",),
    }
