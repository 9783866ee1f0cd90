"""Change counters: every committed write bumps its module, and a watcher sees other connections' writes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import asyncpg
import pytest

from evroam.store import Peer, PeerStatus, SqlStore
from evroam.store.changes import PEERS_CHANGED, WATCHER_NAME
from evroam.store.interface import ObjectKey, StoredObject

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Backend(Protocol):
    async def open(self) -> SqlStore: ...


def obj(object_id: str, last_updated: datetime = T0) -> StoredObject:
    data = json.dumps({"id": object_id, "at": last_updated.isoformat()}).encode()
    return StoredObject(ObjectKey("NL", "TNM", object_id, ""), last_updated, data)


def peer(peer_id: str = "peer-1") -> Peer:
    return Peer(
        id=peer_id,
        name=peer_id,
        status=PeerStatus.REGISTERED,
        created_at=T0,
        updated_at=T0,
        versions_url=f"https://{peer_id}.example.com/ocpi/versions",
    )


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the watcher did not report the change in time")


@pytest.fixture
async def watched(store: SqlStore) -> AsyncIterator[SqlStore]:
    task = asyncio.get_running_loop().create_task(store.watch_changes())
    try:
        await until(lambda: store.changes.live)
        yield store
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not store.changes.live


async def test_each_committed_write_bumps_its_module_and_nothing_else(store: SqlStore) -> None:
    changes = store.changes
    stamps: list[tuple[int, ...]] = [changes.stamp(("locations", "tokens", PEERS_CHANGED))]

    def moved() -> tuple[bool, ...]:
        now = changes.stamp(("locations", "tokens", PEERS_CHANGED))
        before, stamps[:] = stamps[0], [now]
        return tuple(a != b for a, b in zip(before[1:], now[1:], strict=True))

    await store.put_objects("locations", [obj("A"), obj("B")])
    assert moved() == (True, False, False)
    await store.put_object("locations", obj("A", T0 - timedelta(seconds=1)))  # stale: nothing written
    assert moved() == (False, False, False)
    await store.put_object("locations", obj("A"), insert_only=True)  # exists: nothing written
    assert moved() == (False, False, False)
    await store.mutate_object("tokens", ObjectKey("NL", "TNM", "T1", "RFID"), lambda _: obj("T1"))
    assert moved() == (False, True, False)
    await store.mutate_object("tokens", ObjectKey("NL", "TNM", "T1", "RFID"), lambda _: None)  # no write
    assert moved() == (False, False, False)
    assert await store.delete_object("locations", obj("A").key)
    assert moved() == (True, False, False)
    assert not await store.delete_object("locations", obj("A").key)
    assert moved() == (False, False, False)
    await store.save_peer(peer())
    assert moved() == (False, False, True)
    await store.delete_peer("peer-1")
    assert moved() == (False, False, True)


async def test_a_watcher_reports_writes_of_another_connection_by_module(watched: SqlStore, backend: Backend) -> None:
    other = await backend.open()
    try:
        for module, untouched in (("locations", "tariffs"), ("tariffs", "locations")):
            before = watched.changes.stamp((module,))
            untouched_before = watched.changes.stamp((untouched,))
            await other.put_object(module, obj("A"))
            await until(lambda: watched.changes.stamp((module,)) != before)  # noqa: B023 - awaited at once
            assert watched.changes.stamp((untouched,)) == untouched_before
        before = watched.changes.stamp((PEERS_CHANGED,))
        await other.save_peer(peer("peer-2"))
        await until(lambda: watched.changes.stamp((PEERS_CHANGED,)) != before)
    finally:
        await other.close()


@pytest.mark.parametrize("backend_name", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_a_lost_listener_stops_caching_until_it_is_back(watched: SqlStore, postgres_dsn: str) -> None:
    before = watched.changes.stamp(())
    admin = await asyncpg.connect(postgres_dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1",
            WATCHER_NAME,
        )
    finally:
        await admin.close()
    assert killed >= 1
    await until(lambda: not watched.changes.live)
    await until(lambda: watched.changes.live)
    assert watched.changes.stamp(()) != before  # everything derived before is stale
