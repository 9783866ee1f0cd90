"""The credentials module as a server: a peer registers, updates and unregisters with us (credentials.asciidoc)."""

from __future__ import annotations

import dataclasses
import logging
import uuid

from evroam.client import PeerRequestError, UrlPolicyError
from evroam.errors import (
    MethodNotAllowedError,
    NoMatchingEndpointsError,
    UnableToUseClientApiError,
    UnsupportedVersionError,
)
from evroam.modules.credentials.models import Credentials
from evroam.node import Node
from evroam.parties.auth import Caller
from evroam.parties.negotiation import PeerVersion, discover, missing_modules
from evroam.store.interface import CredentialsTokenRecord, PartyRecord, Peer, PeerStatus, TokenKind
from evroam.transport.auth import generate_token, hash_token
from evroam.types import utcnow

__all__ = [
    "new_peer",
    "own_credentials",
    "peer_parties",
    "serve_register",
    "serve_unregister",
    "serve_update",
]

log = logging.getLogger("evroam.credentials")


def new_peer(name: str, status: PeerStatus) -> Peer:
    now = utcnow()
    return Peer(id=uuid.uuid4().hex[:12], name=name, status=status, created_at=now, updated_at=now)


def own_credentials(node: Node, token: str) -> Credentials:
    """Our Credentials object carrying `token` (the token the peer is to use to call us)."""
    return Credentials(token=token, url=node.versions_url, roles=node.credentials_roles())


def peer_parties(creds: Credentials) -> tuple[PartyRecord, ...]:
    return tuple(
        PartyRecord(
            r.country_code.upper(),
            r.party_id.upper(),
            r.role,
            r.business_details.name,
            r.business_details.website,
        )
        for r in creds.roles
    )


def peer_name(creds: Credentials) -> str:
    return ",".join(f"{r.country_code.upper()}-{r.party_id.upper()}-{r.role.value}" for r in creds.roles)


async def _fetch_client_api(node: Node, creds: Credentials, version: str) -> PeerVersion:
    """OCPI 2.2.1 credentials_registration step 4: GET the client's versions and the details of the
    version whose credentials endpoint it called, using the token it gave us."""
    try:
        found = await discover(node.client, creds.url, creds.token, [version], want=version)
    except UrlPolicyError as exc:
        raise UnableToUseClientApiError(f"refusing the client's versions URL: {exc.message}") from None
    except PeerRequestError as exc:
        raise UnableToUseClientApiError(f"unable to use the client's API: {exc.message}") from None
    if isinstance(found, str):
        raise UnsupportedVersionError(f"the client's versions endpoint does not offer {version} (it offers: {found})")
    missing = missing_modules(found, node.settings.required_peer_modules)
    if missing:
        raise NoMatchingEndpointsError(f"the client's {version} details lack required endpoints: {', '.join(missing)}")
    for endpoint in found.endpoints:
        try:
            node.client.policy.check(endpoint.url)
        except UrlPolicyError as exc:
            raise UnableToUseClientApiError(
                f"refusing the client's {endpoint.identifier} endpoint URL: {exc.message}"
            ) from None
    return found


def _issued(peer_id: str, token: str) -> CredentialsTokenRecord:
    return CredentialsTokenRecord(hash_token(token), peer_id, TokenKind.ACTIVE, utcnow())


async def serve_register(node: Node, caller: Caller, creds: Credentials, version: str) -> Credentials:
    """POST: a peer holding token A registers (2.2.1 credentials_post_method)."""
    if caller.peer.status != PeerStatus.PENDING:
        raise MethodNotAllowedError("already registered: use PUT to update credentials, or DELETE to unregister")
    found = await _fetch_client_api(node, creds, version)
    token_c = generate_token()
    peer = dataclasses.replace(
        caller.peer,
        name=caller.peer.name or peer_name(creds),
        status=PeerStatus.REGISTERED,
        versions_url=creds.url,
        version=found.version,
        endpoints=found.endpoints,
        roles=peer_parties(creds),
        token_out=creds.token,
        updated_at=utcnow(),
    )
    # Token A stops working the moment token C exists (credentials_registration step 6).
    await node.save_peer(peer, add_tokens=(_issued(peer.id, token_c),), revoke_all_tokens=True)
    log.info("peer %s (%s) registered on %s", peer.id, peer_name(creds), found.version)
    return own_credentials(node, token_c)


async def serve_update(node: Node, caller: Caller, creds: Credentials, version: str) -> Credentials:
    """PUT: a registered peer updates its credentials; we re-fetch its API and issue a new token.
    The old token is revoked only once everything succeeded (2.2.1 credentials_put_method)."""
    if not caller.registered:
        raise MethodNotAllowedError("not registered: register with POST first")
    found = await _fetch_client_api(node, creds, version)
    token_c = generate_token()
    peer = dataclasses.replace(
        caller.peer,
        versions_url=creds.url,
        version=found.version,
        endpoints=found.endpoints,
        roles=peer_parties(creds),
        token_out=creds.token,
        updated_at=utcnow(),
    )
    await node.save_peer(peer, add_tokens=(_issued(peer.id, token_c),), revoke_token_hashes=(hash_token(caller.token),))
    log.info("peer %s updated its credentials (%s)", peer.id, found.version)
    return own_credentials(node, token_c)


async def serve_unregister(node: Node, caller: Caller) -> None:
    """DELETE: the peer ends the connection; neither side's tokens work any more (credentials_delete_method)."""
    if not caller.registered:
        raise MethodNotAllowedError("not registered: nothing to unregister")
    peer = dataclasses.replace(caller.peer, status=PeerStatus.UNREGISTERED, token_out=None, updated_at=utcnow())
    await node.save_peer(peer, revoke_all_tokens=True)
    log.info("peer %s unregistered", peer.id)
