"""The built-in Charge Points of a CPO node: they carry out commands and charging profiles on the node's own
Locations, start and stop sessions, meter them as they charge, and keep what they know in the store.

Realistic where OCPI sees it: an EVSE answers after `sim_answer_delay`; one that is INOPERATIVE, OUTOFORDER,
BLOCKED, PLANNED or REMOVED answers EVSE_INOPERATIVE, one that is CHARGING (or reserved for someone else)
EVSE_OCCUPIED, and one whose status is UNKNOWN (offline) never answers, so the CPO reports TIMEOUT.
Sessions get `auth_method` COMMAND, the command's token and `authorization_reference`; every
`sim_meter_interval` they gain energy at the connector's power, capped by the car and by the session's
charging profile; the EVSE status follows. The CPO bills them as it bills any of its sessions
(`settle_session`: running total_cost, the CDR once COMPLETED).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from evroam.chargepoints.adapter import Order, Reservation
from evroam.chargepoints.profiles import UPDATE_DURATION, active_profile_changed
from evroam.modules.cdrs.models import AuthMethod, CdrToken
from evroam.modules.chargingprofiles.models import (
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfileResult,
    ChargingProfileResultType,
    ClearProfileResult,
)
from evroam.modules.commands.models import CommandResult, CommandResultType, StartSession, UnlockConnector
from evroam.modules.locations.models import EVSE, Capability, Connector, Location, Status
from evroam.modules.locations.service import LocationPath, patch_at
from evroam.modules.objects import same_id
from evroam.modules.sessions.billing import settle_session
from evroam.modules.sessions.models import Session, SessionStatus
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tokens.models import Token
from evroam.sim.power import active_profile, meter, rate_watts
from evroam.store.interface import ObjectKey
from evroam.types import DisplayText, format_datetime, utcnow

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["Simulator"]

log = logging.getLogger("evroam.sim")

_RUNNING = "sim_sessions"  # sessions the simulator meters, by session key
_PROFILES = "sim_profiles"  # the charging profile set on a session, by session key
_RESERVATIONS = "sim_reservations"  # reservations held on EVSEs, by the CPO's reservation id
_OUT_OF_SERVICE: Final = frozenset(
    (Status.INOPERATIVE, Status.OUTOFORDER, Status.BLOCKED, Status.PLANNED, Status.REMOVED)
)


@dataclass(frozen=True, slots=True)
class _Spot:
    location: Location
    evse: EVSE
    connector: Connector


def _key(country_code: str, party_id: str, session_id: str) -> str:
    return f"{country_code}/{party_id}/{session_id}".upper()


class Simulator:
    """`ChargePoints` for every Location of the node's CPO parties."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.store = node.store
        # Session documents are rewritten whole; one writer at a time keeps meter values and commands apart.
        self._lock = asyncio.Lock()

    # -- commands ---------------------------------------------------------------------------------------
    async def start_session(self, order: Order, request: StartSession) -> CommandResult:
        await self._answer_delay()
        async with _offline_never_answers(), self._lock:
            if await self._session(order.cpo, order.id) is not None:
                return _result(CommandResultType.ACCEPTED)  # started before a restart: same order, same session
            location = await self._location(order.cpo, request.location_id)
            if location is None:
                return _result(CommandResultType.FAILED, "the location is gone")
            held = await self._reservation_for(location, request.evse_uid, request.token)
            # Without an EVSE named, the driver's reservation at this location says which one.
            evse_uid = request.evse_uid or (held["evse_uid"] if held else None)
            spot, refusal = self._choose(location, evse_uid, request.connector_id, held)
            if spot is None:
                return _result(refusal)
            now = utcnow()
            session_id = held["session_id"] if held else order.id
            authorization = request.authorization_reference or (held or {}).get("authorization_reference")
            session = await self._new_session(order, session_id, spot, request.token, authorization, now)
            await self._save(meter(session, rate_watts(spot.connector, None, now, now), now))
            await self.store.put_state(_RUNNING, _key(*order.cpo, session_id), json.dumps(_spot_ids(spot)), now)
            if held:
                await self.store.delete_state(_RESERVATIONS, held["reservation"])
            await self._set_status(spot, Status.CHARGING, now)
        log.info("session %s started at %s/%s", session_id, spot.location.id, spot.evse.uid)
        return _result(CommandResultType.ACCEPTED)

    async def stop_session(self, order: Order, session: Session) -> CommandResult:
        await self._answer_delay()
        async with _offline_never_answers(), self._lock:
            current = await self._session(order.cpo, session.id)
            if current is None:
                return _result(CommandResultType.FAILED, "the session is gone")
            if current.status == SessionStatus.COMPLETED:
                return _result(CommandResultType.ACCEPTED)  # stopped before a restart
            spot = await self._spot_of(current)
            if spot is not None and spot.evse.status == Status.UNKNOWN:
                raise _Offline
            now = utcnow()
            if current.status == SessionStatus.ACTIVE and spot is not None:
                current = meter(current, 0, now)
            status = SessionStatus.COMPLETED if current.status == SessionStatus.ACTIVE else SessionStatus.INVALID
            await self._save(current.model_copy(update={"status": status, "end_date_time": now, "last_updated": now}))
            await self.store.delete_state(_RUNNING, _key(*order.cpo, session.id))
            await self.store.delete_state(_PROFILES, _key(*order.cpo, session.id))
            if spot is not None:
                await self._set_status(spot, Status.AVAILABLE, now)
        log.info("session %s stopped", session.id)
        return _result(CommandResultType.ACCEPTED)

    async def unlock_connector(self, order: Order, request: UnlockConnector) -> CommandResult:
        await self._answer_delay()
        location = await self._location(order.cpo, request.location_id)
        evse = next((e for e in (location.evses if location else None) or () if same_id(e.uid, request.evse_uid)), None)
        if evse is None:
            return _result(CommandResultType.FAILED, "the EVSE is gone")
        if evse.status == Status.UNKNOWN:
            await _never_answer()
        if evse.status in _OUT_OF_SERVICE:
            return _result(CommandResultType.EVSE_INOPERATIVE)
        return _result(CommandResultType.ACCEPTED)

    async def reserve_now(self, order: Order, reservation: Reservation) -> CommandResult:
        await self._answer_delay()
        request = reservation.request
        async with _offline_never_answers(), self._lock:
            location = await self._location(order.cpo, request.location_id)
            if location is None:
                return _result(CommandResultType.FAILED, "the location is gone")
            stored = await self.store.get_state(_RESERVATIONS, reservation.id)
            before: dict[str, Any] | None = json.loads(stored) if stored else None
            spot, refusal = self._choose(location, request.evse_uid, None, before, reserving=True)
            if spot is None:
                return _result(refusal)
            now = utcnow()
            session_id = before["session_id"] if before else reservation.id
            authorization = request.authorization_reference
            session = await self._new_session(order, session_id, spot, request.token, authorization, now)
            await self._save(session.model_copy(update={"status": SessionStatus.RESERVATION}))
            held = {
                "reservation": reservation.id,
                "session_id": session_id,
                "token_uid": request.token.uid,
                "expiry_date": format_datetime(request.expiry_date),
                "authorization_reference": request.authorization_reference,
                **_spot_ids(spot),
            }
            await self.store.put_state(_RESERVATIONS, reservation.id, json.dumps(held), now)
            if before and (before["location_id"], before["evse_uid"]) != (spot.location.id, spot.evse.uid):
                await self._release(order.cpo, before, now)
            await self._set_status(spot, Status.RESERVED, now)
        return _result(CommandResultType.ACCEPTED)

    async def cancel_reservation(self, order: Order, reservation: Reservation) -> CommandResult:
        await self._answer_delay()
        async with self._lock:
            stored = await self.store.get_state(_RESERVATIONS, reservation.id)
            if stored is None:
                return _result(CommandResultType.UNKNOWN_RESERVATION)
            await self._end_reservation(order.cpo, json.loads(stored), utcnow())
        return _result(CommandResultType.ACCEPTED)

    # -- charging profiles ----------------------------------------------------------------------------------
    async def set_charging_profile(
        self, order: Order, session: Session, profile: ChargingProfile
    ) -> ChargingProfileResult:
        await self._answer_delay()
        async with self._lock:
            if not await self._running(order.cpo, session.id):
                return ChargingProfileResult(result=ChargingProfileResultType.REJECTED)
            now = utcnow()
            await self.store.put_state(_PROFILES, _key(*order.cpo, session.id), profile.to_json().decode(), now)
            await self._meter_one(order.cpo, session.id, now)
        return ChargingProfileResult(result=ChargingProfileResultType.ACCEPTED)

    async def get_active_profile(self, order: Order, session: Session, duration: int) -> ActiveChargingProfileResult:
        await self._answer_delay()
        current = await self._session(order.cpo, session.id)
        spot = await self._spot_of(current) if current else None
        if current is None or spot is None or current.status != SessionStatus.ACTIVE:
            return ActiveChargingProfileResult(result=ChargingProfileResultType.REJECTED)
        profile = await self._profile(order.cpo, session.id)
        planned = active_profile(spot.connector, profile, current.start_date_time, utcnow(), duration)
        return ActiveChargingProfileResult(result=ChargingProfileResultType.ACCEPTED, profile=planned)

    async def clear_profile(self, order: Order, session: Session) -> ClearProfileResult:
        await self._answer_delay()
        async with self._lock:
            if not await self.store.delete_state(_PROFILES, _key(*order.cpo, session.id)):
                # mod_charging_profiles_resulttype_enum UNKNOWN: "No Charging Profile(s) were found".
                return ClearProfileResult(result=ChargingProfileResultType.UNKNOWN)
            await self._meter_one(order.cpo, session.id, utcnow())
        return ClearProfileResult(result=ChargingProfileResultType.ACCEPTED)

    # -- running ----------------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Meter every running session each `sim_meter_interval`, and end reservations that expired."""
        while True:
            await asyncio.sleep(self.node.settings.sim_meter_interval)
            try:
                await self.tick()
            except Exception:
                log.exception("metering simulated sessions failed; trying again")

    async def tick(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        async with self._lock:
            for key, _ in await self.store.list_state(_RUNNING):
                country_code, party_id, session_id = key.split("/", 2)
                await self._meter_one((country_code, party_id), session_id, now)
            for _, stored in await self.store.list_state(_RESERVATIONS):
                held = json.loads(stored)
                if datetime.fromisoformat(held["expiry_date"].replace("Z", "+00:00")) <= now:
                    await self._end_reservation((held["country_code"], held["party_id"]), held, now)

    async def limit_changed(self, cpo: tuple[str, str], session_id: str) -> None:
        """Something besides OCPI changed a session's limit: meter it and tell its profile sender."""
        async with self._lock:
            await self._meter_one(cpo, session_id, utcnow())
        current = await self._session(cpo, session_id)
        spot = await self._spot_of(current) if current else None
        if current is not None and spot is not None:
            profile = await self._profile(cpo, session_id)
            planned = active_profile(spot.connector, profile, current.start_date_time, utcnow(), UPDATE_DURATION)
            await active_profile_changed(self.node, current, planned)

    # -- the store, and the rules -----------------------------------------------------------------------------
    async def _meter_one(self, cpo: tuple[str, str], session_id: str, now: datetime) -> None:
        session = await self._session(cpo, session_id)
        spot = await self._spot_of(session) if session else None
        if session is None or spot is None or session.status != SessionStatus.ACTIVE:
            await self.store.delete_state(_RUNNING, _key(*cpo, session_id))
            return
        profile = await self._profile(cpo, session_id)
        await self._save(meter(session, rate_watts(spot.connector, profile, session.start_date_time, now), now))

    def _choose(
        self,
        location: Location,
        evse_uid: str | None,
        connector_id: str | None,
        held: dict[str, Any] | None,
        *,
        reserving: bool = False,
    ) -> tuple[_Spot | None, CommandResultType]:
        """The EVSE and connector to use, or the result explaining why none (raises _Offline when the only
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
                    return _Spot(location, evse, connector), CommandResultType.ACCEPTED
            elif evse.status == Status.UNKNOWN:
                offline = True
            elif evse.status in (Status.CHARGING, Status.RESERVED):
                refusal = CommandResultType.EVSE_OCCUPIED
        if offline and refusal == CommandResultType.EVSE_INOPERATIVE:
            raise _Offline
        return None, refusal

    async def _new_session(
        self, order: Order, session_id: str, spot: _Spot, token: Token, authorization: str | None, now: datetime
    ) -> Session:
        return Session(
            country_code=order.cpo[0],
            party_id=order.cpo[1],
            id=session_id,
            start_date_time=now,
            kwh=Decimal(0),
            cdr_token=CdrToken(
                country_code=token.country_code,
                party_id=token.party_id,
                uid=token.uid,
                type=token.type,
                contract_id=token.contract_id,
            ),
            auth_method=AuthMethod.COMMAND,
            authorization_reference=authorization,
            location_id=spot.location.id,
            evse_uid=spot.evse.uid,
            connector_id=spot.connector.id,
            currency=await self._currency(spot),
            charging_periods=[],
            status=SessionStatus.ACTIVE,
            last_updated=now,
        )

    async def _currency(self, spot: _Spot) -> str:
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

    async def _spot_of(self, session: Session) -> _Spot | None:
        location = await self._location((session.country_code, session.party_id), session.location_id)
        evse = next((e for e in (location.evses if location else None) or () if same_id(e.uid, session.evse_uid)), None)
        connector = next((c for c in evse.connectors if same_id(c.id, session.connector_id)), None) if evse else None
        if location is None or evse is None or connector is None:
            return None
        return _Spot(location, evse, connector)

    async def _profile(self, cpo: tuple[str, str], session_id: str) -> ChargingProfile | None:
        stored = await self.store.get_state(_PROFILES, _key(*cpo, session_id))
        return None if stored is None else ChargingProfile.model_validate_json(stored)

    async def _running(self, cpo: tuple[str, str], session_id: str) -> bool:
        session = await self._session(cpo, session_id)
        return session is not None and session.status == SessionStatus.ACTIVE

    async def _reservation_for(self, location: Location, evse_uid: str | None, token: Token) -> dict[str, Any] | None:
        """The reservation held for this token at the location (on `evse_uid` when given)."""
        for _, stored in await self.store.list_state(_RESERVATIONS):
            held = json.loads(stored)
            if (
                same_id(held["location_id"], location.id)
                and (evse_uid is None or same_id(held["evse_uid"], evse_uid))
                and same_id(held["token_uid"], token.uid)
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
        await self.store.delete_state(_RESERVATIONS, held["reservation"])
        await self._release(cpo, held, now)

    async def _release(self, cpo: tuple[str, str], held: dict[str, Any], now: datetime) -> None:
        location = await self._location(cpo, held["location_id"])
        evse = next((e for e in (location.evses if location else None) or () if same_id(e.uid, held["evse_uid"])), None)
        if location is not None and evse is not None and evse.status == Status.RESERVED:
            await self._set_status(_Spot(location, evse, evse.connectors[0]), Status.AVAILABLE, now)

    async def _set_status(self, spot: _Spot, status: Status, now: datetime) -> None:
        path = LocationPath(spot.location.country_code, spot.location.party_id, spot.location.id, spot.evse.uid)
        await patch_at(self.store, path, {"status": status.value, "last_updated": format_datetime(now)})

    async def _answer_delay(self) -> None:
        await asyncio.sleep(self.node.settings.sim_answer_delay)


def _spot_ids(spot: _Spot) -> dict[str, str]:
    return {
        "country_code": spot.location.country_code,
        "party_id": spot.location.party_id,
        "location_id": spot.location.id,
        "evse_uid": spot.evse.uid,
        "connector_id": spot.connector.id,
    }


def _result(result: CommandResultType, message: str | None = None) -> CommandResult:
    return CommandResult(result=result, message=[DisplayText(language="en", text=message)] if message else None)


class _Offline(Exception):
    """The Charge Point is offline (EVSE status UNKNOWN)."""


async def _never_answer() -> None:
    """An offline Charge Point: no answer ever comes (the CPO's timeout ends the wait)."""
    await asyncio.Event().wait()


@contextlib.asynccontextmanager
async def _offline_never_answers() -> AsyncIterator[None]:
    """Leave the block (and its lock) when it finds the Charge Point offline, then never answer."""
    try:
        yield
    except _Offline:
        pass
    else:
        return
    await _never_answer()
