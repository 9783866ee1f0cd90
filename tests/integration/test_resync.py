"""An eMSP resyncs with its CPO on its own: at start, when the CPO is reachable again, on its interval, and
after its own restart by delta pulls. The CPO pushes nothing (`deliveries` off), so every object the eMSP
gets arrived by pull. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.service import LocationPath, put_at
from evroam.modules.objects import load
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.node import Node
from evroam.store.interface import ListQuery, ObjectKey
from evroam.types import format_datetime, utcnow

from support.nodes import (
    InProcessNetwork,
    Roaming,
    cdr_body,
    cdr_token_body,
    connect_cpo_and_emsp,
    evse_body,
    location_body,
    session_body,
    tariff_body,
)

pytestmark = pytest.mark.asyncio

CPO_HOST = "cpo.test"
EMSP_HOST = "emsp.test"
PULLED = ("locations", "tariffs", "sessions", "cdrs")
RESYNC = {"resync": True}


def just_now() -> str:
    """A last_updated after any sync mark taken so far, so a delta pull (date_from) includes the object."""
    return format_datetime(utcnow())


async def eventually(check: Callable[[], Awaitable[bool]], what: str, *, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"not within {seconds} s: {what}")


async def ids(node: Node, module: str) -> list[str]:
    _, rows = await node.store.list_objects(module, ListQuery(limit=1000))
    return sorted(row.key.id for row in rows)


async def stored(node: Node, module: str, key: ObjectKey) -> dict[str, Any] | None:
    _, rows = await node.store.list_objects(module, ListQuery(limit=1000))
    return next((load(row) for row in rows if row.key == key), None)


async def marks(roaming: Roaming) -> dict[str, datetime | None]:
    peer_id = roaming.link.server_peer.id
    return {module: await roaming.emsp.store.get_sync_mark(peer_id, module) for module in PULLED}


async def in_sync(roaming: Roaming) -> None:
    """Wait until the eMSP has pulled every module from the CPO once."""

    async def all_marked() -> bool:
        return None not in (await marks(roaming)).values()

    await eventually(all_marked, "a first pull of every module")


async def seed(cpo: Node) -> None:
    for location_id in ("LOC1", "LOC2"):
        await put_at(cpo.store, LocationPath("NL", "CPO", location_id), location_body(location_id))
    await TARIFFS.put(cpo.store, TARIFFS.key("NL", "CPO", "T1"), tariff_body("T1"))
    await SESSIONS.put(cpo.store, SESSIONS.key("NL", "CPO", "S1"), session_body("S1"))
    # A session of another eMSP's driver: never sent to this one.
    other = cdr_token_body("BE", "OTH")
    await SESSIONS.put(cpo.store, SESSIONS.key("NL", "CPO", "S2"), session_body("S2", token=other))
    await CDRS.put(cpo.store, CDRS.key("NL", "CPO", "C1"), cdr_body("C1"))


async def seeded_pair(network: InProcessNetwork, **emsp_settings: object) -> Roaming:
    """A seeded CPO and an eMSP resyncing with it, registered after the CPO holds its data."""
    cpo = await network.add(CPO_HOST, "NL-CPO-CPO")
    await seed(cpo)
    return await connect_cpo_and_emsp(network, cpo=cpo, emsp_settings={**RESYNC, **emsp_settings})


async def test_an_emsp_started_with_resync_pulls_the_cpos_data_without_being_asked(
    backend_network: InProcessNetwork,
) -> None:
    roaming = await seeded_pair(backend_network)
    emsp = roaming.emsp

    async def everything_arrived() -> bool:
        return await ids(emsp, "cdrs") == ["C1"] and await ids(emsp, "sessions") == ["S1"]

    await eventually(everything_arrived, "the CPO's sessions and CDRs at the eMSP")
    assert await ids(emsp, "locations") == ["LOC1", "LOC2"]
    assert await ids(emsp, "tariffs") == ["T1"]
    await in_sync(roaming)


async def test_a_cdr_made_while_the_cpo_was_unreachable_arrives_when_the_cpo_calls_again(
    backend_network: InProcessNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="evroam.resync")
    roaming = await seeded_pair(backend_network)
    await in_sync(roaming)
    cpo = roaming.cpo

    backend_network.transport.take_down(CPO_HOST)
    await CDRS.put(cpo.store, CDRS.key("NL", "CPO", "C2"), cdr_body("C2", last_updated=just_now()))
    emsp = await backend_network.restart(EMSP_HOST)  # its start-up resync cannot reach the CPO

    async def cdrs_pull_failed() -> bool:
        return any(re.match(r"resync failed: pulling cdrs from ", r.getMessage()) for r in caplog.records)

    await eventually(cdrs_pull_failed, "a failed resync of CDRs")
    assert await ids(emsp, "cdrs") == ["C1"]

    backend_network.transport.bring_up(CPO_HOST)
    # Any authenticated call of the CPO tells the eMSP it is reachable again.
    await roaming.at_emsp.get("/ocpi/2.2.1/sender/tokens")

    async def caught_up() -> bool:
        return "C2" in await ids(emsp, "cdrs")

    # Sooner than the retry after that failure could come (at least half of its 5 s backoff).
    await eventually(caught_up, "the CDR made during the outage at the eMSP", seconds=2.0)
    assert await ids(emsp, "cdrs") == ["C1", "C2"]  # each once


async def test_a_change_at_the_cpo_reaches_the_emsp_on_the_resync_interval(
    backend_network: InProcessNetwork,
) -> None:
    roaming = await seeded_pair(backend_network, resync_interval=0.5, resync_splay=0.0)
    await in_sync(roaming)
    changed = just_now()
    body = location_body("LOC2", last_updated=changed, evses=[evse_body(status="CHARGING", last_updated=changed)])
    await put_at(roaming.cpo.store, LocationPath("NL", "CPO", "LOC2"), body)

    async def status_arrived() -> bool:
        location = await stored(roaming.emsp, "locations", ObjectKey("NL", "CPO", "LOC2"))
        return location is not None and location["evses"][0]["status"] == "CHARGING"

    await eventually(status_arrived, "the EVSE status change at the eMSP", seconds=2.0)


async def test_after_a_restart_the_emsp_pulls_only_what_changed_since_its_marks(
    backend_network: InProcessNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="evroam.resync")
    roaming = await seeded_pair(backend_network)
    await in_sync(roaming)
    before = await marks(roaming)
    changed = just_now()
    body = location_body("LOC2", last_updated=changed, evses=[evse_body(status="CHARGING", last_updated=changed)])
    await put_at(roaming.cpo.store, LocationPath("NL", "CPO", "LOC2"), body)
    backend_network.transport.requests.clear()
    caplog.clear()

    await backend_network.restart(EMSP_HOST)

    async def all_pulled_again() -> bool:
        now = await marks(roaming)
        return all(now[m] is not None and now[m] > before[m] for m in PULLED)  # type: ignore[operator]

    await eventually(all_pulled_again, "a resync of every module after the restart")
    for module in PULLED:
        [request] = [r for r in backend_network.transport.requests if r.url.path.endswith(f"/sender/{module}")]
        mark = before[module]
        assert mark is not None
        assert request.url.params["date_from"] == format_datetime(mark)
    messages = [r.getMessage() for r in caplog.records]
    assert any(re.match(r"resynced locations from .*: 1 received, 0 created, 1 updated since", m) for m in messages)
    assert any(re.match(r"resynced cdrs from .*: 0 received", m) for m in messages)
    location = await stored(roaming.network.nodes[EMSP_HOST], "locations", ObjectKey("NL", "CPO", "LOC2"))
    assert location is not None
    assert location["evses"][0]["status"] == "CHARGING"
