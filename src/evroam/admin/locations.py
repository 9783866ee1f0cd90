"""Back-office Locations: PUT, PATCH and GET of our own Locations, EVSEs and Connectors."""

from __future__ import annotations

from fastapi import APIRouter, Request

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX, now, read_object, written_response
from evroam.admin.owner import check_owner, fill_ids, stamp
from evroam.modules.locations.routes import UrlPath, add_depth_routes
from evroam.modules.locations.service import MODULE, LocationPath, get_at, patch_at, put_at
from evroam.node import Node
from evroam.transport.envelope import OcpiResponse

__all__ = ["router"]

router: APIRouter = APIRouter()

_BASE = PREFIX + "/locations/{country_code}/{party_id}/{location_id}"


def _own(node: Node, path: LocationPath) -> LocationPath:
    check_owner(node.parties, MODULE, path.country_code, path.party_id)
    return path


async def get_location(node: AdminNode, path: UrlPath) -> OcpiResponse:
    return OcpiResponse(data_json=await get_at(node.store, _own(node, path)))


async def put_location(node: AdminNode, request: Request, path: UrlPath) -> OcpiResponse:
    """Create or replace the Location, EVSE or Connector at the URL (last_updated filled when absent)."""
    _own(node, path)
    body = await read_object(request, node)
    if path.evse_uid is None:
        fill_ids(body, {"country_code": path.country_code, "party_id": path.party_id, "id": path.location_id})
    stamp(body, now(), nested=True)
    written = await put_at(node.store, path, body)
    return written_response(await get_at(node.store, path), written)


async def patch_location(node: AdminNode, request: Request, path: UrlPath) -> OcpiResponse:
    """Change some fields, e.g. an EVSE's status with just `{"status": "CHARGING"}`: the node stamps
    last_updated, and the service moves the EVSE's and Location's along (mod_locations_patch_method)."""
    _own(node, path)
    body = await read_object(request, node)
    stamp(body, now(), nested=True)
    written = await patch_at(node.store, path, body)
    return written_response(await get_at(node.store, path), written)


add_depth_routes(router, _BASE, {"GET": get_location, "PUT": put_location, "PATCH": patch_location})
