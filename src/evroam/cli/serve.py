"""`evroam serve` and `evroam version`: run a node."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from evroam import __version__
from evroam.cli.common import BaseUrl, DatabaseUrl, Dev, Parties, app, fail, out, settings

__all__ = ["serve", "version"]


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
def version() -> None:
    """Print the evroam version and the OCPI versions it speaks."""
    from evroam.node import SUPPORTED_VERSIONS

    out.print(f"evroam {__version__} (OCPI {', '.join(SUPPORTED_VERSIONS)})")
