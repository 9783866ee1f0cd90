"""Locations rules: PUT/PATCH/GET at Location, EVSE and Connector depth, with last_updated moving upward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evroam.errors import NotFoundError, UnknownLocationError
from evroam.modules.locations.models import EVSE, Connector, Location
from evroam.modules.objects import (
    Written,
    check_body_ids,
    dump,
    load,
    merge_patch,
    parse_model,
    patch_last_updated,
    same_id,
)
from evroam.store.interface import ObjectKey, PutOutcome, Store, StoredObject
from evroam.types import format_datetime, parse_datetime

__all__ = ["MODULE", "LocationPath", "get_at", "location_record", "location_row", "patch_at", "put_at"]

MODULE = "locations"


@dataclass(frozen=True, slots=True)
class LocationPath:
    """What a Locations URL addresses: a Location, one of its EVSEs, or one of an EVSE's Connectors."""

    country_code: str
    party_id: str
    location_id: str
    evse_uid: str | None = None
    connector_id: str | None = None

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(self.country_code, self.party_id, self.location_id)

    @property
    def depth(self) -> str:
        return "Connector" if self.connector_id else "EVSE" if self.evse_uid else "Location"


def _index(items: list[dict[str, Any]], field: str, ident: str) -> int | None:
    return next((i for i, item in enumerate(items) if same_id(str(item.get(field, "")), ident)), None)


def _later(a: str | None, b: datetime) -> str:
    """The later of a stored timestamp and a new one, as text (last_updated never moves backwards)."""
    if a is not None and parse_datetime(a) >= b:
        return a
    return format_datetime(b)


def location_record(doc: dict[str, Any]) -> StoredObject:
    """The stored row of a Location document that is already valid (its EVSEs and Connectors inside)."""
    return StoredObject(
        key=ObjectKey(doc["country_code"], doc["party_id"], doc["id"]),
        last_updated=parse_datetime(doc["last_updated"]),
        data=dump(doc),
        published=bool(doc.get("publish", True)),
    )


def _locate(doc: dict[str, Any], path: LocationPath) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The EVSE (and Connector) dicts the path names inside a stored Location (404 when absent)."""
    assert path.evse_uid is not None
    evses: list[dict[str, Any]] = doc.setdefault("evses", [])
    i = _index(evses, "uid", path.evse_uid)
    if i is None:
        raise NotFoundError(f"EVSE {path.evse_uid!r} not found in location {path.location_id!r}")
    evse = evses[i]
    if path.connector_id is None:
        return evse, None
    j = _index(evse.get("connectors", []), "id", path.connector_id)
    if j is None:
        raise NotFoundError(f"connector {path.connector_id!r} not found in EVSE {path.evse_uid!r}")
    return evse, evse["connectors"][j]


def location_row(body: dict[str, Any]) -> StoredObject:
    """A whole Location, validated and ready to store (PUT at Location depth, pull sync, bulk load)."""
    return location_record(parse_model(Location, body).to_dict())


async def get_at(store: Store, path: LocationPath) -> bytes:
    """The stored Location, EVSE or Connector at the path, as JSON."""
    obj = await store.get_object(MODULE, path.key)
    if obj is None:
        raise NotFoundError(f"location {path.location_id!r} not found")
    if path.evse_uid is None:
        return obj.data
    evse, connector = _locate(load(obj), path)
    return dump(connector if connector is not None else evse)


async def put_at(store: Store, path: LocationPath, body: dict[str, Any]) -> Written:
    """PUT: create or replace the object at the URL's depth (mod_locations_put_method)."""
    if path.evse_uid is None:
        check_body_ids(body, {"country_code": path.country_code, "party_id": path.party_id, "id": path.location_id})
        return Written(await store.put_object(MODULE, location_row(body)))
    if path.connector_id is None:
        check_body_ids(body, {"uid": path.evse_uid})
        evse = parse_model(EVSE, {**body, "uid": body.get("uid", path.evse_uid)})
        return await _write_child(store, path, evse.to_dict(), evse.last_updated)
    check_body_ids(body, {"id": path.connector_id})
    connector = parse_model(Connector, {**body, "id": body.get("id", path.connector_id)})
    return await _write_child(store, path, connector.to_dict(), connector.last_updated)


async def patch_at(store: Store, path: LocationPath, patch: dict[str, Any]) -> Written:
    """PATCH: change only the given fields of the object at the URL's depth (mod_locations_patch_method)."""
    last_updated = patch_last_updated(patch)
    ids = (
        {"country_code": path.country_code, "party_id": path.party_id, "id": path.location_id}
        if path.evse_uid is None
        else {"uid": path.evse_uid}
        if path.connector_id is None
        else {"id": path.connector_id}
    )
    check_body_ids(patch, ids)
    outcome = PutOutcome.UPDATED

    def change(current: StoredObject | None) -> StoredObject | None:
        nonlocal outcome
        if current is None:
            raise NotFoundError(f"location {path.location_id!r} not found; PUT it first")
        doc = load(current)
        if path.evse_uid is None:
            if last_updated < current.last_updated:
                outcome = PutOutcome.STALE
                return None
            # [UNSURE in 2.2.1] an `evses` list in a Location PATCH replaces the stored list.
            merged = parse_model(Location, merge_patch(doc, patch)).to_dict()
            return location_record(merged)
        evse, connector = _locate(doc, path)
        target = connector if connector is not None else evse
        if last_updated < parse_datetime(target["last_updated"]):
            outcome = PutOutcome.STALE
            return None
        model = Connector if connector is not None else EVSE
        updated = parse_model(model, merge_patch(target, patch)).to_dict()
        target.clear()
        target.update(updated)
        _propagate(doc, evse, last_updated)
        return location_record(doc)

    await store.mutate_object(MODULE, path.key, change)
    return Written(outcome)


async def _write_child(store: Store, path: LocationPath, child: dict[str, Any], last_updated: datetime) -> Written:
    """PUT of an EVSE or Connector into its stored Location."""
    outcome = PutOutcome.UPDATED

    def change(current: StoredObject | None) -> StoredObject | None:
        nonlocal outcome
        if current is None:
            raise UnknownLocationError(f"location {path.location_id!r} not found; PUT the Location first")
        doc = load(current)
        evses: list[dict[str, Any]] = doc.setdefault("evses", [])
        assert path.evse_uid is not None
        i = _index(evses, "uid", path.evse_uid)
        if path.connector_id is None:
            siblings, ident_field, ident, parent = evses, "uid", path.evse_uid, None
        else:
            if i is None:
                raise NotFoundError(f"EVSE {path.evse_uid!r} not found in location {path.location_id!r}")
            parent = evses[i]
            siblings, ident_field, ident = parent.setdefault("connectors", []), "id", path.connector_id
        j = _index(siblings, ident_field, ident)
        if j is None:
            siblings.append(child)
            outcome = PutOutcome.CREATED
        elif last_updated < parse_datetime(siblings[j]["last_updated"]):
            outcome = PutOutcome.STALE
            return None
        else:
            siblings[j] = child
        _propagate(doc, parent if parent is not None else child, last_updated)
        return location_record(doc)

    await store.mutate_object(MODULE, path.key, change)
    return Written(outcome)


def _propagate(doc: dict[str, Any], evse: dict[str, Any], last_updated: datetime) -> None:
    """OCPI 2.2.1 mod_locations_put_method: a changed Connector moves its EVSE's and Location's
    last_updated, a changed EVSE its Location's (so date-filtered GETs find the Location)."""
    evse["last_updated"] = _later(evse.get("last_updated"), last_updated)
    doc["last_updated"] = _later(doc.get("last_updated"), last_updated)
