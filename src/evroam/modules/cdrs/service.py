"""CDR rules: created once by POST, never replaced, updated or deleted (mod_cdrs_emsp_interface)."""

from __future__ import annotations

from evroam.modules.cdrs.models import CDR
from evroam.modules.objects import ObjectKind

__all__ = ["CDRS"]

# A CDR belongs to its CPO and is visible to the eMSP owning its token (cdr_token).
CDRS = ObjectKind("cdrs", CDR, holder_field="cdr_token")
