"""One place that renders every error as an OCPI envelope (also 401/404/405 and validation errors)."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from evroam.errors import OcpiError, StatusCode
from evroam.transport.envelope import OcpiResponse
from evroam.transport.validation import json_pointer

__all__ = ["install_error_handlers", "ocpi_error_response"]

log = logging.getLogger("evroam.transport")

_HTTP_MESSAGES = {
    404: "Not found: no such endpoint",
    405: "Method not allowed on this endpoint",
}


async def _ocpi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OcpiError)
    return ocpi_error_response(request, exc)


def ocpi_error_response(request: Request, exc: OcpiError) -> OcpiResponse:
    """The envelope answering `exc` (logged; at WARNING for server errors)."""
    level = logging.WARNING if exc.http_status >= 500 else logging.INFO
    log.log(
        level,
        "%s %s -> %d/%d: %s",
        request.method,
        request.url.path,
        exc.http_status,
        exc.ocpi_status,
        exc.message,
    )
    return OcpiResponse(exc.data, status_code=exc.ocpi_status, status_message=exc.message, http_status=exc.http_status)


async def _request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in list(exc.errors())[:20]:
        loc = list(err.get("loc", ()))
        where = loc[0] if loc else "request"
        problems.append(f"{where} {json_pointer(loc[1:]) or ''}: {err.get('msg')}".replace(" :", ":"))
    message = "Invalid or missing parameters: " + "; ".join(problems)
    return OcpiResponse(
        None, status_code=StatusCode.INVALID_OR_MISSING_PARAMETERS, status_message=message, http_status=400
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    return OcpiResponse(
        None,
        status_code=StatusCode.CLIENT_ERROR,
        status_message=message,
        http_status=exc.status_code,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes an envelope; nothing falls back to the framework's own error bodies."""
    app.add_exception_handler(OcpiError, _ocpi_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(HTTPException, _http_error)
