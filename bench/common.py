"""What the benchmarks share: databases, evroam nodes as processes, generated Locations, the credentials
handshake, the load generator (wrk, or loadgen.py when wrk is absent) and the statistics."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CPO_PARTY = "NL-CPO-CPO"
EMSP_PARTY = "DE-EMS-EMSP"
BACKENDS = ("sqlite", "postgresql")
# Seeded objects are older than every timestamp a benchmark PATCH sends.
SEED_TIME = datetime(2025, 1, 1, tzinfo=UTC)


# -- options ------------------------------------------------------------------------------------------
@dataclass
class Options:
    """Sizes and durations; `--quick` shrinks all of them for a smoke run."""

    locations: int = 10_000
    runs: int = 5
    duration: float = 10.0
    warmup: float = 3.0
    connections: int = 16
    threads: int = 1
    pull_runs: int = 3
    page_sizes: tuple[int, ...] = (50, 1000)
    backends: tuple[str, ...] = BACKENDS
    pg_url: str = PG_URL
    log_level: str = "warning"
    tool: str = "auto"  # auto | wrk | python
    json_out: Path | None = None
    keep: bool = False
    wait_idle: float = 0.0
    quick: bool = False

    @property
    def page_cap(self) -> int:
        return max(1000, *self.page_sizes)


def add_options(parser: argparse.ArgumentParser) -> None:
    d = Options()
    parser.add_argument("--quick", action="store_true", help="1,000 locations, 2 runs of 3 s, 1 s warm-up")
    parser.add_argument("--locations", type=int, help=f"Locations seeded in the CPO (default {d.locations})")
    parser.add_argument("--runs", type=int, help=f"measured runs per case (default {d.runs})")
    parser.add_argument("--duration", type=float, help=f"seconds per measured run (default {d.duration:g})")
    parser.add_argument("--warmup", type=float, help=f"seconds of warm-up per server (default {d.warmup:g})")
    parser.add_argument("--connections", type=int, default=d.connections, help="concurrent keep-alive connections")
    parser.add_argument("--threads", type=int, default=d.threads, help="load generator threads")
    parser.add_argument("--pull-runs", type=int, help=f"full pulls per case (default {d.pull_runs})")
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="sqlite and/or postgresql (default both)")
    parser.add_argument("--pg-url", default=d.pg_url, help="PostgreSQL database (each node gets its own schema)")
    parser.add_argument("--log-level", default=d.log_level, help="uvicorn/evroam log level of every server")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default=d.tool, help="load generator")
    parser.add_argument("--json", type=Path, dest="json_out", help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs)")
    parser.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="S", help="first wait up to S seconds for an idle machine"
    )


def options_from(ns: argparse.Namespace) -> Options:
    opts = Options()
    if ns.quick:
        opts = Options(locations=1000, runs=2, duration=3.0, warmup=1.0, pull_runs=1, quick=True)
    for name in ("locations", "runs", "duration", "warmup", "pull_runs"):
        value = getattr(ns, name)
        if value is not None:
            setattr(opts, name, value)
    opts.connections, opts.threads = ns.connections, ns.threads
    opts.backends = tuple(ns.backend) if ns.backend else BACKENDS
    opts.pg_url, opts.log_level, opts.tool = ns.pg_url, ns.log_level, ns.tool
    opts.json_out, opts.keep, opts.wait_idle = ns.json_out, ns.keep, ns.wait_idle
    return opts


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- databases ----------------------------------------------------------------------------------------
@dataclass
class Database:
    """Where the nodes of one benchmark keep their data: SQLite files in the work directory, or one
    PostgreSQL schema per node in the shared database."""

    backend: str
    workdir: Path
    pg_url: str = PG_URL
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    schemas: list[str] = field(default_factory=list)

    def url(self, node: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.workdir / node}.db"
        return self.pg_url

    def schema(self, node: str) -> str | None:
        return f"bench_{self.run_id}_{node}" if self.backend == "postgresql" else None

    def connect_args(self, node: str) -> dict[str, Any] | None:
        schema = self.schema(node)
        return {"server_settings": {"search_path": schema}} if schema else None

    async def create(self, node: str) -> None:
        schema = self.schema(node)
        if schema is None:
            return
        await _pg_execute(self.pg_url, f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)

    async def drop_all(self) -> None:
        for schema in self.schemas:
            await _pg_execute(self.pg_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.schemas.clear()

    async def open_store(self, node: str) -> Any:
        from evroam.store import open_store

        return await open_store(self.url(node), connect_args=self.connect_args(node))


async def _pg_execute(url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


# -- generated Locations ------------------------------------------------------------------------------
_STANDARDS = (
    ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 400, 32, 22000),
    ("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 250, 150000),
    ("CHADEMO", "CABLE", "DC", 500, 125, 50000),
    ("IEC_62196_T2", "CABLE", "AC_1_PHASE", 230, 32, 7400),
)
_STATUSES = ("AVAILABLE", "CHARGING", "AVAILABLE", "BLOCKED", "AVAILABLE", "OUTOFORDER")


def location_doc(i: int, country_code: str = "NL", party_id: str = "CPO") -> dict[str, Any]:
    """Location number `i`: 2-4 EVSEs (2 + i % 3) of 1-2 Connectors each, valid OCPI 2.2.1."""
    lid = f"LOC{i:06d}"
    stamp = (SEED_TIME + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
    evses = []
    for j in range(2 + i % 3):
        uid = f"{lid}-E{j}"
        connectors = []
        for k in range(1 + (i + j) % 2):
            standard, fmt, power, volt, amp, watt = _STANDARDS[(i + j + k) % len(_STANDARDS)]
            connectors.append(
                {
                    "id": str(k + 1),
                    "standard": standard,
                    "format": fmt,
                    "power_type": power,
                    "max_voltage": volt,
                    "max_amperage": amp,
                    "max_electric_power": watt,
                    "tariff_ids": [f"TARIFF-{power}"],
                    "last_updated": stamp,
                }
            )
        evses.append(
            {
                "uid": uid,
                "evse_id": f"{country_code}*{party_id}*E{i:06d}{j}",
                "status": _STATUSES[(i + j) % len(_STATUSES)],
                "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
                "connectors": connectors,
                "physical_reference": f"{j + 1}",
                "parking_restrictions": ["EV_ONLY"],
                "last_updated": stamp,
            }
        )
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": lid,
        "publish": True,
        "name": f"Charging plaza {i}",
        "address": f"Stationsplein {i % 500 + 1}",
        "city": ("Utrecht", "Amsterdam", "Rotterdam", "Den Haag")[i % 4],
        "postal_code": f"{3500 + i % 400} AB",
        "country": "NLD",
        "coordinates": {"latitude": f"{52 + (i % 900) / 1000:.6f}", "longitude": f"{4 + (i % 1700) / 1000:.6f}"},
        "parking_type": ("ON_STREET", "PARKING_LOT", "PARKING_GARAGE")[i % 3],
        "evses": evses,
        "operator": {"name": "Benchmark Charging B.V.", "website": "https://charging.example.com"},
        "facilities": ["SUPERMARKET", "CAFE"] if i % 2 else ["PARKING_LOT"],
        "time_zone": "Europe/Amsterdam",
        "opening_times": {"twentyfourseven": True},
        "last_updated": stamp,
    }


def evse_paths(count: int, country_code: str = "NL", party_id: str = "CPO") -> list[str]:
    """Every EVSE of `count` generated Locations as `{cc}/{pid}/{location_id}/{evse_uid}`."""
    paths = []
    for i in range(count):
        lid = f"LOC{i:06d}"
        paths += [f"{country_code}/{party_id}/{lid}/{lid}-E{j}" for j in range(2 + i % 3)]
    return paths


async def seed_locations(db: Database, node: str, count: int) -> float:
    """Write `count` Locations straight into a node's store (validated as a PUT would be); seconds taken."""
    from evroam.modules.locations import service

    # A whole Location validated as a PUT is: `location_row` (older name) or `location_record`.
    make_row = getattr(service, "location_record", None) or service.location_row
    started = time.perf_counter()
    store = await db.open_store(node)
    try:
        for start in range(0, count, 1000):
            rows = [make_row(location_doc(i)) for i in range(start, min(count, start + 1000))]
            await store.put_objects("locations", rows)
    finally:
        await store.close()
    return time.perf_counter() - started


