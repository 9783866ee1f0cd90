"""The `Store` contract, run against every SQL backend (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

from evroam.store import (
    CredentialsTokenRecord,
    NodeIdentity,
    PartyRecord,
    Peer,
    PeerEndpoint,
    PeerStatus,
    SqlStore,
    TokenKind,
    open_store,
)
from evroam.store.migrations import alembic_config, run_locked
from evroam.store.sql import async_url
from evroam.types import Role

T0 = datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


class Backend(Protocol):
    """The `backend` fixture: a fresh database of the backend under test."""

    name: str

    async def open(self) -> SqlStore: ...


def make_peer(peer_id: str = "peer-1", **changes: Any) -> Peer:
    peer = Peer(
        id=peer_id,
        name=f"Platform {peer_id}",
        status=PeerStatus.REGISTERED,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=5),
        versions_url=f"https://{peer_id}.example.com/ocpi/versions",
        version="2.2.1",
        endpoints=(
            PeerEndpoint("credentials", "RECEIVER", f"https://{peer_id}.example.com/ocpi/2.2.1/credentials"),
            PeerEndpoint("locations", None, f"https://{peer_id}.example.com/ocpi/2.2.1/locations"),
        ),
        roles=(
            PartyRecord("DE", "ABC", Role.CPO, "ABC Charging", "https://abc.example.com"),
            PartyRecord("NL", "XYZ", Role.EMSP, "XYZ Mobility"),
        ),
        token_out=f"token-out-{peer_id}",
    )
    return dataclasses.replace(peer, **changes)


def h(prefix: str) -> str:
    """A SHA-256-sized hex digest, recognisable by its prefix."""
    return prefix.ljust(64, "0")


def make_token(prefix: str, peer_id: str = "peer-1", kind: TokenKind = TokenKind.ACTIVE) -> CredentialsTokenRecord:
    return CredentialsTokenRecord(h(prefix), peer_id, kind, created_at=T0)


async def alembic_revisions(store: SqlStore) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())


async def save_with_token(store: SqlStore, n: str) -> None:
    await store.save_peer(make_peer(f"peer-{n}"), add_tokens=(make_token(n, f"peer-{n}"),))


async def test_a_new_store_is_empty(store: SqlStore) -> None:
    assert await store.get_node_identity() is None
    assert await store.list_peers() == []
    assert await store.get_peer("peer-1") is None
    assert await store.find_peer_by_party("DE", "ABC") is None
    assert await store.find_token(h("a")) is None


async def test_node_identity_round_trips_and_is_replaced_on_save(store: SqlStore) -> None:
    first = NodeIdentity("https://node.example.com", (PartyRecord("NL", "EVR", Role.CPO, "evroam"),), T0)
    await store.save_node_identity(first)
    assert await store.get_node_identity() == first

    second = NodeIdentity(
        "https://other.example.com",
        (PartyRecord("NL", "EVR", Role.CPO, "evroam", "https://evroam.example"),),
        T0 + timedelta(days=1),
    )
    await store.save_node_identity(second)
    assert await store.get_node_identity() == second


async def test_save_peer_inserts_and_get_peer_returns_it_unchanged(store: SqlStore) -> None:
    peer = make_peer()
    await store.save_peer(peer)
    assert await store.get_peer(peer.id) == peer


async def test_save_peer_replaces_every_field_of_an_existing_peer(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    replaced = make_peer(
        name="Renamed",
        status=PeerStatus.UNREGISTERED,
        updated_at=T0 + timedelta(hours=1),
        versions_url=None,
        version=None,
        endpoints=(),
        roles=(),
        token_out=None,
    )
    await store.save_peer(replaced)
    assert await store.get_peer("peer-1") == replaced
    assert await store.list_peers() == [replaced]


async def test_list_peers_returns_oldest_first(store: SqlStore) -> None:
    newest = make_peer("c", created_at=T0 + timedelta(days=2))
    oldest = make_peer("b", created_at=T0 - timedelta(days=1))
    middle = make_peer("a", created_at=T0)
    for peer in (newest, oldest, middle):
        await store.save_peer(peer)
    assert await store.list_peers() == [oldest, middle, newest]


async def test_find_peer_by_party_is_case_insensitive(store: SqlStore) -> None:
    peer = make_peer(roles=(PartyRecord("De", "aBc", Role.CPO, "ABC"),))
    await store.save_peer(peer)
    assert await store.find_peer_by_party("DE", "ABC") == peer
    assert await store.find_peer_by_party("de", "abc") == peer


async def test_find_peer_by_party_matches_any_role_of_the_peer(store: SqlStore) -> None:
    await store.save_peer(make_peer("p1"))
    await store.save_peer(make_peer("p2", roles=(PartyRecord("BE", "QQQ", Role.HUB, "Hub"),)))
    found = await store.find_peer_by_party("NL", "XYZ")
    assert found is not None
    assert found.id == "p1"
    other = await store.find_peer_by_party("be", "qqq")
    assert other is not None
    assert other.id == "p2"


@pytest.mark.parametrize("status", [PeerStatus.PENDING, PeerStatus.REGISTERING, PeerStatus.UNREGISTERED])
async def test_find_peer_by_party_ignores_peers_that_are_not_registered(store: SqlStore, status: PeerStatus) -> None:
    await store.save_peer(make_peer(status=status))
    assert await store.find_peer_by_party("DE", "ABC") is None


async def test_find_peer_by_party_needs_country_and_party_of_the_same_role(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    # DE-ABC and NL-XYZ are the peer's roles; the crossed pairs are not.
    assert await store.find_peer_by_party("DE", "XYZ") is None
    assert await store.find_peer_by_party("NL", "ABC") is None


async def test_save_peer_adds_tokens_findable_by_hash(store: SqlStore) -> None:
    token_a = make_token("a", kind=TokenKind.REGISTRATION)
    token_c = make_token("c")
    await store.save_peer(make_peer(), add_tokens=(token_a, token_c))
    found = await store.find_token(token_a.token_hash)
    assert found == token_a
    assert found is not None
    assert found.created_at == T0
    assert await store.find_token(token_c.token_hash) == token_c


async def test_save_peer_revokes_old_token_and_adds_new_one_atomically(store: SqlStore) -> None:
    old = make_token("a", kind=TokenKind.REGISTRATION)
    await store.save_peer(make_peer(status=PeerStatus.PENDING), add_tokens=(old,))
    new = make_token("c")
    await store.save_peer(make_peer(), add_tokens=(new,), revoke_token_hashes=(old.token_hash,))
    assert await store.find_token(old.token_hash) is None
    assert await store.find_token(new.token_hash) == new
    peer = await store.get_peer("peer-1")
    assert peer is not None
    assert peer.status is PeerStatus.REGISTERED


async def test_save_peer_revoke_all_tokens_drops_every_token_before_adding(store: SqlStore) -> None:
    kept = make_token("a")
    # A revoked hash may come back in the same call (here with another kind).
    readded = make_token("c", kind=TokenKind.REGISTRATION)
    await store.save_peer(make_peer(), add_tokens=(make_token("b"), make_token("c")))
    await store.save_peer(make_peer(), add_tokens=(kept, readded), revoke_all_tokens=True)
    assert await store.find_token(h("b")) is None
    assert await store.find_token(kept.token_hash) == kept
    assert await store.find_token(readded.token_hash) == readded


async def test_save_peer_only_revokes_tokens_of_that_peer(store: SqlStore) -> None:
    theirs = make_token("b", peer_id="peer-2")
    await store.save_peer(make_peer("peer-2"), add_tokens=(theirs,))
    await store.save_peer(make_peer(), revoke_token_hashes=(theirs.token_hash,))
    await store.save_peer(make_peer(), revoke_all_tokens=True)
    assert await store.find_token(theirs.token_hash) == theirs


async def test_failed_save_peer_leaves_no_partial_change(store: SqlStore) -> None:
    original = make_peer()
    revoked = make_token("a")
    await store.save_peer(original, add_tokens=(revoked,))
    await store.save_peer(make_peer("peer-2"), add_tokens=(make_token("b", peer_id="peer-2"),))

    # The new token collides with peer-2's, so the whole change must roll back.
    with pytest.raises(IntegrityError):
        await store.save_peer(
            make_peer(name="Changed"),
            add_tokens=(make_token("c"), make_token("b")),
            revoke_token_hashes=(revoked.token_hash,),
        )
    assert await store.get_peer("peer-1") == original
    assert await store.find_token(revoked.token_hash) == revoked
    assert await store.find_token(h("c")) is None


async def test_save_peer_rejects_tokens_of_another_peer_and_writes_nothing(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="another peer"):
        await store.save_peer(make_peer(), add_tokens=(make_token("a", peer_id="peer-2"),))
    assert await store.get_peer("peer-1") is None


async def test_delete_peer_removes_the_peer_and_all_its_tokens(store: SqlStore) -> None:
    await store.save_peer(make_peer(), add_tokens=(make_token("a"), make_token("c")))
    other = make_token("b", peer_id="peer-2")
    await store.save_peer(make_peer("peer-2"), add_tokens=(other,))
    await store.delete_peer("peer-1")
    assert await store.get_peer("peer-1") is None
    assert await store.find_token(h("a")) is None
    assert await store.find_token(h("c")) is None
    assert await store.find_token(other.token_hash) == other
    assert [p.id for p in await store.list_peers()] == ["peer-2"]


async def test_delete_unknown_peer_does_nothing(store: SqlStore) -> None:
    await store.save_peer(make_peer())
    await store.delete_peer("nobody")
    assert [p.id for p in await store.list_peers()] == ["peer-1"]


async def test_datetimes_round_trip_as_aware_utc(store: SqlStore) -> None:
    cest = timezone(timedelta(hours=2))
    local = datetime(2024, 7, 1, 14, 30, 15, 654321, tzinfo=cest)
    await store.save_node_identity(NodeIdentity("https://node.example.com", (), local))
    await store.save_peer(
        make_peer(created_at=local, updated_at=local),
        add_tokens=(dataclasses.replace(make_token("a"), created_at=local),),
    )
    identity = await store.get_node_identity()
    peer = await store.get_peer("peer-1")
    token = await store.find_token(h("a"))
    assert identity is not None
    assert peer is not None
    assert token is not None
    for value in (identity.updated_at, peer.created_at, peer.updated_at, token.created_at):
        assert value == local
        assert value.tzinfo is UTC
        assert value.hour == 12


async def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await store.save_peer(make_peer(created_at=datetime(2024, 1, 1)))
    assert await store.get_peer("peer-1") is None


async def test_reopening_an_existing_database_keeps_its_data(backend: Backend) -> None:
    first = await backend.open()
    await first.save_peer(make_peer(), add_tokens=(make_token("a"),))
    await first.close()
    second = await backend.open()
    try:
        assert await second.get_peer("peer-1") == make_peer()
        assert await second.find_token(h("a")) == make_token("a")
    finally:
        await second.close()


async def test_open_store_twice_is_idempotent_on_migrations(backend: Backend) -> None:
    first = await backend.open()
    second = await backend.open()
    try:
        await first.save_peer(make_peer())
        assert await second.get_peer("peer-1") == make_peer()
        assert await alembic_revisions(first) == await alembic_revisions(second)
        assert len(await alembic_revisions(second)) == 1
    finally:
        await first.close()
        await second.close()


async def test_concurrent_opens_of_a_fresh_database_all_succeed(backend: Backend) -> None:
    stores = await asyncio.gather(*(backend.open() for _ in range(5)))
    try:
        assert len(await alembic_revisions(stores[0])) == 1
        for store in stores:
            assert await store.list_peers() == []
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_concurrent_writes_from_two_stores_are_all_kept(backend: Backend) -> None:
    one, two = await backend.open(), await backend.open()
    try:
        await asyncio.gather(
            *(save_with_token(one, f"1{i}") for i in range(10)),
            *(save_with_token(two, f"2{i}") for i in range(10)),
        )
        assert len(await one.list_peers()) == 20
        assert await two.find_token(h("19")) == make_token("19", "peer-19")
    finally:
        await one.close()
        await two.close()


async def test_migrations_downgrade_to_base_and_upgrade_again(backend: Backend) -> None:
    store = await backend.open()
    try:

        def downgrade(connection: Connection) -> None:
            command.downgrade(alembic_config(connection), "base")

        await run_locked(store.engine, downgrade)
        async with store.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert set(tables) <= {"alembic_version"}
    finally:
        await store.close()
    reopened = await backend.open()
    try:
        await reopened.save_peer(make_peer(), add_tokens=(make_token("a"),))
        assert await reopened.find_token(h("a")) == make_token("a")
    finally:
        await reopened.close()


async def test_migrations_match_the_table_definitions(store: SqlStore) -> None:
    def check(connection: Connection) -> None:
        # Raises AutogenerateDiffsDetected when tables.py and the revisions disagree.
        command.check(alembic_config(connection))

    await run_locked(store.engine, check)


# -- SQLite specifics ---------------------------------------------------------------------------


async def test_concurrent_opens_of_different_databases_in_one_process_all_succeed(tmp_path: Path) -> None:
    # Alembic's migration context is process-global: two nodes started together in one process
    # (as integration tests do) must not interleave their migrations.
    stores = await asyncio.gather(*(open_store(f"sqlite:///{tmp_path / f'node{i}.db'}") for i in range(4)))
    try:
        for store in stores:
            assert await store.list_peers() == []
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'evroam.db'}")
    try:
        async with store.engine.connect() as conn:
            pragmas = [
                (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]
        assert pragmas == ["wal", 10_000, 1]
    finally:
        await store.close()


async def test_plain_sqlite_url_is_accepted_and_its_directory_created(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "evroam.db"
    store = await open_store(f"sqlite:///{path}")
    try:
        await store.save_peer(make_peer())
    finally:
        await store.close()
    assert path.is_file()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///./evroam.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///./evroam.db", "sqlite+aiosqlite"),
        ("postgresql://u@db:5432/evroam", "postgresql+asyncpg"),
        ("postgres://u@db:5432/evroam", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@db:5432/evroam", "postgresql+asyncpg"),
    ],
)
def test_plain_urls_map_to_async_drivers(given: str, driver: str) -> None:
    assert async_url(given).drivername == driver
