"""HTTP handlers of the CDRs Receiver interface (eMSP): POST a CDR, GET it at the URL we answered."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter

from evroam.modules.cdrs.service import CDRS
from evroam.modules.http import Ctx, ModuleCtx, object_response
from evroam.modules.objects import Written, check_party, parse_model
from evroam.transport.envelope import OcpiResponse
from evroam.types import Role

__all__ = ["router"]

router: APIRouter = APIRouter()


def _routing(ctx: ModuleCtx, country_code: str, party_id: str) -> dict[str, str]:
    own = next(iter(ctx.own_parties(Role.EMSP)), None)
    return ctx.reply_routing(own, (country_code.upper(), party_id.upper()))


@router.post("/ocpi/{version}/receiver/cdrs")
async def post_cdr(ctx: Ctx) -> OcpiResponse:
    """mod_cdrs_msp_post_method: store the CDR and answer its URL in `Location`. A CDR is never replaced:
    a second POST of the same id keeps the first and answers the same URL."""
    row = CDRS.row(parse_model(CDRS.model, await ctx.body()))
    key = row.key
    check_party(key.country_code, key.party_id, ctx.caller_parties)
    written = Written(await ctx.node.store.put_object(CDRS.module, row, insert_only=True))
    # CiString ids may hold characters with a meaning in URLs (`#`, `?`, `%`, `/`): each segment is encoded.
    segments = "/".join(quote(part, safe="") for part in (key.country_code, key.party_id, key.id))
    location = f"{ctx.node.base_url}/ocpi/{ctx.version}/receiver/cdrs/{segments}"
    headers = {"Location": location, **_routing(ctx, key.country_code, key.party_id)}
    return object_response(None, http_status=written.http_status, message=written.message, headers=headers)


# `:path`: an id holding `/` arrives decoded, as more than one segment.
@router.get("/ocpi/{version}/receiver/cdrs/{country_code}/{party_id}/{cdr_id:path}")
async def get_cdr(ctx: Ctx, country_code: str, party_id: str, cdr_id: str) -> OcpiResponse:
    check_party(country_code, party_id, ctx.caller_parties)
    data = await CDRS.get(ctx.node.store, CDRS.key(country_code, party_id, cdr_id))
    return object_response(data, headers=_routing(ctx, country_code, party_id))
