"""Real-time token authorization between in-process nodes: the eMSP's `POST .../authorize` and the CPO's
decision by whitelist, cache, real-time request and offline fallback. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from evroam.modules.tokens.authorization import AuthorizationRequest, Decision, DefaultPolicy
from evroam.modules.tokens.authorizer import Source, authorize
from evroam.modules.tokens.models import AllowedType, LocationReferences, TokenType
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node

from support.nodes import InProcessNetwork, Roaming, connect_cpo_and_emsp, token_body

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN = "back-office-secret-0123456789"
AUTHORIZE = "/ocpi/2.2.1/sender/tokens/{uid}/authorize"
DEPOT = {"location_id": "DEPOT1", "evse_uids": ["EVSE1", "EVSE2"]}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Roaming:
    return await connect_cpo_and_emsp(module_network, admin_token=ADMIN)


@pytest_asyncio.fixture(loop_scope="module")
async def roaming(connected: Roaming) -> AsyncIterator[Roaming]:
    yield connected
    connected.emsp.authorization_policy = DefaultPolicy()
    connected.network.transport.bring_up("emsp.test")
    await connected.network.clear_objects()


async def emsp_token(node: Node, uid: str, **fields: Any) -> dict[str, Any]:
    body = token_body(uid, **fields)
    await TOKENS.put(node.store, TOKENS.key("NL", "EMS", uid, body["type"]), body)
    return body


async def cpo_cache(node: Node, uid: str, **fields: Any) -> None:
    """The token as the eMSP pushed it to the CPO."""
    await emsp_token(node, uid, **fields)


def emsp_down(roaming: Roaming) -> None:
    roaming.network.transport.take_down("emsp.test")


def authorize_requests(roaming: Roaming) -> list[httpx.Request]:
    return [r for r in roaming.network.transport.requests if r.url.path.endswith("/authorize")]


# -- the eMSP answers ---------------------------------------------------------------------------------


async def test_a_valid_token_is_allowed_with_a_fresh_reference(roaming: Roaming) -> None:
    body = await emsp_token(roaming.emsp, "TOK1")
    first = await roaming.at_emsp.post(AUTHORIZE.format(uid="TOK1"), DEPOT)
    info = first.json()["data"]
    assert info["allowed"] == "ALLOWED"
    assert info["token"] == body
    assert info["location"] == DEPOT
    assert len(info["authorization_reference"]) == 36
    assert first.headers["OCPI-from-party-id"] == "EMS"
    again = (await roaming.at_emsp.post(AUTHORIZE.format(uid="tok1") + "?type=RFID", None)).json()["data"]
    assert again["authorization_reference"] != info["authorization_reference"]
    assert "location" not in again


async def test_an_invalid_token_is_blocked(roaming: Roaming) -> None:
    await emsp_token(roaming.emsp, "TOK2", valid=False)
    info = (await roaming.at_emsp.post(AUTHORIZE.format(uid="TOK2"), None)).json()["data"]
    assert info["allowed"] == "BLOCKED"
    assert info["info"]["text"]


async def test_an_unknown_token_is_2004_with_http_404_and_no_data(roaming: Roaming) -> None:
    await emsp_token(roaming.emsp, "TOK3")
    for url in (AUTHORIZE.format(uid="NOPE"), AUTHORIZE.format(uid="TOK3") + "?type=APP_USER"):
        response = await roaming.at_emsp.post(url, None, status=404, ocpi=2004)
        assert "data" not in response.json()


async def test_bad_requests_are_2001(roaming: Roaming) -> None:
    await emsp_token(roaming.emsp, "TOK4")
    await roaming.at_emsp.post(AUTHORIZE.format(uid="TOK4") + "?type=BOGUS", None, status=400, ocpi=2001)
    await roaming.at_emsp.post(AUTHORIZE.format(uid="TOK4"), {"evse_uids": ["E1"]}, status=400, ocpi=2001)
    await roaming.at_emsp.call("POST", AUTHORIZE.format(uid="TOK4"), content=b"{nope", status=400, ocpi=2000)


async def test_a_token_restricted_to_some_locations_needs_one_and_is_refused_elsewhere(roaming: Roaming) -> None:
    roaming.emsp.authorization_policy = DefaultPolicy({"fleet-7": ["depot1"]})
    await emsp_token(roaming.emsp, "TOK5", group_id="FLEET-7")
    url = AUTHORIZE.format(uid="TOK5")
    response = await roaming.at_emsp.post(url, None, status=400, ocpi=2002)
    assert "LocationReferences" in response.json()["status_message"]
    elsewhere = (await roaming.at_emsp.post(url, {"location_id": "MALL"})).json()["data"]
    assert (elsewhere["allowed"], "location" in elsewhere) == ("NOT_ALLOWED", False)
    depot = (await roaming.at_emsp.post(url, DEPOT)).json()["data"]
    assert (depot["allowed"], depot["location"]) == ("ALLOWED", DEPOT)


async def test_the_policy_is_pluggable(roaming: Roaming) -> None:
    class NoCredit:
        async def decide(self, request: AuthorizationRequest) -> Decision:
            assert request.requester == ("NL", "CPO")
            return Decision(AllowedType.NO_CREDIT)

    roaming.emsp.authorization_policy = NoCredit()
    await emsp_token(roaming.emsp, "TOK6")
    info = (await roaming.at_emsp.post(AUTHORIZE.format(uid="TOK6"), None)).json()["data"]
    assert info["allowed"] == "NO_CREDIT"


# -- the CPO decides ----------------------------------------------------------------------------------


async def test_always_and_allowed_tokens_are_decided_from_the_cache(roaming: Roaming) -> None:
    await cpo_cache(roaming.cpo, "A1", whitelist="ALWAYS")
    await cpo_cache(roaming.cpo, "A2", whitelist="ALLOWED", valid=False)
    before = len(authorize_requests(roaming))
    yes = await authorize(roaming.cpo, "a1")
    assert (yes.accepted, yes.source, yes.allowed) == (True, Source.CACHE, AllowedType.ALLOWED)
    no = await authorize(roaming.cpo, "A2")
    assert (no.accepted, no.source, no.allowed) == (False, Source.CACHE, AllowedType.BLOCKED)
    assert len(authorize_requests(roaming)) == before


async def test_never_and_allowed_offline_tokens_are_asked_of_their_emsp(roaming: Roaming) -> None:
    for uid, whitelist in (("N1", "NEVER"), ("O1", "ALLOWED_OFFLINE")):
        await cpo_cache(roaming.cpo, uid, whitelist=whitelist)
        await emsp_token(roaming.emsp, uid, whitelist=whitelist)
        result = await authorize(roaming.cpo, uid, location=LocationReferences(location_id="LOC1"))
        assert (result.accepted, result.source, result.allowed) == (True, Source.REAL_TIME, AllowedType.ALLOWED)
        assert result.authorization_reference is not None
        assert result.location == LocationReferences(location_id="LOC1")
    sent = authorize_requests(roaming)[-1]
    assert sent.headers["OCPI-to-party-id"] == "EMS"
    assert json.loads(sent.content) == {"location_id": "LOC1"}
    await emsp_token(roaming.emsp, "N2", whitelist="NEVER", valid=False)
    await cpo_cache(roaming.cpo, "N2", whitelist="NEVER")  # the CPO's copy is outdated: the eMSP knows better
    blocked = await authorize(roaming.cpo, "N2")
    assert (blocked.accepted, blocked.source, blocked.allowed) == (False, Source.REAL_TIME, AllowedType.BLOCKED)


async def test_an_unreachable_emsp_lets_allowed_offline_tokens_charge_but_not_never_tokens(roaming: Roaming) -> None:
    await cpo_cache(roaming.cpo, "O2", whitelist="ALLOWED_OFFLINE")
    await cpo_cache(roaming.cpo, "N3", whitelist="NEVER")
    emsp_down(roaming)
    offline = await authorize(roaming.cpo, "O2")
    assert (offline.accepted, offline.source, offline.allowed) == (True, Source.OFFLINE, AllowedType.ALLOWED)
    assert "could not be reached" in offline.reason
    refused = await authorize(roaming.cpo, "N3")
    assert (refused.accepted, refused.source) == (False, Source.UNREACHABLE)


async def test_a_slow_emsp_counts_as_unreachable(roaming: Roaming) -> None:
    class Slow:
        async def decide(self, request: AuthorizationRequest) -> Decision:
            await asyncio.sleep(2)
            return Decision(AllowedType.ALLOWED)

    roaming.emsp.authorization_policy = Slow()
    await cpo_cache(roaming.cpo, "O3", whitelist="ALLOWED_OFFLINE")
    await emsp_token(roaming.emsp, "O3", whitelist="ALLOWED_OFFLINE")
    result = await authorize(roaming.cpo, "O3", answer_within=0.2)
    assert (result.accepted, result.source) == (True, Source.OFFLINE)
    assert "did not answer within 0.2 s" in result.reason


async def test_a_token_not_in_the_cache_is_asked_of_every_emsp(roaming: Roaming) -> None:
    await emsp_token(roaming.emsp, "NEW1", type_="APP_USER")
    found = await authorize(roaming.cpo, "NEW1", TokenType.APP_USER)
    assert (found.accepted, found.source) == (True, Source.REAL_TIME)
    assert found.token is not None
    assert found.token.uid == "NEW1"
    unknown = await authorize(roaming.cpo, "NEW1")  # RFID: another token
    assert (unknown.accepted, unknown.source) == (False, Source.UNKNOWN)
    await cpo_cache(roaming.cpo, "GONE", whitelist="NEVER")
    forgotten = await authorize(roaming.cpo, "GONE")
    assert (forgotten.accepted, forgotten.source) == (False, Source.UNKNOWN)
    emsp_down(roaming)
    nobody = await authorize(roaming.cpo, "NEW2")
    assert (nobody.accepted, nobody.source) == (False, Source.UNREACHABLE)


async def test_the_back_office_asks_through_the_admin_api(roaming: Roaming) -> None:
    await cpo_cache(roaming.cpo, "N4", whitelist="NEVER")
    await emsp_token(roaming.emsp, "N4", whitelist="NEVER")
    http = roaming.network.client("cpo.test")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    body = {"uid": "N4", "location": {"location_id": "LOC1"}}
    response = await http.post("/admin/api/authorize", headers=headers, content=json.dumps(body))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["accepted"], data["source"], data["allowed"]) == (True, "REAL_TIME", "ALLOWED")
    assert data["token"]["uid"] == "N4"
    assert len(data["authorization_reference"]) == 36
    bad = await http.post("/admin/api/authorize", headers=headers, content=json.dumps({"type": "RFID"}))
    assert (bad.status_code, bad.json()["status_code"]) == (400, 2001)
    refused = await http.post("/admin/api/authorize", content=json.dumps(body))
    assert refused.status_code == 401
