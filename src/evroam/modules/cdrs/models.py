"""Canonical OCPI 2.2.1 CDRs models: CDR, its classes (shared with Sessions) and the CDR enums."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

# TokenType lives in the Locations models (PublishTokenType needs it there) and is re-exported by the
# Tokens models; importing it from Locations keeps the CDR models free of a Tokens -> Sessions -> CDRs cycle.
from evroam.modules.locations.models import ConnectorFormat, ConnectorType, GeoLocation, PowerType, TokenType
from evroam.modules.tariffs.models import Tariff
from evroam.types import (
    CiString2,
    CiString3,
    CiString32,
    CiString36,
    CiString39,
    CiString48,
    DateTime,
    Number,
    OcpiModel,
    Price,
    String3,
    String10,
    String20,
    String45,
    String255,
    String512,
    String5000,
)

__all__ = [
    "CDR",
    "MAX_REGULAR_CDR_ID_LENGTH",
    "SESSION_ONLY_DIMENSIONS",
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrToken",
    "ChargingPeriod",
    "SignedData",
    "SignedValue",
]

# OCPI 2.2.1 mod_cdrs_cdr_object: `currency` is an ISO 4217 code, always 3 characters.
_CurrencyCode = Annotated[String3, StringConstraints(min_length=3)]

# A JSON integer: neither "2" nor true nor 2.0 is accepted where the spec says int.
_Int = Annotated[int, Strict()]
# OCPI 2.2.1 mod_cdrs_cdr_location_class: `country` is an ISO 3166-1 alpha-3 code, always 3 characters.
_CountryAlpha3 = Annotated[String3, StringConstraints(min_length=3)]

# OCPI 2.2.1 mod_cdrs_cdr_object: CDR.id is CiString(39) so that a credit CDR can append a suffix such as
# "-C"; "Normal (non-credit) CDRs SHALL only have an ID with a maximum length of 36".
MAX_REGULAR_CDR_ID_LENGTH = 36


_RuleError = tuple[tuple[str | int, ...], str, object]


def _rule_errors(model: type[OcpiModel], errors: list[_RuleError]) -> ValidationError:
    """A validation error with one entry per (loc, message, input); pydantic prefixes outer locations."""
    return ValidationError.from_exception_data(
        model.__name__,
        [
            InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
            for loc, message, value in errors
        ],
    )


class AuthMethod(StrEnum):
    """How the token of a session was authorized (mod_cdrs_authmethod_enum)."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    """What a CdrDimension measures (mod_cdrs_cdrdimensiontype_enum)."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


# OCPI 2.2.1 mod_cdrs_cdrdimensiontype_enum: values marked "Session Only" SHALL only be used in Sessions.
SESSION_ONLY_DIMENSIONS: frozenset[CdrDimensionType] = frozenset(
    {
        CdrDimensionType.CURRENT,
        CdrDimensionType.ENERGY_EXPORT,
        CdrDimensionType.ENERGY_IMPORT,
        CdrDimensionType.POWER,
        CdrDimensionType.STATE_OF_CHARGE,
    }
)


class CdrDimension(OcpiModel):
    """One measured value of a charging period (mod_cdrs_cdrdimension_class)."""

    type: CdrDimensionType
    volume: Number

    @model_validator(mode="after")
    def _state_of_charge_is_a_percentage(self) -> Self:
        # OCPI 2.2.1 mod_cdrs_cdrdimensiontype_enum: STATE_OF_CHARGE "values allowed: 0 to 100".
        if self.type is CdrDimensionType.STATE_OF_CHARGE and not 0 <= self.volume <= 100:
            raise _rule_errors(
                type(self),
                [(("volume",), f"STATE_OF_CHARGE is a percentage, 0 to 100, got {self.volume}", self.volume)],
            )
        return self


class ChargingPeriod(OcpiModel):
    """A period of a session, from its start until the next period starts (mod_cdrs_chargingperiod_class)."""

    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: CiString36 | None = None


class CdrToken(OcpiModel):
    """The token a session was started with, as copied into Sessions and CDRs (mod_cdrs_cdr_token_object)."""

    # OCPI 2.2.1 changelog: country_code and party_id of the token owner are required since 2.2.1.
    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: TokenType
    contract_id: CiString36


