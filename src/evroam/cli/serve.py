"""`evroam serve`, `evroam demo` and `evroam version`: run a node."""

from __future__ import annotations

import base64
import logging
from typing import Annotated

import typer

from evroam import __version__
from evroam.cli.common import BaseUrl, DatabaseUrl, Dev, Parties, app, fail, out, run, settings
from evroam.node import Node
from evroam.parties.initiate import issue_registration_token
from evroam.store.interface import NodeIdentity
from evroam.types import utcnow

__all__ = ["demo", "serve", "version"]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(envvar="EVROAM_HOST", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(envvar="EVROAM_PORT", help="Port to listen on.")] = None,
    party: Parties = None,
    base_url: BaseUrl = None,
    database_url: DatabaseUrl = None,
    dev: Dev = None,
    deliveries: Annotated[
        bool | None,
        typer.Option(
            "--deliveries/--no-deliveries",
            envvar="EVROAM_DELIVERIES",
            help="Push changes to peers from this process (default); off when `evroam worker` processes do it.",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(envvar="EVROAM_LOG_LEVEL")] = "info",
) -> None:
    """Start a node: the OCPI API for the hosted parties."""
    import uvicorn

    from evroam.app import create_app

    config = settings(
        host=host,
        port=port,
        parties=party,
        base_url=base_url,
        database_url=database_url,
        dev_mode=dev,
        deliveries=deliveries,
    )
    if not config.parties:
        fail("no party to host: pass --party COUNTRY-PARTY-ROLE (e.g. --party NL-EVR-CPO) or set EVROAM_PARTIES")
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level=log_level.lower())


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on (loopback).")] = 8000,
    database_url: Annotated[str, typer.Option("--database-url")] = "sqlite+aiosqlite:///./evroam-demo.db",
) -> None:
    """Start a CPO node (NL-EVR-CPO) on embedded SQLite and print how to reach it."""
    import uvicorn

    from evroam.app import create_app

    config = settings(host="127.0.0.1", port=port, parties=["NL-EVR-CPO"], database_url=database_url, dev_mode=True)

    async def issue(node: Node) -> str:
        await node.store.save_node_identity(NodeIdentity(node.base_url, node.parties, utcnow()))
        _, token = await issue_registration_token(node, "demo peer")
        return token

    token = run(config, issue)
    b64 = base64.b64encode(token.encode()).decode()
    out.print(f"[bold]evroam CPO node NL-EVR-CPO[/bold] on {config.effective_base_url} (database {database_url})")
    out.print(f"  versions URL: {config.effective_base_url}/ocpi/versions")
    out.print(f"  token A:      {token}")
    out.print(f"  try:          curl -H 'Authorization: Token {b64}' {config.effective_base_url}/ocpi/versions")
    emsp_db = "sqlite+aiosqlite:///./evroam-demo-emsp.db"
    out.print("  connect an eMSP node to it, in two more terminals:")
    out.print(f"    evroam serve --dev --party DE-EMS-EMSP --port {port + 1} --database-url {emsp_db}")
    out.print(
        f"    evroam credentials register --dev --versions-url {config.effective_base_url}/ocpi/versions "
        f"--token {token} --database-url {emsp_db}"
    )
    out.print("Press Ctrl+C to stop.")
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info")


@app.command()
def version() -> None:
    """Print the evroam version and the OCPI versions it speaks."""
    from evroam.node import SUPPORTED_VERSIONS

    out.print(f"evroam {__version__} (OCPI {', '.join(SUPPORTED_VERSIONS)})")
