"""The CPO's Commands and ChargingProfiles Receivers with the built-in charge-point simulator: what each request
is answered at once, the result posted later, reservations kept apart per eMSP, and the refusals the spec
documents. Two eMSP nodes (NL-EMS, BE-OTH) are registered with the CPO; each test runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from evroam.modules.commands.issue import CommandState, send_command, state_of
from evroam.modules.commands.models import CommandType
from evroam.modules.locations.service import location_row
from evroam.modules.sessions.service import SESSIONS
from evroam.node import Node
from evroam.sim import Simulator
from evroam.store.interface import CommandRecord, ListQuery, ObjectKey
from evroam.store.sql import SqlStore
from evroam.store.tables import received_requests

from support.nodes import (
    InProcessNetwork,
    Roaming,
    cdr_token_body,
    connect_cpo_and_emsp,
    connector_body,
    evse_body,
    location_body,
    session_body,
    token_body,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CPO = ("NL", "CPO")
ADMIN = "cpo-back-office-secret-0123456789"
CAPABLE = ["REMOTE_START_STOP_CAPABLE", "CHARGING_PROFILE_CAPABLE", "RESERVABLE", "UNLOCK_CAPABLE"]
PROFILE = {"charging_rate_unit": "A", "charging_profile_period": [{"start_period": 0, "limit": 10}]}


@dataclasses.dataclass
class Pair:
    roaming: Roaming  # the CPO and NL-EMS
    other: Roaming  # the same CPO and BE-OTH

    @property
    def cpo(self) -> Node:
        return self.roaming.cpo


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Pair:
    roaming = await connect_cpo_and_emsp(
        module_network, sim_answer_delay=0.05, sim_meter_interval=3600, command_timeout=1, admin_token=ADMIN
    )
    other = await connect_cpo_and_emsp(
        module_network, cpo=roaming.cpo, emsp_host="other.test", emsp_party="BE-OTH-EMSP"
    )
    return Pair(roaming, other)


@pytest_asyncio.fixture(loop_scope="module")
async def pair(connected: Pair) -> Pair:
    """The pair with a fresh Location: EVSE1 and EVSE3 available, EVSE2 inoperative, EVSE4 offline, EVSE5
    without capabilities for commands."""
    await connected.roaming.network.clear_objects()
    evses = [
        evse_body("EVSE1", capabilities=CAPABLE),
        evse_body("EVSE2", capabilities=CAPABLE, status="INOPERATIVE"),
        evse_body("EVSE3", capabilities=CAPABLE, connectors=[connector_body("1"), connector_body("2")]),
        evse_body("EVSE4", capabilities=CAPABLE, status="UNKNOWN"),
        evse_body("EVSE5", capabilities=[]),
    ]
    await connected.cpo.store.put_object("locations", location_row(location_body(evses=evses)))
    return connected


def nl_token(uid: str = "APP1") -> dict[str, Any]:
    return token_body(uid, cc="NL", pid="EMS", type_="APP_USER")


async def result_of(node: Node, record: CommandRecord) -> dict[str, Any]:
    """The CommandResult posted back for `record` (waiting for the CPO's background work)."""
    for _ in range(200):
        stored = await node.store.get_command(record.id)
        assert stored is not None
        if stored.result is not None:
            result: dict[str, Any] = json.loads(stored.result)
            return result
        await asyncio.sleep(0.025)
    raise AssertionError(f"no result for {record.command} {record.id}")


def response_of(record: CommandRecord) -> dict[str, Any]:
    assert record.response is not None, record.error
    response: dict[str, Any] = json.loads(record.response)
    return response


async def evse_status(cpo: Node, uid: str) -> str:
    stored = await cpo.store.get_object("locations", ObjectKey("NL", "CPO", "LOC1"))
    assert stored is not None
    return str(next(e["status"] for e in json.loads(stored.data)["evses"] if e["uid"] == uid))


async def session_of(cpo: Node, session_id: str) -> dict[str, Any]:
    stored = await cpo.store.get_object("sessions", SESSIONS.key("NL", "CPO", session_id))
    assert stored is not None
    data: dict[str, Any] = json.loads(stored.data)
    return data


async def sessions(cpo: Node) -> list[tuple[str, dict[str, Any]]]:
    _, rows = await cpo.store.list_objects("sessions", ListQuery(limit=100))
    return [(r.key.id, json.loads(r.data)) for r in rows]


async def received(cpo: Node) -> list[dict[str, Any]]:
    """The requests the CPO keeps for its charge points."""
    assert isinstance(cpo.store, SqlStore)
    async with cpo.store.engine.connect() as conn:
        rows = (await conn.execute(select(received_requests))).mappings().all()
    return [dict(r) for r in rows]


async def start(pair: Pair, evse_uid: str, uid: str = "APP1", **fields: Any) -> CommandRecord:
    body = {"token": nl_token(uid), "location_id": "LOC1", "evse_uid": evse_uid, **fields}
    return await send_command(pair.roaming.emsp, CommandType.START_SESSION, CPO, body)


async def test_start_session_is_accepted_then_the_session_runs_with_the_commands_token(pair: Pair) -> None:
    record = await start(pair, "EVSE3", connector_id="2", authorization_reference="REF-9")
    assert response_of(record) == {"result": "ACCEPTED", "timeout": 1}
    assert await result_of(pair.roaming.emsp, record) == {"result": "ACCEPTED"}
    [(_, session)] = await sessions(pair.cpo)
    assert (session["auth_method"], session["authorization_reference"]) == ("COMMAND", "REF-9")
    assert (session["cdr_token"]["uid"], session["cdr_token"]["type"]) == ("APP1", "APP_USER")
    assert (session["evse_uid"], session["connector_id"], session["status"]) == ("EVSE3", "2", "ACTIVE")
    assert await evse_status(pair.cpo, "EVSE3") == "CHARGING"

    busy = await start(pair, "EVSE3", uid="APP2")
    assert await result_of(pair.roaming.emsp, busy) == {"result": "EVSE_OCCUPIED"}


async def test_the_charge_points_state_decides_the_result(pair: Pair) -> None:
    inoperative = await start(pair, "EVSE2")
    offline = await start(pair, "EVSE4")
    assert response_of(offline)["result"] == "ACCEPTED"
    assert await result_of(pair.roaming.emsp, inoperative) == {"result": "EVSE_INOPERATIVE"}
    # An offline charge point never answers: the CPO gives up after its timeout (1 s here).
    assert await result_of(pair.roaming.emsp, offline) == {"result": "TIMEOUT"}
    unlock = await send_command(
        pair.roaming.emsp,
        CommandType.UNLOCK_CONNECTOR,
        CPO,
        {"location_id": "LOC1", "evse_uid": "EVSE1", "connector_id": "1"},
    )
    assert await result_of(pair.roaming.emsp, unlock) == {"result": "ACCEPTED"}
    assert await sessions(pair.cpo) == []


async def test_refusals_are_answered_at_once(pair: Pair) -> None:
    emsp = pair.roaming.emsp
    not_capable = await start(pair, "EVSE5")
    assert response_of(not_capable)["result"] == "NOT_SUPPORTED"
    foreign_token = await send_command(
        emsp,
        CommandType.START_SESSION,
        CPO,
        {"token": token_body("X", cc="BE", pid="OTH"), "location_id": "LOC1", "evse_uid": "EVSE1"},
    )
    assert response_of(foreign_token)["result"] == "REJECTED"
    unknown_evse = await start(pair, "EVSE9")
    assert (response_of(unknown_evse)["result"], state_of(unknown_evse)[0]) == ("REJECTED", CommandState.REFUSED)
    assert unknown_evse.error is not None
    assert "2003" in unknown_evse.error
    unknown_connector = await start(pair, "EVSE1", connector_id="7")
    assert unknown_connector.error is not None
    assert "2003" in unknown_connector.error
    no_session = await send_command(emsp, CommandType.STOP_SESSION, CPO, {"session_id": "NONE"})
    assert response_of(no_session)["result"] == "UNKNOWN_SESSION"

    # A session of another eMSP's customer may not be stopped by this one.
    their_session = session_body("THEIRS", token=cdr_token_body("BE", "OTH"))
    await SESSIONS.put(pair.cpo.store, SESSIONS.key("NL", "CPO", "THEIRS"), their_session)
    theirs = await send_command(emsp, CommandType.STOP_SESSION, CPO, {"session_id": "THEIRS"})
    assert response_of(theirs)["result"] == "REJECTED"
    # Nothing was accepted, so nothing waits for a result at the CPO.
    assert await pair.cpo.store.unsettled_requests() == []


async def test_bad_requests_get_2001_and_unknown_commands_not_supported(pair: Pair) -> None:
    api = pair.roaming.at_cpo
    url = "/ocpi/2.2.1/receiver/commands"
    await api.post(f"{url}/START_SESSION", {"location_id": "LOC1"}, status=400, ocpi=2001)
    await api.post(f"{url}/STOP_SESSION", [1, 2], status=400, ocpi=2001)
    # mod_commands_cpo_interface: POST only.
    await api.get(f"{url}/START_SESSION", status=405, ocpi=2000)
    await api.put(f"{url}/START_SESSION", {}, status=405, ocpi=2000)
    await api.delete(f"{url}/STOP_SESSION", status=405, ocpi=2000)
    await api.post("/ocpi/2.2.1/receiver/chargingprofiles/S1", {}, status=405, ocpi=2000)
    reply = await api.post(f"{url}/SELF_DESTRUCT", {"response_url": "http://emsp.test/x"})
    assert reply.json()["data"]["result"] == "NOT_SUPPORTED"
    profiles = "/ocpi/2.2.1/receiver/chargingprofiles/S1"
    await api.get(f"{profiles}?duration=600", status=400, ocpi=2001)  # no response_url
    await api.get(f"{profiles}?duration=ten&response_url=http://emsp.test/r", status=400, ocpi=2001)
    await api.put(profiles, {"charging_profile": {"charging_rate_unit": "W"}}, status=400, ocpi=2001)
    await api.delete(profiles, status=400, ocpi=2001)
    assert await pair.cpo.store.unsettled_requests() == []


async def reserve(emsp: Node, token: dict[str, Any], evse_uid: str, reservation_id: str = "R1") -> CommandRecord:
    body = {
        "token": token,
        "expiry_date": "2099-01-01T00:00:00Z",
        "reservation_id": reservation_id,
        "location_id": "LOC1",
        "evse_uid": evse_uid,
    }
    return await send_command(emsp, CommandType.RESERVE_NOW, CPO, body)


async def test_reservations_of_different_emsps_never_collide(pair: Pair) -> None:
    mine, theirs = pair.roaming.emsp, pair.other.emsp
    other_token = token_body("OTH1", cc="BE", pid="OTH", type_="APP_USER")
    first = await reserve(mine, nl_token(), "EVSE1")
    second = await reserve(theirs, other_token, "EVSE3")
    assert await result_of(mine, first) == {"result": "ACCEPTED"}
    assert await result_of(theirs, second) == {"result": "ACCEPTED"}
    assert (await evse_status(pair.cpo, "EVSE1"), await evse_status(pair.cpo, "EVSE3")) == ("RESERVED", "RESERVED")
    reserved = {s["cdr_token"]["uid"]: s for _, s in await sessions(pair.cpo)}
    assert {uid: s["status"] for uid, s in reserved.items()} == {"APP1": "RESERVATION", "OTH1": "RESERVATION"}

    # BE-OTH cancels its R1: NL-EMS's R1 stays.
    cancel = await send_command(theirs, CommandType.CANCEL_RESERVATION, CPO, {"reservation_id": "r1"})
    assert await result_of(theirs, cancel) == {"result": "ACCEPTED"}
    assert (await evse_status(pair.cpo, "EVSE1"), await evse_status(pair.cpo, "EVSE3")) == ("RESERVED", "AVAILABLE")
    assert (await session_of(pair.cpo, reserved["OTH1"]["id"]))["status"] == "INVALID"
    again = await send_command(theirs, CommandType.CANCEL_RESERVATION, CPO, {"reservation_id": "R1"})
    assert await result_of(theirs, again) == {"result": "UNKNOWN_RESERVATION"}

    # NL-EMS reserves R1 again elsewhere: the reservation moves, it is not a second one.
    moved = await reserve(mine, nl_token(), "EVSE3")
    assert await result_of(mine, moved) == {"result": "ACCEPTED"}
    assert (await evse_status(pair.cpo, "EVSE1"), await evse_status(pair.cpo, "EVSE3")) == ("AVAILABLE", "RESERVED")
    assert (await session_of(pair.cpo, reserved["APP1"]["id"]))["evse_uid"] == "EVSE3"

    # Another driver cannot take the reserved EVSE; the reserving one starts on it, in the reservation's session.
    intruder = await start(pair, "EVSE3", uid="APP2")
    assert await result_of(mine, intruder) == {"result": "EVSE_OCCUPIED"}
    body = {"token": nl_token(), "location_id": "LOC1"}  # no EVSE named: the reserved one is used
    started = await send_command(mine, CommandType.START_SESSION, CPO, body)
    assert await result_of(mine, started) == {"result": "ACCEPTED"}
    session = await session_of(pair.cpo, reserved["APP1"]["id"])
    assert (session["status"], session["evse_uid"]) == ("ACTIVE", "EVSE3")


async def test_charging_profile_requests_are_checked_against_the_session(pair: Pair) -> None:
    api, other_api = pair.roaming.at_cpo, pair.other.at_cpo
    record = await start(pair, "EVSE1")
    assert await result_of(pair.roaming.emsp, record) == {"result": "ACCEPTED"}
    [(session_id, _)] = await sessions(pair.cpo)
    url = f"/ocpi/2.2.1/receiver/chargingprofiles/{session_id}"
    back = "http://emsp.test/ocpi/2.2.1/sender/chargingprofiles/results/x"

    unknown = await api.put(
        "/ocpi/2.2.1/receiver/chargingprofiles/NONE", {"charging_profile": PROFILE, "response_url": back}
    )
    assert unknown.json()["data"] == {"result": "UNKNOWN_SESSION", "timeout": 1}
    foreign = await other_api.put(url, {"charging_profile": PROFILE, "response_url": back})
    assert foreign.json()["data"]["result"] == "REJECTED"

    first = await api.put(url, {"charging_profile": PROFILE, "response_url": back})
    assert first.json()["data"]["result"] == "ACCEPTED"
    # One request per session at a time: the next waits for the charge point's answer to the first.
    too_soon = await api.get(f"{url}?duration=60&response_url={back}")
    assert too_soon.json()["data"]["result"] == "TOO_OFTEN"
    for _ in range(200):
        if not await pair.cpo.store.unsettled_requests():
            break
        await asyncio.sleep(0.025)
    [settled] = [r for r in await received(pair.cpo) if r["kind"] == "SET_PROFILE"]
    assert json.loads(settled["result"]) == {"result": "ACCEPTED"}
    cleared = await api.delete(f"{url}?response_url={back}")
    assert cleared.json()["data"]["result"] == "ACCEPTED"


async def test_a_node_without_charge_points_supports_no_commands(module_network: InProcessNetwork) -> None:
    roaming = await connect_cpo_and_emsp(
        module_network, cpo_host="bare.test", cpo_party="NL-BAR-CPO", emsp_host="emsp3.test", charge_points="none"
    )
    assert roaming.cpo.charge_points is None
    body = {"response_url": "http://emsp3.test/r/1", "session_id": "S1"}
    reply = await roaming.at_cpo.post("/ocpi/2.2.1/receiver/commands/STOP_SESSION", body)
    assert reply.json()["data"]["result"] == "NOT_SUPPORTED"


async def test_an_expired_reservation_frees_its_evse_and_is_not_billed(pair: Pair) -> None:
    record = await reserve(pair.roaming.emsp, nl_token(), "EVSE1", "SOON")
    assert await result_of(pair.roaming.emsp, record) == {"result": "ACCEPTED"}
    assert await evse_status(pair.cpo, "EVSE1") == "RESERVED"
    simulator = pair.cpo.charge_points
    assert isinstance(simulator, Simulator)
    await simulator.tick(now=datetime(2099, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert await evse_status(pair.cpo, "EVSE1") == "AVAILABLE"
    [(_, session)] = await sessions(pair.cpo)
    assert session["status"] == "INVALID"
    assert await pair.cpo.store.list_objects("cdrs", ListQuery(limit=10)) == (0, [])


async def test_a_reservation_the_cpo_cancels_is_reported_canceled_to_its_emsp(pair: Pair) -> None:
    record = await reserve(pair.roaming.emsp, nl_token(), "EVSE1", "KEEP")
    assert await result_of(pair.roaming.emsp, record) == {"result": "ACCEPTED"}
    cpo_api = pair.roaming.network.client("cpo.test")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    gone = await cpo_api.delete("/admin/api/reservations/NL/CPO/BE/OTH/KEEP", headers=headers)
    assert gone.status_code == 404  # another eMSP's id space
    canceled = await cpo_api.delete("/admin/api/reservations/NL/CPO/NL/EMS/keep", headers=headers)
    assert canceled.status_code == 200, canceled.text
    for _ in range(200):
        stored = await pair.roaming.emsp.store.get_command(record.id)
        assert stored is not None
        if stored.result is not None and "CANCELED" in stored.result:
            break
        await asyncio.sleep(0.025)
    assert stored.result is not None
    assert json.loads(stored.result) == {"result": "CANCELED_RESERVATION"}
    assert await evse_status(pair.cpo, "EVSE1") == "AVAILABLE"
