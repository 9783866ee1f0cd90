"""Charging-profile requests sent as eMSP or SCSP (mod_charging_profiles): set, get active, clear.

They work like commands (`evroam.modules.commands.issue`) and are kept in the same table: each request gets
a `response_url` of its own on this node (`.../sender/chargingprofiles/{KIND}/{id}`) and is stored before it
is sent, so a result never arrives for a request we do not know and a restart loses nothing. `state_of`
and `command_view` of the commands module read these records too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from evroam.errors import InvalidParametersError
from evroam.modules.chargingprofiles.models import (
    ActiveChargingProfileResult,
    ChargingProfileResponse,
    ChargingProfileResult,
    ClearProfileResult,
    SetChargingProfile,
)
from evroam.modules.commands.issue import issue_request, receiver_of
from evroam.modules.objects import parse_model
from evroam.store.interface import CommandRecord
from evroam.transport.headers import RoutingHeaders, new_id
from evroam.types import InterfaceRole, ModuleID, OcpiModel, Role, utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = [
    "RESULT_MODELS",
    "SENDER_ROLES",
    "ProfileCall",
    "ProfileRequest",
    "check_session_id",
    "profile_call",
    "send_profile_request",
]

# The parties that send profiles: mod_charging_profiles "If a SCSP uses this module, read eMSP as SCSP".
SENDER_ROLES = (Role.EMSP, Role.SCSP)


class ProfileRequest(StrEnum):
    """What we ask the CPO's ChargingProfiles Receiver (stored as the record's `command`)."""

    SET_CHARGING_PROFILE = "SET_CHARGING_PROFILE"  # PUT
    GET_ACTIVE_CHARGING_PROFILE = "GET_ACTIVE_CHARGING_PROFILE"  # GET
    CLEAR_CHARGING_PROFILE = "CLEAR_CHARGING_PROFILE"  # DELETE


# OCPI 2.2.1 mod_charging_profiles_cpo_post_request_body: the result posted back is one of three objects,
# the one answering the original request.
RESULT_MODELS: dict[ProfileRequest, type[OcpiModel]] = {
    ProfileRequest.SET_CHARGING_PROFILE: ChargingProfileResult,
    ProfileRequest.GET_ACTIVE_CHARGING_PROFILE: ActiveChargingProfileResult,
    ProfileRequest.CLEAR_CHARGING_PROFILE: ClearProfileResult,
}


@dataclass(frozen=True, slots=True)
class ProfileCall:
    """The HTTP call of a request on `{chargingprofiles_endpoint_url}{session_id}`."""

    method: str
    fields: dict[str, Any]  # the body, or the query parameters as JSON values: what the record keeps
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None


def profile_call(
    kind: ProfileRequest, response_url: str, *, profile: dict[str, Any] | None, duration: int | None
) -> ProfileCall:
    """The call for `kind` (2001 when `profile` or `duration` is missing where needed, or given where not)."""
    if kind != ProfileRequest.SET_CHARGING_PROFILE and profile is not None:
        raise InvalidParametersError(f"/charging_profile: {kind.value} takes no charging profile")
    if kind != ProfileRequest.GET_ACTIVE_CHARGING_PROFILE and duration is not None:
        raise InvalidParametersError(f"duration: only {ProfileRequest.GET_ACTIVE_CHARGING_PROFILE.value} takes one")
    if kind == ProfileRequest.SET_CHARGING_PROFILE:
        if profile is None:
            raise InvalidParametersError("/charging_profile: a ChargingProfile is required to set one")
        # OCPI 2.2.1 mod_charging_profiles_msp_put_request_body: SetChargingProfile{charging_profile, response_url}.
        body = parse_model(SetChargingProfile, {"charging_profile": profile, "response_url": response_url}).to_dict()
        return ProfileCall("PUT", body, body=body)
    if kind == ProfileRequest.GET_ACTIVE_CHARGING_PROFILE:
        # OCPI 2.2.1 mod_charging_profiles_msp_get_request_parameters: duration (int, seconds) and
        # response_url, both required, in the query (a GET has no body).
        if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
            raise InvalidParametersError("duration: the length of the ActiveChargingProfile, in seconds (> 0)")
        fields = {"duration": duration, "response_url": response_url}
        return ProfileCall("GET", fields, params={"duration": str(duration), "response_url": response_url})
    # OCPI 2.2.1 mod_charging_profiles_msp_delete_request_parameters: only response_url, in the query.
    return ProfileCall("DELETE", {"response_url": response_url}, params={"response_url": response_url})


def check_session_id(session_id: str) -> None:
    """OCPI 2.2.1 mod_charging_profiles: session_id is a CiString(36), printable ASCII (2001 otherwise)."""
    if not 0 < len(session_id) <= 36 or not (session_id.isascii() and session_id.isprintable()):
        raise InvalidParametersError(f"session_id {session_id[:40]!r}: at most 36 printable ASCII characters")


async def send_profile_request(
    node: Node,
    kind: ProfileRequest,
    to: tuple[str, str],
    session_id: str,
    *,
    profile: dict[str, Any] | None = None,
    duration: int | None = None,
    version: str = "2.2.1",
) -> CommandRecord:
    """Send `kind` for the session `session_id` of the CPO party `to`; returns the request as stored, with
    the CPO's ChargingProfileResponse (or the `error` that kept it from answering)."""
    check_session_id(session_id)
    peer, url = await receiver_of(node, to, ModuleID.CHARGINGPROFILES, "ChargingProfiles")
    request_id = new_id()
    sender_url = node.endpoint_url(version, ModuleID.CHARGINGPROFILES, InterfaceRole.SENDER)
    # OCPI 2.2.1 mod_charging_profiles_flow: a unique id in the response_url ties the result to the request.
    call = profile_call(kind, f"{sender_url}/{kind.value}/{request_id}", profile=profile, duration=duration)
    record = CommandRecord(
        id=request_id,
        peer_id=peer.id,
        command=kind.value,
        country_code=to[0].upper(),
        party_id=to[1].upper(),
        request=json.dumps({"session_id": session_id, **call.fields}, default=str),
        created_at=utcnow(),
    )
    ours = next((p for p in node.parties if p.role in SENDER_ROLES), None)
    routing = RoutingHeaders(ours.country_code if ours else None, ours.party_id if ours else None, *to)
    target = f"{url.rstrip('/')}/{quote(session_id, safe='')}"
    return await issue_request(
        node,
        peer,
        record,
        call.method,
        target,
        body=call.body,
        params=call.params,
        routing=routing,
        validate=ChargingProfileResponse.model_validate,
    )
