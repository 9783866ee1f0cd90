"""Shared fixtures: in-process nodes wired together through ASGI transports."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from support.nodes import SQLITE, Backend, InProcessNetwork

POSTGRES_URL_ENV = "EVROAM_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[InProcessNetwork]:
    """A set of in-process nodes that call each other through ASGI (no sockets)."""
    net = InProcessNetwork(tmp_path)
    try:
        yield net
    finally:
        await net.close()


async def _probe_postgres(dsn: str) -> str | None:
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL for node databases: skipped if none is around, failed if one was asked for
    (EVROAM_TEST_POSTGRES_URL set but unreachable)."""
    configured = os.environ.get(POSTGRES_URL_ENV)
    url = make_url(configured or DEFAULT_POSTGRES_URL).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    # Its own thread and loop, independent of whichever loop pytest-asyncio runs the tests in.
    with ThreadPoolExecutor(max_workers=1) as pool:
        error = pool.submit(asyncio.run, _probe_postgres(dsn)).result()
    if error is None:
        return dsn
    if configured:
        pytest.fail(f"{POSTGRES_URL_ENV} is set but PostgreSQL at {url.render_as_string()} is unreachable: {error}")
    pytest.skip(
        f"no PostgreSQL at {DEFAULT_POSTGRES_URL} ({error}); "
        f"set {POSTGRES_URL_ENV}=postgresql://user@host:port/db to run the postgres backend"
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each node's database: its own SQLite file, or its own schema in the test PostgreSQL (module-scoped,
    so the tests of a module run on one backend, then on the other)."""
    if request.param == "sqlite":
        return SQLITE
    return Backend("postgres", request.getfixturevalue("postgres_url"))


@pytest.fixture
async def backend_network(tmp_path: Path, backend: Backend) -> AsyncIterator[InProcessNetwork]:
    """`network` on each backend in turn; PostgreSQL schemas are dropped afterwards."""
    net = InProcessNetwork(tmp_path, backend)
    try:
        yield net
    finally:
        await net.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_network(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> AsyncIterator[InProcessNetwork]:
    """One network per test module and backend, for modules whose nodes are costly to set up again for
    every test. Its tests run in the module's event loop (`pytest.mark.asyncio(loop_scope="module")`) and
    should clear what they stored (`InProcessNetwork.clear_objects`)."""
    net = InProcessNetwork(tmp_path_factory.mktemp(f"nodes-{backend.name}"), backend)
    try:
        yield net
    finally:
        await net.close()


NodeFactory = Callable[..., Awaitable[object]]
