"""HTTP handlers of the Locations Receiver interface (eMSP, NSP): GET, PUT, PATCH at three depths."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.modules.http import Ctx, ModuleCtx, object_response
from evroam.modules.locations.routes import UrlPath, add_depth_routes
from evroam.modules.locations.service import LocationPath, get_at, patch_at, put_at
from evroam.modules.objects import check_party
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = APIRouter()


def _routing(ctx: ModuleCtx, path: LocationPath) -> dict[str, str]:
    """Checks the URL's party is the caller's (404 otherwise) and gives the reply's routing headers."""
    check_party(path.country_code, path.party_id, ctx.caller_parties)
    own = next(iter(ctx.own_parties(Role.EMSP, Role.NSP, Role.NAP)), None)
    return ctx.reply_routing(own, (path.country_code.upper(), path.party_id.upper()))


async def get_location(ctx: Ctx, path: UrlPath) -> OcpiResponse:
    headers = _routing(ctx, path)
    return object_response(await get_at(ctx.node.store, path), headers=headers)


async def put_location(ctx: Ctx, path: UrlPath) -> OcpiResponse:
    headers = _routing(ctx, path)
    written = await put_at(ctx.node.store, path, await ctx.body())
    return object_response(None, http_status=written.http_status, message=written.message, headers=headers)


async def patch_location(ctx: Ctx, path: UrlPath) -> OcpiResponse:
    headers = _routing(ctx, path)
    written = await patch_at(ctx.node.store, path, await ctx.body())
    return object_response(None, message=written.message, headers=headers)


add_depth_routes(
    router,
    "/ocpi/{version}/receiver/locations/{country_code}/{party_id}/{location_id}",
    {"GET": get_location, "PUT": put_location, "PATCH": patch_location},
)
