"""Bulk loading of a back office's own OCPI objects straight into the node's database (`evroam load`).

Each object is validated once, stamped and checked for ownership like a back-office API write, and the
valid ones are stored in batches (one transaction per batch), so ten thousand Locations take seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from evroam.admin.owner import check_owner, insert_cdrs, stamp
from evroam.errors import OcpiError
from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.models import Location

# The one place that turns a Location into its stored row (key, last_updated, publish flag).
from evroam.modules.locations.service import location_record
from evroam.modules.objects import ObjectKind
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.store.interface import PutOutcome, StoredObject
from evroam.transport.validation import json_pointer
from evroam.types import OcpiModel, format_datetime, utcnow

__all__ = [
    "BATCH_SIZE",
    "Document",
    "LoadFileError",
    "LoadModule",
    "LoadReport",
    "Problem",
    "infer_module",
    "load_document",
    "read_document",
]

BATCH_SIZE = 500
_MAX_PROBLEMS_PER_OBJECT = 20


class LoadModule(StrEnum):
    """The modules whose objects a back office owns and can load."""

    LOCATIONS = "locations"
    SESSIONS = "sessions"
    CDRS = "cdrs"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


_KINDS: dict[LoadModule, ObjectKind] = {
    LoadModule.SESSIONS: SESSIONS,
    LoadModule.CDRS: CDRS,
    LoadModule.TARIFFS: TARIFFS,
    LoadModule.TOKENS: TOKENS,
}


class LoadFileError(Exception):
    """The file cannot be loaded at all; the message says why and what to do."""


Pointer = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """The objects of a file, and where they sit in it (for JSON pointers into the file)."""

    objects: list[Any]
    array_at: Pointer | None  # () a top-level array, ("data",) an envelope's; None: the file is one object

    def pointer(self, index: int) -> Pointer:
        return () if self.array_at is None else (*self.array_at, index)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one object was skipped: its index, a JSON pointer into the file, and the message."""

    index: int
    pointer: str
    message: str


@dataclass
class LoadReport:
    """What a load did: counts per outcome and the problems of the skipped objects."""

    module: LoadModule
    objects: int
    created: int = 0
    updated: int = 0
    stale: int = 0
    exists: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return len({p.index for p in self.problems})

    def as_dict(self) -> dict[str, Any]:
        return {
            "module": self.module.value,
            "objects": self.objects,
            "created": self.created,
            "updated": self.updated,
            "stale": self.stale,
            "exists": self.exists,
            "invalid": self.invalid,
            "problems": [{"index": p.index, "pointer": p.pointer, "message": p.message} for p in self.problems],
        }


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def read_document(raw: bytes) -> Document:
    """One object, an array of objects, or an OCPI envelope (a saved Sender page) whose `data` holds them."""
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise LoadFileError(f"not valid JSON: {exc}") from None
    if isinstance(data, list):
        return Document(data, ())
    if not isinstance(data, dict):
        raise LoadFileError(f"expected a JSON object or array of objects, got {type(data).__name__}")
    if "data" in data and "status_code" in data:
        status = data.get("status_code")
        if status != 1000:
            message = data.get("status_message") or "no status_message"
            raise LoadFileError(f"the envelope reports status_code {status!r} ({message}); it holds no objects to load")
        inner = data.get("data")
        if isinstance(inner, list):
            return Document(inner, ("data",))
        if isinstance(inner, dict):
            return Document([inner], None)
        raise LoadFileError("the envelope's data is neither an object nor an array of objects")
    return Document([data], None)


def _shape(obj: Any) -> LoadModule | None:
    """The module an object looks like, from fields only that module's objects have at the top."""
    if not isinstance(obj, dict):
        return None
    if "cdr_location" in obj:
        return LoadModule.CDRS
    if "kwh" in obj and "cdr_token" in obj:
        return LoadModule.SESSIONS
    if "contract_id" in obj and "whitelist" in obj:
        return LoadModule.TOKENS
    if "elements" in obj:
        return LoadModule.TARIFFS
    if ("evses" in obj or "coordinates" in obj) and "connectors" not in obj:
        return LoadModule.LOCATIONS
    return None


