"""Requests a CPO accepted for its Charge Points: kept, carried out through `ChargePoints`, settled by
posting the result to the sender's `response_url` (a durable callback), and taken up again after a restart.

A request is stored before the CPO answers ACCEPTED; its result and the callback delivering it are stored
in one transaction. A restarted node asks the Charge Points again for every request without a result
(`resume`); one past its due time gets the result TIMEOUT instead (mod_commands_commandresulttype_enum:
"no response received from the Charge Point in a reasonable time").
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from evroam.chargepoints.adapter import ChargePoints, Order
from evroam.chargepoints.profiles import profile_settled
from evroam.chargepoints.reservations import get_reservation, reservation_settled
from evroam.client.errors import UrlPolicyError
from evroam.delivery.callbacks import new_callback
from evroam.errors import InvalidParametersError
from evroam.modules.chargingprofiles.models import (
    ActiveChargingProfileResult,
    ChargingProfileResult,
    ChargingProfileResultType,
    ClearProfileResult,
    SetChargingProfile,
)
from evroam.modules.commands.models import (
    CancelReservation,
    CommandResult,
    CommandResultType,
    CommandType,
    StartSession,
    StopSession,
    UnlockConnector,
)
from evroam.modules.sessions.models import Session
from evroam.modules.sessions.service import SESSIONS
from evroam.store.interface import ReceivedRequest
from evroam.transport.headers import new_id
from evroam.types import OcpiModel, utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["RequestKind", "accept_request", "carry_out", "check_response_url", "resume", "settle"]

log = logging.getLogger("evroam.chargepoints")


class RequestKind(StrEnum):
    """What was asked: a command, or a charging-profile request (mod_charging_profiles PUT, GET, DELETE)."""

    CANCEL_RESERVATION = CommandType.CANCEL_RESERVATION.value
    RESERVE_NOW = CommandType.RESERVE_NOW.value
    START_SESSION = CommandType.START_SESSION.value
    STOP_SESSION = CommandType.STOP_SESSION.value
    UNLOCK_CONNECTOR = CommandType.UNLOCK_CONNECTOR.value
    SET_PROFILE = "SET_PROFILE"
    GET_PROFILE = "GET_PROFILE"
    CLEAR_PROFILE = "CLEAR_PROFILE"

    @property
    def is_command(self) -> bool:
        return self.value in CommandType.__members__


async def accept_request(
    node: Node,
    *,
    peer_id: str,
    kind: RequestKind,
    sender: tuple[str, str],
    cpo: tuple[str, str],
    request: dict[str, object],
    response_url: str,
    request_id: str | None = None,
) -> ReceivedRequest:
    """Keep the request (the CPO is about to answer ACCEPTED) and have the Charge Points carry it out."""
    check_response_url(node, response_url)
    now = utcnow()
    record = ReceivedRequest(
        id=request_id or new_id(),
        peer_id=peer_id,
        kind=kind.value,
        sender_country_code=sender[0],
        sender_party_id=sender[1],
        cpo_country_code=cpo[0],
        cpo_party_id=cpo[1],
        request=json.dumps(request, separators=(",", ":"), default=str),
        response_url=response_url,
        received_at=now,
        due_at=now + timedelta(seconds=node.settings.command_timeout),
    )
    await node.store.save_received_request(record)
    node.background(carry_out(node, record))
    return record


def check_response_url(node: Node, url: str) -> None:
    """Raise InvalidParametersError (2001) when our URL policy refuses `url`: we would never call it."""
    try:
        node.client.policy.check(url)
    except UrlPolicyError as exc:
        raise InvalidParametersError(f"response_url: {exc.message}") from None


async def carry_out(node: Node, record: ReceivedRequest) -> None:
    """Ask the Charge Points, wait for them until the request is due, and settle the request."""
    adapter = node.charge_points
    kind = RequestKind(record.kind)
    remaining = (record.due_at - utcnow()).total_seconds()
    result: OcpiModel | None
    if adapter is None or remaining <= 0:
        result = _timed_out(kind)
    else:
        try:
            result = await asyncio.wait_for(_ask(node, adapter, kind, record), timeout=remaining)
        except TimeoutError:
            result = _timed_out(kind)
        except Exception:
            log.exception("the Charge Point failed on %s request %s", kind.value, record.id)
            result = _failed(kind)
    await settle(node, record, result)


async def resume(node: Node) -> int:
    """Take up every request a previous run accepted but did not settle; returns how many."""
    unsettled = await node.store.unsettled_requests()
    for record in unsettled:
        node.background(carry_out(node, record))
    if unsettled:
        log.info("taking up %d request(s) for Charge Points accepted before the restart", len(unsettled))
    return len(unsettled)


async def settle(node: Node, record: ReceivedRequest, result: OcpiModel | None) -> bool:
    """Record the result and owe its POST to the response_url (none for a profile request that timed out:
    ChargingProfileResultType has no TIMEOUT; the sender's own deadline says it). False when settled before."""
    now = utcnow()
    body = result.to_json().decode() if result is not None else json.dumps({"result": "TIMEOUT"})
    callback = None
    if result is not None:
        routing = (record.cpo_country_code, record.cpo_party_id, record.sender_country_code, record.sender_party_id)
        callback = new_callback(record.peer_id, "POST", record.response_url, body.encode(), routing)
    if not await node.store.settle_request(record.id, body, now, callback):
        return False
    node.callbacks_due.set()
    kind = RequestKind(record.kind)
    if kind in (RequestKind.RESERVE_NOW, RequestKind.CANCEL_RESERVATION) and isinstance(result, CommandResult):
        await reservation_settled(node.store, record, result.result)
    if kind in (RequestKind.SET_PROFILE, RequestKind.CLEAR_PROFILE) and result is not None:
        await profile_settled(node, record, result)
    return True


async def _ask(node: Node, adapter: ChargePoints, kind: RequestKind, record: ReceivedRequest) -> OcpiModel:
    order = Order(
        record.id,
        (record.cpo_country_code, record.cpo_party_id),
        (record.sender_country_code, record.sender_party_id),
        record.received_at,
    )
    data = json.loads(record.request)
    match kind:
        case RequestKind.START_SESSION:
            return await adapter.start_session(order, StartSession.model_validate(data))
        case RequestKind.STOP_SESSION:
            session = await _session(node, order, StopSession.model_validate(data).session_id)
            if session is None:
                return CommandResult(result=CommandResultType.FAILED)
            return await adapter.stop_session(order, session)
        case RequestKind.UNLOCK_CONNECTOR:
            return await adapter.unlock_connector(order, UnlockConnector.model_validate(data))
        case RequestKind.RESERVE_NOW | RequestKind.CANCEL_RESERVATION:
            reservation_id = str(data["reservation_id"])
            reservation = await get_reservation(node.store, order.cpo, order.sender, reservation_id)
            if reservation is None:
                return CommandResult(result=CommandResultType.UNKNOWN_RESERVATION)
            if kind == RequestKind.RESERVE_NOW:
                return await adapter.reserve_now(order, reservation)
            CancelReservation.model_validate(data)
            return await adapter.cancel_reservation(order, reservation)
        case RequestKind.SET_PROFILE | RequestKind.GET_PROFILE | RequestKind.CLEAR_PROFILE:
            session = await _session(node, order, str(data["session_id"]))
            if session is None:
                return _failed(kind)
            if kind == RequestKind.SET_PROFILE:
                profile = SetChargingProfile.model_validate(data["body"]).charging_profile
                return await adapter.set_charging_profile(order, session, profile)
            if kind == RequestKind.GET_PROFILE:
                return await adapter.get_active_profile(order, session, int(data["duration"]))
            return await adapter.clear_profile(order, session)
    raise AssertionError(f"unhandled request kind {kind}")  # pragma: no cover


async def _session(node: Node, order: Order, session_id: str) -> Session | None:
    stored = await node.store.get_object(SESSIONS.module, SESSIONS.key(*order.cpo, session_id))
    return None if stored is None else Session.model_validate_json(stored.data)


def _timed_out(kind: RequestKind) -> OcpiModel | None:
    return CommandResult(result=CommandResultType.TIMEOUT) if kind.is_command else None


def _failed(kind: RequestKind) -> OcpiModel:
    if kind.is_command:
        return CommandResult(result=CommandResultType.FAILED)
    if kind == RequestKind.GET_PROFILE:
        return ActiveChargingProfileResult(result=ChargingProfileResultType.REJECTED)
    if kind == RequestKind.SET_PROFILE:
        return ChargingProfileResult(result=ChargingProfileResultType.REJECTED)
    return ClearProfileResult(result=ChargingProfileResultType.REJECTED)
