"""Who set a charging profile on each of the CPO's sessions, and the ActiveChargingProfile updates they are owed.

OCPI 2.2.1 mod_charging_profiles_msp_put_method: the Receiver "SHALL call this interface every time it
knows changes have been made that influence the ActiveChargingProfile for an ongoing session AND the
Sender has at least once successfully called the charging profile Receiver PUT interface for this
session", and never for other sessions. A Sender is remembered here once a SetChargingProfile of it was
ACCEPTED by the Charge Point.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from evroam.chargepoints.adapter import Order
from evroam.delivery.callbacks import new_callback, owe
from evroam.modules.chargingprofiles.models import ActiveChargingProfile, ChargingProfileResultType
from evroam.modules.sessions.models import Session
from evroam.modules.sessions.service import SESSIONS
from evroam.store.interface import ReceivedRequest
from evroam.types import InterfaceRole, ModuleID, OcpiModel, utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["active_profile_changed", "profile_settled"]

log = logging.getLogger("evroam.chargepoints")

KIND = "profile_senders"
# mod_charging_profiles_msp_put_method: "a useful relevant duration ... As a guide: between 5 and 60 minutes."
UPDATE_DURATION: Final = 15 * 60
_UPDATE_LIFETIME: Final = timedelta(hours=1)


def _key(country_code: str, party_id: str, session_id: str) -> str:
    return f"{country_code}/{party_id}/{session_id}".upper()


async def profile_settled(node: Node, record: ReceivedRequest, result: OcpiModel) -> None:
    """After an ACCEPTED SetChargingProfile or clear: remember the sender (set), then tell the senders of
    the session the ActiveChargingProfile that follows."""
    if getattr(result, "result", None) != ChargingProfileResultType.ACCEPTED:
        return
    cpo = (record.cpo_country_code, record.cpo_party_id)
    session_id = str(json.loads(record.request)["session_id"])
    if record.kind == "SET_PROFILE":
        sender = {
            "peer_id": record.peer_id,
            "country_code": record.sender_country_code,
            "party_id": record.sender_party_id,
        }
        await node.store.put_state(KIND, _key(*cpo, session_id), json.dumps(sender), utcnow())
    stored = await node.store.get_object(SESSIONS.module, SESSIONS.key(*cpo, session_id))
    if stored is None or node.charge_points is None:
        return
    session = Session.model_validate_json(stored.data)
    order = Order(record.id, cpo, (record.sender_country_code, record.sender_party_id), record.received_at)
    try:
        active = await node.charge_points.get_active_profile(order, session, UPDATE_DURATION)
    except Exception:
        log.exception("the Charge Point could not tell the active profile of session %s", session_id)
        return
    if active.result == ChargingProfileResultType.ACCEPTED and active.profile is not None:
        await active_profile_changed(node, session, active.profile)


async def active_profile_changed(node: Node, session: Session, active: ActiveChargingProfile) -> bool:
    """Owe the session's profile sender a PUT of `active`; False when no sender set a profile on it (or
    it offers no ChargingProfiles Sender interface to put it to)."""
    stored = await node.store.get_state(KIND, _key(session.country_code, session.party_id, session.id))
    if stored is None:
        return False
    sender = json.loads(stored)
    peer = await node.store.get_peer(sender["peer_id"])
    url = peer.endpoint_url(ModuleID.CHARGINGPROFILES.value, InterfaceRole.SENDER.value) if peer else None
    if peer is None or url is None:
        log.warning("session %s: its profile sender offers no ChargingProfiles Sender interface", session.id)
        return False
    routing = (session.country_code, session.party_id, sender["country_code"], sender["party_id"])
    target = f"{url.rstrip('/')}/{quote(session.id, safe='')}"
    await owe(node, new_callback(peer.id, "PUT", target, active.to_json(), routing, _UPDATE_LIFETIME))
    return True