async def analyze(db: Database, node: str) -> None:
    """PostgreSQL: refresh the planner statistics after a bulk load, as autovacuum does within a minute or
    so on its own (without them the list query sorts all Locations on disk). SQLite has no such
    background job and evroam runs no ANALYZE, so SQLite is measured as it is."""
    schema = db.schema(node)
    if schema is not None:
        await _pg_execute(db.pg_url, f'ANALYZE "{schema}".objects')


async def count_locations(db: Database, node: str) -> int:
    from evroam.store.interface import ListQuery

    store = await db.open_store(node)
    try:
        total, _ = await store.list_objects("locations", ListQuery(limit=0))
    finally:
        await store.close()
    return total


async def clear_locations(db: Database, node: str) -> None:
    """Forget a node's Locations and pull marks (so the next full pull starts from an empty store)."""
    from sqlalchemy import delete

    from evroam.store.tables import objects, sync_marks

    store = await db.open_store(node)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(delete(objects).where(objects.c.module == "locations"))
            await conn.execute(delete(sync_marks))
    finally:
        await store.close()


async def peer_of(db: Database, node: str) -> Any:
    """The single peer a node is connected to (with `token_out`, the token it calls that peer with)."""
    store = await db.open_store(node)
    try:
        [peer] = await store.list_peers()
    finally:
        await store.close()
    return peer


