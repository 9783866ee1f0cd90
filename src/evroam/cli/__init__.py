"""The `evroam` command line: one Typer app; each submodule adds its commands to it."""

from evroam.cli import authorize, credentials, deliveries, demo, load, price, serve, sync
from evroam.cli.common import app

__all__ = ["app", "authorize", "credentials", "deliveries", "demo", "load", "main", "price", "serve", "sync"]


def main() -> None:
    app()
