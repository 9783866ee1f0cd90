"""HTTP handlers of the Tokens Sender interface (eMSP): the list of our tokens, and real-time authorization."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.errors import InvalidParametersError, UnknownTokenError
from evroam.modules.http import Ctx, ModuleCtx, object_response
from evroam.modules.objects import parse_model
from evroam.modules.receivers import DEFAULT_TOKEN_TYPE, TOKEN_TYPES
from evroam.modules.senders import owned_list
from evroam.modules.tokens.authorization import AuthorizationRequest
from evroam.modules.tokens.models import AuthorizationInfo, LocationReferences, Token
from evroam.modules.tokens.service import TOKENS
from evroam.transport.envelope import OcpiResponse
from evroam.transport.headers import new_id
from evroam.transport.validation import read_json
from evroam.types import ModuleID, Role

__all__ = ["router"]

router: APIRouter = APIRouter()
owned_list(router, ModuleID.TOKENS, (Role.EMSP,))


@router.post("/ocpi/{version}/sender/tokens/{token_uid}/authorize")
async def authorize(ctx: Ctx, token_uid: str) -> OcpiResponse:
    """mod_tokens_post_method: AuthorizationInfo for one of our tokens; 2004 (HTTP 404) for a token we do
    not know, 2002 when the policy needs a Location the request did not give."""
    token_type = ctx.request.query_params.get("type") or DEFAULT_TOKEN_TYPE
    if token_type not in TOKEN_TYPES:
        raise InvalidParametersError(f"query parameter type {token_type[:20]!r} is not a TokenType")
    location = await _location(ctx)
    for party in ctx.own_parties(Role.EMSP):
        key = TOKENS.key(party.country_code, party.party_id, token_uid, token_type)
        stored = await ctx.node.store.get_object(TOKENS.module, key)
        if stored is None:
            continue
        token = Token.model_validate_json(stored.data)
        requester = _requester(ctx)
        decision = await ctx.node.authorization_policy.decide(AuthorizationRequest(token, location, requester))
        info = AuthorizationInfo(
            allowed=decision.allowed,
            token=token,
            location=decision.location,
            authorization_reference=new_id(),  # a UUID: 36 characters, as CiString(36) allows
            info=decision.info,
        )
        return object_response(info.to_json(), headers=ctx.reply_routing(party, None))
    raise UnknownTokenError(f"token {token_uid[:36]!r} of type {token_type} is not known here")


def _requester(ctx: ModuleCtx) -> tuple[str, str] | None:
    """The asking party: OCPI-from, else the caller's CPO role (else its only role)."""
    cc, pid = ctx.routing.from_country_code, ctx.routing.from_party_id
    if cc and pid:
        return cc, pid
    roles = ctx.caller.peer.roles
    cpo = [r for r in roles if r.role == Role.CPO] or (list(roles) if len(roles) == 1 else [])
    return (cpo[0].country_code, cpo[0].party_id) if cpo else None


async def _location(ctx: ModuleCtx) -> LocationReferences | None:
    """The optional LocationReferences body (an empty body, or JSON null, is none)."""
    if not await ctx.request.body():
        return None
    data = await read_json(ctx.request, ctx.node.settings.max_body_bytes)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InvalidParametersError(f"request body must be a LocationReferences object, got {type(data).__name__}")
    return parse_model(LocationReferences, data)
