"""All three benchmarks, one node pair per backend: list under load (vs the bare app), full pull, EVSE PATCH.

    .venv/bin/python bench/run_all.py                  # 10,000 Locations, 5 x 10 s runs (about 12 minutes)
    .venv/bin/python bench/run_all.py --quick          # a smoke run (about 2 minutes)
    .venv/bin/python bench/run_all.py --json results.json --markdown results.md

Prints the result tables (Markdown) and the machine facts; RESULTS.md is written from them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import evse_patch
import full_pull
import locations_list
from common import (
    add_options,
    load_tool,
    log,
    machine_facts,
    node_pair,
    options_from,
    wait_until_idle,
    workdir,
    write_json,
)


def report(opts: Any, results: dict[str, list[dict[str, Any]]], elapsed: float) -> str:
    facts = machine_facts()
    lines = [
        f"Measured {facts['date']} in {elapsed / 60:.1f} minutes; evroam imported from {facts['evroam_src']} "
        f"(checkout at {facts['git_head']}, {facts['git_dirty_files']} changed files under src/).",
        "",
        f"- Machine: {facts['nproc']} CPUs ({facts['cpu']}), kernel {facts['kernel']}; Python {facts['python']}, "
        f"SQLite {facts['sqlite']}, PostgreSQL {facts['postgresql']}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in facts["packages"].items()),
        f"- Load generator: {load_tool(opts)} ({facts['wrk']}), {opts.threads} thread(s), "
        f"{opts.connections} connections, from a separate process on 127.0.0.1",
        f"- Sizes: {opts.locations:,} Locations of 2-4 EVSEs; {opts.runs} runs of {opts.duration:g} s after "
        f"{opts.warmup:g} s warm-up; {opts.pull_runs} pulls per case; server log level {opts.log_level}",
        "",
        "```",
        facts["free_h"],
        "```",
        "",
        "### 1. Locations Sender list vs a bare ASGI app (same uvicorn call, same bytes)",
        "",
        locations_list.table(results["list"]),
        "",
        "### 2. EVSE status PATCH on the eMSP Receiver",
        "",
        evse_patch.table(results["patch"]),
        "",
        "### 3. Full pull of all Locations by the eMSP node",
        "",
        full_pull.table(results["pull"]),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    ns = parser.parse_args()
    opts = options_from(ns)
    if opts.wait_idle:
        wait_until_idle(opts.wait_idle)
    started = time.monotonic()
    results: dict[str, list[dict[str, Any]]] = {"list": [], "pull": [], "patch": []}
    with workdir(opts) as work:
        for backend in opts.backends:
            with node_pair(backend, opts, work) as pair:
                results["list"] += locations_list.measure(pair, opts)
                results["pull"].append(full_pull.measure(pair, opts))  # leaves the eMSP holding every Location
                results["patch"].append(evse_patch.measure(pair, opts))
    elapsed = time.monotonic() - started
    text = report(opts, results, elapsed)
    print(text)
    if ns.markdown:
        ns.markdown.write_text(text)
        log(f"wrote {ns.markdown}")
    write_json(opts, "run_all", results)


if __name__ == "__main__":
    main()
