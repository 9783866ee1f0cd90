"""What every module's HTTP handlers share: the request context, routing headers, list pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from evroam.errors import InvalidParametersError, NotFoundError
from evroam.modules.listcache import remember
from evroam.node import SUPPORTED_VERSIONS, Node
from evroam.parties.auth import Caller, node_of, peer_caller
from evroam.store.interface import PartyRecord, StoredObject
from evroam.transport.envelope import OcpiResponse, envelope_head
from evroam.transport.headers import RoutingHeaders
from evroam.transport.pagination import PageRequest, page_headers, parse_page_request
from evroam.transport.validation import read_json
from evroam.types import InterfaceRole, ModuleID, Role

__all__ = ["Ctx", "ModuleCtx", "list_response", "module_context", "object_response"]


@dataclass(frozen=True, slots=True)
class ModuleCtx:
    """One functional-module request: the node, the authenticated peer, the OCPI version, the routing."""

    node: Node
    caller: Caller
    version: str
    request: Request
    routing: RoutingHeaders

    @property
    def caller_parties(self) -> list[tuple[str, str]]:
        """country_code/party_id pairs the peer registered (the only ones it may push objects under)."""
        return [(r.country_code, r.party_id) for r in self.caller.peer.roles]

    def calling_party(self, *roles: Role) -> tuple[str, str]:
        """The caller's party this request comes from: the OCPI-from headers (which must name one of its
        registered parties: 404 otherwise), else its first party with one of `roles`, else its first."""
        if self.routing.from_country_code and self.routing.from_party_id:
            named = (self.routing.from_country_code.upper(), self.routing.from_party_id.upper())
            if named not in {(cc.upper(), pid.upper()) for cc, pid in self.caller_parties}:
                raise NotFoundError(f"party {named[0]}-{named[1]} (OCPI-from headers) is not registered by you")
            return named
        peer_roles = self.caller.peer.roles
        chosen = next((r for r in peer_roles if r.role in roles), peer_roles[0] if peer_roles else None)
        if chosen is None:
            raise NotFoundError("your platform registered no party")
        return chosen.country_code.upper(), chosen.party_id.upper()

    def own_parties(self, *roles: Role) -> list[PartyRecord]:
        """Our parties with one of `roles`, narrowed to the OCPI-to party when the request names one of them."""
        ours = [p for p in self.node.parties if p.role in roles or p.role == Role.HUB]
        to = (self.routing.to_country_code, self.routing.to_party_id)
        named = [p for p in ours if (p.country_code, p.party_id) == to]
        return named or ours

    def reply_routing(self, own: PartyRecord | None, counterpart: tuple[str, str] | None) -> dict[str, str]:
        """Routing headers of our response (transport_and_format_message_routing): the request's swapped,
        and where the request had none (or only its from or its to pair) from our party to the counterpart."""
        swapped = self.routing.reply()
        if swapped.from_party_id and swapped.to_party_id:
            return swapped.as_headers()
        if counterpart is None and self.caller.peer.roles:
            first = self.caller.peer.roles[0]
            counterpart = (first.country_code, first.party_id)
        sender = (swapped.from_country_code, swapped.from_party_id) if swapped.from_party_id else None
        if sender is None and own is not None:
            sender = (own.country_code, own.party_id)
        receiver = (swapped.to_country_code, swapped.to_party_id) if swapped.to_party_id else counterpart
        return RoutingHeaders(
            sender[0] if sender else None,
            sender[1] if sender else None,
            receiver[0] if receiver else None,
            receiver[1] if receiver else None,
        ).as_headers()

    async def body(self) -> dict[str, Any]:
        """The JSON object in the request body (400 for invalid JSON, 2001 for anything but an object)."""
        data = await read_json(self.request, self.node.settings.max_body_bytes)
        if not isinstance(data, dict):
            raise InvalidParametersError(f"request body must be a JSON object, got {type(data).__name__}")
        return data


async def _context(request: Request, version: str, caller: Annotated[Caller, Depends(peer_caller)]) -> ModuleCtx:
    return module_context(node_of(request), request, version, caller)


def module_context(node: Node, request: Request, version: str, caller: Caller) -> ModuleCtx:
    """The context of a functional-module request by `caller` (404 for an unknown version or OCPI-to party)."""
    if version not in SUPPORTED_VERSIONS:
        raise NotFoundError(f"version {version[:20]!r} is not supported")
    routing = RoutingHeaders.parse(request.headers)
    if routing.to_country_code and routing.to_party_id:
        # transport_and_format_message_routing: OCPI-to names the receiving party; we are no hub.
        ours = {(p.country_code, p.party_id) for p in node.parties}
        if (routing.to_country_code, routing.to_party_id) not in ours:
            raise NotFoundError(
                f"party {routing.to_country_code}-{routing.to_party_id} (OCPI-to headers) is not hosted here"
            )
    return ModuleCtx(node, caller, version, request, routing)


Ctx = Annotated[ModuleCtx, Depends(_context)]
"""Dependency: the module request context (functional modules need a registered peer's token)."""


def object_response(
    data_json: bytes | None,
    *,
    http_status: int = 200,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> OcpiResponse:
    return OcpiResponse(data_json=data_json, http_status=http_status, status_message=message, headers=headers)


def list_response(
    ctx: ModuleCtx,
    module: ModuleID,
    page: PageRequest,
    total: int,
    objects: Sequence[StoredObject],
    headers: dict[str, str],
) -> OcpiResponse:
    """A Sender list page: the stored JSON joined as is (never re-validated), with pagination headers."""
    cap = ctx.node.settings.page_limit
    url = ctx.node.endpoint_url(ctx.version, module, InterfaceRole.SENDER)
    all_headers = {**headers, **page_headers(url, page, total, cap)}
    head = envelope_head(b"[" + b",".join(o.data for o in objects) + b"]")
    response = OcpiResponse(head=head, headers=all_headers)
    remember(ctx.node, ctx.request.scope, ctx.caller.peer.id, head, response.raw_headers)
    return response


def page_of(ctx: ModuleCtx, *, require_date_from: bool = False) -> PageRequest:
    return parse_page_request(
        ctx.request.query_params, ctx.node.settings.page_limit, require_date_from=require_date_from
    )
