"""min_price and max_price: bounds on the session total, excl. and incl. VAT independently."""

from __future__ import annotations

from decimal import Decimal

from evroam.tariffs.breakdown import Amount, LimitAdjustment
from evroam.types import Price

__all__ = ["apply_limits"]


def apply_limits(
    subtotal: Amount, min_price: Price | None, max_price: Price | None
) -> tuple[Amount, tuple[LimitAdjustment, ...]]:
    """The session total after min_price, then max_price (max wins if they conflict), and what changed.

    OCPI 2.2.1 mod_tariffs_tariff_object notes: "The total cost of a Charging Session excluding VAT can never
    be lower than the min_price excluding VAT" and likewise including VAT, and the same for max_price: each
    part is bounded on its own. A limit without incl_vat bounds only excl_vat; the incl_vat total then moves
    in proportion, keeping the session's VAT share (or equals excl_vat when nothing was charged before).
    """
    excl, incl = subtotal
    adjustments: list[LimitAdjustment] = []
    for name, limit, below in (("min_price", min_price, True), ("max_price", max_price, False)):
        if limit is None:
            continue
        bound = limit.excl_vat
        new_excl = bound if (excl < bound if below else excl > bound) else excl
        if limit.incl_vat is not None:
            bound_incl = limit.incl_vat
            new_incl = bound_incl if (incl < bound_incl if below else incl > bound_incl) else incl
        elif new_excl != excl:
            new_incl = incl * new_excl / excl if excl else new_excl
        else:
            new_incl = incl
        if new_excl != excl:
            adjustments.append(LimitAdjustment(name, "excl_vat", excl, new_excl))
        if new_incl != incl:
            adjustments.append(LimitAdjustment(name, "incl_vat", incl, new_incl))
        excl, incl = new_excl, new_incl
    return Amount(Decimal(excl), Decimal(incl)), tuple(adjustments)
