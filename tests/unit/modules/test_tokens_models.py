"""Unit tests of the canonical Tokens models (Token, AuthorizationInfo, LocationReferences, enums)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from evroam.modules.cdrs.models import CdrToken
from evroam.modules.locations.models import PublishTokenType
from evroam.modules.sessions.models import ProfileType
from evroam.modules.tokens.models import (
    AllowedType,
    AuthorizationInfo,
    EnergyContract,
    LocationReferences,
    Token,
    TokenType,
    WhitelistType,
)
from evroam.types import DisplayText

from support.dicts import with_fields as _with
from support.dicts import without_fields as _without

SPEC_EXAMPLES = Path("/work/shared/ocpi-reference/spec-examples/2.2.1")

TOKEN_FULL: dict[str, Any] = {
    "country_code": "BE",
    "party_id": "EMS",
    "uid": "A1B2C3D4E5F60718",
    "type": "RFID",
    "contract_id": "BE-EMS-C00000042-3",
    "visual_number": "EMS 0042 7781",
    "issuer": "Example Mobility Services",
    "group_id": "GRP-FLEET-11",
    "valid": True,
    "whitelist": "ALLOWED_OFFLINE",
    "language": "nl",
    "default_profile_type": "CHEAP",
    "energy_contract": {"supplier_name": "Windkracht Energie", "contract_id": "WK-000019"},
    "last_updated": "2023-02-14T12:00:00Z",
}

TOKEN_MIN: dict[str, Any] = {
    "country_code": "BE",
    "party_id": "EMS",
    "uid": "app-5c0e1d7a",
    "type": "APP_USER",
    "contract_id": "BE-EMS-C00000043-1",
    "issuer": "Example Mobility Services",
    "valid": True,
    "whitelist": "NEVER",
    "last_updated": "2023-02-14T12:00:00Z",
}

LOCATION_REFERENCES: dict[str, Any] = {"location_id": "LOC-GENT-12", "evse_uids": ["EVSE-12-A", "EVSE-12-B"]}

AUTHORIZATION_FULL: dict[str, Any] = {
    "allowed": "ALLOWED",
    "token": TOKEN_FULL,
    "location": {"location_id": "LOC-GENT-12", "evse_uids": ["EVSE-12-B"]},
    "authorization_reference": "ems-auth-20230214-0007",
    "info": {"language": "en", "text": "Welcome back, charging is allowed on EVSE B."},
}

AUTHORIZATION_MIN: dict[str, Any] = {"allowed": "NO_CREDIT", "token": TOKEN_MIN}

TOKEN_REQUIRED = [
    "country_code",
    "party_id",
    "uid",
    "type",
    "contract_id",
    "issuer",
    "valid",
    "whitelist",
    "last_updated",
]


def _error_locs(model: type[BaseModel], data: Any) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [tuple(error["loc"]) for error in info.value.errors()]


# --- Token ---------------------------------------------------------------------------------------


def test_complete_token_is_valid() -> None:
    token = Token.model_validate(TOKEN_FULL)
    assert token.type is TokenType.RFID
    assert token.whitelist is WhitelistType.ALLOWED_OFFLINE
    assert token.default_profile_type is ProfileType.CHEAP
    assert isinstance(token.energy_contract, EnergyContract)
    assert token.valid is True


def test_minimal_token_is_valid_and_omits_absent_optionals() -> None:
    token = Token.model_validate(TOKEN_MIN)
    dumped = token.to_dict()
    for absent in ("visual_number", "group_id", "language", "default_profile_type", "energy_contract"):
        assert getattr(token, absent) is None
        assert absent not in dumped


@pytest.mark.parametrize("fixture", [TOKEN_FULL, TOKEN_MIN], ids=["complete", "minimal"])
def test_token_round_trip_equals_input(fixture: dict[str, Any]) -> None:
    token = Token.model_validate(fixture)
    assert token.to_dict() == fixture
    assert json.loads(token.to_json()) == fixture
    assert Token.model_validate_json(token.to_json()) == token


def test_token_keeps_unknown_fields() -> None:
    data = _with(TOKEN_FULL, x_card_color="green")
    data["energy_contract"]["x_tariff_plan"] = "night"
    assert Token.model_validate(data).to_dict() == data


@pytest.mark.parametrize(
    ("given", "emitted"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200Z"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123Z"),
    ],
)
def test_token_accepts_every_spec_datetime_form(given: str, emitted: str) -> None:
    assert Token.model_validate(_with(TOKEN_MIN, last_updated=given)).to_dict()["last_updated"] == emitted


@pytest.mark.parametrize("field", TOKEN_REQUIRED)
def test_token_rejects_missing_required_field(field: str) -> None:
    assert _error_locs(Token, _without(TOKEN_FULL, field)) == [(field,)]


def test_token_identity_needs_both_uid_and_type() -> None:
    # OCPI 2.2.1 mod_tokens_token_object: (uid, type) identifies a token; neither may be left out.
    assert _error_locs(Token, _without(TOKEN_MIN, "uid", "type")) == [("uid",), ("type",)]


@pytest.mark.parametrize("token_type", ["AD_HOC_USER", "APP_USER", "OTHER", "RFID", "EMAID"])
def test_token_accepts_every_token_type(token_type: str) -> None:
    token = Token.model_validate(_with(TOKEN_MIN, type=token_type))
    assert token.type is TokenType(token_type)
    assert token.to_dict()["type"] == token_type


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country_code", "BEL"),
        ("party_id", "EMSX"),
        ("uid", "u" * 37),
        ("contract_id", "c" * 37),
        ("visual_number", "v" * 65),
        ("issuer", "i" * 65),
        ("group_id", "g" * 37),
        ("language", "nld"),
    ],
)
def test_token_rejects_too_long_strings(field: str, value: str) -> None:
    assert _error_locs(Token, _with(TOKEN_FULL, **{field: value})) == [(field,)]


def test_token_uid_may_have_36_characters() -> None:
    assert Token.model_validate(_with(TOKEN_MIN, uid="u" * 36)).uid == "u" * 36


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "KEY_FOB"),
        ("type", "rfid"),
        ("whitelist", "SOMETIMES"),
        ("default_profile_type", "ECO"),
    ],
)
def test_token_rejects_unknown_enum_values(field: str, value: str) -> None:
    assert _error_locs(Token, _with(TOKEN_FULL, **{field: value})) == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("valid", "true"),
        ("valid", 1),
        ("valid", None),
        ("uid", 12345678),
        ("last_updated", "2023-02-14"),
        ("energy_contract", "Windkracht Energie"),
    ],
)
def test_token_rejects_wrong_types(field: str, value: Any) -> None:
    assert (field,) in _error_locs(Token, _with(TOKEN_FULL, **{field: value}))


def test_token_type_is_shared_with_cdr_tokens_and_location_publish_tokens() -> None:
    # One TokenType across the code base: a Token, the CdrToken made from it and a PublishTokenType
    # naming it all use the same enum class.
    token = Token.model_validate(TOKEN_FULL)
    cdr_token = CdrToken.model_validate(
        {key: TOKEN_FULL[key] for key in ("country_code", "party_id", "uid", "type", "contract_id")}
    )
    publish = PublishTokenType.model_validate({"uid": TOKEN_FULL["uid"], "type": TOKEN_FULL["type"]})
    assert type(token.type) is type(cdr_token.type) is type(publish.type) is TokenType


# --- EnergyContract ------------------------------------------------------------------------------


def test_energy_contract_minimal_and_complete() -> None:
    assert EnergyContract.model_validate({"supplier_name": "S"}).to_dict() == {"supplier_name": "S"}
    full = TOKEN_FULL["energy_contract"]
    assert EnergyContract.model_validate(full).to_dict() == full


def test_energy_contract_requires_supplier_name() -> None:
    data = copy.deepcopy(TOKEN_FULL)
    del data["energy_contract"]["supplier_name"]
    assert _error_locs(Token, data) == [("energy_contract", "supplier_name")]


@pytest.mark.parametrize(("field", "value"), [("supplier_name", "s" * 65), ("contract_id", "c" * 65)])
def test_energy_contract_rejects_too_long_strings(field: str, value: str) -> None:
    data = _with(TOKEN_FULL["energy_contract"], **{field: value})
    assert _error_locs(EnergyContract, data) == [(field,)]


# --- LocationReferences --------------------------------------------------------------------------


def test_location_references_complete_and_minimal() -> None:
    assert LocationReferences.model_validate(LOCATION_REFERENCES).to_dict() == LOCATION_REFERENCES
    minimal = LocationReferences.model_validate({"location_id": "LOC-GENT-12"})
    assert minimal.evse_uids is None
    assert minimal.to_dict() == {"location_id": "LOC-GENT-12"}


def test_location_references_keep_unknown_fields() -> None:
    data = _with(LOCATION_REFERENCES, x_connector_ids=["1"])
    assert LocationReferences.model_validate(data).to_dict() == data


def test_location_references_require_location_id() -> None:
    assert _error_locs(LocationReferences, {"evse_uids": ["EVSE-12-A"]}) == [("location_id",)]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"location_id": "l" * 37}, ("location_id",)),
        ({"location_id": "LOC", "evse_uids": ["EVSE-1", "e" * 37]}, ("evse_uids", 1)),
        ({"location_id": "LOC", "evse_uids": "EVSE-1"}, ("evse_uids",)),
        ({"location_id": "LOC", "evse_uids": [7]}, ("evse_uids", 0)),
    ],
)
def test_location_references_reject_invalid_values(data: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    assert _error_locs(LocationReferences, data) == [loc]


# --- AuthorizationInfo ---------------------------------------------------------------------------


def test_complete_authorization_info_is_valid() -> None:
    info = AuthorizationInfo.model_validate(AUTHORIZATION_FULL)
    assert info.allowed is AllowedType.ALLOWED
    assert isinstance(info.token, Token)
    assert isinstance(info.location, LocationReferences)
    assert info.location.evse_uids == ["EVSE-12-B"]
    assert isinstance(info.info, DisplayText)


def test_minimal_authorization_info_is_valid() -> None:
    info = AuthorizationInfo.model_validate(AUTHORIZATION_MIN)
    assert info.location is None
    assert info.authorization_reference is None
    assert info.info is None


@pytest.mark.parametrize("fixture", [AUTHORIZATION_FULL, AUTHORIZATION_MIN], ids=["complete", "minimal"])
def test_authorization_info_round_trip_equals_input(fixture: dict[str, Any]) -> None:
    info = AuthorizationInfo.model_validate(fixture)
    assert info.to_dict() == fixture
    assert json.loads(info.to_json()) == fixture


def test_authorization_info_keeps_unknown_fields() -> None:
    data = _with(AUTHORIZATION_FULL, x_decision_ms=12)
    data["token"]["x_segment"] = "fleet"
    assert AuthorizationInfo.model_validate(data).to_dict() == data


@pytest.mark.parametrize("field", ["allowed", "token"])
def test_authorization_info_rejects_missing_required_field(field: str) -> None:
    assert _error_locs(AuthorizationInfo, _without(AUTHORIZATION_FULL, field)) == [(field,)]


@pytest.mark.parametrize("missing", ["country_code", "party_id", "issuer", "valid", "whitelist", "last_updated"])
def test_authorization_info_requires_the_complete_token(missing: str) -> None:
    # OCPI 2.2.1 mod_tokens_authorizationinfo_object: "The complete Token object"; a bare uid/type is not enough.
    data = copy.deepcopy(AUTHORIZATION_MIN)
    del data["token"][missing]
    assert _error_locs(AuthorizationInfo, data) == [("token", missing)]


def test_authorization_info_rejects_a_cdr_token_in_place_of_a_token() -> None:
    data = _with(
        AUTHORIZATION_MIN,
        token={key: TOKEN_MIN[key] for key in ("country_code", "party_id", "uid", "type", "contract_id")},
    )
    assert set(_error_locs(AuthorizationInfo, data)) == {
        ("token", "issuer"),
        ("token", "valid"),
        ("token", "whitelist"),
        ("token", "last_updated"),
    }


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("allowed", "DENIED", ("allowed",)),
        ("authorization_reference", "r" * 37, ("authorization_reference",)),
        ("info", {"language": "english", "text": "hi"}, ("info", "language")),
        ("info", [{"language": "en", "text": "hi"}], ("info",)),
        ("location", {"evse_uids": []}, ("location", "location_id")),
    ],
)
def test_authorization_info_rejects_invalid_values(field: str, value: Any, loc: tuple[str, ...]) -> None:
    assert loc in _error_locs(AuthorizationInfo, _with(AUTHORIZATION_FULL, **{field: value}))


# --- enums -------------------------------------------------------------------------------------


def test_tokens_enums_have_exactly_the_spec_values() -> None:
    assert {m.value for m in AllowedType} == {"ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED"}
    assert {m.value for m in WhitelistType} == {"ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"}
    # 2.2.1 values plus EMAID, added by 2.3.0.
    assert {m.value for m in TokenType} == {"AD_HOC_USER", "APP_USER", "OTHER", "RFID", "EMAID"}


# --- OCPI 2.2.1 spec examples -------------------------------------------------------------------


def _spec_example(name: str) -> dict[str, Any]:
    if not SPEC_EXAMPLES.is_dir():
        pytest.skip(f"spec examples not available at {SPEC_EXAMPLES}")
    data: dict[str, Any] = json.loads((SPEC_EXAMPLES / name).read_text())
    return data


@pytest.mark.parametrize(
    "name", ["token_example_1_app_user.json", "token_example_2_full_rfid.json", "token_put_example.json"]
)
def test_spec_token_examples_are_valid_and_round_trip(name: str) -> None:
    example = _spec_example(name)
    assert Token.model_validate(example).to_dict() == example


def test_spec_token_patch_example_is_a_valid_partial_token() -> None:
    # A PATCH body is a partial Token: its fields must be Token fields, last_updated is mandatory
    # (mod_tokens_patch_method), and applied to a complete Token it must yield a valid Token.
    patch = _spec_example("token_patch_example.json")
    assert "last_updated" in patch
    assert set(patch) <= set(Token.model_fields)
    token = Token.model_validate({**TOKEN_FULL, **patch})
    assert token.valid is False
