"""Push delivery between in-process nodes: a node pushes its own objects' changes to the peers entitled to
them, at the smallest depth that says what changed, coalesced while a peer is away, and catches a peer up
once it is reachable again.

Objects are written the way a back office does (the module services); what arrived is read from the
receiving node's store and compared with the sender's, object by object. The delivery ledger of the
sending node tells how each change was sent. A receiver of our own (`FakeReceiver`) stands in for a peer
whose answers a test chooses. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.service import LocationPath, patch_at, put_at
from evroam.modules.objects import load
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.store.interface import DeliveryAttempt, ListQuery, ObjectKey
from evroam.types import format_datetime, utcnow

from support.nodes import (
    InProcessNetwork,
    Link,
    Roaming,
    at,
    cdr_body,
    cdr_token_body,
    connect_cpo_and_emsp,
    connector_body,
    evse_body,
    location_body,
    period_body,
    session_body,
    tariff_body,
    token_body,
)

pytestmark = pytest.mark.asyncio

CPO_HOST = "cpo.test"
EMSP_HOST = "emsp.test"
OTHER_HOST = "other.test"
PUSHING = {"deliveries": True}
LOC1 = ObjectKey("NL", "CPO", "LOC1")
LOC2 = ObjectKey("NL", "CPO", "LOC2")
EVSE1 = LocationPath("NL", "CPO", "LOC1", "EVSE1")
OTHER_TOKEN = cdr_token_body("DE", "OTH", "987654321")


# -- the network -----------------------------------------------------------------------------------------


@pytest.fixture
def net(backend_network: InProcessNetwork) -> InProcessNetwork:
    """The in-process network, on each backend in turn."""
    return backend_network


# -- waiting and reading ---------------------------------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool]], what: str, *, seconds: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.02)


def just_now() -> str:
    """A last_updated of now, as a change made now carries."""
    return format_datetime(utcnow())


async def doc(node: Node, module: str, key: ObjectKey) -> dict[str, Any] | None:
    obj = await node.store.get_object(module, key)
    return None if obj is None else load(obj)


async def ids(node: Node, module: str) -> list[str]:
    _, rows = await node.store.list_objects(module, ListQuery(limit=1000))
    return sorted(row.key.id for row in rows)


async def idle(node: Node) -> bool:
    """Every change the node made has been routed and sent (or given up)."""
    return not await node.store.pending_changes(1) and not await node.store.pending_delivery_counts()


def routed(sender: Node) -> Callable[[], Awaitable[bool]]:
    """Whether every change the sender made has been routed to its peers (none waits in the outbox)."""

    async def check() -> bool:
        return not await sender.store.pending_changes(1)

    return check


async def settled(sender: Node, what: str, *, seconds: float = 3.0) -> None:
    async def check() -> bool:
        return await idle(sender)

    await eventually(check, what, seconds=seconds)


async def assert_mirrored(sender: Node, receiver: Node, module: str, keys: list[ObjectKey]) -> None:
    """The receiver holds exactly these objects of `module`, each equal to the sender's copy."""
    assert await ids(receiver, module) == sorted(k.id for k in keys)
    for key in keys:
        mine = await doc(sender, module, key)
        assert mine is not None, key
        assert await doc(receiver, module, key) == mine, key


async def mirrored(sender: Node, receiver: Node, module: str, keys: list[ObjectKey]) -> bool:
    for key in keys:
        mine = await doc(sender, module, key)
        if mine is None or await doc(receiver, module, key) != mine:
            return False
    return True


async def ledger(sender: Node, peer_id: str, *, about: str = "") -> list[DeliveryAttempt]:
    """The sender's delivery attempts to one peer, oldest first, those whose URL contains `about`."""
    rows = await sender.store.delivery_log(peer_id=peer_id, limit=10_000)
    return [row for row in reversed(rows) if about in row.url]


def pushed_bodies(net: InProcessNetwork, host: str, path_part: str, *, since: int = 0) -> list[Any]:
    """Bodies of the PUT and PATCH requests sent to `host` on a path containing `path_part`."""
    return [
        json.loads(request.content)
        for request in net.transport.requests[since:]
        if request.url.host == host and request.method in ("PUT", "PATCH") and path_part in request.url.path
    ]


