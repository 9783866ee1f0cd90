"""Charging load: simulated drivers at a CPO's Charge Points, their sessions and CDRs pushed to an eMSP.

Both nodes run as `evroam serve` processes and are registered (`common.node_pair`). This process plays the
CPO's Charge Points: it opens the CPO node on the CPO's database (no server, no pushing: the `serve`
process pushes what it writes) and `evroam.sim.drive` brings `--drivers` drivers to free EVSEs for
`--seconds`. Each has an RFID card of the eMSP's: half with whitelist NEVER (the CPO asks the eMSP in real
time, over HTTP), half ALLOWED (decided from the CPO's cache). Sessions charge `--charge` seconds (drawn
from 0.5x to 1.5x), metered every second, priced as they go, and end with a CDR.

Reported per run: sessions started per second; tap → session stored, p50/p99 (the authorization included);
session and CDR pushes delivered per second with their round trip p50/p99 (the CPO's delivery ledger);
and the seconds from the end of the load until the eMSP holds every session (COMPLETED) and CDR the CPO
holds.

    .venv/bin/python bench/charging.py [--quick] [--backend sqlite] [--drivers 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from common import CPO_PARTY, Options, Pair, add_options, log, node_pair, options_from, workdir, write_json

TARIFF = {
    "country_code": "NL",
    "party_id": "CPO",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": "0.39", "vat": 21, "step_size": 1}]}],
    "last_updated": "2025-01-01T00:00:00Z",
}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


async def _seed(pair: Pair, drivers: int, run: int) -> list[tuple[str, Any]]:
    """Tariffs for the generated Connectors at the CPO, and one card per driver at both nodes (as pushed)."""
    from evroam.modules.tariffs.service import TARIFFS
    from evroam.modules.tokens.models import TokenType
    from evroam.modules.tokens.service import TOKENS

    cpo, emsp = await pair.db.open_store("cpo"), await pair.db.open_store("emsp")
    try:
        for power in ("AC_1_PHASE", "AC_3_PHASE", "DC"):
            await TARIFFS.put(cpo, TARIFFS.key("NL", "CPO", f"TARIFF-{power}"), {**TARIFF, "id": f"TARIFF-{power}"})
        cards = []
        for n in range(drivers):
            uid = f"R{run}C{n:06d}"
            card = {
                "country_code": "DE",
                "party_id": "EMS",
                "uid": uid,
                "type": "RFID",
                "contract_id": f"DE-EMS-{uid}",
                "issuer": "bench",
                "valid": True,
                "whitelist": "NEVER" if n % 2 else "ALLOWED",
                "last_updated": "2025-01-01T00:00:00Z",
            }
            for store in (cpo, emsp):
                await TOKENS.put(store, TOKENS.key("DE", "EMS", uid, "RFID"), card)
            cards.append((uid, TokenType.RFID))
        return cards
    finally:
        await cpo.close()
        await emsp.close()


async def _charge_points(pair: Pair) -> Any:
    from evroam.config import Settings
    from evroam.node import Node

    settings = Settings(
        database_url=pair.cpo.database_url,
        database_schema=pair.db.schema("cpo"),
        parties=[CPO_PARTY],
        dev_mode=True,
        deliveries=False,
        resync=False,
        sim_meter_interval=1.0,
        sim_answer_delay=0.0,
    )
    node = await Node.open(settings)
    await node.start()
    return node


async def _held(pair: Pair, node: str) -> tuple[int, int, int]:
    """(sessions, of which COMPLETED, CDRs) a node holds."""
    from evroam.store.interface import ListQuery

    store = await pair.db.open_store(node)
    try:
        total, rows = await store.list_objects("sessions", ListQuery(limit=1_000_000))
        completed = sum(1 for row in rows if json.loads(row.data)["status"] == "COMPLETED")
        cdrs, _ = await store.list_objects("cdrs", ListQuery(limit=0))
        return total, completed, cdrs
    finally:
        await store.close()


async def _pushes(pair: Pair, since: datetime) -> list[Any]:
    store = await pair.db.open_store("cpo")
    try:
        return [a for a in await store.delivery_log(limit=10_000_000, since=since) if a.outcome == "DELIVERED"]
    finally:
        await store.close()


async def one_run(pair: Pair, run: int, drivers: int, seconds: float, charge: float) -> dict[str, Any]:
    from evroam.sim import Plan, drive

    cards = await _seed(pair, drivers, run)
    node = await _charge_points(pair)
    started_at = datetime.now(UTC)
    plan = Plan(drivers=drivers, charge_seconds=(charge / 2, charge * 1.5), pause_seconds=(0, 1), seed=run)
    try:
        report = await drive(node.charge_points, ("NL", "CPO"), cards, plan, seconds=seconds)
    finally:
        await node.close()
    ended = time.monotonic()
    cpo_held = await _held(pair, "cpo")
    while True:
        emsp_held = await _held(pair, "emsp")
        if emsp_held == cpo_held:
            break
        if time.monotonic() - ended > 120:
            raise SystemExit(f"the eMSP holds {emsp_held} (sessions, completed, CDRs), the CPO {cpo_held}")
        await asyncio.sleep(0.2)
    converged = time.monotonic() - ended
    pushes = await _pushes(pair, started_at)
    span = max((a.at for a in pushes), default=started_at) - started_at
    latencies = [a.latency_ms or 0.0 for a in pushes]
    result = {
        **report.summary(),
        "sessions_per_s": round(len(report.started) / seconds, 1),
        "pushes": {m: sum(1 for a in pushes if a.module == m) for m in ("sessions", "cdrs", "locations")},
        "pushes_per_s": round(len(pushes) / max(span.total_seconds(), 1e-9), 1),
        "push_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "push_p99_ms": round(_percentile(latencies, 0.99), 1),
        "converged_s": round(converged, 2),
        "held": {"sessions": cpo_held[0], "cdrs": cpo_held[2]},
    }
    log(f"run {run}: {result}")
    return result


def run(opts: Options, drivers: int, seconds: float, charge: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with workdir(opts) as work:
        for backend in opts.backends:
            with node_pair(backend, opts, work) as pair:
                runs = [asyncio.run(one_run(pair, k, drivers, seconds, charge)) for k in range(opts.runs)]
            results[backend] = {
                "runs": runs,
                "sessions_per_s_median": statistics.median(r["sessions_per_s"] for r in runs),
                "start_p99_ms_median": statistics.median(r["start_p99_ms"] or 0 for r in runs),
                "pushes_per_s_median": statistics.median(r["pushes_per_s"] for r in runs),
                "push_p99_ms_median": statistics.median(r["push_p99_ms"] for r in runs),
                "converged_s_median": statistics.median(r["converged_s"] for r in runs),
            }
            log(f"{backend}: {results[backend]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--drivers", type=int, default=200, help="drivers charging at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the drivers come and go")
    parser.add_argument("--charge", type=float, default=20.0, help="seconds a session charges, on average")
    args = parser.parse_args()
    opts = options_from(args)
    drivers, seconds, charge = args.drivers, args.seconds, args.charge
    if opts.quick:
        drivers, seconds, charge = min(drivers, 20), min(seconds, 10.0), min(charge, 4.0)
    write_json(opts, "charging", run(opts, drivers, seconds, charge))


if __name__ == "__main__":
    main()
