"""Delivering the calls owed to peers at URLs they gave us (results of commands and profile requests,
ActiveChargingProfile updates), from the `callbacks` table: sent once each, retried while the peer is
unreachable or failing on its side, given up when it refuses the call or the callback expires.

Several workers (processes, hosts) may run at once: each claims callbacks for a lease, so none is sent
twice at the same time. A worker sleeps until the next callback falls due, polling for ones other
processes add, and wakes at once for those its own node adds (`Node.callbacks_due`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from evroam.client.errors import PeerRequestError, transient
from evroam.store.interface import Callback
from evroam.transport.headers import RoutingHeaders
from evroam.types import utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["RESULT_LIFETIME", "deliver_due", "new_callback", "owe", "run_callbacks"]

log = logging.getLogger("evroam.delivery")

_BATCH: Final = 20
_LEASE: Final = 60.0  # seconds a claimed callback stays hidden from other workers (longer than a request)
_POLL: Final = 1.0  # seconds between looks for callbacks other processes added
_MAX_BACKOFF: Final = 60.0
# How long a result is offered to a peer that cannot be reached before it is given up.
RESULT_LIFETIME: Final = timedelta(hours=24)


def new_callback(
    peer_id: str,
    method: str,
    url: str,
    body: bytes,
    routing: tuple[str, str, str, str],
    lifetime: timedelta = RESULT_LIFETIME,
) -> Callback:
    """A call owed from now on, given up after `lifetime`; `routing` is (from cc, pid, to cc, pid)."""
    now = utcnow()
    return Callback(peer_id, method, url, body.decode(), now, now + lifetime, routing)


async def owe(node: Node, callback: Callback) -> None:
    """Store a callback and wake the node's delivery worker."""
    await node.store.add_callback(callback)
    node.callbacks_due.set()


async def run_callbacks(node: Node) -> None:
    """Deliver callbacks until the node stops (or this is cancelled)."""
    node.on_stop(node.callbacks_due.set)
    while not node.stopping.is_set():
        node.callbacks_due.clear()
        try:
            await deliver_due(node)
            wait = _POLL
            next_at = await node.store.next_callback_at()
            if next_at is not None:
                wait = min(_POLL, max(0.0, (next_at - utcnow()).total_seconds()))
        except Exception:
            log.exception("delivering callbacks failed; trying again")
            wait = _POLL
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the event is set,
        # and the worker would outlive `Node.close`.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await node.callbacks_due.wait()


async def deliver_due(node: Node) -> int:
    """Send every callback due now (in batches, each batch at once); returns how many were attempted."""
    attempted = 0
    while True:
        batch = await node.store.claim_callbacks(utcnow(), _BATCH, _LEASE)
        if not batch:
            return attempted
        await asyncio.gather(*(_deliver(node, callback) for callback in batch))
        attempted += len(batch)


async def _deliver(node: Node, callback: Callback) -> None:
    assert callback.id is not None
    peer = await node.store.get_peer(callback.peer_id)
    if peer is None or not peer.token_out:
        await node.store.callback_sent(callback.id, utcnow(), error="the peer is no longer registered")
        return
    try:
        await node.client.request(
            callback.method,
            callback.url,
            token=peer.token_out,
            version=peer.version,
            body=json.loads(callback.body),
            routing=RoutingHeaders(*callback.routing),
        )
    except PeerRequestError as exc:
        now = utcnow()
        retry_at = None
        if transient(exc) and now < callback.expires_at:
            backoff = min(_MAX_BACKOFF, 2.0 ** min(callback.attempts, 10))
            retry_at = min(now + timedelta(seconds=backoff), callback.expires_at)
        level = logging.INFO if retry_at else logging.WARNING
        log.log(
            level, "%s %s: %s (%s)", callback.method, callback.url, exc.message, "retrying" if retry_at else "given up"
        )
        await node.store.callback_sent(callback.id, now, error=exc.message, retry_at=retry_at)
        return
    await node.store.callback_sent(callback.id, utcnow())
