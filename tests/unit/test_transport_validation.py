"""Unit tests for reading request bodies: size limit, JSON parsing, model validation messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Message

from evroam.errors import InvalidJsonError, InvalidParametersError, PayloadTooLargeError
from evroam.modules.credentials.models import Credentials
from evroam.transport.validation import json_pointer, read_json, validate_model, validation_message

LIMIT = 1024


def _request(chunks: Sequence[bytes], *, content_length: int | None = None) -> tuple[Request, list[int]]:
    """A request whose body arrives in `chunks`; also returns how many chunks were read."""
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    pending = list(chunks) or [b""]
    read = [0]

    async def receive() -> Message:
        body = pending.pop(0)
        read[0] += 1
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    return Request(scope, receive), read


def _credentials(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": "t" * 20,
        "url": "https://emsp.example.com/ocpi/versions",
        "roles": [
            {"role": "EMSP", "business_details": {"name": "eMSP"}, "party_id": "EMS", "country_code": "NL"},
        ],
    }
    body.update(overrides)
    return body


# --- read_json ------------------------------------------------------------------------------------------


async def test_valid_json_object_is_returned() -> None:
    request, _ = _request([b'{"a": [1, 2.5, "x", null, true]}'])
    assert await read_json(request, LIMIT) == {"a": [1, 2.5, "x", None, True]}


async def test_body_in_several_chunks_is_joined() -> None:
    request, read = _request([b'{"a":', b' "b"', b"}"])
    assert await read_json(request, LIMIT) == {"a": "b"}
    assert read[0] == 3


async def test_declared_content_length_over_the_limit_is_refused_before_reading() -> None:
    request, read = _request([b"{}"], content_length=LIMIT + 1)
    with pytest.raises(PayloadTooLargeError, match=f"exceeds {LIMIT} bytes") as info:
        await read_json(request, LIMIT)
    assert info.value.http_status == 413
    assert read[0] == 0


async def test_body_exactly_at_the_limit_is_accepted() -> None:
    body = b'{"a":"' + b"x" * (LIMIT - 8) + b'"}'
    assert len(body) == LIMIT
    request, _ = _request([body], content_length=LIMIT)
    assert await read_json(request, LIMIT) == {"a": "x" * (LIMIT - 8)}


async def test_streamed_body_over_the_limit_is_refused_without_reading_it_all() -> None:
    chunks = [b" " * 600] * 10  # no Content-Length: chunked upload
    request, read = _request(chunks)
    with pytest.raises(PayloadTooLargeError):
        await read_json(request, LIMIT)
    assert read[0] == 2  # stopped at the chunk that crossed the limit


async def test_understated_content_length_does_not_bypass_the_limit() -> None:
    request, _ = _request([b" " * 600, b" " * 600], content_length=10)
    with pytest.raises(PayloadTooLargeError):
        await read_json(request, LIMIT)


@pytest.mark.parametrize("body", [b"", b"   ", b"\n\t "])
async def test_empty_body_is_invalid_json(body: bytes) -> None:
    request, _ = _request([body])
    with pytest.raises(InvalidJsonError, match="empty") as info:
        await read_json(request, LIMIT)
    assert (info.value.http_status, info.value.ocpi_status) == (400, 2000)


@pytest.mark.parametrize(
    "body",
    [b"{bad", b"{'a': 1}", b'{"a": 1,}', b"\xff\xfe\x00", b"undefined", b'{"a": 1} trailing', b"{"],
)
async def test_malformed_json_is_invalid_json(body: bytes) -> None:
    request, _ = _request([body])
    with pytest.raises(InvalidJsonError, match="not valid JSON") as info:
        await read_json(request, LIMIT)
    assert info.value.http_status == 400


@pytest.mark.parametrize("body", [b'{"a": NaN}', b'{"a": Infinity}', b"[-Infinity]"])
async def test_non_standard_json_constants_are_invalid_json(body: bytes) -> None:
    request, _ = _request([body])
    with pytest.raises(InvalidJsonError, match="not valid JSON"):
        await read_json(request, LIMIT)


async def test_absurdly_nested_json_is_invalid_json_not_a_crash() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    request, _ = _request([body])
    with pytest.raises(InvalidJsonError, match="nested too deeply"):
        await read_json(request, len(body))


@pytest.mark.parametrize(("body", "value"), [(b"[1, 2]", [1, 2]), (b'"s"', "s"), (b"3", 3), (b"null", None)])
async def test_read_json_returns_any_json_value(body: bytes, value: object) -> None:
    request, _ = _request([body])
    assert await read_json(request, LIMIT) == value


# --- json_pointer / validation_message ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "pointer"),
    [
        ((), ""),
        (("token",), "/token"),
        (("roles", 0, "role"), "/roles/0/role"),
        (("a/b", "c~d"), "/a~1b/c~0d"),
    ],
)
def test_json_pointer_follows_rfc_6901(loc: tuple[int | str, ...], pointer: str) -> None:
    assert json_pointer(loc) == pointer


def test_validation_message_names_every_problem_by_pointer() -> None:
    with pytest.raises(ValidationError) as info:
        Credentials.model_validate(_credentials(token=123, url=None))
    message = validation_message(info.value)
    assert message.startswith("/token: ")
    assert "; /url: " in message


def test_validation_message_prefix_is_prepended() -> None:
    with pytest.raises(ValidationError) as info:
        Credentials.model_validate(_credentials(token=123))
    assert validation_message(info.value, prefix=("data",)).startswith("/data/token: ")


def test_validation_message_is_capped_at_20_problems() -> None:
    roles = [{"role": "NOPE", "business_details": {}, "party_id": 1, "country_code": 2} for _ in range(10)]
    with pytest.raises(ValidationError) as info:
        Credentials.model_validate(_credentials(roles=roles))
    message = validation_message(info.value)
    assert message.count("; ") == 20  # 20 problems and the "more" note
    assert message.endswith(f"... and {info.value.error_count() - 20} more")


# --- validate_model -------------------------------------------------------------------------------------


def test_valid_body_becomes_the_model() -> None:
    creds = validate_model(Credentials, _credentials())
    assert isinstance(creds, Credentials)
    assert creds.roles[0].party_id == "EMS"


def test_wrong_type_is_2001_naming_the_field() -> None:
    with pytest.raises(InvalidParametersError, match="/token") as info:
        validate_model(Credentials, _credentials(token=123))
    assert (info.value.http_status, info.value.ocpi_status) == (400, 2001)


def test_unknown_enum_value_is_named_by_its_pointer_into_the_list() -> None:
    body = _credentials()
    body["roles"][0]["role"] = "FOO"
    with pytest.raises(InvalidParametersError) as info:
        validate_model(Credentials, body)
    assert info.value.message.startswith("/roles/0/role: ")


def test_missing_field_is_named() -> None:
    body = _credentials()
    del body["url"]
    with pytest.raises(InvalidParametersError, match="/url: Field required"):
        validate_model(Credentials, body)


def test_too_long_nested_string_is_named() -> None:
    body = _credentials()
    body["roles"][0]["business_details"]["name"] = "n" * 101
    with pytest.raises(InvalidParametersError, match=r"/roles/0/business_details/name: .*at most 100"):
        validate_model(Credentials, body)


def test_model_level_rule_is_reported_too() -> None:
    body = _credentials()
    body["roles"] = body["roles"] * 2
    with pytest.raises(InvalidParametersError, match=r"/roles: .*listed twice"):
        validate_model(Credentials, body)


@pytest.mark.parametrize(
    ("data", "kind"), [([], "list"), ([_credentials()], "list"), ("x", "str"), (None, "NoneType"), (1, "int")]
)
def test_non_object_bodies_are_rejected(data: object, kind: str) -> None:
    with pytest.raises(InvalidParametersError, match=f"must be a JSON object, got {kind}") as info:
        validate_model(Credentials, data)
    assert info.value.ocpi_status == 2001
