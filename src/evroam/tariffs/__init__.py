"""The tariff engine: price charging periods or CDRs against OCPI 2.2.1 tariffs, and build priced CDRs."""

from evroam.tariffs.breakdown import (
    Amount,
    CostCategory,
    CostLine,
    LimitAdjustment,
    PricedPeriod,
    PricingResult,
    StepAdjustment,
    VatTotal,
)
from evroam.tariffs.cdr import build_cdr, price_session, running_total_cost
from evroam.tariffs.documents import CdrDocument, read_cdr, read_tariff
from evroam.tariffs.engine import price_cdr, price_periods, tariff_of
from evroam.tariffs.errors import PricingError
from evroam.tariffs.money import amounts_agree, minor_units, round_money
from evroam.tariffs.options import (
    DEFAULT_OPTIONS,
    DstOverlap,
    ExpiredReservationFlat,
    ParkingDuration,
    PricingOptions,
    TimeStepRounding,
    WrappedWindowDay,
)
from evroam.tariffs.plan import TariffPlan, plan_for
from evroam.tariffs.selection import TariffContext, is_valid_at, select_tariff

__all__ = [
    "DEFAULT_OPTIONS",
    "Amount",
    "CdrDocument",
    "CostCategory",
    "CostLine",
    "DstOverlap",
    "ExpiredReservationFlat",
    "LimitAdjustment",
    "ParkingDuration",
    "PricedPeriod",
    "PricingError",
    "PricingOptions",
    "PricingResult",
    "StepAdjustment",
    "TariffContext",
    "TariffPlan",
    "TimeStepRounding",
    "VatTotal",
    "WrappedWindowDay",
    "amounts_agree",
    "build_cdr",
    "is_valid_at",
    "minor_units",
    "plan_for",
    "price_cdr",
    "price_periods",
    "price_session",
    "read_cdr",
    "read_tariff",
    "round_money",
    "running_total_cost",
    "select_tariff",
    "tariff_of",
]
