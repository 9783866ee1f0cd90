"""Where a Locations list request (and an EVSE PATCH) spends its time, per step and per process.

1. List steps, timed in this process against the CPO's database (no HTTP): authentication (token + peer
   lookups), the unpublished-Locations visibility scan, the count query, the page query, assembling the
   response. Medians over `--iterations`.
2. CPU per request by process while wrk loads the server: its main thread, its other threads (aiosqlite
   runs SQLite calls there), PostgreSQL's server processes and the load generator, from /proc.
3. py-spy (when installed: `.venv/bin/pip install py-spy`) samples the server during that load; the
   samples of its main thread are split into evroam's steps, the framework and the server/event loop.

    .venv/bin/python bench/profile_hot_paths.py [--backend sqlite] [--limit 50] [--patch] [--locations 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import (
    Options,
    Pair,
    count_locations,
    evse_paths,
    log,
    median,
    node_pair,
    postgres_pids,
    proc_cpu,
    run_load,
    seed_locations,
    wait_until_idle,
    workdir,
)


# -- 1. steps -----------------------------------------------------------------------------------------
async def time_steps(pair: Pair, limit: int, offset: int, iterations: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from evroam.modules.locations.visibility import visible_unpublished
    from evroam.parties.auth import authenticate
    from evroam.store.interface import ListQuery
    from evroam.store.objects import ObjectTable, _from_row
    from evroam.store.tables import objects
    from evroam.transport.envelope import OcpiResponse
    from evroam.transport.pagination import PageRequest, page_headers

    store = await pair.db.open_store("cpo")
    owners = (("NL", "CPO"),)
    viewers = (("DE", "EMS"),)
    query = ListQuery(offset=offset, limit=limit, owners=owners, published_only=True)
    conditions = ObjectTable._conditions("locations", query)
    count_stmt = select(func.count()).select_from(objects).where(*conditions)
    page_stmt = select(objects).where(*conditions).order_by(objects.c.seq).offset(offset).limit(limit)
    times: dict[str, list[float]] = {}
    rows: list[Any] = []

    async def auth() -> None:
        await authenticate(store, pair.emsp_to_cpo, registration_allowed=False)

    async def visibility() -> None:
        await visible_unpublished(store, owners, viewers)

    async def count() -> None:
        async with store.engine.connect() as conn:
            (await conn.execute(count_stmt)).scalar_one()

    async def page() -> None:
        nonlocal rows
        async with store.engine.connect() as conn:
            rows = [_from_row(r) for r in (await conn.execute(page_stmt)).all()]

    async def assemble() -> None:
        headers = page_headers("http://cpo/ocpi/2.2.1/sender/locations", PageRequest(offset, limit), 10_000, 1000)
        OcpiResponse(data_json=b"[" + b",".join(o.data for o in rows) + b"]", headers=headers)

    async def list_objects() -> None:
        await store.list_objects("locations", query)

    steps = {
        "authenticate (token + peer)": auth,
        "visible_unpublished scan": visibility,
        "count query": count,
        "page query + rows": page,
        "assemble response": assemble,
        "store.list_objects (count + page)": list_objects,
    }
    try:
        for name, step in steps.items():
            await step()  # warm caches and statement compilation
            for _ in range(iterations):
                started = time.perf_counter()
                await step()
                times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return {name: median(values) for name, values in times.items()}


def pg_sessions(url: str) -> int:
    """Sessions PostgreSQL has opened in the benchmark database so far (connections, incl. closed ones)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> int:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                query = text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
                return int((await conn.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(read())


# -- 2. CPU per process ---------------------------------------------------------------------------------
def cpu_snapshot(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of every thread of the server and of every PostgreSQL process, by id."""
    snap = {f"t{task.name}": proc_cpu(task / "stat") for task in Path(f"/proc/{server_pid}/task").iterdir()}
    snap.update({f"pg{pid}": proc_cpu(Path(f"/proc/{pid}/stat"), children=True) for pid in postgres_pids()})
    usage = os.times()
    snap["generator"] = usage.children_user + usage.children_system
    return snap


def cpu_split(before: dict[str, float], after: dict[str, float], server_pid: int) -> dict[str, float]:
    """Seconds used between the snapshots: server main thread, its other threads, PostgreSQL, generator."""
    delta = {key: value - before.get(key, 0.0) for key, value in after.items()}
    main_thread = delta.pop(f"t{server_pid}", 0.0)
    return {
        "evroam server, main thread (event loop)": main_thread,
        "evroam server, other threads (aiosqlite: SQLite calls)": sum(v for k, v in delta.items() if k[0] == "t"),
        "PostgreSQL server processes": sum(v for k, v in delta.items() if k.startswith("pg")),
        "load generator": delta.get("generator", 0.0),
    }


# -- 3. py-spy ------------------------------------------------------------------------------------------
LIST_CATEGORIES = (
    ("authenticate: token + peer lookups", ("authenticate (evroam/parties/auth.py",)),
    ("visible_unpublished: scan for unpublished Locations", ("visible_unpublished (",)),
    ("list_objects: count + page queries, rows", ("ObjectTable.list_objects (",)),
    ("list_response: join, envelope, page headers", ("list_response (", "OcpiResponse.__init__")),
    ("sending the response (ASGI send -> transport)", ("Response.__call__ (starlette",)),
    ("FastAPI/Starlette: middleware, routing, dependencies", ("FastAPI.__call__",)),
)
PATCH_CATEGORIES = (
    ("authenticate: token + peer lookups", ("authenticate (evroam/parties/auth.py",)),
    ("reading and parsing the body", ("ModuleCtx.body (", "read_json (")),
    ("patch change(): JSON load, EVSE validation, JSON dump", ("patch_at.<locals>.change (",)),
    ("mutate_object: BEGIN, SELECT, UPDATE, COMMIT", ("ObjectTable._mutate (", "ObjectTable.mutate_object (")),
    ("sending the response (ASGI send -> transport)", ("Response.__call__ (starlette",)),
    ("FastAPI/Starlette: middleware, routing, dependencies", ("FastAPI.__call__",)),
)
DETAILS = (
    ("SQLAlchemy statement building / cache keys / compile", ("sqlalchemy/sql/",)),
    ("SQLAlchemy result processing", ("sqlalchemy/engine/result.py", "sqlalchemy/engine/cursor.py")),
    ("evroam _from_row (str -> bytes, dataclasses)", ("_from_row (evroam",)),
    (
        "aiosqlite: handing each call to its thread (queue put, GIL hand-off)",
        ("Connection._execute (aiosqlite/core.py",),
    ),
    ("pool pre-ping on every checkout", ("_async_ping (",)),
    (
        "BEGIN / ROLLBACK around every connection use",
        (
            "_start_transaction (",
            "Transaction.rollback (",
            "Connection.rollback (sqlalchemy",
            "AsyncConnection.close (",
        ),
    ),
    (
        "opening new connections (pool overflow)",
        ("AsyncAdapt_dbapi_connection.create (", "connect (asyncpg/connection.py", "Connection.close (asyncpg"),
    ),
)


def profile_server(pid: int, seconds: float, out: Path) -> bool:
    spy = str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        spy = shutil.which("py-spy") or ""
    if not spy:
        log("py-spy not found; skipping the sampling profile (.venv/bin/pip install py-spy)")
        return False
    args = [spy, "record", "--pid", str(pid), "--duration", str(round(seconds)), "--rate", "250"]
    # Blocking mode: the server is paused for each sample (a few % slower) but every stack is consistent;
    # --nonblocking drops or mangles many samples here.
    args += ["--format", "raw", "--output", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        log(f"py-spy failed: {done.stderr.strip()[-500:]}")
        return False
    return True


def _queue_wait_frame() -> str:
    """The frame of aiosqlite's worker thread waiting for work (py-spy does not count it as idle)."""
    import aiosqlite.core

    source = Path(aiosqlite.core.__file__).read_text().splitlines()
    line = next((i + 1 for i, text in enumerate(source) if "tx.get()" in text), 0)
    return f"_connection_worker_thread (aiosqlite/core.py:{line})"


def split_samples(raw: Path, categories: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, Any]:
    waiting = _queue_wait_frame()
    main: Counter[str] = Counter()
    details: Counter[str] = Counter()
    db_busy = db_idle = main_total = loop_only = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        n = int(count_text)
        if "_connection_worker_thread" in stack:
            # aiosqlite's thread: running a SQLite call, or waiting on its queue.
            if stack.rsplit(";", 1)[-1] == waiting:
                db_idle += n
            else:
                db_busy += n
            continue
        if "Runner.run (asyncio/runners.py" not in stack:
            continue
        if stack.rsplit(";", 1)[-1].startswith("Runner.run (asyncio/runners.py"):
            # In uvloop's C code: idle in epoll, or socket I/O and callbacks (not separable without native
            # stacks, and py-spy does not see that thread as idle). /proc gives the real CPU time.
            loop_only += n
            continue
        main_total += n
        for name, needles in categories:
            if any(needle in stack for needle in needles):
                main[name] += n
                break
        else:
            main["uvicorn HTTP protocol, asyncio glue (Python)"] += n
        for name, needles in DETAILS:
            if any(needle in stack for needle in needles):
                details[name] += n
    return {
        "main": main,
        "details": details,
        "main_total": main_total,
        "loop_only": loop_only,
        "db_busy": db_busy,
        "db_idle": db_idle,
    }


# -- driver ---------------------------------------------------------------------------------------------
def load_profile(
    opts: Options,
    server_pid: int,
    url: str,
    lua: str,
    env: dict[str, str],
    seconds: float,
    categories: tuple[tuple[str, tuple[str, ...]], ...],
    raw: Path,
    *,
    pg: bool,
) -> dict[str, Any]:
    """Warm up, one connection for latency, then CPU by process under load, then py-spy under load."""

    def nth(k: int) -> dict[str, str]:
        # PATCH runs: each starts its last_updated later than the previous one could reach (none stale).
        return {**env, "BENCH_T0": str(int(env["BENCH_T0"]) + k * 10_000_000)} if "BENCH_T0" in env else env

    run_load(opts, url, opts.warmup, lua=lua, env=nth(0))
    single = run_load(Options(**{**vars(opts), "connections": 1}), url, min(seconds, 5), lua=lua, env=nth(1))
    before = cpu_snapshot(server_pid)
    sessions = pg_sessions(opts.pg_url) if pg else 0
    loaded = run_load(opts, url, seconds, lua=lua, env=nth(2))
    used = cpu_split(before, cpu_snapshot(server_pid), server_pid)
    new_sessions = pg_sessions(opts.pg_url) - sessions - 1 if pg else 0  # minus the one reading it
    per_request = 1000 / loaded.requests if loaded.requests else float("nan")
    cpu = {name: value * per_request for name, value in used.items()}
    cpu["total"] = sum(cpu.values())
    spy_seconds = max(3.0, seconds - 2)
    result: dict[str, Any] = {}
    # The sampler and the load run side by side: py-spy samples the server while wrk loads it.
    loader = threading.Thread(
        target=lambda: result.setdefault("load", run_load(opts, url, spy_seconds + 2, lua=lua, env=nth(3)))
    )
    loader.start()
    time.sleep(1)
    sampled = profile_server(server_pid, spy_seconds, raw)
    loader.join()
    return {
        "single_connection": {"rps": single.rps, "p50_ms": single.latency_ms.get("p50")},
        "loaded": {
            "rps": loaded.rps,
            "connections": opts.connections,
            "stale": loaded.extra.get("stale"),
            "pg_sessions_opened": new_sessions,
            "requests": loaded.requests,
        },
        "cpu_ms_per_request": cpu,
        "pyspy": split_samples(raw, categories) if sampled and raw.exists() else None,
        "pyspy_rps": result["load"].rps if "load" in result else None,
        "pyspy_seconds": spy_seconds,
    }


def measure_list(pair: Pair, opts: Options, limit: int, seconds: float, iterations: int) -> dict[str, Any]:
    backend = pair.db.backend
    offset = (opts.locations // 2) // limit * limit
    steps = asyncio.run(time_steps(pair, limit, offset, iterations))
    url = f"{pair.cpo.base_url}/ocpi/2.2.1/sender/locations?offset={offset}&limit={limit}"
    env = {"BENCH_AUTHORIZATION": pair.emsp_to_cpo}
    raw = pair.db.workdir / f"py-spy-{backend}-list-{limit}.txt"
    pg = backend == "postgresql"
    profiled = load_profile(opts, pair.cpo.pid, url, "list.lua", env, seconds, LIST_CATEGORIES, raw, pg=pg)
    title = f"{backend}: Locations list, page size {limit} (offset {offset})"
    return {"title": title, "steps_ms": steps, **profiled}


def measure_patch(pair: Pair, opts: Options, seconds: float) -> dict[str, Any]:
    backend = pair.db.backend
    if asyncio.run(count_locations(pair.db, "emsp")) < opts.locations:
        asyncio.run(seed_locations(pair.db, "emsp", opts.locations))
    targets = pair.db.workdir / "profile-targets.txt"
    targets.write_text("\n".join(evse_paths(opts.locations)) + "\n")
    env = {"BENCH_AUTHORIZATION": pair.cpo_to_emsp, "BENCH_TARGETS": str(targets)}
    env["BENCH_T0"] = str(int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()))
    raw = pair.db.workdir / f"py-spy-{backend}-patch.txt"
    url = pair.emsp.base_url + "/"
    pg = backend == "postgresql"
    profiled = load_profile(opts, pair.emsp.pid, url, "evse_patch.lua", env, seconds, PATCH_CATEGORIES, raw, pg=pg)
    return {"title": f"{backend}: EVSE status PATCH on the eMSP", "steps_ms": {}, **profiled}


def report(r: dict[str, Any]) -> str:
    lines = [
        f"#### {r['title']}",
        "",
        f"One connection: {r['single_connection']['rps']:,.1f} req/s, p50 {r['single_connection']['p50_ms']:.2f} ms. "
        f"{r['loaded']['connections']} connections: {r['loaded']['rps']:,.1f} req/s"
        + (
            f", PostgreSQL connections opened meanwhile: {r['loaded']['pg_sessions_opened']:,} "
            f"for {r['loaded']['requests']:,} requests."
            if r["loaded"]["pg_sessions_opened"]
            else "."
        ),
        "",
    ]
    if r["steps_ms"]:
        lines += ["| step (in process, no HTTP) | ms (median) |", "|---|---:|"]
        lines += [f"| {name} | {ms:.2f} |" for name, ms in r["steps_ms"].items()]
        lines.append("")
    lines += ["| CPU per request | ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:.2f} |" for name, ms in r["cpu_ms_per_request"].items() if ms >= 0.005]
    spy = r["pyspy"]
    if spy and spy["main_total"]:
        rps = r["pyspy_rps"] or r["loaded"]["rps"]
        # py-spy pauses the server for every sample, so it runs slower while sampled: the samples give each
        # part's share of the main thread's Python time, and /proc (measured unsampled) its CPU per request.
        main_cpu = r["cpu_ms_per_request"]["evroam server, main thread (event loop)"]
        lines += [
            "",
            f"py-spy, server main thread: {spy['main_total']:,} samples in Python code at 250 Hz "
            f"({spy['loop_only']:,} more inside uvloop's C loop: idle or socket I/O), {rps:,.1f} req/s while sampled. "
            f"Milliseconds are each share of the main thread's {main_cpu:.2f} ms CPU per request:",
            "",
            "| where (main thread, Python code) | share of those samples | ≈ ms CPU per request |",
            "|---|---:|---:|",
        ]
        for name, n in spy["main"].most_common():
            lines.append(f"| {name} | {n / spy['main_total']:.1%} | {n / spy['main_total'] * main_cpu:.2f} |")
        for name, n in spy["details"].most_common():
            lines.append(f"| of which: {name} | {n / spy['main_total']:.1%} | {n / spy['main_total'] * main_cpu:.2f} |")
        if spy["db_busy"] or spy["db_idle"]:
            # One sample is 1/250 s of a thread; spread over the requests served while sampling.
            wall = spy["db_busy"] * 1000 / 250 / (rps * r["pyspy_seconds"]) if rps else float("nan")
            lines.append(
                f"| aiosqlite threads: time inside SQLite calls, incl. waiting for locks (all threads, while "
                f"sampled) | — | {wall:.2f} ms wall |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--locations", type=int, default=10_000)
    parser.add_argument("--limit", type=int, action="append", help="page size (repeatable; default 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per measurement")
    parser.add_argument("--iterations", type=int, default=30, help="timed repetitions of each step")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--patch", action="store_true", help="also profile the EVSE PATCH on the eMSP")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="S", help="first wait for an idle machine")
    ns = parser.parse_args()
    if ns.wait_idle:
        wait_until_idle(ns.wait_idle)
    opts = Options(locations=ns.locations, connections=ns.connections, warmup=3.0, keep=ns.keep)
    opts.backends = tuple(ns.backend or ("sqlite", "postgresql"))
    reports = []
    with workdir(opts) as work:
        for backend in opts.backends:
            with node_pair(backend, opts, work) as pair:
                for limit in ns.limit or [50]:
                    reports.append(report(measure_list(pair, opts, limit, ns.seconds, ns.iterations)))
                    log(f"{backend} list, limit {limit} profiled")
                if ns.patch:
                    reports.append(report(measure_patch(pair, opts, ns.seconds)))
                    log(f"{backend} PATCH profiled")
    print("\n\n".join(reports))


if __name__ == "__main__":
    main()
