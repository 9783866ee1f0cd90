"""CDRs Receiver (eMSP) between in-process nodes: the CPO POSTs CDRs and GETs them at the `Location` answered.

Black-box: every request goes through the eMSP's ASGI app with the token the CPO registered; the
store is only read to prove that a refused request left nothing behind. Each test runs on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from evroam.parties.initiate import issue_registration_token
from evroam.store.interface import ListQuery

from support.nodes import (
    Roaming,
    at,
    cdr_body,
    period_body,
    tariff_body,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CDRS = "/ocpi/2.2.1/receiver/cdrs"
CDR1 = f"{CDRS}/NL/CPO/CDR1"


async def stored_cdrs(r: Roaming) -> int:
    total, _ = await r.emsp.store.list_objects("cdrs", ListQuery())
    return total


def full_cdr(cdr_id: str = "CDR1") -> dict[str, Any]:
    """A CDR using most optional fields, with unknown extra fields at several levels."""
    return cdr_body(
        cdr_id,
        session_id="S1",
        authorization_reference="REF-1",
        meter_id="METER-1",
        tariffs=[tariff_body(x_vendor_tariff="kept")],
        charging_periods=[
            {**period_body(at(0, hour=8), 10), "tariff_id": "T1"},
            {
                "start_date_time": at(0, hour=9),
                "dimensions": [{"type": "ENERGY", "volume": 2.5}, {"type": "PARKING_TIME", "volume": 0.5}],
            },
        ],
        signed_data={
            "encoding_method": "OCMF",
            "encoding_method_version": 1,
            "signed_values": [{"nature": "Start", "plain_data": "p", "signed_data": "c2lnbmVk"}],
        },
        total_fixed_cost={"excl_vat": 0.5},
        total_energy_cost={"excl_vat": 3.125, "incl_vat": 3.78},
        total_time_cost={"excl_vat": 0},
        total_parking_time=0.5,
        total_parking_cost={"excl_vat": 0.625},
        remark="Thanks",
        invoice_reference_id="INV-1",
        home_charging_compensation=False,
        x_vendor={"nested": {"list": [1, 2]}},
    )


# -- POST / GET ------------------------------------------------------------------------------------------------


async def test_post_is_201_with_a_location_header_and_get_there_returns_exactly_the_cdr(roaming: Roaming) -> None:
    api = roaming.at_emsp
    body = full_cdr()
    response = await api.post(CDRS, body, status=201)
    location = response.headers["Location"]
    assert location == f"http://emsp.test{CDR1}"
    assert await api.data(location) == body


async def test_second_post_of_the_same_id_keeps_the_first_and_answers_the_same_location(roaming: Roaming) -> None:
    api = roaming.at_emsp
    first = cdr_body()
    location = (await api.post(CDRS, first, status=201)).headers["Location"]
    changed = cdr_body(total_energy=99, last_updated=at(30))
    again = await api.post(CDRS, changed, status=200)
    assert again.headers["Location"] == location
    # The same id in another case is the same CDR.
    assert (await api.post(CDRS, cdr_body("cdr1"), status=200)).headers["Location"].upper() == location.upper()
    assert await api.data(location) == first
    assert await stored_cdrs(roaming) == 1


async def test_credit_cdr_is_accepted_next_to_the_credited_one(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.post(CDRS, cdr_body(), status=201)
    credit = cdr_body(
        "CDR1-C",
        credit=True,
        credit_reference_id="CDR1",
        total_cost={"excl_vat": -4.25, "incl_vat": -5.14},
        last_updated=at(40),
    )
    location = (await api.post(CDRS, credit, status=201)).headers["Location"]
    assert await api.data(location) == credit
    assert await api.data(CDR1) == cdr_body()
    # A credit CDR may use the whole CiString(39); a regular one only 36 characters.
    long_credit = {**credit, "id": "C" * 39}
    await api.post(CDRS, long_credit, status=201)
    message = (await api.post(CDRS, cdr_body("R" * 37), status=400, ocpi=2001)).json()["status_message"]
    assert "/id" in message
    message = await api.post(CDRS, {**credit, "id": "CDR2-C", "credit_reference_id": None}, status=400, ocpi=2001)
    assert "/credit_reference_id" in message.json()["status_message"]
    assert await stored_cdrs(roaming) == 3


async def test_get_of_unknown_cdr_is_404_and_ids_match_case_insensitively(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.get(CDR1, status=404, ocpi=2000)
    await api.post(CDRS, cdr_body(), status=201)
    assert (await api.data(f"{CDRS}/nl/cpo/cdr1"))["id"] == "CDR1"


async def test_location_header_works_for_ids_with_reserved_url_characters(roaming: Roaming) -> None:
    api = roaming.at_emsp
    for cdr_id in ("CDR 2", "CDR#3", "CDR?4", "CDR%5", "CDR/6"):
        body = cdr_body(cdr_id)
        location = (await api.post(CDRS, body, status=201)).headers["Location"]
        assert await api.data(location) == body, cdr_id


# -- refused CDRs ----------------------------------------------------------------------------------------------


async def test_cdr_of_a_party_not_among_the_callers_roles_is_404_and_stores_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.post(CDRS, cdr_body(cc="DE", pid="XYZ"), status=404, ocpi=2000)
    await api.post(CDRS, cdr_body(pid="EMS"), status=404, ocpi=2000)
    assert await stored_cdrs(roaming) == 0
    await api.post(CDRS, cdr_body(), status=201)
    await api.get(f"{CDRS}/DE/XYZ/CDR1", status=404, ocpi=2000)


async def test_invalid_cdrs_are_2001_naming_the_field_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_emsp
    missing = cdr_body()
    del missing["total_cost"]
    no_evse = cdr_body()
    del no_evse["cdr_location"]["evse_uid"]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("missing required field", missing, "/total_cost"),
        ("missing nested field", no_evse, "/cdr_location/evse_uid"),
        ("wrong type", cdr_body(total_energy=[12]), "/total_energy"),
        ("wrong type, boolean", cdr_body(credit="no"), "/credit"),
        ("unknown enum value", cdr_body(auth_method="PIN"), "/auth_method"),
        ("too long string", cdr_body(remark="r" * 256), "/remark"),
        ("no charging periods", cdr_body(charging_periods=[]), "/charging_periods"),
        (
            "session-only dimension",
            cdr_body(charging_periods=[{"start_date_time": at(0), "dimensions": [{"type": "POWER", "volume": 1}]}]),
            "/charging_periods/0/dimensions/0/type",
        ),
    ]
    for what, body, field in cases:
        message = (await api.post(CDRS, body, status=400, ocpi=2001)).json()["status_message"]
        assert field in message, (what, message)
    assert await stored_cdrs(roaming) == 0


async def test_malformed_json_is_400(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.call("POST", CDRS, content=b'{"id": "CDR1",', status=400, ocpi=2000)
    await api.call("POST", CDRS, content=b"\xff\xfe", status=400, ocpi=2000)
    await api.post(CDRS, [cdr_body()], status=400, ocpi=2001)
    assert await stored_cdrs(roaming) == 0


async def test_methods_the_receiver_does_not_offer_are_405_with_an_envelope(roaming: Roaming) -> None:
    api = roaming.at_emsp
    await api.post(CDRS, cdr_body(), status=201)
    await api.put(CDR1, cdr_body(total_energy=1), status=405, ocpi=2000)
    await api.patch(CDR1, {"total_energy": 1, "last_updated": at(9)}, status=405, ocpi=2000)
    await api.delete(CDR1, status=405, ocpi=2000)
    await api.post(CDR1, cdr_body(), status=405, ocpi=2000)
    await api.put(CDRS, cdr_body(), status=405, ocpi=2000)
    await api.delete(CDRS, status=405, ocpi=2000)
    assert await api.data(CDR1) == cdr_body()


async def test_missing_unknown_or_registration_token_is_401(roaming: Roaming) -> None:
    _, token_a = await issue_registration_token(roaming.emsp, "newcomer")
    for token in (None, token_a, "not-a-token"):
        api = roaming.network.api("emsp.test", token)
        await api.post(CDRS, cdr_body(), status=401, ocpi=2000)
        await api.get(CDR1, status=401, ocpi=2000)
    assert await stored_cdrs(roaming) == 0


async def test_responses_carry_routing_headers(roaming: Roaming) -> None:
    response = await roaming.at_emsp.post(CDRS, cdr_body(), status=201)
    assert response.headers["OCPI-from-country-code"] == "NL"
    assert response.headers["OCPI-from-party-id"] == "EMS"
    assert response.headers["OCPI-to-country-code"] == "NL"
    assert response.headers["OCPI-to-party-id"] == "CPO"
