"""How fast a simulated session charges: the connector's and the car's limits, a charging profile's limit at
a moment, the ActiveChargingProfile that follows, and the meter values a running session gains."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from evroam.modules.cdrs.models import CdrDimension, CdrDimensionType, ChargingPeriod
from evroam.modules.chargingprofiles.models import (
    ActiveChargingProfile,
    ChargingProfile,
    ChargingProfilePeriod,
    ChargingRateUnit,
)
from evroam.modules.locations.models import Connector, PowerType
from evroam.modules.sessions.models import Session
from evroam.sim.car import Car

__all__ = ["active_profile", "charging_watts", "connector_watts", "gained_kwh", "limit_watts", "meter", "rate_watts"]

_DEFAULT_CAR: Final = Car()
_KWH: Final = Decimal("0.0001")
_KW: Final = Decimal("0.001")


def _phases(connector: Connector) -> int:
    return 3 if connector.power_type == PowerType.AC_3_PHASE else 1


def connector_watts(connector: Connector, car: Car = _DEFAULT_CAR) -> int:
    """What the connector delivers at most, and the car takes at its peak: W (by default a car of 11 kW
    on AC, 100 kW on DC)."""
    offered = connector.max_electric_power or connector.max_voltage * connector.max_amperage * _phases(connector)
    return min(offered, car.dc_watts if connector.power_type == PowerType.DC else car.ac_watts)


def limit_watts(profile: ChargingProfile, connector: Connector, session_start: datetime, at: datetime) -> int | None:
    """The profile's limit at `at`, in W (None: the profile sets none then).

    OCPI 2.2.1 mod_charging_profiles_charging_profile_class: without start_date_time the profile is
    "relative to start of charging"; after `duration` it ends; each period's start_period "also defines
    the stop time of the previous period". A limit in A is per phase (mod_charging_profiles_chargingrateunit).
    """
    start = profile.start_date_time or session_start
    offset = (at - start).total_seconds()
    if offset < 0 or (profile.duration is not None and offset >= profile.duration):
        return None
    current: Decimal | None = None
    for period in sorted(profile.charging_profile_period or (), key=lambda p: p.start_period):
        if period.start_period > offset:
            break
        current = Decimal(period.limit)
    if current is None:
        return None
    if profile.charging_rate_unit == ChargingRateUnit.A:
        current = current * connector.max_voltage * _phases(connector)
    return int(current)


def rate_watts(
    connector: Connector,
    profile: ChargingProfile | None,
    session_start: datetime,
    at: datetime,
    car: Car = _DEFAULT_CAR,
) -> int:
    """The power the Charge Point allows at `at`: the connector's and the car's peak, capped by the profile."""
    rate = connector_watts(connector, car)
    if profile is not None:
        limit = limit_watts(profile, connector, session_start, at)
        if limit is not None:
            rate = min(rate, limit)
    return max(rate, 0)


def charging_watts(
    connector: Connector, profile: ChargingProfile | None, session_start: datetime, at: datetime, car: Car, kwh: Decimal
) -> int:
    """The power the session charges with at `at`, having taken `kwh`: what the Charge Point allows, or
    less when the car takes less (ramping up, its battery filling)."""
    taken = car.takes_watts(connector.power_type == PowerType.DC, kwh, (at - session_start).total_seconds())
    return min(rate_watts(connector, profile, session_start, at, car), taken)


def active_profile(
    connector: Connector, profile: ChargingProfile | None, session_start: datetime, now: datetime, duration: int
) -> ActiveChargingProfile:
    """The profile the Charge Point plans for the next `duration` seconds, in W, relative to `now`
    (mod_charging_profiles_active_charging_profile_class: "All time measurements within the profile are
    relative to this timestamp")."""
    moments = {0}
    if profile is not None:
        start = profile.start_date_time or session_start
        edges = [p.start_period for p in profile.charging_profile_period or ()]
        if profile.duration is not None:
            edges.append(profile.duration)
        for edge in edges:
            # Rounded up: the rate sampled at a truncated offset would still be the old one, losing the change.
            offset = math.ceil((start + timedelta(seconds=edge) - now).total_seconds())
            if 0 < offset < duration:
                moments.add(offset)
    periods: list[ChargingProfilePeriod] = []
    for moment in sorted(moments):
        watts = rate_watts(connector, profile, session_start, now + timedelta(seconds=moment))
        if not periods or periods[-1].limit != watts:
            periods.append(ChargingProfilePeriod(start_period=moment, limit=Decimal(watts)))
    planned = ChargingProfile(
        start_date_time=now, duration=duration, charging_rate_unit=ChargingRateUnit.W, charging_profile_period=periods
    )
    return ActiveChargingProfile(start_date_time=now, charging_profile=planned)


def gained_kwh(session: Session, now: datetime) -> Decimal:
    """The energy the session took since its last update, at the power of its last period."""
    periods = session.charging_periods or ()
    power = (_dimension(periods[-1], CdrDimensionType.POWER) if periods else None) or Decimal(0)
    elapsed = Decimal(max(0.0, (now - session.last_updated).total_seconds()))
    return (power * elapsed / 3600).quantize(_KWH, ROUND_HALF_EVEN)


def meter(session: Session, watts: int, now: datetime, car: Car | None = None) -> Session:
    """The session after charging since its last update at the rate of its last period, continuing at
    `watts` from `now`: a new charging period starts when the rate changes. With the `car` known, each
    period carries the battery's state of charge at its latest reading (STATE_OF_CHARGE, a dimension
    only Sessions carry: mod_cdrs_cdrdimensiontype_enum)."""
    periods = list(session.charging_periods or ())
    last_power = _dimension(periods[-1], CdrDimensionType.POWER) if periods else None
    gained = gained_kwh(session, now)
    kwh = Decimal(session.kwh) + gained
    soc = car.soc(kwh) if car is not None else None
    if periods and (gained or soc is not None):
        energy = (_dimension(periods[-1], CdrDimensionType.ENERGY) or Decimal(0)) + gained
        periods[-1] = _period(periods[-1].start_date_time, energy, last_power or Decimal(0), soc)
    power = (Decimal(watts) / 1000).quantize(_KW)
    if last_power != power:
        periods.append(_period(now, Decimal(0), power, soc))
    return session.model_copy(update={"kwh": kwh, "charging_periods": periods, "last_updated": now})


def _period(start: datetime, energy: Decimal, power: Decimal, soc: Decimal | None) -> ChargingPeriod:
    dimensions = [
        CdrDimension(type=CdrDimensionType.ENERGY, volume=energy),
        CdrDimension(type=CdrDimensionType.POWER, volume=power),
    ]
    if soc is not None:
        dimensions.append(CdrDimension(type=CdrDimensionType.STATE_OF_CHARGE, volume=soc))
    return ChargingPeriod(start_date_time=start, dimensions=dimensions)


def _dimension(period: ChargingPeriod, kind: CdrDimensionType) -> Decimal | None:
    return next((Decimal(d.volume) for d in period.dimensions if d.type == kind), None)
