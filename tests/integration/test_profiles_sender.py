"""Charging-profile requests sent by an eMSP node: set, get active, clear; their results; ActiveChargingProfile updates.

The CPO here is a registered evroam node whose ChargingProfiles Receiver is a small fake (`profiles.test`)
answering as told; results and ActiveChargingProfiles are sent to the eMSP with the CPO's own credentials,
as a CPO would. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from evroam.errors import InvalidParametersError, NotFoundError
from evroam.modules.chargingprofiles.issue import ProfileRequest, send_profile_request
from evroam.modules.commands.issue import CommandState, state_of
from evroam.store.interface import CommandRecord
from evroam.types import utcnow

from support.fakes import envelope
from support.nodes import Api, InProcessNetwork, Roaming, connect_cpo_and_emsp, set_endpoint

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN = "back-office-secret-0123456789"
CPO = ("NL", "CPO")
PROFILE = {"charging_rate_unit": "W", "charging_profile_period": [{"start_period": 0, "limit": 11000.0}]}
ACTIVE = {"start_date_time": "2024-03-01T10:00:00Z", "charging_profile": PROFILE}
SET, GET, CLEAR = ProfileRequest


@dataclasses.dataclass
class Seen:
    method: str
    session_id: str
    raw_path: bytes
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


class FakeReceiver:
    """The CPO's ChargingProfiles Receiver: answers the next ChargingProfileResponse it is given, records requests."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.requests: list[Seen] = []
        self.answer: dict[str, Any] = {"result": "ACCEPTED", "timeout": 30}
        self.status_code = 1000

        @self.app.api_route("/chargingprofiles/{session_id:path}", methods=["GET", "PUT", "DELETE"])
        async def receive(request: Request, session_id: str) -> JSONResponse:
            raw = await request.body()
            body = json.loads(raw) if raw else None
            self.requests.append(
                Seen(
                    request.method,
                    session_id,
                    request.scope["raw_path"],
                    dict(request.query_params),
                    body,
                    dict(request.headers),
                )
            )
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
    module_network.transport.add("profiles.test", fake.app)
    peer = next(iter(await roaming.emsp.store.list_peers()))
    await set_endpoint(roaming.emsp, peer, "chargingprofiles", "http://profiles.test/chargingprofiles")
    return Setup(roaming, fake, roaming.at_emsp)


@pytest_asyncio.fixture(loop_scope="module")
async def setup(connected: Setup) -> AsyncIterator[Setup]:
    connected.fake.answer = {"result": "ACCEPTED", "timeout": 30}
    connected.fake.status_code = 1000
    connected.roaming.network.transport.bring_up("profiles.test")
    yield connected


def result_path(record: CommandRecord) -> str:
    return str(json.loads(record.request)["response_url"]).removeprefix("http://emsp.test")


async def stored(setup: Setup, record: CommandRecord) -> CommandRecord:
    found = await setup.roaming.emsp.store.get_command(record.id)
    assert found is not None
    return found


async def test_a_profile_is_set_with_a_put_carrying_a_response_url_of_its_own(setup: Setup) -> None:
    record = await send_profile_request(setup.roaming.emsp, SET, CPO, "SESSION-1", profile=PROFILE)
    other = await send_profile_request(setup.roaming.emsp, SET, CPO, "SESSION-1", profile=PROFILE)
    assert state_of(record) == (CommandState.PENDING, False)
    assert record.deadline is not None
    assert 25 < (record.deadline - utcnow()).total_seconds() <= 30
    seen = setup.fake.requests[-2]
    url = f"http://emsp.test/ocpi/2.2.1/sender/chargingprofiles/SET_CHARGING_PROFILE/{record.id}"
    assert (seen.method, seen.session_id, seen.query) == ("PUT", "SESSION-1", {})
    assert seen.body == {"charging_profile": PROFILE, "response_url": url}
    assert (seen.headers["ocpi-to-country-code"], seen.headers["ocpi-to-party-id"]) == CPO
    assert (seen.headers["ocpi-from-country-code"], seen.headers["ocpi-from-party-id"]) == ("NL", "EMS")
    assert json.loads(record.request) == {"session_id": "SESSION-1", **seen.body}
    assert (record.command, record.country_code, record.party_id) == ("SET_CHARGING_PROFILE", "NL", "CPO")
    assert json.loads(other.request)["response_url"] != url

    await setup.as_cpo.post(result_path(record), {"result": "ACCEPTED"})
    done = await stored(setup, record)
    assert state_of(done) == (CommandState.DONE, False)
    assert json.loads(done.result or "") == {"result": "ACCEPTED"}
    second = await setup.as_cpo.post(result_path(record), {"result": "REJECTED"})
    assert second.json()["status_message"] == "a result was recorded before; this one is ignored"
    assert (await stored(setup, record)).result == done.result


