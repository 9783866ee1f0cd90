"""Locations Receiver pushes answered straight from the ASGI app.

A CPO pushes every EVSE and Connector status change as a request of its own, so an eMSP takes hundreds a
second from a busy network. For such a small request the framework's middleware, routing and
dependency resolution cost as much CPU as storing the change. These requests skip them: the app
(`evroam.app.EvroamApp`) asks `direct_route` first, and a match is served by the same handlers, with
the same authentication, context, errors, envelope and X-Request-ID/X-Correlation-ID headers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from evroam.errors import OcpiError
from evroam.modules.http import ModuleCtx, module_context
from evroam.modules.locations.receiver import patch_location, put_location
from evroam.modules.locations.service import LocationPath
from evroam.transport.envelope import OcpiResponse
from evroam.transport.errors import ocpi_error_response
from evroam.types import InterfaceRole, ModuleID

if TYPE_CHECKING:
    from evroam.node import Node

__all__ = ["DIRECT_ROUTE_KEY", "direct_route", "serve_direct"]

DIRECT_ROUTE_KEY: Final = "evroam.direct_route"
"""Scope entry holding the route `direct_route` found, for `serve_direct`."""

Handler = Callable[[ModuleCtx, LocationPath], Awaitable[OcpiResponse]]

# What the framework's routes match: every parameter is one non-empty path segment.
_LOCATIONS: Final = re.compile(
    r"/ocpi/(?P<version>[^/]+)/receiver/locations/(?P<country_code>[^/]+)/(?P<party_id>[^/]+)"
    r"/(?P<location_id>[^/]+)(?:/(?P<evse_uid>[^/]+)(?:/(?P<connector_id>[^/]+))?)?"
)
_HANDLERS: Final[dict[str, Handler]] = {"PUT": put_location, "PATCH": patch_location}
_MOUNTED: Final = (ModuleID.LOCATIONS, InterfaceRole.RECEIVER)


def direct_route(node: Node, scope: Scope) -> bool:
    """Whether the request is one served directly; if so its route is left in the scope."""
    if scope["type"] != "http":
        return False
    handler = _HANDLERS.get(scope["method"])
    if handler is None:
        return False
    match = _LOCATIONS.fullmatch(scope["path"])
    if match is None or _MOUNTED not in node.mounted:
        return False
    scope[DIRECT_ROUTE_KEY] = (handler, match.groupdict())
    return True


async def serve_direct(node: Node, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a request `direct_route` took (behind the app's request-id middleware)."""
    handler, params = scope[DIRECT_ROUTE_KEY]
    request = Request(scope, receive)
    version = params.pop("version")
    try:
        caller = await node.auth.caller(request.headers.get("authorization"), registration_allowed=False)
        ctx = module_context(node, request, version, caller)
        response: OcpiResponse = await handler(ctx, LocationPath(**params))
    except OcpiError as exc:
        response = ocpi_error_response(request, exc)
    await response(scope, receive, send)
