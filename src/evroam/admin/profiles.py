"""`/admin/api/chargingprofiles`: an eMSP or SCSP back office sets, asks and clears profiles on CPO sessions.

Each request is answered as stored (the view of `/admin/api/commands/{id}`, which follows it afterwards);
`.../active` is the last ActiveChargingProfile the CPO sent for the session.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX, read_object
from evroam.errors import InvalidParametersError, NotFoundError
from evroam.modules.chargingprofiles.issue import SENDER_ROLES, ProfileRequest, send_profile_request
from evroam.modules.chargingprofiles.sender import ACTIVE_PROFILES, active_profile_key
from evroam.modules.commands.issue import command_view
from evroam.node import Node
from evroam.transport.envelope import OcpiResponse

__all__ = ["router"]

router: APIRouter = APIRouter()

_SESSION = f"{PREFIX}/chargingprofiles/{{country_code}}/{{party_id}}/{{session_id}}"


@router.put(_SESSION)
async def set_profile(
    node: AdminNode, request: Request, country_code: str, party_id: str, session_id: str
) -> OcpiResponse:
    """Set the session's profile: the body is `{"charging_profile": {...}}` (a ChargingProfile)."""
    _check_sender(node)
    body = await read_object(request, node)
    profile = body.get("charging_profile")
    if not isinstance(profile, dict):
        raise InvalidParametersError("/charging_profile: a ChargingProfile object is required")
    return await _send(node, ProfileRequest.SET_CHARGING_PROFILE, country_code, party_id, session_id, profile=profile)


@router.get(_SESSION)
async def get_active_profile(
    node: AdminNode, request: Request, country_code: str, party_id: str, session_id: str
) -> OcpiResponse:
    """Ask the CPO for the session's ActiveChargingProfile over the next `?duration=` seconds; the answer
    comes as the request's result."""
    _check_sender(node)
    raw = request.query_params.get("duration", "")
    if not raw.isdigit():
        raise InvalidParametersError("duration: the length of the ActiveChargingProfile, in seconds")
    kind = ProfileRequest.GET_ACTIVE_CHARGING_PROFILE
    return await _send(node, kind, country_code, party_id, session_id, duration=int(raw))


@router.delete(_SESSION)
async def clear_profile(node: AdminNode, country_code: str, party_id: str, session_id: str) -> OcpiResponse:
    """Clear the profile set on the session."""
    _check_sender(node)
    return await _send(node, ProfileRequest.CLEAR_CHARGING_PROFILE, country_code, party_id, session_id)


@router.get(f"{_SESSION}/active")
async def last_active_profile(node: AdminNode, country_code: str, party_id: str, session_id: str) -> OcpiResponse:
    """The last ActiveChargingProfile the CPO sent for the session (mod_charging_profiles_msp_put_method)."""
    _check_sender(node)
    stored = await node.store.get_state(ACTIVE_PROFILES, active_profile_key(country_code, party_id, session_id))
    if stored is None:
        raise NotFoundError(f"no ActiveChargingProfile from {country_code}-{party_id} for session {session_id[:36]!r}")
    return OcpiResponse(data_json=stored.encode())


def _check_sender(node: Node) -> None:
    if not any(p.role in SENDER_ROLES for p in node.parties):
        raise NotFoundError("this node hosts no eMSP or SCSP party: charging profiles are sent by those")


async def _send(
    node: Node,
    kind: ProfileRequest,
    country_code: str,
    party_id: str,
    session_id: str,
    *,
    profile: dict[str, Any] | None = None,
    duration: int | None = None,
) -> OcpiResponse:
    to = (country_code, party_id)
    record = await send_profile_request(node, kind, to, session_id, profile=profile, duration=duration)
    return OcpiResponse(command_view(record), http_status=201)
