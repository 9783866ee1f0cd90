"""Canonical OCPI 2.2.1 Sessions models: Session, ChargingPreferences and the Sessions enums."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StrictBool, StringConstraints

from evroam.modules.cdrs.models import AuthMethod, CdrToken, ChargingPeriod
from evroam.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    Number,
    OcpiModel,
    Price,
    String3,
    String255,
)

__all__ = [
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ProfileType",
    "Session",
    "SessionStatus",
]

# OCPI 2.2.1 mod_sessions_session_object: `currency` is an ISO 4217 code, always 3 characters.
_CurrencyCode = Annotated[String3, StringConstraints(min_length=3)]


class ProfileType(StrEnum):
    """Smart charging profile chosen by the driver (mod_sessions_profile_type_enum)."""

    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class SessionStatus(StrEnum):
    """State of a charging session (mod_sessions_sessionstatus_enum)."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    # OCPI 2.2.1 mod_sessions_reservation calls this state "RESERVED" in prose; the enum value is RESERVATION.
    RESERVATION = "RESERVATION"


class ChargingPreferencesResponse(StrEnum):
    """Answer of the CPO to a PUT of ChargingPreferences (mod_sessions_charging_preferences_response_enum)."""

    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class ChargingPreferences(OcpiModel):
    """Charging preferences of an EV driver for one session (mod_sessions_charging_preferences_object)."""

    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: Number | None = None
    # OCPI 2.2.1 mod_sessions_charging_preferences_object: an absent discharge_allowed means false; we keep
    # "absent" distinct so that a round trip emits exactly what was received.
    discharge_allowed: StrictBool | None = None


class Session(OcpiModel):
    """One charging session as the CPO currently sees it (mod_sessions_session_object)."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    start_date_time: DateTime
    end_date_time: DateTime | None = None
    kwh: Number
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    location_id: CiString36
    # OCPI 2.2.1 mod_sessions_session_object / transport_and_format_not_available: evse_uid and
    # connector_id may be "#NA" for a reservation without an assigned EVSE; "#NA" is a valid CiString(36).
    evse_uid: CiString36
    connector_id: CiString36
    meter_id: String255 | None = None
    currency: _CurrencyCode
    # OCPI 2.2.1 mod_cdrs_cdrdimensiontype_enum: unlike a CDR, a Session may carry the "Session only"
    # dimensions (CURRENT, ENERGY_EXPORT, ENERGY_IMPORT, POWER, STATE_OF_CHARGE).
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: DateTime
