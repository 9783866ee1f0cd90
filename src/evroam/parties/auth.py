"""Who is calling: the credentials token in `Authorization` resolved to a peer (401 otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from evroam.errors import UnauthorizedError
from evroam.store.interface import Peer, PeerStatus, Store, TokenKind
from evroam.transport.auth import hash_token, token_candidates, tokens_equal

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["Caller", "authenticate", "node_of", "peer_caller", "registration_caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated peer, the kind of token it presented, and that token (needed for GET credentials)."""

    peer: Peer
    kind: TokenKind
    token: str

    @property
    def registered(self) -> bool:
        return self.peer.status == PeerStatus.REGISTERED and self.kind == TokenKind.ACTIVE


async def authenticate(store: Store, header: str | None, *, registration_allowed: bool) -> Caller:
    """Resolve the header to a caller.

    OCPI 2.2.1 transport_and_format_authorization_header: a missing or unknown token is 401, and
    CREDENTIALS_TOKEN_A is accepted only on versions, version details and credentials
    (`registration_allowed`). The token is never logged.
    """
    candidates = token_candidates(header)
    if not candidates:
        raise UnauthorizedError("missing credentials token: send 'Authorization: Token <base64 token>'")
    for candidate in candidates:
        digest = hash_token(candidate)
        record = await store.find_token(digest)
        if record is None or not tokens_equal(record.token_hash, digest):
            continue
        peer = await store.get_peer(record.peer_id)
        if peer is None or peer.status == PeerStatus.UNREGISTERED:
            continue
        if record.kind == TokenKind.REGISTRATION and not registration_allowed:
            raise UnauthorizedError(
                "this token is only valid for versions and credentials until registration completes"
            )
        return Caller(peer, record.kind, candidate)
    raise UnauthorizedError("unknown credentials token")


def node_of(request: Request) -> Node:
    """The node serving this request."""
    node: Node = request.app.state.node
    return node


async def registration_caller(request: Request) -> Caller:
    """Dependency for versions and credentials: token A (or B during our own handshake) is accepted."""
    return await authenticate(node_of(request).store, request.headers.get("authorization"), registration_allowed=True)


async def peer_caller(request: Request) -> Caller:
    """Dependency for functional modules: only the token of a registered peer is accepted."""
    return await authenticate(node_of(request).store, request.headers.get("authorization"), registration_allowed=False)
