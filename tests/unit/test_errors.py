"""Unit tests for the OCPI status codes and the error tree (status_codes.asciidoc)."""

from __future__ import annotations

import pytest

from evroam import errors
from evroam.errors import (
    ClientError,
    ConnectionProblemError,
    ForwardTimeoutError,
    HubError,
    InvalidJsonError,
    InvalidParametersError,
    MethodNotAllowedError,
    NoMatchingEndpointsError,
    NotEnoughInformationError,
    NotFoundError,
    OcpiError,
    PayloadTooLargeError,
    ServerError,
    StatusCode,
    UnableToUseClientApiError,
    UnauthorizedError,
    UnknownLocationError,
    UnknownReceiverError,
    UnknownTokenError,
    UnsupportedVersionError,
    error_for_status,
)

# The one class answering each OCPI error code, and the HTTP status it defaults to.
EXPECTED: dict[StatusCode, tuple[type[OcpiError], int]] = {
    StatusCode.CLIENT_ERROR: (ClientError, 400),
    StatusCode.INVALID_OR_MISSING_PARAMETERS: (InvalidParametersError, 400),
    StatusCode.NOT_ENOUGH_INFORMATION: (NotEnoughInformationError, 400),
    StatusCode.UNKNOWN_LOCATION: (UnknownLocationError, 404),
    StatusCode.UNKNOWN_TOKEN: (UnknownTokenError, 404),
    StatusCode.SERVER_ERROR: (ServerError, 500),
    StatusCode.UNABLE_TO_USE_CLIENT_API: (UnableToUseClientApiError, 200),
    StatusCode.UNSUPPORTED_VERSION: (UnsupportedVersionError, 200),
    StatusCode.NO_MATCHING_ENDPOINTS: (NoMatchingEndpointsError, 200),
    StatusCode.HUB_ERROR: (HubError, 502),
    StatusCode.UNKNOWN_RECEIVER: (UnknownReceiverError, 404),
    StatusCode.TIMEOUT_ON_FORWARDED_REQUEST: (ForwardTimeoutError, 504),
    StatusCode.CONNECTION_PROBLEM: (ConnectionProblemError, 502),
}

# HTTP-level client errors: no code of their own, they carry 2000.
HTTP_LEVEL: dict[type[OcpiError], int] = {
    InvalidJsonError: 400,
    UnauthorizedError: 401,
    NotFoundError: 404,
    MethodNotAllowedError: 405,
    PayloadTooLargeError: 413,
}


def _all_error_classes() -> list[type[OcpiError]]:
    found: list[type[OcpiError]] = []
    pending: list[type[OcpiError]] = [OcpiError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub.__module__ == errors.__name__ and sub not in found:
                found.append(sub)
                pending.append(sub)
    return found


def test_status_codes_are_exactly_the_2_2_1_list() -> None:
    assert sorted(int(c) for c in StatusCode) == [
        1000,
        2000,
        2001,
        2002,
        2003,
        2004,
        3000,
        3001,
        3002,
        3003,
        4000,
        4001,
        4002,
        4003,
    ]


def test_every_error_status_code_has_an_expected_class() -> None:
    assert set(EXPECTED) == {c for c in StatusCode if c != StatusCode.SUCCESS}


@pytest.mark.parametrize(("code", "cls", "http"), [(c, cls, h) for c, (cls, h) in EXPECTED.items()])
def test_each_status_code_has_its_class_and_http_status(code: StatusCode, cls: type[OcpiError], http: int) -> None:
    assert cls.status_code == code
    assert cls.default_http_status == http
    err = cls()
    assert err.ocpi_status == int(code)
    assert err.http_status == http
    assert err.message == cls.default_message
    assert str(err) == cls.default_message


def test_each_status_code_is_owned_by_exactly_one_class_apart_from_http_level_errors() -> None:
    by_code: dict[StatusCode, list[type[OcpiError]]] = {}
    for cls in _all_error_classes():
        if cls in HTTP_LEVEL:
            continue
        by_code.setdefault(cls.status_code, []).append(cls)
    assert by_code == {code: [cls] for code, (cls, _) in EXPECTED.items()}


@pytest.mark.parametrize(("cls", "http"), list(HTTP_LEVEL.items()))
def test_http_level_client_errors_carry_2000_and_their_http_status(cls: type[OcpiError], http: int) -> None:
    err = cls()
    assert isinstance(err, ClientError)
    assert err.ocpi_status == 2000
    assert err.http_status == http


def test_error_ranges_follow_the_class_tree() -> None:
    for cls in _all_error_classes():
        family = {2: ClientError, 3: ServerError, 4: HubError}[int(cls.status_code) // 1000]
        assert issubclass(cls, family), cls


def test_raise_site_may_override_http_status_message_and_data() -> None:
    err = InvalidParametersError("EVSE is not charging preferences capable", http_status=404, data={"x": 1})
    assert (err.http_status, err.ocpi_status, err.message, err.data) == (
        404,
        2001,
        "EVSE is not charging preferences capable",
        {"x": 1},
    )


def test_all_names_are_exported() -> None:
    for cls in _all_error_classes():
        assert cls.__name__ in errors.__all__


# --- error_for_status -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "cls", "http"), [(c, cls, h) for c, (cls, h) in EXPECTED.items()])
def test_error_for_status_maps_every_known_code_to_its_class(code: StatusCode, cls: type[OcpiError], http: int) -> None:
    err = error_for_status(int(code), "peer said so", http, data={"d": 1})
    assert type(err) is cls
    assert err.ocpi_status == int(code)
    assert err.http_status == http
    assert err.message == "peer said so"
    assert err.data == {"d": 1}


@pytest.mark.parametrize(
    ("code", "cls"),
    [(2900, ClientError), (2999, ClientError), (2005, ClientError), (3901, ServerError), (4950, HubError)],
)
def test_custom_codes_map_to_their_range_class_and_keep_the_code(code: int, cls: type[OcpiError]) -> None:
    err = error_for_status(code, None, 200)
    assert type(err) is cls
    assert err.ocpi_status == code
    assert err.message == cls.default_message


@pytest.mark.parametrize("code", [2000, 2001, 3000, 1000])
def test_http_401_maps_to_unauthorized_whatever_the_code(code: int) -> None:
    err = error_for_status(code, "no", 401)
    assert type(err) is UnauthorizedError
    assert err.http_status == 401
    assert err.ocpi_status == code


def test_http_404_and_405_with_generic_client_error_map_to_not_found_and_method_not_allowed() -> None:
    assert type(error_for_status(2000, None, 404)) is NotFoundError
    assert type(error_for_status(2000, None, 405)) is MethodNotAllowedError
    # A specific code wins over the HTTP status.
    assert type(error_for_status(2004, None, 404)) is UnknownTokenError


@pytest.mark.parametrize("code", [0, 999, 1000, 5000, 9999])
def test_codes_outside_the_error_ranges_map_to_generic_server_error(code: int) -> None:
    err = error_for_status(code, None, 500)
    assert type(err) is ServerError
    assert err.ocpi_status == code
