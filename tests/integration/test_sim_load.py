"""Simulated drivers loading a CPO (`evroam.sim.drive`): cards tapped at free EVSEs, real-time authorization
by the eMSP, sessions metered, stopped and billed while EVSEs break down and come back. Afterwards the eMSP
holds exactly what the CPO holds, pushed. In-process nodes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from evroam.modules.locations.service import location_row
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.models import TokenType
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.sim import Plan, Simulator, drive
from evroam.store.interface import ListQuery

from support.nodes import (
    InProcessNetwork,
    connect_cpo_and_emsp,
    connector_body,
    evse_body,
    location_body,
    tariff_body,
    token_body,
)

pytestmark = pytest.mark.asyncio

DRIVERS, SECONDS = 6, 3.0
CAPABLE = ["RFID_READER", "REMOTE_START_STOP_CAPABLE"]


async def held(node: Node, module: str) -> dict[str, dict[str, Any]]:
    _, rows = await node.store.list_objects(module, ListQuery(limit=10_000))
    return {row.key.id: json.loads(row.data) for row in rows}


async def settled(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen")


async def test_drivers_charge_under_load_and_the_emsp_ends_with_what_the_cpo_holds(
    backend_network: InProcessNetwork,
) -> None:
    pushing = {"deliveries": True}
    roaming = await connect_cpo_and_emsp(
        backend_network, sim_meter_interval=0.2, sim_answer_delay=0, emsp_settings=pushing, **pushing
    )
    cpo, emsp = roaming.cpo, roaming.emsp
    await TARIFFS.put(cpo.store, TARIFFS.key("NL", "CPO", "T1"), tariff_body("T1"))
    for n in range(1, 5):
        evses = [
            evse_body(f"L{n}-E{e}", capabilities=CAPABLE, connectors=[connector_body("1", tariff_ids=["T1"])])
            for e in range(1, 4)
        ]
        await cpo.store.put_object("locations", location_row(location_body(f"LOC{n}", evses=evses)))
    tokens = []
    for n in range(DRIVERS):
        body = token_body(f"CARD{n}", whitelist="NEVER" if n % 2 else "ALLOWED")
        for node in (emsp, cpo):
            await TOKENS.put(node.store, TOKENS.key("NL", "EMS", body["uid"], "RFID"), body)
        tokens.append((body["uid"], TokenType.RFID))
    simulator = cpo.charge_points
    assert isinstance(simulator, Simulator)

    plan = Plan(drivers=DRIVERS, charge_seconds=(0.3, 1.0), pause_seconds=(0, 0.2), faults_per_second=3, seed=5)
    report = await drive(simulator, ("NL", "CPO"), tokens, plan, seconds=SECONDS)

    assert len(report.started) >= DRIVERS
    assert report.stopped == len(report.started)
    assert report.refused == {}
    assert report.faults > 0
    sessions = await held(cpo, "sessions")
    assert sorted(sessions) == sorted(s.upper() for s in report.started)
    assert {s["status"] for s in sessions.values()} == {"COMPLETED"}
    assert {s["auth_method"] for s in sessions.values()} == {"AUTH_REQUEST", "WHITELIST"}
    cdrs = await held(cpo, "cdrs")
    assert sorted(cdrs) == sorted(sessions)
    locations = await held(cpo, "locations")
    assert {e["status"] for loc in locations.values() for e in loc["evses"]} == {"AVAILABLE"}

    async def converged() -> bool:
        return all([await held(emsp, m) == await held(cpo, m) for m in ("sessions", "cdrs", "locations")])

    await settled(converged, "the eMSP holding what the CPO holds")
