"""Unit tests for request/correlation ids and routing headers (transport_and_format_unique_messageg_ids,
transport_and_format_message_routing)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from evroam.errors import InvalidParametersError
from evroam.transport.envelope import OcpiResponse
from evroam.transport.errors import install_error_handlers
from evroam.transport.headers import CORRELATION_ID, REQUEST_ID, RequestIdMiddleware, RoutingHeaders, new_id


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)

    @app.get("/ids")
    async def ids(request: Request) -> OcpiResponse:
        return OcpiResponse({"request_id": request.state.request_id, "correlation_id": request.state.correlation_id})

    @app.get("/boom")
    async def boom() -> OcpiResponse:
        raise RuntimeError("a bug")

    @app.get("/client-error")
    async def client_error() -> OcpiResponse:
        raise InvalidParametersError("nope")

    @app.get("/sets-its-own")
    async def sets_its_own() -> OcpiResponse:
        return OcpiResponse(headers={"X-Request-ID": "from-handler"})

    return app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
        yield client


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- RequestIdMiddleware --------------------------------------------------------------------------------


async def test_request_and_correlation_ids_are_echoed(http: httpx.AsyncClient) -> None:
    response = await http.get("/ids", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"})
    assert response.headers["X-Request-ID"] == "req-1"
    assert response.headers["X-Correlation-ID"] == "corr-1"
    assert response.json()["data"] == {"request_id": "req-1", "correlation_id": "corr-1"}


@pytest.mark.parametrize(
    ("request_name", "correlation_name"),
    [("x-request-id", "x-correlation-id"), ("X-REQUEST-ID", "X-CORRELATION-ID"), ("x-Request-Id", "X-correlation-ID")],
)
async def test_ids_are_read_whatever_the_header_name_case(
    http: httpx.AsyncClient, request_name: str, correlation_name: str
) -> None:
    response = await http.get("/ids", headers={request_name: "r", correlation_name: "c"})
    assert (response.headers["x-request-id"], response.headers["x-correlation-id"]) == ("r", "c")


async def test_missing_ids_are_generated_as_uuids(http: httpx.AsyncClient) -> None:
    response = await http.get("/ids")
    request_id = response.headers["X-Request-ID"]
    assert _is_uuid(request_id)
    assert response.json()["data"]["request_id"] == request_id


async def test_missing_correlation_id_defaults_to_the_request_id(http: httpx.AsyncClient) -> None:
    given = await http.get("/ids", headers={"X-Request-ID": "only-request"})
    assert given.headers["X-Correlation-ID"] == "only-request"
    generated = await http.get("/ids")
    assert generated.headers["X-Correlation-ID"] == generated.headers["X-Request-ID"]


async def test_generated_ids_differ_per_request(http: httpx.AsyncClient) -> None:
    ids = {(await http.get("/ids")).headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


async def test_correlation_id_is_kept_when_only_it_is_sent(http: httpx.AsyncClient) -> None:
    response = await http.get("/ids", headers={"X-Correlation-ID": "flow-7"})
    assert response.headers["X-Correlation-ID"] == "flow-7"
    assert _is_uuid(response.headers["X-Request-ID"])


@pytest.mark.parametrize("bad", ["x" * 101, "   ", "a\x01b", "tab\there"])
async def test_overlong_or_garbage_ids_are_replaced(http: httpx.AsyncClient, bad: str) -> None:
    response = await http.get("/ids", headers={"X-Request-ID": bad, "X-Correlation-ID": bad})
    assert _is_uuid(response.headers["X-Request-ID"])
    assert response.headers["X-Correlation-ID"] == response.headers["X-Request-ID"]


async def test_id_of_exactly_100_characters_is_kept(http: httpx.AsyncClient) -> None:
    value = "r" * 100
    response = await http.get("/ids", headers={"X-Request-ID": value})
    assert response.headers["X-Request-ID"] == value


async def test_surrounding_whitespace_of_an_id_is_trimmed(http: httpx.AsyncClient) -> None:
    response = await http.get("/ids", headers={"X-Request-ID": "  spaced  "})
    assert response.headers["X-Request-ID"] == "spaced"


async def test_non_ascii_id_is_echoed_byte_for_byte(http: httpx.AsyncClient) -> None:
    response = await http.get("/ids", headers={"X-Request-ID": b"caf\xe9"})
    assert response.headers.raw.count((b"x-request-id", b"caf\xe9")) == 1


async def test_ids_are_present_exactly_once_even_if_the_handler_sets_one(http: httpx.AsyncClient) -> None:
    response = await http.get("/sets-its-own", headers={"X-Request-ID": "client-id"})
    assert response.headers.get_list("x-request-id") == ["client-id"]
    assert len(response.headers.get_list("x-correlation-id")) == 1


async def test_ocpi_errors_still_carry_the_ids(http: httpx.AsyncClient) -> None:
    response = await http.get("/client-error", headers={"X-Request-ID": "r-err", "X-Correlation-ID": "c-err"})
    assert response.status_code == 400
    assert (response.headers["X-Request-ID"], response.headers["X-Correlation-ID"]) == ("r-err", "c-err")


async def test_not_found_still_carries_the_ids(http: httpx.AsyncClient) -> None:
    response = await http.get("/nowhere", headers={"X-Request-ID": "r-404"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "r-404"


async def test_unhandled_exception_is_http_500_with_a_3000_envelope_and_the_ids(http: httpx.AsyncClient) -> None:
    response = await http.get("/boom", headers={"X-Request-ID": "r-500", "X-Correlation-ID": "c-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert (response.headers["X-Request-ID"], response.headers["X-Correlation-ID"]) == ("r-500", "c-500")
    body = response.json()
    assert body["status_code"] == 3000
    assert body["status_message"] == "Internal server error"
    assert body["timestamp"].endswith("Z")
    assert "a bug" not in response.text  # internals are logged, not answered
    assert int(response.headers["content-length"]) == len(response.content)


async def test_unhandled_exception_is_logged(http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR", logger="evroam.transport"):
        await http.get("/boom", headers={"X-Request-ID": "r-log"})
    assert any("r-log" in record.getMessage() for record in caplog.records)


async def test_exception_after_the_response_started_is_reraised() -> None:
    async def half_sent(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("stream broke")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with pytest.raises(RuntimeError, match="stream broke"):
        await RequestIdMiddleware(half_sent)(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert dict(sent[0]["headers"])[b"x-request-id"]


async def test_non_http_scopes_pass_through_untouched() -> None:
    seen: list[Scope] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    scope: Scope = {"type": "lifespan"}
    await RequestIdMiddleware(inner)(scope, receive, send)
    assert seen == [{"type": "lifespan"}]


def test_new_id_is_a_fresh_uuid4() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, value)


def test_header_name_constants() -> None:
    assert (REQUEST_ID, CORRELATION_ID) == ("X-Request-ID", "X-Correlation-ID")


# --- RoutingHeaders -------------------------------------------------------------------------------------


def test_routing_headers_are_parsed_case_insensitively_and_uppercased() -> None:
    headers = Headers(
        raw=[
            (b"ocpi-from-country-code", b"nl"),
            (b"ocpi-from-party-id", b"ems"),
            (b"ocpi-to-country-code", b"DE"),
            (b"ocpi-to-party-id", b" cpo "),
        ]
    )
    parsed = RoutingHeaders.parse(headers)
    assert parsed == RoutingHeaders("NL", "EMS", "DE", "CPO")


def test_routing_headers_parse_from_httpx_headers_in_any_case() -> None:
    parsed = RoutingHeaders.parse(httpx.Headers({"OCPI-TO-PARTY-ID": "abc", "Ocpi-To-Country-Code": "be"}))
    assert parsed == RoutingHeaders(to_country_code="BE", to_party_id="ABC")


def test_absent_or_blank_routing_headers_are_none() -> None:
    parsed = RoutingHeaders.parse(httpx.Headers({"OCPI-from-party-id": "  "}))
    assert parsed == RoutingHeaders()
    assert parsed.as_headers() == {}


def test_as_headers_emits_only_the_set_values_with_spec_names() -> None:
    assert RoutingHeaders("NL", "EMS", None, None).as_headers() == {
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "EMS",
    }
    full = RoutingHeaders("NL", "EMS", "DE", "CPO").as_headers()
    assert full == {
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "EMS",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "CPO",
    }


def test_reply_swaps_from_and_to() -> None:
    request = RoutingHeaders("NL", "EMS", "DE", "CPO")
    assert request.reply() == RoutingHeaders("DE", "CPO", "NL", "EMS")
    assert request.reply().reply() == request


def test_routing_headers_round_trip_through_as_headers_and_parse() -> None:
    original = RoutingHeaders("NL", "EMS", "DE", "CPO")
    assert RoutingHeaders.parse(httpx.Headers(original.as_headers())) == original


def test_routing_headers_are_immutable() -> None:
    headers = RoutingHeaders("NL")
    with pytest.raises(AttributeError):
        headers.from_country_code = "DE"  # type: ignore[misc]
