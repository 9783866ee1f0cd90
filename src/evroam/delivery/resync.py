"""Resync: delta pulls of every module we receive from every registered peer, so we converge with each owner
even when its pushes were lost.

OCPI 2.2.1 transport_and_format "Offline behaviour": failed pushes are not queued; once communication is
restored it is the receiving side that GETs (`date_from` = the last pull) to get back in sync. So a module
of a peer is pulled when we first see it (our own start, a new registration), when the peer calls us again
after its pulls failed (it is reachable again), and every `resync_interval` seconds, spread by
`resync_splay`. `ResyncSchedule` decides when (pure, time passed in); `run_resync` does the pulls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from evroam.delivery.pull import PullError, pull, pullable_modules
from evroam.store.changes import PEERS_CHANGED
from evroam.store.interface import Peer, PeerStatus
from evroam.types import format_datetime

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["ResyncSchedule", "run_resync"]

log = logging.getLogger("evroam.resync")

_FIRST_RETRY: Final = 5.0
_MAX_RETRY: Final = 300.0
# A success is never followed by the next pull sooner than this fraction of the interval, whatever the splay.
_MIN_FRACTION: Final = 0.1
_RELIST: Final = 5.0  # seconds between listings of the peers, for registrations made by other processes
_TICK: Final = 0.5  # seconds between looks at this process's peer changes (no IO: a counter)
_PEERS_AT_ONCE: Final = 4
_FINISH_PULLS: Final = 5.0  # seconds pulls under way may take to finish when the node stops


@dataclass(slots=True)
class _Entry:
    due: float
    failures: int = 0
    running: bool = False
    woken: bool = False  # a call of the peer already brought this failure streak's retry forward
    wake_pending: bool = False  # the peer called while the pull was in flight: if it fails, retry at once


class ResyncSchedule:
    """When each (peer, module) is pulled next. Times are seconds on any monotonic clock, given by the caller.

    A pair first seen is due at once. After a success it is due again after `interval` ± up to `splay` of it
    (never when `interval` is 0); after a failure, after a backoff doubling from `first_retry` up to
    `max_retry` (never beyond `interval`), with jitter. The modules of one peer are pulled one after the
    other: while one of them is under way (`begin` … `succeeded`/`failed`), none of that peer is due.
    """

    def __init__(
        self,
        interval: float,
        splay: float = 0.0,
        *,
        first_retry: float = _FIRST_RETRY,
        max_retry: float = _MAX_RETRY,
        rng: random.Random | None = None,
    ) -> None:
        self.interval = interval
        self.splay = splay
        self.first_retry = first_retry
        self.max_retry = max_retry
        self._rng = rng or random.Random()  # noqa: S311 (spreading pulls in time, nothing secret)
        # By peer, so that `peer_active` (on every request of a peer) looks at that peer's modules only.
        self._peers: dict[str, dict[str, _Entry]] = {}

    def track(self, pairs: Iterable[tuple[str, str]], now: float) -> None:
        """Follow exactly these (peer_id, module) pairs: new ones are due at once, missing ones forgotten."""
        wanted: dict[str, dict[str, None]] = {}
        for peer_id, module in pairs:
            wanted.setdefault(peer_id, {})[module] = None
        for peer_id in [p for p in self._peers if p not in wanted]:
            del self._peers[peer_id]
        for peer_id, modules in wanted.items():
            known = self._peers.get(peer_id, {})
            self._peers[peer_id] = {m: known.get(m) or _Entry(due=now) for m in modules}

    def forget(self, peer_id: str) -> None:
        """Stop following a peer (no longer registered); the end of a pull of it still under way is ignored."""
        self._peers.pop(peer_id, None)

    def due(self, now: float) -> list[tuple[str, str]]:
        """The pairs to pull now, in the order they were first tracked, leaving out peers with a pull under way."""
        return [
            (peer_id, module)
            for peer_id, modules in self._idle()
            for module, entry in modules.items()
            if entry.due <= now
        ]

    def next_due(self) -> float | None:
        """When the next pair falls due (None: never, or only after a pull under way ends)."""
        when = min((e.due for _, modules in self._idle() for e in modules.values()), default=math.inf)
        return None if math.isinf(when) else when

    def begin(self, peer_id: str, module: str) -> None:
        """A pull of the pair is under way (queued or in flight) until `succeeded` or `failed`."""
        entry = self._entry(peer_id, module)
        if entry is not None:
            entry.running = True

    def succeeded(self, peer_id: str, module: str, now: float) -> float:
        """Record a successful pull; returns when the pair is due next (`math.inf`: never)."""
        entry = self._entry(peer_id, module)
        if entry is None:
            return math.inf
        entry.failures, entry.running, entry.woken, entry.wake_pending = 0, False, False, False
        if self.interval <= 0:
            entry.due = math.inf
        else:
            spread = self.splay * self._rng.uniform(-1.0, 1.0)
            entry.due = now + self.interval * max(_MIN_FRACTION, 1.0 + spread)
        return entry.due

    def failed(self, peer_id: str, module: str, now: float) -> float:
        """Record a failed pull; returns when it is tried again."""
        entry = self._entry(peer_id, module)
        if entry is None:
            return math.inf
        entry.failures += 1
        entry.running = False
        if entry.wake_pending:
            entry.wake_pending = False
            entry.due = now
            return now
        backoff = min(self.max_retry, self.first_retry * 2.0 ** min(entry.failures - 1, 30))
        # Half fixed, half random: peers that failed together do not all come back at the same moment,
        # and a retry never comes sooner than half the backoff.
        delay = backoff * self._rng.uniform(0.5, 1.0)
        if self.interval > 0:
            delay = min(delay, self.interval)
        entry.due = now + delay
        return entry.due

    def peer_active(self, peer_id: str, now: float) -> bool:
        """The peer called us, so it is reachable: its modules whose last pull failed are due at once (a
        pull under way that then fails is retried at once). Once per failure streak: a peer that keeps
        calling while its Sender keeps failing is left to the backoff. Returns whether a pair fell due."""
        fell_due = False
        for entry in self._peers.get(peer_id, {}).values():
            if entry.woken or (entry.failures == 0 and not entry.running):
                continue
            entry.woken = True
            if entry.running:
                entry.wake_pending = True
            else:
                entry.due = min(entry.due, now)
                fell_due = True
        return fell_due

    def failures(self, peer_id: str, module: str) -> int:
        """Consecutive failed pulls of the pair."""
        entry = self._entry(peer_id, module)
        return entry.failures if entry is not None else 0

    def due_at(self, peer_id: str, module: str) -> float | None:
        """When the pair is due (`math.inf`: never); None when it is not tracked."""
        entry = self._entry(peer_id, module)
        return entry.due if entry is not None else None

    def _entry(self, peer_id: str, module: str) -> _Entry | None:
        return self._peers.get(peer_id, {}).get(module)

    def _idle(self) -> Iterator[tuple[str, dict[str, _Entry]]]:
        for peer_id, modules in self._peers.items():
            if not any(e.running for e in modules.values()):
                yield peer_id, modules


async def run_resync(node: Node) -> None:
    """Resync with every registered peer we receive data from, until cancelled."""
    await _Resync(node).run()


class _Resync:
    """The running resync of one node: its schedule, the peers last listed, the pulls under way."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.schedule = ResyncSchedule(node.settings.resync_interval, node.settings.resync_splay)
        self.wake = asyncio.Event()
        self.peers: dict[str, Peer] = {}
        self.listed_at = -math.inf
        self.listed_stamp: tuple[int, ...] | None = None
        self.running: set[asyncio.Task[None]] = set()
        self.limit = asyncio.Semaphore(_PEERS_AT_ONCE)

    def peer_called(self, peer_id: str) -> None:
        """`Authenticator` listener, told of every request of a registered peer: no IO here."""
        if self.schedule.peer_active(peer_id, time.monotonic()):
            self.wake.set()

    async def run(self) -> None:
        self.node.auth.listeners.append(self.peer_called)
        self.node.on_stop(self.wake.set)
        try:
            while not self.node.stopping.is_set():
                self.wake.clear()
                await self.list_when_stale()
                self.start_due()
                # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation arriving as the event is set.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.wait()):
                        await self.wake.wait()
        finally:
            self.node.auth.listeners.remove(self.peer_called)
            tasks = list(self.running)
            if tasks and self.node.stopping.is_set():
                await asyncio.wait(tasks, timeout=_FINISH_PULLS)  # a pull cut short mid-write is done again
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def list_when_stale(self) -> None:
        """List the peers again when this process changed them, or every `_RELIST` seconds (other processes)."""
        stamp = self.node.store.changes.stamp((PEERS_CHANGED,))
        if stamp == self.listed_stamp and time.monotonic() - self.listed_at < _RELIST:
            return
        try:
            listed = await self.node.store.list_peers()
        except Exception:
            log.exception("listing the peers to resync with failed; trying again in %.0f s", _RELIST)
        else:
            self.peers = {p.id: p for p in listed if p.status == PeerStatus.REGISTERED and p.token_out}
            pairs = [(p.id, module) for p in self.peers.values() for module in pullable_modules(self.node, p)]
            self.schedule.track(pairs, time.monotonic())
        self.listed_at, self.listed_stamp = time.monotonic(), stamp

    def start_due(self) -> None:
        """Start a task per peer with modules due, pulling them one after the other."""
        by_peer: dict[str, list[str]] = {}
        for peer_id, module in self.schedule.due(time.monotonic()):
            by_peer.setdefault(peer_id, []).append(module)
        for peer_id, modules in by_peer.items():
            for module in modules:
                self.schedule.begin(peer_id, module)
            task = asyncio.get_running_loop().create_task(self.resync_peer(self.peers[peer_id], modules))
            self.running.add(task)
            task.add_done_callback(self.running.discard)
            task.add_done_callback(lambda _: self.wake.set())  # its peer's modules may be due again

    def wait(self) -> float:
        """Seconds until the next pull falls due, the peers are listed again, or a look at the peer changes."""
        now = time.monotonic()
        wait = min(_TICK, self.listed_at + _RELIST - now)
        next_at = self.schedule.next_due()
        if next_at is not None:
            wait = min(wait, next_at - now)
        return max(0.0, wait)

    async def resync_peer(self, listed: Peer, modules: list[str]) -> None:
        async with self.limit:
            # Read again: its token or endpoints may have changed while this waited.
            peer = await self.current(listed)
            if peer is None:
                self.schedule.forget(listed.id)
                return
            for module in modules:
                await self.resync(peer, module)

    async def current(self, listed: Peer) -> Peer | None:
        """The peer as stored now, None when it can no longer be called."""
        try:
            peer = await self.node.store.get_peer(listed.id)
        except Exception:
            log.exception("reading peer %s failed; resyncing with what was listed", listed.name or listed.id)
            return listed
        return peer if peer is not None and peer.status == PeerStatus.REGISTERED and peer.token_out else None

    async def resync(self, peer: Peer, module: str) -> None:
        schedule = self.schedule
        try:
            result = await pull(self.node, peer, module)
        except PullError as exc:
            retry = _retry(schedule.failed(peer.id, module, time.monotonic()))
            # The first failure of a streak is worth a warning; its retries would only repeat it.
            level = logging.WARNING if schedule.failures(peer.id, module) == 1 else logging.INFO
            log.log(level, "resync failed: %s; %s", exc, retry)  # the message names the module and the peer
            return
        except Exception:
            retry = _retry(schedule.failed(peer.id, module, time.monotonic()))
            log.exception("resync of %s from %s failed; %s", module, peer.name or peer.id, retry)
            return
        schedule.succeeded(peer.id, module, time.monotonic())
        log.info(
            "resynced %s from %s: %d received, %d created, %d updated%s",
            module,
            peer.name or peer.id,
            result.received,
            result.created,
            result.updated,
            f" since {format_datetime(result.since)}" if result.since else " (everything)",
        )


def _retry(at: float) -> str:
    if math.isinf(at):
        return "not retried"
    return f"retrying in {max(0.0, at - time.monotonic()):.1f} s"
