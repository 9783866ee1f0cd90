"""The HTTP request that brings a peer's copy of one of our objects up to date, per module.

transport_and_format_client_owned_object_push: objects are pushed to
`{receiver endpoint}/{country_code}/{party_id}/{id}` with PUT (whole) or PATCH (changed fields with
last_updated); Locations at Location, EVSE or Connector depth (mod_locations_put_method); CDRs are POSTed
to the endpoint itself (mod_cdrs_post_method); a deleted Tariff is DELETEd (mod_tariffs_delete_method).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from evroam.delivery.deltas import Delta
from evroam.store.interface import Delivery

__all__ = ["PushRequest", "push_request"]


@dataclass(frozen=True, slots=True)
class PushRequest:
    method: str
    url: str
    body: Any = None
    params: dict[str, str] | None = None
    below: str = ""
    """The part of the object sent, below its own URL (an EVSE, a Connector); '' for the object itself."""

    @property
    def partial(self) -> bool:
        """Sends part of the object (a PATCH, or an EVSE or Connector): refused, the whole object may do."""
        return self.method == "PATCH" or bool(self.below)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _find(items: list[dict[str, Any]], field: str, ident: str) -> dict[str, Any] | None:
    return next((item for item in items if str(item.get(field, "")).upper() == ident.upper()), None)


def _location_part(doc: dict[str, Any], delta: Delta) -> tuple[list[str], dict[str, Any]] | None:
    """The URL segments below the Location and the EVSE or Connector the delta is about (None: gone)."""
    if not delta.at:
        return [], doc
    evse = _find(doc.get("evses") or [], "uid", delta.at[0])
    if evse is None:
        return None
    if len(delta.at) == 1:
        return [str(evse["uid"])], evse
    connector = _find(evse.get("connectors") or [], "id", delta.at[1])
    if connector is None:
        return None
    return [str(evse["uid"]), str(connector["id"])], connector


def push_request(delivery: Delivery, endpoint: str) -> PushRequest | None:
    """The request for `delivery` to a peer's Receiver `endpoint`; None when there is nothing a receiver
    could be sent (an object of a module that is never deleted, gone)."""
    key, module, base = delivery.key, delivery.module, endpoint.rstrip("/")
    current = delivery.current
    if current is None:
        if module == "tariffs":
            where = "/".join(_segment(part) for part in (key.country_code, key.party_id, key.id))
            return PushRequest("DELETE", f"{base}/{where}")
        return None
    doc: dict[str, Any] = json.loads(current.data)
    if module == "cdrs":
        return PushRequest("POST", base, doc)
    ident = doc.get("uid" if module == "tokens" else "id", key.id)
    owner = (str(doc.get("country_code", key.country_code)), str(doc.get("party_id", key.party_id)))
    url = f"{base}/{_segment(owner[0])}/{_segment(owner[1])}/{_segment(str(ident))}"
    params = {"type": str(doc.get("type", key.type))} if module == "tokens" else None
    delta = Delta.from_json(delivery.hint) if delivery.hint else None
    if delta is None:
        return PushRequest("PUT", url, doc, params)
    target: dict[str, Any] = doc
    below: list[str] = []
    if module == "locations":
        part = _location_part(doc, delta)
        if part is None:  # the EVSE or Connector is no longer there: the Location is sent whole
            return PushRequest("PUT", url, doc, params)
        below, target = part
    url += "".join(f"/{_segment(s)}" for s in below)
    if delta.whole:
        return PushRequest("PUT", url, target, params, "/".join(below))
    body = {field: target[field] for field in delta.fields if target.get(field) is not None}
    return PushRequest("PATCH", url, body, params, "/".join(below))
