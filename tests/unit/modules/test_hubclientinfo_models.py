"""Unit tests for the canonical HubClientInfo models (OCPI 2.2.1 mod_hub_client_info)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.modules.hubclientinfo.models import ClientInfo, ConnectionStatus
from evroam.types import Role


def client_info() -> dict[str, Any]:
    """Every ClientInfo field is required, so the complete and the minimal example are the same."""
    return {
        "party_id": "EVR",
        "country_code": "NL",
        "role": "CPO",
        "status": "CONNECTED",
        "last_updated": "2024-05-06T07:08:09Z",
    }


def error_locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[int | str, ...]]:
    return [tuple(err["loc"]) for err in exc.value.errors()]


def test_client_info_round_trips_unchanged() -> None:
    assert ClientInfo.model_validate(client_info()).to_dict() == client_info()


def test_client_info_parses_into_typed_values() -> None:
    info = ClientInfo.model_validate(client_info())
    assert info.role is Role.CPO
    assert info.status is ConnectionStatus.CONNECTED
    assert info.last_updated == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_client_info_to_json_is_spec_json() -> None:
    doc = json.loads(ClientInfo.model_validate(client_info()).to_json())
    assert doc == client_info()


def test_client_info_keeps_unknown_fields() -> None:
    data = client_info() | {"x_hub_region": "EU-West", "x_meta": {"since": 2019}}
    assert ClientInfo.model_validate(data).to_dict() == data


@pytest.mark.parametrize("field", ["party_id", "country_code", "role", "status", "last_updated"])
def test_client_info_required_field_missing_is_rejected(field: str) -> None:
    data = client_info()
    del data[field]
    with pytest.raises(ValidationError) as exc:
        ClientInfo.model_validate(data)
    assert error_locs(exc) == [(field,)]


@pytest.mark.parametrize("field", ["party_id", "country_code", "role", "status", "last_updated"])
def test_client_info_null_required_field_is_rejected(field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        ClientInfo.model_validate(client_info() | {field: None})
    assert error_locs(exc) == [(field,)]


@pytest.mark.parametrize("status", ["CONNECTED", "OFFLINE", "PLANNED", "SUSPENDED"])
def test_connection_status_values_are_accepted(status: str) -> None:
    assert ClientInfo.model_validate(client_info() | {"status": status}).status is ConnectionStatus(status)


def test_connection_status_has_exactly_the_spec_values() -> None:
    assert {s.value for s in ConnectionStatus} == {"CONNECTED", "OFFLINE", "PLANNED", "SUSPENDED"}


@pytest.mark.parametrize(("field", "value"), [("status", "DISCONNECTED"), ("status", "connected"), ("role", "PTP")])
def test_client_info_unknown_enum_value_is_rejected(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        ClientInfo.model_validate(client_info() | {field: value})
    assert error_locs(exc) == [(field,)]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_client_info_accepts_every_role(role: str) -> None:
    assert ClientInfo.model_validate(client_info() | {"role": role}).role is Role(role)


@pytest.mark.parametrize(
    ("field", "value"),
    [("party_id", "EVRM"), ("country_code", "NLD"), ("party_id", "É1"), ("country_code", "N\n")],
)
def test_client_info_ci_string_outside_spec_is_rejected(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        ClientInfo.model_validate(client_info() | {field: value})
    assert error_locs(exc) == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("party_id", 123), ("country_code", 31), ("role", 1), ("status", True), ("last_updated", 1714979289)],
)
def test_client_info_wrong_json_type_is_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        ClientInfo.model_validate(client_info() | {field: value})
    assert error_locs(exc) == [(field,)]


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
def test_client_info_accepts_all_spec_datetime_forms(given: str, emitted: str) -> None:
    info = ClientInfo.model_validate(client_info() | {"last_updated": given})
    assert info.to_dict()["last_updated"] == emitted


def test_client_info_rejects_a_date_without_time() -> None:
    with pytest.raises(ValidationError) as exc:
        ClientInfo.model_validate(client_info() | {"last_updated": "2024-05-06"})
    assert error_locs(exc) == [("last_updated",)]


def test_client_info_from_json_text() -> None:
    text = (
        '{"country_code": "NL", "party_id": "ALL", "role": "HUB", "status": "PLANNED",'
        ' "last_updated": "2019-01-01T00:00:00"}'
    )
    info = ClientInfo.model_validate_json(text)
    assert info.role is Role.HUB
    assert info.to_dict()["last_updated"] == "2019-01-01T00:00:00Z"
