"""Requests received for Charge Points, the calls owed back to peers, and charge-point side state (SQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from sqlalchemy import Insert, Table

from evroam.store.interface import Callback, ReceivedRequest
from evroam.store.tables import callbacks, charge_point_state, received_requests

__all__ = ["RequestTables"]

_OWED = and_(callbacks.c.delivered_at.is_(None), callbacks.c.failed_at.is_(None))


class RequestTables:
    """`received_requests`, `callbacks` and `charge_point_state`; mixed into the SQL store."""

    _engine: AsyncEngine
    _writer: AsyncEngine

    if TYPE_CHECKING:

        def _upsert(self, table: Table, values: Mapping[str, Any], *, key: str | tuple[str, ...]) -> Insert: ...

    # -- received requests ------------------------------------------------------------------------------
    async def save_received_request(self, request: ReceivedRequest) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(insert(received_requests).values(dataclasses.asdict(request)))

    async def get_received_request(self, request_id: str) -> ReceivedRequest | None:
        query = select(received_requests).where(received_requests.c.id == request_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else ReceivedRequest(**row)

    async def unsettled_requests(self) -> list[ReceivedRequest]:
        query = (
            select(received_requests)
            .where(received_requests.c.result_at.is_(None))
            .order_by(received_requests.c.received_at, received_requests.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ReceivedRequest(**row) for row in rows]

    async def settle_request(self, request_id: str, result: str, at: datetime, callback: Callback | None) -> bool:
        async with self._writer.begin() as conn:
            settled = await conn.execute(
                update(received_requests)
                .where(received_requests.c.id == request_id, received_requests.c.result_at.is_(None))
                .values(result=result, result_at=at)
            )
            if settled.rowcount != 1:
                return False
            if callback is not None:
                await conn.execute(insert(callbacks).values(_callback_row(callback)))
        return True

    # -- callbacks ----------------------------------------------------------------------------------------
    async def add_callback(self, callback: Callback) -> int:
        async with self._writer.begin() as conn:
            inserted = await conn.execute(insert(callbacks).values(_callback_row(callback)))
        key = inserted.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def claim_callbacks(self, now: datetime, limit: int, lease: float) -> list[Callback]:
        query = (
            select(callbacks)
            .where(_OWED, callbacks.c.next_attempt_at <= now)
            .order_by(callbacks.c.next_attempt_at, callbacks.c.id)
            .limit(limit)
        )
        if self._engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        async with self._writer.begin() as conn:
            rows = (await conn.execute(query)).mappings().all()
            if rows:
                ids = [row["id"] for row in rows]
                await conn.execute(
                    update(callbacks)
                    .where(callbacks.c.id.in_(ids))
                    .values(next_attempt_at=now + timedelta(seconds=lease))
                )
        return [_callback_from_row(row) for row in rows]

    async def next_callback_at(self) -> datetime | None:
        query = select(func.min(callbacks.c.next_attempt_at)).where(_OWED)
        async with self._engine.connect() as conn:
            value: datetime | None = (await conn.execute(query)).scalar()
        if value is None:
            return None
        # The aggregate bypasses the column type on SQLite: bring it back to an aware UTC datetime.
        return callbacks.c.next_attempt_at.type.process_result_value(value, self._engine.dialect)  # type: ignore[attr-defined,no-any-return]

    async def get_callback(self, callback_id: int) -> Callback | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(callbacks).where(callbacks.c.id == callback_id))).mappings().first()
        return None if row is None else _callback_from_row(row)

    async def callback_sent(
        self, callback_id: int, at: datetime, *, error: str | None = None, retry_at: datetime | None = None
    ) -> None:
        values: dict[str, Any] = {"attempts": callbacks.c.attempts + 1, "last_error": error}
        if error is None:
            values.update(delivered_at=at, next_attempt_at=None)
        elif retry_at is not None:
            values.update(next_attempt_at=retry_at)
        else:
            values.update(failed_at=at, next_attempt_at=None)
        async with self._writer.begin() as conn:
            await conn.execute(update(callbacks).where(callbacks.c.id == callback_id).values(values))

    # -- charge-point state ---------------------------------------------------------------------------------
    async def get_state(self, kind: str, key: str) -> str | None:
        query = select(charge_point_state.c.data).where(
            charge_point_state.c.kind == kind, charge_point_state.c.key == key
        )
        async with self._engine.connect() as conn:
            data: str | None = (await conn.execute(query)).scalar()
        return data

    async def put_state(self, kind: str, key: str, data: str, at: datetime) -> None:
        values = {"kind": kind, "key": key, "data": data, "updated_at": at}
        async with self._writer.begin() as conn:
            await conn.execute(self._upsert(charge_point_state, values, key=("kind", "key")))

    async def delete_state(self, kind: str, key: str) -> bool:
        where = (charge_point_state.c.kind == kind, charge_point_state.c.key == key)
        async with self._writer.begin() as conn:
            deleted = await conn.execute(delete(charge_point_state).where(*where))
        return bool(deleted.rowcount)

    async def list_state(self, kind: str) -> list[tuple[str, str]]:
        query = (
            select(charge_point_state.c.key, charge_point_state.c.data)
            .where(charge_point_state.c.kind == kind)
            .order_by(charge_point_state.c.key)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(row.key, row.data) for row in rows]


def _callback_row(callback: Callback) -> dict[str, Any]:
    row = dataclasses.asdict(callback)
    del row["id"]
    row["routing"] = list(callback.routing)
    row["next_attempt_at"] = callback.next_attempt_at or callback.created_at
    return row


def _callback_from_row(row: RowMapping) -> Callback:
    values = dict(row)
    values["routing"] = tuple(values["routing"])
    return Callback(**values)
