"""Sessions Receiver (eMSP) between in-process nodes: the CPO pushes Sessions with PUT and PATCH.

Black-box: every request goes through the eMSP's ASGI app with the token the CPO registered; the
store is only read to prove that a refused request left nothing behind. Each test runs on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from evroam.parties.initiate import issue_registration_token
from evroam.store.interface import ListQuery

from support.nodes import (
    Roaming,
    at,
    cdr_token_body,
    period_body,
    session_body,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

URL = "/ocpi/2.2.1/receiver/sessions/NL/CPO"
S1 = f"{URL}/S1"


async def stored_sessions(r: Roaming) -> int:
    total, _ = await r.emsp.store.list_objects("sessions", ListQuery())
    return total


def full_session() -> dict[str, Any]:
    """A Session using every optional field, with unknown extra fields at several levels."""
    periods = [
        {
            "start_date_time": at(0, hour=9),
            "dimensions": [
                {"type": "ENERGY", "volume": 1.25},
                {"type": "STATE_OF_CHARGE", "volume": 40},
                {"type": "POWER", "volume": 11},
            ],
            "tariff_id": "T1",
            "x_vendor_period": True,
        },
        period_body(at(15, hour=9), 2.5),
    ]
    return session_body(
        "S1",
        end_date_time=at(45, hour=9),
        kwh=3.75,
        cdr_token={**cdr_token_body(), "x_vendor_token": "kept"},
        auth_method="AUTH_REQUEST",
        authorization_reference="REF-1",
        meter_id="METER-1",
        charging_periods=periods,
        total_cost={"excl_vat": 1.5, "incl_vat": 1.82},
        status="COMPLETED",
        x_vendor={"a": [1, 2, {"b": None}]},
    )


# -- PUT / GET round trips ---------------------------------------------------------------------------------


async def test_put_new_is_201_put_existing_200_and_get_returns_exactly_what_was_put(roaming: Roaming) -> None:
    api = roaming.at_emsp
    body = full_session()
    await api.put(S1, body, status=201)
    assert await api.data(S1) == body
    await api.put(S1, body, status=200)
    minimal = session_body(last_updated=at(5))
    await api.put(S1, minimal, status=200)
    stored = await api.data(S1)
    assert stored == minimal
    for absent in ("end_date_time", "authorization_reference", "meter_id", "charging_periods", "total_cost"):
        assert absent not in stored
    assert await stored_sessions(roaming) == 1


async def test_explicit_nulls_of_optional_fields_are_stored_as_absent(roaming: Roaming) -> None:
    api = roaming.at_emsp
    body = session_body(end_date_time=None, meter_id=None, charging_periods=None, total_cost=None, x_vendor=None)
    await api.put(S1, body, status=201)
    assert await api.data(S1) == session_body()


async def test_get_of_unknown_session_is_404(roaming: Roaming) -> None:
    await roaming.at_emsp.get(f"{URL}/NOPE", status=404, ocpi=2000)


async def test_cistring_ids_match_case_insensitively(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(S1, session_body(), status=201)
    assert (await api.data("/ocpi/2.2.1/receiver/sessions/nl/cpo/s1"))["id"] == "S1"
    await api.patch("/ocpi/2.2.1/receiver/sessions/Nl/cPo/s1", {"kwh": 2, "last_updated": at(1)})
    await api.put("/ocpi/2.2.1/receiver/sessions/nl/cpo/s1", session_body(kwh=3, last_updated=at(2)), status=200)
    assert (await api.data(S1))["kwh"] == 3
    assert await stored_sessions(roaming) == 1


# -- refused pushes ------------------------------------------------------------------------------------------


async def test_url_party_not_among_the_callers_roles_is_404_and_stores_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    foreign = "/ocpi/2.2.1/receiver/sessions/DE/XYZ/S1"
    await api.put(foreign, session_body(cc="DE", pid="XYZ"), status=404, ocpi=2000)
    await api.patch(foreign, {"kwh": 1, "last_updated": at(1)}, status=404, ocpi=2000)
    await api.get(foreign, status=404, ocpi=2000)
    await api.put("/ocpi/2.2.1/receiver/sessions/NL/EMS/S1", session_body(pid="EMS"), status=404, ocpi=2000)
    assert await stored_sessions(roaming) == 0


async def test_body_ids_differing_from_the_url_are_2001_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(S1, session_body("S2"), status=400, ocpi=2001)
    await api.put(S1, session_body(cc="DE"), status=400, ocpi=2001)
    await api.put(S1, session_body(pid="XYZ"), status=400, ocpi=2001)
    assert await stored_sessions(roaming) == 0
    await api.put(S1, session_body(), status=201)
    await api.patch(S1, {"id": "S2", "kwh": 5, "last_updated": at(1)}, status=400, ocpi=2001)
    await api.patch(S1, {"party_id": "XYZ", "kwh": 5, "last_updated": at(1)}, status=400, ocpi=2001)
    assert await api.data(S1) == session_body()


async def test_invalid_bodies_are_2001_naming_the_field_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    missing = session_body()
    del missing["kwh"]
    no_uid = session_body()
    del no_uid["cdr_token"]["uid"]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("missing required field", missing, "/kwh"),
        ("missing nested field", no_uid, "/cdr_token/uid"),
        ("wrong type", session_body(kwh=True), "/kwh"),
        ("wrong type, string field", session_body(location_id=12), "/location_id"),
        ("unknown enum value", session_body(status="RUNNING"), "/status"),
        ("unknown nested enum value", session_body(cdr_token={**cdr_token_body(), "type": "CARD"}), "/cdr_token/type"),
        ("too long string", session_body(meter_id="m" * 256), "/meter_id"),
        ("too long CiString", session_body("S" * 37), "/id"),
        ("currency not 3 letters", session_body(currency="EURO"), "/currency"),
        (
            "empty dimensions",
            session_body(charging_periods=[{"start_date_time": at(0), "dimensions": []}]),
            "/charging_periods/0/dimensions",
        ),
    ]
    for what, body, field in cases:
        message = (await api.put(f"{URL}/{body['id']}", body, status=400, ocpi=2001)).json()["status_message"]
        assert field in message, (what, message)
    assert await stored_sessions(roaming) == 0

    await api.put(S1, session_body(), status=201)
    message = (await api.patch(S1, {"status": "RUNNING", "last_updated": at(1)}, status=400, ocpi=2001)).json()
    assert "/status" in message["status_message"]
    assert await api.data(S1) == session_body()


async def test_malformed_json_is_400(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.call("PUT", S1, content=b'{"id": "S1"', status=400, ocpi=2000)
    await api.put(S1, session_body(), status=201)
    await api.call("PATCH", S1, content=b"{'kwh': 1}", status=400, ocpi=2000)
    assert await api.data(S1) == session_body()


async def test_methods_the_receiver_does_not_offer_are_405_with_an_envelope(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(S1, session_body(), status=201)
    await api.post(S1, session_body(), status=405, ocpi=2000)
    await api.delete(S1, status=405, ocpi=2000)
    assert await api.data(S1) == session_body()


async def test_missing_unknown_or_registration_token_is_401(roaming: Roaming) -> None:
    _, token_a = await issue_registration_token(roaming.emsp, "newcomer")
    for token in (None, token_a, "not-a-token"):
        api = roaming.network.api("emsp.test", token)
        await api.put(S1, session_body(), status=401, ocpi=2000)
        await api.get(S1, status=401, ocpi=2000)
    assert await stored_sessions(roaming) == 0


async def test_older_put_or_patch_is_not_applied(roaming: Roaming) -> None:
    api = roaming.at_emsp
    current = session_body(kwh=5, last_updated=at(10))
    await api.put(S1, current, status=201)
    response = await api.put(S1, session_body(kwh=1, last_updated=at(5)), status=200)
    assert response.json()["status_message"]
    await api.patch(S1, {"kwh": 2, "charging_periods": [period_body(at(1))], "last_updated": at(9)}, status=200)
    assert await api.data(S1) == current


# -- charging periods: PUT replaces, PATCH appends ------------------------------------------------------------


async def test_put_replaces_charging_periods_and_put_without_them_removes_them(roaming: Roaming) -> None:
    api = roaming.at_emsp
    first = [period_body(at(0, hour=9), 1), period_body(at(10, hour=9), 2)]
    await api.put(S1, session_body(charging_periods=first), status=201)
    second = [period_body(at(20, hour=9), 3)]
    await api.put(S1, session_body(charging_periods=second, last_updated=at(1)), status=200)
    assert (await api.data(S1))["charging_periods"] == second
    await api.put(S1, session_body(last_updated=at(2)), status=200)
    assert "charging_periods" not in await api.data(S1)
    await api.put(S1, session_body(charging_periods=first, last_updated=at(3)), status=200)
    await api.put(S1, session_body(charging_periods=[], last_updated=at(4)), status=200)
    assert not (await api.data(S1)).get("charging_periods")


async def test_patch_appends_charging_periods_and_keeps_them_when_absent(roaming: Roaming) -> None:
    api = roaming.at_emsp
    p1, p2, p3 = period_body(at(0, hour=9), 1), period_body(at(10, hour=9), 2), period_body(at(20, hour=9), 3)
    await api.put(S1, session_body(charging_periods=[p1]), status=201)
    await api.patch(S1, {"charging_periods": [p2, p3], "kwh": 6, "last_updated": at(1)}, status=200)
    assert (await api.data(S1))["charging_periods"] == [p1, p2, p3]
    await api.patch(S1, {"kwh": 7, "last_updated": at(2)}, status=200)
    await api.patch(S1, {"charging_periods": [], "last_updated": at(3)}, status=200)
    stored = await api.data(S1)
    assert stored["charging_periods"] == [p1, p2, p3]
    assert stored["kwh"] == 7


async def test_patch_into_a_session_without_periods_starts_the_list(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(S1, session_body(), status=201)
    p1 = period_body(at(0, hour=9), 1)
    await api.patch(S1, {"charging_periods": [p1], "last_updated": at(1)}, status=200)
    assert (await api.data(S1))["charging_periods"] == [p1]


async def test_patch_changes_only_the_given_fields(roaming: Roaming) -> None:
    api = roaming.at_emsp
    body = full_session()
    await api.put(S1, body, status=201)
    patch = {"kwh": 9.5, "status": "INVALID", "total_cost": {"excl_vat": 2}, "last_updated": at(8)}
    await api.patch(S1, patch, status=200)
    assert await api.data(S1) == {**body, **patch}


async def test_patch_without_last_updated_is_2001(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(S1, session_body(), status=201)
    response = await api.patch(S1, {"kwh": 1}, status=400, ocpi=2001)
    assert "last_updated" in response.json()["status_message"]
    await api.patch(S1, {"kwh": 1, "last_updated": "soon"}, status=400, ocpi=2001)
    assert await api.data(S1) == session_body()


async def test_patch_of_unknown_session_is_404(roaming: Roaming) -> None:
    await roaming.at_emsp.patch(S1, {"kwh": 1, "last_updated": at(1)}, status=404, ocpi=2000)
    assert await stored_sessions(roaming) == 0


async def test_concurrent_patches_each_append_their_periods(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(S1, session_body(charging_periods=[period_body(at(0, hour=9))]), status=201)
    count = 10
    # One last_updated for all: none of them is older than what another one stored.
    await asyncio.gather(
        *(
            api.patch(S1, {"charging_periods": [period_body(at(i, hour=11), i)], "last_updated": at(1)})
            for i in range(1, count + 1)
        )
    )
    stored = await api.data(S1)
    starts = sorted(p["start_date_time"] for p in stored["charging_periods"][1:])
    assert starts == [at(i, hour=11) for i in range(1, count + 1)]
    assert stored["charging_periods"][0] == period_body(at(0, hour=9))
