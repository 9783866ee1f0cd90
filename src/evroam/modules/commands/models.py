"""Canonical OCPI 2.2.1 Commands models: the command bodies, CommandResponse, CommandResult and enums."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Strict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from evroam.modules.tokens.models import Token
from evroam.types import URL, CiString36, DateTime, DisplayText, OcpiModel

__all__ = [
    "COMMAND_BODIES",
    "CancelReservation",
    "CommandResponse",
    "CommandResponseType",
    "CommandResult",
    "CommandResultType",
    "CommandType",
    "ReserveNow",
    "StartSession",
    "StopSession",
    "UnlockConnector",
]

# A JSON integer: neither "30" nor true nor 30.0 is accepted where the spec says int.
_Int = Annotated[int, Strict()]


class CommandType(StrEnum):
    """The command requested, the last segment of the command URL (mod_commands_commandtype_enum)."""

    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(StrEnum):
    """The CPO's synchronous answer to a command request (mod_commands_commandresponsetype_enum)."""

    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    """The Charge Point's asynchronous result of a command (mod_commands_commandresulttype_enum)."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class CommandResponse(OcpiModel):
    """Synchronous response data of a command POST (mod_commands_commandresponse_object)."""

    result: CommandResponseType
    # OCPI 2.2.1 mod_commands_commandresponse_object: timeout is an int, in seconds, that the eMSP waits for
    # the CommandResult before assuming it will never come.
    timeout: _Int
    message: list[DisplayText] | None = None


class CommandResult(OcpiModel):
    """Asynchronous result POSTed to the command's response_url (mod_commands_commandresult_object)."""

    result: CommandResultType
    message: list[DisplayText] | None = None


class CancelReservation(OcpiModel):
    """Body of a CANCEL_RESERVATION command (mod_commands_cancelreservation_object)."""

    response_url: URL
    reservation_id: CiString36


class ReserveNow(OcpiModel):
    """Body of a RESERVE_NOW command (mod_commands_reservenow_object)."""

    response_url: URL
    token: Token
    expiry_date: DateTime
    reservation_id: CiString36
    location_id: CiString36
    evse_uid: CiString36 | None = None
    authorization_reference: CiString36 | None = None


class StartSession(OcpiModel):
    """Body of a START_SESSION command (mod_commands_startsession_object)."""

    response_url: URL
    token: Token
    location_id: CiString36
    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    authorization_reference: CiString36 | None = None

    @model_validator(mode="after")
    def _connector_needs_evse(self) -> Self:
        # OCPI 2.2.1 mod_commands_startsession_object: evse_uid is "Required when connector_id is set".
        if self.connector_id is not None and self.evse_uid is None:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", "evse_uid is required when connector_id is set"),
                        loc=("evse_uid",),
                        input=None,
                    )
                ],
            )
        return self


class StopSession(OcpiModel):
    """Body of a STOP_SESSION command (mod_commands_stopsession_object)."""

    response_url: URL
    session_id: CiString36


class UnlockConnector(OcpiModel):
    """Body of an UNLOCK_CONNECTOR command (mod_commands_unlockconnector_object)."""

    response_url: URL
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36


# OCPI 2.2.1 mod_commands_cpo_post_request_body: the body of POST {commands}/{command} per command.
COMMAND_BODIES: dict[CommandType, type[OcpiModel]] = {
    CommandType.CANCEL_RESERVATION: CancelReservation,
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
}
