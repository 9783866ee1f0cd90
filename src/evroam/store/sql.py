"""`SqlStore`: the `Store` over SQLAlchemy Core and an async engine, on SQLite or PostgreSQL."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Table, and_, delete, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, RowMapping, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Insert

from evroam.store.changes import PEERS_CHANGED, watch_changes
from evroam.store.deliveries import DeliveryTables
from evroam.store.interface import (
    CommandRecord,
    CredentialsTokenRecord,
    NodeIdentity,
    PartyRecord,
    Peer,
    PeerEndpoint,
    PeerStatus,
    TokenKind,
)
from evroam.store.objects import ObjectTable
from evroam.store.requests import RequestTables
from evroam.store.tables import commands, credentials_tokens, node_identity, peers, sync_marks
from evroam.types import Role

__all__ = ["SQLITE_BEGIN_OPTION", "SqlStore", "async_url", "create_engine"]

# Execution option naming the SQLite BEGIN mode (DEFERRED, IMMEDIATE) of a connection's transactions.
SQLITE_BEGIN_OPTION: Final = "evroam_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS: Final = 10_000

_ASYNC_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}
_BEGIN_MODES: Final = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
_NODE_IDENTITY_ID: Final = 1
_PING_AFTER_IDLE: Final = 1.0  # seconds a pooled PostgreSQL connection may idle before it is tested again
_IDLE_SINCE: Final = "evroam_idle_since"


def async_url(database_url: str) -> URL:
    """`database_url` with a plain `sqlite://` or `postgresql://` scheme mapped to its async driver."""
    url = make_url(database_url)
    driver = _ASYNC_DRIVERS.get(url.drivername)
    return url.set(drivername=driver) if driver else url


def create_engine(database_url: str, *, connect_args: Mapping[str, Any] | None = None) -> AsyncEngine:
    """An async engine for `database_url`, with the per-connection setup its dialect needs."""
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_parent_dir(url)
        engine = create_async_engine(url, connect_args=dict(connect_args or {}))
        _configure_sqlite(engine)
        return engine
    # A long-running server outlives PostgreSQL connections (restarts, idle timeouts).
    # A pool as large as the concurrency a node serves, so busy moments reuse connections instead of
    # opening and closing them.
    engine = create_async_engine(url, connect_args=dict(connect_args or {}), pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """A long-running server outlives PostgreSQL connections (restarts, idle timeouts): a connection that
    has been idle in the pool is tested before use and replaced if it is gone. One used within the last
    `_PING_AFTER_IDLE` seconds is not, which spares a busy node a round trip per transaction."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < _PING_AFTER_IDLE:
            return  # new, or just used
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection lost: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled connection lost")


