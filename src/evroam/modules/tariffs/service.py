"""Tariff rules: PUT to create or replace, DELETE when no longer used; no PATCH since 2.2."""

from __future__ import annotations

from evroam.modules.objects import ObjectKind
from evroam.modules.tariffs.models import Tariff

__all__ = ["TARIFFS"]

TARIFFS = ObjectKind("tariffs", Tariff)
