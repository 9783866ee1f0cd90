"""The `evroam` command: serve a node and manage its connections to peers."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from evroam import __version__
from evroam.client import PeerRequestError
from evroam.config import Settings
from evroam.node import Node, NodeConfigError
from evroam.parties.initiate import (
    HandshakeError,
    issue_registration_token,
    register_with,
    unregister_from,
    update_with,
)
from evroam.store.interface import NodeIdentity, Peer
from evroam.types import utcnow

__all__ = ["app", "main"]

app = typer.Typer(help="evroam: an OCPI platform node (CPO, eMSP, Hub).", no_args_is_help=True)
credentials_app = typer.Typer(
    help="Connections to other OCPI platforms (the credentials handshake).", no_args_is_help=True
)
app.add_typer(credentials_app, name="credentials")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="EVROAM_DATABASE_URL", help="SQLAlchemy URL of the node's database."),
]
BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", envvar="EVROAM_BASE_URL", help="Public URL peers use to reach this node."),
]
Parties = Annotated[
    list[str] | None,
    typer.Option(
        "--party",
        help="Hosted party as COUNTRY-PARTY-ROLE, e.g. NL-EVR-CPO (repeatable; env EVROAM_PARTIES).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Dev = Annotated[
    bool | None,
    typer.Option("--dev/--no-dev", envvar="EVROAM_DEV_MODE", help="Local development: allow http and loopback peers."),
]


def _settings(**options: Any) -> Settings:
    overrides = {k: v for k, v in options.items() if v is not None and v != []}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        _fail("invalid settings: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _run(settings: Settings, action: Callable[[Node], Awaitable[T]]) -> T:
    async def main() -> T:
        node = await Node.open(settings)
        try:
            return await action(node)
        finally:
            await node.close()

    try:
        return asyncio.run(main())
    except (NodeConfigError, HandshakeError) as exc:
        _fail(str(exc))
    except PeerRequestError as exc:
        _fail(exc.message)


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


async def _peer(node: Node, ref: str) -> Peer:
    peer = await node.store.get_peer(ref)
    if peer is not None:
        return peer
    matches = [p for p in await node.store.list_peers() if p.name.upper() == ref.upper()]
    if len(matches) != 1:
        raise HandshakeError(f"no single peer {ref!r}: see `evroam credentials list` for peer ids")
    return matches[0]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(envvar="EVROAM_HOST", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(envvar="EVROAM_PORT", help="Port to listen on.")] = None,
    party: Parties = None,
    base_url: BaseUrl = None,
    database_url: DatabaseUrl = None,
    dev: Dev = None,
    log_level: Annotated[str, typer.Option(envvar="EVROAM_LOG_LEVEL")] = "info",
) -> None:
    """Start a node: the OCPI API for the hosted parties."""
    import uvicorn

    from evroam.app import create_app

    settings = _settings(
        host=host, port=port, parties=party, base_url=base_url, database_url=database_url, dev_mode=dev
    )
    if not settings.parties:
        _fail("no party to host: pass --party COUNTRY-PARTY-ROLE (e.g. --party NL-EVR-CPO) or set EVROAM_PARTIES")
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=log_level.lower())


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

    _run(_settings(database_url=database_url, base_url=base_url), action)


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

    _run(_settings(database_url=database_url, base_url=base_url, parties=party, dev_mode=dev), action)


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

    _run(_settings(database_url=database_url), action)


@credentials_app.command("update")
def credentials_update(
    peer: Annotated[str, typer.Argument(help="Peer id or name.")],
    database_url: DatabaseUrl = None,
    dev: Dev = None,
) -> None:
    """Re-read the peer's endpoints and rotate tokens in both directions (PUT credentials)."""

    async def action(node: Node) -> None:
        updated = await update_with(node, await _peer(node, peer))
        out.print(f"credentials updated with {updated.name} (OCPI {updated.version})")

    _run(_settings(database_url=database_url, dev_mode=dev), action)


@credentials_app.command("unregister")
def credentials_unregister(
    peer: Annotated[str, typer.Argument(help="Peer id or name.")],
    force: Annotated[bool, typer.Option(help="Forget the peer locally even if it cannot be told.")] = False,
    database_url: DatabaseUrl = None,
    dev: Dev = None,
) -> None:
    """End the connection (DELETE credentials); neither side's tokens work afterwards."""

    async def action(node: Node) -> None:
        gone = await unregister_from(node, await _peer(node, peer), force=force)
        out.print(f"unregistered from {gone.name}")

    _run(_settings(database_url=database_url, dev_mode=dev), action)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on (loopback).")] = 8000,
    database_url: Annotated[str, typer.Option("--database-url")] = "sqlite+aiosqlite:///./evroam-demo.db",
) -> None:
    """Start a CPO node (NL-EVR-CPO) on embedded SQLite and print how to reach it."""
    import uvicorn

    from evroam.app import create_app

    settings = _settings(host="127.0.0.1", port=port, parties=["NL-EVR-CPO"], database_url=database_url, dev_mode=True)

    async def issue(node: Node) -> str:
        await node.store.save_node_identity(NodeIdentity(node.base_url, node.parties, utcnow()))
        _, token = await issue_registration_token(node, "demo peer")
        return token

    token = _run(settings, issue)
    b64 = base64.b64encode(token.encode()).decode()
    out.print(f"[bold]evroam CPO node NL-EVR-CPO[/bold] on {settings.effective_base_url} (database {database_url})")
    out.print(f"  versions URL: {settings.effective_base_url}/ocpi/versions")
    out.print(f"  token A:      {token}")
    out.print(f"  try:          curl -H 'Authorization: Token {b64}' {settings.effective_base_url}/ocpi/versions")
    out.print(
        f"  register an eMSP node against it:  evroam credentials register --dev "
        f"--versions-url {settings.effective_base_url}/ocpi/versions --token {token} --database-url <emsp db>"
    )
    out.print("Press Ctrl+C to stop.")
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


@app.command()
def version() -> None:
    """Print the evroam version and the OCPI versions it speaks."""
    from evroam.node import SUPPORTED_VERSIONS

    out.print(f"evroam {__version__} (OCPI {', '.join(SUPPORTED_VERSIONS)})")


def main() -> None:
    app()
