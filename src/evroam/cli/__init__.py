"""The `evroam` command line: one Typer app; each submodule adds its commands to it."""

from evroam.cli import authorize, credentials, deliveries, load, price, serve, sync
from evroam.cli.common import app

__all__ = ["app", "authorize", "credentials", "deliveries", "load", "main", "price", "serve", "sync"]


def main() -> None:
    app()
