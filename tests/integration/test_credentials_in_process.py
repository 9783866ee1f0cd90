"""The credentials handshake between two nodes in one process (httpx ASGITransport), both directions."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi import Depends

from evroam.node import Node
from evroam.parties.auth import Caller, peer_caller
from evroam.parties.initiate import (
    HandshakeError,
    issue_registration_token,
    register_with,
    unregister_from,
    update_with,
)
from evroam.store.interface import Peer, PeerStatus
from evroam.transport.envelope import OcpiResponse

from support.fakes import credentials_endpoint, fake_peer
from support.nodes import InProcessNetwork

pytestmark = pytest.mark.asyncio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def creds_body(token: str, url: str, role: str = "EMSP", cc: str = "NL", pid: str = "EMS") -> dict[str, Any]:
    return {
        "token": token,
        "url": url,
        "roles": [{"role": role, "business_details": {"name": "Test eMSP"}, "party_id": pid, "country_code": cc}],
    }


async def pair(network: InProcessNetwork) -> tuple[Node, Node, Peer, Peer, str]:
    """A CPO issues token A; an eMSP registers with it. Returns cpo, emsp, the peer as each sees the other, token A."""
    cpo = await network.add("cpo.test", "NL-CPO-CPO")
    emsp = await network.add("emsp.test", "NL-EMS-EMSP")
    _, token_a = await issue_registration_token(cpo, "emsp")
    cpo_seen_by_emsp = await register_with(emsp, cpo.versions_url, token_a)
    [emsp_seen_by_cpo] = await cpo.store.list_peers()
    return cpo, emsp, cpo_seen_by_emsp, emsp_seen_by_cpo, token_a


async def test_registration_stores_each_side_with_roles_endpoints_and_tokens(
    network: InProcessNetwork,
) -> None:
    _, _, cpo_peer, emsp_peer, token_a = await pair(network)

    assert cpo_peer.status == emsp_peer.status == PeerStatus.REGISTERED
    assert cpo_peer.version == emsp_peer.version == "2.2.1"
    assert [(r.country_code, r.party_id, r.role.value) for r in cpo_peer.roles] == [("NL", "CPO", "CPO")]
    assert [(r.country_code, r.party_id, r.role.value) for r in emsp_peer.roles] == [("NL", "EMS", "EMSP")]
    assert any(e.identifier == "credentials" for e in cpo_peer.endpoints)
    assert cpo_peer.versions_url == "http://cpo.test/ocpi/versions"
    assert emsp_peer.versions_url == "http://emsp.test/ocpi/versions"
    # Token C (eMSP -> CPO) and token B (CPO -> eMSP) each work, and they are three different tokens.
    assert cpo_peer.token_out
    assert emsp_peer.token_out
    assert len({token_a, cpo_peer.token_out, emsp_peer.token_out}) == 3
    async with network.client("cpo.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(cpo_peer.token_out))).status_code == 200
    async with network.client("emsp.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(emsp_peer.token_out))).status_code == 200


async def test_server_calls_back_versions_and_details_with_token_b_base64(network: InProcessNetwork) -> None:
    *_, emsp_peer, _ = await pair(network)
    callbacks = [r for r in network.transport.requests if r.url.host == "emsp.test"]
    assert [r.url.path for r in callbacks] == ["/ocpi/versions", "/ocpi/2.2.1"]
    expected = "Token " + base64.b64encode(emsp_peer.token_out.encode()).decode()  # type: ignore[union-attr]
    assert all(r.headers["authorization"] == expected for r in callbacks)
    assert all(r.headers.get("x-request-id") and r.headers.get("x-correlation-id") for r in callbacks)
    assert not any(k.lower().startswith("ocpi-") for r in callbacks for k in r.headers)


async def test_token_a_is_rejected_after_registration(network: InProcessNetwork) -> None:
    *_, token_a = await pair(network)
    async with network.client("cpo.test") as http:
        response = await http.get("/ocpi/versions", headers=auth(token_a))
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000


async def test_token_a_works_only_on_versions_and_credentials(network: InProcessNetwork) -> None:
    cpo = await network.add("cpo.test", "NL-CPO-CPO")

    @network.apps["cpo.test"].get("/ocpi/2.2.1/sender/probe")
    async def probe(caller: Caller = Depends(peer_caller)) -> OcpiResponse:  # noqa: B008
        return OcpiResponse("ok")

    _, token_a = await issue_registration_token(cpo)
    async with network.client("cpo.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(token_a))).status_code == 200
        assert (await http.get("/ocpi/2.2.1", headers=auth(token_a))).status_code == 200
        assert (await http.get("/ocpi/2.2.1/credentials", headers=auth(token_a))).status_code == 200
        response = await http.get("/ocpi/2.2.1/sender/probe", headers=auth(token_a))
    assert response.status_code == 401
    assert "only valid for versions and credentials" in response.json()["status_message"]


async def test_registered_token_reaches_functional_modules(network: InProcessNetwork) -> None:
    _, _, cpo_peer, _, _ = await pair(network)

    @network.apps["cpo.test"].get("/ocpi/2.2.1/sender/probe")
    async def probe(caller: Caller = Depends(peer_caller)) -> OcpiResponse:  # noqa: B008
        return OcpiResponse(caller.peer.name)

    async with network.client("cpo.test") as http:
        response = await http.get("/ocpi/2.2.1/sender/probe", headers=auth(cpo_peer.token_out or ""))
    assert response.status_code == 200
    assert response.json()["data"] == "emsp"


async def test_get_credentials_returns_the_callers_token_our_url_and_roles(network: InProcessNetwork) -> None:
    _, _, cpo_peer, _, _ = await pair(network)
    async with network.client("cpo.test") as http:
        response = await http.get("/ocpi/2.2.1/credentials", headers=auth(cpo_peer.token_out or ""))
    data = response.json()["data"]
    assert data["token"] == cpo_peer.token_out
    assert data["url"] == "http://cpo.test/ocpi/versions"
    assert data["roles"] == [
        {
            "role": "CPO",
            "business_details": {"name": "evroam NL-CPO"},
            "party_id": "CPO",
            "country_code": "NL",
        }
    ]


async def test_post_credentials_when_registered_is_405(network: InProcessNetwork) -> None:
    _, _, cpo_peer, _, _ = await pair(network)
    async with network.client("cpo.test") as http:
        response = await http.post(
            "/ocpi/2.2.1/credentials",
            headers=auth(cpo_peer.token_out or ""),
            json=creds_body("x" * 20, "http://emsp.test/ocpi/versions"),
        )
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000


async def test_put_and_delete_before_registration_are_405(network: InProcessNetwork) -> None:
    cpo = await network.add("cpo.test", "NL-CPO-CPO")
    _, token_a = await issue_registration_token(cpo)
    async with network.client("cpo.test") as http:
        put = await http.put(
            "/ocpi/2.2.1/credentials",
            headers=auth(token_a),
            json=creds_body("t" * 10, "http://x.test/versions"),
        )
        delete = await http.delete("/ocpi/2.2.1/credentials", headers=auth(token_a))
    assert (put.status_code, delete.status_code) == (405, 405)


async def test_unreachable_client_api_answers_3001_and_keeps_token_a(network: InProcessNetwork) -> None:
    cpo = await network.add("cpo.test", "NL-CPO-CPO")
    _, token_a = await issue_registration_token(cpo)
    async with network.client("cpo.test") as http:
        response = await http.post(
            "/ocpi/2.2.1/credentials",
            headers=auth(token_a),
            json=creds_body("b" * 30, "http://nowhere.test/versions"),
        )
        assert response.status_code == 200
        assert response.json()["status_code"] == 3001
        # Nothing was registered, so token A may be used again.
        assert (await http.get("/ocpi/versions", headers=auth(token_a))).status_code == 200
    [peer] = await cpo.store.list_peers()
    assert peer.status == PeerStatus.PENDING


async def test_client_without_common_version_answers_3002(network: InProcessNetwork) -> None:
    cpo = await network.add("cpo.test", "NL-CPO-CPO")
    app, _ = fake_peer("old.test", {"2.1.1": [credentials_endpoint("old.test", "2.1.1")]})
    network.transport.add("old.test", app)
    _, token_a = await issue_registration_token(cpo)
    async with network.client("cpo.test") as http:
        response = await http.post(
            "/ocpi/2.2.1/credentials",
            headers=auth(token_a),
            json=creds_body("b" * 30, "http://old.test/versions"),
        )
    assert response.json()["status_code"] == 3002
    assert "2.1.1" in response.json()["status_message"]


async def test_client_missing_required_endpoints_answers_3003(network: InProcessNetwork) -> None:
    cpo = await network.add("cpo.test", "NL-CPO-CPO", required_peer_modules=["tokens"])
    app, _ = fake_peer("thin.test", {"2.2.1": [credentials_endpoint("thin.test", "2.2.1")]})
    network.transport.add("thin.test", app)
    _, token_a = await issue_registration_token(cpo)
    async with network.client("cpo.test") as http:
        response = await http.post(
            "/ocpi/2.2.1/credentials",
            headers=auth(token_a),
            json=creds_body("b" * 30, "http://thin.test/versions"),
        )
    assert response.json()["status_code"] == 3003
    assert "tokens" in response.json()["status_message"]


async def test_initiator_does_not_post_when_peer_lacks_required_endpoints(network: InProcessNetwork) -> None:
    emsp = await network.add("emsp.test", "NL-EMS-EMSP", required_peer_modules=["locations"])
    app, seen = fake_peer("thin.test", {"2.2.1": [credentials_endpoint("thin.test", "2.2.1")]})
    network.transport.add("thin.test", app)
    with pytest.raises(HandshakeError, match="locations"):
        await register_with(emsp, "http://thin.test/versions", "token-a")
    assert [r.method for r in seen] == ["GET", "GET"]
    assert await emsp.store.list_peers() == []


async def test_initiator_with_no_common_version_reports_what_the_peer_offers(
    network: InProcessNetwork,
) -> None:
    emsp = await network.add("emsp.test", "NL-EMS-EMSP")
    app, _ = fake_peer("old.test", {"2.1.1": [credentials_endpoint("old.test", "2.1.1")]})
    network.transport.add("old.test", app)
    with pytest.raises(HandshakeError, match=r"peer offers 2\.1\.1"):
        await register_with(emsp, "http://old.test/versions", "token-a")


async def test_refused_registration_leaves_nothing_behind(network: InProcessNetwork) -> None:
    await network.add("cpo.test", "NL-CPO-CPO")
    emsp = await network.add("emsp.test", "NL-EMS-EMSP")
    with pytest.raises(HandshakeError, match="401"):
        await register_with(emsp, "http://cpo.test/ocpi/versions", "not-a-token")
    assert await emsp.store.list_peers() == []


async def test_update_rotates_tokens_both_ways_and_refetches_endpoints(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, emsp_peer, _ = await pair(network)
    network.transport.requests.clear()

    updated = await update_with(emsp, cpo_peer)

    # The CPO re-read the eMSP's versions and details even though the version did not change.
    callbacks = [r.url.path for r in network.transport.requests if r.url.host == "emsp.test"]
    assert callbacks == ["/ocpi/versions", "/ocpi/2.2.1"]
    new_emsp_peer = await cpo.store.get_peer(emsp_peer.id)
    assert new_emsp_peer is not None
    assert updated.token_out != cpo_peer.token_out
    assert new_emsp_peer.token_out != emsp_peer.token_out
    async with network.client("cpo.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(cpo_peer.token_out or ""))).status_code == 401
        assert (await http.get("/ocpi/versions", headers=auth(updated.token_out or ""))).status_code == 200
    async with network.client("emsp.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(emsp_peer.token_out or ""))).status_code == 401
        assert (await http.get("/ocpi/versions", headers=auth(new_emsp_peer.token_out or ""))).status_code == 200


async def test_failed_update_keeps_the_old_tokens_working(network: InProcessNetwork) -> None:
    _, emsp, cpo_peer, emsp_peer, _ = await pair(network)
    # The eMSP now advertises a versions URL the CPO cannot reach, so the CPO answers 3001.
    emsp.base_url = "http://gone.test"
    with pytest.raises(HandshakeError, match="3001"):
        await update_with(emsp, cpo_peer)
    async with network.client("cpo.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(cpo_peer.token_out or ""))).status_code == 200
    async with network.client("emsp.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(emsp_peer.token_out or ""))).status_code == 200


async def test_unregister_revokes_both_directions(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, emsp_peer, _ = await pair(network)
    gone = await unregister_from(emsp, cpo_peer)
    assert gone.status == PeerStatus.UNREGISTERED
    seen = await cpo.store.get_peer(emsp_peer.id)
    assert seen is not None
    assert seen.status == PeerStatus.UNREGISTERED
    async with network.client("cpo.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(cpo_peer.token_out or ""))).status_code == 401
    async with network.client("emsp.test") as http:
        assert (await http.get("/ocpi/versions", headers=auth(emsp_peer.token_out or ""))).status_code == 401


async def test_unregistered_peer_can_register_again_with_a_new_token_a(network: InProcessNetwork) -> None:
    cpo, emsp, cpo_peer, _, _ = await pair(network)
    await unregister_from(emsp, cpo_peer)
    _, token_a = await issue_registration_token(cpo)
    again = await register_with(emsp, cpo.versions_url, token_a)
    assert again.status == PeerStatus.REGISTERED


async def test_peer_versions_url_refused_by_url_policy_answers_3001(network: InProcessNetwork) -> None:
    cpo = await network.add("cpo.test", "NL-CPO-CPO", dev_mode=False)
    _, token_a = await issue_registration_token(cpo)
    async with network.client("cpo.test") as http:
        response = await http.post(
            "/ocpi/2.2.1/credentials",
            headers=auth(token_a),
            json=creds_body("b" * 30, "http://127.0.0.1/versions"),
        )
    assert response.json()["status_code"] == 3001
    assert "http" in response.json()["status_message"]