def probes_of(net: InProcessNetwork, host: str) -> list[httpx.Request]:
    """The GETs of `host`'s versions URL (how a sender probes a peer that is out of sync)."""
    return [r for r in net.transport.requests if r.url.host == host and r.url.path == "/ocpi/versions"]


# -- networks --------------------------------------------------------------------------------------------


async def pushing_pair(net: InProcessNetwork, **cpo_settings: object) -> Roaming:
    """A CPO (NL-CPO) pushing its changes and an eMSP (NL-EMS) registered with it."""
    return await connect_cpo_and_emsp(net, **{**PUSHING, **cpo_settings})


@dataclass(frozen=True)
class TwoEmsps:
    roaming: Roaming
    other: Node  # DE-OTH, registered with the same CPO
    other_link: Link

    @property
    def emsp_id(self) -> str:
        return self.roaming.link.client_peer.id

    @property
    def other_id(self) -> str:
        return self.other_link.client_peer.id


async def pushing_to_two_emsps(net: InProcessNetwork) -> TwoEmsps:
    """A pushing CPO with two eMSPs registered: NL-EMS and DE-OTH."""
    roaming = await pushing_pair(net)
    other = await net.add(OTHER_HOST, "DE-OTH-EMSP")
    return TwoEmsps(roaming, other, await net.register(other, roaming.cpo))


async def put_location(node: Node, body: dict[str, Any]) -> None:
    await put_at(node.store, LocationPath(body["country_code"], body["party_id"], body["id"]), body)


# -- locations at depth ----------------------------------------------------------------------------------


async def test_a_location_put_at_the_cpo_reaches_the_emsp_unchanged(net: InProcessNetwork) -> None:
    r = await pushing_pair(net)
    await put_location(r.cpo, location_body(name="Centraal", x_vendor={"kept": [1, "two"]}))
    await settled(r.cpo, "the Location pushed")

    await assert_mirrored(r.cpo, r.emsp, "locations", [LOC1])
    [row] = await ledger(r.cpo, r.link.client_peer.id)
    assert (row.method, row.outcome, row.http_status, row.ocpi_status) == ("PUT", "DELIVERED", 201, 1000)
    assert row.url == "http://emsp.test/ocpi/2.2.1/receiver/locations/NL/CPO/LOC1"
    assert row.module == "locations"
    assert row.request_id


async def test_evse_status_change_is_patched_at_evse_depth(net: InProcessNetwork) -> None:
    r = await pushing_pair(net)
    await put_location(r.cpo, location_body())
    await settled(r.cpo, "the Location pushed")

    await patch_at(r.cpo.store, EVSE1, {"status": "CHARGING", "last_updated": at(1)})
    await settled(r.cpo, "the EVSE change pushed")

    row = (await ledger(r.cpo, r.link.client_peer.id))[-1]
    assert row.method == "PATCH"
    assert row.url.endswith("/receiver/locations/NL/CPO/LOC1/EVSE1")
    assert (row.outcome, row.http_status, row.ocpi_status) == ("DELIVERED", 200, 1000)
    [sent] = [q for q in net.transport.requests if q.method == "PATCH" and str(q.url) == row.url]
    assert sent.headers["X-Request-ID"] == row.request_id
    assert pushed_bodies(net, EMSP_HOST, "/LOC1/EVSE1")[-1] == {
        "status": "CHARGING",
        "last_updated": at(1),
    }
    await assert_mirrored(r.cpo, r.emsp, "locations", [LOC1])
    location = await doc(r.emsp, "locations", LOC1)
    assert location is not None
    assert location["last_updated"] == location["evses"][0]["last_updated"] == at(1)


