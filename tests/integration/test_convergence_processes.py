"""Convergence: a CPO and two eMSPs as processes on loopback. The CPO's database takes thousands of changes
(EVSE status flips, sessions with many updates, CDRs, tariff changes and deletions) while one eMSP is
stopped for longer than the CPO retries it and the CPO itself is killed with SIGKILL and restarted in the
middle. At the end each eMSP holds exactly what it is entitled to, object by object: every Location and
Tariff, and its own Sessions and CDRs (no duplicates, nothing of the other eMSP).

The changes are written the way `evroam load` does, by a process of their own on the CPO's database, so
the serving CPO (or its `evroam worker` processes, on PostgreSQL) learns of them only through the outbox.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from evroam.config import Settings
from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.service import LocationPath, patch_at, put_at
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.node import Node
from evroam.types import format_datetime, utcnow

from support.nodes import (
    cdr_body,
    cdr_token_body,
    connector_body,
    evse_body,
    location_body,
    period_body,
    session_body,
    tariff_body,
)
from support.processes import NodeProcess, WorkerProcess, wait_for

CPO_PARTY = ("NL", "CPO")
EMSPS = {"emsp1": ("NL", "EMS"), "emsp2": ("DE", "OTH")}
STATUSES = ("AVAILABLE", "CHARGING", "BLOCKED", "OUTOFORDER", "RESERVED")
LOCATION_COUNT = 40
TARIFF_COUNT = 8
SESSIONS_PER_EMSP = 25
SESSION_UPDATES = 8
STATUS_FLIPS = 2000
RETRY_WINDOW = 2.0  # seconds the CPO retries an unreachable eMSP before it is out of sync

NODE_ENV = {
    "EVROAM_CHARGE_POINTS": "none",
    "EVROAM_DELIVERY_RETRY_WINDOW": str(RETRY_WINDOW),
    "EVROAM_REQUEST_TIMEOUT": "2",
    "EVROAM_RESYNC_INTERVAL": "0",
}


def stamp() -> str:
    return format_datetime(utcnow())


@dataclass
class Driver:
    """Writes the CPO's changes into its database from this process, counting them as it goes."""

    settings: Settings
    seed: int = 7
    done: int = 0
    finished: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            asyncio.run(self._drive())
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished.set()

    async def _drive(self) -> None:
        rng = random.Random(self.seed)
        node = await Node.open(self.settings)
        try:
            store = node.store
            for n in range(TARIFF_COUNT):
                await TARIFFS.put(store, TARIFFS.key(*CPO_PARTY, f"T{n}"), tariff_body(f"T{n}", last_updated=stamp()))
                self.done += 1
            for n in range(LOCATION_COUNT):
                evses = [
                    evse_body(f"E{n}-{e}", connectors=[connector_body("1", tariff_ids=[f"T{n % TARIFF_COUNT}"])])
                    for e in range(2)
                ]
                body = location_body(f"L{n}", evses=evses, last_updated=stamp())
                await put_at(store, LocationPath(*CPO_PARTY, f"L{n}"), body)
                self.done += 1
            sessions = [(emsp, n) for emsp in EMSPS.values() for n in range(SESSIONS_PER_EMSP)]
            steps: list[tuple[str, Any]] = [("flip", None)] * STATUS_FLIPS
            steps += [("session", s) for s in sessions for _ in range(SESSION_UPDATES + 2)]
            steps += [("tariff", n) for n in range(TARIFF_COUNT) for _ in range(3)]
            rng.shuffle(steps)
            progress: dict[tuple[tuple[str, str], int], int] = {}
            for kind, what in steps:
                if kind == "flip":
                    n = rng.randrange(LOCATION_COUNT)
                    path = LocationPath(*CPO_PARTY, f"L{n}", f"E{n}-{rng.randrange(2)}")
                    await patch_at(store, path, {"status": rng.choice(STATUSES), "last_updated": stamp()})
                elif kind == "session":
                    step = progress.get(what, 0)
                    progress[what] = step + 1
                    await self._session_step(node, what, step)
                else:
                    await self._tariff_step(node, what, rng)
                self.done += 1
            # Two tariffs withdrawn at the end.
            for n in (0, 1):
                await store.delete_object("tariffs", TARIFFS.key(*CPO_PARTY, f"T{n}"))
                self.done += 1
        finally:
            await node.close()

    async def _session_step(self, node: Node, what: tuple[tuple[str, str], int], step: int) -> None:
        (cc, pid), n = what
        session_id = f"S-{cc}{pid}-{n}"
        key = SESSIONS.key(*CPO_PARTY, session_id)
        token = cdr_token_body(cc, pid, f"U{n}")
        if step == 0:
            body = session_body(session_id, token=token, status="PENDING", last_updated=stamp())
            await SESSIONS.put(node.store, key, body)
        elif step <= SESSION_UPDATES:
            patch: dict[str, Any] = {"kwh": step * 1.5, "status": "ACTIVE", "last_updated": stamp()}
            if step % 3 == 0:  # a new charging period: the session is sent whole
                patch["charging_periods"] = [period_body(stamp(), 1.5)]
            await SESSIONS.patch(node.store, key, patch)
        else:
            now = stamp()
            await SESSIONS.patch(node.store, key, {"status": "COMPLETED", "end_date_time": now, "last_updated": now})
            cdr = cdr_body(f"CDR-{session_id}", token=token, session_id=session_id, last_updated=now)
            await CDRS.put(node.store, CDRS.key(*CPO_PARTY, cdr["id"]), cdr, insert_only=True)

    async def _tariff_step(self, node: Node, n: int, rng: random.Random) -> None:
        price = round(rng.uniform(0.2, 0.6), 2)
        elements = [{"price_components": [{"type": "ENERGY", "price": price, "vat": 21, "step_size": 1}]}]
        body = tariff_body(f"T{n}", elements=elements, last_updated=stamp())
        await TARIFFS.put(node.store, TARIFFS.key(*CPO_PARTY, f"T{n}"), body)