def _ensure_sqlite_parent_dir(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 module's legacy mode would not BEGIN before SELECT or DDL, leaving reads and
        # migrations outside any transaction; SQLAlchemy emits BEGIN itself instead (`_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # The server and CLI commands share one file: wait for each other's locks rather than
            # failing at once, and let readers proceed while one of them writes (WAL).
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = str(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED"))
        if mode not in _BEGIN_MODES:
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")


class SqlStore(ObjectTable, RequestTables, DeliveryTables):
    """The store of one node in a SQL database; every method runs in a transaction of its own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._dialect = engine.dialect.name
        if self._dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {self._dialect!r}; use SQLite or PostgreSQL")
        self._engine = engine
        self._write_engine: AsyncEngine | None = None
        writer = engine
        if self._dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            # SQLite has one writer at a time. Writers of this process queue for a single connection
            # instead of each waiting on the database lock, whose busy handler sleeps (up to 100 ms per
            # try) while the lock is held: under concurrent writes that sleeping, not the work, set the pace.
            writer = self._write_engine = create_async_engine(engine.url, pool_size=1, max_overflow=0, pool_timeout=60)
            _configure_sqlite(writer)
        # On SQLite writers take the write lock at BEGIN, where the busy timeout applies; a deferred
        # transaction upgrading its lock later fails at once if another connection wrote meanwhile.
        self._writer = writer.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        super().__init__(engine, self._writer)

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for modules that keep their own tables in the same database."""
        return self._engine

    async def close(self) -> None:
        await self.finish_writes()
        if self._write_engine is not None:
            await self._write_engine.dispose()
        await self._engine.dispose()

    async def watch_changes(self) -> None:
        await watch_changes(self._engine, self.changes)

    # -- node identity ---------------------------------------------------------------------------
    async def get_node_identity(self) -> NodeIdentity | None:
        query = select(node_identity).where(node_identity.c.id == _NODE_IDENTITY_ID)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return NodeIdentity(
            base_url=row["base_url"],
            parties=tuple(_party_from_json(p) for p in row["parties"]),
            updated_at=row["updated_at"],
        )

    async def save_node_identity(self, identity: NodeIdentity) -> None:
        values = {
            "id": _NODE_IDENTITY_ID,
            "base_url": identity.base_url,
            "parties": [_party_to_json(p) for p in identity.parties],
            "updated_at": identity.updated_at,
        }
        async with self._writer.begin() as conn:
            await conn.execute(self._upsert(node_identity, values, key="id"))

    # -- peers ------------------------------------------------------------------------------------
    async def get_peer(self, peer_id: str) -> Peer | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(peers).where(peers.c.id == peer_id))).mappings().first()
        return None if row is None else _peer_from_row(row)

    async def list_peers(self) -> list[Peer]:
        """All peers, oldest first."""
        query = select(peers).order_by(peers.c.created_at, peers.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_peer_from_row(row) for row in rows]

    async def find_peer_by_party(self, country_code: str, party_id: str) -> Peer | None:
        """The REGISTERED peer one of whose roles has this country_code/party_id (case-insensitive)."""
        # Roles live in a JSON list; a node has few peers, so matching them here keeps the query
        # the same on both dialects.
        query = (
            select(peers).where(peers.c.status == PeerStatus.REGISTERED.value).order_by(peers.c.created_at, peers.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        wanted = (country_code.upper(), party_id.upper())
        for row in rows:
            if any((r["country_code"].upper(), r["party_id"].upper()) == wanted for r in row["roles"]):
                return _peer_from_row(row)
        return None

    async def save_peer(
        self,
        peer: Peer,
        *,
        add_tokens: tuple[CredentialsTokenRecord, ...] = (),
        revoke_token_hashes: tuple[str, ...] = (),
        revoke_all_tokens: bool = False,
    ) -> None:
        """Insert or replace `peer` and change its tokens, all in one transaction.

        `revoke_all_tokens` drops every token of the peer before `add_tokens` are added. Only the
        peer's own tokens are revoked; adding a token that already exists raises
        `sqlalchemy.exc.IntegrityError` and changes nothing.
        """
        foreign = [t.token_hash[:8] for t in add_tokens if t.peer_id != peer.id]
        if foreign:
            raise ValueError(f"tokens {foreign} (by hash prefix) belong to another peer than {peer.id!r}")
        async with self._writer.begin() as conn:
            await conn.execute(self._upsert(peers, _peer_to_row(peer), key="id"))
            of_peer = credentials_tokens.c.peer_id == peer.id
            if revoke_all_tokens:
                await conn.execute(delete(credentials_tokens).where(of_peer))
            elif revoke_token_hashes:
                revoked = credentials_tokens.c.token_hash.in_(revoke_token_hashes)
                await conn.execute(delete(credentials_tokens).where(of_peer, revoked))
            if add_tokens:
                await conn.execute(credentials_tokens.insert(), [_token_to_row(t) for t in add_tokens])
        self.changes.bump(PEERS_CHANGED)

    async def delete_peer(self, peer_id: str) -> None:
        """Remove a peer and all its tokens (used to roll back a handshake that failed)."""
        async with self._writer.begin() as conn:
            # Explicit rather than relying on ON DELETE CASCADE, which SQLite ignores on a
            # connection opened without `foreign_keys` (e.g. by an older tool).
            await conn.execute(delete(credentials_tokens).where(credentials_tokens.c.peer_id == peer_id))
            await conn.execute(delete(peers).where(peers.c.id == peer_id))
        self.changes.bump(PEERS_CHANGED)

    # -- commands -----------------------------------------------------------------------------------
    async def save_command(self, record: CommandRecord) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(self._upsert(commands, dataclasses.asdict(record), key="id"))

    async def get_command(self, command_id: str) -> CommandRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(commands).where(commands.c.id == command_id))).mappings().first()
        return None if row is None else CommandRecord(**row)

    async def record_command_response(
        self, command_id: str, *, response: str | None, at: datetime, deadline: datetime | None, error: str | None
    ) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(commands)
                .where(commands.c.id == command_id)
                .values(response=response, responded_at=at, deadline=deadline, error=error)
            )

    async def record_command_result(
        self, command_id: str, result: str, at: datetime, *, replace: bool = False
    ) -> CommandRecord | None:
        which = commands.c.id == command_id
        async with self._writer.begin() as conn:
            await conn.execute(
                update(commands)
                .where(which if replace else and_(which, commands.c.result.is_(None)))
                .values(result=result, result_at=at)
            )
            row = (await conn.execute(select(commands).where(commands.c.id == command_id))).mappings().first()
        return None if row is None else CommandRecord(**row)

    # -- credentials tokens -----------------------------------------------------------------------
    async def find_token(self, token_hash: str) -> CredentialsTokenRecord | None:
        query = select(credentials_tokens).where(credentials_tokens.c.token_hash == token_hash)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return CredentialsTokenRecord(
            token_hash=row["token_hash"],
            peer_id=row["peer_id"],
            kind=TokenKind(row["kind"]),
            created_at=row["created_at"],
        )

    # -- pull sync --------------------------------------------------------------------------------
    async def get_sync_mark(self, peer_id: str, module: str) -> datetime | None:
        query = select(sync_marks.c.mark).where(sync_marks.c.peer_id == peer_id, sync_marks.c.module == module)
        async with self._engine.connect() as conn:
            mark: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return mark

    async def set_sync_mark(self, peer_id: str, module: str, mark: datetime) -> None:
        values = {"peer_id": peer_id, "module": module, "mark": mark}
        async with self._writer.begin() as conn:
            await conn.execute(self._upsert(sync_marks, values, key=("peer_id", "module")))

    # -- helpers ----------------------------------------------------------------------------------
    def _upsert(self, table: Table, values: Mapping[str, Any], *, key: str | tuple[str, ...]) -> Insert:
        """INSERT ... ON CONFLICT (key) DO UPDATE: one statement, so no read-then-write race."""
        keys = (key,) if isinstance(key, str) else key
        if self._dialect == "postgresql":
            pg_stmt = postgresql.insert(table).values(values)
            update = {name: pg_stmt.excluded[name] for name in values if name not in keys}
            return pg_stmt.on_conflict_do_update(index_elements=list(keys), set_=update)
        lite_stmt = sqlite.insert(table).values(values)
        update = {name: lite_stmt.excluded[name] for name in values if name not in keys}
        return lite_stmt.on_conflict_do_update(index_elements=list(keys), set_=update)


