"""Tariff engine throughput: sessions priced per second on one core; target 20,000/s for a complex tariff.

Prices a fixed, seeded set of varied sessions (2-4 charging periods, then parking; start times spread over
2024, DST days included) in Europe/Amsterdam. Sessions are built before timing; each pricing produces the
full breakdown and reads total_cost. Times are CPU time of this process (`time.process_time`), best of
`--runs`, so other load on the machine distorts them less than wall-clock time would.

Wheels carry the engine's hot modules compiled with mypyc (setup.py); an editable install (the .venv of
`make`) runs them as pure Python. `--compiled` builds the wheel into a temporary directory and measures
that in a second interpreter; the report says which one was measured.

    .venv/bin/python bench/tariff_pricing.py [--quick] [--compiled] [--sessions 2000] [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from evroam.modules.cdrs.models import CdrDimension, CdrDimensionType, ChargingPeriod
from evroam.modules.tariffs.models import Tariff
from evroam.tariffs import engine, price_periods

TARGET = 20_000
ZONE = "Europe/Amsterdam"
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]

# Start fee, a weekday peak window, kWh tiers, power- and duration-dependent charging time, parking by time
# of day, and a cap: every restriction kind the engine has to cut periods for.
COMPLEX = {
    "country_code": "NL",
    "party_id": "EVR",
    "id": "COMPLEX",
    "currency": "EUR",
    "max_price": {"excl_vat": 60, "incl_vat": 72.6},
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 0.35, "vat": 21, "step_size": 1}]},
        {
            "price_components": [{"type": "ENERGY", "price": 0.49, "vat": 21, "step_size": 1}],
            "restrictions": {"start_time": "17:00", "end_time": "21:00", "day_of_week": WEEKDAYS},
        },
        {
            "price_components": [{"type": "ENERGY", "price": 0.39, "vat": 21, "step_size": 1}],
            "restrictions": {"max_kwh": 20},
        },
        {"price_components": [{"type": "ENERGY", "price": 0.33, "vat": 21, "step_size": 1}]},
        {
            "price_components": [{"type": "TIME", "price": 1.20, "vat": 21, "step_size": 60}],
            "restrictions": {"max_power": 11},
        },
        {
            "price_components": [{"type": "TIME", "price": 2.40, "vat": 21, "step_size": 60}],
            "restrictions": {"min_duration": 7200},
        },
        {
            "price_components": [{"type": "PARKING_TIME", "price": 6.00, "vat": 21, "step_size": 300}],
            "restrictions": {"start_time": "08:00", "end_time": "20:00"},
        },
    ],
    "last_updated": "2024-01-01T00:00:00Z",
}
SIMPLE = {
    "country_code": "NL",
    "party_id": "EVR",
    "id": "SIMPLE",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1}]}],
    "last_updated": "2024-01-01T00:00:00Z",
}

Session = tuple[list[ChargingPeriod], datetime, datetime]


def _dims(**volumes: Decimal) -> list[CdrDimension]:
    types = {"energy": "ENERGY", "time": "TIME", "parking": "PARKING_TIME", "max_power": "MAX_POWER"}
    return [CdrDimension(type=CdrDimensionType(types[k]), volume=v) for k, v in volumes.items()]


def sessions(count: int, seed: int = 20240101) -> list[Session]:
    """Varied sessions: 1-3 charging periods at different power, then (mostly) a parking period."""
    rng = random.Random(seed)
    result: list[Session] = []
    year = datetime(2024, 1, 1, tzinfo=UTC)
    for _ in range(count):
        start = year + timedelta(minutes=rng.randrange(366 * 24 * 60))
        moment, periods = start, []
        for _ in range(rng.randint(1, 3)):
            minutes = rng.randint(10, 120)
            power = Decimal(rng.choice([3, 7, 11, 22, 50, 150]))
            hours = Decimal(minutes) / 60
            energy = (power * hours * Decimal("0.9")).quantize(Decimal("0.001"))
            periods.append(
                ChargingPeriod(start_date_time=moment, dimensions=_dims(energy=energy, time=hours, max_power=power))
            )
            moment += timedelta(minutes=minutes)
        if rng.random() < 0.7:
            minutes = rng.randint(5, 180)
            periods.append(ChargingPeriod(start_date_time=moment, dimensions=_dims(parking=Decimal(minutes) / 60)))
            moment += timedelta(minutes=minutes)
        result.append((periods, start, moment))
    return result


def measure(tariff: Tariff, batch: list[Session], runs: int) -> dict[str, Any]:
    for periods, start, end in batch[:200]:  # warm caches (tariff plan, time-zone offsets)
        assert price_periods(tariff, periods, start=start, end=end, time_zone=ZONE).total_cost.excl_vat >= 0
    best_cpu, best_wall, pieces = float("inf"), float("inf"), 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        for periods, start, end in batch:
            # A consumer reads the total; its Price is built on access.
            total = price_periods(tariff, periods, start=start, end=end, time_zone=ZONE).total_cost
        best_cpu = min(best_cpu, time.process_time() - cpu)
        assert total.excl_vat >= 0
        best_wall = min(best_wall, time.perf_counter() - wall)
    for periods, start, end in batch:
        pieces += len(price_periods(tariff, periods, start=start, end=end, time_zone=ZONE).periods)
    return {
        "tariff": tariff.id,
        "sessions": len(batch),
        "input_periods_per_session": round(sum(len(s[0]) for s in batch) / len(batch), 2),
        "priced_periods_per_session": round(pieces / len(batch), 2),
        "sessions_per_second_cpu": round(len(batch) / best_cpu),
        "sessions_per_second_wall": round(len(batch) / best_wall),
        "microseconds_per_session_cpu": round(best_cpu / len(batch) * 1e6, 1),
    }


ROOT = Path(__file__).resolve().parents[1]


def implementation() -> str:
    return "compiled (mypyc)" if engine.__file__ and not engine.__file__.endswith(".py") else "pure Python"


def run_compiled(argv: list[str]) -> None:
    """Build the wheel, unpack it, and run this script again against it."""
    with tempfile.TemporaryDirectory(prefix="evroam-wheel-") as tmp:
        print("building the wheel (mypyc compiles the engine; about half a minute)...", flush=True)
        build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp, str(ROOT)]
        subprocess.run(build, check=True)
        [wheel] = Path(tmp).glob("evroam-*.whl")
        site = Path(tmp) / "site"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        env = {**os.environ, "PYTHONPATH": str(site)}
        subprocess.run([sys.executable, __file__, *(a for a in argv if a != "--compiled")], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200 sessions, 2 runs")
    parser.add_argument("--compiled", action="store_true", help="measure the engine as the wheel ships it")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.compiled:
        run_compiled(sys.argv[1:])
        return
    count, runs = (200, 2) if args.quick else (args.sessions, args.runs)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    batch = sessions(count)
    results = [measure(Tariff.model_validate(t), batch, runs) for t in (COMPLEX, SIMPLE)]
    report = {
        "implementation": implementation(),
        "target_sessions_per_second": TARGET,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "results": results,
    }
    print(f"engine: {implementation()}")
    for r in results:
        verdict = "meets" if r["sessions_per_second_cpu"] >= TARGET else "below"
        print(
            f"{r['tariff']:8s} {r['sessions_per_second_cpu']:>7,} sessions/s "
            f"(CPU; wall {r['sessions_per_second_wall']:,}), "
            f"{r['microseconds_per_session_cpu']} us each, {r['input_periods_per_session']} periods in, "
            f"{r['priced_periods_per_session']} out; {verdict} the {TARGET:,}/s target"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
