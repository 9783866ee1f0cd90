"""Real-time authorization, the CPO's side: may this token charge here now? The service a charge point asks.

The token's `whitelist` says who decides (mod_tokens_whitelisttype_enum):

- ALWAYS: the cached token decides (valid: ALLOWED, else BLOCKED); no real-time request is made.
- ALLOWED: whitelisting is allowed and real-time too; we decide from the cache, which is immediate.
- ALLOWED_OFFLINE: the eMSP decides in real time; when it cannot be reached in time, a valid token is
  allowed ("the CPO shall allow this Token to be used").
- NEVER: only the eMSP decides; when it cannot be reached, charging is refused.

A token not in the cache (not pushed or pulled yet) is asked of every eMSP we are registered with that
offers the Tokens Sender, at once; the first that knows it answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote

from evroam.client.errors import PeerConnectionError, PeerProtocolError, PeerRequestError, PeerResponseError
from evroam.errors import StatusCode
from evroam.modules.tokens.models import (
    AllowedType,
    AuthorizationInfo,
    LocationReferences,
    Token,
    TokenType,
    WhitelistType,
)
from evroam.modules.tokens.service import TOKENS
from evroam.store.interface import ListQuery, Peer, PeerStatus
from evroam.transport.headers import RoutingHeaders
from evroam.types import DisplayText, InterfaceRole, Role

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["Authorization", "Source", "authorize"]

log = logging.getLogger("evroam.authorize")

DEFAULT_TIMEOUT = 5.0
"""Seconds to wait for an eMSP: a driver is waiting at the charge point (mod_tokens: keep delays minimal)."""


class Source(StrEnum):
    """Who decided."""

    CACHE = "CACHE"  # the token as pushed or pulled, by its whitelist
    REAL_TIME = "REAL_TIME"  # the eMSP answered
    OFFLINE = "OFFLINE"  # the eMSP could not be reached; ALLOWED_OFFLINE let a valid token charge
    UNREACHABLE = "UNREACHABLE"  # the eMSP could not be reached and the token may not charge without it
    UNKNOWN = "UNKNOWN"  # nobody knows the token


@dataclass(frozen=True, slots=True)
class Authorization:
    """The answer for the charge point: `accepted` says whether to start; the rest says why."""

    accepted: bool
    source: Source
    allowed: AllowedType | None = None
    token: Token | None = None
    authorization_reference: str | None = None
    location: LocationReferences | None = None
    info: DisplayText | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, absent fields left out."""
        data: dict[str, object] = {"accepted": self.accepted, "source": self.source.value}
        if self.allowed is not None:
            data["allowed"] = self.allowed.value
        if self.authorization_reference is not None:
            data["authorization_reference"] = self.authorization_reference
        for name, model in (("token", self.token), ("location", self.location), ("info", self.info)):
            if model is not None:
                data[name] = model.to_dict()
        if self.reason:
            data["reason"] = self.reason
        return data


async def authorize(
    node: Node,
    uid: str,
    token_type: TokenType = TokenType.RFID,
    location: LocationReferences | None = None,
    *,
    answer_within: float = DEFAULT_TIMEOUT,
) -> Authorization:
    """Decide whether the token `uid` may charge (at `location`), asking its eMSP when the whitelist says so."""
    _, rows = await node.store.list_objects(
        TOKENS.module, ListQuery(limit=100, object_id=uid, object_type=token_type.value)
    )
    peers = [p for p in await node.store.list_peers() if p.status == PeerStatus.REGISTERED]
    cached = [Token.model_validate_json(row.data) for row in rows]
    if not cached:
        return await _ask_everyone(node, peers, uid, token_type, location, answer_within)
    # The same uid under two eMSPs is rare; a valid one is the one meant.
    token = next((t for t in cached if t.valid), cached[0])
    if token.whitelist in (WhitelistType.ALWAYS, WhitelistType.ALLOWED):
        return _from_cache(token, location)
    owner = next((p for p in peers if _owns(p, token) and _authorize_url(p, uid) is not None), None)
    if owner is None:
        answer: Authorization | str | None = (
            f"no registered platform of {token.country_code}-{token.party_id} offers real-time authorization"
        )
    else:
        answer = await _ask(node, owner, uid, token_type, location, answer_within)
    if answer is None:
        return Authorization(False, Source.UNKNOWN, token=token, reason="its eMSP does not know this token (2004)")
    if isinstance(answer, Authorization):
        return answer
    problem = answer
    if token.whitelist == WhitelistType.ALLOWED_OFFLINE and token.valid:
        return Authorization(True, Source.OFFLINE, AllowedType.ALLOWED, token, location=location, reason=problem)
    return Authorization(False, Source.UNREACHABLE, token=token, reason=problem)


