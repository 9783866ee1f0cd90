"""The built-in Charge Points of a CPO node: they carry out commands and charging profiles on the node's own
Locations, start and stop sessions, meter them as they charge, and keep what they know in the store.

Realistic where OCPI sees it: an EVSE answers after `sim_answer_delay`; one that is INOPERATIVE, OUTOFORDER,
BLOCKED, PLANNED or REMOVED answers EVSE_INOPERATIVE, one that is CHARGING (or reserved for someone else)
EVSE_OCCUPIED, and one whose status is UNKNOWN (offline) never answers, so the CPO reports TIMEOUT.
Sessions started by command get `auth_method` COMMAND, the command's token and `authorization_reference`.
A driver can also hold a card to a Charge Point (`tap`): the CPO authorizes the token (asking its eMSP in
real time when the token's whitelist says so) and the session starts with `auth_method` AUTH_REQUEST or
WHITELIST; the same card again stops it. Every `sim_meter_interval` a session gains energy at the power
its car takes (`evroam.sim.car`: a ramp, a taper as the battery fills), capped by the connector and by the
session's charging profile; the EVSE status follows. The CPO bills them as it bills any of its sessions
(`settle_session`: running total_cost, the CDR once COMPLETED).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from evroam.chargepoints.adapter import Order, Reservation
from evroam.chargepoints.profiles import UPDATE_DURATION, active_profile_changed
from evroam.modules.cdrs.models import AuthMethod
from evroam.modules.chargingprofiles.models import (
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfileResult,
    ChargingProfileResultType,
    ClearProfileResult,
)
from evroam.modules.commands.models import CommandResult, CommandResultType, StartSession, UnlockConnector
from evroam.modules.locations.models import Status
from evroam.modules.locations.service import LocationPath
from evroam.modules.objects import same_id
from evroam.modules.sessions.models import Session, SessionStatus
from evroam.modules.tokens.authorizer import Authorization, Source, authorize
from evroam.modules.tokens.models import LocationReferences, TokenType
from evroam.sim.power import active_profile
from evroam.sim.stations import (
    OUT_OF_SERVICE,
    PROFILES,
    RESERVATIONS,
    RUNNING,
    Offline,
    Start,
    Stations,
    session_key,
    spot_ids,
)
from evroam.types import DisplayText, format_datetime, utcnow

if TYPE_CHECKING:
    pass

__all__ = ["Simulator", "Tap", "TapAction"]

log = logging.getLogger("evroam.sim")


class TapAction(StrEnum):
    STARTED = "STARTED"
    STOPPED = "STOPPED"
    REFUSED = "REFUSED"


@dataclass(frozen=True, slots=True)
class Tap:
    """What holding a token to a Charge Point did: the session it started or stopped, or why it did neither;
    `authorization` is the CPO's decision when it was asked."""

    action: TapAction
    session_id: str | None = None
    authorization: Authorization | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"action": self.action.value}
        if self.session_id is not None:
            data["session_id"] = self.session_id
        if self.authorization is not None:
            data["authorization"] = self.authorization.to_dict()
        if self.reason:
            data["reason"] = self.reason
        return data


# mod_cdrs_authmethod_enum: AUTH_REQUEST when the eMSP was asked, WHITELIST when the CPO decided alone.
_AUTH_METHOD: Final = {Source.REAL_TIME: AuthMethod.AUTH_REQUEST}


