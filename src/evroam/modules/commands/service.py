"""The CPO's rules for a command it receives (mod_commands Receiver): answered at once with a
CommandResponse, carried out on the Charge Points afterwards (`evroam.chargepoints.requests`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evroam.chargepoints.requests import RequestKind, accept_request, check_response_url
from evroam.chargepoints.reservations import book_reservation
from evroam.errors import UnknownLocationError
from evroam.modules.commands.models import (
    COMMAND_BODIES,
    CommandResponse,
    CommandResponseType,
    CommandType,
    ReserveNow,
    StartSession,
    StopSession,
    UnlockConnector,
)
from evroam.modules.locations.models import EVSE, Capability, Location
from evroam.modules.objects import parse_model, same_id
from evroam.modules.sessions.models import Session, SessionStatus
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tokens.models import Token
from evroam.store.interface import ObjectKey
from evroam.transport.headers import new_id
from evroam.types import DisplayText

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["CommandRequest", "answer", "receive_command"]

# What each command needs the EVSE to be capable of (mod_locations_capability_enum).
_NEEDS: dict[CommandType, Capability] = {
    CommandType.START_SESSION: Capability.REMOTE_START_STOP_CAPABLE,
    CommandType.STOP_SESSION: Capability.REMOTE_START_STOP_CAPABLE,
    CommandType.RESERVE_NOW: Capability.RESERVABLE,
    CommandType.UNLOCK_CONNECTOR: Capability.UNLOCK_CAPABLE,
}


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A command as received: who sent it (peer and party), to which of our CPO parties, and its body."""

    peer_id: str
    sender: tuple[str, str]
    cpo: tuple[str, str]
    command: CommandType
    body: dict[str, Any]


def answer(result: CommandResponseType, timeout: int, message: str | None = None) -> CommandResponse:
    text = [DisplayText(language="en", text=message[:512])] if message else None
    return CommandResponse(result=result, timeout=timeout, message=text)


async def receive_command(node: Node, request: CommandRequest) -> CommandResponse:
    """Check the command and accept it (it is then carried out), or say why not. Raises
    InvalidParametersError (2001) for a body that is not the command's object, UnknownLocationError (2003,
    with a REJECTED CommandResponse as data, as the spec's UNLOCK_CONNECTOR example shows) for a Location,
    EVSE or Connector the CPO does not have."""
    timeout = node.settings.command_timeout
    parsed = parse_model(COMMAND_BODIES[request.command], request.body)
    response_url = str(getattr(parsed, "response_url"))  # noqa: B009 (every command body has one)
    check_response_url(node, response_url)
    if node.charge_points is None:
        return answer(CommandResponseType.NOT_SUPPORTED, timeout, "this CPO carries out no commands")
    refusal = await _refusal(node, request, parsed)
    if refusal is not None:
        return answer(*refusal) if isinstance(refusal, tuple) else refusal
    request_id = new_id()
    if isinstance(parsed, ReserveNow):
        await book_reservation(node.store, request.cpo, request.sender, parsed, request_id, request.peer_id)
    await accept_request(
        node,
        peer_id=request.peer_id,
        kind=RequestKind(request.command.value),
        sender=request.sender,
        cpo=request.cpo,
        request=parsed.to_dict(),
        response_url=response_url,
        request_id=request_id,
    )
    return answer(CommandResponseType.ACCEPTED, timeout)


async def _refusal(
    node: Node, request: CommandRequest, parsed: Any
) -> tuple[CommandResponseType, int, str] | CommandResponse | None:
    timeout = node.settings.command_timeout
    if isinstance(parsed, StartSession | ReserveNow):
        token: Token = parsed.token
        # mod_commands_startsession_object / _reservenow_object: an eMSP "SHALL only use Tokens that are
        # owned by this eMSP".
        if (token.country_code.upper(), token.party_id.upper()) != request.sender:
            return CommandResponseType.REJECTED, timeout, "the token belongs to another party than the sender"
    if isinstance(parsed, StopSession):
        return await _stop_refusal(node, request, parsed.session_id)
    if isinstance(parsed, StartSession | ReserveNow | UnlockConnector):
        evse = await _evse(node, request.cpo, parsed.location_id, parsed.evse_uid)
        connector_id = getattr(parsed, "connector_id", None)
        if (
            evse is not None
            and connector_id is not None
            and not any(same_id(c.id, connector_id) for c in evse.connectors)
        ):
            raise _unknown(f"EVSE {evse.uid!r} has no connector {connector_id!r}", timeout)
        needed = _NEEDS[request.command]
        if evse is not None and evse.capabilities is not None and needed not in evse.capabilities:
            return CommandResponseType.NOT_SUPPORTED, timeout, f"EVSE {evse.uid!r} is not {needed.value}"
        if (
            isinstance(parsed, StartSession)
            and evse is not None
            and connector_id is None
            and Capability.START_SESSION_CONNECTOR_REQUIRED in (evse.capabilities or ())
        ):
            return CommandResponseType.REJECTED, timeout, f"EVSE {evse.uid!r} needs connector_id to start a session"
    return None


async def _stop_refusal(
    node: Node, request: CommandRequest, session_id: str
) -> tuple[CommandResponseType, int, str] | None:
    timeout = node.settings.command_timeout
    stored = await node.store.get_object(SESSIONS.module, SESSIONS.key(*request.cpo, session_id))
    if stored is None:
        return CommandResponseType.UNKNOWN_SESSION, timeout, f"no session {session_id!r}"
    session = Session.model_validate_json(stored.data)
    # mod_commands_commandresponsetype_enum REJECTED: "Session might not be from a customer of the eMSP
    # that send this request".
    if (session.cdr_token.country_code.upper(), session.cdr_token.party_id.upper()) != request.sender:
        return CommandResponseType.REJECTED, timeout, "the session is not of one of your customers"
    if session.status not in (SessionStatus.ACTIVE, SessionStatus.PENDING, SessionStatus.RESERVATION):
        return CommandResponseType.REJECTED, timeout, f"the session is {session.status.value}"
    return None


async def _evse(node: Node, cpo: tuple[str, str], location_id: str, evse_uid: str | None) -> EVSE | None:
    timeout = node.settings.command_timeout
    stored = await node.store.get_object("locations", ObjectKey(*cpo, location_id))
    if stored is None:
        raise _unknown(f"no location {location_id!r}", timeout)
    if evse_uid is None:
        return None
    location = Location.model_validate_json(stored.data)
    evse = next((e for e in location.evses or () if same_id(e.uid, evse_uid)), None)
    if evse is None:
        raise _unknown(f"location {location_id!r} has no EVSE {evse_uid!r}", timeout)
    return evse


def _unknown(message: str, timeout: int) -> UnknownLocationError:
    # OCPI 2.2.1 mod_commands, "UNLOCK_CONNECTOR Unknown Location": status_code 2003 with a REJECTED
    # CommandResponse as data.
    data = answer(CommandResponseType.REJECTED, timeout, message).to_dict()
    return UnknownLocationError(message, data=data)