async def test_location_changes_are_sent_at_the_depth_they_happened(net: InProcessNetwork) -> None:
    r = await pushing_pair(net)
    peer = r.link.client_peer.id
    await put_location(r.cpo, location_body(name="Centraal"))
    await settled(r.cpo, "the Location pushed")

    # A Connector change: a PATCH of that Connector.
    connector = LocationPath("NL", "CPO", "LOC1", "EVSE1", "1")
    await patch_at(r.cpo.store, connector, {"max_amperage": 16, "last_updated": at(2)})
    await settled(r.cpo, "the Connector change pushed")
    row = (await ledger(r.cpo, peer))[-1]
    assert (row.method, row.outcome) == ("PATCH", "DELIVERED")
    assert row.url.endswith("/NL/CPO/LOC1/EVSE1/1")
    assert pushed_bodies(net, EMSP_HOST, "/LOC1/EVSE1/1")[-1] == {
        "max_amperage": 16,
        "last_updated": at(2),
    }
    await assert_mirrored(r.cpo, r.emsp, "locations", [LOC1])

    # An EVSE added: a PUT of that EVSE.
    added = evse_body("EVSE2", last_updated=at(3), connectors=[connector_body("1", last_updated=at(3))])
    await put_at(r.cpo.store, LocationPath("NL", "CPO", "LOC1", "EVSE2"), added)
    await settled(r.cpo, "the new EVSE pushed")
    row = (await ledger(r.cpo, peer))[-1]
    assert (row.method, row.outcome) == ("PUT", "DELIVERED")
    assert row.url.endswith("/NL/CPO/LOC1/EVSE2")
    assert pushed_bodies(net, EMSP_HOST, "/LOC1/EVSE2")[-1] == added
    await assert_mirrored(r.cpo, r.emsp, "locations", [LOC1])

    # A field removed: a PATCH cannot clear it, so the Location is PUT whole.
    location = await doc(r.cpo, "locations", LOC1)
    assert location is not None
    del location["name"]
    await put_location(r.cpo, {**location, "last_updated": at(4)})
    await settled(r.cpo, "the Location without its name pushed")
    row = (await ledger(r.cpo, peer))[-1]
    assert (row.method, row.outcome) == ("PUT", "DELIVERED")
    assert row.url.endswith("/NL/CPO/LOC1")
    await assert_mirrored(r.cpo, r.emsp, "locations", [LOC1])
    received = await doc(r.emsp, "locations", LOC1)
    assert received is not None
    assert "name" not in received
    assert [e["uid"] for e in received["evses"]] == ["EVSE1", "EVSE2"]
    assert len(await ledger(r.cpo, peer)) == 4  # one send per change


async def test_a_refused_patch_is_followed_by_a_put_of_the_whole_location(net: InProcessNetwork) -> None:
    r = await pushing_pair(net)
    peer = r.link.client_peer.id
    await put_location(r.cpo, location_body())
    await settled(r.cpo, "the Location pushed")
    assert await r.emsp.store.delete_object("locations", LOC1)  # the eMSP lost it

    await patch_at(r.cpo.store, EVSE1, {"status": "BLOCKED", "last_updated": at(1)})
    await settled(r.cpo, "the EVSE change pushed")

    refused, whole = (await ledger(r.cpo, peer))[-2:]
    assert (refused.method, refused.outcome, refused.http_status) == ("PATCH", "REFUSED", 404)
    assert refused.url.endswith("/NL/CPO/LOC1/EVSE1")
    assert refused.ocpi_status is not None
    assert 2000 <= refused.ocpi_status < 3000
    assert (whole.method, whole.outcome, whole.http_status) == ("PUT", "DELIVERED", 201)
    assert whole.url.endswith("/NL/CPO/LOC1")
    await assert_mirrored(r.cpo, r.emsp, "locations", [LOC1])


async def test_an_unpublished_location_reaches_only_the_emsp_holding_an_allowed_token(
    net: InProcessNetwork,
) -> None:
    two = await pushing_to_two_emsps(net)
    cpo, emsp = two.roaming.cpo, two.roaming.emsp
    # The CPO holds TOKEN1 of NL-EMS (as its eMSP pushed it).
    await TOKENS.put(cpo.store, TOKENS.key("NL", "EMS", "TOKEN1", "RFID"), token_body("TOKEN1"))
    hidden = location_body("LOC1", publish=False, publish_allowed_to=[{"uid": "TOKEN1", "type": "RFID"}])
    await put_location(cpo, hidden)
    await put_location(cpo, location_body("LOC2"))
    await settled(cpo, "the Locations pushed")

    await assert_mirrored(cpo, emsp, "locations", [LOC1, LOC2])
    await assert_mirrored(cpo, two.other, "locations", [LOC2])
    assert await ledger(cpo, two.other_id, about="/LOC1") == []
    assert [row.outcome for row in await ledger(cpo, two.emsp_id, about="/LOC1")] == ["DELIVERED"]