async def test_the_active_profile_is_asked_with_a_get_and_comes_back_as_the_result(setup: Setup) -> None:
    record = await send_profile_request(setup.roaming.emsp, GET, CPO, "S 2/x", duration=900)
    seen = setup.fake.requests[-1]
    url = f"http://emsp.test/ocpi/2.2.1/sender/chargingprofiles/GET_ACTIVE_CHARGING_PROFILE/{record.id}"
    assert (seen.method, seen.session_id, seen.body) == ("GET", "S 2/x", None)
    assert seen.raw_path == b"/chargingprofiles/S%202%2Fx"
    assert seen.query == {"duration": "900", "response_url": url}
    assert json.loads(record.request) == {"session_id": "S 2/x", "duration": 900, "response_url": url}

    await setup.as_cpo.post(result_path(record), {"result": "ACCEPTED", "profile": ACTIVE})
    done = await stored(setup, record)
    assert state_of(done) == (CommandState.DONE, False)
    assert json.loads(done.result or "")["profile"]["charging_profile"]["charging_rate_unit"] == "W"


async def test_a_profile_is_cleared_with_a_delete(setup: Setup) -> None:
    record = await send_profile_request(setup.roaming.emsp, CLEAR, CPO, "SESSION-3")
    seen = setup.fake.requests[-1]
    url = f"http://emsp.test/ocpi/2.2.1/sender/chargingprofiles/CLEAR_CHARGING_PROFILE/{record.id}"
    assert (seen.method, seen.session_id, seen.body, seen.query) == ("DELETE", "SESSION-3", None, {"response_url": url})
    await setup.as_cpo.post(result_path(record), {"result": "UNKNOWN"})
    assert state_of(await stored(setup, record)) == (CommandState.DONE, False)


@pytest.mark.parametrize("answer", ["REJECTED", "TOO_OFTEN", "UNKNOWN_SESSION", "NOT_SUPPORTED"])
async def test_a_request_the_cpo_does_not_accept_is_refused(setup: Setup, answer: str) -> None:
    setup.fake.answer = {"result": answer, "timeout": 30}
    record = await send_profile_request(setup.roaming.emsp, CLEAR, CPO, "SESSION-4")
    assert state_of(record) == (CommandState.REFUSED, False)
    assert json.loads(record.response or "")["result"] == answer
    assert record.deadline is None


async def test_a_request_without_a_response_fails(setup: Setup) -> None:
    emsp = setup.roaming.emsp
    setup.fake.answer, setup.fake.status_code = {}, 2001
    error = await send_profile_request(emsp, GET, CPO, "SESSION-5", duration=60)
    assert state_of(error) == (CommandState.FAILED, False)
    assert "2001" in (error.error or "")

    setup.fake.answer, setup.fake.status_code = {"result": "MAYBE"}, 1000
    garbled = await send_profile_request(emsp, GET, CPO, "SESSION-5", duration=60)
    assert state_of(garbled) == (CommandState.FAILED, False)
    assert "not a ChargingProfileResponse" in (garbled.error or "")

    setup.roaming.network.transport.take_down("profiles.test")
    unreachable = await send_profile_request(emsp, SET, CPO, "SESSION-5", profile=PROFILE)
    assert state_of(unreachable) == (CommandState.FAILED, False)
    assert "profiles.test" in (unreachable.error or "")
    assert await emsp.store.get_command(unreachable.id) is not None  # stored before it was sent


async def test_requests_that_cannot_be_sent_are_refused_before_anything_goes_out(setup: Setup) -> None:
    emsp = setup.roaming.emsp
    before = len(setup.fake.requests)
    with pytest.raises(NotFoundError, match="no registered platform hosts DE-XXX"):
        await send_profile_request(emsp, CLEAR, ("DE", "XXX"), "S")
    with pytest.raises(InvalidParametersError, match="charging_rate_unit"):
        await send_profile_request(emsp, SET, CPO, "S", profile={"charging_profile_period": []})
    with pytest.raises(InvalidParametersError, match="duration"):
        await send_profile_request(emsp, GET, CPO, "S")
    with pytest.raises(InvalidParametersError, match="session_id"):
        await send_profile_request(emsp, CLEAR, CPO, "S" * 37)
    assert len(setup.fake.requests) == before


