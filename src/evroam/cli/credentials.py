"""`evroam credentials ...`: issue token A, register with a peer, list, update and unregister."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from evroam.cli.common import AsJson, BaseUrl, DatabaseUrl, Dev, Parties, app, err, out, run, settings
from evroam.node import Node
from evroam.parties.initiate import (
    HandshakeError,
    issue_registration_token,
    register_with,
    unregister_from,
    update_with,
)
from evroam.store.interface import Peer

__all__ = ["credentials_app", "find_peer"]

credentials_app = typer.Typer(
    help="Connections to other OCPI platforms (the credentials handshake).", no_args_is_help=True
)
app.add_typer(credentials_app, name="credentials")


def _peer_summary(peer: Peer) -> dict[str, Any]:
    return {
        "id": peer.id,
        "name": peer.name,
        "status": peer.status.value,
        "version": peer.version,
        "versions_url": peer.versions_url,
        "roles": [f"{r.country_code}-{r.party_id}-{r.role.value}" for r in peer.roles],
        "endpoints": [{"identifier": e.identifier, "role": e.role, "url": e.url} for e in peer.endpoints],
        "updated_at": peer.updated_at.isoformat(),
    }


async def find_peer(node: Node, ref: str) -> Peer:
    peer = await node.store.get_peer(ref)
    if peer is not None:
        return peer
    matches = [p for p in await node.store.list_peers() if p.name.upper() == ref.upper()]
    if len(matches) != 1:
        raise HandshakeError(f"no single peer {ref!r}: see `evroam credentials list` for peer ids")
    return matches[0]


@credentials_app.command("issue")
def credentials_issue(
    name: Annotated[str, typer.Option(help="A label for the future peer.")] = "",
    database_url: DatabaseUrl = None,
    base_url: BaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a token A for a future peer and print it with our versions URL."""

    async def action(node: Node) -> None:
        peer, token = await issue_registration_token(node, name)
        if as_json:
            print(json.dumps({"peer_id": peer.id, "versions_url": node.versions_url, "token": token}))
            return
        out.print(f"peer id:      {peer.id}")
        out.print(f"versions URL: {node.versions_url}")
        out.print(f"token A:      {token}")
        err.print("Give both to the peer over a secure channel; the token works once, for registration only.")

    run(settings(database_url=database_url, base_url=base_url), action)


@credentials_app.command("register")
def credentials_register(
    versions_url: Annotated[str, typer.Option("--versions-url", help="The peer's versions URL.")],
    token: Annotated[str, typer.Option("--token", help="Token A the peer gave you.")],
    name: Annotated[str, typer.Option(help="A label for the peer.")] = "",
    party: Parties = None,
    database_url: DatabaseUrl = None,
    base_url: BaseUrl = None,
    dev: Dev = None,
) -> None:
    """Register with a peer (the whole handshake) and store the connection.

    The node's parties and base URL are those `serve` saved in the database unless given here."""

    async def action(node: Node) -> None:
        with err.status(f"registering with {versions_url} ..."):
            peer = await register_with(node, versions_url, token, name)
        out.print(f"registered with {peer.name} (peer id {peer.id}) on OCPI {peer.version}")

    run(settings(database_url=database_url, base_url=base_url, parties=party, dev_mode=dev), action)


@credentials_app.command("list")
def credentials_list(database_url: DatabaseUrl = None, as_json: AsJson = False) -> None:
    """Show peers and their state (tokens are never shown)."""

    async def action(node: Node) -> None:
        peers = await node.store.list_peers()
        if as_json:
            print(json.dumps([_peer_summary(p) for p in peers], indent=2))
            return
        table = Table("id", "name", "status", "version", "roles", "versions URL", "updated")
        for p in peers:
            roles = ", ".join(f"{r.country_code}-{r.party_id} {r.role.value}" for r in p.roles)
            table.add_row(
                p.id,
                p.name,
                p.status.value,
                p.version or "",
                roles,
                p.versions_url or "",
                p.updated_at.isoformat(),
            )
        out.print(table)

    run(settings(database_url=database_url), action)


@credentials_app.command("update")
def credentials_update(
    peer: Annotated[str, typer.Argument(help="Peer id or name.")],
    database_url: DatabaseUrl = None,
    dev: Dev = None,
) -> None:
    """Re-read the peer's endpoints and rotate tokens in both directions (PUT credentials)."""

    async def action(node: Node) -> None:
        updated = await update_with(node, await find_peer(node, peer))
        out.print(f"credentials updated with {updated.name} (OCPI {updated.version})")

    run(settings(database_url=database_url, dev_mode=dev), action)


@credentials_app.command("unregister")
def credentials_unregister(
    peer: Annotated[str, typer.Argument(help="Peer id or name.")],
    force: Annotated[bool, typer.Option(help="Forget the peer locally even if it cannot be told.")] = False,
    database_url: DatabaseUrl = None,
    dev: Dev = None,
) -> None:
    """End the connection (DELETE credentials); neither side's tokens work afterwards."""

    async def action(node: Node) -> None:
        gone = await unregister_from(node, await find_peer(node, peer), force=force)
        out.print(f"unregistered from {gone.name}")

    run(settings(database_url=database_url, dev_mode=dev), action)
