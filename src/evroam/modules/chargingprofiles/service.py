"""The CPO's rules for a charging-profile request it receives (mod_charging_profiles Receiver): answered
at once with a ChargingProfileResponse, carried out on the Charge Point afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evroam.chargepoints.requests import RequestKind, accept_request
from evroam.errors import InvalidParametersError
from evroam.modules.chargingprofiles.models import (
    ChargingProfileResponse,
    ChargingProfileResponseType,
    SetChargingProfile,
)
from evroam.modules.locations.models import Capability, Location
from evroam.modules.objects import parse_model, same_id
from evroam.modules.sessions.models import Session, SessionStatus
from evroam.modules.sessions.service import SESSIONS
from evroam.store.interface import ObjectKey

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["ProfileRequest", "receive_profile_request"]

_PROFILE_KINDS = frozenset((RequestKind.SET_PROFILE, RequestKind.GET_PROFILE, RequestKind.CLEAR_PROFILE))
_MAX_URL = 255


@dataclass(frozen=True, slots=True)
class ProfileRequest:
    """A profile request as received: PUT (SET_PROFILE, `body`), GET (GET_PROFILE, `duration`) or DELETE
    (CLEAR_PROFILE), on one of our CPO party's sessions."""

    peer_id: str
    sender: tuple[str, str]
    cpo: tuple[str, str]
    kind: RequestKind
    session_id: str
    body: dict[str, Any] | None = None
    duration: str | None = None
    response_url: str | None = None


async def receive_profile_request(node: Node, request: ProfileRequest) -> ChargingProfileResponse:
    """Check the request and accept it (it is then carried out), or say why not. Raises
    InvalidParametersError (2001) for a body or parameters that break the spec."""
    timeout = node.settings.command_timeout
    stored: dict[str, Any] = {"session_id": request.session_id}
    if request.kind == RequestKind.SET_PROFILE:
        parsed = parse_model(SetChargingProfile, request.body or {})
        stored["body"] = parsed.to_dict()
        response_url = parsed.response_url
    else:
        response_url = _response_url(request.response_url)
        if request.kind == RequestKind.GET_PROFILE:
            stored["duration"] = _duration(request.duration)
    refusal = await _refusal(node, request)
    if refusal is not None:
        return ChargingProfileResponse(result=refusal, timeout=timeout)
    await accept_request(
        node,
        peer_id=request.peer_id,
        kind=request.kind,
        sender=request.sender,
        cpo=request.cpo,
        request=stored,
        response_url=response_url,
    )
    return ChargingProfileResponse(result=ChargingProfileResponseType.ACCEPTED, timeout=timeout)


async def _refusal(node: Node, request: ProfileRequest) -> ChargingProfileResponseType | None:
    if node.charge_points is None:
        return ChargingProfileResponseType.NOT_SUPPORTED
    stored = await node.store.get_object(SESSIONS.module, SESSIONS.key(*request.cpo, request.session_id))
    if stored is None:
        return ChargingProfileResponseType.UNKNOWN_SESSION
    session = Session.model_validate_json(stored.data)
    # mod_charging_profiles: "ChargingProfile can be created by the owner of a Token on Sessions that
    # belong to that token. If another party sends a ChargingProfile ... the CPO is allowed to reject".
    if (session.cdr_token.country_code.upper(), session.cdr_token.party_id.upper()) != request.sender:
        return ChargingProfileResponseType.REJECTED
    if session.status not in (SessionStatus.ACTIVE, SessionStatus.PENDING):
        return ChargingProfileResponseType.REJECTED
    if not await _profile_capable(node, session):
        return ChargingProfileResponseType.NOT_SUPPORTED
    # mod_charging_profiles_flow: the CPO "can limit the amount of request ... responding with TOO_OFTEN".
    # One request per session at a time: another waits for the Charge Point's answer to the first.
    for pending in await node.store.unsettled_requests():
        if (
            pending.kind in _PROFILE_KINDS
            and (pending.cpo_country_code, pending.cpo_party_id) == request.cpo
            and same_id(json.loads(pending.request)["session_id"], request.session_id)
        ):
            return ChargingProfileResponseType.TOO_OFTEN
    return None


async def _profile_capable(node: Node, session: Session) -> bool:
    """False only when the session's EVSE lists its capabilities without CHARGING_PROFILE_CAPABLE."""
    stored = await node.store.get_object(
        "locations", ObjectKey(session.country_code, session.party_id, session.location_id)
    )
    if stored is None:
        return True
    location = Location.model_validate_json(stored.data)
    evse = next((e for e in location.evses or () if same_id(e.uid, session.evse_uid)), None)
    return evse is None or evse.capabilities is None or Capability.CHARGING_PROFILE_CAPABLE in evse.capabilities


def _response_url(value: str | None) -> str:
    # mod_charging_profiles_msp_get_request_parameters / _delete_: response_url is required, a URL(255).
    if not value:
        raise InvalidParametersError("query parameter response_url is required")
    if len(value) > _MAX_URL or not value.isprintable():
        raise InvalidParametersError("query parameter response_url is not a URL of at most 255 characters")
    return value


def _duration(value: str | None) -> int:
    # mod_charging_profiles_msp_get_request_parameters: duration, int, required, in seconds.
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise InvalidParametersError("query parameter duration (seconds, an integer) is required")
    return int(value)
