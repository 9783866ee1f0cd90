"""The tandemdrive tariff vectors (data in /work/shared/ocpi-reference): every CDR's totals reproduced.

The vectors carry no time zone (cdr_location holds only a country) and their expected totals were computed
with restriction times in UTC, so they are priced in UTC here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from evroam.modules.cdrs.models import CdrDimension, CdrDimensionType, ChargingPeriod
from evroam.tariffs import PricingResult, price_periods, read_cdr, read_tariff
from evroam.tariffs.audit import compare_costs

VECTORS = Path("/work/shared/ocpi-reference/tariff-vectors/tandemdrive")

# Vectors whose expectation follows a reading we do not take, with the reason (kept visible as xfail).
DISAGREEMENTS = {
    "025kwh_min_price/cdr2_less_than_2kWh.json": (
        "the vector expects total_cost 0.30/0.33 for 1.2 kWh, ignoring the tariff's min_price 0.50/0.55; "
        "OCPI 2.2.1 mod_tariffs_tariff_example_0_25_euro_per_kwh_min_price says this very tariff bills "
        "'0.50 euro (excl. VAT) or 0.55 euro (incl. VAT)' when less than 2 kWh is charged, and "
        "mod_tariffs_tariff_object: the total 'can never be lower than the min_price'"
    ),
}


def _cases() -> list[object]:
    if not VECTORS.is_dir():
        return []
    cases: list[object] = []
    for cdr_path in sorted(VECTORS.glob("*/cdr*.json")):
        name = f"{cdr_path.parent.name}/{cdr_path.name}"
        reason = DISAGREEMENTS.get(name)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        cases.append(pytest.param(cdr_path, id=name, marks=marks))
    return cases


def _price(cdr_path: Path) -> tuple[PricingResult, dict]:
    tariff, _ = read_tariff(json.loads((cdr_path.parent / "tariff.json").read_text()))
    document = read_cdr(json.loads(cdr_path.read_text()))
    core = document.core
    result = price_periods(
        tariff, document.charging_periods, start=core.start_date_time, end=core.end_date_time, time_zone="UTC"
    )
    return result, document.stated_costs()


@pytest.fixture(autouse=True)
def _vectors_present() -> None:
    if not VECTORS.is_dir():
        pytest.skip("the shared reference data (/work/shared/ocpi-reference) is not available")


@pytest.mark.parametrize("cdr_path", _cases())
def test_vector_cdr_totals_are_reproduced(cdr_path: Path) -> None:
    result, stated = _price(cdr_path)
    assert stated, "every vector CDR states its total_cost"
    wrong = [d for d in compare_costs(result, stated) if not d.agrees]
    assert not wrong, wrong


def test_min_price_vector_energy_cost_agrees_and_total_follows_the_spec() -> None:
    # The one disagreement above is only about min_price: the energy cost itself matches the vector.
    result, stated = _price(VECTORS / "025kwh_min_price" / "cdr2_less_than_2kWh.json")
    by_field = {(d.field, d.part): d for d in compare_costs(result, stated)}
    assert by_field[("total_energy_cost", "excl_vat")].agrees
    assert by_field[("total_energy_cost", "incl_vat")].agrees
    assert (result.total_cost.excl_vat, result.total_cost.incl_vat) == (
        result.limits[0].after,
        result.limits[1].after,
    )


def test_step_size_vector_is_the_time_then_parking_case() -> None:
    # ocpi-reference README: step_size/cdr1.json is the spec's TIME -> PARKING_TIME case, 0.5502 excl. VAT.
    result, _ = _price(VECTORS / "step_size" / "cdr1.json")
    assert result.unrounded.excl_vat == Decimal("0.55024")
    assert result.total_cost.excl_vat == Decimal("0.55")


@pytest.mark.parametrize(
    "case", sorted(p.parent.name for p in VECTORS.glob("*/tariff.json")) if VECTORS.is_dir() else []
)
def test_every_vector_tariff_prices_a_plain_session(case: str) -> None:
    tariff, _ = read_tariff(json.loads((VECTORS / case / "tariff.json").read_text()))
    start, end = datetime(2024, 1, 15, 9, tzinfo=UTC), datetime(2024, 1, 15, 11, tzinfo=UTC)
    periods = [
        ChargingPeriod(
            start_date_time=start,
            dimensions=[
                CdrDimension(type=CdrDimensionType.ENERGY, volume=10),
                CdrDimension(type=CdrDimensionType.TIME, volume=1),
            ],
        ),
        ChargingPeriod(
            start_date_time=datetime(2024, 1, 15, 10, tzinfo=UTC),
            dimensions=[CdrDimension(type=CdrDimensionType.PARKING_TIME, volume=1)],
        ),
    ]
    result = price_periods(tariff, periods, start=start, end=end, time_zone="Europe/Amsterdam")
    assert result.total_cost.excl_vat >= 0
    assert sum((line.excl_vat for line in result.lines()), Decimal(0)) == result.subtotal.excl_vat