def authorization(token: str) -> str:
    """`Authorization` value for OCPI 2.2.1: the token Base64-encoded."""
    return "Token " + base64.b64encode(token.encode()).decode()


# -- processes ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env(**extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


class Server:
    """A uvicorn server in a child process on 127.0.0.1, output to a log file."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(self, args: list[str], env: dict[str, str], ready_path: str, ready_status: int) -> None:
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.base_url + ready_path, timeout=2).status_code == ready_status:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within 60 s:\n{self.log_path.read_text()[-4000:]}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NodeServer(Server):
    """`evroam serve` for one party, on its own database (or schema), with the page cap raised."""

    def __init__(self, name: str, party: str, db: Database, opts: Options) -> None:
        super().__init__(name, db.workdir)
        self.party = party
        self.db = db
        self.opts = opts
        self.env = clean_env(EVROAM_PAGE_LIMIT=str(opts.page_cap), EVROAM_DATABASE_SCHEMA=db.schema(name))

    @property
    def database_url(self) -> str:
        return self.db.url(self.name)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "evroam",
            "serve",
            "--party",
            self.party,
            "--port",
            str(self.port),
            "--base-url",
            self.base_url,
            "--database-url",
            self.database_url,
            "--dev",
            "--log-level",
            self.opts.log_level,
        ]

    def start(self) -> None:
        self.launch(self.command(), self.env, "/ocpi/versions", 401)

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """An `evroam` command against this node's database."""
        cmd = [sys.executable, "-m", "evroam", *args, "--database-url", self.database_url]
        env = {**self.env, "COLUMNS": "200"}
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"evroam {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result


class BareServer(Server):
    """bare_app.py: the same uvicorn call as `evroam serve`, answering every request with fixed bytes."""

    def __init__(self, name: str, workdir: Path, body: bytes, headers: dict[str, str], opts: Options) -> None:
        super().__init__(name, workdir)
        self.body_path = workdir / f"{name}.body"
        self.body_path.write_bytes(body)
        self.headers_path = workdir / f"{name}.headers.json"
        self.headers_path.write_text(json.dumps(headers))
        self.opts = opts

    def start(self) -> None:
        args = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(self.port)]
        args += ["--body", str(self.body_path), "--headers", str(self.headers_path), "--log-level", self.opts.log_level]
        self.launch(args, clean_env(), "/", 200)


@dataclass
class Pair:
    """A CPO and an eMSP node registered with each other (the eMSP initiated the handshake)."""

    db: Database
    cpo: NodeServer
    emsp: NodeServer
    cpo_peer_id: str = ""  # the CPO as the eMSP knows it (`evroam sync` argument)
    emsp_to_cpo: str = ""  # Authorization the eMSP calls the CPO with
    cpo_to_emsp: str = ""  # Authorization the CPO calls the eMSP with