def _from_cache(token: Token, location: LocationReferences | None) -> Authorization:
    if token.valid:
        return Authorization(True, Source.CACHE, AllowedType.ALLOWED, token, location=location)
    return Authorization(False, Source.CACHE, AllowedType.BLOCKED, token, reason="the token is not valid")


async def _ask_everyone(
    node: Node,
    peers: Sequence[Peer],
    uid: str,
    token_type: TokenType,
    location: LocationReferences | None,
    answer_within: float,
) -> Authorization:
    emsps = [p for p in peers if any(r.role == Role.EMSP for r in p.roles) and _authorize_url(p, uid) is not None]
    if not emsps:
        return Authorization(False, Source.UNKNOWN, reason="unknown token, and no eMSP to ask")
    answers = await asyncio.gather(*(_ask(node, p, uid, token_type, location, answer_within) for p in emsps))
    known = [a for a in answers if isinstance(a, Authorization) and a.source == Source.REAL_TIME]
    if known:
        return next((a for a in known if a.accepted), known[0])
    problems = [a for a in answers if isinstance(a, str)]
    if problems and len(problems) == len(answers):
        return Authorization(False, Source.UNREACHABLE, reason="; ".join(problems))
    return Authorization(False, Source.UNKNOWN, reason="no eMSP knows this token")


async def _ask(
    node: Node,
    peer: Peer,
    uid: str,
    token_type: TokenType,
    location: LocationReferences | None,
    answer_within: float,
) -> Authorization | str | None:
    """The eMSP's answer; None when it does not know the token (2004); a string saying why nobody answered."""
    url = _authorize_url(peer, uid)
    if url is None or peer.token_out is None:
        return f"{peer.name} offers no real-time authorization"
    ours = next((p for p in node.parties if p.role == Role.CPO), None)
    owner = peer.roles[0] if len(peer.roles) == 1 else None
    routing = RoutingHeaders(
        ours.country_code if ours else None,
        ours.party_id if ours else None,
        owner.country_code if owner else None,
        owner.party_id if owner else None,
    )
    body = location.to_dict() if location is not None else None
    try:
        reply = await asyncio.wait_for(
            node.client.request(
                "POST",
                url,
                token=peer.token_out,
                version=peer.version,
                body=body,
                params={"type": token_type.value},
                routing=routing,
            ),
            answer_within,
        )
        info = AuthorizationInfo.model_validate(reply.data)
    except TimeoutError:
        return f"{peer.name} did not answer within {answer_within:g} s"
    except PeerResponseError as exc:
        if exc.error.ocpi_status == StatusCode.UNKNOWN_TOKEN:
            return None
        if exc.error.http_status >= 500:
            return f"{peer.name} failed: {exc.message}"
        return Authorization(False, Source.REAL_TIME, reason=f"{peer.name} refused the request: {exc.message}")
    except (PeerConnectionError, PeerProtocolError) as exc:
        return f"{peer.name} could not be reached: {exc.message}"
    except PeerRequestError as exc:
        return f"{peer.name} could not be asked: {exc.message}"
    except ValueError as exc:  # pydantic's ValidationError: not an AuthorizationInfo
        log.warning("authorization answer of %s is not an AuthorizationInfo: %s", peer.name, exc)
        return f"{peer.name} answered something that is not an AuthorizationInfo"
    return Authorization(
        info.allowed == AllowedType.ALLOWED,
        Source.REAL_TIME,
        info.allowed,
        info.token,
        info.authorization_reference,
        info.location,
        info.info,
        "" if info.allowed == AllowedType.ALLOWED else f"the eMSP answered {info.allowed.value}",
    )


def _owns(peer: Peer, token: Token) -> bool:
    return any(
        r.country_code.upper() == token.country_code.upper() and r.party_id.upper() == token.party_id.upper()
        for r in peer.roles
    )


def _authorize_url(peer: Peer, uid: str) -> str | None:
    url = peer.endpoint_url(TOKENS.module, InterfaceRole.SENDER.value)
    return None if url is None else f"{url.rstrip('/')}/{quote(uid, safe='')}/authorize"
