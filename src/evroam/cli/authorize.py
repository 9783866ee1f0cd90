"""`evroam authorize UID`: may this token charge here? Asked as the node's CPO, as a charge point would."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from evroam.cli.common import AsJson, DatabaseUrl, Dev, app, fail, out, run, settings
from evroam.modules.tokens.authorizer import DEFAULT_TIMEOUT, Authorization, authorize
from evroam.modules.tokens.models import LocationReferences, TokenType
from evroam.node import Node
from evroam.types import Role

__all__ = ["authorize_command"]


@app.command("authorize")
def authorize_command(
    uid: Annotated[str, typer.Argument(help="The token's uid, as the charge point read it.")],
    token_type: Annotated[TokenType, typer.Option("--type", help="Token type.")] = TokenType.RFID,
    location: Annotated[str | None, typer.Option(help="Location id where the token is to charge.")] = None,
    evse: Annotated[list[str] | None, typer.Option(help="EVSE uid at that Location (repeatable).")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the eMSP.")] = DEFAULT_TIMEOUT,
    database_url: DatabaseUrl = None,
    dev: Dev = None,
    as_json: AsJson = False,
) -> None:
    """Decide by the token's whitelist, asking its eMSP in real time where that is required.

    Exits 0 when the token may charge, 1 when it may not."""
    if evse and location is None:
        fail("--evse needs --location")
    where = LocationReferences(location_id=location, evse_uids=evse or None) if location is not None else None

    async def action(node: Node) -> Authorization:
        if not any(p.role == Role.CPO for p in node.parties):
            fail("this node hosts no CPO party: authorization is asked by a CPO for its charge points")
        return await authorize(node, uid, token_type, where, answer_within=wait)

    result = run(settings(database_url=database_url, dev_mode=dev), action)
    if as_json:
        print(json.dumps(result.to_dict()))
    else:
        verdict = "[green]accepted[/green]" if result.accepted else "[red]refused[/red]"
        allowed = f" ({result.allowed.value})" if result.allowed is not None else ""
        out.print(f"{uid}: {verdict}{allowed}, decided by {result.source.value}")
        if result.authorization_reference:
            out.print(f"  authorization_reference {result.authorization_reference}")
        if result.reason:
            out.print(f"  {result.reason}")
    if not result.accepted:
        raise typer.Exit(1)
