"""Settings for the readings of the spec on which reasonable parties differ; defaults follow the text."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP
from enum import StrEnum

__all__ = [
    "DEFAULT_OPTIONS",
    "DstOverlap",
    "ExpiredReservationFlat",
    "ParkingDuration",
    "PricingOptions",
    "TimeStepRounding",
    "WrappedWindowDay",
]


class TimeStepRounding(StrEnum):
    """How step_size rounds TIME and PARKING_TIME, which the spec rounds "once ... combined"."""

    # OCPI 2.2.1 mod_cdrs_step_size: "In the cases that TIME and PARKING_TIME Tariff Elements are both used,
    # step_size is only taken into account for the total parking duration" (21 min charging + 16 min parking,
    # step 10 min -> 21 + 20 min). The 2.3.0 rewrite of the mod_tariffs step-size examples agrees (0.55 EUR).
    PARKING_ONLY = "PARKING_ONLY"
    # OCPI 2.2.1 mod_tariffs "switching to different Tariff Element #1": the total session time (charging +
    # parking) is rounded with the last component's step and the extra is billed as parking (0.383 EUR).
    COMBINED = "COMBINED"


class DstOverlap(StrEnum):
    """What a start_time/end_time means during the repeated hour when clocks go back."""

    # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class: times are "local time" of Location.time_zone, so an
    # instant is inside a window when the wall clock shows a time inside it; a window that covers part of
    # the repeated hour applies to both passes. In a spring-forward gap a window opens at the first instant
    # the clock shows a time at or after its start (both settings agree there).
    WALL_CLOCK = "WALL_CLOCK"
    # A time of day names the first moment the clock shows it, so every window is one continuous stretch of
    # real time and a 02:30 price switch happens once.
    FIRST_OCCURRENCE = "FIRST_OCCURRENCE"


class ParkingDuration(StrEnum):
    """What min_duration/max_duration measure for a PARKING_TIME component."""

    # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class: "Minimum duration in seconds the Charging Session MUST
    # last": elapsed session time, for every dimension.
    SESSION = "SESSION"
    # The parking time accumulated so far, the reading example tariff_7 ("first hour of parking free") needs
    # to give its stated 7.30 EUR; 2.3.0 dropped that example.
    PARKING = "PARKING"


class ExpiredReservationFlat(StrEnum):
    """Which FLAT fees an expired reservation pays when a tariff has both reservation kinds."""

    # OCPI 2.2.1 mod_tariffs_reservation_restriction_type: for TIME, "the time based cost of an expired
    # reservation will be calculated based on the RESERVATION_EXPIRES TariffElement"; the same precedence is
    # applied to FLAT: the expiry fee replaces the reservation fee.
    REPLACE = "REPLACE"
    # The reservation fee is due for any reservation and the expiry fee comes on top ("an additional
    # expiration fee", example tariff_17).
    ADD = "ADD"


class WrappedWindowDay(StrEnum):
    """Which day a start_time/end_time window that wraps past midnight belongs to, for day_of_week and dates."""

    # Restrictions are evaluated at each instant (mod_tariffs_tariffrestrictions_class: "They only describe if
    # and when a TariffElement becomes active"), so after midnight the new day's day_of_week counts.
    INSTANT = "INSTANT"
    # A FRIDAY 22:00-06:00 window runs until Saturday 06:00: after midnight the window's start day counts.
    WINDOW_START = "WINDOW_START"


@dataclass(frozen=True, slots=True)
class PricingOptions:
    """Choices the engine makes where the spec is ambiguous; the defaults follow the 2.2.1 text."""

    time_step_rounding: TimeStepRounding = TimeStepRounding.PARKING_ONLY
    dst_overlap: DstOverlap = DstOverlap.WALL_CLOCK
    parking_duration: ParkingDuration = ParkingDuration.SESSION
    expired_reservation_flat: ExpiredReservationFlat = ExpiredReservationFlat.REPLACE
    wrapped_window_day: WrappedWindowDay = WrappedWindowDay.INSTANT
    # A period without TIME, PARKING_TIME or RESERVATION_TIME dimension: count its duration as charging time
    # when it delivered energy, as parking time otherwise (mod_cdrs_chargingperiod_class lets a period carry
    # only the dimensions the CPO measured). False: such a period has no time volume at all.
    infer_time_from_timestamps: bool = True
    # decimal rounding mode of money.round_money for final totals.
    rounding: str = ROUND_HALF_UP


DEFAULT_OPTIONS = PricingOptions()
