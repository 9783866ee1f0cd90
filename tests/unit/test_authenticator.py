"""The Authenticator: headers to callers, with a short cache that local changes clear at once."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from evroam.errors import UnauthorizedError
from evroam.parties.auth import Authenticator
from evroam.store import SqlStore, open_store
from evroam.store.interface import CredentialsTokenRecord, Peer, PeerStatus, TokenKind
from evroam.transport.auth import hash_token
from evroam.types import utcnow


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}")
    yield opened
    await opened.close()


def header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


async def add_peer(store: SqlStore, token: str, kind: TokenKind = TokenKind.ACTIVE) -> Peer:
    now = utcnow()
    peer = Peer(id="p1", name="peer", status=PeerStatus.REGISTERED, created_at=now, updated_at=now)
    await store.save_peer(peer, add_tokens=(CredentialsTokenRecord(hash_token(token), "p1", kind, now),))
    return peer


async def test_a_known_token_resolves_to_its_peer(store: SqlStore) -> None:
    await add_peer(store, "secret-1")
    caller = await Authenticator(store).caller(header("secret-1"), registration_allowed=False)
    assert caller.peer.id == "p1"
    assert caller.token == "secret-1"


async def test_a_revocation_elsewhere_takes_effect_within_the_ttl(store: SqlStore, tmp_path: Path) -> None:
    peer = await add_peer(store, "secret-1")
    auth = Authenticator(store, ttl=0.05)
    await auth.caller(header("secret-1"), registration_allowed=False)
    other = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}")  # another process, say
    await other.save_peer(peer, revoke_all_tokens=True)
    await other.close()
    # Still cached for a moment...
    await auth.caller(header("secret-1"), registration_allowed=False)
    await asyncio.sleep(0.06)
    with pytest.raises(UnauthorizedError):
        await auth.caller(header("secret-1"), registration_allowed=False)


async def test_a_revocation_elsewhere_takes_effect_once_the_watcher_reports_it(store: SqlStore, tmp_path: Path) -> None:
    peer = await add_peer(store, "secret-1")
    auth = Authenticator(store, ttl=3600)
    watcher = asyncio.get_running_loop().create_task(store.watch_changes())
    try:
        for _ in range(250):
            if store.changes.live:
                break
            await asyncio.sleep(0.02)
        await auth.caller(header("secret-1"), registration_allowed=False)
        assert auth.recent_module_caller(header("secret-1")) is not None
        other = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}")  # another process, say
        await other.save_peer(peer, revoke_all_tokens=True)
        await other.close()
        for _ in range(250):
            if auth.recent_module_caller(header("secret-1")) is None:
                break
            await asyncio.sleep(0.02)
        with pytest.raises(UnauthorizedError):
            await auth.caller(header("secret-1"), registration_allowed=False)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


async def test_a_change_of_this_process_ends_cached_answers_at_once(store: SqlStore) -> None:
    peer = await add_peer(store, "secret-1")
    auth = Authenticator(store, ttl=3600)
    await auth.caller(header("secret-1"), registration_allowed=False)
    await store.save_peer(peer, revoke_all_tokens=True)  # straight to the store, not through a Node
    with pytest.raises(UnauthorizedError):
        await auth.caller(header("secret-1"), registration_allowed=False)


async def test_forget_drops_cached_callers_at_once(store: SqlStore) -> None:
    peer = await add_peer(store, "secret-1")
    auth = Authenticator(store, ttl=60)
    await auth.caller(header("secret-1"), registration_allowed=False)
    await store.save_peer(peer, revoke_all_tokens=True)
    auth.forget()
    with pytest.raises(UnauthorizedError, match="unknown"):
        await auth.caller(header("secret-1"), registration_allowed=False)


async def test_unknown_tokens_are_not_cached(store: SqlStore) -> None:
    auth = Authenticator(store, ttl=60)
    with pytest.raises(UnauthorizedError):
        await auth.caller(header("secret-2"), registration_allowed=False)
    await add_peer(store, "secret-2")
    assert (await auth.caller(header("secret-2"), registration_allowed=False)).peer.id == "p1"


async def test_a_registration_token_is_refused_outside_versions_and_credentials(store: SqlStore) -> None:
    await add_peer(store, "token-a", TokenKind.REGISTRATION)
    auth = Authenticator(store)
    assert (await auth.caller(header("token-a"), registration_allowed=True)).kind == TokenKind.REGISTRATION
    with pytest.raises(UnauthorizedError, match="only valid for versions and credentials"):
        await auth.caller(header("token-a"), registration_allowed=False)
