"""The CPO bills its own sessions: a running total_cost while active, the CDR once completed.

The CPO's back office feeds a Location, a Tariff and a Session through `/admin/api`; the node prices the
session on every change and creates the CDR when it completes; the eMSP pulls that CDR and checks it
against the tariff with the same engine. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from evroam.delivery.pull import pull
from evroam.modules.cdrs.models import CDR
from evroam.modules.cdrs.service import CDRS
from evroam.store.interface import ListQuery, ObjectKey
from evroam.tariffs import price_cdr
from evroam.types import Price

from support.nodes import (
    InProcessNetwork,
    Roaming,
    at,
    connect_cpo_and_emsp,
    connector_body,
    evse_body,
    location_body,
    session_body,
    tariff_body,
)

pytestmark = pytest.mark.asyncio

ADMIN = "back-office-secret-0123456789"
API = "/admin/api"
SESSION_URL = f"{API}/sessions/NL/CPO/S1"

# 0.25/kWh plus a 0.50 start fee, 21 % VAT; the connector names this tariff.
TARIFF = tariff_body(
    "T1",
    elements=[
        {"price_components": [{"type": "FLAT", "price": 0.50, "vat": 21, "step_size": 1}]},
        {"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1}]},
    ],
)
LOCATION = location_body(evses=[evse_body(connectors=[connector_body(tariff_ids=["T1"])])])


def session(session_id: str = "S1", **fields: Any) -> dict[str, Any]:
    """A session as the back office sends it: without last_updated, which the node stamps."""
    body = session_body(session_id, start_date_time=at(0), **fields)
    del body["last_updated"]
    return body


def periods(*kwh: float) -> list[dict[str, Any]]:
    """One charging period of `kwh[i]` kWh starting at minute 20*i."""
    return [{"start_date_time": at(20 * i), "dimensions": [{"type": "ENERGY", "volume": v}]} for i, v in enumerate(kwh)]


async def admin(http: httpx.AsyncClient, method: str, url: str, body: Any = None, status: int = 200) -> Any:
    content = None if body is None else json.dumps(body).encode()
    response = await http.request(method, url, headers={"Authorization": f"Bearer {ADMIN}"}, content=content)
    assert response.status_code == status, response.text
    assert response.json()["status_code"] == 1000, response.text
    return response.json()


async def billed_pair(network: InProcessNetwork) -> tuple[Roaming, httpx.AsyncClient]:
    roaming = await connect_cpo_and_emsp(network, admin_token=ADMIN)
    http = network.client("cpo.test")
    await admin(http, "PUT", f"{API}/tariffs/NL/CPO/T1", TARIFF, status=201)
    await admin(http, "PUT", f"{API}/locations/NL/CPO/LOC1", LOCATION, status=201)
    return roaming, http


async def test_an_active_session_carries_its_running_total_and_a_completed_one_its_cdr(
    backend_network: InProcessNetwork,
) -> None:
    roaming, http = await billed_pair(backend_network)
    started = await admin(http, "PUT", SESSION_URL, session(), status=201)
    # Nothing measured yet: the start fee alone (rounded to cents, half up).
    assert started["data"]["total_cost"] == {"excl_vat": 0.5, "incl_vat": 0.61}

    patched = await admin(http, "PATCH", SESSION_URL, {"kwh": 4, "charging_periods": periods(4)})
    assert patched["data"]["total_cost"] == {"excl_vat": 1.5, "incl_vat": 1.82}
    patched = await admin(http, "PATCH", SESSION_URL, {"kwh": 10, "charging_periods": periods(4, 6)[1:]})
    assert len(patched["data"]["charging_periods"]) == 2
    assert patched["data"]["total_cost"] == {"excl_vat": 3.0, "incl_vat": 3.63}
    assert await roaming.cpo.store.get_object(CDRS.module, cdr_key()) is None

    done = await admin(http, "PATCH", SESSION_URL, {"status": "COMPLETED", "end_date_time": at(45)})
    assert done["status_message"] == "CDR S1 created: total_cost 3.00 EUR excl. VAT"
    assert done["data"]["total_cost"] == {"excl_vat": 3.0, "incl_vat": 3.63}
    stored = await roaming.cpo.store.get_object(CDRS.module, cdr_key())
    assert stored is not None
    cdr = CDR.model_validate_json(stored.data)
    assert (cdr.session_id, cdr.total_energy, cdr.total_time) == ("S1", Decimal(10), Decimal("0.75"))
    assert cdr.total_cost.excl_vat == Decimal("3.0")
    assert (cdr.total_energy_cost, cdr.total_fixed_cost) == (price("2.50", "3.03"), price("0.50", "0.61"))
    assert [t.id for t in cdr.tariffs or []] == ["T1"]
    assert cdr.cdr_location.evse_id == "NL*CPO*EEVSE1"

    # Changing the completed session again does not bill it twice.
    again = await admin(http, "PATCH", SESSION_URL, {"kwh": 11})
    assert again.get("status_message") is None
    assert [o.key.id for o in (await roaming.cpo.store.list_objects("cdrs", _all()))[1]] == ["S1"]

    # The eMSP pulls the CDR and finds it priced as the tariff says.
    peer = next(p for p in await roaming.emsp.store.list_peers())
    result = await pull(roaming.emsp, peer, "cdrs")
    assert (result.received, result.created) == (1, 1)
    pulled = await roaming.emsp.store.get_object(CDRS.module, cdr_key())
    assert pulled is not None
    check = price_cdr(CDR.model_validate_json(pulled.data), time_zone="Europe/Amsterdam")
    assert check.total_cost == cdr.total_cost


async def test_a_session_that_cannot_be_priced_is_stored_and_says_why(backend_network: InProcessNetwork) -> None:
    roaming, http = await billed_pair(backend_network)
    elsewhere = await admin(http, "PUT", SESSION_URL, session(location_id="NOWHERE"), status=201)
    assert elsewhere["status_message"] == "not priced: location 'NOWHERE' is not stored here"
    assert "total_cost" not in elsewhere["data"]
    in_dollars = await admin(http, "PUT", f"{API}/sessions/NL/CPO/S2", session("S2", currency="USD"), status=201)
    assert in_dollars["status_message"] == "not priced: tariff T1 is in EUR, session S2 in USD"
    completed = session("S3", status="COMPLETED", end_date_time=at(30), location_id="NOWHERE")
    await admin(http, "PUT", f"{API}/sessions/NL/CPO/S3", completed, status=201)
    assert (await roaming.cpo.store.list_objects("cdrs", _all()))[0] == 0


async def test_a_session_paid_at_the_charge_point_is_priced_with_the_ad_hoc_tariff(
    backend_network: InProcessNetwork,
) -> None:
    _, http = await billed_pair(backend_network)
    ad_hoc = tariff_body(
        "T2",
        type="AD_HOC_PAYMENT",
        elements=[{"price_components": [{"type": "ENERGY", "price": 0.60, "vat": 21, "step_size": 1}]}],
    )
    await admin(http, "PUT", f"{API}/tariffs/NL/CPO/T2", ad_hoc, status=201)
    connector = connector_body(tariff_ids=["T1", "T2"])
    await admin(http, "PUT", f"{API}/locations/NL/CPO/LOC1", location_body(evses=[evse_body(connectors=[connector])]))
    token = {"country_code": "NL", "party_id": "CPO", "uid": "CARD", "type": "AD_HOC_USER", "contract_id": "C9"}
    paid = await admin(http, "PUT", SESSION_URL, session(cdr_token=token, kwh=10, charging_periods=periods(10)), 201)
    assert paid["data"]["total_cost"] == {"excl_vat": 6.0, "incl_vat": 7.26}


def price(excl: str, incl: str) -> Price:
    return Price(excl_vat=Decimal(excl), incl_vat=Decimal(incl))


def cdr_key() -> ObjectKey:
    return CDRS.key("NL", "CPO", "S1")


def _all() -> ListQuery:
    return ListQuery(limit=100)
