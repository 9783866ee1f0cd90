"""HTTP handlers of the Locations Sender interface (CPO): the list and one Location, EVSE or Connector."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.errors import NotFoundError
from evroam.modules.http import Ctx, ModuleCtx, object_response
from evroam.modules.locations.service import MODULE, LocationPath, get_at
from evroam.modules.locations.visibility import visible_unpublished
from evroam.modules.senders import owned_list
from evroam.store.interface import ObjectKey
from evroam.transport.envelope import OcpiResponse
from evroam.types import ModuleID, Role

__all__ = ["router"]

router: APIRouter = APIRouter()

_OWNERS = (Role.CPO,)


async def _visibility(ctx: ModuleCtx, owners: tuple[tuple[str, str], ...]) -> tuple[ObjectKey, ...]:
    return await visible_unpublished(ctx.node.store, owners, ctx.caller_parties)


owned_list(router, ModuleID.LOCATIONS, _OWNERS, visibility=_visibility, visibility_reads=(ModuleID.TOKENS,))

_BASE = "/ocpi/{version}/sender/locations/{location_id}"


async def get_one(
    ctx: Ctx, location_id: str, evse_uid: str | None = None, connector_id: str | None = None
) -> OcpiResponse:
    """mod_locations_get_object: a Location of one of our CPO parties, or one of its EVSEs or Connectors."""
    for party in ctx.own_parties(*_OWNERS):
        obj = await ctx.node.store.get_object(MODULE, ObjectKey(party.country_code, party.party_id, location_id))
        if obj is None:
            continue
        if not obj.published:
            visible = await visible_unpublished(
                ctx.node.store, ((party.country_code, party.party_id),), ctx.caller_parties
            )
            if obj.key not in visible:
                break
        path = LocationPath(party.country_code, party.party_id, location_id, evse_uid, connector_id)
        data = await get_at(ctx.node.store, path)
        return object_response(data, headers=ctx.reply_routing(party, None))
    raise NotFoundError(f"location {location_id!r} not found")


for _route in (_BASE, _BASE + "/{evse_uid}", _BASE + "/{evse_uid}/{connector_id}"):
    router.add_api_route(_route, get_one, methods=["GET"])
