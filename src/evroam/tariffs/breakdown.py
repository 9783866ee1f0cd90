"""Results of pricing: cost lines per period and dimension, VAT per rate, limits and the CDR totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from evroam.modules.tariffs.models import TariffDimensionType
from evroam.tariffs.clock import from_us
from evroam.tariffs.money import round_money
from evroam.types import Price, format_datetime

__all__ = [
    "Amount",
    "CostCategory",
    "CostLine",
    "LimitAdjustment",
    "PricedPeriod",
    "PricingResult",
    "StepAdjustment",
    "VatTotal",
]


class CostCategory(StrEnum):
    """The CDR total a cost line adds to (mod_cdrs_cdr_object total_*_cost)."""

    FIXED = "FIXED"  # total_fixed_cost: FLAT fees other than parking and reservation ones
    ENERGY = "ENERGY"  # total_energy_cost
    TIME = "TIME"  # total_time_cost: charging time
    PARKING = "PARKING"  # total_parking_cost, parking FLAT fees included
    RESERVATION = "RESERVATION"  # total_reservation_cost, reservation FLAT fees included


class Amount(NamedTuple):
    """An unrounded amount excluding and including VAT."""

    excl_vat: Decimal
    incl_vat: Decimal


class StepAdjustment(NamedTuple):
    """What step_size did to a dimension's session total (OCPI 2.2.1 mod_cdrs_step_size)."""

    step_size: int
    unit: str  # "Wh" or "s": the step_size multiplier of the dimension
    consumed: Decimal  # session total in `unit`, before rounding
    billed: Decimal  # session total in `unit`, rounded up to a multiple of step_size
    rounded: tuple[TariffDimensionType, ...]  # the dimensions whose total was rounded


class CostLine(NamedTuple):
    """One price component applied to one (split) charging period."""

    dimension: TariffDimensionType
    category: CostCategory
    tariff_id: str
    element_index: int  # index in Tariff.elements
    component_index: int  # index in TariffElement.price_components
    price: Decimal  # per unit (kWh, hour, or per session for FLAT), excl. VAT
    vat: Decimal | None  # percentage; None: no VAT applicable (incl_vat = excl_vat)
    step_size: int
    volume: Decimal  # consumed in this period: kWh, hours, or 1 for FLAT
    billed_volume: Decimal  # volume plus what step_size added here (only on the last line of a dimension)
    step: StepAdjustment | None  # set on the line that carries a step_size round-up
    excl_vat: Decimal
    incl_vat: Decimal


class PricedPeriod(NamedTuple):
    """A charging period as split where the active tariff element changes, with its cost lines."""

    source_index: int  # index of the charging period it was cut from
    start_us: int  # microseconds since 1970-01-01 UTC
    end_us: int
    tariff_id: str
    energy: Decimal  # kWh
    time: Decimal  # charging hours
    parking_time: Decimal  # hours
    reservation_time: Decimal  # hours
    lines: tuple[CostLine, ...]

    @property
    def start(self) -> datetime:
        return from_us(self.start_us)

    @property
    def end(self) -> datetime:
        return from_us(self.end_us)


class VatTotal(NamedTuple):
    """Amounts per VAT rate (rate None: no VAT applicable), ready for 2.3.0 `taxes`."""

    rate: Decimal | None
    excl_vat: Decimal
    vat: Decimal
    incl_vat: Decimal


class LimitAdjustment(NamedTuple):
    """A min_price/max_price bound that changed the session total (mod_tariffs_tariff_object)."""

    limit: str  # "min_price" or "max_price"
    part: str  # "excl_vat" or "incl_vat"
    before: Decimal
    after: Decimal