class CdrLocation(OcpiModel):
    """The location data relevant to a CDR, as at the start of the session (mod_cdrs_cdr_location_class)."""

    id: CiString36
    name: String255 | None = None
    address: String45
    city: String45
    postal_code: String10 | None = None
    state: String20 | None = None
    country: _CountryAlpha3
    coordinates: GeoLocation
    # OCPI 2.2.1 mod_cdrs_cdr_location_class: evse_uid, evse_id and connector_id may be "#NA" for a CDR of
    # a reservation that never became a session ("#NA" is a valid CiString); the connector_* fields then
    # hold any value and are ignored by the Receiver.
    evse_uid: CiString36
    evse_id: CiString48
    connector_id: CiString36
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiModel):
    """One signed meter value with its plain counterpart (mod_cdrs_signed_value_class)."""

    # "Start", "End", "Intermediate"; the spec says others may be added later, so any CiString(32) is kept.
    nature: CiString32
    plain_data: String512
    # OCPI 2.2.1 changelog: signed_data grew from 512 to 5000 characters in 2.2.1.
    signed_data: String5000


class SignedData(OcpiModel):
    """Signed (e.g. Eichrecht) metering data of a charging session (mod_cdrs_signed_data_class)."""

    # e.g. "OCMF", "Alfen Eichrecht", "EDL40 E-Mobility Extension", "EDL40 Mennekes".
    encoding_method: CiString36
    encoding_method_version: _Int | None = None
    public_key: String512 | None = None
    signed_values: list[SignedValue] = Field(min_length=1)
    url: String512 | None = None


class CDR(OcpiModel):
    """Charge Detail Record: the final, billing-relevant account of a session (mod_cdrs_cdr_object)."""

    country_code: CiString2
    party_id: CiString3
    id: CiString39
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: CiString36 | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    cdr_location: CdrLocation
    meter_id: String255 | None = None
    currency: _CurrencyCode
    tariffs: list[Tariff] | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    signed_data: SignedData | None = None
    # OCPI 2.2.1 mod_cdrs_credit_cdrs: a credit CDR carries the negated amounts, so no sign is imposed.
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Number
    total_energy_cost: Price | None = None
    total_time: Number
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: String255 | None = None
    invoice_reference_id: CiString39 | None = None
    credit: StrictBool | None = None
    credit_reference_id: CiString39 | None = None
    home_charging_compensation: StrictBool | None = None
    last_updated: DateTime

    @field_validator("charging_periods")
    @classmethod
    def _no_session_only_dimensions(cls, periods: list[ChargingPeriod]) -> list[ChargingPeriod]:
        # OCPI 2.2.1 mod_cdrs_cdrdimensiontype_enum: the "Session Only" dimensions (CURRENT, ENERGY_EXPORT,
        # ENERGY_IMPORT, POWER, STATE_OF_CHARGE) SHALL NOT be used in CDRs.
        errors: list[_RuleError] = [
            (
                (i, "dimensions", j, "type"),
                f"dimension {dimension.type.value} may only be used in a Session, not in a CDR",
                dimension.type.value,
            )
            for i, period in enumerate(periods)
            for j, dimension in enumerate(period.dimensions)
            if dimension.type in SESSION_ONLY_DIMENSIONS
        ]
        if errors:
            raise _rule_errors(cls, errors)
        return periods

    @model_validator(mode="after")
    def _credit_rules(self) -> Self:
        errors: list[_RuleError] = []
        # OCPI 2.2.1 mod_cdrs_cdr_object: "Normal (non-credit) CDRs SHALL only have an ID with a maximum
        # length of 36"; only a credit CDR may use the full CiString(39).
        if self.credit is not True and len(self.id) > MAX_REGULAR_CDR_ID_LENGTH:
            errors.append(
                (
                    ("id",),
                    f"a CDR id is at most {MAX_REGULAR_CDR_ID_LENGTH} characters unless credit is true "
                    f"(got {len(self.id)})",
                    self.id,
                )
            )
        # OCPI 2.2.1 mod_cdrs_credit_cdrs: a credit CDR references the CDR it credits; "When set to true,
        # ... the field credit_reference_id needs to be set as well" (mod_cdrs_cdr_object).
        if self.credit is True and self.credit_reference_id is None:
            errors.append(
                (
                    ("credit_reference_id",),
                    "credit_reference_id is required when credit is true (the id of the credited CDR)",
                    None,
                )
            )
        if errors:
            raise _rule_errors(type(self), errors)
        return self
