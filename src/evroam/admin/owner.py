"""The node as owner of its data: which of its parties own each module's objects, and what it fills in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from evroam.errors import InvalidParametersError, NotFoundError
from evroam.modules.cdrs.service import CDRS
from evroam.store.interface import PartyRecord, PutOutcome, Store, StoredObject
from evroam.types import Role, parse_datetime

__all__ = ["OWNER_ROLES", "check_owner", "fill_ids", "insert_cdr", "insert_cdrs", "owners", "stamp"]

# Who owns what (OCPI 2.2.1 terminology#introduction_typical_roles): the CPO its Locations, Tariffs,
# Sessions and CDRs, the eMSP its Tokens. The back office feeds only objects of the node's own parties.
OWNER_ROLES: dict[str, Role] = {
    "locations": Role.CPO,
    "tariffs": Role.CPO,
    "sessions": Role.CPO,
    "cdrs": Role.CPO,
    "tokens": Role.EMSP,
}


def owners(parties: Iterable[PartyRecord], module: str) -> tuple[tuple[str, str], ...]:
    """country_code/party_id of our parties that own `module`'s objects."""
    role = OWNER_ROLES[module]
    return tuple((p.country_code, p.party_id) for p in parties if p.role == role)


def check_owner(parties: Iterable[PartyRecord], module: str, country_code: str, party_id: str) -> None:
    """404 (nothing stored) unless country_code/party_id is one of our parties owning `module`'s objects."""
    ours = owners(parties, module)
    if (country_code.upper(), party_id.upper()) in {(c.upper(), p.upper()) for c, p in ours}:
        return
    role = OWNER_ROLES[module].value
    listed = ", ".join(f"{c}/{p}" for c, p in ours) or "none"
    raise NotFoundError(
        f"{country_code[:5]}/{party_id[:5]} is not a {role} party of this node ({role} parties: {listed}); "
        f"{module} can only be fed for those"
    )


def fill_ids(body: dict[str, Any], ids: dict[str, str]) -> None:
    """Ids the URL names and the body leaves out are taken from the URL (ids given must match it: 2001)."""
    for field, value in ids.items():
        body.setdefault(field, value)


def _is_datetime(value: object) -> bool:
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


def stamp(doc: dict[str, Any], now: str, *, nested: bool = False) -> None:
    """Set `last_updated` to `now` where the back office left it out; a given one is kept.

    The owner of an object is the one who sets its last_updated. With `nested` (Locations), EVSEs and
    Connectors inside without one take their parent's, so a parent is never older than its children
    (OCPI 2.2.1 mod_locations_location_object: last_updated covers changes in EVSEs and Connectors)."""
    if doc.get("last_updated") is None:
        doc["last_updated"] = now
    if not nested:
        return
    inherited = doc["last_updated"] if _is_datetime(doc["last_updated"]) else now
    for field in ("evses", "connectors"):
        children = doc.get(field)
        if isinstance(children, list):
            for child in children:
                if isinstance(child, dict):
                    stamp(child, inherited, nested=True)


def _same_cdr(a: bytes, b: bytes) -> bool:
    first, second = json.loads(a), json.loads(b)
    first.pop("last_updated", None)
    second.pop("last_updated", None)
    return bool(first == second)


def _conflict(row: StoredObject) -> InvalidParametersError:
    return InvalidParametersError(
        f"/id: a different CDR {row.key.id!r} already exists; a CDR is never changed: "
        "to correct it, send a credit CDR (credit: true, credit_reference_id) and a new CDR",
        http_status=409,
    )


async def insert_cdrs(store: Store, rows: list[StoredObject]) -> list[PutOutcome | InvalidParametersError]:
    """Store new CDRs; CDRs are never replaced (OCPI 2.2.1 mod_cdrs: no PUT, PATCH or DELETE).

    A CDR sent again (a retry: the same CDR, last_updated aside) is EXISTS and changes nothing. A different
    CDR under a stored id is refused: 2001 with HTTP 409 (a correction is a credit CDR, mod_cdrs_credit_cdrs).
    """
    outcomes = await store.put_objects(CDRS.module, rows, insert_only=True)
    results: list[PutOutcome | InvalidParametersError] = []
    for row, outcome in zip(rows, outcomes, strict=True):
        stored = await store.get_object(CDRS.module, row.key) if outcome == PutOutcome.EXISTS else None
        results.append(_conflict(row) if stored is not None and not _same_cdr(stored.data, row.data) else outcome)
    return results


async def insert_cdr(store: Store, row: StoredObject) -> PutOutcome:
    """`insert_cdrs` for one CDR, raising the conflict."""
    [result] = await insert_cdrs(store, [row])
    if isinstance(result, InvalidParametersError):
        raise result
    return result
