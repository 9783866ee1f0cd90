"""Unit tests for the response envelope and the error handlers (transport_and_format_response_format)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from evroam.errors import InvalidParametersError, UnableToUseClientApiError, UnauthorizedError
from evroam.transport.envelope import OcpiResponse, dump_data, envelope_bytes
from evroam.transport.errors import install_error_handlers
from evroam.types import DateTime, Number, OcpiModel, String36

_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


class _Item(OcpiModel):
    id: String36
    price: Number | None = None
    last_updated: DateTime | None = None


class _Plain(BaseModel):
    a: int
    b: str | None = None


# --- envelope_bytes -------------------------------------------------------------------------------------


def test_envelope_keys_come_in_order_data_status_code_status_message_timestamp() -> None:
    body = json.loads(envelope_bytes(b'{"x":1}', 1000, "fine"))
    assert list(body) == ["data", "status_code", "status_message", "timestamp"]
    assert body["data"] == {"x": 1}
    assert body["status_code"] == 1000
    assert body["status_message"] == "fine"


def test_envelope_without_data_or_message_omits_them() -> None:
    body = json.loads(envelope_bytes(None, 2001))
    assert list(body) == ["status_code", "timestamp"]
    assert body["status_code"] == 2001


def test_envelope_status_code_is_a_json_int() -> None:
    raw = envelope_bytes(None)
    assert b'"status_code":1000,' in raw
    assert isinstance(json.loads(raw)["status_code"], int)


def test_envelope_timestamp_is_utc_z_within_25_characters() -> None:
    ts = json.loads(envelope_bytes(None))["timestamp"]
    assert _TIMESTAMP_RE.match(ts), ts
    assert len(ts) <= 25
    parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 5


@pytest.mark.parametrize(
    "message",
    ['quote " and backslash \\', "line\nbreak\ttab", "ünïcödé ✓", "</script>", "\x00\x1f"],
)
def test_status_message_is_json_escaped(message: str) -> None:
    raw = envelope_bytes(None, 2000, message)
    assert json.loads(raw)["status_message"] == message
    assert b"\n" not in raw


# --- dump_data ------------------------------------------------------------------------------------------


def test_models_are_dumped_without_none_fields() -> None:
    assert json.loads(dump_data(_Item(id="a"))) == {"id": "a"}
    assert json.loads(dump_data(_Plain(a=1))) == {"a": 1}


def test_lists_of_models_are_serialised_as_json_arrays() -> None:
    data = dump_data([_Item(id="a"), _Item(id="b", price=Decimal("1.25"))])
    assert data.startswith(b"[")
    assert json.loads(data) == [{"id": "a"}, {"id": "b", "price": 1.25}]


@pytest.mark.parametrize("empty", [[], ()])
def test_empty_list_is_an_empty_json_array(empty: list[object] | tuple[object, ...]) -> None:
    assert dump_data(empty) == b"[]"


def test_tuples_and_nested_lists_are_arrays() -> None:
    assert json.loads(dump_data(({"a": 1}, [1, 2]))) == [{"a": 1}, [1, 2]]


def test_strings_are_json_strings_not_arrays_of_characters() -> None:
    assert dump_data("ok") == b'"ok"'


def test_scalars_and_mappings_are_plain_json() -> None:
    assert dump_data(3) == b"3"
    assert dump_data(True) == b"true"
    assert json.loads(dump_data({"k": [1, None]})) == {"k": [1, None]}


def test_datetimes_and_decimals_in_plain_dicts_get_the_ocpi_wire_form() -> None:
    out = json.loads(dump_data({"at": datetime(2020, 1, 2, 3, 4, 5, 60_000, tzinfo=UTC), "n": Decimal("1.5")}))
    assert out == {"at": "2020-01-02T03:04:05.060Z", "n": 1.5}


def test_model_nested_in_a_dict_is_dumped_as_its_json() -> None:
    out = json.loads(dump_data({"item": _Item(id="x", last_updated=datetime(2020, 1, 1, tzinfo=UTC))}))
    assert out == {"item": {"id": "x", "last_updated": "2020-01-01T00:00:00Z"}}


# --- OcpiResponse ---------------------------------------------------------------------------------------


def test_ocpi_response_wraps_data_in_an_envelope_with_json_content_type() -> None:
    response = OcpiResponse([_Item(id="a")], headers={"X-Total-Count": "1"})
    assert response.status_code == 200
    assert response.media_type == "application/json"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-total-count"] == "1"
    body = json.loads(bytes(response.body))
    assert body["data"] == [{"id": "a"}]
    assert body["status_code"] == 1000
    assert "status_message" not in body


def test_ocpi_response_without_data_omits_the_data_key() -> None:
    body = json.loads(bytes(OcpiResponse().body))
    assert "data" not in body
    assert body["status_code"] == 1000


def test_ocpi_response_carries_error_codes_and_http_status() -> None:
    response = OcpiResponse(None, status_code=2001, status_message="bad", http_status=400)
    assert response.status_code == 400
    assert json.loads(bytes(response.body))["status_code"] == 2001


def test_ocpi_response_accepts_pre_serialised_data() -> None:
    body = json.loads(bytes(OcpiResponse(data_json=b'[{"id":"z"}]').body))
    assert body["data"] == [{"id": "z"}]


def test_content_length_matches_the_body() -> None:
    response = OcpiResponse({"a": "é"})
    assert int(response.headers["content-length"]) == len(response.body)


# --- install_error_handlers -----------------------------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/ocpi/2.2.1/bad-params")
    async def bad_params() -> OcpiResponse:
        raise InvalidParametersError("/id: too long")

    @app.get("/ocpi/2.2.1/unauthorized")
    async def unauthorized() -> OcpiResponse:
        raise UnauthorizedError()

    @app.get("/ocpi/2.2.1/with-data")
    async def with_data() -> OcpiResponse:
        raise UnableToUseClientApiError("versions GET failed", data={"url": "https://peer.example.com"})

    @app.get("/ocpi/2.2.1/typed")
    async def typed(limit: int) -> OcpiResponse:
        return OcpiResponse(limit)

    @app.post("/ocpi/2.2.1/only-post")
    async def only_post() -> OcpiResponse:
        return OcpiResponse()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        yield client


def _assert_envelope(response: httpx.Response, http_status: int, ocpi_status: int) -> dict[str, object]:
    assert response.status_code == http_status
    assert response.headers["content-type"] == "application/json"
    body: dict[str, object] = response.json()
    assert body["status_code"] == ocpi_status
    assert str(body["timestamp"]).endswith("Z")
    return body


async def test_ocpi_error_becomes_an_envelope_with_its_codes(http: httpx.AsyncClient) -> None:
    body = _assert_envelope(await http.get("/ocpi/2.2.1/bad-params"), 400, 2001)
    assert body["status_message"] == "/id: too long"
    assert "data" not in body


async def test_unauthorized_error_is_http_401_with_2000(http: httpx.AsyncClient) -> None:
    body = _assert_envelope(await http.get("/ocpi/2.2.1/unauthorized"), 401, 2000)
    assert "Unauthorized" in str(body["status_message"])


async def test_error_data_is_kept_in_the_envelope(http: httpx.AsyncClient) -> None:
    body = _assert_envelope(await http.get("/ocpi/2.2.1/with-data"), 200, 3001)
    assert body["data"] == {"url": "https://peer.example.com"}


async def test_unknown_path_is_404_with_an_envelope(http: httpx.AsyncClient) -> None:
    body = _assert_envelope(await http.get("/no/such/thing"), 404, 2000)
    assert "Not found" in str(body["status_message"])


async def test_wrong_method_is_405_with_an_envelope_and_allow_header(http: httpx.AsyncClient) -> None:
    response = await http.delete("/ocpi/2.2.1/only-post")
    body = _assert_envelope(response, 405, 2000)
    assert "Method not allowed" in str(body["status_message"])
    assert response.headers["allow"] == "POST"


async def test_framework_validation_errors_become_2001_naming_the_parameter(http: httpx.AsyncClient) -> None:
    body = _assert_envelope(await http.get("/ocpi/2.2.1/typed", params={"limit": "many"}), 400, 2001)
    assert "query /limit" in str(body["status_message"])
    body = _assert_envelope(await http.get("/ocpi/2.2.1/typed"), 400, 2001)
    assert "query /limit" in str(body["status_message"])
