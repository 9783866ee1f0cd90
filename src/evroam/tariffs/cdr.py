"""A priced CDR from a finished Session, and the running total_cost of an active one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from evroam.modules.cdrs.models import (
    CDR,
    SESSION_ONLY_DIMENSIONS,
    CdrDimension,
    CdrDimensionType,
    CdrLocation,
    ChargingPeriod,
)
from evroam.modules.locations.models import EVSE, Connector, ConnectorFormat, ConnectorType, Location, PowerType
from evroam.modules.sessions.models import Session
from evroam.modules.tariffs.models import Tariff
from evroam.tariffs.breakdown import PricedPeriod, PricingResult
from evroam.tariffs.engine import price_periods
from evroam.tariffs.errors import PricingError
from evroam.tariffs.options import DEFAULT_OPTIONS, PricingOptions
from evroam.tariffs.selection import TariffContext, select_tariff
from evroam.types import Price, utcnow

__all__ = ["build_cdr", "price_session", "running_total_cost"]

_T = CdrDimensionType
_PRICED = (
    (_T.ENERGY, "energy"),
    (_T.TIME, "time"),
    (_T.PARKING_TIME, "parking_time"),
    (_T.RESERVATION_TIME, "reservation_time"),
)
_PRICED_TYPES = frozenset(t for t, _ in _PRICED)
_PRECISION = Decimal("0.000001")
NOT_AVAILABLE = "#NA"  # transport_and_format_not_available  # kWh and hours in a CDR: mWh and 3.6 ms are plenty


def _short(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        return value.quantize(_PRECISION).normalize()
    return value


def _connector(location: Location, session: Session) -> tuple[EVSE, Connector] | None:
    """The session's EVSE and connector; None for a reservation never given one ("#NA")."""
    if session.evse_uid == NOT_AVAILABLE or session.connector_id == NOT_AVAILABLE:
        return None
    for evse in location.evses or ():
        if evse.uid.casefold() == session.evse_uid.casefold():
            for connector in evse.connectors:
                if connector.id.casefold() == session.connector_id.casefold():
                    return evse, connector
    raise PricingError(
        f"location {location.id} has no EVSE {session.evse_uid!r} with connector {session.connector_id!r}"
    )


def _periods(session: Session) -> list[ChargingPeriod]:
    if session.charging_periods:
        return session.charging_periods
    # No periods reported: the session's kwh is all there is to price.
    return [
        ChargingPeriod(
            start_date_time=session.start_date_time, dimensions=[CdrDimension(type=_T.ENERGY, volume=session.kwh)]
        )
    ]


def price_session(
    session: Session,
    location: Location,
    tariffs: Sequence[Tariff],
    *,
    now: datetime | None = None,
    context: TariffContext | None = None,
    options: PricingOptions = DEFAULT_OPTIONS,
) -> PricingResult:
    """Price a session (finished, or active until `now`) with the connector's tariff valid at its start."""
    return _price(session, location, tariffs, now, context, options)[1]


def _price(
    session: Session,
    location: Location,
    tariffs: Sequence[Tariff],
    now: datetime | None,
    context: TariffContext | None,
    options: PricingOptions,
) -> tuple[Tariff, PricingResult]:
    found = _connector(location, session)
    tariff_ids = found[1].tariff_ids if found is not None else None
    tariff = select_tariff(tariffs, session.start_date_time, tariff_ids=tariff_ids, context=context)
    if tariff is None:
        raise PricingError(f"no tariff of connector {session.connector_id!r} applies to session {session.id}")
    if tariff.currency.upper() != session.currency.upper():
        raise PricingError(f"tariff {tariff.id} is in {tariff.currency}, session {session.id} in {session.currency}")
    periods = _periods(session)
    end = session.end_date_time or now or utcnow()
    end = max(end, session.start_date_time, *(p.start_date_time for p in periods))
    return tariff, price_periods(
        tariff, periods, start=session.start_date_time, end=end, time_zone=location.time_zone, options=options
    )


def running_total_cost(
    session: Session,
    location: Location,
    tariffs: Sequence[Tariff],
    *,
    now: datetime | None = None,
    context: TariffContext | None = None,
    options: PricingOptions = DEFAULT_OPTIONS,
) -> Price:
    """Session.total_cost so far for an ACTIVE session (mod_sessions_session_object), priced up to `now`."""
    return price_session(session, location, tariffs, now=now, context=context, options=options).total_cost


