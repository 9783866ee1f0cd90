"""The OCPI requests a node answered, counted by module, interface and operation, with their latencies."""

from __future__ import annotations

import pytest
from starlette.types import Message

from evroam.transport.traffic import Traffic

pytestmark = pytest.mark.asyncio


async def answer(traffic: Traffic, method: str, path: str, status: int = 200) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    counted = traffic.counting(path, method, send)
    await counted({"type": "http.response.start", "status": status, "headers": []})
    await counted({"type": "http.response.body", "body": b"{", "more_body": True})
    await counted({"type": "http.response.body", "body": b"}"})
    return sent


def kinds(traffic: Traffic) -> dict[tuple[str, str, str], tuple[int, int]]:
    return {(r.module, r.interface, r.operation): (r.requests, r.failed) for r in traffic.rows()}


async def test_requests_are_counted_by_module_interface_and_operation() -> None:
    traffic = Traffic()
    await answer(traffic, "PATCH", "/ocpi/2.2.1/receiver/locations/NL/CPO/LOC1/E1")
    await answer(traffic, "PATCH", "/ocpi/2.2.1/receiver/locations/NL/CPO/LOC2")
    await answer(traffic, "GET", "/ocpi/2.2.1/sender/locations")
    await answer(traffic, "POST", "/ocpi/2.2.1/sender/tokens/CARD1/authorize")
    await answer(traffic, "POST", "/ocpi/2.2.1/sender/tokens/NOBODY/authorize", status=404)
    await answer(traffic, "POST", "/ocpi/2.2.1/credentials")
    await answer(traffic, "GET", "/ocpi/versions")
    await answer(traffic, "GET", "/ocpi/2.2.1")
    assert kinds(traffic) == {
        ("locations", "RECEIVER", "PATCH"): (2, 0),
        ("locations", "SENDER", "GET"): (1, 0),
        ("tokens", "SENDER", "POST authorize"): (2, 1),
        ("credentials", "", "POST"): (1, 0),
        ("versions", "", "GET"): (1, 0),
        ("versions", "", "GET details"): (1, 0),
    }


async def test_the_response_is_sent_unchanged() -> None:
    sent = await answer(Traffic(), "GET", "/ocpi/versions", status=401)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body", "http.response.body"]
    assert sent[0]["status"] == 401


async def test_the_back_office_and_stray_paths_are_not_ocpi_traffic() -> None:
    traffic = Traffic()
    await answer(traffic, "GET", "/admin/api/locations")
    await answer(traffic, "GET", "/")
    await answer(traffic, "GET", "/ocpi/2.2.1/elsewhere")
    assert traffic.rows() == []


async def test_whatever_peers_send_makes_few_kinds_of_request() -> None:
    traffic = Traffic()
    for n in range(100):
        await answer(traffic, f"M{n}", f"/ocpi/2.2.1/receiver/module{n}/x")
    assert kinds(traffic) == {("other", "RECEIVER", "OTHER"): (100, 0)}


async def test_latencies_give_percentiles_and_the_maximum() -> None:
    traffic = Traffic()
    kind = ("sessions", "RECEIVER", "PUT")
    for ms in range(1, 101):
        traffic.record(kind, 200, ms / 1000)
    [row] = traffic.rows()
    assert (row.requests, row.p50_ms, row.max_ms) == (100, 50.5, 100)
    assert 99 <= row.p99_ms <= 100