# -- sessions, CDRs, tariffs, tokens ---------------------------------------------------------------------


async def test_sessions_and_cdrs_go_only_to_the_emsp_whose_token_they_carry(
    net: InProcessNetwork,
) -> None:
    two = await pushing_to_two_emsps(net)
    cpo, emsp, other = two.roaming.cpo, two.roaming.emsp, two.other
    s1, s2 = SESSIONS.key("NL", "CPO", "S1"), SESSIONS.key("NL", "CPO", "S2")
    c1, c2 = CDRS.key("NL", "CPO", "C1"), CDRS.key("NL", "CPO", "C2")
    await SESSIONS.put(cpo.store, s1, session_body("S1"))
    await SESSIONS.put(cpo.store, s2, session_body("S2", token=OTHER_TOKEN))
    await CDRS.put(cpo.store, c1, cdr_body("C1"), insert_only=True)
    await CDRS.put(cpo.store, c2, cdr_body("C2", token=OTHER_TOKEN), insert_only=True)
    await settled(cpo, "the sessions and CDRs pushed")

    await assert_mirrored(cpo, emsp, "sessions", [s1])
    await assert_mirrored(cpo, emsp, "cdrs", [c1])
    await assert_mirrored(cpo, other, "sessions", [s2])
    await assert_mirrored(cpo, other, "cdrs", [c2])
    for peer, mine, theirs in ((two.emsp_id, "1", "2"), (two.other_id, "2", "1")):
        rows = await ledger(cpo, peer)
        assert all(row.outcome == "DELIVERED" for row in rows)
        assert [row.url.rsplit("/", 1)[-1] for row in rows if row.module == "sessions"] == [f"S{mine}"]
        assert not any(f"S{theirs}" in row.url for row in rows)
        # A CDR is POSTed to the endpoint itself, once.
        [cdr] = [row for row in rows if row.module == "cdrs"]
        assert (cdr.method, cdr.object) == ("POST", f"NL/CPO/C{mine}")
        assert cdr.url.endswith("/ocpi/2.2.1/receiver/cdrs")


async def test_a_session_update_is_a_patch_unless_its_charging_periods_change(net: InProcessNetwork) -> None:
    r = await pushing_pair(net)
    peer = r.link.client_peer.id
    s1 = SESSIONS.key("NL", "CPO", "S1")
    first = period_body(at(0, hour=9), 1.5)
    await SESSIONS.put(r.cpo.store, s1, session_body("S1", kwh=1.5, charging_periods=[first]))
    await settled(r.cpo, "the session pushed")

    await SESSIONS.patch(r.cpo.store, s1, {"kwh": 4.2, "status": "COMPLETED", "last_updated": at(5)})
    await settled(r.cpo, "the kWh and status pushed")
    row = (await ledger(r.cpo, peer))[-1]
    assert (row.method, row.outcome) == ("PATCH", "DELIVERED")
    assert row.url.endswith("/receiver/sessions/NL/CPO/S1")
    assert pushed_bodies(net, EMSP_HOST, "/S1")[-1] == {"kwh": 4.2, "status": "COMPLETED", "last_updated": at(5)}
    await assert_mirrored(r.cpo, r.emsp, "sessions", [s1])

    # mod_sessions PATCH appends charging_periods: a changed list is sent whole, never appended twice.
    periods = {"charging_periods": [period_body(at(30, hour=9), 2.7)], "last_updated": at(6)}
    await SESSIONS.patch(r.cpo.store, s1, periods)
    await settled(r.cpo, "the charging periods pushed")
    row = (await ledger(r.cpo, peer))[-1]
    assert (row.method, row.outcome) == ("PUT", "DELIVERED")
    assert row.url.endswith("/receiver/sessions/NL/CPO/S1")
    await assert_mirrored(r.cpo, r.emsp, "sessions", [s1])
    received = await doc(r.emsp, "sessions", s1)
    assert received is not None
    assert [p["start_date_time"] for p in received["charging_periods"]] == [at(0, hour=9), at(30, hour=9)]