class Simulator(Stations):
    """`ChargePoints` for every Location of the node's CPO parties."""

    # -- commands ---------------------------------------------------------------------------------------
    async def start_session(self, order: Order, request: StartSession) -> CommandResult:
        await self._answer_delay()
        async with _offline_never_answers(), self._lock:
            if await self._session(order.cpo, order.id) is not None:
                return _result(CommandResultType.ACCEPTED)  # started before a restart: same order, same session
            location = await self._location(order.cpo, request.location_id)
            if location is None:
                return _result(CommandResultType.FAILED, "the location is gone")
            held = await self._reservation_for(location, request.evse_uid, request.token.uid)
            # Without an EVSE named, the driver's reservation at this location says which one.
            evse_uid = request.evse_uid or (held["evse_uid"] if held else None)
            spot, refusal = self._choose(location, evse_uid, request.connector_id, held)
            if spot is None:
                return _result(refusal)
            session_id = held["session_id"] if held else order.id
            authorization = request.authorization_reference or (held or {}).get("authorization_reference")
            await self._begin(
                Start(order.cpo, session_id, spot, request.token, AuthMethod.COMMAND, authorization), held
            )
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
                raise Offline
            await self._finish(current, spot)
        return _result(CommandResultType.ACCEPTED)

    async def unlock_connector(self, order: Order, request: UnlockConnector) -> CommandResult:
        await self._answer_delay()
        location = await self._location(order.cpo, request.location_id)
        evse = next((e for e in (location.evses if location else None) or () if same_id(e.uid, request.evse_uid)), None)
        if evse is None:
            return _result(CommandResultType.FAILED, "the EVSE is gone")
        if evse.status == Status.UNKNOWN:
            await _never_answer()
        if evse.status in OUT_OF_SERVICE:
            return _result(CommandResultType.EVSE_INOPERATIVE)
        return _result(CommandResultType.ACCEPTED)

    async def reserve_now(self, order: Order, reservation: Reservation) -> CommandResult:
        await self._answer_delay()
        request = reservation.request
        async with _offline_never_answers(), self._lock:
            location = await self._location(order.cpo, request.location_id)
            if location is None:
                return _result(CommandResultType.FAILED, "the location is gone")
            stored = await self.store.get_state(RESERVATIONS, reservation.id)
            before: dict[str, Any] | None = json.loads(stored) if stored else None
            spot, refusal = self._choose(location, request.evse_uid, None, before, reserving=True)
            if spot is None:
                return _result(refusal)
            now = utcnow()
            session_id = before["session_id"] if before else reservation.id
            authorization = request.authorization_reference
            start = Start(order.cpo, session_id, spot, request.token, AuthMethod.COMMAND, authorization)
            session = await self._new_session(start, now)
            await self._save(session.model_copy(update={"status": SessionStatus.RESERVATION}))
            held = {
                "reservation": reservation.id,
                "session_id": session_id,
                "token_uid": request.token.uid,
                "expiry_date": format_datetime(request.expiry_date),
                "authorization_reference": request.authorization_reference,
                **spot_ids(spot),
            }
            await self.store.put_state(RESERVATIONS, reservation.id, json.dumps(held), now)
            if before and (before["location_id"], before["evse_uid"]) != (spot.location.id, spot.evse.uid):
                await self._release(order.cpo, before, now)
            await self._set_status(spot, Status.RESERVED, now)
        return _result(CommandResultType.ACCEPTED)

    async def cancel_reservation(self, order: Order, reservation: Reservation) -> CommandResult:
        await self._answer_delay()
        async with self._lock:
            stored = await self.store.get_state(RESERVATIONS, reservation.id)
            if stored is None:
                return _result(CommandResultType.UNKNOWN_RESERVATION)
            await self._end_reservation(order.cpo, json.loads(stored), utcnow())
        return _result(CommandResultType.ACCEPTED)

    # -- drivers at the Charge Point ------------------------------------------------------------------------
    async def tap(
        self,
        cpo: tuple[str, str],
        location_id: str,
        evse_uid: str,
        uid: str,
        token_type: TokenType = TokenType.RFID,
        connector_id: str | None = None,
    ) -> Tap:
        """A driver holds a token (an RFID card, mostly) to the reader of EVSE `evse_uid`: the session this
        token runs there stops; otherwise the CPO authorizes the token for this EVSE and, when it may
        charge, a session starts (on the driver's reservation there, if any)."""
        async with self._lock:
            running = await self._running_at(cpo, location_id, evse_uid, uid, token_type)
            if running is not None:
                await self._finish(running, await self._spot_of(running))
                return Tap(TapAction.STOPPED, running.id)
            refusal = await self._spot_refusal(cpo, location_id, evse_uid, connector_id, uid)
        if refusal:
            return Tap(TapAction.REFUSED, reason=refusal)
        # The driver waits while the CPO asks the eMSP: not under the lock, other Charge Points go on.
        where = LocationReferences(location_id=location_id, evse_uids=[evse_uid])
        answer = await authorize(self.node, uid, token_type, where)
        if not answer.accepted or answer.token is None:
            why = answer.reason or f"the eMSP answered {answer.allowed.value if answer.allowed else 'no'}"
            return Tap(TapAction.REFUSED, authorization=answer, reason=why)
        async with self._lock:
            refusal = await self._spot_refusal(cpo, location_id, evse_uid, connector_id, uid)
            location = await self._location(cpo, location_id)
            if refusal or location is None:
                return Tap(TapAction.REFUSED, authorization=answer, reason=refusal or "the location is gone")
            held = await self._reservation_for(location, evse_uid, answer.token.uid)
            spot, _ = self._choose(location, evse_uid, connector_id, held)
            assert spot is not None  # _spot_refusal found it free a moment ago, under the same lock
            session_id = held["session_id"] if held else str(uuid.uuid4())
            method = _AUTH_METHOD.get(answer.source, AuthMethod.WHITELIST)
            await self._begin(Start(cpo, session_id, spot, answer.token, method, answer.authorization_reference), held)
        return Tap(TapAction.STARTED, session_id, answer)

    async def set_evse_status(self, cpo: tuple[str, str], location_id: str, evse_uid: str, status: Status) -> None:
        """An EVSE changes status by itself (it breaks down, it is repaired), as its Charge Point reports."""
        async with self._lock:
            await self._patch_status(LocationPath(cpo[0], cpo[1], location_id, evse_uid), status, utcnow())

    async def _running_at(
        self, cpo: tuple[str, str], location_id: str, evse_uid: str, uid: str, token_type: TokenType
    ) -> Session | None:
        for key, stored in await self.store.list_state(RUNNING):
            country_code, party_id, session_id = key.split("/", 2)
            running = json.loads(stored)
            # Where each session runs is in its state: only the one at this EVSE is read.
            if (country_code, party_id) != (cpo[0].upper(), cpo[1].upper()) or not (
                same_id(running["location_id"], location_id) and same_id(running["evse_uid"], evse_uid)
            ):
                continue
            session = await self._session(cpo, session_id)
            if session is not None and same_id(session.cdr_token.uid, uid) and session.cdr_token.type == token_type:
                return session
        return None

    async def _spot_refusal(
        self, cpo: tuple[str, str], location_id: str, evse_uid: str, connector_id: str | None, uid: str
    ) -> str:
        """Why a session cannot start at this EVSE now ("" when it can): gone, in use, out of order, offline."""
        location = await self._location(cpo, location_id)
        if location is None:
            return f"no location {location_id!r}"
        if not any(same_id(e.uid, evse_uid) for e in location.evses or ()):
            return f"no EVSE {evse_uid!r} at {location_id}"
        held = await self._reservation_for(location, evse_uid, uid)
        try:
            spot, refusal = self._choose(location, evse_uid, connector_id, held)
        except Offline:
            return "the Charge Point is offline"
        return "" if spot is not None else f"the EVSE answers {refusal.value}"

    # -- charging profiles ----------------------------------------------------------------------------------
    async def set_charging_profile(
        self, order: Order, session: Session, profile: ChargingProfile
    ) -> ChargingProfileResult:
        await self._answer_delay()
        async with self._lock:
            if not await self._running(order.cpo, session.id):
                return ChargingProfileResult(result=ChargingProfileResultType.REJECTED)
            now = utcnow()
            await self.store.put_state(PROFILES, session_key(*order.cpo, session.id), profile.to_json().decode(), now)
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
            if not await self.store.delete_state(PROFILES, session_key(*order.cpo, session.id)):
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
        # One session at a time under the lock: drivers and commands get their turn between them.
        for key, _ in await self.store.list_state(RUNNING):
            country_code, party_id, session_id = key.split("/", 2)
            async with self._lock:
                await self._meter_one((country_code, party_id), session_id, now or utcnow())
        for reservation, stored in await self.store.list_state(RESERVATIONS):
            held = json.loads(stored)
            at = now or utcnow()
            if datetime.fromisoformat(held["expiry_date"].replace("Z", "+00:00")) > at:
                continue
            async with self._lock:
                if await self.store.get_state(RESERVATIONS, reservation) is not None:  # not used or canceled since
                    await self._end_reservation((held["country_code"], held["party_id"]), held, at)

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

    async def _answer_delay(self) -> None:
        await asyncio.sleep(self.node.settings.sim_answer_delay)


def _result(result: CommandResultType, message: str | None = None) -> CommandResult:
    return CommandResult(result=result, message=[DisplayText(language="en", text=message)] if message else None)


async def _never_answer() -> None:
    """An offline Charge Point: no answer ever comes (the CPO's timeout ends the wait)."""
    await asyncio.Event().wait()


@contextlib.asynccontextmanager
async def _offline_never_answers() -> AsyncIterator[None]:
    """Leave the block (and its lock) when it finds the Charge Point offline, then never answer."""
    try:
        yield
    except Offline:
        pass
    else:
        return
    await _never_answer()
