"""The back-office API (`/admin/api`) of an in-process node: auth, every endpoint's answers, last_updated
stamping, and that what the back office stores is what the node's OCPI Sender interfaces serve."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest

from evroam.node import Node
from evroam.parties.initiate import issue_registration_token, register_with
from evroam.store.interface import ListQuery, ObjectKey
from evroam.types import parse_datetime, utcnow

from support.backoffice import cdr, connector, evse, location, period, session, tariff, token
from support.nodes import InProcessNetwork

pytestmark = pytest.mark.asyncio

ADMIN = "back-office-secret-0123456789"
API = "/admin/api"
LOC = f"{API}/locations/NL/CPO/LOC1"
OLD = "2024-01-02T03:04:05Z"


def bearer(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ocpi_token(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


async def call(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    status: int,
    ocpi: int = 1000,
    body: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """One request, checking the HTTP status, the envelope and its status_code."""
    content = None if body is None else json.dumps(body).encode()
    sent = {**bearer(), **(headers or {})}
    response = await http.request(method, url, headers=sent, content=content, params=params)
    what = f"{method} {url} -> {response.status_code} {response.text[:500]}"
    assert response.status_code == status, what
    assert response.headers["content-type"] == "application/json", what
    envelope = response.json()
    assert envelope["status_code"] == ocpi, what
    assert isinstance(envelope["timestamp"], str), what
    return response


def data(response: httpx.Response) -> Any:
    return response.json()["data"]


def message(response: httpx.Response) -> str:
    text: str = response.json()["status_message"]
    return text


# -- nodes --------------------------------------------------------------------------------------------


async def cpo_node(network: InProcessNetwork, *parties: str) -> Node:
    return await network.add("cpo.test", *(parties or ("NL-CPO-CPO",)), admin_token=ADMIN)


def just_now(value: str) -> bool:
    return abs((utcnow() - parse_datetime(value)).total_seconds()) < 60


# -- authentication -----------------------------------------------------------------------------------


async def test_without_admin_token_configured_every_request_is_401_saying_to_set_it(
    network: InProcessNetwork,
) -> None:
    await network.add("cpo.test", "NL-CPO-CPO")
    async with network.client("cpo.test") as http:
        for method, url, body in (
            ("GET", f"{API}/locations", None),
            ("PUT", LOC, location()),
            ("PATCH", f"{LOC}/EVSE1", {"status": "CHARGING"}),
            ("POST", f"{API}/cdrs", cdr()),
        ):
            response = await call(http, method, url, status=401, ocpi=2000, body=body)
            assert "EVROAM_ADMIN_TOKEN" in message(response)
        await call(http, "GET", f"{API}/locations", status=401, ocpi=2000, headers={"Authorization": ""})


async def test_missing_or_wrong_admin_token_is_401_and_stores_nothing(network: InProcessNetwork) -> None:
    node = await cpo_node(network)
    async with network.client("cpo.test") as http:
        for headers in (
            {"Authorization": ""},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer " + ADMIN + "x"},
            {"Authorization": "Bearer " + ADMIN[:-1]},
            {"Authorization": "Basic " + ADMIN},
            ocpi_token(ADMIN),
        ):
            await call(http, "PUT", LOC, status=401, ocpi=2000, body=location(), headers=headers)
        response = await http.get(f"{API}/locations")  # no Authorization header at all
        assert response.status_code == 401
        assert "Bearer" in message(response)
    assert await node.store.list_objects("locations", ListQuery(limit=1000)) == (0, [])


async def test_ocpi_credentials_tokens_do_not_open_the_back_office(network: InProcessNetwork) -> None:
    roaming = await connect(network)
    token_c = roaming["token_to_cpo"]
    async with network.client("cpo.test") as http:
        # The eMSP's token works on OCPI ...
        ocpi = await http.get("/ocpi/2.2.1/sender/locations", headers=ocpi_token(token_c))
        assert ocpi.status_code == 200
        # ... and in no form on the back office.
        for headers in (ocpi_token(token_c), bearer(token_c), {"Authorization": f"Token {token_c}"}):
            await call(http, "GET", f"{API}/locations", status=401, ocpi=2000, headers=headers)


async def test_admin_token_opens_no_ocpi_endpoint(network: InProcessNetwork) -> None:
    await connect(network)
    async with network.client("cpo.test") as http:
        for url in ("/ocpi/versions", "/ocpi/2.2.1", "/ocpi/2.2.1/credentials", "/ocpi/2.2.1/sender/locations"):
            for headers in (bearer(), ocpi_token(ADMIN), {"Authorization": f"Token {ADMIN}"}):
                response = await http.get(url, headers=headers)
                assert response.status_code == 401, (url, response.text)


async def test_admin_token_never_appears_in_logs(network: InProcessNetwork, caplog: pytest.LogCaptureFixture) -> None:
    await cpo_node(network)
    caplog.set_level(logging.DEBUG)
    async with network.client("cpo.test") as http:
        await call(http, "PUT", LOC, status=201, body=location())
        await call(http, "GET", f"{API}/locations", status=401, ocpi=2000, headers=bearer(ADMIN + "-wrong"))
        await call(http, "PUT", f"{API}/locations/DE/XXX/L", status=404, ocpi=2000, body=location())
    assert caplog.records
    assert ADMIN not in caplog.text


# -- locations ----------------------------------------------------------------------------------------


async def test_put_location_creates_201_then_replaces_200_answering_the_stored_object(
    network: InProcessNetwork,
) -> None:
    node = await cpo_node(network)
    async with network.client("cpo.test") as http:
        created = await call(http, "PUT", LOC, status=201, body=location(name="Dom"))
        assert data(created)["name"] == "Dom"
        replaced = await call(http, "PUT", LOC, status=200, body=location(name="Domtoren"))
        assert data(replaced)["name"] == "Domtoren"
        fetched = data(await call(http, "GET", LOC, status=200))
    assert fetched == data(replaced)
    stored = await node.store.get_object("locations", ObjectKey("NL", "CPO", "LOC1"))
    assert stored is not None
    assert json.loads(stored.data) == fetched


async def test_put_location_without_last_updated_stamps_location_evses_and_connectors_now(
    network: InProcessNetwork,
) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        stored = data(await call(http, "PUT", LOC, status=201, body=location()))
    stamp = stored["last_updated"]
    assert just_now(stamp)
    assert stored["evses"][0]["last_updated"] == stamp
    assert stored["evses"][0]["connectors"][0]["last_updated"] == stamp


async def test_put_location_keeps_a_given_last_updated_and_children_inherit_it(network: InProcessNetwork) -> None:
    await cpo_node(network)
    given = evse("EVSE2", last_updated="2024-01-01T00:00:00Z")
    async with network.client("cpo.test") as http:
        body = location(last_updated=OLD, evses=[evse(), given])
        stored = data(await call(http, "PUT", LOC, status=201, body=body))
    assert stored["last_updated"] == OLD
    assert stored["evses"][0]["last_updated"] == OLD
    assert stored["evses"][0]["connectors"][0]["last_updated"] == OLD
    assert stored["evses"][1]["last_updated"] == "2024-01-01T00:00:00Z"


async def test_put_location_takes_ids_left_out_of_the_body_from_the_url(network: InProcessNetwork) -> None:
    await cpo_node(network)
    body = location()
    for field in ("country_code", "party_id", "id"):
        del body[field]
    async with network.client("cpo.test") as http:
        stored = data(await call(http, "PUT", LOC, status=201, body=body))
    assert (stored["country_code"], stored["party_id"], stored["id"]) == ("NL", "CPO", "LOC1")


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (LOC, location("OTHER"), "/id"),
        (LOC, location(pid="XYZ"), "/party_id"),
        (f"{LOC}/EVSE1", evse("EVSE9"), "/uid"),
        (f"{LOC}/EVSE1/1", connector("2"), "/id"),
    ],
)
async def test_put_location_whose_body_ids_differ_from_the_url_is_2001(
    network: InProcessNetwork, url: str, body: dict[str, Any], field: str
) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        if url != LOC:
            await call(http, "PUT", LOC, status=201, body=location())
        response = await call(http, "PUT", url, status=400, ocpi=2001, body=body)
    assert message(response).startswith(field)


async def test_put_invalid_location_is_2001_naming_the_field_and_stores_nothing(network: InProcessNetwork) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        bad = location(evses=[evse(status="BUSY")])
        response = await call(http, "PUT", LOC, status=400, ocpi=2001, body=bad)
        assert "/evses/0/status" in message(response)
        await call(http, "GET", LOC, status=404, ocpi=2000)
        response = await call(http, "PUT", LOC, status=400, ocpi=2001, body=location(last_updated="yesterday"))
        assert "/last_updated" in message(response)
        response = await call(http, "PUT", LOC, status=400, ocpi=2001, body=[location()])
        assert "JSON object" in message(response)
        bad_json = await http.put(LOC, headers=bearer(), content=b"{not json")
        assert bad_json.status_code == 400
        assert bad_json.json()["status_code"] == 2000


async def test_locations_of_a_party_not_ours_are_404_and_nothing_is_stored(network: InProcessNetwork) -> None:
    node = await cpo_node(network, "NL-CPO-CPO", "NL-EMS-EMSP")
    async with network.client("cpo.test") as http:
        for cc, pid in (("DE", "CPO"), ("NL", "XXX"), ("NL", "EMS")):  # NL/EMS is ours, but an eMSP
            url = f"{API}/locations/{cc}/{pid}/LOC1"
            response = await call(http, "PUT", url, status=404, ocpi=2000, body=location(cc=cc, pid=pid))
            assert f"{cc}/{pid} is not a CPO party of this node" in message(response)
            await call(http, "PATCH", url + "/EVSE1", status=404, ocpi=2000, body={"status": "CHARGING"})
            await call(http, "GET", url, status=404, ocpi=2000)
    assert (await node.store.list_objects("locations", ListQuery(limit=1000)))[0] == 0


async def test_patch_evse_status_alone_moves_evse_and_location_last_updated(network: InProcessNetwork) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        await call(http, "PUT", LOC, status=201, body=location(last_updated=OLD))
        patched = await call(http, "PATCH", f"{LOC}/EVSE1", status=200, body={"status": "CHARGING"})
        assert data(patched)["status"] == "CHARGING"
        stored = data(await call(http, "GET", LOC, status=200))
    [changed] = stored["evses"]
    assert changed["status"] == "CHARGING"
    assert just_now(changed["last_updated"])
    assert stored["last_updated"] == changed["last_updated"]
    assert changed["connectors"][0]["last_updated"] == OLD  # the connector did not change


async def test_patch_with_a_given_last_updated_keeps_it_and_an_older_one_is_not_applied(
    network: InProcessNetwork,
) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        await call(http, "PUT", LOC, status=201, body=location(last_updated=OLD))
        later = "2024-02-01T00:00:00Z"
        connector_url = f"{LOC}/EVSE1/1"
        patched = await call(http, "PATCH", connector_url, status=200, body={"max_amperage": 32, "last_updated": later})
        assert data(patched) == {**connector(max_amperage=32), "last_updated": later}
        stale = await call(http, "PATCH", f"{LOC}/EVSE1", status=200, body={"status": "BLOCKED", "last_updated": OLD})
        assert message(stale).startswith("Not applied")
        stored = data(await call(http, "GET", LOC, status=200))
    assert stored["last_updated"] == later
    assert stored["evses"][0]["status"] == "AVAILABLE"


async def test_patch_location_name_stamps_now(network: InProcessNetwork) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        await call(http, "PUT", LOC, status=201, body=location(last_updated=OLD))
        patched = data(await call(http, "PATCH", LOC, status=200, body={"name": "Dom"}))
    assert patched["name"] == "Dom"
    assert just_now(patched["last_updated"])


async def test_put_evse_and_connector_into_a_stored_location(network: InProcessNetwork) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        await call(http, "PUT", LOC, status=201, body=location(last_updated=OLD))
        added = await call(http, "PUT", f"{LOC}/EVSE2", status=201, body=evse("EVSE2"))
        assert just_now(data(added)["last_updated"])
        assert data(added)["connectors"][0]["last_updated"] == data(added)["last_updated"]
        without_id = {k: v for k, v in connector().items() if k != "id"}
        await call(http, "PUT", f"{LOC}/EVSE2/2", status=201, body=without_id)  # id taken from the URL
        stored = data(await call(http, "GET", LOC, status=200))
        await call(http, "PUT", f"{API}/locations/NL/CPO/NOPE/EVSE1", status=404, ocpi=2003, body=evse())
    assert [e["uid"] for e in stored["evses"]] == ["EVSE1", "EVSE2"]
    assert [c["id"] for c in stored["evses"][1]["connectors"]] == ["1", "2"]
    assert just_now(stored["last_updated"])


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_unknown_location_evse_or_connector_is_404(network: InProcessNetwork, method: str) -> None:
    await cpo_node(network)
    body = {"status": "CHARGING"} if method == "PATCH" else None
    async with network.client("cpo.test") as http:
        await call(http, method, f"{API}/locations/NL/CPO/NOPE", status=404, ocpi=2000, body=body)
        await call(http, "PUT", LOC, status=201, body=location())
        await call(http, method, f"{LOC}/EVSE9", status=404, ocpi=2000, body=body)
        await call(http, method, f"{LOC}/EVSE1/9", status=404, ocpi=2000, body=body)


# -- tariffs ------------------------------------------------------------------------------------------


async def test_tariff_put_get_delete(network: InProcessNetwork) -> None:
    node = await cpo_node(network)
    url = f"{API}/tariffs/NL/CPO/T1"
    async with network.client("cpo.test") as http:
        created = data(await call(http, "PUT", url, status=201, body=tariff()))
        assert just_now(created["last_updated"])
        assert data(await call(http, "GET", url, status=200)) == created
        kept = data(await call(http, "PUT", url, status=200, body=tariff(last_updated="2030-01-01T00:00:00Z")))
        assert kept["last_updated"] == "2030-01-01T00:00:00Z"
        await call(http, "DELETE", url, status=200)
        await call(http, "GET", url, status=404, ocpi=2000)
        await call(http, "DELETE", url, status=404, ocpi=2000)
    assert (await node.store.list_objects("tariffs", ListQuery(limit=1000)))[0] == 0


async def test_tariff_errors(network: InProcessNetwork) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        mismatch = await call(http, "PUT", f"{API}/tariffs/NL/CPO/T2", status=400, ocpi=2001, body=tariff())
        assert message(mismatch).startswith("/id")
        invalid = await call(http, "PUT", f"{API}/tariffs/NL/CPO/T1", status=400, ocpi=2001, body=tariff(elements=[]))
        assert "/elements" in message(invalid)
        await call(http, "PUT", f"{API}/tariffs/DE/CPO/T1", status=404, ocpi=2000, body=tariff(country_code="DE"))
        await call(http, "GET", f"{API}/tariffs/NL/CPO/T1", status=404, ocpi=2000)
        await call(http, "PATCH", f"{API}/tariffs/NL/CPO/T1", status=405, ocpi=2000, body={"currency": "USD"})


# -- sessions -----------------------------------------------------------------------------------------


async def test_session_put_patch_get(network: InProcessNetwork) -> None:
    await cpo_node(network)
    url = f"{API}/sessions/NL/CPO/S1"
    async with network.client("cpo.test") as http:
        created = data(await call(http, "PUT", url, status=201, body=session(last_updated=OLD)))
        assert created["last_updated"] == OLD
        first = period("2024-05-01T10:00:00Z", 2)
        second = period("2024-05-01T10:15:00Z", 3)
        await call(http, "PATCH", url, status=200, body={"kwh": 2, "charging_periods": [first]})
        patched = data(await call(http, "PATCH", url, status=200, body={"kwh": 5, "charging_periods": [second]}))
        assert patched["kwh"] == 5
        assert patched["charging_periods"] == [first, second]  # OCPI 2.2.1: PATCH appends charging periods
        assert just_now(patched["last_updated"])
        assert data(await call(http, "GET", url, status=200)) == patched
        await call(http, "PATCH", f"{API}/sessions/NL/CPO/S9", status=404, ocpi=2000, body={"kwh": 1})
        invalid = await call(http, "PATCH", url, status=400, ocpi=2001, body={"status": "RUNNING"})
        assert "/status" in message(invalid)
        await call(http, "PATCH", url, status=400, ocpi=2001, body={"id": "S2", "kwh": 1})
        await call(http, "PUT", f"{API}/sessions/NL/XXX/S1", status=404, ocpi=2000, body=session(party_id="XXX"))


# -- CDRs ---------------------------------------------------------------------------------------------


async def test_cdr_post_answers_201_with_location_and_get_finds_it(network: InProcessNetwork) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        created = await call(http, "POST", f"{API}/cdrs", status=201, body=cdr())
        assert created.headers["Location"] == "http://cpo.test/admin/api/cdrs/NL/CPO/CDR1"
        assert just_now(data(created)["last_updated"])
        fetched = data(await call(http, "GET", f"{API}/cdrs/NL/CPO/CDR1", status=200))
        assert fetched == data(created)
        await call(http, "GET", f"{API}/cdrs/NL/CPO/CDR2", status=404, ocpi=2000)
        odd = await call(http, "POST", f"{API}/cdrs", status=201, body=cdr("A/B#1?"))
        assert odd.headers["Location"] == "http://cpo.test/admin/api/cdrs/NL/CPO/A%2FB%231%3F"
        assert data(await call(http, "GET", odd.headers["Location"], status=200))["id"] == "A/B#1?"
        await call(http, "GET", f"{API}/cdrs/DE/CPO/CDR1", status=404, ocpi=2000)


async def test_the_same_cdr_again_is_200_and_a_different_one_under_its_id_is_409_already_exists(
    network: InProcessNetwork,
) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        first = data(await call(http, "POST", f"{API}/cdrs", status=201, body=cdr()))
        # A retry (the node stamped the first one; this one is stamped again) changes nothing.
        again = await call(http, "POST", f"{API}/cdrs", status=200, body=cdr())
        assert data(again) == first
        assert message(again).startswith("Already received")
        other = await call(http, "POST", f"{API}/cdrs", status=409, ocpi=2001, body=cdr(total_energy=9))
        assert "already exists" in message(other)
        assert data(await call(http, "GET", f"{API}/cdrs/NL/CPO/CDR1", status=200)) == first


async def test_cdr_errors(network: InProcessNetwork) -> None:
    node = await cpo_node(network)
    async with network.client("cpo.test") as http:
        foreign = await call(http, "POST", f"{API}/cdrs", status=404, ocpi=2000, body=cdr(party_id="XXX"))
        assert "NL/XXX is not a CPO party" in message(foreign)
        invalid = await call(http, "POST", f"{API}/cdrs", status=400, ocpi=2001, body=cdr(charging_periods=[]))
        assert "/charging_periods" in message(invalid)
        missing = {k: v for k, v in cdr().items() if k != "id"}
        assert "/id" in message(await call(http, "POST", f"{API}/cdrs", status=400, ocpi=2001, body=missing))
        await call(http, "PUT", f"{API}/cdrs/NL/CPO/CDR1", status=405, ocpi=2000, body=cdr())
    assert (await node.store.list_objects("cdrs", ListQuery(limit=1000)))[0] == 0


# -- tokens -------------------------------------------------------------------------------------------


async def test_token_put_patch_get_by_uid_and_type(network: InProcessNetwork) -> None:
    await network.add("emsp.test", "NL-EMS-EMSP", admin_token=ADMIN)
    url = f"{API}/tokens/NL/EMS/04A1B2C3"
    async with network.client("emsp.test") as http:
        rfid = data(await call(http, "PUT", url, status=201, body=token()))
        assert rfid["type"] == "RFID"
        app = {**token(type="APP_USER")}
        del app["type"]  # taken from ?type=
        app_user = data(await call(http, "PUT", url, status=201, body=app, params={"type": "APP_USER"}))
        assert app_user["type"] == "APP_USER"
        blocked = data(await call(http, "PATCH", url, status=200, body={"valid": False}))
        assert blocked["valid"] is False
        assert just_now(blocked["last_updated"])
        assert data(await call(http, "GET", url, status=200, params={"type": "APP_USER"}))["valid"] is True
        assert data(await call(http, "GET", url, status=200))["valid"] is False
        await call(http, "GET", url, status=404, ocpi=2000, params={"type": "AD_HOC_USER"})
        mismatch = await call(http, "PUT", url, status=400, ocpi=2001, body=token(), params={"type": "APP_USER"})
        assert message(mismatch).startswith("/type")
        await call(http, "PUT", f"{API}/tokens/NL/CPO/X1", status=404, ocpi=2000, body=token("X1", party_id="CPO"))


async def test_tokens_are_refused_on_a_node_without_an_emsp_party(network: InProcessNetwork) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        response = await call(http, "PUT", f"{API}/tokens/NL/CPO/04A1B2C3", status=404, ocpi=2000, body=token())
    assert "EMSP parties: none" in message(response)


# -- lists --------------------------------------------------------------------------------------------


async def test_lists_page_our_objects_with_total_count_including_unpublished_locations(
    network: InProcessNetwork,
) -> None:
    await cpo_node(network)
    async with network.client("cpo.test") as http:
        for n in range(5):
            body = location(f"L{n}", publish=n != 2)
            await call(http, "PUT", f"{API}/locations/NL/CPO/L{n}", status=201, body=body)
        page = await call(http, "GET", f"{API}/locations", status=200, params={"offset": "1", "limit": "2"})
        assert [loc["id"] for loc in data(page)] == ["L1", "L2"]
        assert page.headers["X-Total-Count"] == "5"
        assert page.headers["Link"] == '<http://cpo.test/admin/api/locations?offset=3&limit=2>; rel="next"'
        everything = await call(http, "GET", f"{API}/locations", status=200)
        assert len(data(everything)) == 5
        assert "Link" not in everything.headers
        empty = await call(http, "GET", f"{API}/tariffs", status=200)
        assert (data(empty), empty.headers["X-Total-Count"]) == ([], "0")
        await call(http, "GET", f"{API}/locations", status=400, ocpi=2001, params={"limit": "-1"})


# -- the point of it: the OCPI Sender interfaces serve what the back office stored -----------------------


async def connect(network: InProcessNetwork) -> dict[str, Any]:
    """A CPO and an eMSP node, each with the admin token; the eMSP registers with the CPO."""
    cpo = await cpo_node(network)
    emsp = await network.add("emsp.test", "NL-EMS-EMSP", admin_token=ADMIN)
    _, token_a = await issue_registration_token(cpo, "emsp")
    cpo_seen_by_emsp = await register_with(emsp, cpo.versions_url, token_a)
    [emsp_seen_by_cpo] = await cpo.store.list_peers()
    return {
        "cpo": cpo,
        "emsp": emsp,
        "token_to_cpo": cpo_seen_by_emsp.token_out,
        "token_to_emsp": emsp_seen_by_cpo.token_out,
    }


async def test_objects_fed_through_the_back_office_are_served_on_the_ocpi_sender_lists(
    network: InProcessNetwork,
) -> None:
    roaming = await connect(network)
    async with network.client("cpo.test") as cpo, network.client("emsp.test") as emsp:
        await call(cpo, "PUT", LOC, status=201, body=location())
        await call(cpo, "PATCH", f"{LOC}/EVSE1", status=200, body={"status": "CHARGING"})
        await call(cpo, "PUT", f"{API}/tariffs/NL/CPO/T1", status=201, body=tariff())
        await call(cpo, "PUT", f"{API}/sessions/NL/CPO/S1", status=201, body=session())
        await call(cpo, "POST", f"{API}/cdrs", status=201, body=cdr())
        await call(emsp, "PUT", f"{API}/tokens/NL/EMS/04A1B2C3", status=201, body=token())

        as_emsp = ocpi_token(roaming["token_to_cpo"])
        listed = {}
        for module, params in (
            ("locations", {}),
            ("tariffs", {}),
            ("sessions", {"date_from": "2020-01-01T00:00:00Z"}),
            ("cdrs", {}),
        ):
            url = f"/ocpi/2.2.1/sender/{module}"
            response = await call(cpo, "GET", url, status=200, headers=as_emsp, params=params)
            assert response.headers["X-Total-Count"] == "1"
            admin_view = data(await call(cpo, "GET", f"{API}/{module}", status=200))
            assert data(response) == admin_view
            listed[module] = data(response)[0]
        tokens = await call(
            emsp, "GET", "/ocpi/2.2.1/sender/tokens", status=200, headers=ocpi_token(roaming["token_to_emsp"])
        )
    assert listed["locations"]["evses"][0]["status"] == "CHARGING"
    assert listed["locations"]["last_updated"] == listed["locations"]["evses"][0]["last_updated"]
    assert listed["tariffs"]["id"] == "T1"
    assert listed["sessions"]["id"] == "S1"
    assert listed["cdrs"]["id"] == "CDR1"
    assert [t["uid"] for t in data(tokens)] == ["04A1B2C3"]
    # The date filter peers use to resync finds the change made through the back office.
    async with network.client("cpo.test") as cpo:
        since = listed["locations"]["last_updated"]
        changed = await call(
            cpo, "GET", "/ocpi/2.2.1/sender/locations", status=200, headers=as_emsp, params={"date_from": since}
        )
    assert [loc["id"] for loc in data(changed)] == ["LOC1"]
