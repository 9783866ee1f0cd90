"""`POST /admin/api/authorize`: may this token charge here? Asked by the charge-point side of a CPO."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX, read_object
from evroam.errors import NotFoundError
from evroam.modules.objects import parse_model
from evroam.modules.tokens.authorizer import DEFAULT_TIMEOUT, authorize
from evroam.modules.tokens.models import LocationReferences, TokenType
from evroam.transport.envelope import OcpiResponse
from evroam.types import CiString36, OcpiModel, Role

__all__ = ["router"]

router: APIRouter = APIRouter()


class AuthorizeRequest(OcpiModel):
    """A token as the charge point read it, and where it is to charge."""

    uid: CiString36
    type: TokenType = TokenType.RFID
    location: LocationReferences | None = None
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=60)


@router.post(f"{PREFIX}/authorize")
async def authorize_token(node: AdminNode, request: Request) -> OcpiResponse:
    """The decision (`accepted`), who made it (`source`: CACHE, REAL_TIME, OFFLINE, UNREACHABLE, UNKNOWN),
    and what the eMSP said (`allowed`, `authorization_reference` for the Session and CDR, `info`)."""
    if not any(p.role == Role.CPO for p in node.parties):
        raise NotFoundError("this node hosts no CPO party: authorization is asked by a CPO's charge points")
    asked = parse_model(AuthorizeRequest, await read_object(request, node))
    result = await authorize(node, asked.uid, asked.type, asked.location, answer_within=asked.timeout)
    return OcpiResponse(result.to_dict())