@dataclass(frozen=True, slots=True)
class PricingResult:
    """The priced session: the unrounded breakdown, and the CDR totals rounded as the currency requires."""

    tariff_id: str
    currency: str
    time_zone: str
    rounding: str  # decimal rounding mode of the totals (PricingOptions.rounding)
    periods: tuple[PricedPeriod, ...]
    vat: tuple[VatTotal, ...]
    limits: tuple[LimitAdjustment, ...]
    notes: tuple[str, ...]
    vat_unknown: bool  # no price component of the tariff states a VAT rate
    subtotal: Amount  # sum of all cost lines, before min/max price
    unrounded: Amount  # subtotal after min/max price
    categories: dict[CostCategory, Amount]  # unrounded, only categories with a cost line
    total_energy: Decimal  # kWh
    total_time: Decimal  # hours, whole session
    total_parking_time: Decimal  # hours
    total_reservation_time: Decimal  # hours

    def _price(self, amount: Amount | None) -> Price | None:
        if amount is None:
            return None
        excl = round_money(amount.excl_vat, self.currency, self.rounding)
        return Price.model_construct(excl_vat=excl, incl_vat=round_money(amount.incl_vat, self.currency, self.rounding))

    @property
    def total_cost(self) -> Price:
        """CDR total_cost: everything, after min_price/max_price, rounded (mod_cdrs_cdr_object)."""
        price = self._price(self.unrounded)
        assert price is not None
        return price

    @property
    def total_fixed_cost(self) -> Price | None:
        """FLAT fees other than parking and reservation fees; None when the tariff charged none."""
        return self._price(self.categories.get(CostCategory.FIXED))

    @property
    def total_energy_cost(self) -> Price | None:
        return self._price(self.categories.get(CostCategory.ENERGY))

    @property
    def total_time_cost(self) -> Price | None:
        """Cost of charging time."""
        return self._price(self.categories.get(CostCategory.TIME))

    @property
    def total_parking_cost(self) -> Price | None:
        """Cost of parking time, parking FLAT fees included."""
        return self._price(self.categories.get(CostCategory.PARKING))

    @property
    def total_reservation_cost(self) -> Price | None:
        """Cost of the reservation, reservation FLAT fees included."""
        return self._price(self.categories.get(CostCategory.RESERVATION))

    def total_cost_with_taxes(self, tax_name: str = "VAT") -> dict[str, object]:
        """total_cost in the OCPI 2.3.0 form (types_price_class): `before_taxes` and one TaxAmount per VAT
        rate, rounded like every total (numbers as decimal strings).

        Each rate's tax is its share of the total; when min_price or max_price changed the total
        (`limits`) the shares no longer add up, and the tax is the difference of the bounded totals,
        with the rate only when there was a single one. No VAT applicable (rate None) is no TaxAmount."""
        total = self.total_cost
        assert total.incl_vat is not None
        taxes: list[dict[str, str]] = []
        rated = [v for v in self.vat if v.rate is not None]
        if self.limits:
            amount = total.incl_vat - total.excl_vat
            if amount:
                tax = {"name": tax_name, "amount": str(amount)}
                if len(rated) == 1 and len(self.vat) == 1:
                    tax["percentage"] = str(rated[0].rate)
                taxes.append(tax)
        else:
            for v in rated:
                amount = round_money(v.vat, self.currency, self.rounding)
                taxes.append({"name": tax_name, "percentage": str(v.rate), "amount": str(amount)})
        return {"before_taxes": str(total.excl_vat), "taxes": taxes}

    def lines(self) -> list[CostLine]:
        """Every cost line, in period order."""
        return [line for period in self.periods for line in period.lines]

    def cost_fields(self) -> dict[str, Price | None]:
        """The CDR cost fields by name (mod_cdrs_cdr_object)."""
        return {
            "total_cost": self.total_cost,
            "total_fixed_cost": self.total_fixed_cost,
            "total_energy_cost": self.total_energy_cost,
            "total_time_cost": self.total_time_cost,
            "total_parking_cost": self.total_parking_cost,
            "total_reservation_cost": self.total_reservation_cost,
        }

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form; every number is a decimal string so nothing is lost to binary floats."""

        def price(p: Price | None) -> dict[str, str | None] | None:
            if p is None:
                return None
            return {"excl_vat": str(p.excl_vat), "incl_vat": opt(p.incl_vat)}

        def opt(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "tariff_id": self.tariff_id,
            "currency": self.currency,
            "time_zone": self.time_zone,
            **{name: price(value) for name, value in self.cost_fields().items()},
            "total_energy": str(self.total_energy),
            "total_time": str(self.total_time),
            "total_parking_time": str(self.total_parking_time),
            "total_reservation_time": str(self.total_reservation_time),
            "unrounded": {"excl_vat": str(self.unrounded.excl_vat), "incl_vat": str(self.unrounded.incl_vat)},
            "subtotal": {"excl_vat": str(self.subtotal.excl_vat), "incl_vat": str(self.subtotal.incl_vat)},
            "vat_unknown": self.vat_unknown,
            "vat": [
                {"rate": opt(v.rate), "excl_vat": str(v.excl_vat), "vat": str(v.vat), "incl_vat": str(v.incl_vat)}
                for v in self.vat
            ],
            "limits": [a._asdict() | {"before": str(a.before), "after": str(a.after)} for a in self.limits],
            "notes": list(self.notes),
            "periods": [
                {
                    "source_index": p.source_index,
                    "start_date_time": format_datetime(from_us(p.start_us)),
                    "end_date_time": format_datetime(from_us(p.end_us)),
                    "tariff_id": p.tariff_id,
                    "energy": str(p.energy),
                    "time": str(p.time),
                    "parking_time": str(p.parking_time),
                    "reservation_time": str(p.reservation_time),
                    "lines": [_line_dict(line) for line in p.lines],
                }
                for p in self.periods
            ],
        }


def _line_dict(line: CostLine) -> dict[str, object]:
    step = line.step
    return {
        "dimension": line.dimension.value,
        "category": line.category.value,
        "tariff_id": line.tariff_id,
        "element_index": line.element_index,
        "component_index": line.component_index,
        "price": str(line.price),
        "vat": None if line.vat is None else str(line.vat),
        "step_size": line.step_size,
        "volume": str(line.volume),
        "billed_volume": str(line.billed_volume),
        "step": None
        if step is None
        else {
            "step_size": step.step_size,
            "unit": step.unit,
            "consumed": str(step.consumed),
            "billed": str(step.billed),
            "rounded": [d.value for d in step.rounded],
        },
        "excl_vat": str(line.excl_vat),
        "incl_vat": str(line.incl_vat),
    }
