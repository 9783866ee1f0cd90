"""Unit tests for `OcpiClient` against an httpx.MockTransport peer."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from evroam import __version__
from evroam.client import (
    OcpiClient,
    OcpiReply,
    PeerConnectionError,
    PeerProtocolError,
    PeerRequestError,
    PeerResponseError,
    UrlPolicy,
    UrlPolicyError,
)
from evroam.errors import (
    ClientError,
    InvalidParametersError,
    NotFoundError,
    ServerError,
    UnableToUseClientApiError,
    UnauthorizedError,
    UnknownTokenError,
)
from evroam.transport.headers import RoutingHeaders

# No DNS in unit tests: every peer URL is accepted statically and the mock transport answers.
OPEN = UrlPolicy(allow_http=True, allow_private=True)
URL = "https://peer.example.com/ocpi/2.2.1/locations"
TOKEN = "0a5f3c5e-9c2d-4d6e-8f70-1b2c3d4e5f60"


def envelope(data: Any = None, status_code: int = 1000, message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": "2024-01-01T00:00:00Z"}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["status_message"] = message
    return body


class Peer:
    """A mock peer: answers with `respond` and records every request."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._respond = respond or (lambda request: httpx.Response(200, json=envelope([])))

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._respond(request)

    def client(self, policy: UrlPolicy = OPEN) -> OcpiClient:
        return OcpiClient(policy, transport=httpx.MockTransport(self.handler))

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def answering(status: int, body: Any = None, *, content: bytes | None = None, **kw: Any) -> Peer:
    if content is not None:
        return Peer(lambda request: httpx.Response(status, content=content, **kw))
    return Peer(lambda request: httpx.Response(status, json=body, **kw))


# --- what is sent ---------------------------------------------------------------------------------------


async def test_authorization_is_base64_token_for_2_2_1() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert peer.last.headers["Authorization"] == "Token " + base64.b64encode(TOKEN.encode()).decode()


async def test_authorization_is_base64_when_version_is_unknown_yet() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("GET", URL, token=TOKEN, version=None)
    assert peer.last.headers["Authorization"] == "Token " + base64.b64encode(TOKEN.encode()).decode()


async def test_authorization_is_the_raw_token_for_2_1_1() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("GET", URL, token=TOKEN, version="2.1.1")
    assert peer.last.headers["Authorization"] == f"Token {TOKEN}"


async def test_every_request_has_a_unique_request_id_and_a_correlation_id() -> None:
    peer = Peer()
    async with peer.client() as client:
        for _ in range(5):
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    request_ids = [r.headers["X-Request-ID"] for r in peer.requests]
    assert len(set(request_ids)) == 5
    for r in peer.requests:
        uuid.UUID(r.headers["X-Request-ID"])
        uuid.UUID(r.headers["X-Correlation-ID"])


async def test_given_correlation_id_is_sent_and_a_new_request_id_made() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("GET", URL, token=TOKEN, version="2.2.1", correlation_id="flow-1")
        await client.request("GET", URL, token=TOKEN, version="2.2.1", correlation_id="flow-1")
    assert [r.headers["X-Correlation-ID"] for r in peer.requests] == ["flow-1", "flow-1"]
    assert peer.requests[0].headers["X-Request-ID"] != peer.requests[1].headers["X-Request-ID"]


async def test_reply_reports_the_request_id_that_was_sent() -> None:
    peer = Peer()
    async with peer.client() as client:
        reply = await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert reply.request_id == peer.last.headers["X-Request-ID"]


async def test_json_body_is_sent_compact_with_content_type() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("POST", URL, token=TOKEN, version="2.2.1", body={"a": [1, "é"], "b": None})
    assert peer.last.headers["Content-Type"] == "application/json"
    assert json.loads(peer.last.content) == {"a": [1, "é"], "b": None}
    assert b" " not in peer.last.content


async def test_bytes_body_is_sent_as_is() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("PUT", URL, token=TOKEN, version="2.2.1", body=b'{"raw":true}')
    assert peer.last.content == b'{"raw":true}'
    assert peer.last.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_no_content_type_without_a_body(method: str) -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request(method, URL, token=TOKEN, version="2.2.1")
    assert "content-type" not in peer.last.headers
    assert peer.last.content == b""


