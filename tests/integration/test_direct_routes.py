"""Locations pushes served without the framework (`evroam.modules.direct`) answer exactly as the framework's
routes do: the same statuses, envelopes, messages and headers, for good and bad requests alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

import evroam.app
from evroam.node import Node

from support.nodes import (
    InProcessNetwork,
    Roaming,
    at,
    connect_cpo_and_emsp,
    connector_body,
    evse_body,
    location_body,
    token_header,
)

pytestmark = pytest.mark.asyncio

BASE = "/ocpi/2.2.1/receiver/locations/NL/CPO"
MAX_BODY = 4096


@pytest.fixture
async def roaming(tmp_path: Any) -> AsyncIterator[Roaming]:
    network = InProcessNetwork(tmp_path)
    try:
        pair = await connect_cpo_and_emsp(network, cpo_party="NL-CPO-CPO", emsp_settings={"max_body_bytes": MAX_BODY})
        await pair.at_emsp.put(f"{BASE}/LOC1", location_body(), status=(200, 201))
        yield pair
    finally:
        await network.close()


@pytest.fixture
def direct_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the app served directly."""
    seen: list[str] = []
    serve = evroam.app.serve_direct

    async def counting(node: Node, scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])
        await serve(node, scope, receive, send)

    monkeypatch.setattr(evroam.app, "serve_direct", counting)
    return seen


