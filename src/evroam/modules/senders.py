"""HTTP handlers of Sender list interfaces: the owner's objects, paginated, filtered to what the caller may see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter

from evroam.modules.http import Ctx, ModuleCtx, list_response, page_of
from evroam.store.interface import ListQuery, ObjectKey
from evroam.transport.envelope import OcpiResponse
from evroam.types import ModuleID, Role

__all__ = ["LIST_SOURCES", "Visibility", "owned_list"]

Visibility = Callable[[ModuleCtx, tuple[tuple[str, str], ...]], Awaitable[tuple[ObjectKey, ...]]]
"""Which unpublished objects of the given owners the caller may see (locations' publish_allowed_to)."""

LIST_SOURCES: dict[ModuleID, tuple[str, ...]] = {}
"""The modules each Sender list page is read from (its own, and what its visibility reads)."""


def owned_list(
    router: APIRouter,
    module: ModuleID,
    owner_roles: tuple[Role, ...],
    *,
    by_holder: bool = False,
    require_date_from: bool = False,
    visibility: Visibility | None = None,
    visibility_reads: tuple[ModuleID, ...] = (),
) -> None:
    """Add `GET {url}?date_from&date_to&offset&limit` listing our own parties' objects of `module`.

    `by_holder` limits the list to objects held by the caller's parties (sessions and CDRs of its tokens,
    mod_sessions_cpo_get_method / mod_cdrs_cpo_get_method). `visibility_reads` are the modules
    `visibility` reads besides `module`: a page is rendered again when any of them changes."""
    LIST_SOURCES[module] = tuple(m.value for m in (module, *visibility_reads))

    @router.get(f"/ocpi/{{version}}/sender/{module.value}", name=f"list_{module.value}")
    async def list_objects(ctx: Ctx) -> OcpiResponse:
        page = page_of(ctx, require_date_from=require_date_from)
        owners = tuple((p.country_code, p.party_id) for p in ctx.own_parties(*owner_roles))
        query = ListQuery(
            offset=page.offset,
            limit=page.limit,
            date_from=page.date_from,
            date_to=page.date_to,
            owners=owners,
            holders=tuple(ctx.caller_parties) if by_holder else None,
            published_only=visibility is not None,
            also_unpublished=await visibility(ctx, owners) if visibility is not None else (),
        )
        total, objects = await ctx.node.store.list_objects(module.value, query)
        own = next(iter(ctx.own_parties(*owner_roles)), None)
        return list_response(ctx, module, page, total, objects, ctx.reply_routing(own, None))
