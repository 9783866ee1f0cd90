"""Alembic migrations of the store, applied by `open_store` and runnable with the `alembic` command."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Final
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from evroam.store.sql import SQLITE_BEGIN_OPTION

__all__ = ["MIGRATIONS_DIR", "alembic_config", "run_locked", "upgrade_to_head"]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent
# Any constant works as long as nothing else in the database uses it for an advisory lock.
_PG_MIGRATION_LOCK: Final = 0x65_76_72_6F_61_6D  # "evroam"
# Alembic keeps the running migration context in module globals (`alembic.context`, `alembic.op`),
# so two migrations interleaved on one event loop, even of different databases, corrupt each other.
_loop_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def _in_process_lock() -> asyncio.Lock:
    return _loop_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for these migrations, without an alembic.ini.

    With `connection`, env.py migrates that connection inside the caller's transaction.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def run_locked(engine: AsyncEngine, migrate: Callable[[Connection], None]) -> None:
    """Run `migrate` in one transaction that holds the database's migration lock.

    Several processes may open a fresh database at once (a server and a CLI command); without the
    lock each would see no tables and try to create them.
    """
    async with _in_process_lock(), engine.connect() as conn:
        # SQLite: BEGIN IMMEDIATE takes the write lock before Alembic reads the current revision.
        conn = await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                # Released at commit; DDL is transactional on PostgreSQL, so waiters see the result.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            await conn.run_sync(migrate)


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Apply every migration the database lacks."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    await run_locked(engine, upgrade)
