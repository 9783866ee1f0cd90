"""What a CPO asks of its Charge Points: the interface a bridge (OCPP, a vendor API) or the simulator implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from evroam.modules.chargingprofiles.models import (
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfileResult,
    ClearProfileResult,
)
from evroam.modules.commands.models import CommandResult, ReserveNow, StartSession, UnlockConnector
from evroam.modules.sessions.models import Session

__all__ = ["ChargePoints", "Order", "Reservation"]


@dataclass(frozen=True, slots=True)
class Order:
    """One request for a Charge Point. `id` is unique per request and stays the same when a restarted node
    asks again for a request it had not finished, so an adapter can make every call idempotent by it
    (the simulator names the session a START_SESSION creates after it)."""

    id: str
    cpo: tuple[str, str]
    sender: tuple[str, str]
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation as the Charge Point knows it. `id` is the CPO's own, unique across senders: the
    `reservation_id` of a ReserveNow never reaches a Charge Point (mod_commands_reservenow_object)."""

    id: str
    request: ReserveNow


class ChargePoints(Protocol):
    """Carries out requests on the CPO's Charge Points and answers with their result.

    Every method may take its time (the node gives up after its command timeout and reports TIMEOUT) and
    may be called again with the same `Order` after a restart.
    """

    async def start_session(self, order: Order, request: StartSession) -> CommandResult: ...

    async def stop_session(self, order: Order, session: Session) -> CommandResult: ...

    async def reserve_now(self, order: Order, reservation: Reservation) -> CommandResult:
        """Make or replace (same `reservation.id`) a reservation."""
        ...

    async def cancel_reservation(self, order: Order, reservation: Reservation) -> CommandResult: ...

    async def unlock_connector(self, order: Order, request: UnlockConnector) -> CommandResult: ...

    async def set_charging_profile(
        self, order: Order, session: Session, profile: ChargingProfile
    ) -> ChargingProfileResult: ...

    async def get_active_profile(self, order: Order, session: Session, duration: int) -> ActiveChargingProfileResult:
        """The profile the Charge Point plans for the next `duration` seconds."""
        ...

    async def clear_profile(self, order: Order, session: Session) -> ClearProfileResult: ...
