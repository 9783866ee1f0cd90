"""Tokens Receiver (CPO) between in-process nodes: the eMSP pushes Tokens with PUT and PATCH, `?type=` RFID by default.

Black-box: every request goes through the CPO's ASGI app with the token the eMSP registered; the
store is only read to prove that a refused request left nothing behind. Each test runs on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from evroam.parties.initiate import issue_registration_token
from evroam.store.interface import ListQuery

from support.nodes import Roaming, at, token_body

pytestmark = pytest.mark.asyncio(loop_scope="module")

URL = "/ocpi/2.2.1/receiver/tokens/NL/EMS"
UID = "012345678"
TOKEN = f"{URL}/{UID}"
APP = {"type": "APP_USER"}


async def stored_tokens(r: Roaming) -> int:
    total, _ = await r.cpo.store.list_objects("tokens", ListQuery())
    return total


def full_token(type_: str = "RFID") -> dict[str, Any]:
    """A Token using every optional field, with unknown extra fields."""
    return token_body(
        UID,
        type_=type_,
        visual_number="DF000-2001-8999-1",
        group_id="GROUP-1",
        whitelist="NEVER",
        language="nl",
        default_profile_type="GREEN",
        energy_contract={"supplier_name": "Greenpeace Energy eG", "contract_id": "0123456789", "x_vendor": 1},
        x_vendor={"kept": ["yes"]},
    )


async def test_put_new_is_201_put_existing_200_and_get_returns_exactly_what_was_put(roaming: Roaming) -> None:
    api = roaming.at_cpo
    body = full_token()
    await api.put(TOKEN, body, status=201)
    assert await api.data(TOKEN) == body
    await api.put(TOKEN, body, status=200)
    minimal = token_body(UID, last_updated=at(5))
    await api.put(TOKEN, minimal, status=200)
    stored = await api.data(TOKEN)
    assert stored == minimal
    for absent in ("visual_number", "group_id", "language", "default_profile_type", "energy_contract", "x_vendor"):
        assert absent not in stored
    assert await stored_tokens(roaming) == 1


async def test_type_defaults_to_rfid_and_app_user_is_stored_apart(roaming: Roaming) -> None:
    api = roaming.at_cpo
    rfid, app_user = full_token("RFID"), full_token("APP_USER")
    await api.put(TOKEN, rfid, status=201)
    await api.put(TOKEN, app_user, params=APP, status=201)
    assert await api.data(TOKEN) == rfid
    assert await api.data(TOKEN, params={"type": "RFID"}) == rfid
    assert await api.data(TOKEN, params=APP) == app_user
    await api.get(TOKEN, params={"type": "AD_HOC_USER"}, status=404, ocpi=2000)
    # Changing one leaves the other alone.
    await api.patch(TOKEN, {"valid": False, "last_updated": at(1)}, params=APP, status=200)
    assert (await api.data(TOKEN))["valid"] is True
    assert (await api.data(TOKEN, params=APP))["valid"] is False
    await api.put(TOKEN, {**rfid, "issuer": "Other", "last_updated": at(2)}, params={"type": "RFID"}, status=200)
    assert (await api.data(TOKEN, params=APP))["issuer"] == "Test eMSP"
    assert await stored_tokens(roaming) == 2


async def test_body_type_differing_from_the_url_type_is_2001(roaming: Roaming) -> None:
    api = roaming.at_cpo
    await api.put(TOKEN, token_body(UID, type_="APP_USER"), status=400, ocpi=2001)
    await api.put(TOKEN, token_body(UID), params=APP, status=400, ocpi=2001)
    await api.put(TOKEN, token_body(UID), params={"type": "CARD"}, status=400, ocpi=2001)
    assert await stored_tokens(roaming) == 0

    await api.put(TOKEN, token_body(UID), status=201)
    await api.put(TOKEN, token_body(UID, type_="APP_USER"), params=APP, status=201)
    # A PATCH cannot move a token to another type either (the other one exists, or not).
    await api.patch(TOKEN, {"type": "APP_USER", "valid": False, "last_updated": at(1)}, status=400, ocpi=2001)
    await api.patch(TOKEN, {"type": "OTHER", "valid": False, "last_updated": at(1)}, status=400, ocpi=2001)
    assert await api.data(TOKEN) == token_body(UID)
    assert await api.data(TOKEN, params=APP) == token_body(UID, type_="APP_USER")
    assert await stored_tokens(roaming) == 2


async def test_patch_valid_false_invalidates_and_keeps_the_rest(roaming: Roaming) -> None:
    api = roaming.at_cpo
    body = full_token()
    await api.put(TOKEN, body, status=201)
    await api.patch(TOKEN, {"valid": False, "last_updated": at(3)}, status=200)
    assert await api.data(TOKEN) == {**body, "valid": False, "last_updated": at(3)}
    # Explicitly repeating the type of the URL is fine.
    await api.patch(TOKEN, {"type": "RFID", "valid": True, "last_updated": at(4)}, status=200)
    assert (await api.data(TOKEN))["valid"] is True


async def test_patch_without_last_updated_is_2001_and_of_unknown_token_404(roaming: Roaming) -> None:
    api = roaming.at_cpo
    await api.patch(TOKEN, {"valid": False, "last_updated": at(1)}, status=404, ocpi=2000)
    await api.put(TOKEN, token_body(UID), status=201)
    await api.patch(TOKEN, {"valid": False, "last_updated": at(1)}, params=APP, status=404, ocpi=2000)
    response = await api.patch(TOKEN, {"valid": False}, status=400, ocpi=2001)
    assert "last_updated" in response.json()["status_message"]
    assert await api.data(TOKEN) == token_body(UID)


async def test_older_put_or_patch_is_not_applied(roaming: Roaming) -> None:
    api = roaming.at_cpo
    current = token_body(UID, last_updated=at(10))
    await api.put(TOKEN, current, status=201)
    await api.put(TOKEN, token_body(UID, valid=False, last_updated=at(9)), status=200)
    await api.patch(TOKEN, {"valid": False, "last_updated": at(9)}, status=200)
    assert await api.data(TOKEN) == current


async def test_get_of_unknown_token_is_404_and_uids_match_case_insensitively(roaming: Roaming) -> None:
    api = roaming.at_cpo
    await api.get(f"{URL}/NOPE", status=404, ocpi=2000)
    await api.put(f"{URL}/ABCDEF01", token_body("ABCDEF01"), status=201)
    assert (await api.data("/ocpi/2.2.1/receiver/tokens/nl/ems/abcdef01"))["uid"] == "ABCDEF01"
    await api.patch("/ocpi/2.2.1/receiver/tokens/Nl/eMs/AbCdEf01", {"valid": False, "last_updated": at(1)})
    assert (await api.data(f"{URL}/ABCDEF01"))["valid"] is False
    assert await stored_tokens(roaming) == 1


async def test_url_party_not_among_the_callers_roles_is_404_and_stores_nothing(roaming: Roaming) -> None:
    api = roaming.at_cpo
    foreign = f"/ocpi/2.2.1/receiver/tokens/DE/XYZ/{UID}"
    await api.put(foreign, token_body(UID, cc="DE", pid="XYZ"), status=404, ocpi=2000)
    await api.patch(foreign, {"valid": False, "last_updated": at(1)}, status=404, ocpi=2000)
    await api.get(foreign, status=404, ocpi=2000)
    # The CPO's own party is not the eMSP's.
    await api.put(f"/ocpi/2.2.1/receiver/tokens/NL/CPO/{UID}", token_body(UID, pid="CPO"), status=404, ocpi=2000)
    assert await stored_tokens(roaming) == 0


async def test_body_ids_differing_from_the_url_are_2001_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_cpo
    await api.put(TOKEN, token_body("OTHER"), status=400, ocpi=2001)
    await api.put(TOKEN, token_body(UID, cc="DE"), status=400, ocpi=2001)
    await api.put(TOKEN, token_body(UID, pid="XYZ"), status=400, ocpi=2001)
    assert await stored_tokens(roaming) == 0
    await api.put(TOKEN, token_body(UID), status=201)
    await api.patch(TOKEN, {"uid": "OTHER", "valid": False, "last_updated": at(1)}, status=400, ocpi=2001)
    await api.patch(TOKEN, {"country_code": "DE", "valid": False, "last_updated": at(1)}, status=400, ocpi=2001)
    assert await api.data(TOKEN) == token_body(UID)


async def test_invalid_bodies_are_2001_naming_the_field_and_store_nothing(roaming: Roaming) -> None:
    api = roaming.at_cpo
    missing = token_body(UID)
    del missing["issuer"]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("missing required field", missing, "/issuer"),
        ("wrong type", token_body(UID, valid="true"), "/valid"),
        ("unknown enum value", token_body(UID, whitelist="SOMETIMES"), "/whitelist"),
        ("too long string", token_body(UID, issuer="i" * 65), "/issuer"),
        ("too long CiString", token_body(UID, contract_id="C" * 37), "/contract_id"),
        ("nested", token_body(UID, energy_contract={"contract_id": "1"}), "/energy_contract/supplier_name"),
    ]
    for what, body, field in cases:
        message = (await api.put(TOKEN, body, status=400, ocpi=2001)).json()["status_message"]
        assert field in message, (what, message)
    assert await stored_tokens(roaming) == 0

    await api.put(TOKEN, token_body(UID), status=201)
    message = (await api.patch(TOKEN, {"valid": 0, "last_updated": at(1)}, status=400, ocpi=2001)).json()
    assert "/valid" in message["status_message"]
    assert await api.data(TOKEN) == token_body(UID)


async def test_malformed_json_is_400(roaming: Roaming) -> None:
    api = roaming.at_cpo
    await api.call("PUT", TOKEN, content=b'{"uid": ', status=400, ocpi=2000)
    await api.put(TOKEN, token_body(UID), status=201)
    await api.call("PATCH", TOKEN, content=b'{"valid": false,}', status=400, ocpi=2000)
    assert await api.data(TOKEN) == token_body(UID)


async def test_methods_the_receiver_does_not_offer_are_405_with_an_envelope(roaming: Roaming) -> None:
    api = roaming.at_cpo
    await api.put(TOKEN, token_body(UID), status=201)
    await api.delete(TOKEN, status=405, ocpi=2000)
    await api.delete(TOKEN, params=APP, status=405, ocpi=2000)
    await api.post(TOKEN, token_body(UID), status=405, ocpi=2000)
    assert await api.data(TOKEN) == token_body(UID)


async def test_missing_unknown_or_registration_token_is_401(roaming: Roaming) -> None:
    _, token_a = await issue_registration_token(roaming.cpo, "newcomer")
    for token in (None, token_a, "not-a-token"):
        api = roaming.network.api("cpo.test", token)
        await api.put(TOKEN, token_body(UID), status=401, ocpi=2000)
        await api.patch(TOKEN, {"valid": False, "last_updated": at(1)}, status=401, ocpi=2000)
        await api.get(TOKEN, status=401, ocpi=2000)
    assert await stored_tokens(roaming) == 0


async def test_responses_carry_routing_headers(roaming: Roaming) -> None:
    response = await roaming.at_cpo.put(TOKEN, token_body(UID), status=201)
    assert response.headers["OCPI-from-country-code"] == "NL"
    assert response.headers["OCPI-from-party-id"] == "CPO"
    assert response.headers["OCPI-to-country-code"] == "NL"
    assert response.headers["OCPI-to-party-id"] == "EMS"


async def test_unknown_token_type_in_the_query_is_2001(roaming: Roaming) -> None:
    response = await roaming.at_cpo.get(TOKEN, params={"type": "BADGE"}, status=400, ocpi=2001)
    assert "TokenType" in response.json()["status_message"]
    assert await stored_tokens(roaming) == 0


async def test_ocpi_to_headers_naming_a_party_not_hosted_here_are_404(roaming: Roaming) -> None:
    headers = {"OCPI-to-country-code": "FR", "OCPI-to-party-id": "ZZZ"}
    response = await roaming.at_cpo.put(TOKEN, token_body(UID), headers=headers, status=404, ocpi=2000)
    assert "not hosted here" in response.json()["status_message"]
    assert await stored_tokens(roaming) == 0
