"""Backends for the store contract tests: a temporary SQLite file, and PostgreSQL when reachable."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from evroam.store import SqlStore, open_store

POSTGRES_URL_ENV = "EVROAM_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Backend:
    """One database the contract runs against; `open()` may be called any number of times."""

    name: str
    url: str
    connect_args: Mapping[str, Any] = field(default_factory=dict)

    async def open(self) -> SqlStore:
        return await open_store(self.url, connect_args=self.connect_args)


def _asyncpg_dsn(url: str) -> str:
    # asyncpg takes only the plain scheme; the variable may name the SQLAlchemy driver.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _probe(dsn: str) -> str | None:
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The PostgreSQL to test against: skipped if none is around, failed if one was asked for."""
    configured = os.environ.get(POSTGRES_URL_ENV)
    dsn = _asyncpg_dsn(configured or DEFAULT_POSTGRES_URL)
    # Its own thread and loop, independent of whichever loop pytest-asyncio runs the tests in.
    with ThreadPoolExecutor(max_workers=1) as pool:
        error = pool.submit(asyncio.run, _probe(dsn)).result()
    if error is None:
        return dsn
    if configured:
        shown = make_url(configured).render_as_string(hide_password=True)
        pytest.fail(f"{POSTGRES_URL_ENV} is set but PostgreSQL at {shown} is unreachable: {error}")
    pytest.skip(
        f"no PostgreSQL at {DEFAULT_POSTGRES_URL} ({error}); "
        f"set {POSTGRES_URL_ENV}=postgresql://user@host:port/db to run the postgres backend"
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres":
        # Resolved here, outside the test's event loop, so a skip or failure happens at setup.
        request.getfixturevalue("postgres_dsn")
    return name


@pytest.fixture
async def backend(backend_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """A fresh, empty database of the backend under test, removed afterwards."""
    if backend_name == "sqlite":
        # A missing parent directory is part of what open_store must handle.
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'data' / 'evroam.db'}")
        return
    dsn: str = request.getfixturevalue("postgres_dsn")
    # One schema per test, selected through search_path, keeps tests from seeing each other's rows.
    schema = f"evroam_contract_{uuid4().hex[:12]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    try:
        yield Backend("postgres", dsn, {"server_settings": {"search_path": schema}})
    finally:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await admin.close()


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[SqlStore]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()
