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


def _connector(location: dict[str, Any], where: dict[str, Any]) -> dict[str, Any]:
    evse = next(e for e in location["evses"] if e["uid"] == where["evse_uid"])
    connector: dict[str, Any] = next(c for c in evse["connectors"] if c["id"] == where["connector_id"])
    return connector


async def test_the_demo_tells_the_whole_story(tmp_path: Path) -> None:
    printed = io.StringIO()
    options = DemoOptions(duration=4, locations=LOCATIONS, drivers=DRIVERS, seed=7, work_dir=tmp_path / "demo")
    report = await run_demo(options, Console(file=printed, width=200))
    assert len(report.steps) == 15
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

        # Two sessions, the same at both: the card's (authorized by the eMSP in real time, stopped by a second
        # tap) and the app's (started by command, capped by the profile, stopped by command).
        sessions = await _objects(cpo, "sessions")
        assert await _objects(emsp, "sessions") == sessions
        by_method = {s["auth_method"]: s for s in sessions.values()}
        assert set(by_method) == {"AUTH_REQUEST", "COMMAND"}
        assert {s["status"] for s in sessions.values()} == {"COMPLETED"}
        card = by_method["AUTH_REQUEST"]
        assert card["cdr_token"]["type"] == "RFID"
        assert card["authorization_reference"] == report.facts["authorization_reference"]
        app = by_method["COMMAND"]
        assert app["authorization_reference"] == "DEMO-APP-1"
        assert app["cdr_token"]["type"] == "APP_USER"
        powers = _powers(app)
        assert powers[0] < max(powers)  # the car ramps up
        assert max(powers) > report.facts["cap_kw"] >= powers[-1]  # then the profile caps it
        socs = [d["volume"] for p in app["charging_periods"] for d in p["dimensions"] if d["type"] == "STATE_OF_CHARGE"]
        assert len(socs) == len(app["charging_periods"])

        # The CDRs: priced by the CPO, the same at the eMSP, and the eMSP's own price agrees.
        cdrs = await _objects(cpo, "cdrs")
        assert await _objects(emsp, "cdrs") == cdrs
        assert {c["session_id"] for c in cdrs.values()} == set(sessions)
        tariffs = await _objects(emsp, "tariffs")
        for cdr in cdrs.values():
            assert float(cdr["total_cost"]["excl_vat"]) > 0
            document = read_cdr(cdr)
            connector = _connector(locations[cdr["cdr_location"]["id"]], cdr["cdr_location"])
            tariff, _ = read_tariff(tariffs[connector["tariff_ids"][0]])
            core = document.core
            priced = price_periods(
                tariff,
                document.charging_periods,
                start=core.start_date_time,
                end=core.end_date_time,
                time_zone="Europe/Amsterdam",
            )
            differences = compare_costs(priced, document.stated_costs())
            assert differences
            assert all(d.agrees for d in differences)
            assert all(d["type"] != "STATE_OF_CHARGE" for p in cdr["charging_periods"] for d in p["dimensions"])
    finally:
        await cpo.close()
        await emsp.close()

    assert report.facts["invoice_agrees"] is True
    assert "OCPI messages" in printed.getvalue()