@contextmanager
def workdir(opts: Options) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="evroam-bench-"))
    try:
        yield path
    finally:
        if opts.keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def node_pair(backend: str, opts: Options, work: Path) -> Iterator[Pair]:
    """Seed the CPO with `opts.locations` Locations, start both nodes, register the eMSP with the CPO."""
    db = Database(backend, work / backend, opts.pg_url)
    db.workdir.mkdir(parents=True, exist_ok=True)
    pair = Pair(db, NodeServer("cpo", CPO_PARTY, db, opts), NodeServer("emsp", EMSP_PARTY, db, opts))
    try:
        asyncio.run(db.create("cpo"))
        asyncio.run(db.create("emsp"))
        seconds = asyncio.run(seed_locations(db, "cpo", opts.locations))
        asyncio.run(analyze(db, "cpo"))
        log(f"{backend}: seeded {opts.locations} locations into the CPO in {seconds:.1f} s")
        pair.cpo.start()
        pair.emsp.start()
        issued = json.loads(pair.cpo.cli("credentials", "issue", "--name", "emsp", "--json").stdout)
        pair.emsp.cli(
            "credentials", "register", "--dev", "--versions-url", issued["versions_url"], "--token", issued["token"]
        )
        cpo_seen = asyncio.run(peer_of(db, "emsp"))
        emsp_seen = asyncio.run(peer_of(db, "cpo"))
        pair.cpo_peer_id = cpo_seen.id
        pair.emsp_to_cpo = authorization(cpo_seen.token_out)
        pair.cpo_to_emsp = authorization(emsp_seen.token_out)
        log(f"{backend}: CPO on {pair.cpo.base_url}, eMSP on {pair.emsp.base_url}, registered")
        yield pair
    finally:
        pair.cpo.stop()
        pair.emsp.stop()
        asyncio.run(db.drop_all())


# -- load -----------------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    """One load run against one URL."""

    tool: str
    seconds: float
    requests: int
    rps: float
    errors: int
    latency_ms: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)


def load_tool(opts: Options) -> str:
    if opts.tool == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if opts.tool == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk), use --tool python")
    return opts.tool


def run_load(
    opts: Options,
    url: str,
    seconds: float,
    *,
    lua: str,
    env: dict[str, str],
    server_pid: int | None = None,
) -> LoadResult:
    """Load `url` from a separate process for `seconds`: wrk with `lua`, or loadgen.py (same semantics).

    `env` passes BENCH_* settings to the script: BENCH_AUTHORIZATION, and for PATCH BENCH_TARGETS
    (a file of `cc/pid/location/evse` lines), BENCH_T0 (epoch seconds of the first last_updated).
    With `server_pid`, `extra` says how much CPU the server, PostgreSQL, the generator and everything
    else on the machine used meanwhile (others' work shares the CPUs and lowers the numbers)."""
    tool = load_tool(opts)
    full_env = {**os.environ, **env, "BENCH_THREADS": str(opts.threads)}
    limit = seconds + 60
    before = cpu_state(server_pid) if server_pid else None
    if tool == "wrk":
        args = ["wrk", f"-t{opts.threads}", f"-c{opts.connections}", f"-d{max(1, round(seconds))}s"]
        args += ["--latency", "--timeout", "30s", "-s", str(BENCH_DIR / lua), url]
        out = subprocess.run(args, capture_output=True, text=True, env=full_env, timeout=limit, check=True).stdout
        result = parse_wrk(out)
    else:
        args = [sys.executable, str(BENCH_DIR / "loadgen.py"), url, "--duration", str(seconds)]
        args += ["--connections", str(opts.connections), "--mode", "patch" if "patch" in lua else "get"]
        out = subprocess.run(args, capture_output=True, text=True, env=full_env, timeout=limit, check=True).stdout
        result = LoadResult(**json.loads(out))
    if server_pid and before is not None:
        result.extra["cpu"] = cpu_used(before, cpu_state(server_pid), result.seconds)
    return result


