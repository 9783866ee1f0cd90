"""`evroam demo` in a short mode: every step of the story is checked afterwards in both nodes' databases."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evroam.demo.story import DemoOptions, run_demo
from evroam.store import SqlStore, open_store
from evroam.store.interface import ListQuery, PeerStatus
from evroam.tariffs import price_periods, read_cdr, read_tariff
from evroam.tariffs.audit import compare_costs

pytestmark = pytest.mark.asyncio

LOCATIONS, DRIVERS = 12, 4


async def _objects(store: SqlStore, module: str) -> dict[str, dict[str, Any]]:
    """Every object of `module` the store holds, by its id (tokens: uid/type)."""
    _, found = await store.list_objects(module, ListQuery(limit=10_000))
    docs = [json.loads(o.data) for o in found]
    return {doc["id"] if "id" in doc else f"{doc['uid']}/{doc['type']}": doc for doc in docs}


def _powers(session: dict[str, Any]) -> list[float]:
    return [
        float(next(d["volume"] for d in p["dimensions"] if d["type"] == "POWER")) for p in session["charging_periods"]
    ]


async def test_the_demo_tells_the_whole_story(tmp_path: Path) -> None:
    printed = io.StringIO()
    options = DemoOptions(duration=4, locations=LOCATIONS, drivers=DRIVERS, seed=7, work_dir=tmp_path / "demo")
    report = await run_demo(options, Console(file=printed, width=200))
    assert len(report.steps) == 14
    assert report.cpo is not None
    assert report.cpo.process is not None
    assert report.cpo.process.poll() is not None  # stopped at the end

    cpo = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'demo' / 'cpo.db'}")
    emsp = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'demo' / 'emsp.db'}")
    try:
        # Registration: each knows the other, registered.
        [emsp_at_cpo] = await cpo.list_peers()
        [cpo_at_emsp] = await emsp.list_peers()
        assert emsp_at_cpo.status == cpo_at_emsp.status == PeerStatus.REGISTERED
        assert [(r.country_code, r.party_id) for r in emsp_at_cpo.roles] == [("DE", "EMS")]

        # The network, pulled, and EVSE status changes pushed: the eMSP's copy equals the CPO's.
        locations, tariffs = await _objects(cpo, "locations"), await _objects(cpo, "tariffs")
        assert len(locations) == LOCATIONS
        assert len(tariffs) == 4
        assert await _objects(emsp, "locations") == locations
        assert await _objects(emsp, "tariffs") == tariffs
        cpo_pushes = await cpo.delivery_log(limit=10_000)
        evse_patches = [
            a for a in cpo_pushes if a.module == "locations" and a.method == "PATCH" and a.outcome == "DELIVERED"
        ]
        assert len(evse_patches) >= 5

        # Drivers: the eMSP's tokens pushed to the CPO.
        tokens = await _objects(emsp, "tokens")
        assert len(tokens) == DRIVERS + (DRIVERS + 1) // 2
        assert await _objects(cpo, "tokens") == tokens
        token_puts = [a for a in await emsp.delivery_log(limit=10_000) if a.module == "tokens"]
        assert {a.outcome for a in token_puts} == {"DELIVERED"}
        assert len(token_puts) == len(tokens)

        # The app session: started by command, capped by the profile, stopped, the same at both.
        [session] = (await _objects(cpo, "sessions")).values()
        assert (await _objects(emsp, "sessions")) == {session["id"]: session}
        assert (session["status"], session["auth_method"]) == ("COMPLETED", "COMMAND")
        assert session["authorization_reference"] == "DEMO-APP-1"
        assert session["cdr_token"]["type"] == "APP_USER"
        powers = _powers(session)
        assert powers[0] > 50
        assert powers[-1] <= 50

        # The CDR: priced by the CPO, the same at the eMSP, and the eMSP's own price agrees.
        [cdr] = (await _objects(cpo, "cdrs")).values()
        assert await _objects(emsp, "cdrs") == {cdr["id"]: cdr}
        assert cdr["session_id"] == session["id"]
        assert float(cdr["total_cost"]["excl_vat"]) > 1  # the fast charger's start fee and its energy
        document = read_cdr(cdr)
        tariff, _ = read_tariff((await _objects(emsp, "tariffs"))["DC-FAST"])
        core = document.core
        priced = price_periods(
            tariff, document.charging_periods, start=core.start_date_time, end=core.end_date_time, time_zone="UTC"
        )
        differences = compare_costs(priced, document.stated_costs())
        assert differences
        assert all(d.agrees for d in differences)
    finally:
        await cpo.close()
        await emsp.close()

    # Real-time authorization is not stored by either node; the demo's record of the CPO's answer:
    assert report.facts["authorization_reference"]
    assert report.facts["invoice_agrees"] is True
    text = printed.getvalue()
    assert "Pushes (from the delivery ledgers)" in text
