"""HTTP handlers of a Receiver interface for objects stored whole (sessions, tariffs, tokens, CDRs)."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.errors import InvalidParametersError, NotFoundError
from evroam.modules.http import Ctx, ModuleCtx, object_response
from evroam.modules.objects import ObjectKind, check_party
from evroam.modules.tokens.models import TokenType
from evroam.store.interface import ObjectKey
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role

__all__ = ["DEFAULT_TOKEN_TYPE", "TOKEN_TYPES", "client_owned_receiver"]

# `?type=` defaults to RFID (mod_tokens_cpo_get_request_parameters).
DEFAULT_TOKEN_TYPE = TokenType.RFID.value
TOKEN_TYPES = frozenset(t.value for t in TokenType)


def client_owned_receiver(kind: ObjectKind, own_role: Role, *, patch: bool = False, delete: bool = False) -> APIRouter:
    """GET/PUT (and PATCH/DELETE where the module offers them) at `{url}/{country_code}/{party_id}/{id}`.

    Other methods on that URL answer 405. The URL's country_code/party_id must be one of the caller's
    registered parties (404 otherwise, nothing stored)."""
    router = APIRouter()
    path = f"/ocpi/{{version}}/receiver/{kind.module}/{{country_code}}/{{party_id}}/{{object_id}}"

    def key(ctx: ModuleCtx, country_code: str, party_id: str, object_id: str) -> ObjectKey:
        check_party(country_code, party_id, ctx.caller_parties)
        token_type = ctx.request.query_params.get("type") or DEFAULT_TOKEN_TYPE
        if kind.typed and token_type not in TOKEN_TYPES:
            raise InvalidParametersError(f"query parameter type {token_type[:20]!r} is not a TokenType")
        return kind.key(country_code, party_id, object_id, token_type)

    def routing(ctx: ModuleCtx, country_code: str, party_id: str) -> dict[str, str]:
        own = next(iter(ctx.own_parties(own_role)), None)
        return ctx.reply_routing(own, (country_code.upper(), party_id.upper()))

    @router.get(path)
    async def get_object(ctx: Ctx, country_code: str, party_id: str, object_id: str) -> OcpiResponse:
        data = await kind.get(ctx.node.store, key(ctx, country_code, party_id, object_id))
        return object_response(data, headers=routing(ctx, country_code, party_id))

    @router.put(path)
    async def put_object(ctx: Ctx, country_code: str, party_id: str, object_id: str) -> OcpiResponse:
        object_key = key(ctx, country_code, party_id, object_id)
        written = await kind.put(ctx.node.store, object_key, await ctx.body())
        return object_response(
            None, http_status=written.http_status, message=written.message, headers=routing(ctx, country_code, party_id)
        )

    if patch:

        @router.patch(path)
        async def patch_object(ctx: Ctx, country_code: str, party_id: str, object_id: str) -> OcpiResponse:
            object_key = key(ctx, country_code, party_id, object_id)
            written = await kind.patch(ctx.node.store, object_key, await ctx.body())
            return object_response(None, message=written.message, headers=routing(ctx, country_code, party_id))

    if delete:

        @router.delete(path)
        async def delete_object(ctx: Ctx, country_code: str, party_id: str, object_id: str) -> OcpiResponse:
            object_key = key(ctx, country_code, party_id, object_id)
            if not await ctx.node.store.delete_object(kind.module, object_key):
                raise NotFoundError(f"{kind.module} object {object_id!r} not found")
            return object_response(None, headers=routing(ctx, country_code, party_id))

    return router