async def test_the_first_kwh_update_of_a_session_without_charging_periods_is_a_patch(
    net: InProcessNetwork,
) -> None:
    r = await pushing_pair(net)
    s1 = SESSIONS.key("NL", "CPO", "S1")
    await SESSIONS.put(r.cpo.store, s1, session_body("S1"))
    await settled(r.cpo, "the session pushed")

    await SESSIONS.patch(r.cpo.store, s1, {"kwh": 4.2, "last_updated": at(5)})
    await settled(r.cpo, "the kWh pushed")
    await assert_mirrored(r.cpo, r.emsp, "sessions", [s1])
    assert (await ledger(r.cpo, r.link.client_peer.id))[-1].method == "PATCH"


async def test_a_tariff_reaches_every_emsp_and_its_deletion_too(net: InProcessNetwork) -> None:
    two = await pushing_to_two_emsps(net)
    cpo = two.roaming.cpo
    t1 = TARIFFS.key("NL", "CPO", "T1")
    await TARIFFS.put(cpo.store, t1, tariff_body("T1"))
    await settled(cpo, "the tariff pushed")
    for receiver in (two.roaming.emsp, two.other):
        await assert_mirrored(cpo, receiver, "tariffs", [t1])

    assert await cpo.store.delete_object("tariffs", t1)
    await settled(cpo, "the deletion pushed")
    for receiver, peer in ((two.roaming.emsp, two.emsp_id), (two.other, two.other_id)):
        assert await ids(receiver, "tariffs") == []
        put, deleted = await ledger(cpo, peer)
        assert (put.method, deleted.method) == ("PUT", "DELETE")
        assert deleted.outcome == "DELIVERED"
        assert deleted.url.endswith("/receiver/tariffs/NL/CPO/T1")


async def test_an_emsp_pushes_its_tokens_to_the_cpo(net: InProcessNetwork) -> None:
    r = await connect_cpo_and_emsp(net, emsp_settings=PUSHING)
    peer = r.link.server_peer.id  # the CPO, as the eMSP knows it
    key = TOKENS.key("NL", "EMS", "012345678", "RFID")
    await TOKENS.put(r.emsp.store, key, token_body())
    await settled(r.emsp, "the token pushed")
    await assert_mirrored(r.emsp, r.cpo, "tokens", [key])

    await TOKENS.patch(r.emsp.store, key, {"valid": False, "last_updated": at(1)})
    await settled(r.emsp, "the token's validity pushed")
    await assert_mirrored(r.emsp, r.cpo, "tokens", [key])
    put, patch = await ledger(r.emsp, peer)
    assert (put.method, patch.method) == ("PUT", "PATCH")
    assert all(row.outcome == "DELIVERED" for row in (put, patch))
    assert patch.url.endswith("/receiver/tokens/NL/EMS/012345678")
    assert pushed_bodies(net, CPO_HOST, "/tokens/")[-1] == {"valid": False, "last_updated": at(1)}
    stored = await doc(r.cpo, "tokens", key)
    assert stored is not None
    assert stored["valid"] is False


# -- a peer away -----------------------------------------------------------------------------------------


async def test_changes_made_while_the_emsp_is_away_arrive_coalesced_as_the_latest_state(
    net: InProcessNetwork,
) -> None:
    r = await pushing_pair(net)
    peer = r.link.client_peer.id
    await put_location(r.cpo, location_body())
    await settled(r.cpo, "the Location pushed")
    sent_before = len(await ledger(r.cpo, peer, about="/LOC1"))

    net.transport.take_down(EMSP_HOST)
    statuses = ("CHARGING", "AVAILABLE", "BLOCKED")
    for minute in range(1, 31):
        await patch_at(r.cpo.store, EVSE1, {"status": statuses[minute % 3], "last_updated": at(minute)})
    await eventually(routed(r.cpo), "the 30 changes routed to the eMSP")
    assert (await r.cpo.store.pending_delivery_counts())[peer] == 1  # one row for the Location, not 30
    since = len(net.transport.requests)
    net.transport.bring_up(EMSP_HOST)
    await r.at_cpo.get("/ocpi/2.2.1/sender/locations")  # the eMSP calls: it is back
    await settled(r.cpo, "the EVSE's latest state pushed")

    await assert_mirrored(r.cpo, r.emsp, "locations", [LOC1])
    location = await doc(r.emsp, "locations", LOC1)
    assert location is not None
    assert (location["evses"][0]["status"], location["evses"][0]["last_updated"]) == (statuses[30 % 3], at(30))
    delivered = [row for row in (await ledger(r.cpo, peer, about="/LOC1"))[sent_before:] if row.outcome == "DELIVERED"]
    assert len(delivered) == 1  # the latest state, once
    assert delivered[0].method == "PATCH"
    # Never a stale replay: what the eMSP was sent after it came back only moves forward.
    sent = [body["last_updated"] for body in pushed_bodies(net, EMSP_HOST, "/LOC1", since=since)]
    assert sent == [at(30)]


