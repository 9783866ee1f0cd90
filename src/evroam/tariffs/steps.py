"""step_size: each dimension's session total rounded up once, the extra billed on its last priced period."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import NamedTuple

from evroam.modules.tariffs.models import TariffDimensionType
from evroam.tariffs.breakdown import StepAdjustment
from evroam.tariffs.options import TimeStepRounding
from evroam.tariffs.plan import ENERGY, PARKING, RESERVED, TIME, Component

__all__ = ["StepExtra", "round_up", "step_extras"]

_WH_PER_KWH = Decimal(1000)
_S_PER_HOUR = Decimal(3600)
_MICRO = Decimal("0.000001")
_ENERGY_ONLY = (TariffDimensionType.ENERGY,)
_TIME_ONLY = (TariffDimensionType.TIME,)
_PARKING_ONLY = (TariffDimensionType.PARKING_TIME,)
_TIME_AND_PARKING = (TariffDimensionType.TIME, TariffDimensionType.PARKING_TIME)


class StepExtra(NamedTuple):
    """Volume step_size adds to the last priced line of `dimension` (kWh or hours), and why."""

    dimension: int  # plan.ENERGY ... plan.RESERVED: the line that carries it
    volume: Decimal
    adjustment: StepAdjustment


def round_up(quantity: Decimal, step_size: int) -> Decimal:
    """`quantity` rounded up to a multiple of `step_size` (OCPI 2.2.1 mod_tariffs_pricecomponent_class:
    115.2 Wh at step 1 -> 116, at 25 -> 125, at 500 -> 500). A step_size of 0 does not round."""
    if step_size <= 0:
        return quantity
    return (quantity / step_size).to_integral_value(rounding=ROUND_CEILING) * step_size


def step_extras(
    totals: list[Decimal], last: list[tuple[int, Component] | None], rounding: TimeStepRounding
) -> tuple[list[StepExtra], bool]:
    """What step_size adds, given per dimension the priced session total and the (order, component) of its
    last priced line; the flag says TIME was left unrounded because PARKING_TIME is priced too.

    OCPI 2.2.1 mod_cdrs_step_size: step_size counts once per session for ENERGY and once for TIME and
    PARKING_TIME combined, on the session total, not per period and not at element or tariff switches; the
    step_size used is that of the last period's component, which also prices the extra. Only volume a
    component prices counts (2.3.0 "switching to Free-of-Charge Tariff Element": "The total of billable
    parking time ... is 8 minutes"), so when a dimension becomes free the last paid component's step_size
    applies. Reservation time is a total of its own.
    """
    extras: list[StepExtra] = []
    energy, reserved, time, parking = last[ENERGY], last[RESERVED], last[TIME], last[PARKING]
    if energy is not None:
        extras.append(_extra(ENERGY, totals[ENERGY], energy[1], "Wh", _WH_PER_KWH, _ENERGY_ONLY))
    if reserved is not None:
        extras.append(_extra(RESERVED, totals[RESERVED], reserved[1], "s", _S_PER_HOUR, _TIME_ONLY))
    time_unrounded = False
    if rounding is TimeStepRounding.COMBINED and time is not None and parking is not None:
        dim, end = (PARKING, parking) if parking[0] >= time[0] else (TIME, time)
        extras.append(_extra(dim, totals[TIME] + totals[PARKING], end[1], "s", _S_PER_HOUR, _TIME_AND_PARKING))
    elif parking is not None:
        # "In the cases that TIME and PARKING_TIME Tariff Elements are both used, step_size is only taken into
        # account for the total parking duration" (mod_cdrs_step_size).
        extras.append(_extra(PARKING, totals[PARKING], parking[1], "s", _S_PER_HOUR, _PARKING_ONLY))
        time_unrounded = time is not None
    elif time is not None:
        extras.append(_extra(TIME, totals[TIME], time[1], "s", _S_PER_HOUR, _TIME_ONLY))
    return extras, time_unrounded


def _extra(
    dim: int,
    total: Decimal,
    component: Component,
    unit: str,
    per_unit: Decimal,
    rounded: tuple[TariffDimensionType, ...],
) -> StepExtra:
    # Measured in micro-units (microseconds, microwatt-hours): anything finer is arithmetic noise from
    # sharing volumes between split periods, and must never push a total over a step boundary.
    consumed = (total * per_unit).quantize(_MICRO)
    billed = round_up(consumed, component.step_size)
    return StepExtra(
        dim, (billed - consumed) / per_unit, StepAdjustment(component.step_size, unit, consumed, billed, rounded)
    )
