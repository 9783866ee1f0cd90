"""The car plugged into a simulated Charge Point: how much power it takes, by its battery's state of charge.

Shaped like what public chargers log: on DC the car ramps up over the first seconds, takes its peak from
about 10 % to 55 %, then tapers off steeply towards 80 % and slowly after; on AC the on-board charger takes
its full power until the battery is nearly full. What the car asks for is reported in steps of 5 % of its
peak, as Charge Points report it, so a session gains a new charging period only when the power really
changes, not at every meter value.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import asdict, dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Final

__all__ = ["Car"]

_DC_RAMP_SECONDS: Final = 10.0  # DC: the car and the charger negotiate, then the current rises
_STEPS: Final = 20  # power reported in steps of 1/20 of the peak
_FULL: Final = Decimal(100)

# (state of charge %, fraction of peak power): straight lines between the points.
_DC_CURVE: Final = ((0, "0.75"), (10, "1"), (55, "1"), (80, "0.45"), (100, "0.1"))
_AC_CURVE: Final = ((0, "1"), (90, "1"), (100, "0.2"))


def _on_curve(curve: tuple[tuple[int, str], ...], soc: Decimal) -> Decimal:
    for (soc_a, share_a), (soc_b, share_b) in itertools.pairwise(curve):
        if soc <= soc_b:
            a, b = Decimal(share_a), Decimal(share_b)
            return a + (b - a) * (max(soc, Decimal(soc_a)) - soc_a) / (soc_b - soc_a)
    return Decimal(curve[-1][1])


@dataclass(frozen=True, slots=True)
class Car:
    """A battery of `battery_kwh`, at `soc_start` % when plugged in, taking at most `ac_watts` on AC (its
    on-board charger) and `dc_watts` on DC."""

    battery_kwh: Decimal = Decimal(60)
    soc_start: Decimal = Decimal(30)
    ac_watts: int = 11_000
    dc_watts: int = 100_000

    @classmethod
    def arriving(cls, seed: str) -> Car:
        """The car of a session, the same for the same `seed` (the session id): its battery between 10 %
        and 80 % full."""
        digest = hashlib.sha256(seed.encode()).digest()
        return cls(soc_start=Decimal(10 + digest[0] % 71))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Car:
        return cls(
            battery_kwh=Decimal(str(data["battery_kwh"])),
            soc_start=Decimal(str(data["soc_start"])),
            ac_watts=int(data["ac_watts"]),
            dc_watts=int(data["dc_watts"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}

    def soc(self, kwh: Decimal) -> Decimal:
        """The state of charge (%, one decimal) after taking `kwh`."""
        return min(_FULL, self.soc_start + kwh * 100 / self.battery_kwh).quantize(Decimal("0.1"), ROUND_FLOOR)

    def takes_watts(self, dc: bool, kwh: Decimal, seconds: float) -> int:
        """What the car takes `seconds` after charging started, having taken `kwh`: W, in steps of 5 % of
        its peak; nothing once the battery is full."""
        soc = self.soc(kwh)
        if soc >= _FULL:
            return 0
        peak = self.dc_watts if dc else self.ac_watts
        share = _on_curve(_DC_CURVE if dc else _AC_CURVE, soc)
        if dc and seconds < _DC_RAMP_SECONDS:
            share = min(share, Decimal(max(seconds, 0.0) / _DC_RAMP_SECONDS))
        steps = max(1, int((share * _STEPS).to_integral_value(ROUND_FLOOR)))
        return peak * steps // _STEPS
