"""Bad input against an in-process node: exact HTTP status, OCPI status and envelope, and nothing stored.

Black-box: every request goes through the node's ASGI app; state is checked through the store and by
using token A again afterwards.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from evroam.node import Node
from evroam.parties.initiate import issue_registration_token
from evroam.store.interface import PeerStatus

from support.nodes import InProcessNetwork

pytestmark = pytest.mark.asyncio

HOST = "cpo.test"
CREDENTIALS = "/ocpi/2.2.1/credentials"
MAX_BODY = 2048


def b64(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


def creds_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": "c" * 30,
        "url": "http://emsp.test/ocpi/versions",
        "roles": [{"role": "EMSP", "business_details": {"name": "Test eMSP"}, "party_id": "EMS", "country_code": "NL"}],
    }
    body.update(overrides)
    return body


@dataclass
class Probe:
    """A node with one pending peer holding token A, and a client that checks every answer's envelope."""

    node: Node
    network: InProcessNetwork
    http: httpx.AsyncClient
    token_a: str

    async def call(
        self,
        method: str,
        path: str,
        *,
        http_status: int,
        ocpi_status: int,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        sent = {"X-Request-ID": request_id, **(headers or {})}
        if body is not None:
            content = json.dumps(body).encode()
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
        response = await self.http.request(method, path, headers=sent, content=content)
        assert response.status_code == http_status, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-request-id"] == request_id
        assert response.headers["x-correlation-id"]
        envelope: dict[str, Any] = response.json()
        assert isinstance(envelope, dict)
        assert type(envelope["status_code"]) is int
        assert envelope["status_code"] == ocpi_status, envelope
        assert isinstance(envelope["timestamp"], str)
        assert envelope["timestamp"].endswith("Z")
        assert len(envelope["timestamp"]) <= 25
        return envelope

    async def post_credentials(self, *, http_status: int, ocpi_status: int, **kw: Any) -> dict[str, Any]:
        return await self.call(
            "POST",
            CREDENTIALS,
            headers={"Authorization": b64(self.token_a)},
            http_status=http_status,
            ocpi_status=ocpi_status,
            **kw,
        )

    async def assert_nothing_stored(self) -> None:
        """The peer is still the one pending registration, token A still works, no callback was made."""
        [peer] = await self.node.store.list_peers()
        assert peer.status == PeerStatus.PENDING
        assert peer.token_out is None
        assert peer.roles == ()
        assert not [r for r in self.network.transport.requests if r.url.host != HOST]
        await self.call(
            "GET", "/ocpi/versions", headers={"Authorization": b64(self.token_a)}, http_status=200, ocpi_status=1000
        )


@asynccontextmanager
async def open_probe(network: InProcessNetwork, **settings: object) -> AsyncIterator[Probe]:
    node = await network.add(HOST, "NL-CPO-CPO", **settings)
    _, token_a = await issue_registration_token(node, "emsp")
    async with network.client(HOST) as http:
        yield Probe(node, network, http, token_a)


@pytest.fixture
async def probe(network: InProcessNetwork) -> AsyncIterator[Probe]:
    async with open_probe(network, max_body_bytes=MAX_BODY) as p:
        yield p


# --- authorization --------------------------------------------------------------------------------------


async def test_no_authorization_header_is_401(probe: Probe) -> None:
    envelope = await probe.call("GET", "/ocpi/versions", http_status=401, ocpi_status=2000)
    assert "missing credentials token" in envelope["status_message"]
    await probe.assert_nothing_stored()


@pytest.mark.parametrize("value", ["Bearer x", "Bearer", "Basic dXNlcjpwYXNz", "", "Token", "Token    "])
async def test_non_token_authorization_is_401(probe: Probe, value: str) -> None:
    await probe.call("GET", "/ocpi/versions", headers={"Authorization": value}, http_status=401, ocpi_status=2000)
    await probe.assert_nothing_stored()


async def test_bearer_scheme_with_a_valid_token_is_still_401(probe: Probe) -> None:
    encoded = base64.b64encode(probe.token_a.encode()).decode()
    for value in (f"Bearer {encoded}", f"Bearer {probe.token_a}"):
        await probe.call("GET", "/ocpi/versions", headers={"Authorization": value}, http_status=401, ocpi_status=2000)


@pytest.mark.parametrize("token", ["unknown-token", "x" * 64])
async def test_unknown_token_is_401(probe: Probe, token: str) -> None:
    for value in (b64(token), f"Token {token}"):
        envelope = await probe.call(
            "GET", "/ocpi/versions", headers={"Authorization": value}, http_status=401, ocpi_status=2000
        )
        assert envelope["status_message"] == "unknown credentials token"
    await probe.assert_nothing_stored()


async def test_unknown_token_on_credentials_post_is_401_and_stores_nothing(probe: Probe) -> None:
    await probe.call(
        "POST",
        CREDENTIALS,
        headers={"Authorization": b64("not-token-a")},
        body=creds_body(),
        http_status=401,
        ocpi_status=2000,
    )
    await probe.assert_nothing_stored()


async def test_token_a_in_another_case_is_unknown(probe: Probe) -> None:
    swapped = probe.token_a.swapcase()
    assert swapped != probe.token_a
    await probe.call(
        "GET", "/ocpi/versions", headers={"Authorization": b64(swapped)}, http_status=401, ocpi_status=2000
    )


async def test_raw_non_base64_token_a_is_accepted(probe: Probe) -> None:
    envelope = await probe.call(
        "GET", "/ocpi/versions", headers={"Authorization": f"Token {probe.token_a}"}, http_status=200, ocpi_status=1000
    )
    assert isinstance(envelope["data"], list)
    await probe.assert_nothing_stored()


@pytest.mark.parametrize("name", ["authorization", "AUTHORIZATION", "AuThOrIzAtIoN"])
async def test_authorization_header_name_in_any_case_is_accepted(probe: Probe, name: str) -> None:
    await probe.call("GET", "/ocpi/versions", headers={name: b64(probe.token_a)}, http_status=200, ocpi_status=1000)


@pytest.mark.parametrize("scheme", ["token", "TOKEN"])
async def test_token_scheme_in_any_case_is_accepted(probe: Probe, scheme: str) -> None:
    encoded = base64.b64encode(probe.token_a.encode()).decode()
    await probe.call(
        "GET", "/ocpi/versions", headers={"Authorization": f"{scheme} {encoded}"}, http_status=200, ocpi_status=1000
    )


# --- credentials POST bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"{bad", b"{'token': 'x'}", b'{"token": "x",}', b"\xff\xfe", b"nul"])
async def test_malformed_json_is_400_with_2000(probe: Probe, content: bytes) -> None:
    envelope = await probe.post_credentials(content=content, http_status=400, ocpi_status=2000)
    assert "not valid JSON" in envelope["status_message"]
    await probe.assert_nothing_stored()


@pytest.mark.parametrize("content", [b"", b"  \n"])
async def test_empty_body_is_400(probe: Probe, content: bytes) -> None:
    envelope = await probe.post_credentials(content=content, http_status=400, ocpi_status=2000)
    assert "empty" in envelope["status_message"]
    await probe.assert_nothing_stored()


@pytest.mark.parametrize("content", [b'{"token": NaN}', b"[Infinity]"])
async def test_non_standard_json_constants_are_400(probe: Probe, content: bytes) -> None:
    await probe.post_credentials(content=content, http_status=400, ocpi_status=2000)
    await probe.assert_nothing_stored()


async def test_absurdly_nested_json_is_400_not_500(network: InProcessNetwork) -> None:
    async with open_probe(network) as probe:  # default limit: the body is large but allowed
        content = b"[" * 100_000 + b"]" * 100_000
        await probe.post_credentials(content=content, http_status=400, ocpi_status=2000)
        await probe.assert_nothing_stored()


@pytest.mark.parametrize("body", [[], [creds_body()], "credentials", 42, None])
async def test_json_that_is_not_an_object_is_400_with_2001(probe: Probe, body: Any) -> None:
    envelope = await probe.post_credentials(content=json.dumps(body).encode(), http_status=400, ocpi_status=2001)
    assert "must be a JSON object" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_wrong_type_is_400_with_2001_naming_the_field(probe: Probe) -> None:
    envelope = await probe.post_credentials(body=creds_body(token=123), http_status=400, ocpi_status=2001)
    assert "/token" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_missing_required_field_is_2001_naming_it(probe: Probe) -> None:
    body = creds_body()
    del body["url"]
    envelope = await probe.post_credentials(body=body, http_status=400, ocpi_status=2001)
    assert "/url" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_unknown_role_is_2001_naming_roles_0_role(probe: Probe) -> None:
    body = creds_body()
    body["roles"][0]["role"] = "FOO"
    envelope = await probe.post_credentials(body=body, http_status=400, ocpi_status=2001)
    assert "/roles/0/role" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_too_long_business_name_is_2001(probe: Probe) -> None:
    body = creds_body()
    body["roles"][0]["business_details"]["name"] = "n" * 101
    envelope = await probe.post_credentials(body=body, http_status=400, ocpi_status=2001)
    assert "/roles/0/business_details/name" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_too_long_token_is_2001(probe: Probe) -> None:
    envelope = await probe.post_credentials(body=creds_body(token="t" * 65), http_status=400, ocpi_status=2001)
    assert "/token" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_control_character_in_a_cistring_is_2001(probe: Probe) -> None:
    body = creds_body()
    body["roles"][0]["party_id"] = "E\nS"
    envelope = await probe.post_credentials(body=body, http_status=400, ocpi_status=2001)
    assert "/roles/0/party_id" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_duplicate_role_entries_are_2001(probe: Probe) -> None:
    body = creds_body()
    duplicate = dict(body["roles"][0], party_id="ems", country_code="nl")  # same party, other case
    body["roles"].append(duplicate)
    envelope = await probe.post_credentials(body=body, http_status=400, ocpi_status=2001)
    assert "listed twice" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_empty_roles_list_is_2001(probe: Probe) -> None:
    envelope = await probe.post_credentials(body=creds_body(roles=[]), http_status=400, ocpi_status=2001)
    assert "/roles" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_oversized_body_is_413(probe: Probe) -> None:
    body = creds_body(padding="p" * MAX_BODY)
    envelope = await probe.post_credentials(body=body, http_status=413, ocpi_status=2000)
    assert str(MAX_BODY) in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_body_just_under_the_limit_is_read(probe: Probe) -> None:
    # An invalid but size-acceptable body gets past the size check to validation (2001, not 413).
    content = json.dumps({"padding": "p" * (MAX_BODY - 20)}).encode()
    assert len(content) <= MAX_BODY
    await probe.post_credentials(content=content, http_status=400, ocpi_status=2001)
    await probe.assert_nothing_stored()


# --- routing of unknown paths, methods and versions -----------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/ocpi/2.2.1/credentials/extra", "/ocpi/", "/"])
async def test_unknown_path_is_404_with_an_envelope(probe: Probe, path: str) -> None:
    await probe.call("GET", path, headers={"Authorization": b64(probe.token_a)}, http_status=404, ocpi_status=2000)


async def test_unknown_path_without_authorization_is_also_404_with_an_envelope(probe: Probe) -> None:
    await probe.call("GET", "/nope", http_status=404, ocpi_status=2000)


async def test_patch_on_credentials_is_405_with_an_envelope(probe: Probe) -> None:
    envelope = await probe.call(
        "PATCH",
        CREDENTIALS,
        headers={"Authorization": b64(probe.token_a)},
        body={"token": "x"},
        http_status=405,
        ocpi_status=2000,
    )
    assert "Method not allowed" in envelope["status_message"]
    await probe.assert_nothing_stored()


async def test_unsupported_method_on_versions_is_405(probe: Probe) -> None:
    await probe.call(
        "DELETE", "/ocpi/versions", headers={"Authorization": b64(probe.token_a)}, http_status=405, ocpi_status=2000
    )


async def test_unsupported_version_in_credentials_url_is_404(probe: Probe) -> None:
    envelope = await probe.call(
        "GET", "/ocpi/9.9/credentials", headers={"Authorization": b64(probe.token_a)}, http_status=404, ocpi_status=2000
    )
    assert "9.9" in envelope["status_message"]


async def test_valid_registration_to_an_unsupported_version_is_404_and_stores_nothing(probe: Probe) -> None:
    await probe.call(
        "POST",
        "/ocpi/9.9/credentials",
        headers={"Authorization": b64(probe.token_a)},
        body=creds_body(),
        http_status=404,
        ocpi_status=2000,
    )
    await probe.assert_nothing_stored()


async def test_unsupported_version_details_is_404(probe: Probe) -> None:
    envelope = await probe.call(
        "GET", "/ocpi/9.9", headers={"Authorization": b64(probe.token_a)}, http_status=404, ocpi_status=2000
    )
    assert "2.2.1" in envelope["status_message"]


# --- ids on every answer --------------------------------------------------------------------------------


async def test_correlation_id_is_echoed_on_errors(probe: Probe) -> None:
    response = await probe.http.get("/ocpi/versions", headers={"X-Request-ID": "r-1", "X-Correlation-ID": "c-1"})
    assert response.status_code == 401
    assert (response.headers["x-request-id"], response.headers["x-correlation-id"]) == ("r-1", "c-1")


async def test_missing_request_id_is_generated_on_errors(probe: Probe) -> None:
    response = await probe.http.get("/nope")
    assert response.status_code == 404
    uuid.UUID(response.headers["x-request-id"])
    assert response.headers["x-correlation-id"] == response.headers["x-request-id"]
