"""The back-office API under `/admin/api`: a node's own back office feeds it its data.

Not OCPI: it is authenticated with the admin token (`Authorization: Bearer ...`), but answers in the same
envelope, and every change goes through the services the OCPI Receiver handlers use, so what the back office
stores is what the node's Sender interfaces serve (and, later, push).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request

from evroam.admin import authorize, commands, locations, objects, profiles, reservations, taps
from evroam.admin.auth import AdminNode, admin_node
from evroam.admin.http import PREFIX
from evroam.admin.owner import OWNER_ROLES, owners
from evroam.store.interface import ListQuery
from evroam.transport.envelope import OcpiResponse
from evroam.transport.pagination import page_headers, parse_page_request
from evroam.types import format_datetime

__all__ = ["router"]

# Every route checks the admin token (a route added later cannot forget it).
router: APIRouter = APIRouter(dependencies=[Depends(admin_node)])
router.include_router(locations.router)
router.include_router(objects.tariffs_router)
router.include_router(objects.sessions_router)
router.include_router(objects.tokens_router)
router.include_router(objects.cdrs_router)
router.include_router(authorize.router)
router.include_router(commands.router)
router.include_router(profiles.router)
router.include_router(reservations.router)
router.include_router(taps.router)


def _add_list(module: str) -> None:
    async def list_objects(node: AdminNode, request: Request) -> OcpiResponse:
        """Our own objects of the module, first stored first, unpublished Locations included:
        `?offset&limit&date_from&date_to`, with X-Total-Count, X-Limit and Link as on OCPI lists."""
        cap = node.settings.page_limit
        page = parse_page_request(request.query_params, cap)
        query = ListQuery(
            offset=page.offset,
            limit=page.limit,
            date_from=page.date_from,
            date_to=page.date_to,
            owners=owners(node.parties, module),
        )
        total, found = await node.store.list_objects(module, query)
        headers = page_headers(f"{node.base_url}{PREFIX}/{module}", page, total, cap)
        return OcpiResponse(data_json=b"[" + b",".join(o.data for o in found) + b"]", headers=headers)

    router.add_api_route(f"{PREFIX}/{module}", list_objects, methods=["GET"], name=f"admin_list_{module}")


for _module in OWNER_ROLES:
    _add_list(_module)


@router.get(f"{PREFIX}/traffic")
async def traffic(node: AdminNode) -> OcpiResponse:
    """The OCPI requests this node answered since it started (at `since`), per module, interface and
    operation: how many, how many failed (HTTP 4xx/5xx), and their p50, p99 and max latency in ms."""
    rows = [row.to_dict() for row in node.traffic.rows()]
    return OcpiResponse({"since": format_datetime(datetime.fromtimestamp(node.traffic.since, UTC)), "requests": rows})
