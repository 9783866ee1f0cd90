"""`evroam demo`: a CPO node and an eMSP node, started as processes, roam end to end over HTTP while the
story is told step by step. Every step is checked against what the nodes stored, not against what they
answered; the first step that does not happen ends the demo with the reason."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

from rich.console import Console
from rich.table import Table

from evroam.demo.network import DEMO_AC_EVSE, DEMO_EVSE, DEMO_LOCATION, Network, drivers, network
from evroam.demo.nodes import DemoNode, NodeFailed
from evroam.store.interface import ObjectKey
from evroam.tariffs import PricingError, price_periods, read_cdr, read_tariff
from evroam.tariffs.audit import compare_costs
from evroam.types import format_datetime

__all__ = ["DemoFailed", "DemoOptions", "DemoReport", "run_demo"]

CPO: Final = ("NL", "EVR")
EMSP: Final = ("DE", "EMS")
_WAIT: Final = 60.0  # seconds any one thing may take before the demo gives up on it
_CAP_FROM_KW: Final = 20.0  # the eMSP caps the app session once it charges faster than this, at half its power
_UPLOADS: Final = 16  # back-office uploads in flight

T = TypeVar("T")


class DemoFailed(Exception):
    """A step of the story did not happen."""


@dataclass(frozen=True)
class DemoOptions:
    duration: float = 20.0  # seconds the app session charges (half before its charging profile, half after)
    locations: int = 200
    drivers: int = 20
    seed: int = 1
    work_dir: Path | None = None  # where the nodes keep their databases and logs (default: a temporary folder)
    keep: bool = False  # leave the nodes running at the end


@dataclass
class DemoReport:
    """What happened, for the summary and for tests."""

    work_dir: Path
    steps: list[tuple[str, str, float]] = field(default_factory=list)  # title, detail, seconds
    facts: dict[str, Any] = field(default_factory=dict)
    completed: bool = False
    cpo: DemoNode | None = None
    emsp: DemoNode | None = None


async def _until(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    deadline = time.monotonic() + _WAIT
    while True:
        found = await check()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise DemoFailed(f"{what} did not happen within {_WAIT:.0f} s")
        await asyncio.sleep(0.1)


class Story:
    def __init__(self, options: DemoOptions, console: Console, report: DemoReport) -> None:
        self.options, self.console, self.report = options, console, report
        self.cpo: DemoNode
        self.emsp: DemoNode
        self.network: Network
        self.tokens: list[dict[str, Any]] = []

    async def step(self, title: str, work: Callable[[], Awaitable[str]]) -> None:
        started = time.monotonic()
        with self.console.status(f"[bold]{title}[/bold] ..."):
            try:
                detail = await work()
            except (NodeFailed, PricingError, DemoFailed) as exc:
                raise DemoFailed(f"{title}: {exc}") from exc
        seconds = time.monotonic() - started
        self.report.steps.append((title, detail, seconds))
        self.console.print(f"[green]✓[/green] [bold]{title}[/bold] [dim]({seconds:.1f} s)[/dim]\n  {detail}")

    # -- the story ------------------------------------------------------------------------------------------
    async def tell(self, stack: AsyncExitStack) -> None:
        folder = self.report.work_dir
        sim = {"EVROAM_SIM_METER_INTERVAL": "1", "EVROAM_SIM_ANSWER_DELAY": "0.3"}
        self.cpo = DemoNode("cpo", f"{CPO[0]}-{CPO[1]}-CPO", folder, sim)
        self.emsp = DemoNode("emsp", f"{EMSP[0]}-{EMSP[1]}-EMSP", folder)
        self.report.cpo, self.report.emsp = self.cpo, self.emsp
        stack.push_async_callback(self._stop_nodes)
        await self.step("Two nodes start", self.start_nodes)
        await self.step("The CPO's back office uploads its network", self.upload_network)
        await self.step("Registration: the credentials handshake", self.register)
        await self.step("The eMSP pulls Locations and Tariffs", self.pulled)
        await self.step("The eMSP's back office adds its drivers", self.upload_drivers)
        await self.step("Tokens are pushed to the CPO", self.tokens_pushed)
        await self.step("EVSE status changes arrive by push", self.status_pushes)
        card = await self._tapped()
        session = await self._started()
        await self.step("The sessions charge", lambda: self.charging(session, card))
        await self.step("A charging profile caps the power", lambda: self.capped(session))
        await self.step("The driver stops from the app", lambda: self.stopped(session))
        await self.step("The card's driver taps again: the session stops", lambda: self.card_stopped(card))
        await self.step("The CDRs arrive, priced by the CPO's tariff engine", lambda: self.cdrs(session, card))
        await self.step("The eMSP checks the invoices", self.invoice_check)
        self.report.completed = True

    async def _stop_nodes(self) -> None:
        if not (self.options.keep and self.report.completed):  # --keep leaves them running after a success
            await asyncio.gather(self.cpo.stop(), self.emsp.stop())

    async def start_nodes(self) -> str:
        await asyncio.gather(self.cpo.start(), self.emsp.start())
        return (
            f"CPO {CPO[0]}-{CPO[1]} at {self.cpo.base_url}, eMSP {EMSP[0]}-{EMSP[1]} at {self.emsp.base_url}, "
            f"each on its own SQLite file in {self.report.work_dir}"
        )

    async def _upload(self, node: DemoNode, calls: list[tuple[str, dict[str, Any]]]) -> None:
        limit = asyncio.Semaphore(_UPLOADS)

        async def put(path: str, body: dict[str, Any]) -> None:
            async with limit:
                await node.admin("PUT", path, body)

        await asyncio.gather(*(put(path, body) for path, body in calls))

    async def upload_network(self) -> str:
        now = datetime.now(UTC)
        self.network = network(
            self.options.locations, seed=self.options.seed, country_code=CPO[0], party_id=CPO[1], now=now
        )
        cc, pid = CPO
        await self._upload(self.cpo, [(f"/tariffs/{cc}/{pid}/{t['id']}", t) for t in self.network.tariffs])
        await self._upload(self.cpo, [(f"/locations/{cc}/{pid}/{loc['id']}", loc) for loc in self.network.locations])
        stored = await self.cpo.objects("locations")
        if len(stored) != len(self.network.locations):
            raise DemoFailed(f"the CPO stored {len(stored)} of {len(self.network.locations)} Locations")
        kinds = ", ".join(t["id"] for t in self.network.tariffs)
        return (
            f"{len(stored)} Locations, {self.network.evse_count} EVSEs, {self.network.connector_count} Connectors; "
            f"{len(self.network.tariffs)} Tariffs ({kinds})"
        )

    async def upload_drivers(self) -> str:
        now = datetime.now(UTC)
        self.tokens = drivers(
            self.options.drivers, seed=self.options.seed, country_code=EMSP[0], party_id=EMSP[1], now=now
        )
        cc, pid = EMSP
        await self._upload(self.emsp, [(f"/tokens/{cc}/{pid}/{t['uid']}?type={t['type']}", t) for t in self.tokens])
        cards = sum(1 for t in self.tokens if t["type"] == "RFID")
        return f"{self.options.drivers} drivers: {cards} RFID cards, {len(self.tokens) - cards} app accounts"

    async def register(self) -> str:
        issued = await self.cpo.cli("credentials", "issue")
        await self.emsp.cli(
            "credentials",
            "register",
            "--dev",
            "--versions-url",
            self.cpo.versions_url,
            "--token",
            issued["token"],
            as_json=False,
        )
        cpo_peers, emsp_peers = await asyncio.gather(
            self.cpo.cli("credentials", "list"), self.emsp.cli("credentials", "list")
        )
        if len(cpo_peers) != 1 or len(emsp_peers) != 1:
            raise DemoFailed(f"the nodes know {len(cpo_peers)} and {len(emsp_peers)} peers, not one each")
        at_emsp = emsp_peers[0]
        self.report.facts["version"] = at_emsp["version"]
        return (
            f"the eMSP used token A, both sides swapped tokens B and C; OCPI {at_emsp['version']}, "
            f"{len(at_emsp['endpoints'])} CPO endpoints known to the eMSP"
        )

    async def pulled(self) -> str:
        want_locations, want_tariffs = len(self.network.locations), len(self.network.tariffs)

        async def complete() -> tuple[int, int] | None:
            locations = await self.emsp.objects("locations")
            tariffs = await self.emsp.objects("tariffs")
            done = len(locations) == want_locations and len(tariffs) == want_tariffs
            return (len(locations), len(tariffs)) if done else None

        locations, tariffs = await _until(complete, "the eMSP's pull of Locations and Tariffs")
        return f"the eMSP holds {locations} Locations and {tariffs} Tariffs, paged from the CPO's Sender interfaces"

    async def tokens_pushed(self) -> str:
        async def arrived() -> int | None:
            held = len(await self.cpo.objects("tokens"))
            return held if held == len(self.tokens) else None

        held = await _until(arrived, "the Tokens' push to the CPO")
        pushed = [a for a in await self.emsp.ledger() if a.module == "tokens" and a.outcome == "DELIVERED"]
        return f"the CPO holds all {held} Tokens ({len(pushed)} PUTs to its Tokens Receiver), so it can authorize them"

    async def status_pushes(self) -> str:
        cc, pid = CPO
        targets = [
            (loc["id"], evse["uid"], "CHARGING" if evse["status"] == "AVAILABLE" else "AVAILABLE")
            for loc in self.network.locations[1:6]
            for evse in loc["evses"][:1]
        ]
        latencies: list[float] = []

        async def flip(location_id: str, uid: str, status: str) -> None:
            started = time.monotonic()
            body = {"status": status, "last_updated": format_datetime(datetime.now(UTC))}
            await self.cpo.admin("PATCH", f"/locations/{cc}/{pid}/{location_id}/{uid}", body)

            async def seen() -> bool:
                assert self.emsp.store is not None
                stored = await self.emsp.store.get_object("locations", ObjectKey(*CPO, location_id))
                return stored is not None and any(
                    e["uid"] == uid and e["status"] == status for e in json.loads(stored.data)["evses"]
                )

            await _until(seen, f"EVSE {uid} becoming {status} at the eMSP")
            latencies.append((time.monotonic() - started) * 1000)

        await asyncio.gather(*(flip(*target) for target in targets))
        self.report.facts["status_latency_ms"] = latencies
        return (
            f"{len(targets)} EVSEs changed status at the CPO; the eMSP had each within "
            f"{max(latencies):.0f} ms (median {statistics.median(latencies):.0f} ms), pushed as EVSE PATCHes"
        )

    async def _tap(self, evse_uid: str, uid: str) -> dict[str, Any]:
        path = f"/chargepoints/{CPO[0]}/{CPO[1]}/{DEMO_LOCATION}/{evse_uid}/tap"
        answer: dict[str, Any] = await self.cpo.admin("POST", path, {"uid": uid, "type": "RFID"})
        return answer

    async def _tapped(self) -> dict[str, Any]:
        card = next(t for t in self.tokens if t["type"] == "RFID" and t["whitelist"] == "NEVER")
        holder: dict[str, Any] = {}

        async def tap() -> str:
            stranger = await self._tap(DEMO_AC_EVSE, "DEADBEEF0000")
            if stranger["action"] != "REFUSED":
                raise DemoFailed(f"an unknown card was not turned away: {stranger}")
            answer = await self._tap(DEMO_AC_EVSE, card["uid"])
            decided = answer.get("authorization") or {}
            if answer["action"] != "STARTED" or decided.get("source") != "REAL_TIME":
                raise DemoFailed(f"the card did not start a session after asking the eMSP: {answer}")
            reference = str(decided.get("authorization_reference"))
            session = await _until(lambda: self._session(reference, "ACTIVE"), "the card's session at the eMSP")
            if session["auth_method"] != "AUTH_REQUEST" or session["cdr_token"]["uid"] != card["uid"]:
                raise DemoFailed(f"the card's session is not the one authorized: {session}")
            holder.update(session)
            self.report.facts["authorization_reference"] = reference
            return (
                f"card {card['visual_number']} ({card['uid']}) at {DEMO_AC_EVSE}: the CPO asked the eMSP, which "
                f"answered {decided['allowed']} (reference {reference}); session {session['id']} is ACTIVE at the "
                f"eMSP (AUTH_REQUEST). An unknown card was turned away ({stranger['authorization']['source']})"
            )

        await self.step("A driver's RFID card is authorized in real time and charges", tap)
        return holder

    async def _started(self) -> dict[str, Any]:
        app_user = next(t for t in self.tokens if t["type"] == "APP_USER")
        holder: dict[str, Any] = {}

        async def start() -> str:
            body = {
                "to": {"country_code": CPO[0], "party_id": CPO[1]},
                "token": app_user,
                "location_id": DEMO_LOCATION,
                "evse_uid": DEMO_EVSE,
                "authorization_reference": "DEMO-APP-1",
            }
            sent = await self.emsp.admin("POST", "/commands/START_SESSION", body)
            result = await self._result(sent["id"])
            session = await _until(lambda: self._session("DEMO-APP-1", "ACTIVE"), "the session at the eMSP")
            holder.update(session)
            return (
                f"{app_user['uid']} pressed start: START_SESSION answered {sent['response']['result']}, the "
                f"charge point's result {result['result']}; session {session['id']} is ACTIVE at the eMSP"
            )

        await self.step("A driver starts a session from the app", start)
        return holder

    async def _result(self, command_id: str) -> dict[str, Any]:
        async def settled() -> dict[str, Any] | None:
            view: dict[str, Any] = await self.emsp.admin("GET", f"/commands/{command_id}")
            if view["state"] in ("REFUSED", "FAILED", "TIMED_OUT"):
                raise DemoFailed(f"command {view.get('type', '')} ended {view['state']}: {view.get('error')}")
            result: dict[str, Any] | None = view.get("result")
            return result

        result = await _until(settled, "the command's result")
        if result.get("result") != "ACCEPTED":
            raise DemoFailed(f"the charge point answered {result}")
        return result

    async def _session(self, reference: str, status: str) -> dict[str, Any] | None:
        for session in await self.emsp.objects("sessions"):
            if session.get("authorization_reference") == reference and session["status"] == status:
                return session
        return None

    async def charging(self, session: dict[str, Any], card: dict[str, Any]) -> str:
        await asyncio.sleep(self.options.duration / 2)
        now = await _until(lambda: self._session("DEMO-APP-1", "ACTIVE"), "the running app session")
        card_now = await _until(
            lambda: self._session(card["authorization_reference"], "ACTIVE"), "the running card session"
        )
        updates = [a for a in await self.cpo.ledger() if a.module == "sessions" and a.outcome == "DELIVERED"]
        powers, socs = _powers(now), _socs(now)
        cost = (now.get("total_cost") or {}).get("incl_vat", "?")
        return (
            f"the charge points meter every second, {len(updates)} session updates pushed so far. The app "
            f"session ramped up {powers[0]:.0f} → {max(powers):.0f} kW, battery {socs[0]:.1f} % → {socs[-1]:.1f} %: "
            f"{Decimal(now['kwh']):.3f} kWh, running cost {cost} EUR incl. VAT. The card's session: "
            f"{_powers(card_now)[-1]:.1f} kW AC, {Decimal(card_now['kwh']):.3f} kWh"
        )

    async def capped(self, session: dict[str, Any]) -> str:
        async def fast() -> dict[str, Any] | None:
            now = await self._session("DEMO-APP-1", "ACTIVE")
            return now if now is not None and _powers(now)[-1] > _CAP_FROM_KW else None

        before = _powers(await _until(fast, f"the app session charging faster than {_CAP_FROM_KW:.0f} kW"))[-1]
        cap_kw = int(before / 2)
        self.report.facts["cap_kw"] = cap_kw
        period = {"start_period": 0, "limit": cap_kw * 1000}
        profile = {"charging_rate_unit": "W", "charging_profile_period": [period]}
        path = f"/chargingprofiles/{CPO[0]}/{CPO[1]}/{session['id']}"
        sent = await self.emsp.admin("PUT", path, {"charging_profile": profile})
        await self._result(sent["id"])

        async def slower() -> dict[str, Any] | None:
            now = await self._session("DEMO-APP-1", "ACTIVE")
            return now if now is not None and _powers(now)[-1] <= cap_kw else None

        limited = await _until(slower, "a session update at the capped power")
        await asyncio.sleep(self.options.duration / 2)
        return (
            f"the eMSP set a {cap_kw} kW limit (SetChargingProfile); the session went from {before:.1f} kW "
            f"to {_powers(limited)[-1]:.1f} kW"
        )

    async def stopped(self, session: dict[str, Any]) -> str:
        body = {"to": {"country_code": CPO[0], "party_id": CPO[1]}, "session_id": session["id"]}
        sent = await self.emsp.admin("POST", "/commands/STOP_SESSION", body)
        await self._result(sent["id"])
        done = await _until(lambda: self._session("DEMO-APP-1", "COMPLETED"), "the COMPLETED session at the eMSP")
        self.report.facts["session"] = done
        return f"STOP_SESSION accepted; the session is COMPLETED at the eMSP with {Decimal(done['kwh']):.3f} kWh"

    async def card_stopped(self, card: dict[str, Any]) -> str:
        answer = await self._tap(DEMO_AC_EVSE, card["cdr_token"]["uid"])
        if answer["action"] != "STOPPED" or answer.get("session_id") != card["id"]:
            raise DemoFailed(f"the second tap did not stop the card's session: {answer}")
        reference = card["authorization_reference"]
        done = await _until(lambda: self._session(reference, "COMPLETED"), "the card's COMPLETED session at the eMSP")
        return f"the session is COMPLETED at the eMSP with {Decimal(done['kwh']):.3f} kWh"

    async def _cdr(self, session: dict[str, Any]) -> dict[str, Any] | None:
        return next((c for c in await self.emsp.objects("cdrs") if c.get("session_id") == session["id"]), None)

    async def cdrs(self, *sessions: dict[str, Any]) -> str:
        lines = []
        for session in sessions:
            cdr = await _until(partial(self._cdr, session), f"the CDR of session {session['id']}")
            self.report.facts.setdefault("cdrs", []).append(cdr)
            total = cdr["total_cost"]
            tariff_ids = ", ".join(t["id"] for t in cdr.get("tariffs") or []) or _tariff_of(cdr, self.network)
            lines.append(
                f"CDR {cdr['id']} ({cdr['auth_method']}): {Decimal(cdr['total_energy']):.3f} kWh, "
                f"{Decimal(cdr['total_time']):.4f} h, {total['excl_vat']} EUR excl. VAT / "
                f"{total.get('incl_vat')} incl. (tariff {tariff_ids})"
            )
        return "\n  ".join(lines)

    async def invoice_check(self) -> str:
        lines = []
        tariffs = {t["id"]: t for t in await self.emsp.objects("tariffs")}
        for cdr in self.report.facts["cdrs"]:
            document = read_cdr(cdr)
            tariff_id = _tariff_of(cdr, self.network)
            if tariff_id not in tariffs:
                raise DemoFailed(f"the eMSP has no copy of tariff {tariff_id}")
            tariff, _ = read_tariff(tariffs[tariff_id])
            core = document.core
            result = price_periods(
                tariff,
                document.charging_periods,
                start=core.start_date_time,
                end=core.end_date_time,
                time_zone="Europe/Amsterdam",
            )
            differences = compare_costs(result, document.stated_costs())
            if not differences or not all(d.agrees for d in differences):
                shown = "; ".join(f"{d.field}.{d.part}: CDR {d.stated}, eMSP {d.computed}" for d in differences)
                raise DemoFailed(f"the eMSP's price of CDR {cdr['id']} differs: {shown or 'it states no costs'}")
            lines.append(
                f"CDR {cdr['id']}: the eMSP priced its {len(document.charging_periods)} charging periods with its "
                f"own copy of {tariff_id}: {result.total_cost.excl_vat} / {result.total_cost.incl_vat} EUR, "
                "the CDR's totals to the cent"
            )
        self.report.facts["invoice_agrees"] = True
        return "\n  ".join(lines)


def _readings(session: dict[str, Any], kind: str) -> list[float]:
    """The dimension `kind` of each charging period (0 where a period lacks it)."""
    return [
        float(next((d["volume"] for d in p["dimensions"] if d["type"] == kind), 0))
        for p in session.get("charging_periods") or []
    ] or [0.0]


def _powers(session: dict[str, Any]) -> list[float]:
    """The power (kW) of each charging period."""
    return _readings(session, "POWER")


def _socs(session: dict[str, Any]) -> list[float]:
    """The battery's state of charge (%) at the end of each charging period."""
    return _readings(session, "STATE_OF_CHARGE")


