"""HTTP handlers of the ChargingProfiles Receiver interface (CPO): GET, PUT and DELETE {url}/{session_id}."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.chargepoints.requests import RequestKind
from evroam.errors import NotFoundError
from evroam.modules.chargingprofiles.service import ProfileRequest, receive_profile_request
from evroam.modules.http import Ctx, object_response
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = APIRouter()
_PATH = "/ocpi/{version}/receiver/chargingprofiles/{session_id}"


async def _receive(ctx: Ctx, kind: RequestKind, session_id: str) -> OcpiResponse:
    own = next(iter(ctx.own_parties(Role.CPO)), None)
    if own is None:
        raise NotFoundError("this node hosts no CPO party")
    sender = ctx.calling_party(Role.EMSP, Role.SCSP)
    query = ctx.request.query_params
    request = ProfileRequest(
        peer_id=ctx.caller.peer.id,
        sender=sender,
        cpo=(own.country_code, own.party_id),
        kind=kind,
        session_id=session_id,
        body=await ctx.body() if kind == RequestKind.SET_PROFILE else None,
        duration=query.get("duration"),
        response_url=query.get("response_url"),
    )
    response = await receive_profile_request(ctx.node, request)
    return object_response(response.to_json(), headers=ctx.reply_routing(own, sender))


@router.get(_PATH)
async def get_active_profile(ctx: Ctx, session_id: str) -> OcpiResponse:
    """mod_charging_profiles_cpo_get_method: the ActiveChargingProfileResult follows at response_url."""
    return await _receive(ctx, RequestKind.GET_PROFILE, session_id)


@router.put(_PATH)
async def set_profile(ctx: Ctx, session_id: str) -> OcpiResponse:
    """mod_charging_profiles_cpo_put_method: the ChargingProfileResult follows at the body's response_url."""
    return await _receive(ctx, RequestKind.SET_PROFILE, session_id)


@router.delete(_PATH)
async def clear_profile(ctx: Ctx, session_id: str) -> OcpiResponse:
    """mod_charging_profiles_cpo_delete_method: the ClearProfileResult follows at response_url."""
    return await _receive(ctx, RequestKind.CLEAR_PROFILE, session_id)