async def test_a_peer_without_a_chargingprofiles_receiver_is_not_found(setup: Setup) -> None:
    network = setup.roaming.network
    other_cpo = await network.add("cpo3.test", "NL-CP3-CPO")
    await network.register(setup.roaming.emsp, other_cpo)
    peer = next(p for p in await setup.roaming.emsp.store.list_peers() if p.versions_url == other_cpo.versions_url)
    await set_endpoint(setup.roaming.emsp, peer, "chargingprofiles", None)
    with pytest.raises(NotFoundError, match="offers no ChargingProfiles Receiver"):
        await send_profile_request(setup.roaming.emsp, CLEAR, ("NL", "CP3"), "S")


async def test_results_are_taken_only_from_the_cpo_the_request_went_to(setup: Setup) -> None:
    record = await send_profile_request(setup.roaming.emsp, SET, CPO, "SESSION-6", profile=PROFILE)
    url = result_path(record)
    await setup.as_cpo.post(url, {"profile": ACTIVE}, status=400, ocpi=2001)
    await setup.as_cpo.post(url, {"result": "DONE"}, status=400, ocpi=2001)
    await setup.as_cpo.post(
        url.replace("SET_CHARGING_PROFILE", "CLEAR_CHARGING_PROFILE"), {"result": "ACCEPTED"}, status=404, ocpi=2000
    )
    await setup.as_cpo.post(
        url.replace("SET_CHARGING_PROFILE", "START_SESSION"), {"result": "ACCEPTED"}, status=404, ocpi=2000
    )
    await setup.as_cpo.post(
        "/ocpi/2.2.1/sender/chargingprofiles/SET_CHARGING_PROFILE/unknown-id",
        {"result": "ACCEPTED"},
        status=404,
        ocpi=2000,
    )
    network = setup.roaming.network
    other_cpo = await network.add("cpo2.test", "NL-CP2-CPO")
    link = await network.register(setup.roaming.emsp, other_cpo)
    stranger = network.api("emsp.test", link.to_client)
    await stranger.post(url, {"result": "ACCEPTED"}, status=404, ocpi=2000)
    assert state_of(await stored(setup, record)) == (CommandState.PENDING, False)


async def test_a_result_after_the_deadline_is_recorded_late(setup: Setup) -> None:
    setup.fake.answer = {"result": "ACCEPTED", "timeout": 1}
    record = await send_profile_request(setup.roaming.emsp, SET, CPO, "SESSION-7", profile=PROFILE)
    await asyncio.sleep(1.1)
    assert state_of(await stored(setup, record)) == (CommandState.TIMED_OUT, False)
    late = await setup.as_cpo.post(result_path(record), {"result": "ACCEPTED"})
    assert late.json()["status_message"] == "recorded after its deadline"
    assert state_of(await stored(setup, record)) == (CommandState.DONE, True)


