"""Simulated drivers loading a CPO node: each arrives at a free EVSE, holds its token to the reader (the CPO
authorizes it, asking the eMSP in real time when the token says so), charges a while and taps again to
stop; meanwhile EVSEs break down and come back. Tests and benchmarks drive a node with it.

    report = await drive(node.charge_points, ("NL", "CPO"), tokens, Plan(drivers=50), seconds=60)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from evroam.modules.locations.models import Capability, Location, Status
from evroam.modules.tokens.models import TokenType
from evroam.sim.simulator import Simulator, TapAction
from evroam.store.interface import ListQuery

__all__ = ["LoadReport", "Plan", "drive"]

_PAGE: Final = 1000
_RETRY_SECONDS: Final = 0.2  # a driver turned away tries another EVSE after this


@dataclass(frozen=True, slots=True)
class Plan:
    """How the drivers behave. Times are drawn uniformly from the (low, high) ranges, from `seed`."""

    drivers: int = 10  # charging (or looking for an EVSE) at once, each with a token of its own
    charge_seconds: tuple[float, float] = (5.0, 30.0)
    pause_seconds: tuple[float, float] = (0.0, 1.0)  # between one driver's sessions
    faults_per_second: float = 0.0  # free EVSEs going OUTOFORDER, each back AVAILABLE after `fault_seconds`
    fault_seconds: tuple[float, float] = (2.0, 10.0)
    seed: int = 0


@dataclass
class LoadReport:
    """What the drivers did."""

    started: list[str] = field(default_factory=list)  # the ids of the sessions they started
    stopped: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # by reason
    faults: int = 0
    start_ms: list[float] = field(default_factory=list)  # tap to session started (authorization included)

    def summary(self) -> dict[str, object]:
        """JSON-ready counts, and the p50/p99 of the time a started tap took."""
        taps = sorted(self.start_ms)
        return {
            "started": len(self.started),
            "stopped": self.stopped,
            "refused": dict(self.refused),
            "faults": self.faults,
            "start_p50_ms": round(statistics.median(taps), 1) if taps else None,
            "start_p99_ms": round(taps[min(len(taps) - 1, int(len(taps) * 0.99))], 1) if taps else None,
        }


class _Floor:
    """The free EVSEs, shared by the drivers and the faults so that no two take the same one."""

    def __init__(self, evses: list[tuple[str, str]], rng: random.Random) -> None:
        self.free = evses
        self.rng = rng

    def take(self) -> tuple[str, str] | None:
        if not self.free:
            return None
        n = self.rng.randrange(len(self.free))
        self.free[n], self.free[-1] = self.free[-1], self.free[n]
        return self.free.pop()

    def give_back(self, evse: tuple[str, str]) -> None:
        self.free.append(evse)


async def _free_evses(simulator: Simulator, cpo: tuple[str, str]) -> list[tuple[str, str]]:
    """(location_id, evse_uid) of every AVAILABLE EVSE of the CPO with a reader (or capabilities unstated)."""
    found: list[tuple[str, str]] = []
    offset = 0
    while True:
        total, rows = await simulator.store.list_objects(
            "locations", ListQuery(offset=offset, limit=_PAGE, owners=(cpo,))
        )
        for row in rows:
            location = Location.model_validate(json.loads(row.data))
            found += [
                (location.id, evse.uid)
                for evse in location.evses or ()
                if evse.status == Status.AVAILABLE
                and (evse.capabilities is None or Capability.RFID_READER in evse.capabilities)
            ]
        offset += len(rows)
        if not rows or offset >= total:
            return sorted(found)


async def drive(
    simulator: Simulator,
    cpo: tuple[str, str],
    tokens: Sequence[tuple[str, TokenType]],
    plan: Plan,
    *,
    seconds: float,
    progress: Callable[[LoadReport], None] | None = None,
) -> LoadReport:
    """Let `plan.drivers` drivers charge at the CPO party `cpo`'s free EVSEs for `seconds`, with the tokens
    (uid, type) given (one each, so at least as many as drivers); sessions still running at the end are
    stopped. `progress` is called after each session a driver starts or stops."""
    if len(tokens) < plan.drivers:
        raise ValueError(f"{plan.drivers} drivers need as many tokens, got {len(tokens)}")
    rng = random.Random(plan.seed)  # noqa: S311 (reproducible behaviour, nothing secret)
    floor = _Floor(await _free_evses(simulator, cpo), rng)
    report = LoadReport()
    deadline = time.monotonic() + seconds

    def told() -> None:
        if progress is not None:
            progress(report)

    async def driver(uid: str, token_type: TokenType) -> None:
        while time.monotonic() < deadline:
            evse = floor.take()
            if evse is None:
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            tapped = time.monotonic()
            started = await simulator.tap(cpo, *evse, uid, token_type)
            if started.action != TapAction.STARTED or started.session_id is None:
                report.refused[started.reason] += 1
                floor.give_back(evse)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            report.start_ms.append((time.monotonic() - tapped) * 1000)
            report.started.append(started.session_id)
            told()
            # Charging ends by the end of the load at the latest.
            await asyncio.sleep(min(rng.uniform(*plan.charge_seconds), max(0.0, deadline - time.monotonic())))
            stopped = await simulator.tap(cpo, *evse, uid, token_type)
            report.stopped += stopped.action == TapAction.STOPPED
            floor.give_back(evse)
            told()
            await asyncio.sleep(rng.uniform(*plan.pause_seconds))

    async def faults() -> None:
        while plan.faults_per_second > 0 and time.monotonic() < deadline:
            await asyncio.sleep(rng.expovariate(plan.faults_per_second))
            evse = floor.take()
            if evse is None:
                continue
            await simulator.set_evse_status(cpo, *evse, Status.OUTOFORDER)
            report.faults += 1
            repairs.add(asyncio.ensure_future(repair(evse, rng.uniform(*plan.fault_seconds))))

    async def repair(evse: tuple[str, str], after: float) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # the end of the load: repaired at once
            await asyncio.sleep(after)
        await simulator.set_evse_status(cpo, *evse, Status.AVAILABLE)
        floor.give_back(evse)

    repairs: set[asyncio.Future[None]] = set()
    fault_task = asyncio.ensure_future(faults())
    await asyncio.gather(*(driver(uid, kind) for uid, kind in tokens[: plan.drivers]))
    fault_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await fault_task
    for pending in repairs:
        pending.cancel()
    await asyncio.gather(*repairs)
    return report
