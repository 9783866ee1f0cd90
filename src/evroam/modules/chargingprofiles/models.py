"""Canonical OCPI 2.2.1 ChargingProfiles models: profiles, requests, responses, results and enums."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Strict

from evroam.types import URL, DateTime, Number, OcpiModel

__all__ = [
    "ActiveChargingProfile",
    "ActiveChargingProfileResult",
    "ChargingProfile",
    "ChargingProfilePeriod",
    "ChargingProfileResponse",
    "ChargingProfileResponseType",
    "ChargingProfileResult",
    "ChargingProfileResultType",
    "ChargingRateUnit",
    "ClearProfileResult",
    "SetChargingProfile",
]

# A JSON integer: neither "60" nor true nor 60.0 is accepted where the spec says int.
_Int = Annotated[int, Strict()]


def _at_most_one_decimal(value: Decimal) -> Decimal:
    # OCPI 2.2.1 mod_charging_profiles_charging_profile_class / _charging_profile_period_class: limit and
    # min_charging_rate "Accepts at most one digit fraction (e.g. 8.1)". The rule is on the value, so 8.10
    # (which is 8.1) passes and 8.15 does not.
    tenfold = value * 10
    if tenfold != tenfold.to_integral_value():
        raise ValueError(f"at most one decimal digit is allowed (e.g. 8.1), got {value}")
    return value


_RateNumber = Annotated[Number, AfterValidator(_at_most_one_decimal)]


class ChargingRateUnit(StrEnum):
    """Unit of a charging profile (mod_charging_profiles_chargingrateunit)."""

    # Total power. The 2.2.1 text refers to a "numberPhases" of ChargingProfilePeriod that does not exist
    # (the reference was removed in 2.3.0); there is no such field here.
    W = "W"
    # Current per phase, not the sum of all phases.
    A = "A"


class ChargingProfileResponseType(StrEnum):
    """The CPO's synchronous answer to a profile request (mod_charging_profiles_responsetype_enum)."""

    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    """The EVSE's asynchronous result of a profile request (mod_charging_profiles_resulttype_enum)."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ChargingProfilePeriod(OcpiModel):
    """A period of a profile, until the next starts (mod_charging_profiles_charging_profile_period_class)."""

    start_period: _Int
    limit: _RateNumber


class ChargingProfile(OcpiModel):
    """Power or current limits of a session over time (mod_charging_profiles_charging_profile_class)."""

    start_date_time: DateTime | None = None
    duration: _Int | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: _RateNumber | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None


class ActiveChargingProfile(OcpiModel):
    """The profile a Charge Point calculated (mod_charging_profiles_active_charging_profile_class)."""

    start_date_time: DateTime
    charging_profile: ChargingProfile


class SetChargingProfile(OcpiModel):
    """Body of a PUT setting a session's profile (mod_charging_profiles_set_charging_profile_object)."""

    charging_profile: ChargingProfile
    response_url: URL


class ChargingProfileResponse(OcpiModel):
    """Synchronous response data of a GET, PUT or DELETE (mod_charging_profiles_response_object)."""

    result: ChargingProfileResponseType
    # Seconds the Sender waits for the asynchronous result before assuming it will never come.
    timeout: _Int


class ActiveChargingProfileResult(OcpiModel):
    """Result of a GET (mod_charging_profiles_active_charging_profiles_result_object)."""

    result: ChargingProfileResultType
    # OCPI 2.2.1 mod_charging_profiles_active_charging_profiles_result_object: cardinality "?", described as
    # the profile "if the result field is set to: ACCEPTED"; kept optional rather than enforced.
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(OcpiModel):
    """Result of a PUT SetChargingProfile (mod_charging_profiles_charging_profiles_result_object)."""

    result: ChargingProfileResultType


class ClearProfileResult(OcpiModel):
    """Result of a DELETE ChargingProfile (mod_charging_profiles_clear_profiles_result_object)."""

    result: ChargingProfileResultType
