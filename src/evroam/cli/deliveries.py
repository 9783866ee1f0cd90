"""`evroam deliveries` (how pushes to each peer go, and the ledger) and `evroam worker` (delivery workers)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import statistics
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from evroam.cli.common import AsJson, DatabaseUrl, Dev, app, out, run, settings
from evroam.delivery.push import Pusher
from evroam.node import Node
from evroam.store.interface import DeliveryAttempt, PeerDeliveryState
from evroam.types import format_datetime, utcnow

__all__ = ["deliveries", "worker"]

log = logging.getLogger("evroam.worker")

_LATENCY_SAMPLE = 5000


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _state(state: PeerDeliveryState | None) -> str:
    if state is None or (state.failures == 0 and state.out_of_sync_at is None):
        return "ok"
    if state.out_of_sync_at is not None:
        return f"out of sync since {format_datetime(state.out_of_sync_at)}"
    since = format_datetime(state.failing_since) if state.failing_since else "?"
    return f"failing since {since} ({state.failures} failures)"


def _attempt(a: DeliveryAttempt) -> dict[str, Any]:
    return {
        "at": format_datetime(a.at),
        "peer_id": a.peer_id,
        "module": a.module,
        "object": a.object,
        "method": a.method,
        "url": a.url,
        "request_id": a.request_id,
        "outcome": a.outcome,
        "http_status": a.http_status,
        "ocpi_status": a.ocpi_status,
        "latency_ms": a.latency_ms,
        "error": a.error,
    }


@app.command()
def deliveries(
    peer: Annotated[str | None, typer.Option(help="Only this peer (id).")] = None,
    limit: Annotated[int, typer.Option(help="How many recent attempts to list.")] = 20,
    failed: Annotated[bool, typer.Option("--failed", help="List only attempts that did not deliver.")] = False,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Pushes to each peer: health, what waits, the last hour's attempts and latency, and the ledger."""

    async def action(node: Node) -> dict[str, Any]:
        hour_ago = utcnow() - timedelta(hours=1)
        states = {s.peer_id: s for s in await node.store.peer_delivery_states()}
        pending = await node.store.pending_delivery_counts()
        counts = await node.store.delivery_counts(hour_ago)
        peers = []
        for p in await node.store.list_peers():
            if peer is not None and p.id != peer:
                continue
            recent = await node.store.delivery_log(peer_id=p.id, limit=_LATENCY_SAMPLE, since=hour_ago)
            latencies = sorted(a.latency_ms for a in recent if a.outcome == "DELIVERED" and a.latency_ms is not None)
            state = states.get(p.id)
            last_success = state.last_success_at if state else None
            peers.append(
                {
                    "peer_id": p.id,
                    "name": p.name,
                    "status": p.status.value,
                    "health": _state(state),
                    "out_of_sync": state is not None and state.out_of_sync_at is not None,
                    "last_success_at": format_datetime(last_success) if last_success else None,
                    "last_error": state.last_error if state else None,
                    "pending": pending.get(p.id, 0),
                    "last_hour": counts.get(p.id, {}),
                    "p50_ms": _percentile(latencies, 0.5),
                    "p99_ms": _percentile(latencies, 0.99),
                }
            )
        attempts = await node.store.delivery_log(peer_id=peer, limit=limit, failed_only=failed)
        return {"peers": peers, "attempts": [_attempt(a) for a in attempts]}

    report = run(settings(database_url=database_url), action)
    if as_json:
        print(json.dumps(report))
        return
    table = Table(title="Pushes per peer (last hour)")
    for column in ("peer", "health", "pending", "delivered", "retried", "refused", "p50 ms", "p99 ms", "last success"):
        table.add_column(column)
    for p in report["peers"]:
        hour = p["last_hour"]
        table.add_row(
            f"{p['name']} ({p['peer_id']})",
            p["health"],
            str(p["pending"]),
            str(hour.get("DELIVERED", 0)),
            str(hour.get("RETRY", 0)),
            str(hour.get("REFUSED", 0)),
            "-" if p["p50_ms"] is None else f"{p['p50_ms']:.1f}",
            "-" if p["p99_ms"] is None else f"{p['p99_ms']:.1f}",
            p["last_success_at"] or "-",
        )
    out.print(table)
    ledger = Table(title=f"Latest {'failed ' if failed else ''}attempts")
    for column in ("at", "peer", "method", "url", "outcome", "http", "ocpi", "ms", "request id"):
        ledger.add_column(column)
    for a in report["attempts"]:
        ledger.add_row(
            a["at"],
            a["peer_id"],
            a["method"],
            a["url"],
            a["outcome"] + (f": {a['error']}" if a["error"] else ""),
            str(a["http_status"] or "-"),
            str(a["ocpi_status"] or "-"),
            "-" if a["latency_ms"] is None else f"{a['latency_ms']:.1f}",
            a["request_id"],
        )
    out.print(ledger)


@app.command()
def worker(
    database_url: DatabaseUrl = None,
    dev: Dev = None,
    log_level: Annotated[str, typer.Option(envvar="EVROAM_LOG_LEVEL")] = "info",
    report_every: Annotated[float, typer.Option(help="Seconds between progress lines.")] = 10.0,
) -> None:
    """Run delivery workers against the node's database until stopped (Ctrl+C or SIGTERM): route its
    changes to the peers entitled to them, push them, and deliver the results owed to peers. Several
    workers (on several hosts, with PostgreSQL) share the work."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def action(node: Node) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        node.watch_changes()
        pusher = Pusher(node)
        await node.start(serving=False, pusher=pusher)
        log.info("delivery worker started for %s", ", ".join(f"{p.country_code}-{p.party_id}" for p in node.parties))
        delivered = failed = 0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(report_every):
                    await stop.wait()
            if pusher.delivered != delivered or pusher.failed != failed:
                pending = sum((await node.store.pending_delivery_counts()).values())
                log.info(
                    "delivered %d, failed %d in the last %.0f s; %d waiting",
                    pusher.delivered - delivered,
                    pusher.failed - failed,
                    report_every,
                    pending,
                )
                delivered, failed = pusher.delivered, pusher.failed
        log.info("delivery worker stopping")

    run(settings(database_url=database_url, dev_mode=dev), action)