async def test_an_emsp_away_past_the_retry_window_is_caught_up_when_it_calls_again(net: InProcessNetwork) -> None:
    r = await pushing_pair(net, delivery_retry_window=1)
    cpo, emsp, peer = r.cpo, r.emsp, r.link.client_peer.id
    s1 = SESSIONS.key("NL", "CPO", "S1")
    c1, c2 = CDRS.key("NL", "CPO", "C1"), CDRS.key("NL", "CPO", "C2")
    t1 = TARIFFS.key("NL", "CPO", "T1")
    await put_location(cpo, location_body(last_updated=just_now()))
    await SESSIONS.put(cpo.store, s1, session_body("S1", last_updated=just_now()))
    await CDRS.put(cpo.store, c1, cdr_body("C1", last_updated=just_now()), insert_only=True)
    await settled(cpo, "the first objects pushed")

    net.transport.take_down(EMSP_HOST)
    # Changes while it is paused...
    await patch_at(cpo.store, EVSE1, {"status": "CHARGING", "last_updated": just_now()})
    await SESSIONS.patch(cpo.store, s1, {"kwh": 2.5, "last_updated": just_now()})
    await CDRS.put(cpo.store, c2, cdr_body("C2", last_updated=just_now()), insert_only=True)

    async def out_of_sync() -> bool:
        return any(s.peer_id == peer and s.out_of_sync_at for s in await cpo.store.peer_delivery_states())

    await eventually(out_of_sync, "the eMSP out of sync", seconds=4.0)
    probes = len(probes_of(net, EMSP_HOST))

    # ... and while it is out of sync: nothing is sent, and nothing piles up beyond one row per object.
    await put_location(cpo, location_body("LOC2", last_updated=just_now()))
    await TARIFFS.put(cpo.store, t1, tariff_body("T1", last_updated=just_now()))
    for kwh in (3.0, 3.5, 4.0):
        await SESSIONS.patch(cpo.store, s1, {"kwh": kwh, "last_updated": just_now()})

    await eventually(routed(cpo), "the later changes routed")

    async def probed() -> bool:
        return len(probes_of(net, EMSP_HOST)) > probes

    await eventually(probed, "a probe of the eMSP's versions")
    assert await ledger(cpo, peer, about="/LOC2") == []
    assert await ledger(cpo, peer, about="/T1") == []
    assert (await cpo.store.pending_delivery_counts()).get(peer, 0) <= 5  # LOC1, LOC2, S1, C2, T1

    net.transport.bring_up(EMSP_HOST)
    await r.at_cpo.get("/ocpi/2.2.1/sender/locations")  # it calls: it is back

    async def caught_up() -> bool:
        return (
            await mirrored(cpo, emsp, "locations", [LOC1, LOC2])
            and await mirrored(cpo, emsp, "sessions", [s1])
            and await mirrored(cpo, emsp, "cdrs", [c1, c2])
            and await mirrored(cpo, emsp, "tariffs", [t1])
        )

    await eventually(caught_up, "every change made while away at the eMSP")
    await settled(cpo, "the catch-up sent")
    await assert_mirrored(cpo, emsp, "locations", [LOC1, LOC2])
    await assert_mirrored(cpo, emsp, "sessions", [s1])
    await assert_mirrored(cpo, emsp, "cdrs", [c1, c2])
    await assert_mirrored(cpo, emsp, "tariffs", [t1])
    posted = [row.object for row in await ledger(cpo, peer) if row.module == "cdrs" and row.outcome == "DELIVERED"]
    assert posted.count("NL/CPO/C2") == 1
    [state] = [s for s in await cpo.store.peer_delivery_states() if s.peer_id == peer]
    assert (state.out_of_sync_at, state.retry_at, state.failures) == (None, None, 0)


