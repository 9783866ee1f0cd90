"""Which modules changed: counters that let a node keep derived data (list pages) until its source changes.

Every write through the store bumps its module's counter once committed. Writers in other processes
(commands run against the same database, other workers) are seen by a watcher: PostgreSQL notifies
each committed change of objects and peers (triggers, migration 0005); on SQLite, triggers count them
per module in `change_counts`, which is polled. The watcher also reports this process's own writes a
moment later, which costs one more rendering of a page at most. Whoever caches must check `live`:
while no watcher runs (or its connection was lost) a change made elsewhere could go unseen, so
nothing may be served from a cache then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from evroam.store.tables import change_counts

__all__ = ["CHANNEL", "PEERS_CHANGED", "SQLITE_POLL_SECONDS", "WATCHER_NAME", "ChangeCounters", "watch_changes"]

log = logging.getLogger("evroam.store")

CHANNEL: Final = "evroam_changes"
"""The PostgreSQL notification channel; the payload is the module name, or `PEERS_CHANGED`."""

PEERS_CHANGED: Final = "peers"
"""The counter of peers and their credentials tokens (who may see what)."""

OUTBOX: Final = "outbox"
"""Bumped when a write added changes to the outbox: by the writing process at once, and in every process
following the database through the watcher (a trigger on the outbox counts or notifies it)."""

WATCHER_NAME: Final = "evroam-change-watcher"
SQLITE_POLL_SECONDS: Final = 0.2
_PG_HEALTH_SECONDS: Final = 1.0
_RETRY_SECONDS: Final = (0.5, 1.0, 2.0, 5.0)


class ChangeCounters:
    """A counter per module plus an epoch that invalidates everything at once."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._epoch = 0
        self.live = False
        """True while a watcher sees other processes' changes (caching is safe only then)."""
        self.listeners: list[Callable[[str | None, bool], None]] = []
        """Called with the module of each change seen (None: anything may have changed) and whether it was
        seen by the watcher (made elsewhere, or by this process and reported again); must be cheap."""

    def bump(self, module: str, *, watched: bool = False) -> None:
        self._counts[module] = self._counts.get(module, 0) + 1
        for listener in self.listeners:
            listener(module, watched)

    def bump_all(self) -> None:
        self._epoch += 1
        for listener in self.listeners:
            listener(None, True)

    def stamp(self, modules: tuple[str, ...]) -> tuple[int, ...]:
        """The counters of `modules` now: a result computed from them is current while this is unchanged."""
        counts = self._counts
        return (self._epoch, *[counts.get(m, 0) for m in modules])


async def watch_changes(engine: AsyncEngine, counters: ChangeCounters) -> None:
    """Follow changes made by other connections until cancelled, reconnecting when the database goes away.

    Each (re)connection starts with `bump_all`, since changes may have been missed while not watching."""
    failures = 0
    while True:
        try:
            if engine.dialect.name == "postgresql":
                await _listen(engine, counters)
            else:
                await _poll_sqlite(engine, counters)
        except asyncio.CancelledError:
            counters.live = False
            raise
        except Exception as exc:
            counters.live = False
            counters.bump_all()
            delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
            failures += 1
            log.warning("watching the database for changes failed (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)


async def _poll_sqlite(engine: AsyncEngine, counters: ChangeCounters) -> None:
    async with engine.connect() as conn:
        seen: dict[str, int] | None = None
        while True:
            result = await conn.execute(select(change_counts.c.name, change_counts.c.count))
            counts: dict[str, int] = {name: count for name, count in result}
            # End the read transaction, or the next poll would read the same snapshot.
            await conn.rollback()
            if seen is None:
                counters.bump_all()
            else:
                for name, count in counts.items():
                    if seen.get(name) != count:
                        counters.bump(name, watched=True)
            seen = counts
            counters.live = True
            await asyncio.sleep(SQLITE_POLL_SECONDS)


async def _listen(engine: AsyncEngine, counters: ChangeCounters) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection

        def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            counters.bump(payload, watched=True)

        def lost(_conn: Any) -> None:
            counters.live = False  # at once; the next health check fails and reconnects

        driver.add_termination_listener(lost)
        # Named, so it is told apart in pg_stat_activity; the connection is not returned to the pool
        # while the name could matter (it is closed on exit).
        await driver.execute(f"SET application_name = '{WATCHER_NAME}'")
        await driver.add_listener(CHANNEL, notified)
        try:
            counters.bump_all()
            counters.live = True
            while True:
                await asyncio.sleep(_PG_HEALTH_SECONDS)
                await driver.fetchval("SELECT 1")  # a lost connection shows here
        finally:
            counters.live = False
            await conn.invalidate()  # never back into the pool: it listens and carries our name
