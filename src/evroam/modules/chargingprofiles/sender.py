"""HTTP handlers of the ChargingProfiles Sender interface (eMSP, SCSP): results and ActiveChargingProfile updates."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.errors import InvalidParametersError, NotFoundError
from evroam.modules.chargingprofiles.issue import RESULT_MODELS, SENDER_ROLES, ProfileRequest, check_session_id
from evroam.modules.chargingprofiles.models import ActiveChargingProfile
from evroam.modules.commands.issue import CommandState, state_of
from evroam.modules.http import Ctx, ModuleCtx, object_response
from evroam.modules.objects import check_party, parse_model
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role, utcnow

__all__ = ["ACTIVE_PROFILES", "active_profile_key", "router"]

router: APIRouter = APIRouter()

ACTIVE_PROFILES = "active_profiles"
"""State kind of the last ActiveChargingProfile a CPO sent for one of its sessions."""


def active_profile_key(country_code: str, party_id: str, session_id: str) -> str:
    """State key of a CPO party's session; all three are CiStrings, so compared case-insensitively."""
    return f"{country_code.upper()}/{party_id.upper()}/{session_id.upper()}"


@router.post("/ocpi/{version}/sender/chargingprofiles/{kind}/{request_id}")
async def receive_result(ctx: Ctx, kind: str, request_id: str) -> OcpiResponse:
    """mod_charging_profiles_msp_post_method: the result of a request we sent, at the response_url we gave.
    Only the platform we sent it to may post it (404 for anyone else, for ids we never issued and for a
    kind that is not the request's); the first result counts, one after the deadline is kept as late."""
    asked = next((k for k in ProfileRequest if k.value == kind.upper()), None)
    record = await ctx.node.store.get_command(request_id) if asked is not None else None
    if asked is None or record is None or record.peer_id != ctx.caller.peer.id or record.command != asked:
        raise NotFoundError(f"no {kind[:32]} request {request_id[:36]!r} was sent to you")
    # OCPI 2.2.1 mod_charging_profiles_cpo_post_request_body: the object answering the original request.
    result = parse_model(RESULT_MODELS[asked], await ctx.body())
    stored = await ctx.node.store.record_command_result(request_id, result.to_json().decode(), utcnow())
    assert stored is not None
    state, late = state_of(stored)
    message = "recorded after its deadline" if late else None
    if state == CommandState.DONE and stored.result != result.to_json().decode():
        message = "a result was recorded before; this one is ignored"
    own = next(iter(ctx.own_parties(*SENDER_ROLES)), None)
    return object_response(
        None, message=message, headers=ctx.reply_routing(own, (record.country_code, record.party_id))
    )


@router.put("/ocpi/{version}/sender/chargingprofiles/{session_id}")
async def receive_active_profile(ctx: Ctx, session_id: str) -> OcpiResponse:
    """mod_charging_profiles_msp_put_method: the CPO's ActiveChargingProfile of one of its sessions changed.
    The latest is kept per CPO party and session; answered with no data."""
    check_session_id(session_id)
    cpo = _session_owner(ctx)
    profile = parse_model(ActiveChargingProfile, await ctx.body())
    key = active_profile_key(*cpo, session_id)
    await ctx.node.store.put_state(ACTIVE_PROFILES, key, profile.to_json().decode(), utcnow())
    own = next(iter(ctx.own_parties(*SENDER_ROLES)), None)
    return object_response(None, headers=ctx.reply_routing(own, cpo))


def _session_owner(ctx: ModuleCtx) -> tuple[str, str]:
    # transport_and_format_message_routing: OCPI-from names the party that sends, i.e. the CPO of the
    # session; without it the caller's only CPO party is meant.
    if ctx.routing.from_country_code and ctx.routing.from_party_id:
        owner = (ctx.routing.from_country_code, ctx.routing.from_party_id)
    else:
        cpos = [(r.country_code, r.party_id) for r in ctx.caller.peer.roles if r.role == Role.CPO]
        if not cpos:
            raise NotFoundError("none of the parties registered for your credentials is a CPO")
        if len(cpos) > 1:
            raise InvalidParametersError("name the session's CPO party in the OCPI-from-* headers")
        owner = cpos[0]
    check_party(*owner, ctx.caller_parties)
    return owner[0].upper(), owner[1].upper()
