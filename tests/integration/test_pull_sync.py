"""Pull sync between in-process nodes: an eMSP pulls a CPO's data (full and delta), a CPO pulls tokens."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from evroam.delivery.pull import PullError, pull, pullable_modules
from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.service import LocationPath, patch_at, put_at
from evroam.modules.objects import load
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.parties.initiate import issue_registration_token, register_with
from evroam.store.interface import ListQuery, ObjectKey, Peer

from support import ocpi_data as data
from support.fakes import credentials_endpoint, envelope
from support.nodes import InProcessNetwork

pytestmark = pytest.mark.asyncio


async def connect(network: InProcessNetwork, **cpo_settings: object) -> tuple[Node, Node, Peer, Peer]:
    """A CPO (NL-CPO) and an eMSP (DE-EMS) registered with each other; returns each side's view of the other."""
    cpo = await network.add("cpo.test", "NL-CPO-CPO", **cpo_settings)
    emsp = await network.add("emsp.test", "DE-EMS-EMSP")
    _, token_a = await issue_registration_token(cpo)
    cpo_peer = await register_with(emsp, cpo.versions_url, token_a)
    [emsp_peer] = await cpo.store.list_peers()
    return cpo, emsp, cpo_peer, emsp_peer


async def seed_cpo(cpo: Node, locations: int = 7) -> None:
    for i in range(locations):
        await put_at(cpo.store, LocationPath("NL", "CPO", f"LOC{i:05d}"), data.location(i))
    for tid in ("T1", "T2"):
        await TARIFFS.put(cpo.store, TARIFFS.key("NL", "CPO", tid), data.tariff(tid))
    await SESSIONS.put(cpo.store, SESSIONS.key("NL", "CPO", "S1"), data.session("S1"))
    await SESSIONS.put(cpo.store, SESSIONS.key("NL", "CPO", "S2"), data.session("S2", token_cc="BE", token_pid="OTH"))
    await CDRS.put(cpo.store, CDRS.key("NL", "CPO", "C1"), data.cdr("C1"))
    await CDRS.put(cpo.store, CDRS.key("NL", "CPO", "C2"), data.cdr("C2", token_cc="BE", token_pid="OTH"))


async def contents(node: Node, module: str) -> dict[ObjectKey, dict[str, object]]:
    _, rows = await node.store.list_objects(module, ListQuery(limit=100_000))
    return {row.key: load(row) for row in rows}