async def test_the_cpo_updates_the_active_profile_of_its_session(setup: Setup) -> None:
    admin = setup.roaming.network.client("emsp.test")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    path = "/admin/api/chargingprofiles/NL/CPO/SESSION-8/active"
    assert (await admin.get(path, headers=headers)).status_code == 404

    answer = await setup.as_cpo.put("/ocpi/2.2.1/sender/chargingprofiles/SESSION-8", ACTIVE)
    assert "data" not in answer.json()
    assert (answer.headers["ocpi-to-country-code"], answer.headers["ocpi-to-party-id"]) == CPO
    shown = await admin.get(path, headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["data"] == ACTIVE
    assert (await admin.get(path.replace("SESSION-8", "session-8"), headers=headers)).json()["data"] == ACTIVE

    routed = {"OCPI-from-country-code": "NL", "OCPI-from-party-id": "CPO"}
    newer = {**ACTIVE, "start_date_time": "2024-03-01T11:00:00Z"}
    await setup.as_cpo.put("/ocpi/2.2.1/sender/chargingprofiles/SESSION-8", newer, headers=routed)
    assert (await admin.get(path, headers=headers)).json()["data"] == newer


async def test_an_active_profile_update_is_checked(setup: Setup) -> None:
    url = "/ocpi/2.2.1/sender/chargingprofiles/SESSION-9"
    await setup.as_cpo.put(url, {"charging_profile": PROFILE}, status=400, ocpi=2001)
    await setup.as_cpo.put(url, {**ACTIVE, "charging_profile": {"charging_rate_unit": "kW"}}, status=400, ocpi=2001)
    foreign = {"OCPI-from-country-code": "DE", "OCPI-from-party-id": "XXX"}
    await setup.as_cpo.put(url, ACTIVE, headers=foreign, status=404, ocpi=2000)
    await setup.as_cpo.put(url.replace("SESSION-9", "S" * 37), ACTIVE, status=400, ocpi=2001)
    store = setup.roaming.emsp.store
    assert await store.get_state("active_profiles", "NL/CPO/SESSION-9") is None
    assert await store.get_state("active_profiles", "DE/XXX/SESSION-9") is None


async def test_a_result_reaches_the_emsp_after_it_restarted(setup: Setup) -> None:
    network = setup.roaming.network
    record = await send_profile_request(setup.roaming.emsp, GET, CPO, "SESSION-10", duration=300)
    restarted = await network.restart("emsp.test")
    try:
        await setup.as_cpo.post(result_path(record), {"result": "ACCEPTED", "profile": ACTIVE})
        found = await restarted.store.get_command(record.id)
        assert found is not None
        assert state_of(found) == (CommandState.DONE, False)
    finally:
        setup.roaming = dataclasses.replace(setup.roaming, emsp=restarted)


async def test_the_back_office_sets_asks_and_clears_profiles(setup: Setup) -> None:
    http = setup.roaming.network.client("emsp.test")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    base = "/admin/api/chargingprofiles/NL/CPO/SESSION-11"

    put = await http.put(base, headers=headers, content=json.dumps({"charging_profile": PROFILE}))
    assert put.status_code == 201, put.text
    view = put.json()["data"]
    assert (view["state"], view["command"], view["response"]["result"]) == (
        "PENDING",
        "SET_CHARGING_PROFILE",
        "ACCEPTED",
    )
    assert view["to"] == {"country_code": "NL", "party_id": "CPO"}
    assert view["request"]["charging_profile"] == PROFILE
    assert setup.fake.requests[-1].method == "PUT"
    response_url = view["request"]["response_url"]
    await setup.as_cpo.post(response_url.removeprefix("http://emsp.test"), {"result": "REJECTED"})
    followed = (await http.get(f"/admin/api/commands/{view['id']}", headers=headers)).json()["data"]
    assert (followed["state"], followed["result"]) == ("DONE", {"result": "REJECTED"})

    got = await http.get(base, headers=headers, params={"duration": "600"})
    assert got.status_code == 201, got.text
    assert got.json()["data"]["request"]["duration"] == 600
    assert (setup.fake.requests[-1].method, setup.fake.requests[-1].query["duration"]) == ("GET", "600")

    setup.fake.answer = {"result": "TOO_OFTEN", "timeout": 30}
    cleared = await http.delete(base, headers=headers)
    assert cleared.status_code == 201, cleared.text
    assert cleared.json()["data"]["state"] == "REFUSED"
    assert setup.fake.requests[-1].method == "DELETE"
    refused = (await http.get(f"/admin/api/commands/{cleared.json()['data']['id']}", headers=headers)).json()
    assert refused["data"]["state"] == "REFUSED"

    for method, url, payload, status, code in (
        ("PUT", base, {}, 400, 2001),
        ("PUT", base, {"charging_profile": {"charging_rate_unit": "kW"}}, 400, 2001),
        ("GET", base, None, 400, 2001),
        ("GET", f"{base}?duration=ten", None, 400, 2001),
        ("DELETE", "/admin/api/chargingprofiles/DE/XXX/SESSION-11", None, 404, 2000),
    ):
        content = None if payload is None else json.dumps(payload)
        response = await http.request(method, url, headers=headers, content=content)
        assert (response.status_code, response.json()["status_code"]) == (status, code), response.text
    assert (await http.delete(base)).status_code == 401


async def test_the_back_office_of_a_node_without_emsp_or_scsp_sends_no_profiles(setup: Setup) -> None:
    network = setup.roaming.network
    await network.add("nsp.test", "NL-NSP-NSP", admin_token=ADMIN)
    http = httpx.AsyncClient(transport=network.transport, base_url="http://nsp.test")
    async with http:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        for method in ("PUT", "GET", "DELETE"):
            response = await http.request(method, "/admin/api/chargingprofiles/NL/CPO/S1", headers=headers)
            assert response.status_code == 404, response.text
        assert (await http.get("/admin/api/chargingprofiles/NL/CPO/S1/active", headers=headers)).status_code == 404
