"""Module objects in SQL: keyed, monotonic (`last_updated`) writes, atomic read-modify-write, pages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from evroam.store.changes import OUTBOX, ChangeCounters
from evroam.store.interface import Change, ChangeRecorder, ListQuery, ObjectKey, PutOutcome, StoredObject
from evroam.store.tables import objects, outbox
from evroam.types import utcnow

__all__ = ["ObjectTable", "match_keys"]

_KEY_COLUMNS = (objects.c.country_code, objects.c.party_id, objects.c.object_id, objects.c.object_type)
_WRITTEN = (PutOutcome.CREATED, PutOutcome.UPDATED)
_CHUNK = 400  # keys per IN (...) lookup; well below every backend's bound-parameter limit
_BATCH: Final = 200  # read-modify-writes committed together at most
_KEYS = ("module", "country_code", "party_id", "object_id", "object_type")
_FIELDS = ("last_updated", "holder_country_code", "holder_party_id", "published", "data")
# One UPDATE executed for many rows at once (executemany), keyed like the unique index.
_UPDATE_BY_KEY = (
    update(objects)
    .where(*(objects.c[name] == bindparam(f"b_{name}") for name in _KEYS))
    .values({name: bindparam(f"b_{name}") for name in _FIELDS})
)
# The same, for rows found by a read-modify-write (their key may change with them).
_UPDATE_BY_SEQ = (
    update(objects)
    .where(objects.c.seq == bindparam("b_seq"))
    .values({name: bindparam(f"b_{name}") for name in (*_KEYS, *_FIELDS)})
)


def _norm(key: ObjectKey) -> tuple[str, str, str, str]:
    return (key.country_code.upper(), key.party_id.upper(), key.id.upper(), key.type.upper())


def _where_key(module: str, key: ObjectKey) -> ColumnElement[bool]:
    cc, pid, oid, otype = _norm(key)
    return and_(
        objects.c.module == module,
        objects.c.country_code == cc,
        objects.c.party_id == pid,
        objects.c.object_id == oid,
        objects.c.object_type == otype,
    )


def _values(module: str, obj: StoredObject) -> dict[str, Any]:
    cc, pid, oid, otype = _norm(obj.key)
    return {
        "module": module,
        "country_code": cc,
        "party_id": pid,
        "object_id": oid,
        "object_type": otype,
        "last_updated": obj.last_updated,
        "holder_country_code": obj.holder_country_code.upper() if obj.holder_country_code else None,
        "holder_party_id": obj.holder_party_id.upper() if obj.holder_party_id else None,
        "published": obj.published,
        "data": obj.data.decode(),
    }


def _from_row(row: Any) -> StoredObject:
    return StoredObject(
        key=ObjectKey(row.country_code, row.party_id, row.object_id, row.object_type),
        last_updated=row.last_updated,
        data=row.data.encode(),
        holder_country_code=row.holder_country_code,
        holder_party_id=row.holder_party_id,
        published=row.published,
    )


def match_keys(prefix: Sequence[Any], id_column: Any, keys: Iterable[tuple[Any, ...]]) -> ColumnElement[bool]:
    """Rows whose `(*prefix, id_column)` is one of `keys` (each: the prefix values, then the id).

    Keys sharing a prefix become one `prefix = ... AND id IN (...)` term, which SQLite and PostgreSQL look
    up in a unique index on those columns; a row-value IN would make SQLite scan the index's first column.
    The IN list is an expanding parameter, so the statement is built and cached per number of prefixes."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for key in keys:
        groups.setdefault(key[:-1], []).append(key[-1])
    if not groups:
        return false()
    return or_(
        *(
            and_(*(column == value for column, value in zip(prefix, values, strict=True)), id_column.in_(ids))
            for values, ids in groups.items()
        )
    )


_OBJECT_PREFIX = (objects.c.module, objects.c.country_code, objects.c.party_id, objects.c.object_type)


def _object_keys(module: str, keys: Iterable[tuple[str, str, str, str]]) -> ColumnElement[bool]:
    """`match_keys` for normalised object keys of one module."""
    rows = ((module, cc, pid, otype, oid) for cc, pid, oid, otype in keys)
    return match_keys(_OBJECT_PREFIX, objects.c.object_id, rows)


def _row_key(row: Any) -> tuple[str, str, str, str]:
    return (row.country_code, row.party_id, row.object_id, row.object_type)


