"""OCPI objects as a back office sends them: minimal valid ones, without last_updated unless given (the node
stamps it). Keyword arguments add or replace fields."""

from __future__ import annotations

from typing import Any


def connector(connector_id: str = "1", **fields: Any) -> dict[str, Any]:
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        **fields,
    }


def evse(uid: str = "EVSE1", **fields: Any) -> dict[str, Any]:
    return {"uid": uid, "status": "AVAILABLE", "connectors": [connector()], **fields}


def location(location_id: str = "LOC1", cc: str = "NL", pid: str = "CPO", **fields: Any) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": location_id,
        "publish": True,
        "address": "Domplein 9",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
        "time_zone": "Europe/Amsterdam",
        "evses": [evse()],
        **fields,
    }


def tariff(tariff_id: str = "T1", **fields: Any) -> dict[str, Any]:
    component = {"type": "ENERGY", "price": 0.31, "step_size": 1}
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": tariff_id,
        "currency": "EUR",
        "elements": [{"price_components": [component]}],
        **fields,
    }


def cdr_token(pid: str = "EMS") -> dict[str, Any]:
    return {"country_code": "NL", "party_id": pid, "uid": "04A1B2C3", "type": "RFID", "contract_id": "NL-EMS-C12345"}


def period(start: str, kwh: float) -> dict[str, Any]:
    return {"start_date_time": start, "dimensions": [{"type": "ENERGY", "volume": kwh}]}


def session(session_id: str = "S1", **fields: Any) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": session_id,
        "start_date_time": "2024-05-01T10:00:00Z",
        "kwh": 0,
        "cdr_token": cdr_token(),
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "EVSE1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        **fields,
    }


def cdr(cdr_id: str = "CDR1", **fields: Any) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": cdr_id,
        "start_date_time": "2024-05-01T10:00:00Z",
        "end_date_time": "2024-05-01T11:00:00Z",
        "cdr_token": cdr_token(),
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC1",
            "address": "Domplein 9",
            "city": "Utrecht",
            "country": "NLD",
            "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
            "evse_uid": "EVSE1",
            "evse_id": "NL*CPO*E1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [period("2024-05-01T10:00:00Z", 7.5)],
        "total_cost": {"excl_vat": 2.5, "incl_vat": 3.03},
        "total_energy": 7.5,
        "total_time": 1,
        **fields,
    }


def token(uid: str = "04A1B2C3", **fields: Any) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "EMS",
        "uid": uid,
        "type": "RFID",
        "contract_id": "NL-EMS-C12345",
        "issuer": "Example eMSP",
        "valid": True,
        "whitelist": "ALWAYS",
        **fields,
    }
