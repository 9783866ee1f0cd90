"""Fallback load generator for machines without wrk: keep-alive HTTP/1.1 connections on asyncio.

Same semantics as list.lua (`--mode get`) and evse_patch.lua (`--mode patch`), configured by the same
BENCH_* variables; prints one JSON object (a LoadResult) on stdout. It is far slower than wrk: on a small
machine it can be the bottleneck, which the results must then say.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

STATUSES = ("CHARGING", "AVAILABLE", "BLOCKED", "RESERVED")
PREFIX = "/ocpi/2.2.1/receiver/locations/"


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.stale = 0
        self.sent = 0


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


async def connection(
    host: str,
    port: int,
    next_request: object,
    deadline: float,
    stats: Stats,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            request = next_request()  # type: ignore[operator]
            started = time.perf_counter()
            writer.write(request)
            status, body = await read_response(reader)
            stats.latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                stats.errors += 1
            elif b"Not applied" in body:
                stats.stale += 1
    except (OSError, asyncio.IncompleteReadError):
        stats.errors += 1
    finally:
        writer.close()


def get_requests(path: str, host: str, authorization: str, stats: Stats) -> object:
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    if os.environ.get("BENCH_UNIQUE") != "1":
        raw = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()
        return lambda: raw

    def build() -> bytes:  # a query no request had before: nothing can be answered from memory
        stats.sent += 1
        return f"GET {path}&fresh={stats.sent} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()

    return build


def patch_requests(host: str, authorization: str, targets: list[str], t0: int, stats: Stats) -> object:
    def build() -> bytes:
        n = stats.sent
        stats.sent += 1
        stamp = datetime.fromtimestamp(t0 + n, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps({"status": STATUSES[n % len(STATUSES)], "last_updated": stamp}).encode()
        head = (
            f"PATCH {PREFIX}{targets[n % len(targets)]} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return build


async def run(url: str, duration: float, connections: int, mode: str, targets: list[str]) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    authorization = os.environ.get("BENCH_AUTHORIZATION", "")
    stats = Stats()
    if mode == "patch":
        make = patch_requests(f"{host}:{port}", authorization, targets, int(os.environ["BENCH_T0"]), stats)
    else:
        make = get_requests(path, f"{host}:{port}", authorization, stats)
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(*(connection(host, port, make, deadline, stats) for _ in range(connections)))
    seconds = time.monotonic() - started
    lat = sorted(stats.latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))] if lat else float("nan")

    return {
        "tool": "python",
        "seconds": seconds,
        "requests": len(lat),
        "rps": len(lat) / seconds,
        "errors": stats.errors,
        "latency_ms": {f"p{p}": pct(p) for p in (50, 75, 90, 99)},
        "extra": {"stale": stats.stale, "failed": stats.errors, "sent": stats.sent} if mode == "patch" else {},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--mode", choices=("get", "patch"), default="get")
    args = parser.parse_args()
    targets = []
    if args.mode == "patch":
        targets = [line.strip() for line in Path(os.environ["BENCH_TARGETS"]).read_text().splitlines() if line.strip()]
    main_coro = run(args.url, args.duration, args.connections, args.mode, targets)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(main_coro)
    else:
        result = uvloop.run(main_coro)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
