"""A CPO's Charge Points: the interface they are driven through, and the requests carried out on them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from evroam.chargepoints.adapter import ChargePoints, Order, Reservation

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["ChargePoints", "Order", "Reservation", "load_charge_points"]


def load_charge_points(node: Node) -> ChargePoints | None:
    """The Charge Points `settings.charge_points` names for this node's CPO parties (None: there are none,
    or commands are not supported)."""
    choice = node.settings.charge_points
    if choice == "none" or not any(p.role.value == "CPO" for p in node.parties):
        return None
    if choice == "sim":
        from evroam.sim import Simulator

        return Simulator(node)
    module_name, _, attribute = choice.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"charge_points {choice!r} cannot be loaded ({exc}); name a module:callable") from exc
    adapter: ChargePoints = factory(node)
    return adapter
