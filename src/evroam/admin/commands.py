"""`/admin/api/commands`: an eMSP back office sends commands to CPOs and follows them."""

from __future__ import annotations

from fastapi import APIRouter, Request

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX, read_object
from evroam.errors import InvalidParametersError, NotFoundError
from evroam.modules.commands.issue import command_view, send_command
from evroam.modules.commands.models import CommandType
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = APIRouter()


@router.post(f"{PREFIX}/commands/{{command}}")
async def post_command(node: AdminNode, request: Request, command: str) -> OcpiResponse:
    """Send a command: the body is the command's fields (without response_url, which the node makes) and
    `to`, the CPO party (`{"country_code": .., "party_id": ..}`). Answers the command as stored, with the
    CPO's CommandResponse (or the `error` that kept it from answering)."""
    if not any(p.role == Role.EMSP for p in node.parties):
        raise NotFoundError("this node hosts no eMSP party: commands are sent by eMSPs")
    try:
        kind = CommandType(command.upper())
    except ValueError:
        raise NotFoundError(f"unknown command {command[:32]!r}: one of {', '.join(CommandType)}") from None
    fields = await read_object(request, node)
    to = fields.pop("to", None)
    if (
        not isinstance(to, dict)
        or not isinstance(to.get("country_code"), str)
        or not isinstance(to.get("party_id"), str)
    ):
        raise InvalidParametersError('/to: name the CPO party, {"country_code": "NL", "party_id": "CPO"}')
    fields.pop("response_url", None)
    record = await send_command(node, kind, (to["country_code"], to["party_id"]), fields)
    return OcpiResponse(command_view(record), http_status=201)


@router.get(f"{PREFIX}/commands/{{command_id}}")
async def get_command(node: AdminNode, command_id: str) -> OcpiResponse:
    """The command and its state: PENDING, DONE (with the result; `late` after the deadline), TIMED_OUT,
    REFUSED (the CPO's response was not ACCEPTED) or FAILED (no response; `error` says why)."""
    record = await node.store.get_command(command_id)
    if record is None:
        raise NotFoundError(f"no command {command_id[:36]!r}")
    return OcpiResponse(command_view(record))
