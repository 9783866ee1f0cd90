"""What the back-office handlers share: the request body, the time the node stamps, the answer."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from evroam.errors import InvalidParametersError
from evroam.modules.objects import Written
from evroam.node import Node
from evroam.transport.envelope import OcpiResponse
from evroam.transport.validation import read_json
from evroam.types import format_datetime, utcnow

__all__ = ["PREFIX", "now", "read_object", "written_response"]

PREFIX = "/admin/api"


async def read_object(request: Request, node: Node) -> dict[str, Any]:
    """The JSON object in the body (400 for invalid JSON, 2001 for anything but an object)."""
    data = await read_json(request, node.settings.max_body_bytes)
    if not isinstance(data, dict):
        raise InvalidParametersError(f"request body must be a JSON object, got {type(data).__name__}")
    return data


def now() -> str:
    """The current UTC time as an OCPI DateTime: the last_updated the node sets as data owner."""
    return format_datetime(utcnow())


def written_response(
    stored: bytes, written: Written, *, headers: dict[str, str] | None = None, message: str | None = None
) -> OcpiResponse:
    """A write's answer: 201 when created, 200 otherwise, with the object as now stored (last_updated
    included), so the back office sees what the node keeps and serves. `message` replaces the write's own."""
    return OcpiResponse(
        data_json=stored,
        http_status=written.http_status,
        status_message=message if message is not None else written.message,
        headers=headers,
    )