@dataclass(slots=True)
class _Mutation:
    """One `mutate_object` call waiting for its batch."""

    module: str
    key: ObjectKey
    change: Change
    done: asyncio.Future[tuple[StoredObject | None, StoredObject | None]]


def _pairs(column_a: Any, column_b: Any, pairs: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    wanted = list(dict.fromkeys((a.upper(), b.upper()) for a, b in pairs))
    if not wanted:
        return false()
    # Plain equalities (rather than a row-value IN) let SQLite's planner use the owner index.
    return or_(*(and_(column_a == a, column_b == b) for a, b in wanted))


async def _in_lock_order(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PostgreSQL: `rows` sorted by key for inserting, each with a `seq` drawn up front in the given
    order, so the batch is still listed in the order it came in."""
    draw = text("SELECT nextval(pg_get_serial_sequence('objects', 'seq')) FROM generate_series(1, :n)")
    seqs = sorted((await conn.execute(draw, {"n": len(rows)})).scalars())
    numbered = [{**values, "seq": seq} for values, seq in zip(rows, seqs, strict=True)]
    return sorted(numbered, key=lambda v: (v["country_code"], v["party_id"], v["object_id"], v["object_type"]))


class ObjectTable:
    """The `objects` table. Writers use `writer` (on SQLite its transactions BEGIN IMMEDIATE, so a
    read-modify-write holds the write lock from its first read); PostgreSQL locks rows FOR UPDATE."""

    def __init__(self, engine: AsyncEngine, writer: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer
        self._locking = engine.dialect.name == "postgresql"
        self.changes = ChangeCounters()
        """Bumped after each committed write, by module (see `evroam.store.changes`)."""
        self.recorder: ChangeRecorder | None = None
        """Which writes enter the outbox (in the write's transaction), and what changed in them."""
        self._waiting: list[_Mutation] = []
        self._committer: asyncio.Task[None] | None = None

    def _records(self, module: str, key: ObjectKey) -> bool:
        return self.recorder is not None and self.recorder.records(module, key)

    def _outbox_row(self, module: str, key: ObjectKey, hint: str | None) -> dict[str, Any] | None:
        if not self._records(module, key):
            return None
        cc, pid, oid, otype = _norm(key)
        return {
            "module": module,
            "country_code": cc,
            "party_id": pid,
            "object_id": oid,
            "object_type": otype,
            "hint": hint,
            "created_at": utcnow(),
        }

    async def get_object(self, module: str, key: ObjectKey) -> StoredObject | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(objects).where(_where_key(module, key)))).first()
        return None if row is None else _from_row(row)

    async def put_object(self, module: str, obj: StoredObject, *, insert_only: bool = False) -> PutOutcome:
        [outcome] = await self.put_objects(module, [obj], insert_only=insert_only)
        return outcome

    async def put_objects(
        self, module: str, objs: list[StoredObject], *, insert_only: bool = False
    ) -> list[PutOutcome]:
        # A concurrent insert of the same new key loses the unique index race once; the retry sees it.
        for attempt in (1, 2):
            try:
                async with self._writer.begin() as conn:
                    outcomes = await self._put_all(conn, module, objs, insert_only)
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            written = [o.key for o, outcome in zip(objs, outcomes, strict=True) if outcome in _WRITTEN]
            if written:
                self.changes.bump(module)
                if any(self._records(module, key) for key in written):
                    self.changes.bump(OUTBOX)
            return outcomes
        raise AssertionError("unreachable")

    async def _put_all(
        self, conn: AsyncConnection, module: str, objs: list[StoredObject], insert_only: bool
    ) -> list[PutOutcome]:
        stored: dict[tuple[str, str, str, str], datetime] = {}
        # PostgreSQL: every writer locks the rows it finds, and waits for the new keys others are
        # inserting, in one order (by key, byte-wise like Python's), so concurrent batches of the same
        # objects queue behind each other instead of deadlocking.
        keys = sorted({_norm(o.key) for o in objs})
        for start in range(0, len(keys), _CHUNK):
            query = select(objects.c.last_updated, *_KEY_COLUMNS).where(
                _object_keys(module, keys[start : start + _CHUNK])
            )
            if self._locking:
                query = query.order_by(*(column.collate("C") for column in _KEY_COLUMNS)).with_for_update()
            for row in await conn.execute(query):
                stored[(row.country_code, row.party_id, row.object_id, row.object_type)] = row.last_updated
        outcomes: list[PutOutcome] = []
        new: dict[tuple[str, str, str, str], dict[str, Any]] = {}  # inserted at the end, in order
        changed: dict[tuple[str, str, str, str], dict[str, Any]] = {}  # updated at the end, in one statement
        for obj in objs:
            norm = _norm(obj.key)
            pending = new.get(norm) or changed.get(norm)
            latest = pending["last_updated"] if pending is not None else stored.get(norm)
            if latest is None:
                new[norm] = _values(module, obj)
                outcomes.append(PutOutcome.CREATED)
            elif insert_only:
                outcomes.append(PutOutcome.EXISTS)
            elif obj.last_updated < latest:
                outcomes.append(PutOutcome.STALE)
            else:
                (new if norm in new else changed)[norm] = _values(module, obj)
                outcomes.append(PutOutcome.UPDATED)
        if changed:
            await conn.execute(
                _UPDATE_BY_KEY, [{f"b_{k}": v for k, v in values.items()} for values in changed.values()]
            )
        if new:
            rows = list(new.values())
            if self._locking and len(rows) > 1:
                rows = await _in_lock_order(conn, rows)
            await conn.execute(objects.insert(), rows)
        if self.recorder is not None:
            written = dict.fromkeys(o.key for o, outcome in zip(objs, outcomes, strict=True) if outcome in _WRITTEN)
            entries = [entry for key in written if (entry := self._outbox_row(module, key, None)) is not None]
            if entries:
                await conn.execute(outbox.insert(), entries)
        return outcomes

    async def mutate_object(
        self, module: str, key: ObjectKey, change: Change
    ) -> tuple[StoredObject | None, StoredObject | None]:
        # Read-modify-writes arriving together are committed together (group commit): one transaction,
        # one lookup, one statement per kind of write. A node receiving many pushes at once (EVSE status,
        # sessions) would otherwise pay a transaction each, one after another on SQLite's single writer.
        # Each call still sees the writes of those before it, in the order they came, and fails alone.
        mutation = _Mutation(module, key, change, asyncio.get_running_loop().create_future())
        self._waiting.append(mutation)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit_waiting())
        return await mutation.done

    async def _commit_waiting(self) -> None:
        while self._waiting:
            batch = self._waiting[:_BATCH]
            del self._waiting[: len(batch)]
            try:
                await self._commit_batch(batch)
            except Exception as exc:
                for mutation in batch:
                    if not mutation.done.done():
                        mutation.done.set_exception(exc)
            except BaseException:
                for mutation in (*batch, *self._waiting):
                    mutation.done.cancel()
                self._waiting.clear()
                raise

    async def finish_writes(self) -> None:
        """Wait for the read-modify-writes already asked for (before closing)."""
        while self._committer is not None and not self._committer.done():
            await asyncio.wait([self._committer])

    async def _commit_batch(self, batch: list[_Mutation]) -> None:
        # FOR UPDATE locks only rows that exist: writers creating the same absent object at once all
        # insert, and all but one fail on the unique index. The retry (with each `change` called again
        # on what is stored now) finds the row and waits for its lock like any update.
        for attempt in (1, 2):
            try:
                results = await self._mutate_all(batch)
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            bumped: set[str] = set()
            for mutation, result in zip(batch, results, strict=True):
                if isinstance(result, tuple) and result[1] is not result[0]:
                    bumped.add(mutation.module)
                    if self._records(mutation.module, mutation.key):
                        bumped.add(OUTBOX)
            for module in sorted(bumped - {OUTBOX}) + sorted(bumped & {OUTBOX}):
                self.changes.bump(module)
            for mutation, result in zip(batch, results, strict=True):
                if mutation.done.done():
                    continue  # its caller went away; the write stands
                if isinstance(result, tuple):
                    mutation.done.set_result(result)
                else:
                    mutation.done.set_exception(result)
            return

    async def _mutate_all(
        self, batch: list[_Mutation]
    ) -> list[tuple[StoredObject | None, StoredObject | None] | Exception]:
        wanted: dict[str, set[tuple[str, str, str, str]]] = {}
        for mutation in batch:
            wanted.setdefault(mutation.module, set()).add(_norm(mutation.key))
        async with self._writer.begin() as conn:
            # What is stored now, per module and key (None: absent), with the row each update goes to.
            current: dict[tuple[str, tuple[str, str, str, str]], StoredObject | None] = {}
            seqs: dict[tuple[str, tuple[str, str, str, str]], int] = {}
            for module, keys in wanted.items():
                ordered = sorted(keys)
                for start in range(0, len(ordered), _CHUNK):
                    query = select(objects).where(_object_keys(module, ordered[start : start + _CHUNK]))
                    if self._locking:
                        # Locked in one order (by key), so concurrent batches queue instead of deadlocking.
                        query = query.order_by(*(column.collate("C") for column in _KEY_COLUMNS)).with_for_update()
                    for row in await conn.execute(query):
                        current[(module, _row_key(row))] = _from_row(row)
                        seqs[(module, _row_key(row))] = row.seq
            results: list[tuple[StoredObject | None, StoredObject | None] | Exception] = []
            written: dict[tuple[str, tuple[str, str, str, str]], StoredObject] = {}
            entries: list[dict[str, Any]] = []
            for mutation in batch:
                slot = (mutation.module, _norm(mutation.key))
                before = current.get(slot)
                try:
                    after = mutation.change(before)
                except Exception as exc:  # this call's failure (not found, invalid); the others go on
                    results.append(exc)
                    continue
                if after is None:
                    results.append((before, before))
                    continue
                current[slot] = written[slot] = after
                results.append((before, after))
                entry = self._outbox_row(mutation.module, mutation.key, None)
                if entry is not None and (before is None or before.data != after.data):
                    if before is not None and self.recorder is not None:
                        entry["hint"] = self.recorder.hint(mutation.module, before, after)
                    entries.append(entry)
            updates = [
                {"b_seq": seqs[slot], **{f"b_{k}": v for k, v in _values(slot[0], obj).items()}}
                for slot, obj in written.items()
                if slot in seqs
            ]
            inserts = [_values(slot[0], obj) for slot, obj in written.items() if slot not in seqs]
            if updates:
                await conn.execute(_UPDATE_BY_SEQ, updates)
            if inserts:
                if self._locking and len(inserts) > 1:
                    inserts = await _in_lock_order(conn, inserts)
                await conn.execute(objects.insert(), inserts)
            if entries:
                await conn.execute(outbox.insert(), entries)
        return results

    async def delete_object(self, module: str, key: ObjectKey) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(objects).where(_where_key(module, key)))
            entry = self._outbox_row(module, key, None) if result.rowcount else None
            if entry is not None:
                await conn.execute(outbox.insert().values(entry))
        if result.rowcount:
            self.changes.bump(module)
            if self._records(module, key):
                self.changes.bump(OUTBOX)
        return bool(result.rowcount)

    async def list_objects(self, module: str, query: ListQuery) -> tuple[int, list[StoredObject]]:
        conditions = self._conditions(module, query)
        page: Select[Any] = (
            select(objects).where(*conditions).order_by(objects.c.seq).offset(query.offset).limit(query.limit)
        )
        count = select(func.count()).select_from(objects).where(*conditions)
        async with self._engine.connect() as conn:
            if self._locking:
                # PostgreSQL's default READ COMMITTED gives each statement its own snapshot, so a write
                # committed between them would make the page disagree with the total. (SQLite's read
                # transaction keeps the snapshot of its first SELECT.)
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            total = (await conn.execute(count)).scalar_one()
            rows = (await conn.execute(page)).all() if query.limit > 0 and query.offset < total else []
        return int(total), [_from_row(row) for row in rows]

    @staticmethod
    def _conditions(module: str, query: ListQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [objects.c.module == module]
        if query.date_from is not None:
            conditions.append(objects.c.last_updated >= query.date_from)
        if query.date_to is not None:
            conditions.append(objects.c.last_updated < query.date_to)
        if query.owners is not None:
            conditions.append(_pairs(objects.c.country_code, objects.c.party_id, query.owners))
        if query.holders is not None:
            conditions.append(_pairs(objects.c.holder_country_code, objects.c.holder_party_id, query.holders))
        if query.object_id is not None:
            conditions.append(objects.c.object_id == query.object_id.upper())
        if query.object_type is not None:
            conditions.append(objects.c.object_type == query.object_type.upper())
        if query.unpublished_only:
            conditions.append(objects.c.published == false())
        elif query.published_only:
            visible: ColumnElement[bool] = objects.c.published == true()
            if query.also_unpublished:
                named = tuple_(*_KEY_COLUMNS).in_([_norm(k) for k in query.also_unpublished])
                visible = or_(visible, named)
            conditions.append(visible)
        return conditions
