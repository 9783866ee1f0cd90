"""The `Store` contract for module objects, run against every SQL backend (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

import asyncpg
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.exc import StatementError

from evroam.store import Peer, PeerStatus, SqlStore, open_store
from evroam.store.interface import ListQuery, ObjectKey, PutOutcome, StoredObject
from evroam.store.migrations import alembic_config, run_locked
from evroam.store.sql import create_engine

T0 = datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
MS = timedelta(milliseconds=1)
LOCATIONS = "locations"
TOKENS = "tokens"


class Backend(Protocol):
    """The `backend` fixture: a fresh database of the backend under test."""

    name: str
    url: str
    connect_args: Mapping[str, Any]

    async def open(self) -> SqlStore: ...


def key(object_id: str, country_code: str = "NL", party_id: str = "TNM", object_type: str = "") -> ObjectKey:
    return ObjectKey(country_code, party_id, object_id, object_type)


def make_object(
    object_id: str = "LOC1",
    last_updated: datetime = T0,
    body: str | None = None,
    *,
    country_code: str = "NL",
    party_id: str = "TNM",
    object_type: str = "",
    **changes: Any,
) -> StoredObject:
    """An object whose data names its id and version, so tests can tell which write is stored."""
    data = body if body is not None else json.dumps({"id": object_id, "v": last_updated.isoformat()})
    obj = StoredObject(key(object_id, country_code, party_id, object_type), last_updated, data.encode())
    return dataclasses.replace(obj, **changes)


async def ids(store: SqlStore, query: ListQuery | None = None, module: str = LOCATIONS) -> list[str]:
    _, page = await store.list_objects(module, query or ListQuery(limit=10_000))
    return [obj.key.id for obj in page]


def counter_of(obj: StoredObject | None) -> int:
    return 0 if obj is None else int(json.loads(obj.data)["n"])


def increment(current: StoredObject | None) -> StoredObject:
    n = counter_of(current) + 1
    return make_object("COUNTER", T0 + n * MS, json.dumps({"n": n}))


# -- keys and data ------------------------------------------------------------------------------


async def test_an_absent_object_is_none_and_deleting_it_reports_false(store: SqlStore) -> None:
    assert await store.get_object(LOCATIONS, key("LOC1")) is None
    assert await store.delete_object(LOCATIONS, key("LOC1")) is False
    assert await store.list_objects(LOCATIONS, ListQuery()) == (0, [])


async def test_put_object_round_trips_every_field(store: SqlStore) -> None:
    obj = make_object(holder_country_code="DE", holder_party_id="EMS", published=False)
    assert await store.put_object(LOCATIONS, obj) is PutOutcome.CREATED
    assert await store.get_object(LOCATIONS, obj.key) == obj


async def test_keys_are_case_insensitive_in_all_four_parts(store: SqlStore) -> None:
    stored = make_object("tok1", country_code="nl", party_id="tnm", object_type="rfid")
    assert await store.put_object(TOKENS, stored) is PutOutcome.CREATED
    for variant in (key("TOK1", "NL", "TNM", "RFID"), key("Tok1", "nL", "TnM", "Rfid"), stored.key):
        found = await store.get_object(TOKENS, variant)
        assert found is not None
        assert found.data == stored.data
    # A write under another spelling is the same object, not a second one.
    again = make_object("TOK1", T0 + MS, country_code="NL", party_id="TNM", object_type="RFID")
    assert await store.put_object(TOKENS, again) is PutOutcome.UPDATED
    total, page = await store.list_objects(TOKENS, ListQuery())
    assert total == 1
    assert page[0].data == again.data
    assert await store.delete_object(TOKENS, key("tOK1", "Nl", "tNM", "rFID")) is True
    assert await store.get_object(TOKENS, stored.key) is None


async def test_a_location_key_is_case_insensitive(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, make_object("loc1", country_code="nl", party_id="tnm"))
    found = await store.get_object(LOCATIONS, ObjectKey("NL", "TNM", "LOC1"))
    assert found is not None
    assert found.key == ObjectKey("NL", "TNM", "LOC1")


async def test_tokens_of_equal_uid_but_different_type_are_separate_objects(store: SqlStore) -> None:
    rfid = make_object("UID1", object_type="RFID", body='{"type":"RFID"}')
    app = make_object("UID1", object_type="APP_USER", body='{"type":"APP_USER"}')
    assert await store.put_object(TOKENS, rfid) is PutOutcome.CREATED
    assert await store.put_object(TOKENS, app) is PutOutcome.CREATED
    assert await store.get_object(TOKENS, rfid.key) == rfid
    assert await store.get_object(TOKENS, app.key) == app
    assert await store.get_object(TOKENS, key("UID1", object_type="OTHER")) is None
    assert (await store.list_objects(TOKENS, ListQuery()))[0] == 2
    assert await store.delete_object(TOKENS, rfid.key) is True
    assert await store.get_object(TOKENS, app.key) == app


async def test_objects_of_different_modules_are_separate(store: SqlStore) -> None:
    location = make_object("X1", body='{"module":"locations"}')
    tariff = make_object("X1", body='{"module":"tariffs"}')
    assert await store.put_object(LOCATIONS, location) is PutOutcome.CREATED
    assert await store.put_object("tariffs", tariff) is PutOutcome.CREATED
    assert await store.get_object(LOCATIONS, location.key) == location
    assert await store.get_object("tariffs", tariff.key) == tariff
    assert await ids(store, module="tariffs") == ["X1"]
    assert await store.delete_object("tariffs", tariff.key) is True
    assert await store.get_object(LOCATIONS, location.key) == location


async def test_data_comes_back_byte_for_byte(store: SqlStore) -> None:
    # Not canonical on purpose: key order, spacing, escapes and number spelling must all survive.
    data = (
        '{ "name":"Café Zürich — Ladestation ⚡ 充电站 🚗", "z":1.50,"a" :1e3,'
        '"escaped":"\\u00e9\\n\\"", "tab":"\t", "crlf":"\r\n", "nested":{"b":[],"a":null} }'
    ).encode()
    obj = make_object(body=data.decode())
    await store.put_object(LOCATIONS, obj)
    found = await store.get_object(LOCATIONS, obj.key)
    assert found is not None
    assert found.data == data
    assert isinstance(found.data, bytes)
    _, page = await store.list_objects(LOCATIONS, ListQuery())
    assert page[0].data == data
    before, _ = await store.mutate_object(LOCATIONS, obj.key, lambda current: None)
    assert before is not None
    assert before.data == data


# -- put_object and delete_object ---------------------------------------------------------------


async def test_put_object_creates_then_updates_for_equal_or_later_last_updated(store: SqlStore) -> None:
    assert await store.put_object(LOCATIONS, make_object(body='{"v":1}')) is PutOutcome.CREATED
    same_time = make_object(body='{"v":2}')
    assert await store.put_object(LOCATIONS, same_time) is PutOutcome.UPDATED
    assert await store.get_object(LOCATIONS, same_time.key) == same_time
    later = make_object(last_updated=T0 + MS, body='{"v":3}', published=False, holder_country_code="DE")
    assert await store.put_object(LOCATIONS, later) is PutOutcome.UPDATED
    assert await store.get_object(LOCATIONS, later.key) == later


async def test_put_object_with_an_earlier_last_updated_is_stale_and_changes_nothing(store: SqlStore) -> None:
    current = make_object(last_updated=T0, body='{"v":"current"}')
    await store.put_object(LOCATIONS, current)
    older = make_object(last_updated=T0 - MS, body='{"v":"older"}', published=False)
    assert await store.put_object(LOCATIONS, older) is PutOutcome.STALE
    assert await store.get_object(LOCATIONS, current.key) == current


async def test_insert_only_gives_exists_and_keeps_the_first(store: SqlStore) -> None:
    first = make_object(body='{"v":"first"}')
    assert await store.put_object("cdrs", first, insert_only=True) is PutOutcome.CREATED
    for last_updated in (T0 - MS, T0, T0 + timedelta(days=1)):
        second = make_object(last_updated=last_updated, body='{"v":"second"}')
        assert await store.put_object("cdrs", second, insert_only=True) is PutOutcome.EXISTS
    assert await store.get_object("cdrs", first.key) == first


async def test_delete_object_returns_whether_it_removed_something(store: SqlStore) -> None:
    kept = make_object("LOC2")
    await store.put_object(LOCATIONS, make_object("LOC1"))
    await store.put_object(LOCATIONS, kept)
    assert await store.delete_object(LOCATIONS, key("LOC1")) is True
    assert await store.delete_object(LOCATIONS, key("LOC1")) is False
    assert await store.get_object(LOCATIONS, key("LOC1")) is None
    assert await store.get_object(LOCATIONS, kept.key) == kept
    # Deleted means gone: the next write creates it afresh, whatever its last_updated.
    assert await store.put_object(LOCATIONS, make_object("LOC1", T0 - timedelta(days=1))) is PutOutcome.CREATED


# -- put_objects --------------------------------------------------------------------------------


async def test_put_objects_reports_mixed_outcomes_in_input_order(store: SqlStore) -> None:
    await store.put_objects(LOCATIONS, [make_object("A"), make_object("B")])
    a_later = make_object("A", T0 + MS)
    b_older = make_object("B", T0 - MS)
    outcomes = await store.put_objects(LOCATIONS, [make_object("C"), a_later, b_older, make_object("D")])
    assert outcomes == [PutOutcome.CREATED, PutOutcome.UPDATED, PutOutcome.STALE, PutOutcome.CREATED]
    assert await store.get_object(LOCATIONS, key("A")) == a_later
    assert await store.get_object(LOCATIONS, key("B")) == make_object("B")
    assert await ids(store) == ["A", "B", "C", "D"]


async def test_put_objects_insert_only_gives_exists_and_keeps_the_first(store: SqlStore) -> None:
    first = make_object("A", body='{"v":"first"}')
    await store.put_object("cdrs", first)
    batch = [
        make_object("A", T0 + MS, '{"v":"later"}'),
        make_object("B", T0, '{"v":"b1"}'),
        make_object("b", T0 + MS, '{"v":"b2"}'),
    ]
    outcomes = await store.put_objects("cdrs", batch, insert_only=True)
    assert outcomes == [PutOutcome.EXISTS, PutOutcome.CREATED, PutOutcome.EXISTS]
    assert await store.get_object("cdrs", key("A")) == first
    assert await store.get_object("cdrs", key("B")) == batch[1]


async def test_put_objects_of_nothing_does_nothing(store: SqlStore) -> None:
    assert await store.put_objects(LOCATIONS, []) == []
    assert await store.list_objects(LOCATIONS, ListQuery()) == (0, [])


async def test_duplicates_of_a_new_key_in_one_batch_later_wins_unless_stale(store: SqlStore) -> None:
    batch = [
        make_object("X", T0, '{"v":1}'),
        make_object("x", T0 + MS, '{"v":2}'),
        make_object("X", T0, '{"v":3}'),  # older than the batch's own v2
        make_object("X", T0 + MS, '{"v":4}'),  # equal: replaces
        make_object("Y", T0, '{"v":"y"}'),
    ]
    outcomes = await store.put_objects(LOCATIONS, batch)
    assert outcomes == [
        PutOutcome.CREATED,
        PutOutcome.UPDATED,
        PutOutcome.STALE,
        PutOutcome.UPDATED,
        PutOutcome.CREATED,
    ]
    found = await store.get_object(LOCATIONS, key("X"))
    assert found is not None
    assert found.data == b'{"v":4}'
    assert found.last_updated == T0 + MS
    assert await ids(store) == ["X", "Y"]


async def test_duplicates_of_a_stored_key_in_one_batch_later_wins_unless_stale(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, make_object("X", T0, '{"v":0}'))
    batch = [
        make_object("X", T0 + MS, '{"v":1}'),
        make_object("X", T0, '{"v":2}'),  # older than v1, though not than what was stored
        make_object("X", T0 + 2 * MS, '{"v":3}'),
    ]
    assert await store.put_objects(LOCATIONS, batch) == [PutOutcome.UPDATED, PutOutcome.STALE, PutOutcome.UPDATED]
    found = await store.get_object(LOCATIONS, key("X"))
    assert found is not None
    assert found.data == b'{"v":3}'


async def test_put_objects_handles_more_than_a_thousand_objects(store: SqlStore) -> None:
    n = 1234  # more than three 400-key lookups
    first = [make_object(f"LOC{i:05}") for i in range(0, n, 2)]
    assert await store.put_objects(LOCATIONS, first) == [PutOutcome.CREATED] * len(first)

    # Every key once, in reverse, with a differently cased duplicate of some far apart in the batch.
    batch = [make_object(f"LOC{i:05}", T0 + MS) for i in reversed(range(n))]
    batch += [make_object(f"loc{i:05}", T0 - MS) for i in range(0, n, 100)]
    outcomes = await store.put_objects(LOCATIONS, batch)
    expected = [PutOutcome.UPDATED if i % 2 == 0 else PutOutcome.CREATED for i in reversed(range(n))]
    expected += [PutOutcome.STALE] * len(range(0, n, 100))
    assert outcomes == expected

    total, page = await store.list_objects(LOCATIONS, ListQuery(limit=n + 10))
    assert total == n
    assert all(obj.last_updated == T0 + MS for obj in page)
    # First stored first: the earlier batch, then the new ones in the order the batch gave them.
    assert [obj.key.id for obj in page] == [o.key.id for o in first] + [
        f"LOC{i:05}" for i in reversed(range(n)) if i % 2
    ]


@pytest.mark.parametrize(
    "failing",
    [
        pytest.param(make_object("BAD", body="unused", data=b'{"name":"\xff\xfe"}'), id="data-not-utf8"),
        # Refused by the driver layer while the batch's INSERT is being executed.
        pytest.param(make_object("BAD", datetime(2024, 3, 1, 12)), id="naive-last-updated"),
    ],
)
async def test_a_failing_object_fails_the_whole_batch(store: SqlStore, failing: StoredObject) -> None:
    stored = make_object("A", T0, '{"v":"stored"}')
    await store.put_object(LOCATIONS, stored)
    # A's update and B's insert come before the failing object; neither may survive it.
    batch = [make_object("A", T0 + MS, '{"v":"batch"}'), make_object("B"), failing, make_object("C")]
    with pytest.raises((UnicodeError, StatementError)):
        await store.put_objects(LOCATIONS, batch)
    assert await store.get_object(LOCATIONS, key("A")) == stored
    assert await store.list_objects(LOCATIONS, ListQuery()) == (1, [stored])
    # The store is usable afterwards (no lock or transaction left behind).
    assert await store.put_objects(LOCATIONS, [batch[0], batch[1]]) == [PutOutcome.UPDATED, PutOutcome.CREATED]


async def test_a_database_error_in_a_batch_stores_nothing(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, make_object("A", body='{"v":"stored"}'))
    # The database, not Python, refuses this one: it violates the table's NOT NULL constraint.
    bad = make_object("BAD", published=None)
    with pytest.raises(StatementError):
        await store.put_objects(LOCATIONS, [make_object("A", T0 + MS, '{"v":"batch"}'), make_object("B"), bad])
    assert await ids(store) == ["A"]
    found = await store.get_object(LOCATIONS, key("A"))
    assert found is not None
    assert found.data == b'{"v":"stored"}'


# -- mutate_object ------------------------------------------------------------------------------


async def test_mutate_object_returns_before_and_after_and_stores_after(store: SqlStore) -> None:
    stored = make_object(body='{"v":1}', holder_country_code="DE", holder_party_id="EMS")
    await store.put_object(LOCATIONS, stored)
    seen: list[StoredObject | None] = []

    def change(current: StoredObject | None) -> StoredObject | None:
        seen.append(current)
        return make_object(last_updated=T0 + MS, body='{"v":2}', published=False)

    before, after = await store.mutate_object(LOCATIONS, key("loc1"), change)
    assert seen == [stored]
    assert before == stored
    assert after == make_object(last_updated=T0 + MS, body='{"v":2}', published=False)
    assert await store.get_object(LOCATIONS, stored.key) == after


async def test_mutate_object_creates_an_absent_object(store: SqlStore) -> None:
    created = make_object("NEW", body='{"v":"new"}')
    before, after = await store.mutate_object(LOCATIONS, created.key, lambda current: created)
    assert before is None
    assert after == created
    assert await store.get_object(LOCATIONS, created.key) == created
    assert await ids(store) == ["NEW"]


async def test_mutate_object_with_change_returning_none_writes_nothing(store: SqlStore) -> None:
    stored = make_object()
    await store.put_object(LOCATIONS, stored)
    assert await store.mutate_object(LOCATIONS, stored.key, lambda current: None) == (stored, stored)
    assert await store.get_object(LOCATIONS, stored.key) == stored
    assert await store.mutate_object(LOCATIONS, key("ABSENT"), lambda current: None) == (None, None)
    assert await store.get_object(LOCATIONS, key("ABSENT")) is None
    assert await ids(store) == ["LOC1"]


class ChangeFailed(Exception):
    pass


@pytest.mark.parametrize("present", [True, False])
async def test_an_exception_in_change_rolls_back_and_propagates(store: SqlStore, present: bool) -> None:
    stored = make_object()
    if present:
        await store.put_object(LOCATIONS, stored)

    def change(current: StoredObject | None) -> StoredObject | None:
        raise ChangeFailed("refused")

    with pytest.raises(ChangeFailed, match="refused"):
        await store.mutate_object(LOCATIONS, stored.key, change)
    assert await store.get_object(LOCATIONS, stored.key) == (stored if present else None)
    # Nothing is left locked: other writers go ahead at once.
    later = make_object(last_updated=T0 + MS)
    expected = PutOutcome.UPDATED if present else PutOutcome.CREATED
    assert await asyncio.wait_for(store.put_object(LOCATIONS, later), timeout=5) is expected


@pytest.mark.parametrize("start", ["present", "absent"])
async def test_concurrent_mutations_of_one_object_lose_no_update(store: SqlStore, start: str) -> None:
    if start == "present":
        await store.put_object(LOCATIONS, make_object("COUNTER", T0, '{"n":0}'))
    results = await asyncio.gather(*(store.mutate_object(LOCATIONS, key("COUNTER"), increment) for _ in range(20)))
    stored = await store.get_object(LOCATIONS, key("COUNTER"))
    assert counter_of(stored) == 20
    # Each call saw the previous one's result: the 20 (before, after) pairs form one chain.
    assert sorted(counter_of(before) for before, _ in results) == list(range(20))
    assert sorted(counter_of(after) for _, after in results) == list(range(1, 21))
    assert all(counter_of(after) == counter_of(before) + 1 for before, after in results)


async def test_concurrent_mutations_from_two_stores_lose_no_update(backend: Backend) -> None:
    one, two = await backend.open(), await backend.open()
    try:
        await asyncio.gather(
            *(store.mutate_object(LOCATIONS, key("counter"), increment) for store in (one, two) for _ in range(10))
        )
        assert counter_of(await one.get_object(LOCATIONS, key("COUNTER"))) == 20
    finally:
        await one.close()
        await two.close()


async def test_mutations_arriving_together_are_committed_together_and_fail_alone(store: SqlStore) -> None:
    for i in range(30):
        await store.put_object(LOCATIONS, make_object(f"LOC{i}", T0, '{"n":0}'))
    transactions = 0

    def counted(_conn: Connection) -> None:
        nonlocal transactions
        transactions += 1

    def bump(n: int) -> Any:
        def change(current: StoredObject | None) -> StoredObject:
            if n == 7:
                raise ChangeFailed(f"refused {n}")
            assert current is not None
            return make_object(current.key.id, T0 + MS, json.dumps({"n": counter_of(current) + 1}))

        return change

    writer = store._writer.sync_engine  # the engine writes go through
    event.listen(writer, "begin", counted)
    try:
        results = await asyncio.gather(
            *(store.mutate_object(LOCATIONS, key(f"LOC{i}"), bump(i)) for i in range(30)),
            *(store.mutate_object(LOCATIONS, key("LOC3"), bump(3)) for _ in range(4)),
            store.mutate_object(LOCATIONS, key("NEW"), lambda current: make_object("NEW", T0)),
            return_exceptions=True,
        )
    finally:
        event.remove(writer, "begin", counted)
    assert transactions < 10  # not one per call
    [failed] = [r for r in results if isinstance(r, BaseException)]
    assert isinstance(failed, ChangeFailed)
    assert str(failed) == "refused 7"
    for i in range(30):
        stored = await store.get_object(LOCATIONS, key(f"LOC{i}"))
        assert counter_of(stored) == {7: 0, 3: 5}.get(i, 1)
    # The calls on one object saw each other's writes, in the order they came.
    assert [counter_of(r[0]) for r in results[3:4] + results[30:34] if isinstance(r, tuple)] == [0, 1, 2, 3, 4]
    assert await store.get_object(LOCATIONS, key("NEW")) == make_object("NEW", T0)


@pytest.mark.parametrize("backend_name", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_a_pooled_connection_lost_while_idle_is_replaced(store: SqlStore, postgres_dsn: str) -> None:
    await store.put_object(LOCATIONS, make_object())
    async with store.engine.connect() as conn:  # the pooled connection, whose server process is ended below
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    admin = await asyncpg.connect(postgres_dsn)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(1.2)  # idle long enough to be tested before its next use
    assert await store.get_object(LOCATIONS, key("LOC1")) == make_object()


async def test_concurrent_put_objects_creating_the_same_keys_all_succeed(store: SqlStore) -> None:
    batches = [[make_object(f"LOC{i}", T0 + n * MS) for i in range(5)] for n in range(8)]
    results = await asyncio.gather(*(store.put_objects(LOCATIONS, batch) for batch in batches))
    assert sum(outcomes.count(PutOutcome.CREATED) for outcomes in results) == 5
    total, page = await store.list_objects(LOCATIONS, ListQuery())
    assert total == 5
    assert {obj.last_updated for obj in page} == {T0 + 7 * MS}


async def test_concurrent_put_objects_of_the_same_keys_in_opposite_orders_all_succeed(store: SqlStore) -> None:
    # Batches taking the same rows' locks in opposite orders can deadlock on PostgreSQL; a pull sync
    # must not fail because another one (or a bulk load) works on the same objects at that moment.
    rounds, size = 10, 200
    for round_ in range(rounds):
        batch = [make_object(f"R{round_}L{i:03}") for i in range(size)]
        results = await asyncio.gather(
            *(store.put_objects(LOCATIONS, b, insert_only=True) for b in (batch, batch[::-1]) * 2)
        )
        assert sum(outcomes.count(PutOutcome.CREATED) for outcomes in results) == size
    # Now every row exists: the batches lock them for their updates.
    later = [make_object(f"R{round_}L{i:03}", T0 + MS) for round_ in range(rounds) for i in range(0, size, 10)]
    results = await asyncio.gather(*(store.put_objects(LOCATIONS, b) for b in (later, later[::-1])))
    assert results == [[PutOutcome.UPDATED] * len(later)] * 2
    total, page = await store.list_objects(LOCATIONS, ListQuery(limit=10_000))
    assert total == rounds * size
    assert sum(obj.last_updated == T0 + MS for obj in page) == len(later)


# -- list_objects -------------------------------------------------------------------------------


async def test_list_objects_keeps_first_stored_first_and_updates_do_not_move(store: SqlStore) -> None:
    for object_id in ("C", "A", "B"):
        await store.put_object(LOCATIONS, make_object(object_id))
    await store.put_objects(LOCATIONS, [make_object("E"), make_object("D")])
    assert await ids(store) == ["C", "A", "B", "E", "D"]
    await store.put_object(LOCATIONS, make_object("C", T0 + MS))
    await store.mutate_object(LOCATIONS, key("A"), lambda current: make_object("A", T0 + 2 * MS))
    await store.put_objects(LOCATIONS, [make_object("D", T0 + MS), make_object("B", T0 + MS)])
    assert await ids(store) == ["C", "A", "B", "E", "D"]
    # A deleted object that comes back is stored anew, so it comes last.
    await store.delete_object(LOCATIONS, key("A"))
    await store.put_object(LOCATIONS, make_object("A"))
    assert await ids(store) == ["C", "B", "E", "D", "A"]


async def test_list_objects_pages_with_offset_and_limit_and_counts_all(store: SqlStore) -> None:
    await store.put_objects(LOCATIONS, [make_object(f"L{i:02}") for i in range(25)])
    pages: list[list[str]] = []
    for offset in range(0, 25, 10):
        total, page = await store.list_objects(LOCATIONS, ListQuery(offset=offset, limit=10))
        assert total == 25
        pages.append([obj.key.id for obj in page])
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [object_id for page in pages for object_id in page] == [f"L{i:02}" for i in range(25)]
    total, page = await store.list_objects(LOCATIONS, ListQuery(offset=3, limit=2))
    assert (total, [obj.key.id for obj in page]) == (25, ["L03", "L04"])


async def test_list_objects_with_limit_zero_returns_the_total_and_no_rows(store: SqlStore) -> None:
    await store.put_objects(LOCATIONS, [make_object(f"L{i}") for i in range(3)])
    assert await store.list_objects(LOCATIONS, ListQuery(limit=0)) == (3, [])
    assert await store.list_objects(LOCATIONS, ListQuery(offset=1, limit=0)) == (3, [])


async def test_list_objects_with_offset_past_the_end_returns_the_total_and_no_rows(store: SqlStore) -> None:
    await store.put_objects(LOCATIONS, [make_object(f"L{i}") for i in range(3)])
    assert await store.list_objects(LOCATIONS, ListQuery(offset=3)) == (3, [])
    assert await store.list_objects(LOCATIONS, ListQuery(offset=100)) == (3, [])
    total, page = await store.list_objects(LOCATIONS, ListQuery(offset=2, limit=100))
    assert (total, [obj.key.id for obj in page]) == (3, ["L2"])


async def test_list_objects_lists_only_objects_of_its_module(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, make_object("L1"))
    await store.put_object("tariffs", make_object("T1"))
    await store.put_object(TOKENS, make_object("K1", object_type="RFID"))
    assert await ids(store) == ["L1"]
    assert await ids(store, module="tariffs") == ["T1"]
    assert await ids(store, module="sessions") == []


async def test_total_and_page_come_from_one_snapshot(backend: Backend) -> None:
    store = await backend.open()
    await store.put_objects(LOCATIONS, [make_object(f"L{i}") for i in range(3)])

    async def write_elsewhere() -> None:
        other = await open_store(backend.url, connect_args=backend.connect_args)
        try:
            await other.put_object(LOCATIONS, make_object("L3"))
        finally:
            await other.close()

    written: list[bool] = []

    def between_count_and_page(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not written and statement.lstrip().upper().startswith("SELECT COUNT("):
            written.append(True)
            # Another writer commits while the listing is between its two queries.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, write_elsewhere()).result()

    event.listen(store.engine.sync_engine, "after_cursor_execute", between_count_and_page)
    try:
        total, page = await store.list_objects(LOCATIONS, ListQuery())
        assert written
        assert (total, [obj.key.id for obj in page]) == (3, ["L0", "L1", "L2"])
        event.remove(store.engine.sync_engine, "after_cursor_execute", between_count_and_page)
        assert await ids(store) == ["L0", "L1", "L2", "L3"]
    finally:
        await store.close()


async def test_date_from_is_inclusive_and_date_to_exclusive(store: SqlStore) -> None:
    await store.put_objects(LOCATIONS, [make_object(f"L{i}", T0 + i * MS) for i in range(5)])

    async def between(date_from: datetime | None, date_to: datetime | None) -> tuple[int, list[str]]:
        total, page = await store.list_objects(LOCATIONS, ListQuery(date_from=date_from, date_to=date_to))
        return total, [obj.key.id for obj in page]

    assert await between(T0 + MS, T0 + 3 * MS) == (2, ["L1", "L2"])
    assert await between(T0 + MS, None) == (4, ["L1", "L2", "L3", "L4"])
    assert await between(None, T0 + 3 * MS) == (3, ["L0", "L1", "L2"])
    assert await between(T0 + 2 * MS, T0 + 2 * MS) == (0, [])
    assert await between(T0 + 2 * MS, T0 + 3 * MS) == (1, ["L2"])
    # The same instants written in another offset select the same objects.
    cest = timezone(timedelta(hours=2))
    assert await between((T0 + MS).astimezone(cest), (T0 + 3 * MS).astimezone(cest)) == (2, ["L1", "L2"])
    # An update moves an object in or out of a date range.
    await store.put_object(LOCATIONS, make_object("L0", T0 + 10 * MS))
    assert await between(T0 + 4 * MS, None) == (2, ["L0", "L4"])


async def test_an_object_is_found_by_id_and_type_whoever_owns_it(store: SqlStore) -> None:
    await store.put_objects(
        TOKENS,
        [
            make_object("04a1", object_type="RFID", country_code="NL", party_id="EMS"),
            make_object("04A1", object_type="APP_USER", country_code="NL", party_id="EMS"),
            make_object("04A1", object_type="RFID", country_code="DE", party_id="ABC"),
            make_object("9999", object_type="RFID", country_code="NL", party_id="EMS"),
        ],
    )

    async def owners_of(object_id: str, object_type: str | None) -> list[str]:
        _, page = await store.list_objects(TOKENS, ListQuery(object_id=object_id, object_type=object_type))
        return [f"{o.key.country_code}-{o.key.party_id}-{o.key.type}" for o in page]

    assert await owners_of("04A1", "rfid") == ["NL-EMS-RFID", "DE-ABC-RFID"]
    assert await owners_of("04a1", None) == ["NL-EMS-RFID", "NL-EMS-APP_USER", "DE-ABC-RFID"]
    assert await owners_of("0000", "RFID") == []


async def test_owners_filter_matches_country_and_party_pairs_case_insensitively(store: SqlStore) -> None:
    await store.put_objects(
        LOCATIONS,
        [
            make_object("L1", country_code="NL", party_id="TNM"),
            make_object("L2", country_code="de", party_id="abc"),
            make_object("L3", country_code="NL", party_id="ABC"),
            make_object("L4", country_code="DE", party_id="TNM"),
        ],
    )

    async def owned_by(*owners: tuple[str, str]) -> list[str]:
        return await ids(store, ListQuery(owners=owners))

    assert await owned_by(("nl", "tnm")) == ["L1"]
    assert await owned_by(("DE", "ABC"), ("Nl", "Tnm")) == ["L1", "L2"]
    assert await owned_by(("NL", "XXX")) == []
    assert await owned_by() == []
    assert await ids(store, ListQuery(owners=None)) == ["L1", "L2", "L3", "L4"]
    assert await store.list_objects(LOCATIONS, ListQuery(owners=())) == (0, [])


async def test_holders_filter_matches_holder_pairs_case_insensitively(store: SqlStore) -> None:
    await store.put_objects(
        "sessions",
        [
            make_object("S1", holder_country_code="DE", holder_party_id="EMS"),
            make_object("S2", holder_country_code="be", holder_party_id="mob"),
            make_object("S3"),  # no holder
            make_object("S4", holder_country_code="DE", holder_party_id="MOB"),
        ],
    )

    async def held_by(*holders: tuple[str, str]) -> tuple[int, list[str]]:
        total, page = await store.list_objects("sessions", ListQuery(holders=holders))
        return total, [obj.key.id for obj in page]

    assert await held_by(("de", "ems")) == (1, ["S1"])
    assert await held_by(("BE", "MOB"), ("De", "Ems")) == (2, ["S1", "S2"])
    assert await held_by(("BE", "EMS")) == (0, [])
    assert await held_by() == (0, [])
    assert await ids(store, ListQuery(holders=None), module="sessions") == ["S1", "S2", "S3", "S4"]
    # Combined with an owner filter, both must hold.
    query = ListQuery(owners=(("NL", "TNM"),), holders=(("DE", "MOB"),))
    assert await ids(store, query, module="sessions") == ["S4"]


async def test_published_only_hides_unpublished_except_those_named(store: SqlStore) -> None:
    await store.put_objects(
        LOCATIONS,
        [
            make_object("PUB1"),
            make_object("HID1", published=False),
            make_object("PUB2"),
            make_object("HID2", published=False),
            make_object("HID3", country_code="DE", party_id="ABC", published=False),
        ],
    )
    assert await ids(store, ListQuery(published_only=False)) == ["PUB1", "HID1", "PUB2", "HID2", "HID3"]
    assert await store.list_objects(LOCATIONS, ListQuery(published_only=True, limit=0)) == (2, [])
    assert await ids(store, ListQuery(published_only=True)) == ["PUB1", "PUB2"]
    named = ListQuery(published_only=True, also_unpublished=(key("hid2", "nl", "tnm"), key("HID3")))
    # HID3 belongs to DE-ABC: a key naming NL-TNM does not reveal it.
    assert await store.list_objects(LOCATIONS, dataclasses.replace(named, limit=0)) == (3, [])
    assert await ids(store, named) == ["PUB1", "PUB2", "HID2"]
    # also_unpublished only matters with published_only.
    assert len(await ids(store, ListQuery(also_unpublished=(key("HID2"),)))) == 5


async def test_unpublished_only_lists_just_the_unpublished(store: SqlStore) -> None:
    await store.put_objects(
        LOCATIONS,
        [make_object("PUB1"), make_object("HID1", published=False), make_object("HID2", published=False)],
    )
    assert await ids(store, ListQuery(unpublished_only=True)) == ["HID1", "HID2"]
    total, page = await store.list_objects(LOCATIONS, ListQuery(unpublished_only=True, offset=1, limit=1))
    assert (total, [obj.key.id for obj in page]) == (2, ["HID2"])
    # Publishing it takes it off the list.
    await store.put_object(LOCATIONS, make_object("HID1", T0 + MS))
    assert await ids(store, ListQuery(unpublished_only=True)) == ["HID2"]


# -- datetimes ----------------------------------------------------------------------------------


async def test_last_updated_comes_back_as_aware_utc_with_milliseconds(store: SqlStore) -> None:
    cest = timezone(timedelta(hours=2))
    local = datetime(2024, 7, 1, 14, 30, 15, 654000, tzinfo=cest)
    obj = make_object(last_updated=local)
    await store.put_object(LOCATIONS, obj)
    found = await store.get_object(LOCATIONS, obj.key)
    _, page = await store.list_objects(LOCATIONS, ListQuery())
    before, _ = await store.mutate_object(LOCATIONS, obj.key, lambda current: None)
    assert found is not None
    assert before is not None
    for value in (found.last_updated, page[0].last_updated, before.last_updated):
        assert value == local
        assert value.tzinfo is UTC
        assert (value.hour, value.microsecond) == (12, 654000)


async def test_one_millisecond_is_enough_to_order_writes(store: SqlStore) -> None:
    await store.put_object(LOCATIONS, make_object(last_updated=T0 + MS))
    assert await store.put_object(LOCATIONS, make_object(last_updated=T0)) is PutOutcome.STALE
    assert await store.put_object(LOCATIONS, make_object(last_updated=T0 + 2 * MS)) is PutOutcome.UPDATED
    assert await ids(store, ListQuery(date_from=T0 + 2 * MS)) == ["LOC1"]
    assert await ids(store, ListQuery(date_to=T0 + 2 * MS)) == []


# -- migrations ---------------------------------------------------------------------------------


async def test_a_database_from_before_objects_is_upgraded_and_keeps_its_peers(backend: Backend) -> None:
    engine = create_engine(backend.url, connect_args=backend.connect_args)
    peer = Peer("peer-1", "Platform 1", PeerStatus.REGISTERED, T0, T0 + MS, token_out="secret")
    try:

        def to_0001(connection: Connection) -> None:
            command.upgrade(alembic_config(connection), "0001")

        await run_locked(engine, to_0001)
        await SqlStore(engine).save_peer(peer)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "objects" not in tables
    finally:
        await engine.dispose()

    store = await backend.open()
    try:
        async with store.engine.connect() as conn:
            versions = list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        assert versions == [ScriptDirectory.from_config(alembic_config()).get_current_head()]
        assert await store.get_peer("peer-1") == peer
        obj = make_object()
        assert await store.put_object(LOCATIONS, obj) is PutOutcome.CREATED
        assert await store.get_object(LOCATIONS, obj.key) == obj
    finally:
        await store.close()
