"""Pull sync: fetch a module's objects from a peer's Sender interface and store them as a push would be."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from evroam.client.errors import PeerRequestError
from evroam.client.pages import Page, pages
from evroam.errors import OcpiError
from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.service import location_row
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.store.interface import Peer, PutOutcome, StoredObject
from evroam.transport.headers import RoutingHeaders
from evroam.types import InterfaceRole, Role, format_datetime, utcnow

__all__ = ["PULLABLE", "PullError", "PullResult", "pull", "pullable_modules"]

log = logging.getLogger("evroam.pull")

# Clocks of two platforms differ; the next delta starts a little before this pull did (re-reading a few
# objects is harmless: writes are monotonic in last_updated).
CLOCK_SKEW = timedelta(minutes=2)
# mod_sessions_cpo_get_request_parameters: date_from is required, so a full pull asks from the epoch.
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class Pullable:
    """A module we can pull: who owns its objects and which of our roles receive them."""

    prepare: Callable[[dict[str, object]], StoredObject]
    owners: tuple[Role, ...]
    receivers: tuple[Role, ...]
    immutable: bool = False


_CPO_DATA = (Role.CPO, Role.HUB, Role.NAP)
PULLABLE: dict[str, Pullable] = {
    "locations": Pullable(location_row, _CPO_DATA, (Role.EMSP, Role.NSP, Role.NAP, Role.HUB)),
    "tariffs": Pullable(TARIFFS.parse_row, _CPO_DATA, (Role.EMSP, Role.NSP, Role.NAP, Role.HUB)),
    "sessions": Pullable(SESSIONS.parse_row, (Role.CPO, Role.HUB), (Role.EMSP, Role.SCSP, Role.HUB)),
    "cdrs": Pullable(CDRS.parse_row, (Role.CPO, Role.HUB), (Role.EMSP, Role.HUB), immutable=True),
    "tokens": Pullable(TOKENS.parse_row, (Role.EMSP, Role.HUB), (Role.CPO, Role.HUB)),
}


class PullError(Exception):
    """A pull could not run or was cut short; the message says why."""


@dataclass
class PullResult:
    """What one pull of one module did."""

    module: str
    since: datetime | None
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    foreign: int = 0
    pages: int = 0
    total: int | None = None
    problems: list[str] = field(default_factory=list)


def pullable_modules(node: Node, peer: Peer) -> list[str]:
    """Modules the peer offers as Sender, owned by one of its roles and received by one of ours."""
    ours = {p.role for p in node.parties}
    theirs = {r.role for r in peer.roles}
    return [
        module
        for module, spec in PULLABLE.items()
        if peer.endpoint_url(module, InterfaceRole.SENDER.value)
        and ours & set(spec.receivers)
        and theirs & set(spec.owners)
    ]


def _routing(node: Node, peer: Peer, spec: Pullable) -> RoutingHeaders:
    ours = next((p for p in node.parties if p.role in spec.receivers), None)
    owners = [r for r in peer.roles if r.role in spec.owners]
    to = owners[0] if len(owners) == 1 else None  # several owners behind one platform: ask for all
    return RoutingHeaders(
        ours.country_code if ours else None,
        ours.party_id if ours else None,
        to.country_code if to else None,
        to.party_id if to else None,
    )


async def pull(
    node: Node,
    peer: Peer,
    module: str,
    *,
    full: bool = False,
    on_page: Callable[[Page, PullResult], None] | None = None,
) -> PullResult:
    """Pull `module` from `peer`: everything (`full`, or the first time) or what changed since the last
    successful pull. Invalid objects are logged and skipped, objects of parties the peer did not register
    are ignored (transport_and_format_client_owned_object_pull), the rest stored like a Receiver push."""
    spec = PULLABLE.get(module)
    url = peer.endpoint_url(module, InterfaceRole.SENDER.value)
    if spec is None or url is None or not peer.token_out:
        raise PullError(f"peer {peer.name or peer.id} offers no {module} Sender interface to pull from")
    since = None if full else await node.store.get_sync_mark(peer.id, module)
    started = utcnow()
    params = {"date_from": format_datetime(since) if since else EPOCH} if since or module == "sessions" else {}
    allowed = {(r.country_code.upper(), r.party_id.upper()) for r in peer.roles}
    result = PullResult(module, since)
    try:
        async for page in pages(
            node.client,
            url,
            token=peer.token_out,
            version=peer.version,
            params=params,
            routing=_routing(node, peer, spec),
        ):
            await _store_page(node, module, spec, page, allowed, result)
            if on_page is not None:
                on_page(page, result)
    except PeerRequestError as exc:
        raise PullError(
            f"pulling {module} from {peer.name or peer.id} failed after {result.received} objects: {exc.message}"
        ) from None
    await node.store.set_sync_mark(peer.id, module, started - CLOCK_SKEW)
    log.info(
        "pulled %s from %s: %d received, %d created, %d updated, %d invalid",
        module,
        peer.id,
        result.received,
        result.created,
        result.updated,
        result.invalid,
    )
    return result


async def _store_page(
    node: Node, module: str, spec: Pullable, page: Page, allowed: set[tuple[str, str]], result: PullResult
) -> None:
    result.pages += 1
    result.total = page.total if page.total is not None else result.total
    rows: list[StoredObject] = []
    for index, item in enumerate(page.items):
        result.received += 1
        try:
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
            row = spec.prepare(item)
        except (OcpiError, ValueError, KeyError) as exc:
            # transport_and_format_request_format: process the valid objects, log the invalid ones.
            result.invalid += 1
            ident = item.get("id", item.get("uid", "?")) if isinstance(item, dict) else "?"
            problem = f"{module} #{result.received - 1} (id {ident!r}) skipped: {getattr(exc, 'message', exc)}"
            result.problems.append(problem)
            log.warning("%s (page %s, item %d)", problem, page.url, index)
            continue
        if (row.key.country_code.upper(), row.key.party_id.upper()) not in allowed:
            result.foreign += 1
            continue
        rows.append(row)
    for outcome in await node.store.put_objects(module, rows, insert_only=spec.immutable):
        if outcome == PutOutcome.CREATED:
            result.created += 1
        elif outcome == PutOutcome.UPDATED:
            result.updated += 1
        else:
            result.unchanged += 1
