"""Commands sent as eMSP (mod_commands): the request to the CPO, its CommandResponse, the later CommandResult.

Each command gets a `response_url` of its own on this node (`.../sender/commands/{COMMAND}/{id}`) and is
stored before it is sent, so a result can never arrive for a command we do not know, and a restart
loses nothing. Its state is read from what is stored: PENDING until the result or the deadline (the
response's `timeout` after the response) is reached; a result after the deadline is kept, as late.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from evroam.client.errors import PeerRequestError, PeerResponseError
from evroam.errors import NotFoundError
from evroam.modules.commands.models import COMMAND_BODIES, CommandResponse, CommandResponseType, CommandType
from evroam.modules.objects import parse_model
from evroam.store.interface import CommandRecord, Peer
from evroam.transport.headers import RoutingHeaders, new_id
from evroam.types import InterfaceRole, ModuleID, Role, format_datetime, utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["CommandState", "command_view", "issue_request", "receiver_of", "send_command", "state_of"]


class CommandState(StrEnum):
    """Where a command stands."""

    FAILED = "FAILED"  # no CommandResponse: the CPO could not be reached or answered with an error alone
    REFUSED = "REFUSED"  # the response was not ACCEPTED (NOT_SUPPORTED, REJECTED, UNKNOWN_SESSION, TOO_OFTEN)
    PENDING = "PENDING"  # accepted; the result is not in yet and not yet due
    TIMED_OUT = "TIMED_OUT"  # accepted; no result by the deadline
    DONE = "DONE"  # the CommandResult arrived (`late` when after the deadline)


def state_of(record: CommandRecord, now: datetime | None = None) -> tuple[CommandState, bool]:
    """The command's state and whether its result came late."""
    late = bool(record.result_at and record.deadline and record.result_at > record.deadline)
    if record.result is not None:
        return CommandState.DONE, late
    if record.response is None and record.error is not None:
        return CommandState.FAILED, False
    if record.response is not None:
        # The table also keeps charging-profile requests: a CommandResponse and a ChargingProfileResponse
        # both say ACCEPTED in `result` when a result is to follow.
        if json.loads(record.response).get("result") != CommandResponseType.ACCEPTED.value:
            return CommandState.REFUSED, False
        if record.deadline is not None and (now or utcnow()) > record.deadline:
            return CommandState.TIMED_OUT, False
    return CommandState.PENDING, False


def command_view(record: CommandRecord, now: datetime | None = None) -> dict[str, Any]:
    """The command as the back office sees it."""
    state, late = state_of(record, now)
    view: dict[str, Any] = {
        "id": record.id,
        "command": record.command,
        "to": {"country_code": record.country_code, "party_id": record.party_id},
        "state": state.value,
        "request": json.loads(record.request),
        "created_at": format_datetime(record.created_at),
    }
    for name in ("response", "result"):
        value = getattr(record, name)
        if value is not None:
            view[name] = json.loads(value)
    for name in ("responded_at", "deadline", "result_at"):
        value = getattr(record, name)
        if value is not None:
            view[name] = format_datetime(value)
    if late:
        view["late"] = True
    if record.error is not None:
        view["error"] = record.error
    return view


async def receiver_of(node: Node, to: tuple[str, str], module: ModuleID, name: str) -> tuple[Peer, str]:
    """The platform hosting the CPO party `to`, and the URL of its `module` Receiver (404 without either)."""
    peer = await node.store.find_peer_by_party(*to)
    if peer is None:
        raise NotFoundError(f"no registered platform hosts {to[0]}-{to[1]}")
    url = peer.endpoint_url(module.value, InterfaceRole.RECEIVER.value)
    if url is None:
        raise NotFoundError(f"{peer.name} offers no {name} Receiver")
    return peer, url


async def send_command(
    node: Node, command: CommandType, to: tuple[str, str], fields: dict[str, Any], *, version: str = "2.2.1"
) -> CommandRecord:
    """Send `command` with `fields` (its body without response_url) to the CPO party `to`."""
    peer, url = await receiver_of(node, to, ModuleID.COMMANDS, "Commands")
    command_id = new_id()
    response_url = f"{node.endpoint_url(version, ModuleID.COMMANDS, InterfaceRole.SENDER)}/{command.value}/{command_id}"
    body = parse_model(COMMAND_BODIES[command], {**fields, "response_url": response_url}).to_dict()
    record = CommandRecord(
        id=command_id,
        peer_id=peer.id,
        command=command.value,
        country_code=to[0].upper(),
        party_id=to[1].upper(),
        request=json.dumps(body, default=str),
        created_at=utcnow(),
    )
    ours = next((p for p in node.parties if p.role == Role.EMSP), None)
    routing = RoutingHeaders(ours.country_code if ours else None, ours.party_id if ours else None, *to)
    target = f"{url.rstrip('/')}/{command.value}"
    return await issue_request(
        node, peer, record, "POST", target, body=body, routing=routing, validate=CommandResponse.model_validate
    )


class _Response(Protocol):
    """A CommandResponse or a ChargingProfileResponse: `result` ACCEPTED means a result is to follow."""

    @property
    def result(self) -> str: ...

    @property
    def timeout(self) -> int: ...

    def to_json(self) -> bytes: ...


async def issue_request(
    node: Node,
    peer: Peer,
    record: CommandRecord,
    method: str,
    url: str,
    *,
    body: Any,
    routing: RoutingHeaders,
    validate: Callable[[Any], _Response],
    params: dict[str, str] | None = None,
) -> CommandRecord:
    """Store `record`, send its request, and record the CPO's answer (`validate` reads it) or why there is
    none; returns the record as stored. Stored first, so a result can never arrive for a request we do not
    know, and a restart loses nothing."""
    await node.store.save_command(record)
    response: str | None = None
    deadline: datetime | None = None
    error: str | None = None
    try:
        reply = await node.client.request(
            method, url, token=peer.token_out or "", version=peer.version, body=body, params=params, routing=routing
        )
        parsed = validate(reply.data)
        response = parsed.to_json().decode()
        # mod_commands_commandresponse_object / mod_charging_profiles_response_object: timeout is how long to
        # wait for the result.
        if parsed.result == CommandResponseType.ACCEPTED.value:
            deadline = utcnow() + timedelta(seconds=parsed.timeout)
    except PeerResponseError as exc:
        error = exc.message
        # OCPI 2.2.1 mod_commands, "UNLOCK_CONNECTOR Unknown Location": an error status (2003) may come with
        # the response (REJECTED) as data; it is the CPO's answer, kept with the error.
        try:
            response = validate(exc.error.data).to_json().decode()
        except ValidationError:
            response = None
    except PeerRequestError as exc:
        error = exc.message
    except ValidationError as exc:
        error = f"{peer.name} answered something that is not a {exc.title}"
    await node.store.record_command_response(record.id, response=response, at=utcnow(), deadline=deadline, error=error)
    stored = await node.store.get_command(record.id)
    assert stored is not None
    return stored
