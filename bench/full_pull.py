"""Target 3: a second evroam node (the eMSP) pulls all of the CPO's Locations; target under 10 s.

Three cases, `pull_runs` times each, on the running CPO (page cap 1000, so 10 pages for 10,000):
  cli-first   `evroam sync CPO --module locations --full` into an eMSP with no Locations, wall clock of the
              whole command (interpreter start, imports, opening the database included);
  call-first  `evroam.delivery.pull.pull(...)` timed inside its own process, eMSP emptied first;
  cli-again   the same command when the eMSP already holds every Location (all are updates).

    .venv/bin/python bench/full_pull.py [--quick] [--backend sqlite] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from typing import Any

from common import (
    BENCH_DIR,
    Options,
    Pair,
    add_options,
    clear_locations,
    count_locations,
    log,
    median,
    node_pair,
    options_from,
    workdir,
    write_json,
)

TARGET_SECONDS = 10.0


def cli_pull(pair: Pair) -> dict[str, Any]:
    started = time.perf_counter()
    out = pair.emsp.cli("sync", pair.cpo_peer_id, "--module", "locations", "--full", "--json", "--dev").stdout
    seconds = time.perf_counter() - started
    [result] = json.loads(out)
    return {"seconds": seconds, **{k: result[k] for k in ("received", "created", "updated", "invalid", "pages")}}


def call_pull(pair: Pair) -> dict[str, Any]:
    args = [sys.executable, str(BENCH_DIR / "full_pull.py"), "pull-once", "--database-url", pair.emsp.database_url]
    args += ["--peer", pair.cpo_peer_id]
    schema = pair.db.schema("emsp")
    if schema:
        args += ["--schema", schema]
    done = subprocess.run(args, capture_output=True, text=True, env=pair.emsp.env, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pull-once failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure(pair: Pair, opts: Options) -> dict[str, Any]:
    backend = pair.db.backend
    cases: dict[str, list[dict[str, Any]]] = {"cli-first": [], "call-first": [], "cli-again": []}
    for case in cases:
        for i in range(opts.pull_runs):
            if case.endswith("first"):
                asyncio.run(clear_locations(pair.db, "emsp"))
            result = cli_pull(pair) if case.startswith("cli") else call_pull(pair)
            if result["received"] != opts.locations or result["invalid"]:
                raise RuntimeError(f"{case}: expected {opts.locations} valid locations, got {result}")
            log(f"{backend} {case} {i + 1}: {result['seconds']:.2f} s ({result})")
            cases[case].append(result)
    stored = asyncio.run(count_locations(pair.db, "emsp"))
    if stored != opts.locations:
        raise RuntimeError(f"the eMSP holds {stored} locations after pulling, expected {opts.locations}")
    return {
        "backend": backend,
        "locations": opts.locations,
        "pages": cases["cli-first"][0]["pages"],
        "cases": {
            case: {"seconds": [r["seconds"] for r in runs], "median": median([r["seconds"] for r in runs])}
            for case, runs in cases.items()
        },
        "runs": cases,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | case | Locations | pages | seconds (median) | per run | target < 10 s |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in results:
        for case, c in r["cases"].items():
            met = "met" if c["median"] < TARGET_SECONDS else "**not met**"
            per_run = ", ".join(f"{x:.2f}" for x in c["seconds"])
            row = f"| {r['backend']} | {case} | {r['locations']:,} | {r['pages']} | {c['median']:.2f} | {per_run}"
            lines.append(f"{row} | {met} |")
    return "\n".join(lines)


async def pull_once(database_url: str, schema: str | None, peer_id: str) -> dict[str, Any]:
    """In this process: open the eMSP node and time `pull(node, peer, "locations", full=True)`."""
    from evroam.config import Settings
    from evroam.delivery.pull import pull
    from evroam.node import Node

    node = await Node.open(Settings(database_url=database_url, database_schema=schema, dev_mode=True))
    try:
        peer = await node.store.get_peer(peer_id)
        if peer is None:
            raise SystemExit(f"no peer {peer_id}")
        started = time.perf_counter()
        result = await pull(node, peer, "locations", full=True)
        seconds = time.perf_counter() - started
    finally:
        await node.close()
    return {
        "seconds": seconds,
        "received": result.received,
        "created": result.created,
        "updated": result.updated,
        "invalid": result.invalid,
        "pages": result.pages,
    }


def main() -> None:
    if sys.argv[1:2] == ["pull-once"]:
        inner = argparse.ArgumentParser(prog="full_pull.py pull-once")
        inner.add_argument("--database-url", required=True)
        inner.add_argument("--schema")
        inner.add_argument("--peer", required=True)
        ns = inner.parse_args(sys.argv[2:])
        print(json.dumps(asyncio.run(pull_once(ns.database_url, ns.schema, ns.peer))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    opts = options_from(parser.parse_args())
    results = []
    with workdir(opts) as work:
        for backend in opts.backends:
            with node_pair(backend, opts, work) as pair:
                results.append(measure(pair, opts))
    print(table(results))
    write_json(opts, "full_pull", results)


if __name__ == "__main__":
    main()
