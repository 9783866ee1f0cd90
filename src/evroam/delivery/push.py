"""Pushing our changes to the peers entitled to them.

The outbox (written with each change) is routed into `deliveries`, one row per peer and object however
often it changed; senders claim rows, send the object as it is now (a PATCH of what changed where a
receiver can take one), and record every attempt in the ledger. A peer that cannot be reached is paused
with capped exponential backoff and jitter; once it has failed for `delivery_retry_window` seconds it is
out of sync and nothing is sent to it any more (transport_and_format_offline_behaviour: failed pushes are
not retried; the receiver resynchronises by pulling). What changes meanwhile is not queued as messages:
it stays one row per object, so when the peer calls us again or answers a probe it is sent the latest
state of each object that changed while it was away, besides the delta pull it makes itself.

Workers in several processes share the work: routing takes outbox rows once, claims hide a delivery for a
lease (SKIP LOCKED on PostgreSQL), and a crashed worker's claims expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from evroam.client.errors import PeerProtocolError, PeerRequestError, PeerResponseError, transient
from evroam.delivery.deltas import merge_hints
from evroam.delivery.pushes import push_request
from evroam.delivery.routes import Router
from evroam.errors import UnauthorizedError
from evroam.store.changes import OUTBOX, PEERS_CHANGED
from evroam.store.interface import (
    Delivery,
    DeliveryAttempt,
    DeliveryFate,
    DeliveryOrder,
    DeliveryOutcome,
    Peer,
    PeerDeliveryState,
)
from evroam.transport.headers import new_id
from evroam.types import InterfaceRole, utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["Pusher"]

log = logging.getLogger("evroam.delivery")

_PEERS: Final = (PEERS_CHANGED,)
_ROUTE_BATCH: Final = 500
_CLAIM_BATCH: Final = 64
_SENDERS: Final = 4
_POLL: Final = 0.5  # seconds between looks for work other processes made due
_KEEP: Final = 1.0  # seconds between refreshes of the peers' delivery states
_MAX_BACKOFF: Final = 60.0
_MAX_PROBE: Final = 30.0
_PRUNE_EVERY: Final = 3600.0


@dataclass
class _Sent:
    outcome: DeliveryOutcome
    attempt: DeliveryAttempt | None = None
    delivered: bool = False
    retry_after: float | None = None  # the peer's Retry-After


@dataclass
class _Batch:
    down: dict[str, str] = field(default_factory=dict)  # peers that failed transiently during the batch


def _transient(exc: PeerRequestError) -> bool:
    """Try again later (see `transient`); a refused token too, as the peer's credentials may be changing."""
    if isinstance(exc, PeerResponseError) and isinstance(exc.error, UnauthorizedError):
        return True
    if isinstance(exc, PeerProtocolError) and exc.http_status == 401:
        return True
    return transient(exc)


def _statuses(exc: PeerRequestError) -> tuple[int | None, int | None]:
    if isinstance(exc, PeerResponseError):
        return exc.error.http_status, exc.error.ocpi_status
    if isinstance(exc, PeerProtocolError):
        return exc.http_status, None
    return None, None


def _describe(delivery: Delivery) -> str:
    key = delivery.key
    return "/".join(part for part in (key.country_code, key.party_id, key.id, key.type) if part)