# -- CPU accounting (Linux /proc) ---------------------------------------------------------------------
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu(stat_path: Path, *, children: bool = False) -> float:
    """utime + stime, in seconds, of a /proc/<pid>/stat (or task) file; 0 when it is gone. With
    `children`, plus the time of its children that exited (PostgreSQL backends of closed connections
    end up in the postmaster's)."""
    try:
        fields = stat_path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _CLK_TCK


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_state(server_pid: int) -> dict[str, Any]:
    try:
        busy = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        machine = (busy[0] + busy[1] + busy[2] + busy[5] + busy[6]) / _CLK_TCK  # user nice system irq softirq
    except (OSError, IndexError, ValueError):
        machine = 0.0
    usage = os.times()
    return {
        "machine": machine,
        "server": proc_cpu(Path(f"/proc/{server_pid}/stat")),
        "postgres": {pid: proc_cpu(Path(f"/proc/{pid}/stat"), children=True) for pid in postgres_pids()},
        "generator": usage.children_user + usage.children_system,
    }


def cpu_used(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, float]:
    """CPU seconds used between two states, and the share of the machine others took meanwhile."""
    pg = sum(v - before["postgres"].get(pid, 0.0) for pid, v in after["postgres"].items())
    used = {
        "server": after["server"] - before["server"],
        "postgres": pg,
        "generator": after["generator"] - before["generator"],
        "machine": after["machine"] - before["machine"],
    }
    used["others"] = max(0.0, used["machine"] - used["server"] - used["postgres"] - used["generator"])
    capacity = (os.cpu_count() or 1) * seconds
    used["others_share"] = used["others"] / capacity if capacity else 0.0
    return used


def machine_busy(seconds: float = 5.0) -> float:
    """Share of all CPUs busy (user, system, irq) over the next `seconds`."""

    def sample() -> tuple[int, int]:
        values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values[:3]) + values[5] + values[6], sum(values[:8])

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_until_idle(max_seconds: float, threshold: float = 0.10) -> float:
    """Wait (at most `max_seconds`) until two 5-second windows in a row find the CPUs under `threshold`
    busy; other people's work on a shared machine would otherwise lower every number. Returns the last
    busy share seen."""
    deadline = time.monotonic() + max_seconds
    quiet = 0
    busy = machine_busy()
    while time.monotonic() < deadline:
        quiet = quiet + 1 if busy < threshold else 0
        if quiet >= 2:
            break
        busy = machine_busy()
    log(f"machine {busy:.0%} busy before starting")
    return busy


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unknown latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> LoadResult:
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", out)
    if not m:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests, seconds = int(m.group(1)), _ms(m.group(2) + m.group(3)) / 1000
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    latency = {f"p{p}": _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M)}
    extra: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            extra = json.loads(line[len("BENCH_JSON ") :])
    return LoadResult("wrk", seconds, requests, requests / seconds if seconds else 0.0, errors, latency, extra)


# -- statistics and reporting -----------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine_facts() -> dict[str, Any]:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False).stdout.rstrip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for module in ("uvicorn", "fastapi", "starlette", "sqlalchemy", "aiosqlite", "asyncpg", "uvloop", "httptools"):
        try:
            from importlib.metadata import version

            versions[module] = version(module)
        except Exception:
            versions[module] = "absent"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": run("nproc"),
        "free_h": run("free", "-h"),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": run("wrk", "--version").splitlines()[0] if shutil.which("wrk") else "absent",
        "postgresql": run("psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version", "test"),
        "sqlite": __import__("sqlite3").sqlite_version,
        "evroam_src": str(Path(__import__("evroam").__file__).parent.parent),
        "git_head": run("git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"),
        "git_dirty_files": len(run("git", "-C", str(REPO_DIR), "status", "--porcelain", "src").splitlines()),
        "packages": versions,
    }


def write_json(opts: Options, name: str, results: Any) -> None:
    if opts.json_out is None:
        return
    data = {"benchmark": name, "options": _jsonable(asdict(opts)), "machine": machine_facts(), "results": results}
    opts.json_out.parent.mkdir(parents=True, exist_ok=True)
    opts.json_out.write_text(json.dumps(data, indent=2, default=str))
    log(f"wrote {opts.json_out}")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