def _framework(app: FastAPI) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def through_the_framework(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return through_the_framework


def _comparable(response: httpx.Response) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
    envelope = response.json()
    envelope.pop("timestamp")
    return response.status_code, envelope, sorted(response.headers.items())


def _cases(token: str) -> list[tuple[str, str, str, dict[str, str], bytes]]:
    """(what, method, path, headers, body) of requests whose answer does not depend on being the first."""
    auth = token_header(token)
    ids = {"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
    plain = {**auth, **ids, "Content-Type": "application/json"}

    def body(value: Any) -> bytes:
        return json.dumps(value).encode()

    status = body({"status": "CHARGING", "last_updated": at(5)})
    return [
        ("EVSE PATCH", "PATCH", f"{BASE}/LOC1/EVSE1", plain, status),
        ("Connector PATCH", "PATCH", f"{BASE}/LOC1/EVSE1/1", plain, body({"max_amperage": 16, "last_updated": at(5)})),
        ("Location PATCH", "PATCH", f"{BASE}/LOC1", plain, body({"name": "Centraal", "last_updated": at(5)})),
        ("stale PATCH", "PATCH", f"{BASE}/LOC1/EVSE1", plain, body({"status": "BLOCKED", "last_updated": at(1)})),
        ("Location PUT again", "PUT", f"{BASE}/LOC1", plain, body(location_body(last_updated=at(6)))),
        ("EVSE PUT again", "PUT", f"{BASE}/LOC1/EVSE1", plain, body(evse_body(last_updated=at(7)))),
        ("Connector PUT again", "PUT", f"{BASE}/LOC1/EVSE1/1", plain, body(connector_body(last_updated=at(8)))),
        ("unknown Location", "PATCH", f"{BASE}/NOPE", plain, status),
        ("unknown EVSE", "PATCH", f"{BASE}/LOC1/NOPE", plain, status),
        ("unknown Connector", "PATCH", f"{BASE}/LOC1/EVSE1/9", plain, status),
        ("EVSE PUT into unknown Location", "PUT", f"{BASE}/NOPE/EVSE1", plain, body(evse_body())),
        ("another party's URL", "PATCH", "/ocpi/2.2.1/receiver/locations/DE/XYZ/LOC1/EVSE1", plain, status),
        ("unsupported version", "PATCH", "/ocpi/9.9/receiver/locations/NL/CPO/LOC1/EVSE1", plain, status),
        ("malformed JSON", "PATCH", f"{BASE}/LOC1/EVSE1", plain, b'{"status": '),
        ("not an object", "PATCH", f"{BASE}/LOC1/EVSE1", plain, b"[1, 2]"),
        ("unknown enum", "PATCH", f"{BASE}/LOC1/EVSE1", plain, body({"status": "ON_FIRE", "last_updated": at(9)})),
        ("wrong type", "PUT", f"{BASE}/LOC1", plain, body({**location_body(), "evses": "many"})),
        ("id differs from URL", "PUT", f"{BASE}/LOC1/EVSE1", plain, body(evse_body("EVSE2"))),
        ("no last_updated", "PATCH", f"{BASE}/LOC1/EVSE1", plain, body({"status": "CHARGING"})),
        ("oversized body", "PATCH", f"{BASE}/LOC1", plain, body({"name": "x" * MAX_BODY, "last_updated": at(9)})),
        ("wrong token", "PATCH", f"{BASE}/LOC1/EVSE1", {**plain, **token_header("not-a-token")}, status),
        ("no token", "PATCH", f"{BASE}/LOC1/EVSE1", {**ids, "Content-Type": "application/json"}, status),
        ("no request ids", "PATCH", f"{BASE}/LOC1/EVSE1", {**auth, "Content-Type": "application/json"}, status),
        ("routing headers", "PATCH", f"{BASE}/LOC1/EVSE1", {**plain, **_routing("NL", "CPO", "NL", "EMS")}, status),
        (
            "OCPI-to not hosted here",
            "PATCH",
            f"{BASE}/LOC1/EVSE1",
            {**plain, **_routing("NL", "CPO", "BE", "ZZZ")},
            status,
        ),
    ]


def _routing(from_cc: str, from_pid: str, to_cc: str, to_pid: str) -> dict[str, str]:
    return {
        "OCPI-from-country-code": from_cc,
        "OCPI-from-party-id": from_pid,
        "OCPI-to-country-code": to_cc,
        "OCPI-to-party-id": to_pid,
    }


async def test_direct_answers_equal_the_frameworks(roaming: Roaming, direct_calls: list[str]) -> None:
    app = roaming.network.apps["emsp.test"]
    direct = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emsp.test")
    framework = httpx.AsyncClient(transport=httpx.ASGITransport(app=_framework(app)), base_url="http://emsp.test")
    try:
        for what, method, path, headers, content in _cases(roaming.link.to_client):
            before = len(direct_calls)
            by_framework = await framework.request(method, path, headers=headers, content=content)
            assert len(direct_calls) == before, what
            served = await direct.request(method, path, headers=headers, content=content)
            assert len(direct_calls) == before + 1, f"{what}: not served directly"
            if what == "no request ids":
                for response in (by_framework, served):  # made up for each request
                    assert response.headers["x-correlation-id"] == response.headers["x-request-id"]
                    del response.headers["x-request-id"], response.headers["x-correlation-id"]
            assert _comparable(served) == _comparable(by_framework), what
            assert served.headers["content-type"] == "application/json", what
    finally:
        await direct.aclose()
        await framework.aclose()
    stored = await roaming.at_emsp.data(f"{BASE}/LOC1")
    assert stored["last_updated"] == at(8)
    assert stored["evses"][0]["connectors"] == [connector_body(last_updated=at(8))]


async def test_other_requests_take_the_framework(roaming: Roaming, direct_calls: list[str]) -> None:
    at_emsp = roaming.at_emsp
    await at_emsp.get(f"{BASE}/LOC1/EVSE1")
    slash = await at_emsp.http.patch(f"{BASE}/LOC1/EVSE1/", headers=token_header(roaming.link.to_client))
    assert slash.status_code in (307, 404)  # whatever the framework makes of a trailing slash
    await at_emsp.call("DELETE", f"{BASE}/LOC1", status=405, ocpi=2000)
    await at_emsp.patch(
        "/ocpi/2.2.1/receiver/sessions/NL/CPO/S1", {"kwh": 1, "last_updated": at(5)}, status=404, ocpi=2000
    )
    assert direct_calls == []


async def test_a_cpo_without_a_locations_receiver_answers_404(roaming: Roaming, direct_calls: list[str]) -> None:
    await roaming.at_cpo.patch(
        "/ocpi/2.2.1/receiver/locations/NL/EMS/LOC1/EVSE1",
        {"status": "CHARGING", "last_updated": at(5)},
        status=404,
        ocpi=2000,
    )
    assert direct_calls == []  # the CPO's node mounts the Locations Sender only
