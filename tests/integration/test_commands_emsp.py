"""Commands sent by an eMSP node: the request, the CPO's CommandResponse, the CommandResult posted back later.

The CPO here is a registered evroam node whose Commands Receiver is a small fake (`cmd.test`) answering as
told; the CommandResult is posted to the eMSP with the CPO's own credentials, as a CPO would. Each test runs
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from evroam.modules.commands.issue import CommandState, send_command, state_of
from evroam.modules.commands.models import CommandType
from evroam.types import utcnow

from support.fakes import envelope
from support.nodes import Api, InProcessNetwork, Roaming, connect_cpo_and_emsp, set_endpoint, token_body

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN = "back-office-secret-0123456789"
CPO = ("NL", "CPO")
START = {"token": token_body("TOK1"), "location_id": "LOC1", "evse_uid": "EVSE1"}


class FakeReceiver:
    """The CPO's Commands Receiver: answers the next CommandResponse it is given, records requests."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.answer: dict[str, Any] = {"result": "ACCEPTED", "timeout": 30}
        self.status_code = 1000

        @self.app.post("/commands/{command}")
        async def receive(request: Request, command: str) -> JSONResponse:
            self.requests.append((command, json.loads(await request.body()), dict(request.headers)))
            return JSONResponse(envelope(self.answer, self.status_code))


@dataclasses.dataclass
class Setup:
    roaming: Roaming
    fake: FakeReceiver
    as_cpo: Api  # the eMSP's interfaces, called with the CPO's credentials


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Setup:
    roaming = await connect_cpo_and_emsp(module_network, emsp_settings={"admin_token": ADMIN})
    fake = FakeReceiver()
    module_network.transport.add("cmd.test", fake.app)
    peer = next(iter(await roaming.emsp.store.list_peers()))
    # The CPO's own Commands Receiver is replaced by the fake.
    await set_endpoint(roaming.emsp, peer, "commands", "http://cmd.test/commands")
    return Setup(roaming, fake, roaming.at_emsp)


@pytest_asyncio.fixture(loop_scope="module")
async def setup(connected: Setup) -> AsyncIterator[Setup]:
    connected.fake.answer = {"result": "ACCEPTED", "timeout": 30}
    connected.fake.status_code = 1000
    connected.roaming.network.transport.bring_up("cmd.test")
    yield connected


def result_path(response_url: str) -> str:
    return response_url.removeprefix("http://emsp.test")


async def test_an_accepted_command_is_pending_until_its_result_arrives(setup: Setup) -> None:
    emsp = setup.roaming.emsp
    record = await send_command(emsp, CommandType.START_SESSION, CPO, dict(START))
    assert state_of(record) == (CommandState.PENDING, False)
    assert record.deadline is not None
    assert 25 < (record.deadline - utcnow()).total_seconds() <= 30
    command, body, headers = setup.fake.requests[-1]
    assert command == "START_SESSION"
    assert body["response_url"] == f"http://emsp.test/ocpi/2.2.1/sender/commands/START_SESSION/{record.id}"
    assert (body["token"]["uid"], body["location_id"], body["evse_uid"]) == ("TOK1", "LOC1", "EVSE1")
    assert (headers["ocpi-to-country-code"], headers["ocpi-to-party-id"]) == CPO
    assert headers["ocpi-from-party-id"] == "EMS"

    url = result_path(body["response_url"])
    await setup.as_cpo.post(url, {"result": "ACCEPTED"})
    done = await emsp.store.get_command(record.id)
    assert done is not None
    assert state_of(done) == (CommandState.DONE, False)
    assert json.loads(done.result or "") == {"result": "ACCEPTED"}
    second = await setup.as_cpo.post(url, {"result": "FAILED"})
    assert second.json()["status_message"] == "a result was recorded before; this one is ignored"
    assert (await emsp.store.get_command(record.id)).result == done.result  # type: ignore[union-attr]


async def test_results_are_taken_only_from_the_cpo_the_command_went_to(setup: Setup) -> None:
    record = await send_command(setup.roaming.emsp, CommandType.STOP_SESSION, CPO, {"session_id": "S1"})
    url = f"/ocpi/2.2.1/sender/commands/STOP_SESSION/{record.id}"
    await setup.as_cpo.post(url, {"result": "NOPE"}, status=400, ocpi=2001)
    await setup.as_cpo.post(url.replace("STOP_SESSION", "START_SESSION"), {"result": "ACCEPTED"}, status=404, ocpi=2000)
    await setup.as_cpo.post(
        "/ocpi/2.2.1/sender/commands/STOP_SESSION/unknown-id", {"result": "ACCEPTED"}, status=404, ocpi=2000
    )
    network = setup.roaming.network
    other_cpo = await network.add("cpo2.test", "NL-CP2-CPO")
    link = await network.register(setup.roaming.emsp, other_cpo)
    stranger = network.api("emsp.test", link.to_client)
    await stranger.post(url, {"result": "ACCEPTED"}, status=404, ocpi=2000)
    stored = await setup.roaming.emsp.store.get_command(record.id)
    assert stored is not None
    assert state_of(stored) == (CommandState.PENDING, False)


