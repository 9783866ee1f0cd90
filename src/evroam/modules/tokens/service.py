"""Token rules: keyed by uid and type (`?type=`, RFID by default); PATCH to change, never deleted."""

from __future__ import annotations

from evroam.modules.objects import ObjectKind
from evroam.modules.tokens.models import Token

__all__ = ["TOKENS"]

TOKENS = ObjectKind("tokens", Token, id_field="uid", typed=True)
