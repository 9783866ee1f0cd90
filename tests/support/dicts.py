"""Copies of fixture dicts with fields changed or removed (the originals stay untouched)."""

from __future__ import annotations

import copy
from typing import Any


def with_fields(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with `changes` applied."""
    data = copy.deepcopy(base)
    data.update(changes)
    return data


def without_fields(base: dict[str, Any], *fields: str) -> dict[str, Any]:
    """A deep copy of `base` without `fields`."""
    data = copy.deepcopy(base)
    for field in fields:
        del data[field]
    return data
