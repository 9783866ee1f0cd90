"""Terse builders for tariffs, charging periods and priced sessions used by the tariff engine tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from evroam.modules.cdrs.models import CdrDimension, CdrDimensionType, ChargingPeriod
from evroam.modules.tariffs.models import Tariff
from evroam.tariffs import DEFAULT_OPTIONS, PricingOptions, PricingResult, price_periods

D = Decimal
_DIMENSIONS = {
    "energy": CdrDimensionType.ENERGY,
    "time": CdrDimensionType.TIME,
    "parking": CdrDimensionType.PARKING_TIME,
    "reservation": CdrDimensionType.RESERVATION_TIME,
    "min_current": CdrDimensionType.MIN_CURRENT,
    "max_current": CdrDimensionType.MAX_CURRENT,
    "min_power": CdrDimensionType.MIN_POWER,
    "max_power": CdrDimensionType.MAX_POWER,
    "current": CdrDimensionType.CURRENT,
    "power": CdrDimensionType.POWER,
}


def at(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def pc(kind: str, price: float | str, vat: float | str | None = None, step: int = 1) -> dict[str, Any]:
    """A PriceComponent as JSON."""
    component: dict[str, Any] = {"type": kind, "price": D(str(price)), "step_size": step}
    if vat is not None:
        component["vat"] = D(str(vat))
    return component


def el(*components: dict[str, Any], **restrictions: Any) -> dict[str, Any]:
    """A TariffElement as JSON; keyword arguments are its restrictions."""
    element: dict[str, Any] = {"price_components": list(components)}
    if restrictions:
        element["restrictions"] = restrictions
    return element


def tariff(*elements: dict[str, Any], tariff_id: str = "T1", currency: str = "EUR", **fields: Any) -> Tariff:
    """A validated Tariff."""
    return Tariff.model_validate(
        {
            "country_code": "NL",
            "party_id": "EVR",
            "id": tariff_id,
            "currency": currency,
            "elements": list(elements),
            "last_updated": "2024-01-01T00:00:00Z",
            **fields,
        }
    )


def period(start: datetime, **volumes: float | str) -> ChargingPeriod:
    """A ChargingPeriod; keyword arguments name dimensions (energy=kWh, time=h, parking=h, max_power=kW...)."""
    return ChargingPeriod(
        start_date_time=start,
        dimensions=[CdrDimension(type=_DIMENSIONS[name], volume=D(str(v))) for name, v in volumes.items()],
    )


def hours(value: float | str) -> timedelta:
    return timedelta(hours=float(value))


def price(
    t: Tariff,
    periods: list[ChargingPeriod],
    start: datetime,
    end: datetime,
    tz: str = "UTC",
    options: PricingOptions = DEFAULT_OPTIONS,
    **kwargs: Any,
) -> PricingResult:
    return price_periods(t, periods, start=start, end=end, time_zone=tz, options=options, **kwargs)


def totals(result: PricingResult) -> tuple[Decimal, Decimal | None]:
    """The rounded total_cost (excl, incl)."""
    return result.total_cost.excl_vat, result.total_cost.incl_vat


def costs(result: PricingResult) -> dict[str, tuple[Decimal, Decimal | None] | None]:
    """Every rounded CDR cost field."""
    return {k: None if v is None else (v.excl_vat, v.incl_vat) for k, v in result.cost_fields().items()}


def energy_by_element(result: PricingResult) -> dict[int, Decimal]:
    """Priced kWh per element index (ENERGY lines only), to 9 decimals (volumes shared between split
    periods carry Decimal noise in the last of their 28 digits)."""
    found: dict[int, Decimal] = {}
    for line in result.lines():
        if line.dimension.value == "ENERGY":
            found[line.element_index] = found.get(line.element_index, D(0)) + line.volume
    return {k: v.quantize(D("1e-9")).normalize() for k, v in found.items()}
