"""OCPI status codes and the one exception tree that maps them to HTTP (status_codes.asciidoc)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar

__all__ = [
    "ClientError",
    "ConnectionProblemError",
    "ForwardTimeoutError",
    "HubError",
    "InvalidJsonError",
    "InvalidParametersError",
    "MethodNotAllowedError",
    "NoMatchingEndpointsError",
    "NotEnoughInformationError",
    "NotFoundError",
    "OcpiError",
    "PayloadTooLargeError",
    "ServerError",
    "StatusCode",
    "UnableToUseClientApiError",
    "UnauthorizedError",
    "UnknownLocationError",
    "UnknownReceiverError",
    "UnknownTokenError",
    "UnsupportedVersionError",
    "error_for_status",
]


class StatusCode(IntEnum):
    """Every OCPI 2.2.1 status code."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_OR_MISSING_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001
    TIMEOUT_ON_FORWARDED_REQUEST = 4002
    CONNECTION_PROBLEM = 4003


class OcpiError(Exception):
    """An error that is answered with an OCPI envelope; each subclass fixes its status code.

    `http_status` is the class default; a raise site may override it where the spec asks for a
    different HTTP code (e.g. 404 + 2001 for charging preferences on a non-capable EVSE).
    """

    status_code: ClassVar[StatusCode] = StatusCode.CLIENT_ERROR
    default_http_status: ClassVar[int] = 400
    default_message: ClassVar[str] = "Generic client error"

    def __init__(
        self,
        message: str | None = None,
        *,
        http_status: int | None = None,
        data: Any = None,
        ocpi_status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.http_status = http_status if http_status is not None else self.default_http_status
        self.data = data
        # A peer may answer with a code inside this class's range (e.g. a custom 29xx); keep it.
        self.ocpi_status = ocpi_status if ocpi_status is not None else int(self.status_code)
        super().__init__(self.message)


class ClientError(OcpiError):
    """2000: the data sent by the client could not be processed."""


class InvalidParametersError(ClientError):
    """2001: invalid or missing parameters (also: body fields that break the spec's types)."""

    status_code = StatusCode.INVALID_OR_MISSING_PARAMETERS
    default_message = "Invalid or missing parameters"


class NotEnoughInformationError(ClientError):
    """2002: not enough information, e.g. an authorization request without LocationReferences."""

    status_code = StatusCode.NOT_ENOUGH_INFORMATION
    default_message = "Not enough information"


class UnknownLocationError(ClientError):
    """2003: the Location does not exist."""

    status_code = StatusCode.UNKNOWN_LOCATION
    default_http_status = 404
    default_message = "Unknown Location"


class UnknownTokenError(ClientError):
    """2004: the Token does not exist (mod_tokens: real-time authorization answers HTTP 404)."""

    status_code = StatusCode.UNKNOWN_TOKEN
    default_http_status = 404
    default_message = "Unknown Token"


# HTTP-level client errors. The spec gives them no code of their own; they carry 2000 (generic client
# error) in the envelope, which every response has, errors included.
class InvalidJsonError(ClientError):
    """The body is not valid JSON (status_codes: HTTP 400)."""

    default_message = "Request body is not valid JSON"


class UnauthorizedError(ClientError):
    """Missing or unknown credentials token (transport_and_format_authorization_header: HTTP 401)."""

    default_http_status = 401
    default_message = "Unauthorized: missing or unknown credentials token"


class NotFoundError(ClientError):
    """The addressed object or URL does not exist (HTTP 404)."""

    default_http_status = 404
    default_message = "Not found"


class MethodNotAllowedError(ClientError):
    """The method is n/a for this interface, or the credentials state forbids it (HTTP 405)."""

    default_http_status = 405
    default_message = "Method not allowed"


class PayloadTooLargeError(ClientError):
    """The body exceeds the server's limit (HTTP 413)."""

    default_http_status = 413
    default_message = "Request body too large"


class ServerError(OcpiError):
    """3000: generic server error."""

    status_code = StatusCode.SERVER_ERROR
    default_http_status = 500
    default_message = "Generic server error"


# status_codes: a request that is valid JSON and addresses an existing resource is answered HTTP 200 and
# the problem reported in status_code. The credentials failures below are of that kind.
class UnableToUseClientApiError(ServerError):
    """3001: the server cannot use the client's API (e.g. its versions or details GET failed)."""

    status_code = StatusCode.UNABLE_TO_USE_CLIENT_API
    default_http_status = 200
    default_message = "Unable to use the client's API"


class UnsupportedVersionError(ServerError):
    """3002: no common or supported version."""

    status_code = StatusCode.UNSUPPORTED_VERSION
    default_http_status = 200
    default_message = "Unsupported version"


class NoMatchingEndpointsError(ServerError):
    """3003: the client's version details lack endpoints this server requires."""

    status_code = StatusCode.NO_MATCHING_ENDPOINTS
    default_http_status = 200
    default_message = "No matching endpoints or expected endpoints missing"


class HubError(OcpiError):
    """4000: generic hub error."""

    status_code = StatusCode.HUB_ERROR
    default_http_status = 502
    default_message = "Hub error"


class UnknownReceiverError(HubError):
    """4001: the party in the OCPI-to headers is unknown to the hub."""

    status_code = StatusCode.UNKNOWN_RECEIVER
    default_http_status = 404
    default_message = "Unknown receiver"


class ForwardTimeoutError(HubError):
    """4002: the forwarded request timed out."""

    status_code = StatusCode.TIMEOUT_ON_FORWARDED_REQUEST
    default_http_status = 504
    default_message = "Timeout on forwarded request"


class ConnectionProblemError(HubError):
    """4003: the receiving party is not connected."""

    status_code = StatusCode.CONNECTION_PROBLEM
    default_http_status = 502
    default_message = "Connection problem: receiving party is not connected"


_BY_CODE: dict[int, type[OcpiError]] = {
    int(cls.status_code): cls
    for cls in (
        ClientError,
        InvalidParametersError,
        NotEnoughInformationError,
        UnknownLocationError,
        UnknownTokenError,
        ServerError,
        UnableToUseClientApiError,
        UnsupportedVersionError,
        NoMatchingEndpointsError,
        HubError,
        UnknownReceiverError,
        ForwardTimeoutError,
        ConnectionProblemError,
    )
}
_BY_RANGE: dict[int, type[OcpiError]] = {2: ClientError, 3: ServerError, 4: HubError}


def error_for_status(ocpi_status: int, message: str | None, http_status: int, data: Any = None) -> OcpiError:
    """Map a peer's non-success answer back onto our tree (custom codes map to their range's class)."""
    cls = _BY_CODE.get(ocpi_status) or _BY_RANGE.get(ocpi_status // 1000, ServerError)
    if http_status == 401:
        cls = UnauthorizedError
    elif http_status == 405 and cls is ClientError:
        cls = MethodNotAllowedError
    elif http_status == 404 and cls is ClientError:
        cls = NotFoundError
    return cls(message, http_status=http_status, data=data, ocpi_status=ocpi_status)
