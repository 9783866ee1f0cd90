"""HTTP handlers of the Locations Receiver interface (eMSP, NSP): GET, PUT, PATCH at three depths."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.modules.http import Ctx, ModuleCtx, object_response
from evroam.modules.locations.service import LocationPath, get_at, patch_at, put_at
from evroam.modules.objects import check_party
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = APIRouter()

_BASE = "/ocpi/{version}/receiver/locations/{country_code}/{party_id}/{location_id}"
_PATHS = (_BASE, _BASE + "/{evse_uid}", _BASE + "/{evse_uid}/{connector_id}")


def _path(
    ctx: ModuleCtx, country_code: str, party_id: str, location_id: str, evse_uid: str | None, connector_id: str | None
) -> LocationPath:
    check_party(country_code, party_id, ctx.caller_parties)
    return LocationPath(country_code, party_id, location_id, evse_uid, connector_id)


def _routing(ctx: ModuleCtx, path: LocationPath) -> dict[str, str]:
    own = next(iter(ctx.own_parties(Role.EMSP, Role.NSP, Role.NAP)), None)
    return ctx.reply_routing(own, (path.country_code.upper(), path.party_id.upper()))


async def get_location(
    ctx: Ctx,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> OcpiResponse:
    path = _path(ctx, country_code, party_id, location_id, evse_uid, connector_id)
    return object_response(await get_at(ctx.node.store, path), headers=_routing(ctx, path))


async def put_location(
    ctx: Ctx,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> OcpiResponse:
    path = _path(ctx, country_code, party_id, location_id, evse_uid, connector_id)
    written = await put_at(ctx.node.store, path, await ctx.body())
    return object_response(None, http_status=written.http_status, message=written.message, headers=_routing(ctx, path))


async def patch_location(
    ctx: Ctx,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> OcpiResponse:
    path = _path(ctx, country_code, party_id, location_id, evse_uid, connector_id)
    written = await patch_at(ctx.node.store, path, await ctx.body())
    return object_response(None, message=written.message, headers=_routing(ctx, path))


for _route in _PATHS:
    router.add_api_route(_route, get_location, methods=["GET"])
    router.add_api_route(_route, put_location, methods=["PUT"])
    router.add_api_route(_route, patch_location, methods=["PATCH"])
