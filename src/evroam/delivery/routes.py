"""Who is entitled to which of our objects: the peers a change is pushed to, and under which routing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from evroam.modules.locations.visibility import matches
from evroam.store.interface import ListQuery, ObjectKey, PartyRecord, Peer, PeerStatus, Store, StoredObject
from evroam.transport.headers import RoutingHeaders
from evroam.types import InterfaceRole, Role

__all__ = ["DELIVERABLE", "Deliverable", "Recipient", "Router", "owner_parties"]

_MAX_TOKENS = 100_000


@dataclass(frozen=True, slots=True)
class Deliverable:
    """A module whose objects we push: which of our roles own them, which roles of a peer receive them,
    and whether only the party holding the object (the eMSP of its token) may have it."""

    owners: tuple[Role, ...]
    receivers: tuple[Role, ...]
    by_holder: bool = False


_TO_EMSPS = (Role.EMSP, Role.NSP, Role.NAP, Role.HUB)
DELIVERABLE: dict[str, Deliverable] = {
    # mod_locations / mod_tariffs: the CPO pushes to every eMSP (and Hub) it is connected to.
    "locations": Deliverable((Role.CPO,), _TO_EMSPS),
    "tariffs": Deliverable((Role.CPO,), _TO_EMSPS),
    # mod_sessions / mod_cdrs: only to the eMSP whose token the session is for (a Hub passes it on).
    "sessions": Deliverable((Role.CPO,), (Role.EMSP, Role.HUB), by_holder=True),
    "cdrs": Deliverable((Role.CPO,), (Role.EMSP, Role.HUB), by_holder=True),
    # mod_tokens: the eMSP pushes its tokens to CPOs.
    "tokens": Deliverable((Role.EMSP,), (Role.CPO, Role.HUB)),
}


def owner_parties(parties: Iterable[PartyRecord], module: str) -> set[tuple[str, str]]:
    """Our parties whose objects of `module` we push (upper-cased country_code/party_id)."""
    spec = DELIVERABLE.get(module)
    if spec is None:
        return set()
    return {(p.country_code.upper(), p.party_id.upper()) for p in parties if p.role in spec.owners}


@dataclass(frozen=True, slots=True)
class Recipient:
    """A peer to push a change to, and the routing headers of the push."""

    peer: Peer
    routing: RoutingHeaders


def _party(roles: Iterable[PartyRecord], cc: str, pid: str) -> PartyRecord | None:
    return next((r for r in roles if r.country_code.upper() == cc.upper() and r.party_id.upper() == pid.upper()), None)


class Router:
    """The peers entitled to each change, from a snapshot of the registered peers.

    Unpublished Locations go only to peers holding a token their `publish_allowed_to` names
    (mod_locations_publish_token_class); those tokens are read once per router."""

    def __init__(self, store: Store, parties: tuple[PartyRecord, ...], peers: list[Peer]) -> None:
        self.store = store
        self.parties = parties
        self.peers = [p for p in peers if p.status == PeerStatus.REGISTERED and p.token_out]
        self._tokens: dict[str, list[dict[str, object]]] = {}

    async def recipients(self, module: str, key: ObjectKey, current: StoredObject | None) -> list[Recipient]:
        spec = DELIVERABLE.get(module)
        if spec is None:
            return []
        owner = next(
            (p for p in self.parties if p.role in spec.owners and _party([p], key.country_code, key.party_id)), None
        )
        if owner is None:
            return []
        found: list[Recipient] = []
        for peer in self.peers:
            if peer.endpoint_url(module, InterfaceRole.RECEIVER.value) is None:
                continue
            entitled, to = await self._receiving_party(spec, module, peer, current)
            if not entitled:
                continue
            routing = RoutingHeaders(
                owner.country_code,
                owner.party_id,
                to.country_code if to else None,
                to.party_id if to else None,
            )
            found.append(Recipient(peer, routing))
        return found

    async def _receiving_party(
        self, spec: Deliverable, module: str, peer: Peer, current: StoredObject | None
    ) -> tuple[bool, PartyRecord | None]:
        """Whether the peer is entitled, and its party the push is for (None: the platform as a whole)."""
        receiving = [r for r in peer.roles if r.role in spec.receivers]
        if not receiving:
            return False, None
        if spec.by_holder:
            if current is None or not current.holder_country_code or not current.holder_party_id:
                return False, None
            holder = _party(peer.roles, current.holder_country_code, current.holder_party_id)
            if holder is not None and holder.role in spec.receivers:
                return True, holder
            if not any(r.role == Role.HUB for r in receiving):
                return False, None
            return True, PartyRecord(current.holder_country_code, current.holder_party_id, Role.EMSP, "")
        hidden = module == "locations" and current is not None and not current.published
        if hidden and current is not None and not await self._may_see(peer, current):
            return False, None
        return True, receiving[0] if len(receiving) == 1 else None

    async def _may_see(self, peer: Peer, location: StoredObject) -> bool:
        entries = json.loads(location.data).get("publish_allowed_to") or []
        if not entries:
            return False
        tokens = self._tokens.get(peer.id)
        if tokens is None:
            owners = tuple((r.country_code, r.party_id) for r in peer.roles)
            _, rows = await self.store.list_objects("tokens", ListQuery(limit=_MAX_TOKENS, owners=owners))
            tokens = self._tokens[peer.id] = [json.loads(row.data) for row in rows]
        return any(matches(entry, token) for entry in entries for token in tokens)
