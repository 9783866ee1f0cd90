"""Tariffs Receiver (eMSP) between in-process nodes: the CPO pushes Tariffs with PUT and removes them with DELETE.

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

from support.nodes import Roaming, at, tariff_body

pytestmark = pytest.mark.asyncio(loop_scope="module")

URL = "/ocpi/2.2.1/receiver/tariffs/NL/CPO"
T1 = f"{URL}/T1"


async def stored_tariffs(r: Roaming) -> int:
    total, _ = await r.emsp.store.list_objects("tariffs", ListQuery())
    return total


def full_tariff() -> dict[str, Any]:
    """A Tariff using every optional field, with unknown extra fields at several levels."""
    return tariff_body(
        "T1",
        type="REGULAR",
        tariff_alt_text=[{"language": "en", "text": "0.25/kWh"}, {"language": "nl", "text": "0,25/kWh"}],
        tariff_alt_url="https://cpo.example/tariffs/t1",
        min_price={"excl_vat": 0.5, "incl_vat": 0.6},
        max_price={"excl_vat": 50},
        elements=[
            {
                "price_components": [
                    {"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1},
                    {"type": "FLAT", "price": 0.5, "vat": 0, "step_size": 0, "x_vendor_component": 1},
                ],
                "restrictions": {
                    "start_time": "08:00",
                    "end_time": "22:00",
                    "start_date": "2024-01-01",
                    "end_date": "2025-01-01",
                    "min_kwh": 0,
                    "max_kwh": 50.5,
                    "min_duration": 0,
                    "max_duration": 7200,
                    "day_of_week": ["MONDAY", "FRIDAY"],
                },
            },
            {"price_components": [{"type": "PARKING_TIME", "price": 2, "step_size": 900}]},
            {
                "price_components": [{"type": "TIME", "price": 1.2, "step_size": 60}],
                "restrictions": {"reservation": "RESERVATION"},
            },
        ],
        start_date_time=at(0, hour=0),
        end_date_time=at(0, hour=23),
        energy_mix={"is_green_energy": False, "supplier_name": "Grid"},
        x_vendor={"kept": True},
    )


async def test_put_new_is_201_put_existing_200_and_get_returns_exactly_what_was_put(roaming: Roaming) -> None:
    api = roaming.at_emsp
    body = full_tariff()
    await api.put(T1, body, status=201)
    assert await api.data(T1) == body
    await api.put(T1, body, status=200)
    minimal = tariff_body(last_updated=at(5))
    await api.put(T1, minimal, status=200)
    stored = await api.data(T1)
    assert stored == minimal
    for absent in ("type", "tariff_alt_text", "min_price", "max_price", "start_date_time", "energy_mix", "x_vendor"):
        assert absent not in stored
    assert await stored_tariffs(roaming) == 1


async def test_absent_vat_stays_distinct_from_zero_vat(roaming: Roaming) -> None:
    api = roaming.at_emsp
    components = [
        {"type": "ENERGY", "price": 0.3, "step_size": 1},
        {"type": "FLAT", "price": 1, "vat": 0, "step_size": 0},
    ]
    body = tariff_body(elements=[{"price_components": components}])
    await api.put(T1, body, status=201)
    stored = (await api.data(T1))["elements"][0]["price_components"]
    assert "vat" not in stored[0]
    assert stored[1]["vat"] == 0


async def test_delete_removes_the_tariff_and_get_after_it_is_404(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(T1, tariff_body(), status=201)
    await api.put(f"{URL}/T2", tariff_body("T2"), status=201)
    await api.delete(T1, status=200)
    await api.get(T1, status=404, ocpi=2000)
    await api.delete(T1, status=404, ocpi=2000)
    assert await api.data(f"{URL}/T2") == tariff_body("T2")
    # Put again after removal: a new tariff.
    await api.put(T1, tariff_body(), status=201)


async def test_delete_or_get_of_unknown_tariff_is_404(roaming: Roaming) -> None:
    await roaming.at_emsp.delete(f"{URL}/NOPE", status=404, ocpi=2000)
    await roaming.at_emsp.get(f"{URL}/NOPE", status=404, ocpi=2000)


async def test_cistring_ids_match_case_insensitively(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(T1, tariff_body(), status=201)
    assert (await api.data("/ocpi/2.2.1/receiver/tariffs/nl/cpo/t1"))["id"] == "T1"
    await api.put("/ocpi/2.2.1/receiver/tariffs/nl/Cpo/t1", tariff_body(currency="USD", last_updated=at(1)))
    assert (await api.data(T1))["currency"] == "USD"
    await api.delete("/ocpi/2.2.1/receiver/tariffs/nL/cPO/T1", status=200)
    assert await stored_tariffs(roaming) == 0


async def test_url_party_not_among_the_callers_roles_is_404_and_changes_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    foreign = "/ocpi/2.2.1/receiver/tariffs/DE/XYZ/T1"
    await api.put(foreign, tariff_body(cc="DE", pid="XYZ"), status=404, ocpi=2000)
    await api.put("/ocpi/2.2.1/receiver/tariffs/NL/EMS/T1", tariff_body(pid="EMS"), status=404, ocpi=2000)
    await api.get(foreign, status=404, ocpi=2000)
    assert await stored_tariffs(roaming) == 0
    # A tariff of another party with the same id is neither reachable nor removable through the foreign URL.
    await api.put(T1, tariff_body(), status=201)
    await api.delete(foreign, status=404, ocpi=2000)
    await api.delete("/ocpi/2.2.1/receiver/tariffs/NL/EMS/T1", status=404, ocpi=2000)
    assert await api.data(T1) == tariff_body()


async def test_body_ids_differing_from_the_url_are_2001_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(T1, tariff_body("T2"), status=400, ocpi=2001)
    await api.put(T1, tariff_body(cc="BE"), status=400, ocpi=2001)
    await api.put(T1, tariff_body(pid="XYZ"), status=400, ocpi=2001)
    await api.put(T1, tariff_body(id=1), status=400, ocpi=2001)
    assert await stored_tariffs(roaming) == 0


async def test_invalid_bodies_are_2001_naming_the_field_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    missing = tariff_body()
    del missing["currency"]

    def component(**fields: Any) -> dict[str, Any]:
        return tariff_body(
            elements=[{"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1, **fields}]}]
        )

    cases: list[tuple[str, dict[str, Any], str]] = [
        ("missing required field", missing, "/currency"),
        ("no elements", tariff_body(elements=[]), "/elements"),
        ("wrong type", component(step_size=1.5), "/elements/0/price_components/0/step_size"),
        ("unknown enum value", component(type="KWH"), "/elements/0/price_components/0/type"),
        ("unknown tariff type", tariff_body(type="CHEAP"), "/type"),
        ("too long string", tariff_body(tariff_alt_url="https://x/" + "u" * 250), "/tariff_alt_url"),
        ("too long CiString", tariff_body("T" * 37), "/id"),
        (
            "bad restriction",
            tariff_body(
                elements=[
                    {
                        "price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}],
                        "restrictions": {"start_time": "8:00"},
                    }
                ]
            ),
            "/elements/0/restrictions/start_time",
        ),
    ]
    for what, body, field in cases:
        message = (await api.put(f"{URL}/{body['id']}", body, status=400, ocpi=2001)).json()["status_message"]
        assert field in message, (what, message)
    assert await stored_tariffs(roaming) == 0


async def test_malformed_json_is_400(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.call("PUT", T1, content=b"{", status=400, ocpi=2000)
    await api.call("PUT", T1, content=b'{"id": "T1"} trailing', status=400, ocpi=2000)
    await api.call("PUT", T1, content=b'{"price": NaN}', status=400, ocpi=2000)
    assert await stored_tariffs(roaming) == 0


async def test_older_put_is_not_applied(roaming: Roaming) -> None:
    api = roaming.at_emsp
    current = tariff_body(currency="EUR", last_updated=at(10))
    await api.put(T1, current, status=201)
    await api.put(T1, tariff_body(currency="USD", last_updated=at(9)), status=200)
    assert await api.data(T1) == current


async def test_methods_the_receiver_does_not_offer_are_405_with_an_envelope(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.put(T1, tariff_body(), status=201)
    await api.patch(T1, {"currency": "USD", "last_updated": at(5)}, status=405, ocpi=2000)
    await api.post(T1, tariff_body(), status=405, ocpi=2000)
    assert await api.data(T1) == tariff_body()


async def test_missing_unknown_or_registration_token_is_401(roaming: Roaming) -> None:
    await roaming.at_emsp.put(T1, tariff_body(), status=201)
    _, token_a = await issue_registration_token(roaming.emsp, "newcomer")
    for token in (None, token_a, "not-a-token"):
        api = roaming.network.api("emsp.test", token)
        await api.put(T1, tariff_body(last_updated=at(1)), status=401, ocpi=2000)
        await api.get(T1, status=401, ocpi=2000)
        await api.delete(T1, status=401, ocpi=2000)
    assert await roaming.at_emsp.data(T1) == tariff_body()


async def test_concurrent_puts_of_one_new_tariff_create_it_once_and_keep_the_latest(roaming: Roaming) -> None:
    api = roaming.at_emsp
    count = 8
    responses = await asyncio.gather(
        *(api.put(T1, tariff_body(last_updated=at(i), x_seq=i), status=(200, 201)) for i in range(count))
    )
    assert sorted(r.status_code for r in responses) == [200] * (count - 1) + [201]
    assert await api.data(T1) == tariff_body(last_updated=at(count - 1), x_seq=count - 1)
    assert await stored_tariffs(roaming) == 1