def infer_module(objects: Sequence[Any]) -> LoadModule:
    """The one module the objects look like (objects of no recognisable shape are left to validation)."""
    seen: dict[LoadModule, int] = {}
    for index, obj in enumerate(objects):
        shape = _shape(obj)
        if shape is not None:
            seen.setdefault(shape, index)
    if len(seen) == 1:
        return next(iter(seen))
    if not seen:
        raise LoadFileError(
            "cannot tell which module these objects belong to; pass --module "
            f"({', '.join(m.value for m in LoadModule)})"
        )
    found = ", ".join(f"{m.value} (first at index {i})" for m, i in seen.items())
    raise LoadFileError(f"the objects look like several modules: {found}; load one module per file, or pass --module")


class _Invalid(Exception):
    def __init__(self, problems: list[tuple[Pointer, str]]) -> None:
        self.problems = problems


def _validated(model: type[OcpiModel], doc: dict[str, Any]) -> OcpiModel:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems: list[tuple[Pointer, str]] = []
        for error in exc.errors(include_url=False)[:_MAX_PROBLEMS_PER_OBJECT]:
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            problems.append((loc, error["msg"]))
        raise _Invalid(problems) from None


def _prepare(node: Node, module: LoadModule, obj: Any, now: str) -> StoredObject:
    """The object as the row to store: stamped, validated once, owned by one of our parties."""
    if not isinstance(obj, dict):
        raise _Invalid([((), f"expected a JSON object, got {type(obj).__name__}")])
    stamp(obj, now, nested=module is LoadModule.LOCATIONS)
    if module is LoadModule.LOCATIONS:
        row = location_record(_validated(Location, obj).to_dict())
    else:
        kind = _KINDS[module]
        row = kind.row(_validated(kind.model, obj))
    try:
        check_owner(node.parties, module.value, row.key.country_code, row.key.party_id)
    except OcpiError as exc:
        raise _Invalid([(("country_code",), exc.message)]) from None
    return row


async def _store(node: Node, module: LoadModule, rows: list[StoredObject]) -> Sequence[PutOutcome | OcpiError]:
    if module is LoadModule.CDRS:
        return await insert_cdrs(node.store, rows)
    return await node.store.put_objects(module.value, rows)


async def load_document(
    node: Node,
    module: LoadModule,
    document: Document,
    *,
    progress: Callable[[int], None] = lambda _: None,
    batch_size: int = BATCH_SIZE,
) -> LoadReport:
    """Validate and store every object of `document` as `module`; invalid ones are reported and skipped."""
    report = LoadReport(module, len(document.objects))
    now = format_datetime(utcnow())
    for start in range(0, len(document.objects), batch_size):
        rows: list[StoredObject] = []
        indexes: list[int] = []
        for index in range(start, min(start + batch_size, len(document.objects))):
            try:
                rows.append(_prepare(node, module, document.objects[index], now))
                indexes.append(index)
            except _Invalid as exc:
                report.problems += [
                    Problem(index, json_pointer((*document.pointer(index), *loc)) or "/", message)
                    for loc, message in exc.problems
                ]
        for index, outcome in zip(indexes, await _store(node, module, rows), strict=True):
            if isinstance(outcome, OcpiError):
                message = outcome.message.removeprefix("/id: ")
                report.problems.append(Problem(index, json_pointer((*document.pointer(index), "id")), message))
            elif outcome == PutOutcome.CREATED:
                report.created += 1
            elif outcome == PutOutcome.UPDATED:
                report.updated += 1
            elif outcome == PutOutcome.STALE:
                report.stale += 1
            else:
                report.exists += 1
        progress(min(batch_size, len(document.objects) - start))
    report.problems.sort(key=lambda p: p.index)
    return report