async def test_a_tariff_deleted_while_the_emsp_was_out_of_sync_is_deleted_once_a_probe_finds_it_back(
    net: InProcessNetwork,
) -> None:
    r = await pushing_pair(net, delivery_retry_window=1)
    cpo, emsp, peer = r.cpo, r.emsp, r.link.client_peer.id
    t1 = TARIFFS.key("NL", "CPO", "T1")
    await TARIFFS.put(cpo.store, t1, tariff_body("T1", last_updated=just_now()))
    await settled(cpo, "the tariff pushed")

    net.transport.take_down(EMSP_HOST)
    await put_location(cpo, location_body(last_updated=just_now()))

    async def out_of_sync() -> bool:
        return any(s.peer_id == peer and s.out_of_sync_at for s in await cpo.store.peer_delivery_states())

    await eventually(out_of_sync, "the eMSP out of sync", seconds=4.0)
    assert await cpo.store.delete_object("tariffs", t1)
    net.transport.bring_up(EMSP_HOST)  # and it does not call: the CPO's next probe finds it

    async def caught_up() -> bool:
        return await mirrored(cpo, emsp, "locations", [LOC1]) and await ids(emsp, "tariffs") == []

    await eventually(caught_up, "the Location and the Tariff's deletion at the eMSP")
    await settled(cpo, "the catch-up sent")
    assert probes_of(net, EMSP_HOST)
    [deleted] = [row for row in await ledger(cpo, peer, about="/T1") if row.method == "DELETE"]
    assert deleted.outcome == "DELIVERED"


# -- how a receiver's answers are taken ------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    http: int = 200
    ocpi: int | None = 1000  # None: no OCPI envelope
    headers: dict[str, str] = field(default_factory=dict)


class FakeReceiver:
    """A peer's OCPI endpoints that answer pushes as a test scripts (then 200/1000), recording them."""

    def __init__(self) -> None:
        self.scripts: dict[str, deque[Reply]] = {}
        self.received: list[tuple[datetime, str, str]] = []
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._answer, methods=["GET", "PUT", "PATCH", "POST", "DELETE"])

    def script(self, path_end: str, *replies: Reply) -> None:
        """Answer pushes to paths ending in `path_end` with `replies`, one each, in turn."""
        self.scripts[path_end] = deque(replies)

    def pushes(self, path_end: str) -> list[tuple[datetime, str]]:
        return [(when, method) for when, method, path in self.received if path.endswith(path_end)]

    async def _answer(self, request: Request) -> Response:
        path = request.url.path
        reply = Reply()
        if request.method != "GET":
            self.received.append((utcnow(), request.method, path))
            queue = next((q for end, q in self.scripts.items() if path.endswith(end) and q), None)
            if queue is not None:
                reply = queue.popleft()
        if reply.ocpi is None:
            return Response("unavailable", reply.http, reply.headers, media_type="text/plain")
        envelope = {"status_code": reply.ocpi, "status_message": "scripted", "timestamp": just_now()}
        if reply.ocpi < 2000:
            envelope["data"] = [] if request.method == "GET" else None
        return Response(json.dumps(envelope), reply.http, reply.headers, media_type="application/json")


async def pushing_to_fake(net: InProcessNetwork) -> tuple[Roaming, FakeReceiver]:
    """A pushing CPO whose registered eMSP is replaced, at its address, by a `FakeReceiver`."""
    r = await pushing_pair(net)
    fake = FakeReceiver()
    net.transport.add(EMSP_HOST, fake.app)
    return r, fake


