"""Larger, varied OCPI 2.2.1 objects for exchange tests, built on the minimal bodies in support.nodes."""

from __future__ import annotations

from typing import Any

from support.nodes import cdr_body, cdr_token_body, connector_body, evse_body, location_body, session_body, tariff_body
from support.nodes import token_body as _token_body

T0 = "2026-01-01T00:00:00Z"


def evse(uid: str, last_updated: str = T0) -> dict[str, Any]:
    """An EVSE with an AC socket and a DC cable."""
    dc = connector_body("2", last_updated=last_updated, standard="CHADEMO", format="CABLE", power_type="DC")
    return evse_body(
        uid,
        last_updated=last_updated,
        capabilities=["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        connectors=[connector_body("1", last_updated=last_updated, tariff_ids=["T1"]), dc],
    )


def location(i: int, cc: str = "NL", pid: str = "CPO", last_updated: str = T0, evses: int = 2) -> dict[str, Any]:
    """Location number `i`, with `evses` EVSEs and a non-ASCII name."""
    lid = f"LOC{i:05d}"
    return location_body(
        lid,
        cc=cc,
        pid=pid,
        last_updated=last_updated,
        name=f"Charging plaza {i} — Zürich-Straße",
        coordinates={"latitude": f"52.{i % 100000:05d}", "longitude": f"5.{(i * 7) % 100000:05d}"},
        evses=[evse(f"{lid}-E{j}", last_updated) for j in range(evses)],
        facilities=["CAFE"],
        opening_times={"twentyfourseven": True},
    )


def tariff(tid: str) -> dict[str, Any]:
    """A start fee plus an energy price."""
    elements = [
        {"price_components": [{"type": "FLAT", "price": 0.5, "vat": 21.0, "step_size": 1}]},
        {"price_components": [{"type": "ENERGY", "price": 0.35, "vat": 21.0, "step_size": 1}]},
    ]
    return tariff_body(tid, last_updated=T0, type="REGULAR", elements=elements)


def session(sid: str, token_cc: str = "DE", token_pid: str = "EMS") -> dict[str, Any]:
    """An active session of a token of `token_cc`/`token_pid`."""
    return session_body(sid, token=cdr_token_body(token_cc, token_pid), last_updated=T0, kwh=12.5)


def cdr(cid: str, token_cc: str = "DE", token_pid: str = "EMS") -> dict[str, Any]:
    """A CDR of a token of `token_cc`/`token_pid`."""
    return cdr_body(cid, token=cdr_token_body(token_cc, token_pid), last_updated=T0, session_id=f"S-{cid}")


def token(uid: str, cc: str = "DE", pid: str = "EMS") -> dict[str, Any]:
    """An RFID token with a visual number."""
    return _token_body(uid, cc=cc, pid=pid, last_updated=T0, visual_number=f"{uid[:4]}-{uid[4:]}", language="de")
