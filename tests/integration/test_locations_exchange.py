"""Locations Receiver (eMSP) between in-process nodes: the CPO pushes Locations, EVSEs and Connectors.

Black-box: every request goes through the eMSP's ASGI app with the token the CPO registered; the
store is only read to prove that a refused request left nothing behind. Each test runs on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from evroam.parties.initiate import issue_registration_token
from evroam.store.interface import ListQuery

from support.nodes import (
    Roaming,
    at,
    connector_body,
    evse_body,
    location_body,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

URL = "/ocpi/2.2.1/receiver/locations/NL/CPO"
LOC = f"{URL}/LOC1"


async def stored_locations(r: Roaming) -> int:
    total, _ = await r.emsp.store.list_objects("locations", ListQuery())
    return total


def full_location() -> dict[str, Any]:
    """A Location using most optional fields, with unknown extra fields at every level."""
    connector = connector_body(
        "1",
        max_electric_power=22000,
        tariff_ids=["T1", "T2"],
        terms_and_conditions="https://cpo.example/terms",
        x_vendor_connector={"nested": [1, "two", None]},
    )
    evse = evse_body(
        "EVSE1",
        connectors=[connector],
        status_schedule=[{"period_begin": at(0, hour=12), "period_end": at(0, hour=13), "status": "BLOCKED"}],
        capabilities=["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        floor_level="-1",
        coordinates={"latitude": "52.089445", "longitude": "5.110279"},
        physical_reference="A1",
        directions=[{"language": "nl", "text": "Links"}],
        parking_restrictions=["EV_ONLY"],
        images=[{"url": "https://cpo.example/e.png", "category": "CHARGER", "type": "png", "width": 10}],
        x_vendor_evse="kept",
    )
    return location_body(
        "LOC1",
        name="Zürich Hbf — Ladestation ⚡",
        postal_code="3511 CE",
        state="Utrecht",
        related_locations=[{"latitude": "52.089000", "longitude": "5.110000", "name": {"language": "en", "text": "P"}}],
        parking_type="PARKING_GARAGE",
        evses=[evse],
        directions=[{"language": "en", "text": "Follow the signs"}],
        operator={"name": "Operator", "website": "https://cpo.example"},
        facilities=["TRAIN_STATION", "CAFE"],
        opening_times={
            "twentyfourseven": False,
            "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}],
        },
        charging_when_closed=False,
        energy_mix={"is_green_energy": True, "energy_sources": [{"source": "SOLAR", "percentage": 40.5}]},
        x_vendor={"rating": 4.5, "tags": ["a", "b"]},
    )


# -- PUT / GET round trips ---------------------------------------------------------------------------------


async def test_put_new_is_201_then_get_returns_exactly_what_was_put(roaming: Roaming) -> None:
    body = full_location()
    await roaming.at_emsp.put(LOC, body, status=201)
    assert await roaming.at_emsp.data(LOC) == body
    assert await roaming.at_emsp.data(f"{LOC}/EVSE1") == body["evses"][0]
    assert await roaming.at_emsp.data(f"{LOC}/EVSE1/1") == body["evses"][0]["connectors"][0]


async def test_put_existing_is_200_and_replaces_absent_optionals_with_absent(roaming: Roaming) -> None:
    await roaming.at_emsp.put(LOC, full_location(), status=201)
    await roaming.at_emsp.put(LOC, full_location(), status=200)
    minimal = location_body(last_updated=at(5))
    await roaming.at_emsp.put(LOC, minimal, status=200)
    stored = await roaming.at_emsp.data(LOC)
    assert stored == minimal
    for absent in ("name", "postal_code", "opening_times", "charging_when_closed", "x_vendor", "facilities"):
        assert absent not in stored
    assert "max_electric_power" not in stored["evses"][0]["connectors"][0]
    assert await stored_locations(roaming) == 1


async def test_get_of_unknown_location_evse_or_connector_is_404(roaming: Roaming) -> None:
    await roaming.at_emsp.get(f"{URL}/NOPE", status=404, ocpi=2000)
    await roaming.at_emsp.put(LOC, location_body(), status=201)
    await roaming.at_emsp.get(f"{LOC}/NOPE", status=404, ocpi=2000)
    await roaming.at_emsp.get(f"{LOC}/EVSE1/9", status=404, ocpi=2000)


async def test_cistring_ids_match_case_insensitively(roaming: Roaming) -> None:
    await roaming.at_emsp.put(LOC, location_body(), status=201)
    assert (await roaming.at_emsp.data("/ocpi/2.2.1/receiver/locations/nl/cpo/loc1"))["id"] == "LOC1"
    assert (await roaming.at_emsp.data("/ocpi/2.2.1/receiver/locations/nl/cpo/loc1/evse1"))["uid"] == "EVSE1"
    assert (await roaming.at_emsp.data("/ocpi/2.2.1/receiver/locations/nl/cpo/loc1/evse1/1"))["id"] == "1"
    # The same object, not a second one: PUT and PATCH under other casing address LOC1.
    await roaming.at_emsp.put("/ocpi/2.2.1/receiver/locations/nl/cpo/Loc1", location_body(last_updated=at(1)))
    await roaming.at_emsp.patch(
        "/ocpi/2.2.1/receiver/locations/Nl/cPo/lOc1/eVsE1", {"status": "CHARGING", "last_updated": at(2)}
    )
    assert (await roaming.at_emsp.data(LOC))["evses"][0]["status"] == "CHARGING"
    assert await stored_locations(roaming) == 1


# -- refused pushes ------------------------------------------------------------------------------------------


async def test_url_party_not_among_the_callers_roles_is_404_and_stores_nothing(roaming: Roaming) -> None:
    foreign = "/ocpi/2.2.1/receiver/locations/DE/XYZ/LOC1"
    await roaming.at_emsp.put(foreign, location_body(cc="DE", pid="XYZ"), status=404, ocpi=2000)
    await roaming.at_emsp.put(f"{foreign}/EVSE1", evse_body(), status=404, ocpi=2000)
    await roaming.at_emsp.patch(
        f"{foreign}/EVSE1", {"status": "CHARGING", "last_updated": at(1)}, status=404, ocpi=2000
    )
    await roaming.at_emsp.get(foreign, status=404, ocpi=2000)
    # The eMSP's own party is not the CPO's either.
    await roaming.at_emsp.put(
        "/ocpi/2.2.1/receiver/locations/NL/EMS/LOC1", location_body(pid="EMS"), status=404, ocpi=2000
    )
    assert await stored_locations(roaming) == 0


async def test_body_ids_differing_from_the_url_are_2001_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body("LOC2"), status=400, ocpi=2001)
    await api.put(LOC, location_body(cc="DE"), status=400, ocpi=2001)
    await api.put(LOC, location_body(pid="XYZ"), status=400, ocpi=2001)
    assert await stored_locations(roaming) == 0

    await api.put(LOC, location_body(), status=201)
    await api.put(f"{LOC}/EVSE2", evse_body("EVSE3", last_updated=at(1)), status=400, ocpi=2001)
    await api.put(f"{LOC}/EVSE1/2", connector_body("3", last_updated=at(1)), status=400, ocpi=2001)
    await api.patch(
        f"{LOC}/EVSE1", {"uid": "EVSE9", "status": "CHARGING", "last_updated": at(1)}, status=400, ocpi=2001
    )
    await api.patch(LOC, {"id": "LOC9", "name": "x", "last_updated": at(1)}, status=400, ocpi=2001)
    assert await api.data(LOC) == location_body()


async def test_invalid_bodies_are_2001_naming_the_field_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    missing = location_body()
    del missing["address"]
    wrong_evses = location_body()
    wrong_evses["evses"][0]["status"] = "BROKEN"
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("missing required field", missing, "/address"),
        ("wrong type", location_body(publish="yes"), "/publish"),
        ("unknown enum value", wrong_evses, "/evses/0/status"),
        ("too long string", location_body(address="x" * 46), "/address"),
        ("too long CiString", location_body("L" * 37), "/id"),
        ("wrong type, nested", location_body(coordinates={"latitude": 52.1, "longitude": "5.110278"}), "/coordinates"),
        ("bad DateTime", location_body(last_updated="yesterday"), "/last_updated"),
    ]
    for what, body, field in cases:
        url = f"{URL}/{body['id']}"
        message = (await api.put(url, body, status=400, ocpi=2001)).json()["status_message"]
        assert field in message, (what, message)
    assert await stored_locations(roaming) == 0

    await api.put(LOC, location_body(), status=201)
    no_status = evse_body("EVSE2", last_updated=at(1))
    del no_status["status"]
    message = (await api.put(f"{LOC}/EVSE2", no_status, status=400, ocpi=2001)).json()["status_message"]
    assert "/status" in message
    bad_voltage = connector_body("2", last_updated=at(1), max_voltage="230")
    message = (await api.put(f"{LOC}/EVSE1/2", bad_voltage, status=400, ocpi=2001)).json()["status_message"]
    assert "/max_voltage" in message
    message = (
        await api.patch(f"{LOC}/EVSE1", {"status": "BROKEN", "last_updated": at(1)}, status=400, ocpi=2001)
    ).json()["status_message"]
    assert "/status" in message
    assert await api.data(LOC) == location_body()


async def test_malformed_json_is_400(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.call("PUT", LOC, content=b'{"id": "LOC1",', status=400, ocpi=2000)
    await api.call("PUT", LOC, content=b"", status=400, ocpi=2000)
    await api.put(LOC, location_body(), status=201)
    await api.call("PATCH", f"{LOC}/EVSE1", content=b"{status: CHARGING}", status=400, ocpi=2000)
    # Valid JSON that is not an object is a parameter problem.
    await api.put(LOC, [location_body()], status=400, ocpi=2001)
    assert await api.data(LOC) == location_body()


async def test_methods_the_receiver_does_not_offer_are_405_with_an_envelope(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body(), status=201)
    for url in (LOC, f"{LOC}/EVSE1", f"{LOC}/EVSE1/1"):
        await api.post(url, location_body(), status=405, ocpi=2000)
        await api.delete(url, status=405, ocpi=2000)
    assert await api.data(LOC) == location_body()


async def test_missing_unknown_or_registration_token_is_401(roaming: Roaming) -> None:
    network = roaming.network
    _, token_a = await issue_registration_token(roaming.emsp, "newcomer")
    for token in (None, token_a, "not-a-token"):
        api = network.api("emsp.test", token)
        await api.get(LOC, status=401, ocpi=2000)
        await api.put(LOC, location_body(), status=401, ocpi=2000)
    assert await stored_locations(roaming) == 0


# -- last_updated ordering -----------------------------------------------------------------------------------


async def test_older_put_or_patch_is_not_applied(roaming: Roaming) -> None:
    api = roaming.at_emsp
    current = location_body(name="Current", last_updated=at(10))
    await api.put(LOC, current, status=201)
    await api.put(LOC, location_body(name="Older", last_updated=at(5)), status=200)
    await api.patch(LOC, {"name": "Older", "last_updated": at(5)}, status=200)
    await api.put(f"{LOC}/EVSE1", evse_body(status="OUTOFORDER", last_updated=at(5)), status=200)
    await api.patch(f"{LOC}/EVSE1", {"status": "CHARGING", "last_updated": at(5)}, status=200)
    await api.put(f"{LOC}/EVSE1/1", connector_body(max_amperage=16, last_updated=at(5)), status=200)
    await api.patch(f"{LOC}/EVSE1/1", {"max_amperage": 16, "last_updated": at(5)}, status=200)
    assert await api.data(LOC) == current


async def test_patch_without_last_updated_is_2001_at_every_depth(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body(), status=201)
    await api.patch(LOC, {"name": "x"}, status=400, ocpi=2001)
    await api.patch(f"{LOC}/EVSE1", {"status": "CHARGING"}, status=400, ocpi=2001)
    message = (await api.patch(f"{LOC}/EVSE1/1", {"max_amperage": 16}, status=400, ocpi=2001)).json()
    assert "last_updated" in message["status_message"]
    await api.patch(f"{LOC}/EVSE1", {"status": "CHARGING", "last_updated": None}, status=400, ocpi=2001)
    assert await api.data(LOC) == location_body()


# -- EVSEs and Connectors ------------------------------------------------------------------------------------


async def test_patch_evse_status_changes_only_status_and_last_updated(roaming: Roaming) -> None:
    api = roaming.at_emsp
    body = full_location()
    body["evses"].append(evse_body("EVSE2"))
    await api.put(LOC, body, status=201)
    await api.patch(f"{LOC}/EVSE1", {"status": "CHARGING", "last_updated": at(7)}, status=200)
    expected = copy.deepcopy(body)
    expected["evses"][0]["status"] = "CHARGING"
    expected["evses"][0]["last_updated"] = at(7)
    expected["last_updated"] = at(7)
    assert await api.data(LOC) == expected


async def test_connector_change_moves_evse_and_location_last_updated(roaming: Roaming) -> None:
    api = roaming.at_emsp
    body = location_body()
    body["evses"].append(evse_body("EVSE2"))
    await api.put(LOC, body, status=201)

    await api.patch(f"{LOC}/EVSE1/1", {"max_amperage": 16, "last_updated": at(3)}, status=200)
    stored = await api.data(LOC)
    assert stored["last_updated"] == stored["evses"][0]["last_updated"] == at(3)
    assert stored["evses"][0]["connectors"][0] == connector_body(max_amperage=16, last_updated=at(3))
    assert stored["evses"][1] == evse_body("EVSE2")

    await api.put(f"{LOC}/EVSE1/1", connector_body(max_amperage=32, last_updated=at(4)), status=200)
    stored = await api.data(LOC)
    assert stored["last_updated"] == stored["evses"][0]["last_updated"] == at(4)
    assert await api.data(f"{LOC}/EVSE1/1") == connector_body(last_updated=at(4))
    assert stored["evses"][1] == evse_body("EVSE2")


async def test_evse_change_moves_location_last_updated(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body(), status=201)
    await api.put(f"{LOC}/EVSE1", evse_body(status="BLOCKED", last_updated=at(6)), status=200)
    stored = await api.data(LOC)
    assert stored["last_updated"] == at(6)
    assert stored["evses"] == [evse_body(status="BLOCKED", last_updated=at(6))]


async def test_put_of_a_new_evse_or_connector_adds_it(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body(), status=201)
    new_evse = evse_body("EVSE2", last_updated=at(2), x_vendor="kept")
    await api.put(f"{LOC}/EVSE2", new_evse, status=201)
    await api.put(f"{LOC}/EVSE2", new_evse, status=200)
    assert await api.data(f"{LOC}/EVSE2") == new_evse
    new_connector = connector_body("2", standard="CHADEMO", power_type="DC", last_updated=at(3))
    await api.put(f"{LOC}/EVSE2/2", new_connector, status=201)
    assert await api.data(f"{LOC}/EVSE2/2") == new_connector

    stored = await api.data(LOC)
    assert [e["uid"] for e in stored["evses"]] == ["EVSE1", "EVSE2"]
    assert [c["id"] for c in stored["evses"][1]["connectors"]] == ["1", "2"]
    assert stored["last_updated"] == stored["evses"][1]["last_updated"] == at(3)
    assert stored["evses"][0] == evse_body()


async def test_put_of_an_evse_without_uid_takes_the_urls(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body(), status=201)
    body = evse_body("EVSE2", last_updated=at(1))
    del body["uid"]
    await api.put(f"{LOC}/EVSE2", body, status=201)
    assert (await api.data(f"{LOC}/EVSE2"))["uid"] == "EVSE2"


async def test_child_put_under_unknown_parent(roaming: Roaming) -> None:
    api = roaming.at_emsp
    # An EVSE for a Location never pushed: 2003 Unknown Location.
    await api.put(f"{LOC}/EVSE1", evse_body(), status=404, ocpi=2003)
    await api.put(f"{LOC}/EVSE1/1", connector_body(), status=404, ocpi=2003)
    assert await stored_locations(roaming) == 0
    # A Connector for an EVSE the Location lacks: not found.
    await api.put(LOC, location_body(), status=201)
    await api.put(f"{LOC}/EVSE9/1", connector_body(last_updated=at(1)), status=404, ocpi=2000)
    assert await api.data(LOC) == location_body()


async def test_patch_of_unknown_object_is_404(roaming: Roaming) -> None:
    api = roaming.at_emsp
    patch = {"status": "CHARGING", "last_updated": at(1)}
    await api.patch(f"{URL}/NOPE", {"name": "x", "last_updated": at(1)}, status=404, ocpi=2000)
    await api.patch(f"{URL}/NOPE/EVSE1", patch, status=404, ocpi=2000)
    await api.put(LOC, location_body(), status=201)
    await api.patch(f"{LOC}/EVSE9", patch, status=404, ocpi=2000)
    await api.patch(f"{LOC}/EVSE1/9", {"max_amperage": 16, "last_updated": at(1)}, status=404, ocpi=2000)
    assert await api.data(LOC) == location_body()


async def test_patch_of_a_location_merges_top_level_fields(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body(name="Old"), status=201)
    await api.patch(LOC, {"name": "New", "x_vendor": 1, "last_updated": at(2)}, status=200)
    assert await api.data(LOC) == location_body(name="New", x_vendor=1, last_updated=at(2), evses=[evse_body()])


async def test_concurrent_status_patches_of_different_evses_all_survive(roaming: Roaming) -> None:
    api = roaming.at_emsp
    count = 12
    body = location_body(evses=[evse_body(f"EVSE{i}") for i in range(count)])
    await api.put(LOC, body, status=201)

    await asyncio.gather(
        *(
            api.patch(f"{LOC}/EVSE{i}", {"status": "CHARGING", "last_updated": at(1 + i)}, status=200)
            for i in range(count)
        )
    )
    stored = await api.data(LOC)
    assert [e["status"] for e in stored["evses"]] == ["CHARGING"] * count
    assert [e["last_updated"] for e in stored["evses"]] == [at(1 + i) for i in range(count)]
    assert stored["last_updated"] == at(count)


async def test_concurrent_puts_of_new_evses_all_survive(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(LOC, location_body(evses=None), status=201)
    count = 10
    await asyncio.gather(
        *(api.put(f"{LOC}/NEW{i}", evse_body(f"NEW{i}", last_updated=at(i)), status=201) for i in range(count))
    )
    stored = await api.data(LOC)
    assert sorted(e["uid"] for e in stored["evses"]) == sorted(f"NEW{i}" for i in range(count))
    assert stored["last_updated"] == at(count - 1)


# -- routing headers -----------------------------------------------------------------------------------------


async def test_responses_carry_routing_headers(roaming: Roaming) -> None:
    api = roaming.at_emsp
    response = await api.put(LOC, location_body(), status=201)
    assert response.headers["OCPI-from-country-code"] == "NL"
    assert response.headers["OCPI-from-party-id"] == "EMS"
    assert response.headers["OCPI-to-country-code"] == "NL"
    assert response.headers["OCPI-to-party-id"] == "CPO"
    routed = {
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "CPO",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "EMS",
    }
    response = await api.get(LOC, headers=routed)
    assert response.headers["OCPI-from-party-id"] == "EMS"
    assert response.headers["OCPI-to-party-id"] == "CPO"
