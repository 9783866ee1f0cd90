"""`evroam price` run as a process on files written here: agreement, disagreement, --json, embedded tariffs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

TARIFF = {
    "country_code": "NL",
    "party_id": "EVR",
    "id": "T-1",
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 0.50, "vat": 20.0, "step_size": 1}]},
        {
            "price_components": [{"type": "ENERGY", "price": 0.40, "vat": 10.0, "step_size": 1}],
            "restrictions": {"start_time": "17:00", "end_time": "21:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1}]},
    ],
    "last_updated": "2024-01-01T00:00:00Z",
}


def cdr(total_excl: float, total_incl: float | None, **extra: Any) -> dict[str, Any]:
    # 16:00-18:00 local in Amsterdam (15:00-17:00 UTC), 20 kWh: 10 at 0.25 and 10 at 0.40 after 17:00 local
    total: dict[str, float] = {"excl_vat": total_excl}
    if total_incl is not None:
        total["incl_vat"] = total_incl
    return {
        "start_date_time": "2024-01-15T15:00:00Z",
        "end_date_time": "2024-01-15T17:00:00Z",
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": "2024-01-15T15:00:00Z", "dimensions": [{"type": "ENERGY", "volume": 20}]}
        ],
        "total_cost": total,
        **extra,
    }


def run(
    tmp_path: Path, cdr_data: dict[str, Any], *args: str, tariff: dict[str, Any] | None = TARIFF
) -> subprocess.CompletedProcess[str]:
    cdr_file = tmp_path / "cdr.json"
    cdr_file.write_text(json.dumps(cdr_data))
    command = [sys.executable, "-m", "evroam", "price", "--cdr", str(cdr_file), "--time-zone", "Europe/Amsterdam"]
    if tariff is not None:
        tariff_file = tmp_path / "tariff.json"
        tariff_file.write_text(json.dumps(tariff))
        command += ["--tariff", str(tariff_file)]
    environment = {**os.environ, "COLUMNS": "160"}
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, env=environment)


@pytest.fixture(scope="module")
def expected() -> tuple[float, float]:
    # 0.50 + 2.50 + 4.00 excl; 0.60 + 2.75 + 4.40 incl
    return 7.00, 7.75


def test_agreeing_totals_exit_0(tmp_path: Path, expected: tuple[float, float]) -> None:
    done = run(tmp_path, cdr(*expected))
    assert done.returncode == 0, done.stderr
    assert "agree" in done.stdout
    assert "ENERGY" in done.stdout


def test_cdr_rounded_differently_still_agrees(tmp_path: Path) -> None:
    done = run(tmp_path, cdr(7.004, None))
    assert done.returncode == 0, done.stdout + done.stderr


def test_disagreeing_totals_exit_1_and_show_the_difference(tmp_path: Path) -> None:
    done = run(tmp_path, cdr(7.20, 7.75))
    assert done.returncode == 1
    assert "differ" in done.stdout
    assert "0.20" in done.stdout


def test_json_output(tmp_path: Path, expected: tuple[float, float]) -> None:
    done = run(tmp_path, cdr(7.00, 7.80, total_energy_cost={"excl_vat": 6.50, "incl_vat": 7.15}), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["agrees"] is False
    by_part = {(d["field"], d["part"]): d for d in report["differences"]}
    assert by_part[("total_cost", "excl_vat")]["agrees"] is True
    assert Decimal(by_part[("total_cost", "incl_vat")]["difference"]) == Decimal("0.05")
    assert by_part[("total_energy_cost", "excl_vat")]["agrees"] is True
    result = report["result"]
    assert result["total_cost"] == {"excl_vat": "7.00", "incl_vat": "7.75"}
    assert [p["start_date_time"] for p in result["periods"]] == ["2024-01-15T15:00:00Z", "2024-01-15T16:00:00Z"]


def test_embedded_tariff_is_used_without_tariff_option(tmp_path: Path, expected: tuple[float, float]) -> None:
    done = run(tmp_path, cdr(*expected, tariffs=[TARIFF]), "--json", tariff=None)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["tariff_id"] == "T-1"


def test_no_tariff_at_all_is_an_input_error(tmp_path: Path, expected: tuple[float, float]) -> None:
    done = run(tmp_path, cdr(*expected), tariff=None)
    assert done.returncode == 2
    assert "--tariff" in done.stderr


def test_tariff_without_identity_fields_is_priced_with_a_warning(tmp_path: Path, expected: tuple[float, float]) -> None:
    bare = {k: v for k, v in TARIFF.items() if k not in ("country_code", "party_id", "last_updated")}
    done = run(tmp_path, cdr(*expected), "--json", tariff=bare)
    assert done.returncode == 0, done.stderr
    assert "country_code" in json.loads(done.stdout)["warnings"][0]
