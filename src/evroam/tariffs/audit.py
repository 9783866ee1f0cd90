"""The eMSP's invoice check: the cost fields a CDR states against those the engine computes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

from evroam.tariffs.breakdown import Amount, CostCategory, PricingResult
from evroam.tariffs.money import amounts_agree
from evroam.types import Price

__all__ = ["Difference", "compare_costs"]

_CATEGORY_OF = {
    "total_fixed_cost": CostCategory.FIXED,
    "total_energy_cost": CostCategory.ENERGY,
    "total_time_cost": CostCategory.TIME,
    "total_parking_cost": CostCategory.PARKING,
    "total_reservation_cost": CostCategory.RESERVATION,
}
_ZERO = Decimal(0)


class Difference(NamedTuple):
    """One stated amount against ours: `difference` is stated minus our rounded amount."""

    field: str  # e.g. "total_cost"
    part: str  # "excl_vat" or "incl_vat"
    stated: Decimal
    computed: Decimal  # rounded as the currency requires
    unrounded: Decimal
    difference: Decimal
    agrees: bool  # within the currency's rounding (money.amounts_agree)


def compare_costs(result: PricingResult, stated: Mapping[str, Price]) -> list[Difference]:
    """Every part of every cost field the CDR states; a field we did not charge counts as 0."""
    differences: list[Difference] = []
    for name, price in stated.items():
        if name == "total_cost":
            ours: Price | None = result.total_cost
            raw: Amount | None = result.unrounded
        else:
            ours = result.cost_fields().get(name)
            raw = result.categories.get(_CATEGORY_OF[name])
        parts = (("excl_vat", price.excl_vat, 0), ("incl_vat", price.incl_vat, 1))
        for part, value, position in parts:
            if value is None:
                continue
            computed = _ZERO if ours is None else (ours.excl_vat if position == 0 else ours.incl_vat or _ZERO)
            unrounded = _ZERO if raw is None else raw[position]
            agrees = amounts_agree(value, computed, unrounded, result.currency)
            differences.append(Difference(name, part, value, computed, unrounded, value - computed, agrees))
    return differences