class Pusher:
    """The delivery work of one process: routing, sending, peer health, ledger pruning."""

    def __init__(self, node: Node, *, senders: int = _SENDERS) -> None:
        self.node = node
        self.store = node.store
        self.senders = senders
        self.window = node.settings.delivery_retry_window
        # How long a claimed delivery is hidden from other workers: a batch waits for at most two rounds of
        # requests per peer; a crashed worker's claims are taken up once it has passed.
        self.lease = max(5.0, 3 * node.settings.request_timeout)
        self.states: dict[str, PeerDeliveryState] = {}
        self._route_due = asyncio.Event()
        self._send_due = asyncio.Event()
        self._keep_due = asyncio.Event()
        self._resume: set[str] = set()
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._peers: list[Peer] = []
        self._peers_read = 0.0
        self._peers_stamp: tuple[int, ...] = ()
        self._probed: dict[str, float] = {}
        self._pruned = 0.0
        self.delivered = 0
        self.failed = 0

    # -- running ----------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Route, send and look after peers until cancelled."""
        self.node.auth.listeners.append(self._peer_called)
        self.store.changes.listeners.append(self._changed)
        self.node.on_stop(self._wake_all)
        try:
            loops: list[Awaitable[None]] = [self._forever(self.route_once, self._route_due)]
            loops += [self._forever(self.send_once, self._send_due) for _ in range(self.senders)]
            loops.append(self._forever(self.keep_once, self._keep_due, _KEEP))
            await asyncio.gather(*loops)
        finally:
            self.node.auth.listeners.remove(self._peer_called)
            self.store.changes.listeners.remove(self._changed)

    def _wake_all(self) -> None:
        for due in (self._route_due, self._send_due, self._keep_due):
            due.set()

    async def _forever(self, work: Callable[[], Awaitable[int]], due: asyncio.Event, idle: float = _POLL) -> None:
        """Do `work` whenever `due` is set (or every `idle` seconds) until the node stops."""
        while not self.node.stopping.is_set():
            due.clear()
            try:
                if await work() and not self.node.stopping.is_set():
                    continue  # more may be waiting
            except Exception:
                log.exception("delivery work failed; trying again")
            # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation arriving as the event is set.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle):
                    await due.wait()

    def _changed(self, module: str | None, watched: bool) -> None:
        # Writes that added to the outbox, ours or (through the watcher) another process's; None: the
        # watcher may have missed some.
        if module == OUTBOX or module is None:
            self._route_due.set()

    def _peer_called(self, peer_id: str) -> None:
        """A peer called us: if it was paused or out of sync it is reachable again."""
        state = self.states.get(peer_id)
        if state is not None and (state.out_of_sync_at is not None or state.retry_at is not None):
            self._resume.add(peer_id)
            self._keep_due.set()

    async def _peer_list(self) -> list[Peer]:
        """The peers now: read again whenever they may have changed (a change routed with an older list
        could miss a peer that registered meanwhile)."""
        changes = self.store.changes
        stamp = changes.stamp(_PEERS)
        if stamp != self._peers_stamp or not changes.live or time.monotonic() - self._peers_read > _KEEP:
            self._peers = await self.store.list_peers()
            self._peers_read = time.monotonic()
            self._peers_stamp = stamp
        return self._peers

    # -- routing ----------------------------------------------------------------------------------------
    async def route_once(self) -> int:
        """Route a batch of outbox changes to the peers entitled to them; returns how many were taken."""
        changes = await self.store.pending_changes(_ROUTE_BATCH)
        if not changes:
            return 0
        router = Router(self.store, self.node.parties, await self._peer_list())
        orders: list[DeliveryOrder] = []
        for change in changes:
            for recipient in await router.recipients(change.module, change.key, change.current):
                orders.append(
                    DeliveryOrder(
                        recipient.peer.id, change.module, change.key, change.hint, change.created_at, change.seq
                    )
                )
        taken = await self.store.queue_deliveries(orders, merge_hints, taking=[c.seq for c in changes])
        if orders:
            self._send_due.set()
        return taken

    # -- sending ----------------------------------------------------------------------------------------
    async def send_once(self) -> int:
        """Claim a batch of due deliveries and send them at once; returns how many were claimed."""
        claimed = await self.store.claim_deliveries(utcnow(), _CLAIM_BATCH, self.lease)
        if not claimed:
            return 0
        router = Router(self.store, self.node.parties, await self._peer_list())
        batch = _Batch()
        sent = await asyncio.gather(*(self._send(delivery, router, batch) for delivery in claimed))
        now = utcnow()
        # A peer that failed is paused before its deliveries are released, so no other sender tries it again
        # within its backoff.
        pauses = {
            peer_id: self._pause(
                peer_id, [s.retry_after for d, s in zip(claimed, sent, strict=True) if d.peer_id == peer_id]
            )
            for peer_id in batch.down
        }
        outcomes = [
            replace(s.outcome, retry_at=now + timedelta(seconds=pauses[d.peer_id]))
            if s.outcome.fate == DeliveryFate.RETRY
            else s.outcome
            for d, s in zip(claimed, sent, strict=True)
        ]
        await self.store.settle_deliveries(
            outcomes,
            [s.attempt for s in sent if s.attempt is not None],
            [d.peer_id for d, s in zip(claimed, sent, strict=True) if s.delivered],
            now,
        )
        self.delivered += sum(1 for s in sent if s.delivered)
        self.failed += sum(1 for s in sent if s.attempt is not None and not s.delivered)
        for peer_id, error in batch.down.items():
            await self._peer_failed(peer_id, error, pauses[peer_id], now)
        return len(claimed)

    def _limit(self, peer_id: str) -> asyncio.Semaphore:
        limit = self._limits.get(peer_id)
        if limit is None:
            limit = self._limits[peer_id] = asyncio.Semaphore(self.node.settings.delivery_concurrency)
        return limit

    async def _send(self, delivery: Delivery, router: Router, batch: _Batch) -> _Sent:
        def outcome(fate: DeliveryFate, error: str | None = None) -> DeliveryOutcome:
            return DeliveryOutcome(delivery.id, delivery.version, fate, utcnow(), error)

        recipients = await router.recipients(delivery.module, delivery.key, delivery.current)
        recipient = next((r for r in recipients if r.peer.id == delivery.peer_id), None)
        endpoint = recipient.peer.endpoint_url(delivery.module, InterfaceRole.RECEIVER.value) if recipient else None
        request = push_request(delivery, endpoint) if endpoint else None
        token = recipient.peer.token_out if recipient else None
        if recipient is None or request is None or token is None:
            return _Sent(outcome(DeliveryFate.DONE))  # no longer entitled, or nothing a receiver could be sent
        peer = recipient.peer
        async with self._limit(peer.id):
            if peer.id in batch.down:
                return _Sent(outcome(DeliveryFate.RELEASE))
            attempt = DeliveryAttempt(
                utcnow(), peer.id, delivery.module, _describe(delivery), request.method, request.url, new_id(), ""
            )
            started = time.perf_counter()
            try:
                reply = await self.node.client.request(
                    request.method,
                    request.url,
                    token=token,
                    version=peer.version,
                    body=request.body,
                    params=request.params,
                    routing=recipient.routing,
                    request_id=attempt.request_id,
                )
            except PeerRequestError as exc:
                http_status, ocpi_status = _statuses(exc)
                latency = round((time.perf_counter() - started) * 1000, 2)
                failed = replace(
                    attempt, http_status=http_status, ocpi_status=ocpi_status, latency_ms=latency, error=exc.message
                )
                if _transient(exc):
                    batch.down.setdefault(peer.id, exc.message)
                    return _Sent(
                        outcome(DeliveryFate.RETRY, exc.message),
                        replace(failed, outcome="RETRY"),
                        retry_after=exc.retry_after,
                    )
                refused = replace(failed, outcome="REFUSED")
                if request.partial:
                    # The receiver may lack what the PATCH builds on (never received, or dropped): send it whole.
                    return _Sent(outcome(DeliveryFate.WHOLE, exc.message), refused)
                log.warning("%s %s refused: %s", request.method, request.url, exc.message)
                return _Sent(outcome(DeliveryFate.DONE, exc.message), refused)
        delivered = replace(
            attempt,
            outcome="DELIVERED",
            http_status=reply.http_status,
            ocpi_status=reply.status_code,
            latency_ms=round(reply.elapsed_ms, 2),
        )
        return _Sent(outcome(DeliveryFate.DONE), delivered, delivered=True)

    def _pause(self, peer_id: str, retry_after: list[float | None]) -> float:
        """Seconds a peer that failed is left alone: capped exponential backoff with jitter, at least what it
        asked for (Retry-After)."""
        before = self.states.get(peer_id)
        failures = before.failures if before is not None else 0
        cap = min(_MAX_BACKOFF, max(1.0, self.window / 5))
        wait = min(cap, 2.0 ** min(failures, 16)) * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not secrets)
        return max([wait, *(w for w in retry_after if w is not None)])

    async def _peer_failed(self, peer_id: str, error: str, wait: float, now: datetime) -> None:
        before = self.states.get(peer_id)
        state = await self.store.peer_delivery_failed(peer_id, now, error, now + timedelta(seconds=wait), self.window)
        self.states[peer_id] = state
        if state.out_of_sync_at is not None and (before is None or before.out_of_sync_at is None):
            log.warning(
                "peer %s failed for %.0f s (%s): out of sync; pushes stop until it is reachable again",
                peer_id,
                self.window,
                error,
            )
        else:
            log.info("pushing to peer %s failed (%s); pausing %.1f s", peer_id, error, wait)

    # -- peers: refresh, probe, resume; ledger pruning ----------------------------------------------------------
    async def keep_once(self) -> int:
        self.states = {s.peer_id: s for s in await self.store.peer_delivery_states()}
        now = time.monotonic()
        peers = {p.id: p for p in await self._peer_list()}
        for state in self.states.values():
            if state.out_of_sync_at is None or state.peer_id in self._resume:
                continue
            if now - self._probed.get(state.peer_id, 0.0) >= min(_MAX_PROBE, self.window):
                self._probed[state.peer_id] = now
                peer = peers.get(state.peer_id)
                if peer is not None and await self._reachable(peer):
                    self._resume.add(peer.id)
        while self._resume:
            await self.resume(self._resume.pop())
        if now - self._pruned >= _PRUNE_EVERY:
            self._pruned = now
            cut = utcnow() - timedelta(days=self.node.settings.delivery_log_days)
            pruned = await self.store.prune_delivery_log(cut)
            if pruned:
                log.info("delivery ledger: %d attempts older than %s removed", pruned, cut.isoformat())
        return 0

    async def _reachable(self, peer: Peer) -> bool:
        if not peer.versions_url or not peer.token_out:
            return False
        try:
            await self.node.client.request("GET", peer.versions_url, token=peer.token_out, version=peer.version)
        except PeerRequestError:
            return False
        return True

    async def resume(self, peer_id: str) -> None:
        """The peer is reachable again: end its pause; what changed meanwhile is sent now."""
        state = await self.store.resume_peer_delivery(peer_id, utcnow())
        if state is None:
            return
        self.states.pop(peer_id, None)
        self._send_due.set()
        if state.out_of_sync_at is not None:
            pending = (await self.store.pending_delivery_counts()).get(peer_id, 0)
            log.info("peer %s is reachable again: %d changed objects to send", peer_id, pending)
