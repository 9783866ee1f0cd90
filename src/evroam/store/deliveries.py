"""Push delivery in SQL: the outbox, the deliveries waiting per peer, per-peer health and the ledger."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from evroam.store.interface import (
    Delivery,
    DeliveryAttempt,
    DeliveryFate,
    DeliveryOrder,
    DeliveryOutcome,
    ObjectKey,
    OutboxChange,
    PeerDeliveryState,
    StoredObject,
)
from evroam.store.objects import match_keys
from evroam.store.tables import deliveries, delivery_log, delivery_peers, objects, outbox

if TYPE_CHECKING:
    from sqlalchemy import Insert, Table

__all__ = ["DeliveryTables"]

_KEY = ("module", "country_code", "party_id", "object_id", "object_type")
# Serialises routing on PostgreSQL (one transaction at a time merges into `deliveries`), so two workers
# never insert the same new delivery at once. Any constant unlikely to be used by others.
_ROUTING_LOCK: Final = 0x6576_726F_616D_01
_CHUNK: Final = 400


def _joined(table: Any) -> Any:
    """`table` LEFT JOIN `objects` on the object key."""
    return table.outerjoin(objects, and_(*(objects.c[name] == table.c[name] for name in _KEY)))


def _key_of(row: Any) -> ObjectKey:
    return ObjectKey(row.country_code, row.party_id, row.object_id, row.object_type)


def _object(row: Any) -> StoredObject | None:
    if row.data is None:
        return None
    return StoredObject(
        key=_key_of(row),
        last_updated=row.last_updated,
        data=row.data.encode(),
        holder_country_code=row.holder_country_code,
        holder_party_id=row.holder_party_id,
        published=row.published,
    )


_OBJECT_COLUMNS = (
    objects.c.data,
    objects.c.last_updated,
    objects.c.holder_country_code,
    objects.c.holder_party_id,
    objects.c.published,
)


_Key = tuple[str, str, str, str, str, str]


def _order_key(order: DeliveryOrder) -> _Key:
    k = order.key
    return (order.peer_id, order.module, k.country_code.upper(), k.party_id.upper(), k.id.upper(), k.type.upper())


class DeliveryTables:
    """`outbox`, `deliveries`, `delivery_peers` and `delivery_log`; mixed into the SQL store."""

    _engine: AsyncEngine
    _writer: AsyncEngine

    if TYPE_CHECKING:

        def _upsert(self, table: Table, values: Mapping[str, Any], *, key: str | tuple[str, ...]) -> Insert: ...

    @property
    def _postgres(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    # -- outbox → deliveries --------------------------------------------------------------------------------
    async def pending_changes(self, limit: int) -> list[OutboxChange]:
        query = select(outbox, *_OBJECT_COLUMNS).select_from(_joined(outbox)).order_by(outbox.c.seq).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [OutboxChange(row.seq, row.module, _key_of(row), row.hint, row.created_at, _object(row)) for row in rows]

    async def queue_deliveries(
        self,
        orders: list[DeliveryOrder],
        merge: Callable[[str | None, str | None], str | None],
        *,
        taking: list[int],
    ) -> int:
        async with self._writer.begin() as conn:
            if self._postgres:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ROUTING_LOCK})
            taken: set[int] = set()
            for start in range(0, len(taking), _CHUNK):
                chunk = taking[start : start + _CHUNK]
                gone = await conn.execute(delete(outbox).where(outbox.c.seq.in_(chunk)).returning(outbox.c.seq))
                taken.update(gone.scalars())
            wanted = [o for o in orders if o.seq is None or o.seq in taken]
            if wanted:
                await self._merge_orders(conn, wanted, merge)
        return len(taken)

    async def _merge_orders(
        self, conn: AsyncConnection, orders: list[DeliveryOrder], merge: Callable[[str | None, str | None], str | None]
    ) -> None:
        # Orders for the same peer and object collapse into one, in the order they came.
        combined: dict[_Key, tuple[DeliveryOrder, str | None]] = {}
        for order in orders:
            key = _order_key(order)
            seen = combined.get(key)
            combined[key] = (seen[0], merge(seen[1], order.hint)) if seen else (order, order.hint)
        keys = sorted(combined)
        existing: dict[tuple[Any, ...], Any] = {}
        prefix = [deliveries.c[name] for name in ("peer_id", "module", "country_code", "party_id", "object_type")]
        for start in range(0, len(keys), _CHUNK):
            chunk = (
                (peer, module, cc, pid, otype, oid)
                for peer, module, cc, pid, oid, otype in keys[start : start + _CHUNK]
            )
            query = select(deliveries).where(match_keys(prefix, deliveries.c.object_id, chunk))
            if self._postgres:
                query = query.with_for_update()
            for found in await conn.execute(query):
                existing[(found.peer_id, *(getattr(found, name) for name in _KEY))] = found
        updates: list[dict[str, Any]] = []
        inserts: list[dict[str, Any]] = []
        for key in keys:
            order, hint = combined[key]
            waiting = existing.get(key)
            if waiting is not None:
                updates.append(
                    {"b_id": waiting.id, "b_hint": merge(waiting.hint, hint), "b_version": waiting.version + 1}
                )
                continue
            row = dict(zip(("peer_id", *_KEY), key, strict=True))
            at = order.queued_at
            inserts.append({**row, "hint": hint, "version": 1, "queued_at": at, "next_attempt_at": at, "attempts": 0})
        if updates:
            statement = (
                update(deliveries)
                .where(deliveries.c.id == bindparam("b_id"))
                .values(hint=bindparam("b_hint"), version=bindparam("b_version"))
            )
            await conn.execute(statement, updates)
        if inserts:
            await conn.execute(insert(deliveries), inserts)

    # -- deliveries -----------------------------------------------------------------------------------------
    async def claim_deliveries(self, now: datetime, limit: int, lease: float) -> list[Delivery]:
        paused = select(delivery_peers.c.peer_id).where(
            or_(delivery_peers.c.out_of_sync_at.is_not(None), delivery_peers.c.retry_at > now)
        )
        query = (
            select(deliveries, *_OBJECT_COLUMNS)
            .select_from(_joined(deliveries))
            .where(
                deliveries.c.next_attempt_at <= now,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
                deliveries.c.peer_id.not_in(paused),
            )
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True, of=deliveries)
        async with self._writer.begin() as conn:
            rows = (await conn.execute(query)).all()
            if rows:
                until = now + timedelta(seconds=lease)
                ids = [row.id for row in rows]
                await conn.execute(update(deliveries).where(deliveries.c.id.in_(ids)).values(claimed_until=until))
        return [
            Delivery(
                row.id,
                row.peer_id,
                row.module,
                _key_of(row),
                row.hint,
                row.version,
                row.queued_at,
                row.attempts,
                _object(row),
            )
            for row in rows
        ]

    async def settle_deliveries(
        self, outcomes: list[DeliveryOutcome], attempts: list[DeliveryAttempt], delivered_to: list[str], now: datetime
    ) -> None:
        done = [{"b_id": o.delivery_id, "b_version": o.version} for o in outcomes if o.fate == DeliveryFate.DONE]
        async with self._writer.begin() as conn:
            if done:
                # Gone only if it was not routed a newer change meanwhile; else it waits for its next send.
                await conn.execute(
                    delete(deliveries).where(
                        deliveries.c.id == bindparam("b_id"), deliveries.c.version == bindparam("b_version")
                    ),
                    done,
                )
            unclaimed = [o.delivery_id for o in outcomes if o.fate == DeliveryFate.RELEASE]
            if unclaimed:
                await conn.execute(update(deliveries).where(deliveries.c.id.in_(unclaimed)).values(claimed_until=None))
            released = [
                {
                    "b_id": o.delivery_id,
                    "b_error": o.error,
                    "b_at": (o.retry_at or now) if o.fate == DeliveryFate.RETRY else now,
                }
                for o in outcomes
                if o.fate != DeliveryFate.RELEASE
            ]
            if released:
                await conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id == bindparam("b_id"))
                    .values(
                        claimed_until=None,
                        next_attempt_at=bindparam("b_at"),
                        attempts=deliveries.c.attempts + 1,
                        last_error=bindparam("b_error"),
                    ),
                    released,
                )
            whole = [o.delivery_id for o in outcomes if o.fate == DeliveryFate.WHOLE]
            if whole:
                await conn.execute(update(deliveries).where(deliveries.c.id.in_(whole)).values(hint=None))
            if attempts:
                await conn.execute(insert(delivery_log), [_attempt_row(a) for a in attempts])
            for peer_id in sorted(set(delivered_to)):
                # A peer out of sync stays so (its catch-up is owed) until it is resumed.
                state = await self._peer_state(conn, peer_id, lock=True)
                if state is not None and state.out_of_sync_at is not None:
                    await self._set_peer(conn, peer_id, failures=state.failures, last_success_at=now)
                    continue
                await self._set_peer(
                    conn,
                    peer_id,
                    failures=0,
                    failing_since=None,
                    retry_at=None,
                    last_success_at=now,
                    last_error=None,
                )

    async def _set_peer(self, conn: AsyncConnection, peer_id: str, **values: Any) -> None:
        await conn.execute(self._upsert(delivery_peers, {"peer_id": peer_id, **values}, key="peer_id"))

    async def peer_delivery_failed(
        self, peer_id: str, now: datetime, error: str, retry_at: datetime, window: float
    ) -> PeerDeliveryState:
        async with self._writer.begin() as conn:
            state = await self._peer_state(conn, peer_id, lock=True)
            failing_since = state.failing_since if state and state.failing_since else now
            failures = (state.failures if state else 0) + 1
            out_of_sync = state.out_of_sync_at if state else None
            if out_of_sync is None and (now - failing_since).total_seconds() >= window:
                out_of_sync = now
            await self._set_peer(
                conn,
                peer_id,
                failures=failures,
                failing_since=failing_since,
                retry_at=retry_at,
                out_of_sync_at=out_of_sync,
                last_error=error,
            )
            return await self._peer_state(conn, peer_id) or PeerDeliveryState(peer_id)

    async def resume_peer_delivery(self, peer_id: str, now: datetime) -> PeerDeliveryState | None:
        async with self._writer.begin() as conn:
            state = await self._peer_state(conn, peer_id, lock=True)
            if state is None or (state.out_of_sync_at is None and state.retry_at is None):
                return None
            await conn.execute(
                update(delivery_peers)
                .where(delivery_peers.c.peer_id == peer_id)
                .values(failures=0, failing_since=None, retry_at=None, out_of_sync_at=None)
            )
        return state

    async def _peer_state(self, conn: AsyncConnection, peer_id: str, *, lock: bool = False) -> PeerDeliveryState | None:
        query = select(delivery_peers).where(delivery_peers.c.peer_id == peer_id)
        if lock and self._postgres:
            query = query.with_for_update()
        row = (await conn.execute(query)).mappings().first()
        return None if row is None else PeerDeliveryState(**row)

    async def peer_delivery_states(self) -> list[PeerDeliveryState]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(delivery_peers).order_by(delivery_peers.c.peer_id))).mappings().all()
        return [PeerDeliveryState(**row) for row in rows]

    async def pending_delivery_counts(self) -> dict[str, int]:
        query = select(deliveries.c.peer_id, func.count()).group_by(deliveries.c.peer_id)
        async with self._engine.connect() as conn:
            return {peer_id: int(count) for peer_id, count in await conn.execute(query)}

    # -- ledger ---------------------------------------------------------------------------------------------
    async def delivery_log(
        self, *, peer_id: str | None = None, limit: int = 50, failed_only: bool = False, since: datetime | None = None
    ) -> list[DeliveryAttempt]:
        query = select(delivery_log).order_by(delivery_log.c.id.desc()).limit(limit)
        if peer_id is not None:
            query = query.where(delivery_log.c.peer_id == peer_id)
        if failed_only:
            query = query.where(delivery_log.c.outcome != "DELIVERED")
        if since is not None:
            query = query.where(delivery_log.c.at >= since)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [DeliveryAttempt(**row) for row in rows]

    async def delivery_counts(self, since: datetime) -> dict[str, dict[str, int]]:
        query = (
            select(delivery_log.c.peer_id, delivery_log.c.outcome, func.count())
            .where(delivery_log.c.at >= since)
            .group_by(delivery_log.c.peer_id, delivery_log.c.outcome)
        )
        counts: dict[str, dict[str, int]] = {}
        async with self._engine.connect() as conn:
            for peer_id, outcome, count in await conn.execute(query):
                counts.setdefault(peer_id, {})[outcome] = int(count)
        return counts

    async def prune_delivery_log(self, before: datetime) -> int:
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(delivery_log).where(delivery_log.c.at < before))
        return int(result.rowcount or 0)


def _attempt_row(attempt: DeliveryAttempt) -> dict[str, Any]:
    row = dataclasses.asdict(attempt)
    del row["id"]
    return row
