"""The credentials handshake started by us: register with, update, and unregister from a peer."""

from __future__ import annotations

import dataclasses
import logging

from pydantic import ValidationError

from evroam.client import PeerProtocolError, PeerRequestError, PeerResponseError
from evroam.errors import StatusCode
from evroam.modules.credentials.models import Credentials
from evroam.node import SUPPORTED_VERSIONS, Node
from evroam.parties.negotiation import PeerVersion, discover, missing_modules
from evroam.parties.serve import new_peer, own_credentials, peer_name, peer_parties
from evroam.store.interface import CredentialsTokenRecord, Peer, PeerStatus, TokenKind
from evroam.transport.auth import generate_token, hash_token
from evroam.transport.validation import validation_message
from evroam.types import utcnow

__all__ = ["HandshakeError", "issue_registration_token", "register_with", "unregister_from", "update_with"]

log = logging.getLogger("evroam.credentials")


class HandshakeError(Exception):
    """The handshake could not be completed; the message says why and what to do."""


async def issue_registration_token(node: Node, name: str = "") -> tuple[Peer, str]:
    """Create token A for a future peer (credentials_registration step 1)."""
    token_a = generate_token()
    peer = new_peer(name, PeerStatus.PENDING)
    record = CredentialsTokenRecord(hash_token(token_a), peer.id, TokenKind.REGISTRATION, utcnow())
    await node.save_peer(peer, add_tokens=(record,))
    return peer, token_a


async def _discover(node: Node, versions_url: str, token: str) -> PeerVersion:
    try:
        found = await discover(node.client, versions_url, token, SUPPORTED_VERSIONS)
    except PeerRequestError as exc:
        raise HandshakeError(f"could not read the peer's versions: {exc.message}") from None
    if isinstance(found, str):
        raise HandshakeError(
            f"no common OCPI version: the peer offers {found}; evroam speaks {', '.join(SUPPORTED_VERSIONS)}"
        )
    # credentials_required_endpoints_not_available: do not POST when endpoints we need are missing.
    missing = missing_modules(found, node.settings.required_peer_modules)
    if missing:
        raise HandshakeError(f"the peer's {found.version} details lack required endpoints: {', '.join(missing)}")
    return found


def _their_credentials(data: object, url: str) -> Credentials:
    try:
        return Credentials.model_validate(data)
    except ValidationError as exc:
        raise PeerProtocolError(f"credentials answered by {url} are invalid: {validation_message(exc)}", url) from None


def _hint(exc: PeerRequestError, node: Node) -> str:
    text = exc.message
    if isinstance(exc, PeerResponseError) and exc.error.ocpi_status == StatusCode.UNABLE_TO_USE_CLIENT_API:
        text += (
            f" — the peer could not call back our versions URL {node.versions_url}: is `evroam serve` running"
            " and is --base-url reachable from the peer?"
        )
    return text


async def register_with(node: Node, versions_url: str, token_a: str, name: str = "") -> Peer:
    """Steps 2-6 of credentials_registration as the Sender: discover, POST our credentials with token B,
    store the peer's token C. A failure leaves nothing behind."""
    node.client.policy.check(versions_url)
    found = await _discover(node, versions_url, token_a)
    credentials_url = found.endpoint("credentials")
    assert credentials_url is not None  # missing_modules always requires credentials
    token_b = generate_token()
    peer = dataclasses.replace(
        new_peer(name, PeerStatus.REGISTERING),
        versions_url=versions_url,
        version=found.version,
        endpoints=found.endpoints,
    )
    # The peer calls our versions endpoint with token B before answering, so B must work already.
    pending = CredentialsTokenRecord(hash_token(token_b), peer.id, TokenKind.REGISTRATION, utcnow())
    await node.save_peer(peer, add_tokens=(pending,))
    try:
        reply = await node.client.request(
            "POST",
            credentials_url.url,
            token=token_a,
            version=found.version,
            body=own_credentials(node, token_b).to_dict(),
        )
        theirs = _their_credentials(reply.data, credentials_url.url)
    except PeerRequestError as exc:
        await node.delete_peer(peer.id)
        raise HandshakeError(f"registration refused: {_hint(exc, node)}") from None
    except BaseException:
        await node.delete_peer(peer.id)
        raise
    peer = dataclasses.replace(
        peer,
        name=name or peer_name(theirs),
        status=PeerStatus.REGISTERED,
        roles=peer_parties(theirs),
        token_out=theirs.token,
        versions_url=theirs.url,
        updated_at=utcnow(),
    )
    active = dataclasses.replace(pending, kind=TokenKind.ACTIVE)
    await node.save_peer(peer, add_tokens=(active,), revoke_all_tokens=True)
    log.info("registered with peer %s (%s) on %s", peer.id, peer.name, peer.version)
    return peer


def _registered(peer: Peer) -> tuple[str, str]:
    if peer.status != PeerStatus.REGISTERED or not peer.token_out or not peer.versions_url:
        raise HandshakeError(f"peer {peer.id} is {peer.status.value.lower()}, not registered")
    return peer.token_out, peer.versions_url


async def update_with(node: Node, peer: Peer) -> Peer:
    """credentials_updating_to_a_newer_version as the client: re-discover, PUT new credentials with a new
    token B', store the new token C'. Our old token stays valid until the peer accepted the new one."""
    token_c, versions_url = _registered(peer)
    found = await _discover(node, versions_url, token_c)
    credentials_url = found.endpoint("credentials")
    assert credentials_url is not None
    token_b = generate_token()
    fresh = CredentialsTokenRecord(hash_token(token_b), peer.id, TokenKind.ACTIVE, utcnow())
    await node.save_peer(peer, add_tokens=(fresh,))
    try:
        reply = await node.client.request(
            "PUT",
            credentials_url.url,
            token=token_c,
            version=found.version,
            body=own_credentials(node, token_b).to_dict(),
        )
        theirs = _their_credentials(reply.data, credentials_url.url)
    except PeerRequestError as exc:
        await node.save_peer(peer, revoke_token_hashes=(fresh.token_hash,))
        raise HandshakeError(f"update refused: {_hint(exc, node)}") from None
    updated = dataclasses.replace(
        peer,
        version=found.version,
        endpoints=found.endpoints,
        roles=peer_parties(theirs),
        token_out=theirs.token,
        versions_url=theirs.url,
        updated_at=utcnow(),
    )
    await node.save_peer(updated, add_tokens=(fresh,), revoke_all_tokens=True)
    log.info("updated credentials with peer %s (%s)", peer.id, found.version)
    return updated


async def unregister_from(node: Node, peer: Peer, *, force: bool = False) -> Peer:
    """DELETE our registration at the peer, then drop both directions' tokens here.

    With `force`, the local side is cleaned up even when the peer cannot be told."""
    token_c, _ = _registered(peer)
    credentials_url = next((e.url for e in peer.endpoints if e.identifier == "credentials"), None)
    try:
        if credentials_url is None:
            raise PeerProtocolError("the peer has no credentials endpoint on record")
        await node.client.request("DELETE", credentials_url, token=token_c, version=peer.version)
    except PeerRequestError as exc:
        if not force:
            raise HandshakeError(
                f"unregistration refused: {exc.message} (use --force to forget the peer locally anyway)"
            ) from None
        log.warning("peer %s was not told about the unregistration: %s", peer.id, exc.message)
    gone = dataclasses.replace(peer, status=PeerStatus.UNREGISTERED, token_out=None, updated_at=utcnow())
    await node.save_peer(gone, revoke_all_tokens=True)
    return gone
