"""Builders of valid OCPI 2.2.1 objects for tests (our own fixtures, varied by index)."""

from __future__ import annotations

from typing import Any

T0 = "2026-01-01T00:00:00Z"


def connector(cid: str = "1", last_updated: str = T0, **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "tariff_ids": ["T1"],
        "last_updated": last_updated,
        **extra,
    }


def evse(uid: str, last_updated: str = T0, status: str = "AVAILABLE", **extra: Any) -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": f"NL*CPO*E{uid}",
        "status": status,
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        "connectors": [
            connector("1", last_updated),
            connector(
                "2",
                last_updated,
                standard="CHADEMO",
                format="CABLE",
                power_type="DC",
                max_voltage=500,
                max_amperage=125,
            ),
        ],
        "physical_reference": uid[-4:],
        "last_updated": last_updated,
        **extra,
    }


def location(
    i: int, cc: str = "NL", pid: str = "CPO", last_updated: str = T0, evses: int = 2, **extra: Any
) -> dict[str, Any]:
    lid = f"LOC{i:05d}"
    return {
        "country_code": cc,
        "party_id": pid,
        "id": lid,
        "publish": True,
        "name": f"Charging plaza {i} — Zürich-Straße",
        "address": f"Stationsplein {i}",
        "city": "Utrecht",
        "postal_code": "3511 ED",
        "country": "NLD",
        "coordinates": {"latitude": f"52.{i % 100000:05d}", "longitude": f"5.{(i * 7) % 100000:05d}"},
        "parking_type": "ON_STREET",
        "evses": [evse(f"{lid}-E{j}", last_updated) for j in range(evses)],
        "facilities": ["CAFE"],
        "time_zone": "Europe/Amsterdam",
        "opening_times": {"twentyfourseven": True},
        "last_updated": last_updated,
        **extra,
    }


def tariff(tid: str, cc: str = "NL", pid: str = "CPO", last_updated: str = T0, **extra: Any) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": tid,
        "currency": "EUR",
        "type": "REGULAR",
        "elements": [
            {"price_components": [{"type": "FLAT", "price": 0.5, "vat": 21.0, "step_size": 1}]},
            {"price_components": [{"type": "ENERGY", "price": 0.35, "vat": 21.0, "step_size": 1}]},
        ],
        "last_updated": last_updated,
        **extra,
    }


def cdr_token(uid: str = "0102030405", cc: str = "DE", pid: str = "EMS") -> dict[str, Any]:
    return {"country_code": cc, "party_id": pid, "uid": uid, "type": "RFID", "contract_id": f"{cc}-{pid}-C{uid}"}


def session(
    sid: str, token_cc: str = "DE", token_pid: str = "EMS", last_updated: str = T0, **extra: Any
) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": sid,
        "start_date_time": "2026-01-01T10:00:00Z",
        "kwh": 12.5,
        "cdr_token": cdr_token(cc=token_cc, pid=token_pid),
        "auth_method": "WHITELIST",
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-E0",
        "connector_id": "1",
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": "2026-01-01T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 12.5}],
                "tariff_id": "T1",
            }
        ],
        "total_cost": {"excl_vat": 4.88, "incl_vat": 5.9},
        "status": "ACTIVE",
        "last_updated": last_updated,
        **extra,
    }


def cdr(cid: str, token_cc: str = "DE", token_pid: str = "EMS", last_updated: str = T0, **extra: Any) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": cid,
        "start_date_time": "2026-01-01T10:00:00Z",
        "end_date_time": "2026-01-01T11:00:00Z",
        "session_id": f"S-{cid}",
        "cdr_token": cdr_token(cc=token_cc, pid=token_pid),
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC00001",
            "address": "Stationsplein 1",
            "city": "Utrecht",
            "country": "NLD",
            "coordinates": {"latitude": "52.00001", "longitude": "5.00007"},
            "evse_uid": "LOC00001-E0",
            "evse_id": "NL*CPO*ELOC00001-E0",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": "2026-01-01T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 12.5}],
                "tariff_id": "T1",
            }
        ],
        "total_cost": {"excl_vat": 4.88, "incl_vat": 5.9},
        "total_energy": 12.5,
        "total_time": 1.0,
        "last_updated": last_updated,
        **extra,
    }


def token(
    uid: str, cc: str = "DE", pid: str = "EMS", type_: str = "RFID", last_updated: str = T0, **extra: Any
) -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "uid": uid,
        "type": type_,
        "contract_id": f"{cc}-{pid}-C{uid}",
        "visual_number": f"{uid[:4]}-{uid[4:]}",
        "issuer": "Example Mobility",
        "valid": True,
        "whitelist": "ALLOWED",
        "language": "de",
        "last_updated": last_updated,
        **extra,
    }
