"""Storage: `open_store` opens (and migrates) the SQL database behind the `Store` interface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evroam.store.interface import (
    CredentialsTokenRecord,
    NodeIdentity,
    PartyRecord,
    Peer,
    PeerEndpoint,
    PeerStatus,
    Store,
    TokenKind,
)
from evroam.store.migrations import upgrade_to_head
from evroam.store.sql import SqlStore, create_engine

__all__ = [
    "CredentialsTokenRecord",
    "NodeIdentity",
    "PartyRecord",
    "Peer",
    "PeerEndpoint",
    "PeerStatus",
    "SqlStore",
    "Store",
    "TokenKind",
    "open_store",
]


async def open_store(database_url: str, *, connect_args: Mapping[str, Any] | None = None) -> SqlStore:
    """Open the database at `database_url`, bring its schema to the latest revision, and return it.

    Accepts `sqlite+aiosqlite://`, `postgresql+asyncpg://` and their plain `sqlite://` and
    `postgresql://` forms. `connect_args` go to the driver's connect call (e.g. asyncpg's
    `server_settings`, to pin a PostgreSQL `search_path`). Safe to call from several processes
    at once: migrations run under a database-wide lock.
    """
    engine = create_engine(database_url, connect_args=connect_args)
    try:
        await upgrade_to_head(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlStore(engine)