def _tariff_of(cdr: dict[str, Any], net: Network) -> str:
    embedded = cdr.get("tariffs") or []
    if embedded:
        return str(embedded[0]["id"])
    location = next(loc for loc in net.locations if loc["id"] == cdr["cdr_location"]["id"])
    evse = next(e for e in location["evses"] if e["uid"] == cdr["cdr_location"]["evse_uid"])
    connector = next(c for c in evse["connectors"] if c["id"] == cdr["cdr_location"]["connector_id"])
    return str(connector["tariff_ids"][0])


async def summarize(report: DemoReport, console: Console) -> None:
    """Messages exchanged per module, their latencies, and what each side holds."""
    cpo, emsp = report.cpo, report.emsp
    assert cpo is not None
    assert emsp is not None
    messages = Table(
        "module",
        "request",
        "count",
        "4xx/5xx",
        "p50 ms",
        "max ms",
        title="OCPI messages, as their receivers served them",
    )
    total = 0
    for receiver, way in ((cpo, "eMSP → CPO"), (emsp, "CPO → eMSP")):
        messages.add_row(f"[bold]{way}[/bold]")
        served: dict[str, Any] = await receiver.admin("GET", "/traffic")
        for row in served["requests"]:
            total += row["requests"]
            request = f"{row['operation']} {row['interface'].lower()}".strip()
            messages.add_row(
                row["module"],
                request,
                str(row["requests"]),
                str(row["failed"] or ""),
                f"{row['p50_ms']:.1f}",
                f"{row['max_ms']:.1f}",
            )
        messages.add_section()
    messages.add_row("[bold]total[/bold]", "", f"[bold]{total}[/bold]")
    console.print(messages)
    held = Table("module", "CPO holds", "eMSP holds", title="Stored")
    for module in ("locations", "tariffs", "tokens", "sessions", "cdrs"):
        held.add_row(module, str(len(await cpo.objects(module))), str(len(await emsp.objects(module))))
    console.print(held)
    steps = Table("step", "seconds", title="Story")
    for title, _, seconds in report.steps:
        steps.add_row(title, f"{seconds:.1f}")
    console.print(steps)


async def run_demo(options: DemoOptions, console: Console) -> DemoReport:
    """Tell the story; raises DemoFailed at the first step that did not happen."""
    async with AsyncExitStack() as stack:
        if options.work_dir is not None:
            folder = options.work_dir
            folder.mkdir(parents=True, exist_ok=True)
        elif options.keep:
            folder = Path(tempfile.mkdtemp(prefix="evroam-demo-"))  # outlives the demo, with the nodes
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="evroam-demo-")))
        report = DemoReport(folder)
        story = Story(options, console, report)
        await story.tell(stack)
        await summarize(report, console)
        return report
    raise AssertionError("unreachable")