def _party_to_json(party: PartyRecord) -> dict[str, Any]:
    return {
        "country_code": party.country_code,
        "party_id": party.party_id,
        "role": party.role.value,
        "name": party.name,
        "website": party.website,
    }


def _party_from_json(data: Mapping[str, Any]) -> PartyRecord:
    return PartyRecord(
        country_code=data["country_code"],
        party_id=data["party_id"],
        role=Role(data["role"]),
        name=data["name"],
        website=data.get("website"),
    )


def _peer_to_row(peer: Peer) -> dict[str, Any]:
    return {
        "id": peer.id,
        "name": peer.name,
        "status": peer.status.value,
        "created_at": peer.created_at,
        "updated_at": peer.updated_at,
        "versions_url": peer.versions_url,
        "version": peer.version,
        "endpoints": [{"identifier": e.identifier, "role": e.role, "url": e.url} for e in peer.endpoints],
        "roles": [_party_to_json(r) for r in peer.roles],
        "token_out": peer.token_out,
    }


def _peer_from_row(row: RowMapping) -> Peer:
    endpoints: Sequence[Mapping[str, Any]] = row["endpoints"]
    return Peer(
        id=row["id"],
        name=row["name"],
        status=PeerStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        versions_url=row["versions_url"],
        version=row["version"],
        endpoints=tuple(PeerEndpoint(e["identifier"], e.get("role"), e["url"]) for e in endpoints),
        roles=tuple(_party_from_json(r) for r in row["roles"]),
        token_out=row["token_out"],
    )


def _token_to_row(token: CredentialsTokenRecord) -> dict[str, Any]:
    return {
        "token_hash": token.token_hash,
        "peer_id": token.peer_id,
        "kind": token.kind.value,
        "created_at": token.created_at,
    }
