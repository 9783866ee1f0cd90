"""Locations URLs at three depths: `{base}/{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from evroam.modules.locations.service import LocationPath

__all__ = ["UrlPath", "add_depth_routes"]


async def _url_path(
    country_code: str, party_id: str, location_id: str, evse_uid: str | None = None, connector_id: str | None = None
) -> LocationPath:
    # async, though it awaits nothing: FastAPI would run a plain function in a worker thread.
    return LocationPath(country_code, party_id, location_id, evse_uid, connector_id)


UrlPath = Annotated[LocationPath, Depends(_url_path)]
"""Dependency: the Location, EVSE or Connector a URL names."""


def add_depth_routes(router: APIRouter, base: str, handlers: dict[str, Callable[..., Any]]) -> None:
    """Mount each method's handler at the Location, EVSE and Connector depth of `base`."""
    for route in (base, base + "/{evse_uid}", base + "/{evse_uid}/{connector_id}"):
        for method, handler in handlers.items():
            router.add_api_route(route, handler, methods=[method])
