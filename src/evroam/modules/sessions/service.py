"""Sessions rules: PUT replaces charging periods, PATCH appends them (mod_sessions_msp_put/patch_method)."""

from __future__ import annotations

from evroam.modules.objects import ObjectKind
from evroam.modules.sessions.models import Session

__all__ = ["SESSIONS"]

# A session is visible to its owner CPO and to the eMSP owning its token (cdr_token).
SESSIONS = ObjectKind("sessions", Session, append_on_patch=("charging_periods",), holder_field="cdr_token")
