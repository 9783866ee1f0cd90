"""The charge-point simulator: Charge Points for a CPO node that carry out commands and charging profiles,
read drivers' tokens, and charge simulated cars; `drive` loads a node with simulated drivers."""

from __future__ import annotations

from evroam.sim.car import Car
from evroam.sim.load import LoadReport, Plan, drive
from evroam.sim.simulator import Simulator, Tap, TapAction

__all__ = ["Car", "LoadReport", "Plan", "Simulator", "Tap", "TapAction", "drive"]
