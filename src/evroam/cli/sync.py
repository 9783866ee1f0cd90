"""`evroam sync PEER`: pull a peer's data (all of it, or what changed since the last pull)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from evroam.cli.common import AsJson, DatabaseUrl, Dev, app, err, out, run, settings
from evroam.cli.credentials import find_peer
from evroam.client.pages import Page
from evroam.delivery.pull import PullError, PullResult, pull, pullable_modules
from evroam.node import Node

__all__ = ["sync"]


@app.command()
def sync(
    peer: Annotated[str, typer.Argument(help="Peer id or name (see `evroam credentials list`).")],
    module: Annotated[list[str] | None, typer.Option("--module", "-m", help="Only this module (repeatable).")] = None,
    full: Annotated[bool, typer.Option(help="Pull everything, not only changes since the last pull.")] = False,
    database_url: DatabaseUrl = None,
    dev: Dev = None,
    as_json: AsJson = False,
) -> None:
    """Pull locations, tariffs, sessions and CDRs (or tokens, for a CPO) from a registered peer."""

    async def action(node: Node) -> list[PullResult]:
        target = await find_peer(node, peer)
        modules = module or pullable_modules(node, target)
        if not modules:
            raise PullError(f"nothing to pull from {target.name}: no module it sends is one this node receives")
        results = []
        with Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=as_json,
        ) as progress:
            for name in modules:
                task = progress.add_task(name, total=None)

                def advance(page: Page, result: PullResult, task: TaskID = task) -> None:
                    progress.update(task, completed=result.received, total=result.total)

                results.append(await pull(node, target, name, full=full, on_page=advance))
        return results

    try:
        results = run(settings(database_url=database_url, dev_mode=dev), action)
    except PullError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps([{**asdict(r), "since": r.since.isoformat() if r.since else None} for r in results]))
        return
    for r in results:
        what = "everything" if r.since is None else f"changes since {r.since.isoformat()}"
        out.print(
            f"{r.module}: {r.received} received ({what}): {r.created} new, {r.updated} updated, "
            f"{r.unchanged} unchanged, {r.invalid} invalid, {r.foreign} of other parties"
        )
        for problem in r.problems[:10]:
            err.print(f"  [yellow]skipped[/yellow] {problem}")
    if any(r.invalid for r in results):
        raise typer.Exit(1)