async def test_refused_failed_and_timed_out_commands(setup: Setup) -> None:
    emsp = setup.roaming.emsp
    setup.fake.answer = {"result": "UNKNOWN_SESSION", "timeout": 30}
    refused = await send_command(emsp, CommandType.STOP_SESSION, CPO, {"session_id": "NOPE"})
    assert state_of(refused) == (CommandState.REFUSED, False)

    setup.fake.answer, setup.fake.status_code = {}, 2001
    error = await send_command(
        emsp, CommandType.UNLOCK_CONNECTOR, CPO, {"location_id": "L", "evse_uid": "E", "connector_id": "1"}
    )
    assert state_of(error) == (CommandState.FAILED, False)
    assert error.error is not None
    assert "2001" in error.error

    setup.fake.status_code = 1000
    setup.roaming.network.transport.take_down("cmd.test")
    unreachable = await send_command(emsp, CommandType.CANCEL_RESERVATION, CPO, {"reservation_id": "R1"})
    assert state_of(unreachable) == (CommandState.FAILED, False)
    assert "cmd.test" in (unreachable.error or "")
    setup.roaming.network.transport.bring_up("cmd.test")

    setup.fake.answer = {"result": "ACCEPTED", "timeout": 1}
    slow = await send_command(emsp, CommandType.START_SESSION, CPO, dict(START))
    await asyncio.sleep(1.1)
    stored = await emsp.store.get_command(slow.id)
    assert stored is not None
    assert state_of(stored) == (CommandState.TIMED_OUT, False)
    late = await setup.as_cpo.post(f"/ocpi/2.2.1/sender/commands/START_SESSION/{slow.id}", {"result": "ACCEPTED"})
    assert late.json()["status_message"] == "recorded after its deadline"
    stored = await emsp.store.get_command(slow.id)
    assert stored is not None
    assert state_of(stored) == (CommandState.DONE, True)


async def test_a_reservation_the_cpo_cancels_later_is_recorded_as_canceled(setup: Setup) -> None:
    reserve = {**START, "expiry_date": "2030-01-01T10:00:00Z", "reservation_id": "R7"}
    record = await send_command(setup.roaming.emsp, CommandType.RESERVE_NOW, CPO, reserve)
    url = f"/ocpi/2.2.1/sender/commands/RESERVE_NOW/{record.id}"
    await setup.as_cpo.post(url, {"result": "ACCEPTED"})
    canceled = await setup.as_cpo.post(url, {"result": "CANCELED_RESERVATION"})
    assert canceled.json().get("status_message") is None
    stored = await setup.roaming.emsp.store.get_command(record.id)
    assert stored is not None
    assert json.loads(stored.result or "") == {"result": "CANCELED_RESERVATION"}


async def test_a_result_reaches_the_emsp_after_it_restarted(setup: Setup) -> None:
    network = setup.roaming.network
    record = await send_command(setup.roaming.emsp, CommandType.START_SESSION, CPO, dict(START))
    restarted = await network.restart("emsp.test")
    try:
        await setup.as_cpo.post(f"/ocpi/2.2.1/sender/commands/START_SESSION/{record.id}", {"result": "ACCEPTED"})
        stored = await restarted.store.get_command(record.id)
        assert stored is not None
        assert state_of(stored) == (CommandState.DONE, False)
    finally:
        setup.roaming = dataclasses.replace(setup.roaming, emsp=restarted)


async def test_the_back_office_sends_and_follows_commands(setup: Setup) -> None:
    http = setup.roaming.network.client("emsp.test")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    body = {**START, "to": {"country_code": "NL", "party_id": "CPO"}}
    sent = await http.post("/admin/api/commands/start_session", headers=headers, content=json.dumps(body))
    assert sent.status_code == 201, sent.text
    view = sent.json()["data"]
    assert (view["state"], view["command"], view["response"]["result"]) == ("PENDING", "START_SESSION", "ACCEPTED")
    assert view["request"]["response_url"].endswith(view["id"])
    await setup.as_cpo.post(result_path(view["request"]["response_url"]), {"result": "EVSE_OCCUPIED"})
    followed = (await http.get(f"/admin/api/commands/{view['id']}", headers=headers)).json()["data"]
    assert (followed["state"], followed["result"]) == ("DONE", {"result": "EVSE_OCCUPIED"})

    for url, payload, status, code in (
        ("/admin/api/commands/dance", body, 404, 2000),
        ("/admin/api/commands/START_SESSION", START, 400, 2001),
        ("/admin/api/commands/START_SESSION", {**body, "token": None}, 400, 2001),
        ("/admin/api/commands/START_SESSION", {**START, "to": {"country_code": "DE", "party_id": "XXX"}}, 404, 2000),
    ):
        response = await http.post(url, headers=headers, content=json.dumps(payload))
        assert (response.status_code, response.json()["status_code"]) == (status, code), response.text
    missing = await http.get("/admin/api/commands/nope", headers=headers)
    assert missing.status_code == 404
