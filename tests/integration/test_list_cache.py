"""Sender list pages served from memory: the same answer as rendering afresh, and never a stale one.

A CPO with two eMSPs registered at it; the CPO follows its database's changes (as a serving node does),
so list pages it rendered are answered from memory until a module they are read from changes, whether
through this node, through a second store on the same database (another process), or by a peer's push.
Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from evroam.modules.locations.service import LocationPath, patch_at, put_at
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.store import open_store
from evroam.store.changes import SQLITE_POLL_SECONDS

from support.nodes import (
    InProcessNetwork,
    Roaming,
    at,
    connect_cpo_and_emsp,
    evse_body,
    location_body,
    token_body,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIST = "/ocpi/2.2.1/sender/locations"


@dataclass(frozen=True)
class Parties:
    network: InProcessNetwork
    cpo: Node
    first: Roaming
    second: Roaming


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Parties:
    first = await connect_cpo_and_emsp(module_network, page_limit=2)
    second = await connect_cpo_and_emsp(module_network, cpo=first.cpo, emsp_host="emsp2.test", emsp_party="NL-EM2-EMSP")
    first.cpo.watch_changes()
    await until(lambda: first.cpo.store.changes.live)
    return Parties(module_network, first.cpo, first, second)


@pytest_asyncio.fixture(loop_scope="module")
async def parties(connected: Parties) -> AsyncIterator[Parties]:
    connected.cpo.pages.clear()
    yield connected
    await connected.network.clear_objects()


async def until(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def settled() -> None:
    """Let the watcher report the writes just made (it reports this process's own a moment later too,
    which makes a page rendered before that stale once)."""
    await asyncio.sleep(2 * SQLITE_POLL_SECONDS + 0.1)


async def seed(node: Node, *bodies: dict[str, Any]) -> None:
    for body in bodies:
        await put_at(node.store, LocationPath(body["country_code"], body["party_id"], body["id"]), body)


def ids(response: httpx.Response) -> list[str]:
    return [o["id"] for o in response.json()["data"]]


def without_timestamp(response: httpx.Response) -> dict[str, Any]:
    envelope = json.loads(response.content)
    envelope.pop("timestamp")
    return envelope


async def test_a_repeated_page_is_answered_from_memory_with_fresh_ids_and_timestamp(parties: Parties) -> None:
    await seed(parties.cpo, *(location_body(f"LOC{i}") for i in range(3)))
    await settled()
    api = parties.first.at_cpo
    first = await api.get(LIST, headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"})
    assert (parties.cpo.pages.hits, len(parties.cpo.pages)) == (0, 1)
    await asyncio.sleep(0.002)  # a later timestamp
    again = await api.get(LIST, headers={"X-Request-ID": "req-2"})
    assert parties.cpo.pages.hits == 1
    assert without_timestamp(again) == without_timestamp(first)
    assert again.json()["timestamp"] > first.json()["timestamp"]
    assert again.json()["timestamp"].endswith("Z")
    assert (first.headers["X-Request-ID"], first.headers["X-Correlation-ID"]) == ("req-1", "corr-1")
    assert (again.headers["X-Request-ID"], again.headers["X-Correlation-ID"]) == ("req-2", "req-2")
    for name in ("X-Total-Count", "X-Limit", "Link", "Content-Type", "OCPI-from-party-id", "OCPI-to-party-id"):
        assert again.headers[name] == first.headers[name], name
    assert int(again.headers["Content-Length"]) == len(again.content)
    generated = await api.get(LIST)
    assert generated.headers["X-Request-ID"] not in ("", "req-1", "req-2")
    # Another page, another query string: rendered once, then remembered too.
    await api.get(LIST + "?offset=2")
    await api.get(LIST + "?offset=2")
    assert (parties.cpo.pages.hits, len(parties.cpo.pages)) == (3, 2)


async def test_a_write_through_this_node_is_seen_by_the_next_request(parties: Parties) -> None:
    await seed(parties.cpo, location_body("LOC1"))
    api = parties.first.at_cpo
    assert (await api.data(LIST))[0]["evses"][0]["status"] == "AVAILABLE"
    path = LocationPath("NL", "CPO", "LOC1", "EVSE1")
    await patch_at(parties.cpo.store, path, {"status": "CHARGING", "last_updated": at(5)})
    assert (await api.data(LIST))[0]["evses"][0]["status"] == "CHARGING"
    await seed(parties.cpo, location_body("LOC2"))
    assert [o["id"] for o in await api.data(LIST)] == ["LOC1", "LOC2"]
    assert parties.cpo.pages.hits == 0


async def test_a_write_by_another_process_is_seen_once_the_watcher_reports_it(parties: Parties) -> None:
    cpo = parties.cpo
    await seed(cpo, location_body("LOC1"))
    await settled()
    api = parties.first.at_cpo
    await api.get(LIST)
    await api.get(LIST)
    assert cpo.pages.hits == 1
    settings = cpo.settings
    connect_args = {"server_settings": {"search_path": settings.database_schema}} if settings.database_schema else None
    other = await open_store(settings.database_url, connect_args=connect_args)
    try:
        before = cpo.store.changes.stamp(("locations",))
        await seed_into(other, location_body("LOC2"))
        await until(lambda: cpo.store.changes.stamp(("locations",)) != before)
    finally:
        await other.close()
    assert ids(await api.get(LIST)) == ["LOC1", "LOC2"]
    assert cpo.pages.hits == 1


async def seed_into(store: Any, body: dict[str, Any]) -> None:
    await put_at(store, LocationPath(body["country_code"], body["party_id"], body["id"]), body)


async def test_each_caller_gets_its_own_page_and_a_pushed_token_changes_what_it_sees(parties: Parties) -> None:
    hidden = location_body("HIDDEN", publish=False, publish_allowed_to=[{"uid": "TOK1", "type": "RFID"}])
    await seed(parties.cpo, location_body("PUBLIC"), hidden)
    await TOKENS.put(parties.cpo.store, TOKENS.key("NL", "EMS", "TOK1", "RFID"), token_body("TOK1"))
    await settled()
    first, second = parties.first.at_cpo, parties.second.at_cpo
    for _ in range(2):
        assert ids(await first.get(LIST)) == ["PUBLIC", "HIDDEN"]
        assert ids(await second.get(LIST)) == ["PUBLIC"]
    assert parties.cpo.pages.hits == 2
    # The second eMSP pushes a token the hidden Location is published to: its next page shows it.
    token = token_body("TOK1", cc="NL", pid="EM2")
    await second.put("/ocpi/2.2.1/receiver/tokens/NL/EM2/TOK1", token, status=201)
    assert ids(await second.get(LIST)) == ["PUBLIC", "HIDDEN"]
    assert ids(await first.get(LIST)) == ["PUBLIC", "HIDDEN"]


async def test_routing_headers_are_part_of_what_is_remembered(parties: Parties) -> None:
    await seed(parties.cpo, location_body("LOC1"))
    api = parties.first.at_cpo
    plain = await api.get(LIST)
    named = await api.get(LIST, headers={"OCPI-to-country-code": "NL", "OCPI-to-party-id": "CPO"})
    elsewhere = {"OCPI-to-country-code": "DE", "OCPI-to-party-id": "XXX"}
    await api.get(LIST, headers=elsewhere, status=404, ocpi=2000)
    await api.get(LIST, headers=elsewhere, status=404, ocpi=2000)
    assert parties.cpo.pages.hits == 0
    assert ids(plain) == ids(named) == ["LOC1"]


async def test_bad_tokens_and_bad_queries_are_never_answered_from_memory(parties: Parties) -> None:
    await seed(parties.cpo, location_body("LOC1"))
    api = parties.first.at_cpo
    await api.get(LIST)
    client = parties.network.client("cpo.test")
    unknown = await client.get(LIST, headers={"Authorization": "Token bm90LWEtdG9rZW4="})
    assert (unknown.status_code, unknown.json()["status_code"]) == (401, 2000)
    missing = await client.get(LIST)
    assert missing.status_code == 401
    for _ in range(2):
        await api.get(LIST + "?limit=x", status=400, ocpi=2001)
    assert parties.cpo.pages.hits == 0


async def test_an_unregistered_peer_is_refused_even_for_a_remembered_page(parties: Parties) -> None:
    await seed(parties.cpo, location_body("LOC1"))
    roaming = await connect_cpo_and_emsp(
        parties.network, cpo=parties.cpo, emsp_host="emsp3.test", emsp_party="NL-EM3-EMSP"
    )
    await settled()
    await roaming.at_cpo.get(LIST)
    await roaming.at_cpo.get(LIST)
    assert parties.cpo.pages.hits == 1
    peer = next(p for p in await parties.cpo.store.list_peers() if p.versions_url == roaming.emsp.versions_url)
    await parties.cpo.delete_peer(peer.id)
    response = await roaming.at_cpo.get(LIST, status=401, ocpi=2000)
    assert "data" not in response.json()


async def test_nothing_is_remembered_without_a_watcher_or_without_memory(parties: Parties) -> None:
    network = parties.network
    unwatched = await connect_cpo_and_emsp(network, cpo_host="cpo2.test", emsp_host="emsp4.test")
    await seed(unwatched.cpo, location_body("LOC1"))
    for _ in range(2):
        assert ids(await unwatched.at_cpo.get(LIST)) == ["LOC1"]
    assert (unwatched.cpo.pages.hits, len(unwatched.cpo.pages)) == (0, 0)

    no_memory = await connect_cpo_and_emsp(network, cpo_host="cpo3.test", emsp_host="emsp5.test", page_cache_bytes=0)
    no_memory.cpo.watch_changes()
    await until(lambda: no_memory.cpo.store.changes.live)
    await seed(no_memory.cpo, location_body("LOC1"))
    for _ in range(2):
        assert ids(await no_memory.at_cpo.get(LIST)) == ["LOC1"]
    assert (no_memory.cpo.pages.hits, len(no_memory.cpo.pages)) == (0, 0)


async def test_a_large_page_is_answered_from_memory_in_two_parts(parties: Parties) -> None:
    # Two Locations of 500 EVSEs each: a page over 256 KiB, sent as kept and then its timestamp.
    many = [evse_body(f"E{n:03d}") for n in range(500)]
    await seed(parties.cpo, location_body("BIG1", evses=many), location_body("BIG2", evses=many))
    await settled()
    api = parties.first.at_cpo
    first = await api.get(LIST)
    again = await api.get(LIST)
    assert parties.cpo.pages.hits == 1
    assert len(again.content) > 256 * 1024
    assert int(again.headers["Content-Length"]) == len(again.content)
    assert without_timestamp(again) == without_timestamp(first)