def entitled(cpo: dict[str, dict[tuple[str, str, str, str], Any]], party: tuple[str, str]) -> dict[str, Any]:
    """What an eMSP should hold of the CPO's data: everything of locations and tariffs, its own sessions
    and CDRs."""

    def own(doc: dict[str, Any]) -> bool:
        token = doc["cdr_token"]
        return (token["country_code"], token["party_id"]) == party

    return {
        "locations": cpo["locations"],
        "tariffs": cpo["tariffs"],
        "sessions": {k: v for k, v in cpo["sessions"].items() if own(v)},
        "cdrs": {k: v for k, v in cpo["cdrs"].items() if own(v)},
    }


def differences(held: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """What differs, object by object (at most a few per module)."""
    found: list[str] = []
    for module, objects in want.items():
        have = held[module]
        missing = [k for k in objects if k not in have]
        extra = [k for k in have if k not in objects]
        changed = [k for k in objects if k in have and have[k] != objects[k]]
        for label, keys in (("missing", missing), ("unexpected", extra), ("different", changed)):
            if keys:
                found.append(f"{module}: {len(keys)} {label}, e.g. {keys[:3]}")
    return found


def wait_until_equal(node: NodeProcess, want: dict[str, Any], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = differences(snapshot(node), want)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def snapshot(node: NodeProcess) -> dict[str, dict[tuple[str, str, str, str], Any]]:
    return {module: node.stored(module) for module in ("locations", "tariffs", "sessions", "cdrs")}


@dataclass
class Nodes:
    cpo: NodeProcess
    emsps: dict[str, NodeProcess]
    workers: list[WorkerProcess]
    schema: str | None = None


def _start(tmp: Path, cpo_url: str | None, schema: str | None) -> Nodes:
    env = dict(NODE_ENV)
    if schema is not None:
        env.update(EVROAM_DATABASE_SCHEMA=schema, EVROAM_DELIVERIES="false")
    cpo = NodeProcess(tmp, "cpo", "NL-CPO-CPO", env=env, database_url=cpo_url)
    emsps = {name: NodeProcess(tmp, name, f"{cc}-{pid}-EMSP", env=dict(NODE_ENV)) for name, (cc, pid) in EMSPS.items()}
    workers = [WorkerProcess(cpo, f"worker{n}") for n in (1, 2)] if schema is not None else []
    return Nodes(cpo, emsps, workers, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Nodes]:
    schema = cpo_url = None
    dsn = None
    if request.param == "postgres":
        dsn = request.getfixturevalue("postgres_url")
        schema = f"evroam_conv_{uuid4().hex[:10]}"
        asyncio.run(_schema(dsn, f'CREATE SCHEMA "{schema}"'))
        cpo_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    setup = _start(tmp_path, cpo_url, schema)
    everything = [setup.cpo, *setup.emsps.values(), *setup.workers]
    try:
        setup.cpo.start()
        for worker in setup.workers:
            worker.start()
        for emsp in setup.emsps.values():
            emsp.start()
            token_a = setup.cpo.cli_json("credentials", "issue")["token"]
            emsp.cli("credentials", "register", "--dev", "--versions-url", setup.cpo.versions_url, "--token", token_a)
        yield setup
    finally:
        for process in everything:
            process.stop()
        if dsn is not None and schema is not None:
            asyncio.run(_schema(dsn, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


async def _schema(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def test_every_emsp_converges_to_what_it_is_entitled_to(nodes: Nodes) -> None:
    cpo, emsp1, emsp2 = nodes.cpo, nodes.emsps["emsp1"], nodes.emsps["emsp2"]
    settings = Settings(
        database_url=cpo.database_url, database_schema=nodes.schema, parties=["NL-CPO-CPO"], dev_mode=True
    )
    driver = Driver(settings)
    session_changes = 2 * SESSIONS_PER_EMSP * (SESSION_UPDATES + 2)
    total = TARIFF_COUNT + LOCATION_COUNT + STATUS_FLIPS + session_changes + 3 * TARIFF_COUNT + 2
    driver.start()

    def reached(share: float) -> bool:
        return driver.done >= share * total or driver.finished.is_set()

    wait_for(lambda: reached(0.2), "a fifth of the changes", timeout=120)
    emsp1.stop()
    stopped_at = time.monotonic()
    wait_for(lambda: reached(0.4), "two fifths of the changes", timeout=120)
    # The CPO dies mid-stream: what it had claimed, sent or not, is taken up after its restart.
    cpo.kill()
    if nodes.workers:
        nodes.workers[0].kill()
    wait_for(lambda: reached(0.55), "more changes while the CPO is down", timeout=120)
    cpo.start()
    if nodes.workers:
        nodes.workers[0].start()
    wait_for(lambda: reached(0.8), "four fifths of the changes", timeout=120)
    # eMSP1 stays away longer than the CPO retries it: it is out of sync and must catch up on its return.
    time.sleep(max(0.0, stopped_at + 3 * RETRY_WINDOW - time.monotonic()))
    emsp1.start()
    wait_for(driver.finished.is_set, "all changes", timeout=180)
    assert driver.error is None, driver.error
    assert driver.done == total

    expected = snapshot(cpo)
    assert len(expected["sessions"]) == 2 * SESSIONS_PER_EMSP
    assert len(expected["cdrs"]) == 2 * SESSIONS_PER_EMSP
    assert len(expected["tariffs"]) == TARIFF_COUNT - 2
    for name, emsp in (("emsp1", emsp1), ("emsp2", emsp2)):
        want = entitled(expected, EMSPS[name])
        differences = wait_until_equal(emsp, want, timeout=120)
        assert not differences, f"{name} differs from what it is entitled to: {differences}"
        assert len(want["cdrs"]) == SESSIONS_PER_EMSP  # its own, once each

    # The ledger saw eMSP1 go out of sync, and every push attempt is recorded with its request id.
    report = cpo.cli_json("deliveries", "--limit", "5")
    assert len(report["peers"]) == 2
    assert all(a["request_id"] for a in report["attempts"])
