"""What every `evroam` command shares: the Typer app, consoles, common options, settings and errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from evroam.client import PeerRequestError
from evroam.config import Settings
from evroam.node import Node, NodeConfigError
from evroam.parties.initiate import HandshakeError

__all__ = [
    "AsJson",
    "BaseUrl",
    "DatabaseUrl",
    "Dev",
    "Parties",
    "app",
    "err",
    "fail",
    "out",
    "run",
    "settings",
]

app = typer.Typer(help="evroam: an OCPI platform node (CPO, eMSP, Hub).", no_args_is_help=True)

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


def settings(**options: Any) -> Settings:
    overrides = {k: v for k, v in options.items() if v is not None and v != []}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        fail("invalid settings: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (it comes with uvicorn's standard extras), as `serve` uses."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def run(settings: Settings, action: Callable[[Node], Awaitable[T]]) -> T:
    async def main() -> T:
        node = await Node.open(settings)
        try:
            return await action(node)
        finally:
            await node.close()

    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            return runner.run(main())
    except (NodeConfigError, HandshakeError) as exc:
        fail(str(exc))
    except PeerRequestError as exc:
        fail(exc.message)
