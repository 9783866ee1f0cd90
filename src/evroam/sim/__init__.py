"""The charge-point simulator: Charge Points for a CPO node that carry out commands and charging profiles."""

from __future__ import annotations

from evroam.sim.simulator import Simulator

__all__ = ["Simulator"]