def _cdr_periods(result: PricingResult, sources: list[ChargingPeriod]) -> list[ChargingPeriod]:
    periods: list[ChargingPeriod] = []
    for priced in result.periods:
        periods.append(
            ChargingPeriod(
                start_date_time=priced.start,
                dimensions=_dimensions(priced, sources[priced.source_index]),
                tariff_id=priced.tariff_id,
            )
        )
    return periods


def _dimensions(priced: PricedPeriod, source: ChargingPeriod) -> list[CdrDimension]:
    # The split volumes the engine priced (inferred charging/parking time included), then the measured
    # values CDRs may carry; "Session Only" dimensions are dropped (mod_cdrs_cdrdimensiontype_enum).
    given = {d.type for d in source.dimensions}
    dimensions = [
        CdrDimension(type=kind, volume=_short(getattr(priced, name)))
        for kind, name in _PRICED
        if kind in given or getattr(priced, name)
    ]
    dimensions += [
        CdrDimension(type=d.type, volume=d.volume)
        for d in source.dimensions
        if d.type not in SESSION_ONLY_DIMENSIONS and d.type not in _PRICED_TYPES
    ]
    return dimensions or [CdrDimension(type=_T.ENERGY, volume=Decimal(0))]


def _cdr_location(location: Location, session: Session) -> CdrLocation:
    found = _connector(location, session)
    connector: Connector | None
    if found is not None:
        evse, connector = found
        uid, evse_id, connector_id = evse.uid, evse.evse_id or evse.uid, connector.id
    else:
        # OCPI 2.2.1 mod_cdrs_cdr_location_class: a reservation CDR without EVSE has "#NA" ids, and the
        # connector_* fields "can contain any value" (the Receiver ignores them): those of the first connector.
        uid = evse_id = connector_id = NOT_AVAILABLE
        connector = next((e.connectors[0] for e in location.evses or ()), None)
    return CdrLocation(
        id=location.id,
        name=location.name,
        address=location.address,
        city=location.city,
        postal_code=location.postal_code,
        state=location.state,
        country=location.country,
        coordinates=location.coordinates,
        evse_uid=uid,
        evse_id=evse_id,
        connector_id=connector_id,
        connector_standard=connector.standard if connector else ConnectorType.IEC_62196_T2,
        connector_format=connector.format if connector else ConnectorFormat.SOCKET,
        connector_power_type=connector.power_type if connector else PowerType.AC_3_PHASE,
    )


def build_cdr(
    session: Session,
    location: Location,
    tariffs: Sequence[Tariff],
    *,
    cdr_id: str,
    context: TariffContext | None = None,
    options: PricingOptions = DEFAULT_OPTIONS,
    now: datetime | None = None,
) -> CDR:
    """The CDR of a finished session, priced with the connector's tariff valid at the session start.

    `location` is the Location as it was at the session start: a CDR is sealed with the data of that moment
    (mod_cdrs_cdr_object). Charging periods are those the engine split, each naming its tariff; an EVSE
    without evse_id contributes its uid as CdrLocation.evse_id.
    """
    if session.end_date_time is None:
        raise PricingError(f"session {session.id} has not ended (no end_date_time)")
    tariff, result = _price(session, location, tariffs, None, context, options)
    sources = _periods(session)
    return CDR(
        country_code=session.country_code,
        party_id=session.party_id,
        id=cdr_id,
        start_date_time=session.start_date_time,
        end_date_time=session.end_date_time,
        session_id=session.id,
        cdr_token=session.cdr_token,
        auth_method=session.auth_method,
        authorization_reference=session.authorization_reference,
        cdr_location=_cdr_location(location, session),
        meter_id=session.meter_id,
        currency=session.currency,
        tariffs=[tariff],
        charging_periods=_cdr_periods(result, sources),
        total_cost=result.total_cost,
        total_fixed_cost=result.total_fixed_cost,
        total_energy=_short(result.total_energy),
        total_energy_cost=result.total_energy_cost,
        total_time=_short(result.total_time),
        total_time_cost=result.total_time_cost,
        total_parking_time=_short(result.total_parking_time),
        total_parking_cost=result.total_parking_cost,
        total_reservation_cost=result.total_reservation_cost,
        last_updated=now or utcnow(),
    )
