"""The request that brings a receiver's copy of one of our objects up to date: method, URL, body and query
per module, a PATCH of what changed where the delivery's hint allows one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from evroam.delivery.deltas import Delta
from evroam.delivery.pushes import PushRequest, push_request
from evroam.store.interface import Delivery, ObjectKey, StoredObject

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LOCATIONS = "https://emsp.example.com/ocpi/2.2.1/receiver/locations"
TOKENS = "https://cpo.example.com/ocpi/2.2.1/receiver/tokens"


def connector(connector_id: str = "1") -> dict[str, Any]:
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": "2024-03-01T12:00:00Z",
    }


def location(location_id: str = "LOC1", evse_uid: str = "E1", connector_id: str = "1") -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "TNM",
        "id": location_id,
        "publish": True,
        "name": "Depot Oost",
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.089", "longitude": "5.110"},
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": evse_uid,
                "status": "CHARGING",
                "floor_level": "-1",
                "connectors": [connector(connector_id)],
                "last_updated": "2024-03-01T12:05:00Z",
            }
        ],
        "last_updated": "2024-03-01T12:05:00Z",
    }


def session(session_id: str = "S1") -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "TNM",
        "id": session_id,
        "start_date_time": "2024-03-01T11:00:00Z",
        "kwh": 4.2,
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "E1",
        "connector_id": "1",
        "currency": "EUR",
        "charging_periods": [],
        "status": "ACTIVE",
        "last_updated": "2024-03-01T12:05:00Z",
    }


def delivery(
    module: str,
    key: ObjectKey,
    doc: dict[str, Any] | None,
    hint: Delta | None = None,
) -> Delivery:
    """A claimed delivery of `doc` (None: the object is gone), keyed as the store keeps it (upper-cased)."""
    stored_key = ObjectKey(key.country_code.upper(), key.party_id.upper(), key.id.upper(), key.type.upper())
    current = None if doc is None else StoredObject(stored_key, T0, json.dumps(doc).encode())
    return Delivery(7, "peer-1", module, stored_key, None if hint is None else hint.to_json(), 1, T0, 0, current)


def loc_key(location_id: str = "LOC1") -> ObjectKey:
    return ObjectKey("NL", "TNM", location_id)


def request(d: Delivery, endpoint: str = LOCATIONS) -> PushRequest:
    found = push_request(d, endpoint)
    assert found is not None
    return found


# -- Locations --------------------------------------------------------------------------------------------


def test_a_location_without_a_hint_is_put_whole_at_its_own_url() -> None:
    doc = location()
    found = request(delivery("locations", loc_key(), doc))
    assert found == PushRequest("PUT", f"{LOCATIONS}/NL/TNM/LOC1", doc)
    assert not found.partial


def test_the_endpoint_may_end_with_a_slash() -> None:
    found = request(delivery("locations", loc_key(), location()), LOCATIONS + "/")
    assert found.url == f"{LOCATIONS}/NL/TNM/LOC1"


def test_an_evse_patch_carries_only_the_changed_fields_and_last_updated() -> None:
    hint = Delta(("E1",), ("last_updated", "status"))
    found = request(delivery("locations", loc_key(), location(), hint))
    assert found.method == "PATCH"
    assert found.url == f"{LOCATIONS}/NL/TNM/LOC1/E1"
    assert found.body == {"last_updated": "2024-03-01T12:05:00Z", "status": "CHARGING"}
    assert found.below == "E1"
    assert found.partial


def test_a_location_patch_is_sent_at_the_location() -> None:
    hint = Delta((), ("last_updated", "name"))
    found = request(delivery("locations", loc_key(), location(), hint))
    assert found == PushRequest(
        "PATCH", f"{LOCATIONS}/NL/TNM/LOC1", {"last_updated": "2024-03-01T12:05:00Z", "name": "Depot Oost"}
    )
    assert found.partial


def test_a_whole_evse_is_put_at_the_evse() -> None:
    doc = location()
    found = request(delivery("locations", loc_key(), doc, Delta(("E1",), whole=True)))
    assert found == PushRequest("PUT", f"{LOCATIONS}/NL/TNM/LOC1/E1", doc["evses"][0], below="E1")
    assert found.partial


def test_a_whole_connector_is_put_at_the_connector() -> None:
    doc = location()
    found = request(delivery("locations", loc_key(), doc, Delta(("E1", "1"), whole=True)))
    assert found == PushRequest("PUT", f"{LOCATIONS}/NL/TNM/LOC1/E1/1", connector("1"), below="E1/1")


def test_a_connector_patch_is_sent_at_the_connector() -> None:
    hint = Delta(("E1", "1"), ("last_updated", "max_amperage"))
    found = request(delivery("locations", loc_key(), location(), hint))
    assert found == PushRequest(
        "PATCH",
        f"{LOCATIONS}/NL/TNM/LOC1/E1/1",
        {"last_updated": "2024-03-01T12:00:00Z", "max_amperage": 32},
        below="E1/1",
    )


def test_the_evse_and_connector_ids_in_the_url_are_the_objects_own() -> None:
    # Hints name places as the object did then; the store compares ids case-insensitively.
    doc = location(evse_uid="evse-a", connector_id="c1")
    found = request(delivery("locations", loc_key(), doc, Delta(("EVSE-A", "C1"), ("last_updated",))))
    assert found.url == f"{LOCATIONS}/NL/TNM/LOC1/evse-a/c1"


@pytest.mark.parametrize(
    "hint",
    [Delta(("E9",), ("last_updated", "status")), Delta(("E9",), whole=True), Delta(("E1", "9"), whole=True)],
    ids=["evse-patch", "evse-put", "connector-put"],
)
def test_a_hint_naming_a_part_no_longer_there_puts_the_whole_location(hint: Delta) -> None:
    doc = location()
    found = request(delivery("locations", loc_key(), doc, hint))
    assert found == PushRequest("PUT", f"{LOCATIONS}/NL/TNM/LOC1", doc)
    assert not found.partial


def test_a_deleted_location_is_not_pushed() -> None:
    assert push_request(delivery("locations", loc_key(), None), LOCATIONS) is None


# -- identifiers in the path ---------------------------------------------------------------------------------


def test_ids_are_percent_encoded_in_the_path_in_their_own_case() -> None:
    doc = location(location_id="Loc 1/#a", evse_uid="E 1/#")
    found = request(delivery("locations", loc_key("Loc 1/#a"), doc, Delta(("E 1/#",), ("last_updated", "status"))))
    assert found.url == f"{LOCATIONS}/NL/TNM/Loc%201%2F%23a/E%201%2F%23"


def test_a_connector_id_is_percent_encoded_in_the_path() -> None:
    doc = location(connector_id="1/2?x")
    found = request(delivery("locations", loc_key(), doc, Delta(("E1", "1/2?x"), whole=True)))
    assert found.url == f"{LOCATIONS}/NL/TNM/LOC1/E1/1%2F2%3Fx"


def test_the_owner_in_the_path_is_the_objects_own() -> None:
    doc = {**location(), "country_code": "nl", "party_id": "Tnm"}
    found = request(delivery("locations", loc_key(), doc))
    assert found.url == f"{LOCATIONS}/nl/Tnm/LOC1"


# -- Sessions, CDRs, Tariffs, Tokens -------------------------------------------------------------------------


def test_a_session_is_put_whole_without_a_hint() -> None:
    doc = session()
    endpoint = "https://emsp.example.com/ocpi/2.2.1/sessions"
    found = request(delivery("sessions", ObjectKey("NL", "TNM", "S1"), doc), endpoint)
    assert found == PushRequest("PUT", f"{endpoint}/NL/TNM/S1", doc)


def test_a_session_patch_carries_the_changed_fields() -> None:
    endpoint = "https://emsp.example.com/ocpi/2.2.1/sessions"
    hint = Delta((), ("kwh", "last_updated", "status"))
    found = request(delivery("sessions", ObjectKey("NL", "TNM", "S1"), session(), hint), endpoint)
    assert found == PushRequest(
        "PATCH", f"{endpoint}/NL/TNM/S1", {"kwh": 4.2, "last_updated": "2024-03-01T12:05:00Z", "status": "ACTIVE"}
    )


def test_a_deleted_session_is_not_pushed() -> None:
    endpoint = "https://emsp.example.com/ocpi/2.2.1/sessions"
    assert push_request(delivery("sessions", ObjectKey("NL", "TNM", "S1"), None), endpoint) is None


def test_a_cdr_is_posted_whole_to_the_endpoint_itself() -> None:
    endpoint = "https://emsp.example.com/ocpi/2.2.1/cdrs/"
    doc = {"country_code": "NL", "party_id": "TNM", "id": "CDR 1", "currency": "EUR", "total_energy": 4.2}
    found = request(delivery("cdrs", ObjectKey("NL", "TNM", "CDR 1"), doc), endpoint)
    assert found == PushRequest("POST", "https://emsp.example.com/ocpi/2.2.1/cdrs", doc)
    assert not found.partial


def test_a_deleted_cdr_is_not_pushed() -> None:
    assert push_request(delivery("cdrs", ObjectKey("NL", "TNM", "CDR1"), None), "https://e.example.com/cdrs") is None


def test_a_tariff_is_put_whole() -> None:
    endpoint = "https://emsp.example.com/ocpi/2.2.1/tariffs"
    doc = {"country_code": "NL", "party_id": "TNM", "id": "T-1", "currency": "EUR", "elements": []}
    found = request(delivery("tariffs", ObjectKey("NL", "TNM", "T-1"), doc), endpoint)
    assert found == PushRequest("PUT", f"{endpoint}/NL/TNM/T-1", doc)


def test_a_deleted_tariff_is_deleted_at_the_receiver() -> None:
    endpoint = "https://emsp.example.com/ocpi/2.2.1/tariffs"
    found = request(delivery("tariffs", ObjectKey("NL", "TNM", "T 1/#"), None), endpoint)
    assert found == PushRequest("DELETE", f"{endpoint}/NL/TNM/T%201%2F%23")
    assert found.body is None


def token(uid: str = "abc123def", token_type: str = "RFID", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": uid,
        "type": token_type,
        "contract_id": "NL-MSP-C12345678-X",
        "issuer": "MSP Mobility",
        "valid": False,
        "whitelist": "ALLOWED",
        "last_updated": "2024-03-01T12:05:00Z",
    }
    return {**doc, **changes}


def test_a_token_is_put_at_its_own_uid_with_its_type_as_a_parameter() -> None:
    doc = token()
    found = request(delivery("tokens", ObjectKey("NL", "MSP", "abc123def", "RFID"), doc), TOKENS)
    assert found == PushRequest("PUT", f"{TOKENS}/NL/MSP/abc123def", doc, {"type": "RFID"})


def test_a_token_patch_keeps_the_type_parameter() -> None:
    hint = Delta((), ("last_updated", "valid"))
    doc = token("ab c/d", "APP_USER")
    found = request(delivery("tokens", ObjectKey("NL", "MSP", "ab c/d", "APP_USER"), doc, hint), TOKENS)
    assert found == PushRequest(
        "PATCH",
        f"{TOKENS}/NL/MSP/ab%20c%2Fd",
        {"last_updated": "2024-03-01T12:05:00Z", "valid": False},
        {"type": "APP_USER"},
    )


def test_a_deleted_token_is_not_pushed() -> None:
    assert push_request(delivery("tokens", ObjectKey("NL", "MSP", "ABC", "RFID"), None), TOKENS) is None