async def test_a_receiver_failing_with_503_pauses_the_peer_and_the_push_is_retried(
    net: InProcessNetwork,
) -> None:
    r, fake = await pushing_to_fake(net)
    peer = r.link.client_peer.id
    fake.script("/LOC1", Reply(503, None))
    await put_location(r.cpo, location_body())

    async def paused() -> bool:
        return any(s.peer_id == peer and s.retry_at for s in await r.cpo.store.peer_delivery_states())

    await eventually(paused, "the eMSP paused")
    await settled(r.cpo, "the Location pushed after the pause")

    failed, delivered = await ledger(r.cpo, peer)
    assert (failed.outcome, failed.http_status, failed.ocpi_status) == ("RETRY", 503, None)
    assert (delivered.method, delivered.outcome, delivered.http_status) == ("PUT", "DELIVERED", 200)
    (first, _), (second, _) = fake.pushes("/LOC1")
    assert (second - first).total_seconds() >= 0.4  # a backoff of half a second at least
    [state] = [s for s in await r.cpo.store.peer_delivery_states() if s.peer_id == peer]
    assert (state.failures, state.retry_at, state.out_of_sync_at) == (0, None, None)
    assert state.last_success_at is not None


@pytest.mark.parametrize(
    "reply",
    [Reply(503, None), Reply(408, None), Reply(401, None), Reply(200, 3001), Reply(500, 3000)],
    ids=["503", "408", "401", "ocpi-3001", "500-ocpi-3000"],
)
async def test_a_transient_failure_pauses_the_peer_and_keeps_the_push(net: InProcessNetwork, reply: Reply) -> None:
    r, fake = await pushing_to_fake(net)
    peer = r.link.client_peer.id
    fake.script("/LOC1", reply, reply, reply)
    await put_location(r.cpo, location_body())

    async def paused() -> bool:
        return any(s.peer_id == peer and s.retry_at for s in await r.cpo.store.peer_delivery_states())

    await eventually(paused, "the eMSP paused")
    first = (await ledger(r.cpo, peer))[0]
    assert (first.outcome, first.http_status) == ("RETRY", reply.http)
    if reply.ocpi is not None:
        assert first.ocpi_status == reply.ocpi
    assert (await r.cpo.store.pending_delivery_counts())[peer] == 1  # kept for the next try


async def test_a_receiver_answering_429_is_not_pushed_to_before_its_retry_after(
    net: InProcessNetwork,
) -> None:
    r, fake = await pushing_to_fake(net)
    peer = r.link.client_peer.id
    fake.script("/LOC1", Reply(429, None, {"Retry-After": "2"}))
    await put_location(r.cpo, location_body())
    await settled(r.cpo, "the Location pushed after the wait", seconds=4.0)

    failed, delivered = await ledger(r.cpo, peer)
    assert (failed.outcome, failed.http_status) == ("RETRY", 429)
    assert delivered.outcome == "DELIVERED"
    (first, _), (second, _) = fake.pushes("/LOC1")
    assert (second - first).total_seconds() >= 1.9  # longer than any backoff of a first failure (1 s)


async def test_a_receiver_answering_429_with_an_ocpi_envelope_is_retried(net: InProcessNetwork) -> None:
    r, fake = await pushing_to_fake(net)
    peer = r.link.client_peer.id
    fake.script("/LOC1", Reply(429, 2000, {"Retry-After": "1"}))
    await put_location(r.cpo, location_body())
    await settled(r.cpo, "the Location pushed", seconds=4.0)

    assert [row.outcome for row in await ledger(r.cpo, peer)] == ["RETRY", "DELIVERED"]


async def test_an_object_refused_with_2001_is_not_retried_and_other_changes_still_flow(
    net: InProcessNetwork,
) -> None:
    r, fake = await pushing_to_fake(net)
    peer = r.link.client_peer.id
    fake.script("/LOC1", Reply(400, 2001))
    await put_location(r.cpo, location_body("LOC1"))
    await settled(r.cpo, "the refused Location given up")
    await put_location(r.cpo, location_body("LOC2"))
    await settled(r.cpo, "the next Location pushed")

    [refused] = await ledger(r.cpo, peer, about="/LOC1")
    assert (refused.method, refused.outcome, refused.http_status, refused.ocpi_status) == ("PUT", "REFUSED", 400, 2001)
    [delivered] = await ledger(r.cpo, peer, about="/LOC2")
    assert delivered.outcome == "DELIVERED"
    assert [method for _, method in fake.pushes("/LOC1")] == ["PUT"]
    states = [s for s in await r.cpo.store.peer_delivery_states() if s.peer_id == peer]
    assert all(s.retry_at is None and s.out_of_sync_at is None for s in states)  # a refusal pauses nothing
