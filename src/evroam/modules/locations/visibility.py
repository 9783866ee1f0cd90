"""Who may see an unpublished Location: owners of tokens matching its `publish_allowed_to`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from evroam.store.interface import ListQuery, ObjectKey, Store

__all__ = ["matches", "visible_unpublished"]

_MAX_SCAN = 100_000


def matches(entry: dict[str, Any], token: dict[str, Any]) -> bool:
    """OCPI 2.2.1 mod_locations_publish_token_class: every field set in the entry must match the token
    (CiString fields case-insensitively)."""
    for field, ci in (("uid", True), ("type", False), ("visual_number", False), ("issuer", False), ("group_id", True)):
        wanted = entry.get(field)
        if wanted is None:
            continue
        have = token.get(field)
        if have is None or (str(have).upper() != str(wanted).upper() if ci else have != wanted):
            return False
    return True


async def visible_unpublished(
    store: Store, owners: tuple[tuple[str, str], ...], viewers: Iterable[tuple[str, str]]
) -> tuple[ObjectKey, ...]:
    """Keys of our unpublished Locations that some token of the viewing parties may see."""
    _, hidden = await store.list_objects("locations", ListQuery(limit=_MAX_SCAN, owners=owners, unpublished_only=True))
    allowed = [(obj.key, json.loads(obj.data).get("publish_allowed_to") or []) for obj in hidden]
    allowed = [(key, entries) for key, entries in allowed if entries]
    if not allowed:
        return ()
    _, token_rows = await store.list_objects("tokens", ListQuery(limit=_MAX_SCAN, owners=tuple(viewers)))
    tokens = [json.loads(row.data) for row in token_rows]
    return tuple(key for key, entries in allowed if any(matches(e, t) for e in entries for t in tokens))
