"""The CPO's own sessions, priced as they go: a running total_cost while active, the CDR once completed.

Every change the CPO makes to one of its sessions is followed by `settle_session`: an ACTIVE session
gets the total_cost the tariff engine computes up to now (mod_sessions_session_object: "Can change
during the session"), a COMPLETED one its CDR, built from its charging periods and the connector's
tariff valid at the session start (`evroam.tariffs.build_cdr`), stored once under the session's id
with the session's final total_cost. The Location and Tariffs are the CPO's own, as stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from evroam.modules.cdrs.models import CDR
from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.models import Location, TokenType
from evroam.modules.sessions.models import Session, SessionStatus
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.models import Tariff
from evroam.store.interface import ListQuery, ObjectKey, PutOutcome, Store, StoredObject
from evroam.tariffs import PricingError, build_cdr, running_total_cost
from evroam.tariffs.selection import TariffContext
from evroam.types import Price

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["Settlement", "settle_session"]

_MAX_TARIFFS: Final = 10_000


@dataclass(frozen=True, slots=True)
class Settlement:
    """What settling a session did: the total_cost it now carries, the CDR built, or why neither."""

    total_cost: Price | None = None
    cdr: ObjectKey | None = None
    problem: str | None = None
    currency: str = ""

    @property
    def message(self) -> str | None:
        """One line for whoever changed the session (the back office), None when there is nothing to say."""
        if self.problem is not None:
            return self.problem
        if self.cdr is not None and self.total_cost is not None:
            return f"CDR {self.cdr.id} created: total_cost {self.total_cost.excl_vat} {self.currency} excl. VAT"
        return None


async def settle_session(store: Store, key: ObjectKey, *, now: datetime | None = None) -> Settlement:
    """Price the stored session `key` (one of ours) and, once it is COMPLETED, create its CDR."""
    stored = await store.get_object(SESSIONS.module, key)
    if stored is None:
        return Settlement(problem=f"session {key.id!r} is not stored")
    session = Session.model_validate_json(stored.data)
    if session.status not in (SessionStatus.ACTIVE, SessionStatus.COMPLETED):
        return Settlement()
    cdr_key = CDRS.key(session.country_code, session.party_id, session.id)
    if session.status == SessionStatus.COMPLETED and await store.get_object(CDRS.module, cdr_key) is not None:
        return Settlement()  # billed already: a CDR is never changed (mod_cdrs)
    location_row = await store.get_object(
        "locations", ObjectKey(session.country_code, session.party_id, session.location_id)
    )
    if location_row is None:
        return Settlement(problem=f"not priced: location {session.location_id!r} is not stored here")
    location = Location.model_validate_json(location_row.data)
    owner = ((session.country_code, session.party_id),)
    _, tariff_rows = await store.list_objects("tariffs", ListQuery(limit=_MAX_TARIFFS, owners=owner))
    tariffs = [Tariff.model_validate_json(row.data) for row in tariff_rows]
    # mod_tariffs_tariff_type: AD_HOC_PAYMENT tariffs price sessions paid at the Charge Point.
    context = TariffContext(ad_hoc_payment=session.cdr_token.type == TokenType.AD_HOC_USER)
    cdr: CDR | None = None
    try:
        if session.status == SessionStatus.COMPLETED:
            cdr = build_cdr(session, location, tariffs, cdr_id=session.id, context=context, now=now)
            total = cdr.total_cost
        else:
            total = running_total_cost(session, location, tariffs, context=context, now=now)
    except PricingError as exc:
        return Settlement(problem=f"not priced: {exc}")
    await _set_total_cost(store, stored, total)
    if cdr is None:
        return Settlement(total, currency=session.currency)
    outcome = await store.put_object(CDRS.module, CDRS.row(cdr), insert_only=True)
    return Settlement(total, cdr_key if outcome == PutOutcome.CREATED else None, currency=session.currency)


async def _set_total_cost(store: Store, priced: StoredObject, total: Price) -> None:
    """Write total_cost into the session version that was priced; a newer version is settled on its own."""

    def change(current: StoredObject | None) -> StoredObject | None:
        if current is None or current.last_updated != priced.last_updated:
            return None
        session = Session.model_validate_json(current.data)
        if session.total_cost == total:
            return None
        doc = json.loads(current.data)
        doc["total_cost"] = total.to_dict()
        return SESSIONS.row(Session.model_validate(doc))

    await store.mutate_object(SESSIONS.module, priced.key, change)
