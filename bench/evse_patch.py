"""Target 2: EVSE status PATCHes on the eMSP's Locations Receiver, sent by the registered CPO.

The eMSP holds the CPO's Locations (written into its store directly unless a pull already brought them).
Every request is `PATCH /ocpi/2.2.1/receiver/locations/NL/CPO/{location_id}/{evse_uid}` with
`{"status": ..., "last_updated": ...}`; the load generator walks all EVSEs round-robin and each EVSE sees
strictly increasing last_updated, so every PATCH is applied (stale replies are counted and reported).

    .venv/bin/python bench/evse_patch.py [--quick] [--backend sqlite] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from common import (
    Options,
    Pair,
    add_options,
    count_locations,
    evse_paths,
    log,
    median,
    node_pair,
    options_from,
    run_load,
    seed_locations,
    workdir,
    write_json,
)

# Timestamps of run k start at T0 + k * STEP seconds: later than anything an earlier run sent.
T0 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
STEP = 10_000_000


async def applied_share(pair: Pair, sample: int = 200) -> float:
    """Share of a sample of the eMSP's Locations whose EVSEs changed since seeding (PATCHes did land)."""
    from evroam.store.interface import ListQuery

    store = await pair.db.open_store("emsp")
    try:
        _, rows = await store.list_objects("locations", ListQuery(limit=sample))
    finally:
        await store.close()
    changed = sum(1 for row in rows if row.last_updated.year >= 2030)
    return changed / len(rows) if rows else 0.0


def measure(pair: Pair, opts: Options) -> dict[str, Any]:
    backend = pair.db.backend
    have = asyncio.run(count_locations(pair.db, "emsp"))
    if have < opts.locations:
        seconds = asyncio.run(seed_locations(pair.db, "emsp", opts.locations))
        log(f"{backend}: seeded {opts.locations} locations into the eMSP in {seconds:.1f} s")
    targets = pair.db.workdir / "evse-targets.txt"
    paths = evse_paths(opts.locations)
    targets.write_text("\n".join(paths) + "\n")
    url = pair.emsp.base_url + "/"
    env = {"BENCH_AUTHORIZATION": pair.cpo_to_emsp, "BENCH_TARGETS": str(targets)}
    log(f"{backend}: PATCHing {len(paths):,} EVSEs round-robin; warming up")
    run_load(opts, url, opts.warmup, lua="evse_patch.lua", env={**env, "BENCH_T0": str(T0)})
    runs = []
    for i in range(opts.runs):
        run_env = {**env, "BENCH_T0": str(T0 + (i + 1) * STEP)}
        result = run_load(opts, url, opts.duration, lua="evse_patch.lua", env=run_env, server_pid=pair.emsp.pid)
        cpu = result.extra["cpu"]
        log(
            f"  run {i + 1}: {result.rps:,.1f} PATCH/s, p50 {result.latency_ms.get('p50', 0):.1f} ms, "
            f"stale {result.extra.get('stale')}, failed {result.extra.get('failed')}, "
            f"other processes took {cpu['others_share']:.0%} of the CPUs"
        )
        runs.append(vars(result))
    applied = asyncio.run(applied_share(pair))
    return {
        "backend": backend,
        "evses": len(paths),
        "tool": runs[0]["tool"] if runs else "",
        "rps": [r["rps"] for r in runs],
        "rps_median": median([r["rps"] for r in runs]),
        "p50_ms": median([r["latency_ms"].get("p50", float("nan")) for r in runs]),
        "p99_ms": median([r["latency_ms"].get("p99", float("nan")) for r in runs]),
        "cpu_ms": median(
            [(r["extra"]["cpu"]["server"] + r["extra"]["cpu"]["postgres"]) * 1000 / r["requests"] for r in runs]
        ),
        "others_share": median([r["extra"]["cpu"]["others_share"] for r in runs]),
        "errors": sum(r["errors"] for r in runs),
        "stale": sum(r["extra"].get("stale", 0) for r in runs),
        "applied_sample_share": applied,
        "runs": runs,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | EVSEs patched round-robin | PATCH/s (median) | per run | p50 / p99 "
        "| CPU ms/PATCH evroam (+DB) | CPU used by others | errors | stale replies |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        per_run = ", ".join(f"{x:,.0f}" for x in r["rps"])
        lines.append(
            f"| {r['backend']} | {r['evses']:,} | {r['rps_median']:,.1f} | {per_run} "
            f"| {r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms | {r['cpu_ms']:.2f} | {r['others_share']:.0%} "
            f"| {r['errors']} | {r['stale']} |"
        )
    lines += ["", f"Load generator: {', '.join(sorted({r['tool'] for r in results}))}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    opts = options_from(parser.parse_args())
    results = []
    with workdir(opts) as work:
        for backend in opts.backends:
            with node_pair(backend, opts, work) as pair:
                results.append(measure(pair, opts))
    print(table(results))
    write_json(opts, "evse_patch", results)


if __name__ == "__main__":
    main()
