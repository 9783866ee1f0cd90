"""The simulated Charge Points' state in the store, and the rules they keep: which EVSE and Connector a
session gets, what starting, metering and ending a session writes, and where reservations are held."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from evroam.modules.cdrs.models import AuthMethod, CdrToken
from evroam.modules.chargingprofiles.models import ChargingProfile
from evroam.modules.commands.models import CommandResultType
from evroam.modules.locations.models import EVSE, Capability, Connector, Location, Status
from evroam.modules.locations.service import LocationPath, patch_at
from evroam.modules.objects import same_id
from evroam.modules.sessions.billing import settle_session
from evroam.modules.sessions.models import Session, SessionStatus
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tokens.models import Token
from evroam.sim.car import Car
from evroam.sim.power import charging_watts, gained_kwh, meter
from evroam.store.interface import ObjectKey
from evroam.types import format_datetime, utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = [
    "OUT_OF_SERVICE",
    "PROFILES",
    "RESERVATIONS",
    "RUNNING",
    "Offline",
    "Spot",
    "Start",
    "Stations",
    "session_key",
    "spot_ids",
]

log = logging.getLogger("evroam.sim")

RUNNING = "sim_sessions"  # sessions the simulator meters, by session key
PROFILES = "sim_profiles"  # the charging profile set on a session, by session key
RESERVATIONS = "sim_reservations"  # reservations held on EVSEs, by the CPO's reservation id
OUT_OF_SERVICE: Final = frozenset(
    (Status.INOPERATIVE, Status.OUTOFORDER, Status.BLOCKED, Status.PLANNED, Status.REMOVED)
)


@dataclass(frozen=True, slots=True)
class Spot:
    location: Location
    evse: EVSE
    connector: Connector


@dataclass(frozen=True, slots=True)
class Start:
    """A session about to start: where, for whom, how authorized."""

    cpo: tuple[str, str]
    session_id: str
    spot: Spot
    token: Token
    auth_method: AuthMethod
    authorization_reference: str | None


def session_key(country_code: str, party_id: str, session_id: str) -> str:
    return f"{country_code}/{party_id}/{session_id}".upper()


class Stations:
    """The Charge Points of every Location of the node's CPO parties, as the store holds them."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.store = node.store
        # Session documents are rewritten whole; one writer at a time keeps meter values and commands apart.
        self._lock = asyncio.Lock()

    async def _meter_one(self, cpo: tuple[str, str], session_id: str, now: datetime) -> None:
        session = await self._session(cpo, session_id)
        spot = await self._spot_of(session) if session else None
        if session is None or spot is None or session.status != SessionStatus.ACTIVE:
            await self.store.delete_state(RUNNING, session_key(*cpo, session_id))
            return
        profile = await self._profile(cpo, session_id)
        car = await self._car(cpo, session_id)
        kwh = Decimal(session.kwh) + gained_kwh(session, now)
        watts = charging_watts(spot.connector, profile, session.start_date_time, now, car, kwh)
        await self._save(meter(session, watts, now, car))

    async def _car(self, cpo: tuple[str, str], session_id: str) -> Car:
        stored = await self.store.get_state(RUNNING, session_key(*cpo, session_id))
        car = json.loads(stored).get("car") if stored else None
        return Car.from_dict(car) if car else Car.arriving(session_id)

    async def _begin(self, start: Start, held: dict[str, Any] | None) -> None:
        """Start charging (using the reservation `held` at the spot)."""
        now = utcnow()
        car = Car.arriving(start.session_id)
        session = await self._new_session(start, now)
        watts = charging_watts(start.spot.connector, None, now, now, car, Decimal(0))
        await self._save(meter(session, watts, now, car))
        running = {**spot_ids(start.spot), "car": car.to_dict()}
        await self.store.put_state(RUNNING, session_key(*start.cpo, start.session_id), json.dumps(running), now)
        if held:
            await self.store.delete_state(RESERVATIONS, held["reservation"])
        await self._set_status(start.spot, Status.CHARGING, now)
        where = f"{start.spot.location.id}/{start.spot.evse.uid}"
        log.info("session %s started at %s (%s)", start.session_id, where, start.auth_method.value)

    async def _finish(self, session: Session, spot: Spot | None) -> None:
        """End `session`: COMPLETED when it charged, INVALID when it never did (a reservation)."""
        now = utcnow()
        cpo = (session.country_code, session.party_id)
        if session.status == SessionStatus.ACTIVE and spot is not None:
            session = meter(session, 0, now, await self._car(cpo, session.id))
        status = SessionStatus.COMPLETED if session.status == SessionStatus.ACTIVE else SessionStatus.INVALID
        await self._save(session.model_copy(update={"status": status, "end_date_time": now, "last_updated": now}))
        await self.store.delete_state(RUNNING, session_key(*cpo, session.id))
        await self.store.delete_state(PROFILES, session_key(*cpo, session.id))
        if spot is not None:
            await self._set_status(spot, Status.AVAILABLE, now)
        log.info("session %s stopped", session.id)

    def _choose(
        self,
        location: Location,
        evse_uid: str | None,
        connector_id: str | None,
        held: dict[str, Any] | None,
        *,
        reserving: bool = False,
    ) -> tuple[Spot | None, CommandResultType]:
        """The EVSE and connector to use, or the result explaining why none (raises Offline when the only
        EVSE that could do it is offline)."""
        needed = Capability.RESERVABLE if reserving else Capability.REMOTE_START_STOP_CAPABLE
        candidates = [
            e
            for e in location.evses or ()
            if (evse_uid is None or same_id(e.uid, evse_uid)) and (e.capabilities is None or needed in e.capabilities)
        ]
        refusal = CommandResultType.EVSE_INOPERATIVE
        offline = False
        for evse in candidates:
            ours = held is not None and same_id(held["evse_uid"], evse.uid)
            if evse.status == Status.AVAILABLE or (evse.status == Status.RESERVED and ours):
                connector = next(
                    (c for c in evse.connectors if connector_id is None or same_id(c.id, connector_id)), None
                )
                if connector is not None:
                    return Spot(location, evse, connector), CommandResultType.ACCEPTED
            elif evse.status == Status.UNKNOWN:
                offline = True
            elif evse.status in (Status.CHARGING, Status.RESERVED):
                refusal = CommandResultType.EVSE_OCCUPIED
        if offline and refusal == CommandResultType.EVSE_INOPERATIVE:
            raise Offline
        return None, refusal

    async def _new_session(self, start: Start, now: datetime) -> Session:
        token, spot = start.token, start.spot
        return Session(
            country_code=start.cpo[0],
            party_id=start.cpo[1],
            id=start.session_id,
            start_date_time=now,
            kwh=Decimal(0),
            cdr_token=CdrToken(
                country_code=token.country_code,
                party_id=token.party_id,
                uid=token.uid,
                type=token.type,
                contract_id=token.contract_id,
            ),
            auth_method=start.auth_method,
            authorization_reference=start.authorization_reference,
            location_id=spot.location.id,
            evse_uid=spot.evse.uid,
            connector_id=spot.connector.id,
            currency=await self._currency(spot),
            charging_periods=[],
            status=SessionStatus.ACTIVE,
            last_updated=now,
        )

    async def _currency(self, spot: Spot) -> str:
        """The currency of the connector's tariff (EUR when it has none stored)."""
        for tariff_id in spot.connector.tariff_ids or ():
            key = ObjectKey(spot.location.country_code, spot.location.party_id, tariff_id)
            stored = await self.store.get_object("tariffs", key)
            if stored is not None:
                return str(json.loads(stored.data)["currency"])
        return "EUR"

    async def _save(self, session: Session) -> None:
        key = SESSIONS.key(session.country_code, session.party_id, session.id)
        await SESSIONS.put(self.store, key, session.to_dict())
        settlement = await settle_session(self.store, key)
        if settlement.problem:
            log.info("session %s: %s", session.id, settlement.problem)

    async def _session(self, cpo: tuple[str, str], session_id: str) -> Session | None:
        stored = await self.store.get_object(SESSIONS.module, SESSIONS.key(*cpo, session_id))
        return None if stored is None else Session.model_validate_json(stored.data)

    async def _location(self, cpo: tuple[str, str], location_id: str) -> Location | None:
        stored = await self.store.get_object("locations", ObjectKey(*cpo, location_id))
        return None if stored is None else Location.model_validate_json(stored.data)

    async def _spot_of(self, session: Session) -> Spot | None:
        location = await self._location((session.country_code, session.party_id), session.location_id)
        evse = next((e for e in (location.evses if location else None) or () if same_id(e.uid, session.evse_uid)), None)
        connector = next((c for c in evse.connectors if same_id(c.id, session.connector_id)), None) if evse else None
        if location is None or evse is None or connector is None:
            return None
        return Spot(location, evse, connector)

    async def _profile(self, cpo: tuple[str, str], session_id: str) -> ChargingProfile | None:
        stored = await self.store.get_state(PROFILES, session_key(*cpo, session_id))
        return None if stored is None else ChargingProfile.model_validate_json(stored)

    async def _running(self, cpo: tuple[str, str], session_id: str) -> bool:
        session = await self._session(cpo, session_id)
        return session is not None and session.status == SessionStatus.ACTIVE

    async def _reservation_for(self, location: Location, evse_uid: str | None, uid: str) -> dict[str, Any] | None:
        """The reservation held for the token `uid` at the location (on `evse_uid` when given)."""
        for _, stored in await self.store.list_state(RESERVATIONS):
            held = json.loads(stored)
            if (
                same_id(held["location_id"], location.id)
                and (evse_uid is None or same_id(held["evse_uid"], evse_uid))
                and same_id(held["token_uid"], uid)
            ):
                result: dict[str, Any] = held
                return result
        return None

    async def _end_reservation(self, cpo: tuple[str, str], held: dict[str, Any], now: datetime) -> None:
        session = await self._session(cpo, held["session_id"])
        if session is not None and session.status == SessionStatus.RESERVATION:
            # An unused reservation is not billed here (mod_sessions_sessionstatus_enum INVALID).
            update = {"status": SessionStatus.INVALID, "end_date_time": now, "last_updated": now}
            await self._save(session.model_copy(update=update))
        await self.store.delete_state(RESERVATIONS, held["reservation"])
        await self._release(cpo, held, now)

    async def _release(self, cpo: tuple[str, str], held: dict[str, Any], now: datetime) -> None:
        location = await self._location(cpo, held["location_id"])
        evse = next((e for e in (location.evses if location else None) or () if same_id(e.uid, held["evse_uid"])), None)
        if location is not None and evse is not None and evse.status == Status.RESERVED:
            await self._set_status(Spot(location, evse, evse.connectors[0]), Status.AVAILABLE, now)

    async def _set_status(self, spot: Spot, status: Status, now: datetime) -> None:
        path = LocationPath(spot.location.country_code, spot.location.party_id, spot.location.id, spot.evse.uid)
        await self._patch_status(path, status, now)

    async def _patch_status(self, path: LocationPath, status: Status, now: datetime) -> None:
        await patch_at(self.store, path, {"status": status.value, "last_updated": format_datetime(now)})


def spot_ids(spot: Spot) -> dict[str, str]:
    return {
        "country_code": spot.location.country_code,
        "party_id": spot.location.party_id,
        "location_id": spot.location.id,
        "evse_uid": spot.evse.uid,
        "connector_id": spot.connector.id,
    }


class Offline(Exception):
    """The Charge Point is offline (EVSE status UNKNOWN)."""