async def test_emsp_pulls_everything_the_cpo_holds_for_it_field_by_field(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, _ = await connect(network, page_limit=3)
    await seed_cpo(cpo)
    assert pullable_modules(emsp, cpo_peer) == ["locations", "tariffs", "sessions", "cdrs"]

    results = {m: await pull(emsp, cpo_peer, m) for m in pullable_modules(emsp, cpo_peer)}

    assert results["locations"].received == 7
    assert results["locations"].pages == 3  # page cap 3: following Link headers
    assert await contents(emsp, "locations") == await contents(cpo, "locations")
    assert await contents(emsp, "tariffs") == await contents(cpo, "tariffs")
    # Only the sessions and CDRs of the eMSP's own tokens were sent.
    cpo_sessions = await contents(cpo, "sessions")
    assert await contents(emsp, "sessions") == {k: v for k, v in cpo_sessions.items() if k.id == "S1"}
    cpo_cdrs = await contents(cpo, "cdrs")
    assert await contents(emsp, "cdrs") == {k: v for k, v in cpo_cdrs.items() if k.id == "C1"}


async def test_second_pull_asks_only_for_changes_since_the_first(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, _ = await connect(network)
    await seed_cpo(cpo)
    await pull(emsp, cpo_peer, "locations")

    later = "2031-01-01T00:00:00Z"
    await patch_at(
        cpo.store, LocationPath("NL", "CPO", "LOC00003", "LOC00003-E1"), {"status": "CHARGING", "last_updated": later}
    )
    network.transport.requests.clear()
    delta = await pull(emsp, cpo_peer, "locations")

    [request] = [r for r in network.transport.requests if r.url.host == "cpo.test"]
    assert "date_from" in request.url.params
    assert delta.since is not None
    assert delta.received == 1  # only the changed location (its last_updated moved with the EVSE)
    assert delta.updated == 1
    stored = (await contents(emsp, "locations"))[ObjectKey("NL", "CPO", "LOC00003")]
    assert stored["evses"][1]["status"] == "CHARGING"  # type: ignore[index]
    assert stored["last_updated"] == later


async def test_full_pull_ignores_the_mark(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, _ = await connect(network)
    await seed_cpo(cpo, locations=2)
    await pull(emsp, cpo_peer, "locations")
    again = await pull(emsp, cpo_peer, "locations", full=True)
    assert again.since is None
    assert again.received == 2
    assert again.unchanged == 0  # same last_updated counts as an update, never as stale
    assert again.updated == 2


async def test_sessions_pull_always_sends_date_from(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, _ = await connect(network)
    await seed_cpo(cpo)
    network.transport.requests.clear()
    await pull(emsp, cpo_peer, "sessions", full=True)
    [request] = [r for r in network.transport.requests if r.url.host == "cpo.test"]
    assert request.url.params["date_from"] == "1970-01-01T00:00:00Z"


async def test_cpo_pulls_the_emsps_tokens(network: InProcessNetwork) -> None:
    cpo, emsp, _, emsp_peer = await connect(network)
    for uid in ("AA01", "AA02", "AA03"):
        await TOKENS.put(emsp.store, TOKENS.key("DE", "EMS", uid, "RFID"), data.token(uid))
    assert pullable_modules(cpo, emsp_peer) == ["tokens"]
    result = await pull(cpo, emsp_peer, "tokens")
    assert result.created == 3
    assert await contents(cpo, "tokens") == await contents(emsp, "tokens")


async def test_invalid_and_foreign_objects_are_skipped_and_the_rest_stored(network: InProcessNetwork) -> None:
    emsp = await network.add("emsp.test", "DE-EMS-EMSP")
    items = [
        data.location(1),
        {**data.location(2), "coordinates": {"latitude": "north", "longitude": "5.1"}},
        "not an object",
        data.location(3, cc="FR", pid="XYZ"),
        data.location(4),
    ]
    app = FastAPI()

    @app.get("/versions")
    async def versions() -> JSONResponse:
        return JSONResponse(envelope([{"version": "2.2.1", "url": "http://odd.test/2.2.1"}]))

    @app.get("/2.2.1")
    async def details() -> JSONResponse:
        endpoints = [
            credentials_endpoint("odd.test", "2.2.1"),
            {"identifier": "locations", "role": "SENDER", "url": "http://odd.test/locations"},
        ]
        return JSONResponse(envelope({"version": "2.2.1", "endpoints": endpoints}))

    @app.post("/2.2.1/credentials")
    async def register() -> JSONResponse:
        roles = [{"role": "CPO", "business_details": {"name": "Odd"}, "party_id": "CPO", "country_code": "NL"}]
        return JSONResponse(envelope({"token": "odd-token-c", "url": "http://odd.test/versions", "roles": roles}))

    @app.get("/locations")
    async def locations() -> JSONResponse:
        # No Link header: only X-Total-Count tells there is nothing more.
        return JSONResponse(envelope(items), headers={"X-Total-Count": str(len(items))})

    network.transport.add("odd.test", app)
    peer = await register_with(emsp, "http://odd.test/versions", "odd-token-a")
    result = await pull(emsp, peer, "locations")

    assert (result.received, result.created, result.invalid, result.foreign) == (5, 2, 2, 1)
    assert any("/coordinates/latitude" in p for p in result.problems)
    assert sorted(k.id for k in await contents(emsp, "locations")) == ["LOC00001", "LOC00004"]


async def test_pull_from_a_peer_without_that_sender_fails_clearly(network: InProcessNetwork) -> None:
    _, emsp, _, emsp_peer = await connect(network)
    with pytest.raises(PullError, match="offers no locations Sender"):
        await pull(emsp, emsp_peer, "locations")


async def test_page_link_to_another_host_is_refused(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, _ = await connect(network, page_limit=1)
    await seed_cpo(cpo, locations=2)
    cpo.base_url = "http://elsewhere.test"  # the CPO's Link headers now point at a third host
    with pytest.raises(PullError, match="leaves the endpoint's host"):
        await pull(emsp, cpo_peer, "locations")
    assert json.dumps(await emsp.store.get_sync_mark(cpo_peer.id, "locations")) == "null"
