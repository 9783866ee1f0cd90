"""Drivers at the simulated Charge Points: a token held to a reader is authorized by the CPO (asking the
eMSP in real time when its whitelist says so) and starts a session; the same token again stops it. Through
the back-office API, between in-process nodes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from evroam.modules.commands.issue import send_command
from evroam.modules.commands.models import CommandType
from evroam.modules.locations.service import location_row
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.store.interface import ListQuery, ObjectKey

from support.nodes import (
    InProcessNetwork,
    Roaming,
    connect_cpo_and_emsp,
    connector_body,
    evse_body,
    location_body,
    tariff_body,
    token_body,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN = "cpo-back-office-secret-0123456789"
TAP = "/admin/api/chargepoints/NL/CPO/LOC1/{evse}/tap"
CAPABLE = ["RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Roaming:
    return await connect_cpo_and_emsp(module_network, sim_meter_interval=3600, sim_answer_delay=0, admin_token=ADMIN)


@pytest_asyncio.fixture(loop_scope="module")
async def roaming(connected: Roaming) -> AsyncIterator[Roaming]:
    """EVSE1 (priced by tariff T1) and EVSE3 available, EVSE2 inoperative."""
    await TARIFFS.put(connected.cpo.store, TARIFFS.key("NL", "CPO", "T1"), tariff_body("T1"))
    evses = [
        evse_body("EVSE1", capabilities=CAPABLE, connectors=[connector_body("1", tariff_ids=["T1"])]),
        evse_body("EVSE2", capabilities=CAPABLE, status="INOPERATIVE"),
        evse_body("EVSE3", capabilities=CAPABLE),
    ]
    await connected.cpo.store.put_object("locations", location_row(location_body(evses=evses)))
    yield connected
    await connected.network.clear_objects()


async def card(roaming: Roaming, uid: str, *, cached: bool = True, **fields: Any) -> dict[str, Any]:
    """An RFID card of the eMSP's, also in the CPO's cache (as pushed) unless `cached` is False."""
    body = token_body(uid, **fields)
    nodes = (roaming.emsp, roaming.cpo) if cached else (roaming.emsp,)
    for node in nodes:
        await TOKENS.put(node.store, TOKENS.key("NL", "EMS", uid, "RFID"), body)
    return body


async def tap(roaming: Roaming, evse: str, uid: str, *, status: int = 200, **fields: Any) -> dict[str, Any]:
    api = roaming.network.client("cpo.test")
    reply = await api.post(
        TAP.format(evse=evse), json={"uid": uid, **fields}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert reply.status_code == status, reply.text
    data: dict[str, Any] = reply.json()["data"]
    return data


async def sessions(node: Node) -> dict[str, dict[str, Any]]:
    _, rows = await node.store.list_objects("sessions", ListQuery(limit=100))
    return {doc["id"]: doc for doc in (json.loads(r.data) for r in rows)}


async def evse_status(cpo: Node, uid: str) -> str:
    stored = await cpo.store.get_object("locations", ObjectKey("NL", "CPO", "LOC1"))
    assert stored is not None
    return str(next(e["status"] for e in json.loads(stored.data)["evses"] if e["uid"] == uid))


def authorize_requests(roaming: Roaming) -> list[httpx.Request]:
    return [r for r in roaming.network.transport.requests if r.url.path.endswith("/authorize")]


async def test_a_card_authorized_in_real_time_starts_a_session_and_stops_it_at_the_next_tap(
    roaming: Roaming,
) -> None:
    token = await card(roaming, "CARD1", whitelist="NEVER")
    asked = len(authorize_requests(roaming))
    started = await tap(roaming, "EVSE1", "CARD1")
    assert started["action"] == "STARTED"
    assert started["authorization"]["source"] == "REAL_TIME"
    assert len(authorize_requests(roaming)) == asked + 1
    session = (await sessions(roaming.cpo))[started["session_id"]]
    # mod_sessions: AUTH_REQUEST when the eMSP was asked, with the reference it gave.
    assert session["auth_method"] == "AUTH_REQUEST"
    assert session["authorization_reference"] == started["authorization"]["authorization_reference"]
    assert session["cdr_token"] == {
        "country_code": "NL",
        "party_id": "EMS",
        "uid": "CARD1",
        "type": "RFID",
        "contract_id": token["contract_id"],
    }
    assert (session["status"], session["location_id"], session["evse_uid"]) == ("ACTIVE", "LOC1", "EVSE1")
    assert await evse_status(roaming.cpo, "EVSE1") == "CHARGING"

    stopped = await tap(roaming, "EVSE1", "card1")
    assert stopped == {"action": "STOPPED", "session_id": started["session_id"]}
    assert len(authorize_requests(roaming)) == asked + 1  # stopping asks nobody
    ended = (await sessions(roaming.cpo))[started["session_id"]]
    assert ended["status"] == "COMPLETED"
    assert await evse_status(roaming.cpo, "EVSE1") == "AVAILABLE"
    cdr = await roaming.cpo.store.get_object("cdrs", ObjectKey("NL", "CPO", started["session_id"]))
    assert cdr is not None
    assert json.loads(cdr.data)["auth_method"] == "AUTH_REQUEST"


async def test_a_whitelisted_card_starts_at_once_without_asking_the_emsp(roaming: Roaming) -> None:
    await card(roaming, "CARD2", whitelist="ALLOWED")
    asked = len(authorize_requests(roaming))
    started = await tap(roaming, "EVSE1", "CARD2")
    assert (started["action"], started["authorization"]["source"]) == ("STARTED", "CACHE")
    assert len(authorize_requests(roaming)) == asked
    session = (await sessions(roaming.cpo))[started["session_id"]]
    assert (session["auth_method"], session.get("authorization_reference")) == ("WHITELIST", None)


async def test_a_card_the_cpo_does_not_hold_is_asked_of_the_emsp(roaming: Roaming) -> None:
    await card(roaming, "CARD3", cached=False, whitelist="NEVER")
    started = await tap(roaming, "EVSE3", "CARD3")
    assert (started["action"], started["authorization"]["source"]) == ("STARTED", "REAL_TIME")
    assert (await sessions(roaming.cpo))[started["session_id"]]["cdr_token"]["uid"] == "CARD3"


async def test_a_blocked_or_unknown_card_starts_nothing(roaming: Roaming) -> None:
    await card(roaming, "CARD4", whitelist="NEVER", valid=False)
    blocked = await tap(roaming, "EVSE1", "CARD4")
    assert blocked["action"] == "REFUSED"
    assert blocked["authorization"]["accepted"] is False
    unknown = await tap(roaming, "EVSE1", "NOBODY")
    assert (unknown["action"], unknown["authorization"]["source"]) == ("REFUSED", "UNKNOWN")
    assert await sessions(roaming.cpo) == {}
    assert await evse_status(roaming.cpo, "EVSE1") == "AVAILABLE"


async def test_a_busy_or_broken_evse_refuses_before_anyone_is_asked(roaming: Roaming) -> None:
    await card(roaming, "CARD5", whitelist="NEVER")
    await card(roaming, "CARD6", whitelist="NEVER")
    assert (await tap(roaming, "EVSE1", "CARD5"))["action"] == "STARTED"
    asked = len(authorize_requests(roaming))
    busy = await tap(roaming, "EVSE1", "CARD6")
    assert busy == {"action": "REFUSED", "reason": "the EVSE answers EVSE_OCCUPIED"}
    broken = await tap(roaming, "EVSE2", "CARD6")
    assert broken == {"action": "REFUSED", "reason": "the EVSE answers EVSE_INOPERATIVE"}
    missing = await tap(roaming, "EVSE9", "CARD6")
    assert missing["action"] == "REFUSED"
    assert len(authorize_requests(roaming)) == asked
    assert len(await sessions(roaming.cpo)) == 1


async def test_the_driver_of_a_reservation_charges_on_it_and_nobody_else_does(roaming: Roaming) -> None:
    token = await card(roaming, "CARD7", whitelist="NEVER")
    await card(roaming, "CARD8", whitelist="NEVER")
    body = {
        "token": token,
        "expiry_date": "2099-01-01T00:00:00Z",
        "reservation_id": "R7",
        "location_id": "LOC1",
        "evse_uid": "EVSE3",
    }
    await send_command(roaming.emsp, CommandType.RESERVE_NOW, ("NL", "CPO"), body)
    for _ in range(200):
        if await evse_status(roaming.cpo, "EVSE3") == "RESERVED":
            break
        await asyncio.sleep(0.025)
    [(reservation_id, reserved)] = (await sessions(roaming.cpo)).items()
    assert reserved["status"] == "RESERVATION"
    someone_else = await tap(roaming, "EVSE3", "CARD8")
    assert someone_else == {"action": "REFUSED", "reason": "the EVSE answers EVSE_OCCUPIED"}
    started = await tap(roaming, "EVSE3", "CARD7")
    assert (started["action"], started["session_id"]) == ("STARTED", reservation_id)
    assert (await sessions(roaming.cpo))[reservation_id]["status"] == "ACTIVE"
    assert await evse_status(roaming.cpo, "EVSE3") == "CHARGING"


async def test_taps_are_for_cpo_parties_and_checked(roaming: Roaming) -> None:
    api = roaming.network.client("cpo.test")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    foreign = await api.post("/admin/api/chargepoints/NL/EMS/LOC1/EVSE1/tap", json={"uid": "X"}, headers=headers)
    assert foreign.status_code == 404
    bad = await api.post(TAP.format(evse="EVSE1"), json={"uid": "X", "type": "CARD"}, headers=headers)
    assert (bad.status_code, bad.json()["status_code"]) == (400, 2001)
    anonymous = await api.post(TAP.format(evse="EVSE1"), json={"uid": "X"})
    assert anonymous.status_code == 401
