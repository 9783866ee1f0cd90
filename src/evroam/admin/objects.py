"""Back-office Tariffs, Sessions and Tokens (objects stored whole) and CDRs (created once, never changed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import APIRouter, Request

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX, now, read_object, written_response
from evroam.admin.owner import check_owner, fill_ids, insert_cdr, stamp
from evroam.errors import NotFoundError
from evroam.modules.cdrs.service import CDRS
from evroam.modules.objects import ObjectKind, Written, parse_model
from evroam.modules.sessions.billing import settle_session
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.models import TokenType
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.store.interface import ObjectKey
from evroam.transport.envelope import OcpiResponse

__all__ = ["cdrs_router", "object_router", "sessions_router", "tariffs_router", "tokens_router"]

# `?type=` defaults to RFID, as on the OCPI Tokens interface (mod_tokens_cpo_get_request_parameters).
_DEFAULT_TOKEN_TYPE = TokenType.RFID.value


AfterWrite = Callable[[Node, ObjectKey], Awaitable[str | None]]
"""What the node does once the back office wrote an object (a note for the answer, or None)."""


def object_router(
    kind: ObjectKind, *, patch: bool = False, delete: bool = False, after_write: AfterWrite | None = None
) -> APIRouter:
    """GET and PUT (PATCH, DELETE where the module has them) at `/admin/api/{module}/{cc}/{pid}/{id}`,
    through the same `ObjectKind` the OCPI Receiver uses; `after_write` runs after each PUT and PATCH."""
    router = APIRouter()
    # `:path`: an id holding `/` arrives decoded, as more than one segment.
    path = f"{PREFIX}/{kind.module}/{{country_code}}/{{party_id}}/{{object_id:path}}"

    def key(node: Node, request: Request, country_code: str, party_id: str, object_id: str) -> ObjectKey:
        check_owner(node.parties, kind.module, country_code, party_id)
        return kind.key(country_code, party_id, object_id, request.query_params.get("type") or _DEFAULT_TOKEN_TYPE)

    async def answer(node: Node, object_key: ObjectKey, written: Written) -> OcpiResponse:
        note = await after_write(node, object_key) if after_write is not None else None
        message = "; ".join(m for m in (written.message, note) if m) or None
        return written_response(await kind.get(node.store, object_key), written, message=message)

    @router.get(path, name=f"admin_get_{kind.module}")
    async def get_object(
        node: AdminNode, request: Request, country_code: str, party_id: str, object_id: str
    ) -> OcpiResponse:
        object_key = key(node, request, country_code, party_id, object_id)
        return OcpiResponse(data_json=await kind.get(node.store, object_key))

    @router.put(path, name=f"admin_put_{kind.module}")
    async def put_object(
        node: AdminNode, request: Request, country_code: str, party_id: str, object_id: str
    ) -> OcpiResponse:
        object_key = key(node, request, country_code, party_id, object_id)
        body = await read_object(request, node)
        ids = {"country_code": country_code, "party_id": party_id, kind.id_field: object_id}
        fill_ids(body, {**ids, "type": object_key.type} if kind.typed else ids)
        stamp(body, now())
        written = await kind.put(node.store, object_key, body)
        return await answer(node, object_key, written)

    if patch:

        @router.patch(path, name=f"admin_patch_{kind.module}")
        async def patch_object(
            node: AdminNode, request: Request, country_code: str, party_id: str, object_id: str
        ) -> OcpiResponse:
            object_key = key(node, request, country_code, party_id, object_id)
            body = await read_object(request, node)
            stamp(body, now())
            written = await kind.patch(node.store, object_key, body)
            return await answer(node, object_key, written)

    if delete:

        @router.delete(path, name=f"admin_delete_{kind.module}")
        async def delete_object(
            node: AdminNode, request: Request, country_code: str, party_id: str, object_id: str
        ) -> OcpiResponse:
            object_key = key(node, request, country_code, party_id, object_id)
            if not await node.store.delete_object(kind.module, object_key):
                raise NotFoundError(f"{kind.module} object {object_id!r} not found")
            return OcpiResponse(None)

    return router


cdrs_router: APIRouter = APIRouter()


@cdrs_router.post(f"{PREFIX}/cdrs")
async def post_cdr(node: AdminNode, request: Request) -> OcpiResponse:
    """Create a CDR: 201 with its URL in `Location`; the same CDR again is 200 and changes nothing, a
    different CDR under a stored id is 409/2001 (see `insert_cdr`)."""
    body = await read_object(request, node)
    stamp(body, now())
    row = CDRS.row(parse_model(CDRS.model, body))
    check_owner(node.parties, CDRS.module, row.key.country_code, row.key.party_id)
    written = Written(await insert_cdr(node.store, row))
    key = row.key
    # CiString ids may hold characters with a meaning in URLs (`#`, `?`, `%`, `/`): each segment is encoded.
    segments = "/".join(quote(part, safe="") for part in (key.country_code, key.party_id, key.id))
    location = f"{node.base_url}{PREFIX}/cdrs/{segments}"
    return written_response(await CDRS.get(node.store, key), written, headers={"Location": location})


@cdrs_router.get(f"{PREFIX}/cdrs/{{country_code}}/{{party_id}}/{{cdr_id:path}}")
async def get_cdr(node: AdminNode, country_code: str, party_id: str, cdr_id: str) -> OcpiResponse:
    check_owner(node.parties, CDRS.module, country_code, party_id)
    return OcpiResponse(data_json=await CDRS.get(node.store, CDRS.key(country_code, party_id, cdr_id)))


tariffs_router: APIRouter = object_router(TARIFFS, delete=True)


async def _settle(node: Node, key: ObjectKey) -> str | None:
    return (await settle_session(node.store, key)).message


# A session the back office changes is priced at once; a COMPLETED one gets its CDR (see billing).
sessions_router: APIRouter = object_router(SESSIONS, patch=True, after_write=_settle)
tokens_router: APIRouter = object_router(TOKENS, patch=True)
