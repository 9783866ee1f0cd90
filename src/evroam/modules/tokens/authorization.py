"""Real-time authorization, the eMSP's side (mod_tokens_real-time_authorization): is this token allowed?

The decision is a policy (`AuthorizationPolicy`); a node uses `DefaultPolicy` unless given another.
The handler (tokens Sender, `POST {tokens}/{uid}/authorize[?type=]`) finds the token among the node's
own, asks the policy and answers AuthorizationInfo with a fresh `authorization_reference`, which the
CPO copies into the Session and CDR.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from evroam.errors import NotEnoughInformationError
from evroam.modules.tokens.models import AllowedType, LocationReferences, Token
from evroam.types import DisplayText

__all__ = ["AuthorizationPolicy", "AuthorizationRequest", "Decision", "DefaultPolicy"]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One authorization asked for: our token, where (if the CPO said), and which CPO party asks."""

    token: Token
    location: LocationReferences | None
    requester: tuple[str, str] | None  # country_code, party_id of the asking party (OCPI-from), if known


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: AllowedType, the Location with the EVSEs allowed there, and a text for the driver."""

    allowed: AllowedType
    location: LocationReferences | None = None
    info: DisplayText | None = None


class AuthorizationPolicy(Protocol):
    """Decides real-time authorizations; raise `NotEnoughInformationError` (2002) when the request lacks
    what the decision needs (a Location, for a token that may charge only at some)."""

    async def decide(self, request: AuthorizationRequest) -> Decision: ...


@dataclass(frozen=True)
class DefaultPolicy:
    """A token that is not valid is BLOCKED; a valid one is ALLOWED, anywhere, unless restricted.

    `locations` restricts tokens to Locations (ids, case-insensitive), keyed by the token's `group_id`
    or `contract_id` (a fleet card for the company's own chargers): such a token needs LocationReferences
    (2002 without) and is NOT_ALLOWED elsewhere. The EVSEs asked for are all allowed where the Location
    is: the spec forbids judging EVSE status or opening hours (mod_tokens_real-time_authorization).
    """

    locations: Mapping[str, Collection[str]] = field(default_factory=dict)

    async def decide(self, request: AuthorizationRequest) -> Decision:
        token = request.token
        if not token.valid:
            return Decision(AllowedType.BLOCKED, info=_text("This card is blocked."))
        allowed_at = self._restriction(token)
        if allowed_at is None:
            return Decision(AllowedType.ALLOWED, request.location)
        if request.location is None:
            raise NotEnoughInformationError(
                "this token may charge at some locations only: send LocationReferences to authorize it"
            )
        if request.location.location_id.upper() not in allowed_at:
            return Decision(AllowedType.NOT_ALLOWED, info=_text("This card cannot be used at this location."))
        return Decision(AllowedType.ALLOWED, request.location)

    def _restriction(self, token: Token) -> frozenset[str] | None:
        for key in (token.group_id, token.contract_id):
            if key is None:
                continue
            for restricted, location_ids in self.locations.items():
                if restricted.upper() == key.upper():
                    return frozenset(location_id.upper() for location_id in location_ids)
        return None


def _text(text: str) -> DisplayText:
    return DisplayText(language="en", text=text)