async def test_routing_headers_are_sent_when_given() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("GET", URL, token=TOKEN, version="2.2.1", routing=RoutingHeaders("NL", "EMS", "DE", "CPO"))
    headers = peer.last.headers
    assert (
        headers["OCPI-from-country-code"],
        headers["OCPI-from-party-id"],
        headers["OCPI-to-country-code"],
        headers["OCPI-to-party-id"],
    ) == ("NL", "EMS", "DE", "CPO")


async def test_no_routing_headers_without_routing() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert not any(name.lower().startswith("ocpi-") for name in peer.last.headers)


async def test_query_parameters_and_user_agent_are_sent() -> None:
    peer = Peer()
    async with peer.client() as client:
        await client.request(
            "GET", URL, token=TOKEN, version="2.2.1", params={"date_from": "2024-01-01T00:00:00Z", "limit": "10"}
        )
    assert peer.last.url.params["date_from"] == "2024-01-01T00:00:00Z"
    assert peer.last.url.params["limit"] == "10"
    assert peer.last.headers["User-Agent"] == f"evroam/{__version__}"


# --- successful answers ---------------------------------------------------------------------------------


async def test_1000_answer_returns_a_reply_with_the_data() -> None:
    peer = answering(200, envelope([{"id": "LOC1"}], message="ok"), headers={"X-Total-Count": "1"})
    async with peer.client() as client:
        reply = await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert isinstance(reply, OcpiReply)
    assert (reply.http_status, reply.status_code, reply.status_message) == (200, 1000, "ok")
    assert reply.data == [{"id": "LOC1"}]
    assert reply.headers["x-total-count"] == "1"
    assert reply.elapsed_ms >= 0


async def test_201_with_1000_is_a_success() -> None:
    peer = answering(201, envelope())
    async with peer.client() as client:
        reply = await client.request("PUT", URL, token=TOKEN, version="2.2.1", body={})
    assert (reply.http_status, reply.data) == (201, None)


async def test_custom_1900_success_code_is_a_success() -> None:
    peer = answering(200, envelope("x", status_code=1901))
    async with peer.client() as client:
        reply = await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert reply.status_code == 1901


async def test_non_string_status_message_is_dropped() -> None:
    peer = answering(200, {"status_code": 1000, "status_message": 5, "timestamp": "2024-01-01T00:00:00Z"})
    async with peer.client() as client:
        reply = await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert reply.status_message is None


# --- error answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("http", "code", "cls"),
    [
        (200, 2001, InvalidParametersError),
        (400, 2001, InvalidParametersError),
        (404, 2004, UnknownTokenError),
        (200, 2000, ClientError),
        (200, 3001, UnableToUseClientApiError),
        (500, 3000, ServerError),
        (404, 2000, NotFoundError),
    ],
)
async def test_error_envelope_raises_peer_response_error_with_the_mapped_error(
    http: int, code: int, cls: type[Exception]
) -> None:
    peer = answering(http, envelope(message="peer says no", status_code=code, data={"hint": 1}))
    async with peer.client() as client:
        with pytest.raises(PeerResponseError) as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    error = info.value.error
    assert type(error) is cls
    assert (error.http_status, error.ocpi_status, error.message, error.data) == (
        http,
        code,
        "peer says no",
        {"hint": 1},
    )
    assert info.value.url == URL
    assert f"HTTP {http}, OCPI {code}" in info.value.message


async def test_custom_error_code_maps_to_its_range_and_keeps_the_code() -> None:
    peer = answering(200, envelope(status_code=3950))
    async with peer.client() as client:
        with pytest.raises(PeerResponseError) as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert type(info.value.error) is ServerError
    assert info.value.error.ocpi_status == 3950


async def test_http_401_maps_to_unauthorized() -> None:
    peer = answering(401, envelope(status_code=2000, message="unknown token"))
    async with peer.client() as client:
        with pytest.raises(PeerResponseError) as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert isinstance(info.value.error, UnauthorizedError)
    assert info.value.error.http_status == 401


