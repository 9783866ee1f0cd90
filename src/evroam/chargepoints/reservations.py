"""Reservations a CPO holds for senders: each sender's `reservation_id` mapped to an id of the CPO's own.

OCPI 2.2.1 mod_commands_reservenow_object: the reservation_id of a ReserveNow "SHALL NOT be sent directly
to a Charge Point"; the CPO makes sure the id it sends "is unique and is not used by another Sender", so
one eMSP can never replace or cancel another's reservation. Reservations are kept per (CPO party, sender
party, reservation_id); a RESERVE_NOW with an id the sender used before replaces that reservation (same
CPO id, so the Charge Point replaces it too).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from evroam.chargepoints.adapter import Order, Reservation
from evroam.delivery.callbacks import new_callback, owe
from evroam.modules.commands.models import CommandResult, CommandResultType, ReserveNow
from evroam.store.interface import ReceivedRequest, Store
from evroam.transport.headers import new_id
from evroam.types import utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["book_reservation", "cancel_by_cpo", "get_reservation", "reservation_settled"]

KIND = "reservations"


def _key(cpo: tuple[str, str], sender: tuple[str, str], reservation_id: str) -> str:
    # CiString: reservation ids compare case-insensitively.
    return "/".join((*cpo, *sender, reservation_id)).upper()


async def book_reservation(
    store: Store, cpo: tuple[str, str], sender: tuple[str, str], request: ReserveNow, order_id: str, peer_id: str
) -> Reservation:
    """Record the RESERVE_NOW `order_id` carries, replacing the sender's earlier reservation of that id."""
    key = _key(cpo, sender, request.reservation_id)
    stored = await store.get_state(KIND, key)
    previous: dict[str, Any] | None = json.loads(stored) if stored else None
    reservation = Reservation(previous["id"] if previous else order_id, request)
    document = {
        "id": reservation.id,
        "request": request.to_dict(),
        "order": order_id,
        "peer_id": peer_id,
        # What the Charge Point holds until this order succeeds; restored when it fails.
        "previous": previous["request"] if previous else None,
    }
    await store.put_state(KIND, key, json.dumps(document, default=str), utcnow())
    return reservation


async def get_reservation(
    store: Store, cpo: tuple[str, str], sender: tuple[str, str], reservation_id: str
) -> Reservation | None:
    stored = await store.get_state(KIND, _key(cpo, sender, reservation_id))
    if stored is None:
        return None
    document = json.loads(stored)
    return Reservation(document["id"], ReserveNow.model_validate(document["request"]))


async def reservation_settled(store: Store, record: ReceivedRequest, result: CommandResultType) -> None:
    """Follow the Charge Point's answer: a RESERVE_NOW it refused leaves what was there before (nothing,
    or the reservation it would have replaced); a cancellation it accepted ends the reservation."""
    data = json.loads(record.request)
    cpo = (record.cpo_country_code, record.cpo_party_id)
    sender = (record.sender_country_code, record.sender_party_id)
    key = _key(cpo, sender, str(data.get("reservation_id", "")))
    stored = await store.get_state(KIND, key)
    if stored is None:
        return
    document = json.loads(stored)
    if record.kind == "CANCEL_RESERVATION":
        if result == CommandResultType.ACCEPTED:
            await store.delete_state(KIND, key)
        return
    if result == CommandResultType.ACCEPTED or document["order"] != record.id:
        return
    if document["previous"] is None:
        await store.delete_state(KIND, key)
    else:
        document.update(request=document["previous"], previous=None)
        await store.put_state(KIND, key, json.dumps(document), utcnow())


async def cancel_by_cpo(node: Node, cpo: tuple[str, str], sender: tuple[str, str], reservation_id: str) -> bool:
    """The CPO ends a reservation it can no longer keep (a defect, roadworks): the Charge Point lets it go
    and the sender gets CommandResult CANCELED_RESERVATION at the RESERVE_NOW's response_url (mod_commands,
    "Reservation canceled by the CPO"). False when the sender holds no such reservation."""
    key = _key(cpo, sender, reservation_id)
    stored = await node.store.get_state(KIND, key)
    if stored is None:
        return False
    document = json.loads(stored)
    reservation = Reservation(document["id"], ReserveNow.model_validate(document["request"]))
    if node.charge_points is not None:
        await node.charge_points.cancel_reservation(Order(new_id(), cpo, sender, utcnow()), reservation)
    await node.store.delete_state(KIND, key)
    canceled = CommandResult(result=CommandResultType.CANCELED_RESERVATION).to_json()
    await owe(
        node, new_callback(document["peer_id"], "POST", reservation.request.response_url, canceled, (*cpo, *sender))
    )
    return True
