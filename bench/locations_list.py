"""Target 1: the CPO's Locations Sender list under load, against a bare ASGI app serving the same bytes.

For each backend and page size: the page at the middle of the list (offset = locations / 2, the average
position of a full walk) is fetched once as the registered eMSP; its exact body and headers are handed to
bare_app.py, run by the same uvicorn call. Then, after a warm-up of each, evroam and the bare app are
loaded alternately from a separate process (wrk, or loadgen.py), `runs` times each; the ratio of each
pair is evroam rps / bare rps, and the medians are reported.

evroam answers a page it rendered before from memory until the data behind it changes, so the
repeated page measures that path. Each run also loads evroam with a query no request had before
(`&fresh=<n>`, which the server ignores): every such page is read from the database and rendered,
the cost of the first request after a change.

    .venv/bin/python bench/locations_list.py [--quick] [--backend sqlite] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx
from common import (
    BareServer,
    Options,
    Pair,
    add_options,
    log,
    median,
    node_pair,
    options_from,
    run_load,
    workdir,
    write_json,
)

# Headers a server adds itself (or that are per response); everything else evroam sent is replayed.
_SERVER_HEADERS = {"date", "server", "content-length"}


def page_url(pair: Pair, opts: Options, limit: int) -> tuple[str, int]:
    offset = (opts.locations // 2) // limit * limit
    return f"{pair.cpo.base_url}/ocpi/2.2.1/sender/locations?offset={offset}&limit={limit}", offset


def capture_page(url: str, authorization: str, expected_items: int, total: int) -> tuple[bytes, dict[str, str]]:
    """The page as evroam serves it (checked: OCPI success, the right number of Locations, the total)."""
    reply = httpx.get(url, headers={"Authorization": authorization}, timeout=60)
    reply.raise_for_status()
    envelope = json.loads(reply.content)
    if envelope["status_code"] != 1000 or len(envelope["data"]) != expected_items:
        raise RuntimeError(f"unexpected page from {url}: status {envelope['status_code']}, {len(envelope['data'])}")
    if reply.headers.get("x-total-count") != str(total):
        raise RuntimeError(f"X-Total-Count {reply.headers.get('x-total-count')} != {total}")
    headers = {k: v for k, v in reply.headers.items() if k.lower() not in _SERVER_HEADERS}
    return reply.content, headers


def measure(pair: Pair, opts: Options) -> list[dict[str, Any]]:
    results = []
    for limit in opts.page_sizes:
        url, offset = page_url(pair, opts, limit)
        items = max(0, min(limit, opts.locations - offset))
        body, headers = capture_page(url, pair.emsp_to_cpo, items, opts.locations)
        bare = BareServer(f"bare-{pair.db.backend}-{limit}", pair.db.workdir, body, headers, opts)
        bare.start()
        try:
            bare_url = f"{bare.base_url}/ocpi/2.2.1/sender/locations?offset={offset}&limit={limit}"
            if httpx.get(bare_url, timeout=30).content != body:
                raise RuntimeError("the bare app does not return evroam's bytes")
            env = {"BENCH_AUTHORIZATION": pair.emsp_to_cpo}
            targets = {"evroam": url, "bare": bare_url, "rendered": url}
            envs = {"evroam": env, "bare": env, "rendered": {**env, "BENCH_UNIQUE": "1"}}
            pids = {"evroam": pair.cpo.pid, "bare": bare.pid, "rendered": pair.cpo.pid}
            log(f"{pair.db.backend} limit {limit}: page of {len(body):,} bytes at offset {offset}; warming up")
            for name, target in targets.items():
                run_load(opts, target, opts.warmup, lua="list.lua", env=envs[name])
            runs: list[dict[str, Any]] = []
            for i in range(opts.runs):
                # Alternate who goes first so neither always runs on a warmer machine.
                order = ("evroam", "bare", "rendered") if i % 2 == 0 else ("bare", "evroam", "rendered")
                run = {
                    name: run_load(
                        opts, targets[name], opts.duration, lua="list.lua", env=envs[name], server_pid=pids[name]
                    )
                    for name in order
                }
                ratio = run["evroam"].rps / run["bare"].rps if run["bare"].rps else float("nan")
                others = max(r.extra["cpu"]["others_share"] for r in run.values())
                log(
                    f"  run {i + 1}: evroam {run['evroam'].rps:,.1f} rps, bare {run['bare'].rps:,.1f} rps, "
                    f"ratio {ratio:.3f}; rendered every time {run['rendered'].rps:,.1f} rps "
                    f"(other processes took up to {others:.0%} of the CPUs)"
                )
                runs.append({name: vars(result) for name, result in run.items()} | {"ratio": ratio})
        finally:
            bare.stop()
        results.append(summarise(pair.db.backend, limit, offset, len(body), runs))
    return results


def summarise(backend: str, limit: int, offset: int, body_bytes: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(side: str, key: str) -> float:
        return median([r[side]["latency_ms"].get(key, float("nan")) for r in runs])

    def cpu_ms(side: str) -> float:
        """CPU per request of the server (and PostgreSQL), ms."""
        values = []
        for r in runs:
            cpu, requests = r[side]["extra"]["cpu"], r[side]["requests"]
            values.append((cpu["server"] + cpu["postgres"]) * 1000 / requests if requests else float("nan"))
        return median(values)

    return {
        "backend": backend,
        "limit": limit,
        "offset": offset,
        "body_bytes": body_bytes,
        "tool": runs[0]["evroam"]["tool"] if runs else "",
        "evroam_rps": [r["evroam"]["rps"] for r in runs],
        "bare_rps": [r["bare"]["rps"] for r in runs],
        "ratios": [r["ratio"] for r in runs],
        "evroam_rps_median": median([r["evroam"]["rps"] for r in runs]),
        "bare_rps_median": median([r["bare"]["rps"] for r in runs]),
        "ratio_median": median([r["ratio"] for r in runs]),
        "rendered_rps_median": median([r["rendered"]["rps"] for r in runs]),
        "rendered_ratio_median": median([r["rendered"]["rps"] / r["bare"]["rps"] for r in runs if r["bare"]["rps"]]),
        "rendered_p50_ms": med("rendered", "p50"),
        "rendered_cpu_ms": cpu_ms("rendered"),
        "evroam_p50_ms": med("evroam", "p50"),
        "evroam_p99_ms": med("evroam", "p99"),
        "bare_p50_ms": med("bare", "p50"),
        "evroam_cpu_ms": cpu_ms("evroam"),
        "bare_cpu_ms": cpu_ms("bare"),
        "others_share": median([max(r[s]["extra"]["cpu"]["others_share"] for s in ("evroam", "bare")) for r in runs]),
        "rendered_errors": sum(r["rendered"]["errors"] for r in runs),
        "errors": sum(r["evroam"]["errors"] + r["bare"]["errors"] for r in runs),
        "runs": runs,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | page size | body | evroam req/s (median) | bare req/s (median) | ratio (median of pairs) "
        "| target ≥ 0.50 | evroam p50 / p99 | CPU ms/request evroam (+DB) / bare | CPU used by others | errors |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        met = "met" if r["ratio_median"] >= 0.5 else "**not met**"
        lines.append(
            f"| {r['backend']} | {r['limit']} | {r['body_bytes'] / 1024:,.0f} KiB | {r['evroam_rps_median']:,.1f} "
            f"| {r['bare_rps_median']:,.1f} | {r['ratio_median']:.3f} | {met} "
            f"| {r['evroam_p50_ms']:.1f} / {r['evroam_p99_ms']:.1f} ms "
            f"| {r['evroam_cpu_ms']:.2f} / {r['bare_cpu_ms']:.3f} | {r['others_share']:.0%} | {r['errors']} |"
        )
    lines += [
        "",
        "Every page rendered afresh (a query no request had before, so nothing is answered from memory; "
        "informative, no target):",
        "",
        "| backend | page size | evroam req/s (median) | ratio to bare | p50 | CPU ms/request (+DB) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['limit']} | {r['rendered_rps_median']:,.1f} | {r['rendered_ratio_median']:.3f} "
            f"| {r['rendered_p50_ms']:.1f} ms | {r['rendered_cpu_ms']:.2f} | {r['rendered_errors']} |"
        )
    lines.append("")
    lines.append(f"Load generator: {', '.join(sorted({r['tool'] for r in results}))}.")
    lines.append(
        "Ratios of the individual pairs: "
        + "; ".join(f"{r['backend']}/{r['limit']}: " + ", ".join(f"{x:.3f}" for x in r["ratios"]) for r in results)
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    opts = options_from(parser.parse_args())
    results = []
    with workdir(opts) as work:
        for backend in opts.backends:
            with node_pair(backend, opts, work) as pair:
                results += measure(pair, opts)
    print(table(results))
    write_json(opts, "locations_list", results)


if __name__ == "__main__":
    main()