async def test_success_code_with_an_http_error_status_is_an_error() -> None:
    peer = answering(500, envelope(status_code=1000))
    async with peer.client() as client:
        with pytest.raises(PeerResponseError) as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert type(info.value.error) is ServerError
    assert info.value.error.http_status == 500


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (200, b"<html>hello</html>"),
        (200, b""),
        (502, b"Bad Gateway"),
        (200, b"\xff\xfe\xfd"),
        (200, b"[" * 100_000 + b"]" * 100_000),
    ],
)
async def test_non_json_answer_is_a_protocol_error(status: int, content: bytes) -> None:
    peer = answering(status, content=content)
    async with peer.client() as client:
        with pytest.raises(PeerProtocolError, match=f"HTTP {status} without an OCPI envelope") as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert info.value.http_status == status
    assert info.value.url == URL


@pytest.mark.parametrize(
    "body",
    [
        [{"status_code": 1000}],
        {"data": []},
        {"status_code": "1000", "timestamp": "2024-01-01T00:00:00Z"},
        {"status_code": None},
        "1000",
        1000,
    ],
)
async def test_json_that_is_not_an_envelope_is_a_protocol_error(body: Any) -> None:
    peer = answering(200, body)
    async with peer.client() as client:
        with pytest.raises(PeerProtocolError, match="without an OCPI envelope"):
            await client.request("GET", URL, token=TOKEN, version="2.2.1")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_is_not_followed_and_is_a_protocol_error(status: int) -> None:
    peer = answering(status, envelope(), headers={"Location": "https://elsewhere.example.com/x"})
    async with peer.client() as client:
        with pytest.raises(PeerProtocolError, match=r"redirect to https://elsewhere\.example\.com/x") as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert info.value.http_status == status
    assert len(peer.requests) == 1
    assert peer.last.url == URL


# --- failures before or instead of an answer ------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadError("reset"),
    ],
)
async def test_connection_errors_are_peer_connection_errors(exc: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    async with Peer(fail).client() as client:
        with pytest.raises(PeerConnectionError, match="failed") as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert info.value.url == URL


@pytest.mark.parametrize("exc", [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slower"), httpx.PoolTimeout("x")])
async def test_timeouts_are_peer_connection_errors(exc: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    async with Peer(fail).client() as client:
        with pytest.raises(PeerConnectionError, match="timed out"):
            await client.request("GET", URL, token=TOKEN, version="2.2.1")


@pytest.mark.parametrize(
    "url",
    [
        "http://peer.example.com/ocpi/versions",
        "https://127.0.0.1/ocpi/versions",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/ocpi/versions",
        "https://user:pw@peer.example.com/",
        "file:///etc/passwd",
    ],
)
async def test_url_refused_by_policy_raises_before_any_request(url: str) -> None:
    peer = Peer()
    async with peer.client(UrlPolicy()) as client:
        with pytest.raises(UrlPolicyError):
            await client.request("GET", url, token=TOKEN, version="2.2.1")
    assert peer.requests == []


async def test_url_httpx_cannot_send_is_a_peer_request_error_before_any_request() -> None:
    peer = Peer()
    async with peer.client() as client:
        with pytest.raises(PeerRequestError, match="cannot be sent"):
            await client.request("GET", "https://peer.example.com/a\x01b", token=TOKEN, version="2.2.1")
        with pytest.raises(PeerRequestError, match="cannot be sent"):
            await client.request("GET", "https://xn--a.example.com/", token=TOKEN, version="2.2.1")
    assert peer.requests == []


async def test_timeout_is_applied_to_requests() -> None:
    peer = Peer()
    async with OcpiClient(OPEN, timeout=2.5, transport=httpx.MockTransport(peer.handler)) as client:
        await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert peer.last.extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


async def test_bare_http_401_without_envelope_is_unauthorized() -> None:
    peer = answering(401, content=b"Unauthorized")
    async with peer.client() as client:
        with pytest.raises(PeerResponseError) as info:
            await client.request("GET", URL, token=TOKEN, version="2.2.1")
    assert isinstance(info.value.error, UnauthorizedError)
