"""Push delivery: EVSE status changes of a CPO reaching an eMSP, as two `evroam serve` processes.

Both nodes hold the same Locations (seeded into each store, as after a pull). Every change is an EVSE
status PATCH written into the CPO's database the way its back office writes (the service, with the outbox
row in the same transaction), from this process.

1. Throughput: `--backlog` changes, each on an EVSE of a different Location (nothing coalesces), are written while no
   delivery worker runs; then an `evroam worker` process delivers them. Deliveries/s = changes / (last
   acknowledgement - first attempt), from the CPO's delivery ledger.
2. Latency: with the CPO delivering from its `serve` process, changes are written at `--rate` per second
   for `--seconds`, each on a different EVSE; the latency of each is its commit to the eMSP's
   acknowledgement (the ledger's attempt start + its round trip), p50 and p99.

    .venv/bin/python bench/delivery.py [--quick] [--backend sqlite] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from common import (
    CPO_PARTY,
    Options,
    Pair,
    add_options,
    analyze,
    clean_env,
    evse_paths,
    log,
    node_pair,
    options_from,
    seed_locations,
    workdir,
    write_json,
)

STATUSES = ("CHARGING", "AVAILABLE")
CONCURRENCY: list[str | None] = [None]  # EVROAM_DELIVERY_CONCURRENCY of the delivering processes


async def _open_cpo(pair: Pair) -> Any:
    from evroam.config import Settings
    from evroam.node import Node

    settings = Settings(
        database_url=pair.cpo.database_url,
        database_schema=pair.db.schema("cpo"),
        parties=[CPO_PARTY],
        dev_mode=True,
    )
    return await Node.open(settings)


def _path(evse: str) -> Any:
    from evroam.modules.locations.service import LocationPath

    cc, pid, location, uid = evse.split("/")
    return LocationPath(cc, pid, location, uid)


async def write_changes(pair: Pair, evses: list[str], rate: float | None, base: datetime) -> dict[str, float]:
    """One status change per EVSE (at `rate` per second, or as fast as possible); their commit times."""
    from evroam.modules.locations.service import patch_at
    from evroam.types import format_datetime

    node = await _open_cpo(pair)
    committed: dict[str, float] = {}
    started = time.time()
    try:
        for n, evse in enumerate(evses):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + n / rate - time.time()))
            stamp = format_datetime(base + timedelta(milliseconds=n))
            await patch_at(node.store, _path(evse), {"status": STATUSES[n % 2], "last_updated": stamp})
            committed[evse] = time.time()
    finally:
        await node.close()
    return committed


async def ledger(pair: Pair, since: datetime) -> list[Any]:
    store = await pair.db.open_store("cpo")
    try:
        return [a for a in await store.delivery_log(limit=10_000_000, since=since) if a.outcome == "DELIVERED"]
    finally:
        await store.close()


async def waiting(pair: Pair) -> int:
    from sqlalchemy import func, select

    from evroam.store.tables import deliveries, outbox

    store = await pair.db.open_store("cpo")
    try:
        async with store.engine.connect() as conn:
            queued = (await conn.execute(select(func.count()).select_from(deliveries))).scalar_one()
            routed = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    finally:
        await store.close()
    return int(queued) + int(routed)


def drain(pair: Pair, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while asyncio.run(waiting(pair)):
        if time.monotonic() > deadline:
            raise RuntimeError("deliveries did not drain in time")
        time.sleep(0.2)


def _ack(attempt: Any) -> float:
    return float(attempt.at.timestamp() + (attempt.latency_ms or 0.0) / 1000)


def throughput(pair: Pair, evses: list[str], base: datetime) -> dict[str, Any]:
    backend = pair.db.backend
    pair.cpo.stop()  # the serving CPO would deliver while the backlog is written
    pair.cpo.env["EVROAM_DELIVERIES"] = "false"
    pair.cpo.start()
    began = datetime.now(UTC)
    written = time.perf_counter()
    asyncio.run(write_changes(pair, evses, None, base))
    log(f"{backend}: {len(evses)} changes written in {time.perf_counter() - written:.1f} s")
    worker = subprocess.Popen(
        [sys.executable, "-m", "evroam", "worker", "--dev", "--database-url", pair.cpo.database_url],
        env=clean_env(EVROAM_DATABASE_SCHEMA=pair.db.schema("cpo"), EVROAM_DELIVERY_CONCURRENCY=CONCURRENCY[0]),
        stdout=(pair.db.workdir / "worker.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        drain(pair, timeout=600)
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    attempts = asyncio.run(ledger(pair, began))
    first = min(a.at.timestamp() for a in attempts)
    last = max(_ack(a) for a in attempts)
    patches = sum(1 for a in attempts if a.method == "PATCH")
    rate = len(attempts) / (last - first)
    log(f"{backend}: {len(attempts)} deliveries ({patches} PATCH) in {last - first:.2f} s: {rate:.0f}/s")
    pair.cpo.stop()
    pair.cpo.env.pop("EVROAM_DELIVERIES")
    pair.cpo.start()
    return {
        "changes": len(evses),
        "delivered": len(attempts),
        "patches": patches,
        "seconds": last - first,
        "per_s": rate,
    }


def latency(pair: Pair, evses: list[str], rate: float, base: datetime) -> dict[str, Any]:
    backend = pair.db.backend
    began = datetime.now(UTC)
    committed = asyncio.run(write_changes(pair, evses, rate, base))
    drain(pair, timeout=120)
    acks: dict[str, float] = {}
    for attempt in asyncio.run(ledger(pair, began)):
        evse = "/".join(attempt.url.rsplit("/", 4)[-4:])
        acks[evse] = max(acks.get(evse, 0.0), _ack(attempt))
    delays = sorted((acks[e] - committed[e]) * 1000 for e in committed if e in acks)
    cuts = statistics.quantiles(delays, n=100, method="inclusive")
    result = {
        "rate": rate,
        "changes": len(evses),
        "acknowledged": len(delays),
        "p50_ms": cuts[49],
        "p99_ms": cuts[98],
        "max_ms": delays[-1],
    }
    log(f"{backend}: at {rate:.0f}/s, commit → eMSP ack p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms")
    return result


def run(opts: Options, backlog: int, rate: float, seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with workdir(opts) as work:
        for backend in opts.backends:
            with node_pair(backend, opts, work) as pair:
                if CONCURRENCY[0]:
                    pair.cpo.env["EVROAM_DELIVERY_CONCURRENCY"] = CONCURRENCY[0]
                asyncio.run(seed_locations(pair.db, "emsp", opts.locations))
                asyncio.run(analyze(pair.db, "emsp"))  # as for the CPO: autovacuum's statistics after a bulk load
                # One EVSE of each Location: changes of different EVSEs of one Location would be sent as one.
                paths = [path for path in evse_paths(opts.locations) if path.endswith("-E0")]
                changes = int(rate * seconds)
                if backlog + changes > len(paths):
                    raise SystemExit(f"{backlog + changes} changes need as many Locations: raise --locations")
                runs = []
                for k in range(opts.runs):
                    base = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=2 * k)
                    runs.append(
                        {
                            "throughput": throughput(pair, paths[:backlog], base),
                            "latency": latency(
                                pair, paths[backlog : backlog + changes], rate, base + timedelta(days=1)
                            ),
                        }
                    )
                results[backend] = {
                    "runs": runs,
                    "throughput_per_s_median": statistics.median(r["throughput"]["per_s"] for r in runs),
                    "p50_ms_median": statistics.median(r["latency"]["p50_ms"] for r in runs),
                    "p99_ms_median": statistics.median(r["latency"]["p99_ms"] for r in runs),
                }
                log(f"{backend}: {results[backend]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--backlog", type=int, default=5000, help="changes delivered from a backlog (throughput)")
    parser.add_argument("--rate", type=float, default=100.0, help="changes per second written (latency)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long changes are written (latency)")
    parser.add_argument("--concurrency", help="pushes in flight per peer (EVROAM_DELIVERY_CONCURRENCY)")
    args = parser.parse_args()
    CONCURRENCY[0] = args.concurrency
    opts = options_from(args)
    backlog, seconds = args.backlog, args.seconds
    if opts.quick:
        backlog, seconds = min(backlog, 1000), min(seconds, 5.0)
    results = run(opts, backlog, args.rate, seconds)
    write_json(opts, "delivery", results)


if __name__ == "__main__":
    main()
