"""Who is calling: the credentials token in `Authorization` resolved to a peer (401 otherwise)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from evroam.errors import UnauthorizedError
from evroam.store.changes import PEERS_CHANGED
from evroam.store.interface import CredentialsTokenRecord, Peer, PeerStatus, Store, TokenKind
from evroam.transport.auth import hash_token, token_candidates, tokens_equal

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["Authenticator", "Caller", "node_of", "peer_caller", "registration_caller"]

_MAX_CACHED = 10_000
_PEERS = (PEERS_CHANGED,)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated peer, the kind of token it presented, and that token (needed for GET credentials)."""

    peer: Peer
    kind: TokenKind
    token: str

    @property
    def registered(self) -> bool:
        return self.peer.status == PeerStatus.REGISTERED and self.kind == TokenKind.ACTIVE


class Authenticator:
    """Resolves `Authorization` headers to callers, remembering recent answers for a moment.

    Every request needs its caller, so a short-lived cache saves two lookups per request. An answer is
    used only while the store's `peers` change counter is what it was (`evroam.store.changes`): peer and
    token changes of this process end it at once, those of another process (a command run against the
    same database) as soon as the store's watcher reports them, and within `ttl` seconds in any case.
    Unknown tokens are never cached.
    """

    def __init__(self, store: Store, ttl: float = 2.0) -> None:
        self.store = store
        self.ttl = ttl
        self._known: dict[str, tuple[float, tuple[int, ...], CredentialsTokenRecord, Peer]] = {}
        # Header → its first token candidate and that token's digest, for `recent_module_caller`.
        self._first_candidates: dict[str, tuple[str, str]] = {}
        self.listeners: list[Callable[[str], None]] = []
        """Told the id of every peer that calls us with its ACTIVE token: it is reachable and active."""

    def _called(self, peer: Peer) -> None:
        for listener in self.listeners:
            listener(peer.id)

    def forget(self) -> None:
        self._known.clear()
        self._first_candidates.clear()

    async def caller(self, header: str | None, *, registration_allowed: bool) -> Caller:
        """Resolve the header to a caller.

        OCPI 2.2.1 transport_and_format_authorization_header: a missing or unknown token is 401, and
        CREDENTIALS_TOKEN_A is accepted only on versions, version details and credentials
        (`registration_allowed`). The token is never logged.
        """
        candidates = token_candidates(header)
        if not candidates:
            raise UnauthorizedError("missing credentials token: send 'Authorization: Token <base64 token>'")
        for candidate in candidates:
            found = await self._lookup(hash_token(candidate))
            if found is None:
                continue
            record, peer = found
            if record.kind == TokenKind.REGISTRATION and not registration_allowed:
                raise UnauthorizedError(
                    "this token is only valid for versions and credentials until registration completes"
                )
            if record.kind == TokenKind.ACTIVE:
                self._called(peer)
            return Caller(peer, record.kind, candidate)
        raise UnauthorizedError("unknown credentials token")

    def recent_module_caller(self, header: str | None) -> Caller | None:
        """The caller `caller(header, registration_allowed=False)` would return, if that is known without
        asking the store (resolved lately, and no peer changed since); None when it is not (then ask `caller`)."""
        if header is None:
            return None
        first = self._first_candidates.get(header)
        if first is None:
            candidates = token_candidates(header)
            if not candidates:
                return None
            first = (candidates[0], hash_token(candidates[0]))
        cached = self._current(first[1])
        if cached is None or cached[0].kind == TokenKind.REGISTRATION:
            return None
        if len(self._first_candidates) > _MAX_CACHED:
            self._first_candidates.clear()
        self._first_candidates[header] = first  # only headers of known tokens are kept
        self._called(cached[1])
        return Caller(cached[1], cached[0].kind, first[0])

    def _current(self, digest: str) -> tuple[CredentialsTokenRecord, Peer] | None:
        cached = self._known.get(digest)
        if cached is None or cached[0] <= time.monotonic() or cached[1] != self.store.changes.stamp(_PEERS):
            return None
        return cached[2], cached[3]

    async def _lookup(self, digest: str) -> tuple[CredentialsTokenRecord, Peer] | None:
        cached = self._current(digest)
        if cached is not None:
            return cached
        # Taken before reading: a change landing meanwhile makes this answer stale at once.
        stamp = self.store.changes.stamp(_PEERS)
        now = time.monotonic()
        record = await self.store.find_token(digest)
        if record is None or not tokens_equal(record.token_hash, digest):
            self._known.pop(digest, None)
            return None
        peer = await self.store.get_peer(record.peer_id)
        if peer is None or peer.status == PeerStatus.UNREGISTERED:
            self._known.pop(digest, None)
            return None
        if len(self._known) > _MAX_CACHED:
            self._known.clear()
        self._known[digest] = (now + self.ttl, stamp, record, peer)
        return record, peer


def node_of(request: Request) -> Node:
    """The node serving this request."""
    node: Node = request.app.state.node
    return node


async def registration_caller(request: Request) -> Caller:
    """Dependency for versions and credentials: token A (or B during our own handshake) is accepted."""
    return await node_of(request).auth.caller(request.headers.get("authorization"), registration_allowed=True)


async def peer_caller(request: Request) -> Caller:
    """Dependency for functional modules: only the token of a registered peer is accepted."""
    return await node_of(request).auth.caller(request.headers.get("authorization"), registration_allowed=False)
