"""Unit tests of the charging-profile requests an eMSP or SCSP sends: the calls, their checks, their states."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from evroam.errors import InvalidParametersError
from evroam.modules.chargingprofiles.issue import ProfileRequest, check_session_id, profile_call
from evroam.modules.chargingprofiles.sender import active_profile_key
from evroam.modules.commands.issue import CommandState, state_of
from evroam.store.interface import CommandRecord
from evroam.types import utcnow

URL = "https://emsp.example/ocpi/2.2.1/sender/chargingprofiles/X/1"
PROFILE = {"charging_rate_unit": "A", "charging_profile_period": [{"start_period": 0, "limit": 16.0}]}
SET, GET, CLEAR = ProfileRequest


def test_set_is_a_put_with_a_set_charging_profile_body() -> None:
    call = profile_call(SET, URL, profile=PROFILE, duration=None)
    assert (call.method, call.params) == ("PUT", None)
    assert call.body == {"charging_profile": PROFILE, "response_url": URL}
    assert call.fields == call.body


def test_get_is_a_get_with_duration_and_response_url_in_the_query() -> None:
    call = profile_call(GET, URL, profile=None, duration=900)
    assert (call.method, call.body) == ("GET", None)
    assert call.params == {"duration": "900", "response_url": URL}
    assert call.fields == {"duration": 900, "response_url": URL}


def test_clear_is_a_delete_with_only_the_response_url() -> None:
    call = profile_call(CLEAR, URL, profile=None, duration=None)
    assert (call.method, call.body, call.params) == ("DELETE", None, {"response_url": URL})


@pytest.mark.parametrize(
    ("kind", "profile", "duration", "complaint"),
    [
        (SET, None, None, "required"),
        (SET, {"charging_rate_unit": "kW"}, None, "charging_rate_unit"),
        (SET, {**PROFILE, "min_charging_rate": 6.25}, None, "min_charging_rate"),
        (SET, PROFILE, 60, "duration"),
        (GET, None, None, "duration"),
        (GET, None, 0, "duration"),
        (GET, None, True, "duration"),
        (GET, PROFILE, 60, "takes no charging profile"),
        (CLEAR, PROFILE, None, "takes no charging profile"),
        (CLEAR, None, 60, "duration"),
    ],
)
def test_a_request_missing_or_with_a_stray_parameter_is_invalid(
    kind: ProfileRequest, profile: dict[str, object] | None, duration: int | None, complaint: str
) -> None:
    with pytest.raises(InvalidParametersError, match=complaint):
        profile_call(kind, URL, profile=profile, duration=duration)


@pytest.mark.parametrize("session_id", ["", "S" * 37, "S\n1", "séance"])
def test_a_session_id_is_a_cistring_36(session_id: str) -> None:
    with pytest.raises(InvalidParametersError):
        check_session_id(session_id)


def test_session_ids_of_36_printable_characters_pass() -> None:
    check_session_id("S" * 36)
    check_session_id("a b/c?d")


def test_active_profiles_are_kept_case_insensitively_per_cpo_party_and_session() -> None:
    assert active_profile_key("nl", "cpo", "Sess-1") == active_profile_key("NL", "CPO", "SESS-1") == "NL/CPO/SESS-1"


def _record(response: dict[str, object], deadline: datetime | None = None) -> CommandRecord:
    return CommandRecord(
        "id",
        "peer",
        "SET_CHARGING_PROFILE",
        "NL",
        "CPO",
        "{}",
        utcnow(),
        response=json.dumps(response),
        deadline=deadline,
    )


@pytest.mark.parametrize("answer", ["REJECTED", "TOO_OFTEN", "UNKNOWN_SESSION", "NOT_SUPPORTED"])
def test_a_profile_request_not_accepted_is_refused(answer: str) -> None:
    assert state_of(_record({"result": answer, "timeout": 30})) == (CommandState.REFUSED, False)


def test_an_accepted_profile_request_is_pending_until_its_deadline() -> None:
    now = utcnow()
    record = _record({"result": "ACCEPTED", "timeout": 30}, now + timedelta(seconds=30))
    assert state_of(record, now) == (CommandState.PENDING, False)
    assert state_of(record, now + timedelta(seconds=31)) == (CommandState.TIMED_OUT, False)
