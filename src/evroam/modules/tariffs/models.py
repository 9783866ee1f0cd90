"""Canonical Tariffs models: Tariff, TariffElement, PriceComponent, TariffRestrictions (2.2.1 + 2.3.0)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from evroam.modules.locations.models import EnergyMix
from evroam.types import (
    URL,
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    DisplayText,
    Number,
    OcpiModel,
    Price,
    String5,
    String10,
)

__all__ = [
    "DayOfWeek",
    "PriceComponent",
    "ReservationRestrictionType",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "TaxIncluded",
]

# OCPI 2.2.1 mod_tariffs_tariff_object: `currency` is an ISO 4217 code, always 3 characters.
_CurrencyCode = Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[^\x00-\x1f\x7f]*$")]

# A JSON integer: neither "300" nor true nor 300.0 is accepted where the spec says int.
_Int = Annotated[int, Strict()]

# OCPI 2.2.1 mod_tariffs_tariffrestrictions_class
_TIME_OF_DAY_RE = re.compile(r"([0-1][0-9]|2[0-3]):[0-5][0-9]")
_DATE_RE = re.compile(r"([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")


def _rule_error(model: type[OcpiModel], loc: tuple[str | int, ...], message: str, value: object) -> ValidationError:
    """A validation error located at `loc` inside `model` (nested locations are prefixed by pydantic)."""
    return ValidationError.from_exception_data(
        model.__name__,
        [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)],
    )


class DayOfWeek(StrEnum):
    """Day of the week a tariff element is active (mod_tariffs_dayofweek_enum)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    """Marks a tariff element as reservation pricing (mod_tariffs_reservation_restriction_type)."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffDimensionType(StrEnum):
    """What a price component is charged for (mod_tariffs_tariffdimensiontype_enum)."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TariffType(StrEnum):
    """Which sessions a tariff applies to (mod_tariffs_tariff_type)."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class TaxIncluded(StrEnum):
    """Whether the amounts of a tariff include taxes (2.3.0 mod_tariffs_taxincluded_enum)."""

    YES = "YES"  # 2.3.0
    NO = "NO"  # 2.3.0
    NOT_APPLICABLE = "N/A"  # 2.3.0


class PriceComponent(OcpiModel):
    """Price of one tariff dimension, with VAT and billing step (mod_tariffs_pricecomponent_class)."""

    type: TariffDimensionType
    price: Number
    # OCPI 2.2.1 mod_tariffs_pricecomponent_class: absent vat means no VAT applicable, which differs from
    # vat 0.0; None and Decimal("0") are kept apart and emitted as sent.
    vat: Number | None = None
    # OCPI 2.2.1 mod_tariffs_pricecomponent_class: step_size is an int number of units (Wh, seconds);
    # 0 occurs for FLAT components, where it is meaningless.
    step_size: Annotated[_Int, Field(ge=0)]


class TariffRestrictions(OcpiModel):
    """Conditions under which a tariff element is active, all ANDed (mod_tariffs_tariffrestrictions_class)."""

    start_time: String5 | None = None
    end_time: String5 | None = None
    start_date: String10 | None = None
    end_date: String10 | None = None
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: _Int | None = None
    max_duration: _Int | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None

    @field_validator("start_time", "end_time")
    @classmethod
    def _time_of_day(cls, value: str | None, info: ValidationInfo) -> str | None:
        # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class: regex ([0-1][0-9]|2[0-3]):[0-5][0-9].
        # end_time < start_time is allowed (the window wraps past midnight); 00:00 ends at end of day.
        if value is not None and not _TIME_OF_DAY_RE.fullmatch(value):
            raise ValueError(
                f"{info.field_name} must be a 24h local time HH:MM with leading zeros (00:00-23:59), got {value[:20]!r}"
            )
        return value

    @field_validator("start_date", "end_date")
    @classmethod
    def _date(cls, value: str | None, info: ValidationInfo) -> str | None:
        # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class:
        # regex ([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])
        if value is not None and not _DATE_RE.fullmatch(value):
            raise ValueError(f"{info.field_name} must be a local date YYYY-MM-DD, got {value[:20]!r}")
        return value


class TariffElement(OcpiModel):
    """Price components with the restrictions under which they apply (mod_tariffs_tariffelement_class)."""

    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None

    @model_validator(mode="after")
    def _reservation_components(self) -> Self:
        # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class: a reservation element can only have FLAT and
        # TIME dimensions (TIME being the duration of the reservation).
        if self.restrictions is None or self.restrictions.reservation is None:
            return self
        allowed = (TariffDimensionType.FLAT, TariffDimensionType.TIME)
        for index, component in enumerate(self.price_components):
            if component.type not in allowed:
                raise _rule_error(
                    type(self),
                    ("price_components", index, "type"),
                    f"a {self.restrictions.reservation.value} element may only hold FLAT and TIME price "
                    f"components, not {component.type.value}",
                    component.type.value,
                )
        return self


class Tariff(OcpiModel):
    """Prices a CPO charges for charging, with validity and energy mix (mod_tariffs_tariff_object)."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    currency: _CurrencyCode
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    # 2.3.0 replaces Price with PriceLimit{before_taxes, after_taxes}; the canonical model keeps Price and
    # the 2.3.0 wire converters map between them.
    min_price: Price | None = None
    max_price: Price | None = None
    preauthorize_amount: Number | None = None  # 2.3.0
    # OCPI 2.2.1 mod_tariffs_tariff_object: elements cardinality `+` (at least one)
    elements: list[TariffElement] = Field(min_length=1)
    # 2.3.0 makes tax_included required; it is optional here because 2.2.1 and 2.1.1 tariffs lack it.
    tax_included: TaxIncluded | None = None  # 2.3.0
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime
