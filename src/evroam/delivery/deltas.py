"""What changed in an object between two versions, so a receiver can be sent a PATCH of just that.

A `Delta` names a place in the object (`at`: the object itself, an EVSE of a Location, or one of its
Connectors) and either the fields that changed there (sent as a PATCH) or `whole` (that part is sent with
PUT). No delta (None) means: send the whole object. Deltas of changes waiting for the same receiver merge,
so one send covers them all; the values sent are always read from the object as it is then, so a PATCH
is never a replay of an older state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["Delta", "delta_between", "merge_hints"]

_LAST_UPDATED: Final = "last_updated"


@dataclass(frozen=True, slots=True)
class Delta:
    """A change at one place in an object: `at` is () for the object, (evse_uid,) or (evse_uid, connector_id)."""

    at: tuple[str, ...]
    fields: tuple[str, ...] = ()
    whole: bool = False

    def to_json(self) -> str:
        doc: dict[str, Any] = {"at": list(self.at)}
        if self.whole:
            doc["whole"] = True
        else:
            doc["fields"] = list(self.fields)
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Delta:
        doc = json.loads(text)
        return cls(tuple(doc["at"]), tuple(doc.get("fields", ())), bool(doc.get("whole", False)))


def _delta(at: tuple[str, ...], fields: Iterable[str], *, whole: bool = False) -> Delta | None:
    if whole:
        return None if not at else Delta(at, whole=True)
    # A PATCH carries last_updated always (mod_locations_patch_method, mod_sessions, mod_tokens).
    return Delta(at, tuple(sorted({*fields, _LAST_UPDATED})))


def _changed(
    before: dict[str, Any], after: dict[str, Any], skip: frozenset[str] = frozenset()
) -> tuple[set[str], bool]:
    """The fields that differ, and whether one of them lost its value (a PATCH cannot clear a field:
    transport_and_format_patch)."""
    changed = {k for k in (before.keys() | after.keys()) - skip if before.get(k) != after.get(k)}
    return changed, any(after.get(k) is None for k in changed)


def _ids(items: list[dict[str, Any]], field: str) -> list[str]:
    return [str(item.get(field, "")) for item in items]


def _connector_delta(uid: str, before: dict[str, Any], after: dict[str, Any]) -> Delta | None:
    changed, removed = _changed(before, after)
    return _delta((uid, str(after.get("id", ""))), changed, whole=removed)


def _evse_delta(before: dict[str, Any], after: dict[str, Any]) -> Delta | None:
    uid = str(after.get("uid", ""))
    top, removed = _changed(before, after, frozenset({"connectors"}))
    old: list[dict[str, Any]] = before.get("connectors") or []
    new: list[dict[str, Any]] = after.get("connectors") or []
    if _ids(old, "id") != _ids(new, "id"):
        return Delta((uid,), whole=True)  # a Connector came or went: the EVSE is PUT with its list
    moved = [j for j in range(len(new)) if old[j] != new[j]]
    if not moved:
        return _delta((uid,), top, whole=removed)
    if len(moved) > 1 or top - {_LAST_UPDATED}:
        return Delta((uid,), whole=True)
    # The EVSE's own last_updated followed its Connector's; the receiver moves it the same way.
    return _connector_delta(uid, old[moved[0]], new[moved[0]])


def _location_delta(before: dict[str, Any], after: dict[str, Any]) -> Delta | None:
    top, removed = _changed(before, after, frozenset({"evses"}))
    old: list[dict[str, Any]] = before.get("evses") or []
    new: list[dict[str, Any]] = after.get("evses") or []
    old_ids, new_ids = _ids(old, "uid"), _ids(new, "uid")
    if old_ids != new_ids:
        # One EVSE added at the end (a PUT at EVSE depth): PUT just that EVSE.
        added_one = new_ids[:-1] == old_ids and old == new[:-1] and not top - {_LAST_UPDATED}
        return Delta((new_ids[-1],), whole=True) if added_one else None
    moved = [i for i in range(len(new)) if old[i] != new[i]]
    if not moved:
        return _delta((), top, whole=removed) if top else None
    if len(moved) > 1 or top - {_LAST_UPDATED}:
        return None
    # mod_locations_put_method: the Location's last_updated followed its EVSE's; the receiver does the same.
    return _evse_delta(old[moved[0]], new[moved[0]])


def _flat_delta(before: dict[str, Any], after: dict[str, Any], whole_if: frozenset[str]) -> Delta | None:
    changed, removed = _changed(before, after)
    if removed or changed & whole_if or not changed:
        return None
    return _delta((), changed)


def delta_between(module: str, before: bytes, after: bytes) -> str | None:
    """The change from `before` to `after` (stored JSON of one object) as a hint, None: send it whole."""
    old, new = json.loads(before), json.loads(after)
    if module == "locations":
        found = _location_delta(old, new)
    elif module == "sessions":
        # mod_sessions PATCH appends charging_periods: a changed list is sent whole (PUT), as it is
        # impossible to know which periods a receiver already holds.
        found = _flat_delta(old, new, frozenset({"charging_periods"}))
    elif module == "tokens":
        found = _flat_delta(old, new, frozenset())
    else:
        found = None  # tariffs are PUT, CDRs POSTed, whole
    return None if found is None else found.to_json()


def merge_hints(first: str | None, then: str | None) -> str | None:
    """One hint covering two changes waiting for the same receiver."""
    if first is None or then is None:
        return None
    a, b = Delta.from_json(first), Delta.from_json(then)
    if a.at == b.at:
        if a.whole or b.whole:
            return Delta(a.at, whole=True).to_json()
        return Delta(a.at, tuple(sorted({*a.fields, *b.fields}))).to_json()
    common: list[str] = []
    for x, y in zip(a.at, b.at, strict=False):
        if x != y:
            break
        common.append(x)
    # Two places changed: the smallest part holding both is sent whole.
    return Delta(tuple(common), whole=True).to_json() if common else None
