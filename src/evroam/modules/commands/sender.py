"""HTTP handler of the Commands Sender interface (eMSP): the CommandResult a CPO posts to a response_url."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.errors import NotFoundError
from evroam.modules.commands.issue import CommandState, state_of
from evroam.modules.commands.models import CommandResult, CommandResultType, CommandType
from evroam.modules.http import Ctx, object_response
from evroam.modules.objects import parse_model
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role, utcnow

__all__ = ["router"]

router: APIRouter = APIRouter()


@router.post("/ocpi/{version}/sender/commands/{command}/{command_id}")
async def receive_result(ctx: Ctx, command: str, command_id: str) -> OcpiResponse:
    """mod_commands_msp_post_method: the result of a command we sent. Only the platform we sent it to may
    post it (404 for anyone else, and for ids we never issued); the first result counts, and one that
    arrives after the deadline is kept and reported late. A reservation the CPO cancels later is the
    exception: CANCELED_RESERVATION posted to its RESERVE_NOW response_url replaces the earlier result
    (mod_commands "Reservation canceled by the CPO")."""
    record = await ctx.node.store.get_command(command_id)
    # The commands table also holds charging-profile requests; only commands take a CommandResult here.
    is_command = command.upper() in CommandType.__members__
    if record is None or not is_command or record.peer_id != ctx.caller.peer.id or record.command != command.upper():
        raise NotFoundError(f"no {command[:32]} command {command_id[:36]!r} was sent to you")
    result = parse_model(CommandResult, await ctx.body())
    canceled = (
        record.command == CommandType.RESERVE_NOW.value and result.result == CommandResultType.CANCELED_RESERVATION
    )
    stored = await ctx.node.store.record_command_result(
        command_id, result.to_json().decode(), utcnow(), replace=canceled
    )
    assert stored is not None
    state, late = state_of(stored)
    message = "recorded after its deadline" if late else None
    if state == CommandState.DONE and stored.result != result.to_json().decode():
        message = "a result was recorded before; this one is ignored"
    own = next(iter(ctx.own_parties(Role.EMSP)), None)
    return object_response(
        None, message=message, headers=ctx.reply_routing(own, (record.country_code, record.party_id))
    )
