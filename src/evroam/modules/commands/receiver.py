"""HTTP handler of the Commands Receiver interface (CPO): POST {commands}/{command}."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.errors import NotFoundError
from evroam.modules.commands.models import CommandResponseType, CommandType
from evroam.modules.commands.service import CommandRequest, answer, receive_command
from evroam.modules.http import Ctx, object_response
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = APIRouter()


@router.post("/ocpi/{version}/receiver/commands/{command}")
async def post_command(ctx: Ctx, command: str) -> OcpiResponse:
    """mod_commands_cpo_post_method: the CommandResponse at once; the CommandResult is POSTed to the
    body's response_url once the Charge Point answered (or the command timed out)."""
    own = next(iter(ctx.own_parties(Role.CPO)), None)
    if own is None:
        raise NotFoundError("this node hosts no CPO party")
    sender = ctx.calling_party(Role.EMSP)
    headers = ctx.reply_routing(own, sender)
    try:
        kind = CommandType(command.upper())
    except ValueError:
        refused = answer(
            CommandResponseType.NOT_SUPPORTED, ctx.node.settings.command_timeout, f"no command {command[:32]!r}"
        )
        return object_response(refused.to_json(), headers=headers)
    request = CommandRequest(ctx.caller.peer.id, sender, (own.country_code, own.party_id), kind, await ctx.body())
    response = await receive_command(ctx.node, request)
    return object_response(response.to_json(), headers=headers)
