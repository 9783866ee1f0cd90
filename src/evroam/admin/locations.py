"""Back-office Locations: PUT, PATCH and GET of our own Locations, EVSEs and Connectors."""

from __future__ import annotations

from fastapi import APIRouter, Request

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX, now, read_object, written_response
from evroam.admin.owner import check_owner, fill_ids, stamp
from evroam.modules.locations.service import MODULE, LocationPath, get_at, patch_at, put_at
from evroam.node import Node
from evroam.transport.envelope import OcpiResponse

__all__ = ["router"]

router: APIRouter = APIRouter()

_BASE = PREFIX + "/locations/{country_code}/{party_id}/{location_id}"


def _path(
    node: Node, country_code: str, party_id: str, location_id: str, evse_uid: str | None, connector_id: str | None
) -> LocationPath:
    check_owner(node.parties, MODULE, country_code, party_id)
    return LocationPath(country_code, party_id, location_id, evse_uid, connector_id)


async def get_location(
    node: AdminNode,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> OcpiResponse:
    path = _path(node, country_code, party_id, location_id, evse_uid, connector_id)
    return OcpiResponse(data_json=await get_at(node.store, path))


async def put_location(
    node: AdminNode,
    request: Request,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> OcpiResponse:
    """Create or replace the Location, EVSE or Connector at the URL (last_updated filled when absent)."""
    path = _path(node, country_code, party_id, location_id, evse_uid, connector_id)
    body = await read_object(request, node)
    if evse_uid is None:
        fill_ids(body, {"country_code": country_code, "party_id": party_id, "id": location_id})
    stamp(body, now(), nested=True)
    written = await put_at(node.store, path, body)
    return written_response(await get_at(node.store, path), written)


async def patch_location(
    node: AdminNode,
    request: Request,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> OcpiResponse:
    """Change some fields, e.g. an EVSE's status with just `{"status": "CHARGING"}`: the node stamps
    last_updated, and the service moves the EVSE's and Location's along (mod_locations_patch_method)."""
    path = _path(node, country_code, party_id, location_id, evse_uid, connector_id)
    body = await read_object(request, node)
    stamp(body, now(), nested=True)
    written = await patch_at(node.store, path, body)
    return written_response(await get_at(node.store, path), written)


for _route in (_BASE, _BASE + "/{evse_uid}", _BASE + "/{evse_uid}/{connector_id}"):
    router.add_api_route(_route, get_location, methods=["GET"])
    router.add_api_route(_route, put_location, methods=["PUT"])
    router.add_api_route(_route, patch_location, methods=["PATCH"])
