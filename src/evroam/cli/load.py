"""`evroam load FILE`: import a back office's own OCPI objects in bulk, without a running server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evroam.admin.bulk import (
    Document,
    LoadFileError,
    LoadModule,
    LoadReport,
    infer_module,
    load_document,
    read_document,
)
from evroam.cli.common import AsJson, DatabaseUrl, Parties, app, err, fail, out, run, settings
from evroam.node import Node

__all__ = ["load"]

_SHOWN_PROBLEMS = 50


def _refuse(message: str, as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps({"error": message}))
    fail(message)


def _read(file: Path, module: LoadModule | None, as_json: bool) -> tuple[Document, LoadModule | None]:
    try:
        document = read_document(file.read_bytes())
        if module is None and document.objects:
            module = infer_module(document.objects)
    except OSError as exc:
        _refuse(f"cannot read {file}: {exc.strerror or exc}", as_json)
    except LoadFileError as exc:
        _refuse(f"{file}: {exc}", as_json)
    return document, module


def _summary(report: LoadReport, file: Path) -> None:
    counts = [f"{report.created} created", f"{report.updated} updated", f"{report.stale} stale"]
    if report.module is LoadModule.CDRS:
        counts.append(f"{report.exists} already stored")
    counts.append(f"{report.invalid} invalid")
    out.print(f"{report.module.value} from {escape(str(file))}: {report.objects} objects, {', '.join(counts)}")
    if report.stale:
        err.print(f"{report.stale} objects were not applied: the stored ones have a later last_updated.")


def _problems(report: LoadReport) -> None:
    for problem in report.problems[:_SHOWN_PROBLEMS]:
        err.print(f"[red]invalid[/red] #{problem.index} {escape(problem.pointer)}: {escape(problem.message)}")
    if len(report.problems) > _SHOWN_PROBLEMS:
        err.print(f"... and {len(report.problems) - _SHOWN_PROBLEMS} more problems (--json lists them all)")


@app.command()
def load(
    file: Annotated[Path, typer.Argument(help="OCPI JSON: one object, an array, or a saved list page (envelope).")],
    module: Annotated[
        LoadModule | None,
        typer.Option("--module", help="The objects' module; inferred from their shape when not given."),
    ] = None,
    party: Parties = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Load our own Locations, Tariffs, Sessions, CDRs or Tokens into the node's database.

    Every object is validated (invalid ones are reported and skipped), given last_updated=now when it has
    none, and must belong to one of the node's parties (CPO for all but Tokens, eMSP for Tokens). Objects
    already stored are replaced unless they are newer; CDRs are never replaced. Exit code 1 if any object
    was invalid (the valid ones are stored all the same)."""
    document, chosen = _read(file, module, as_json)
    if chosen is None:
        if as_json:
            print(json.dumps({"module": None, "objects": 0}))
        else:
            out.print(f"nothing to load: {escape(str(file))} holds no objects")
        return

    async def action(node: Node) -> LoadReport:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(f"loading {chosen.value}", total=len(document.objects))
            return await load_document(node, chosen, document, progress=lambda n: bar.advance(task, n))

    report = run(settings(database_url=database_url, parties=party), action)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _problems(report)
        _summary(report, file)
    if report.invalid:
        err.print(
            f"[red]{report.invalid} invalid objects were skipped[/red] (the valid ones are stored): fix them as "
            "listed above and load those objects again."
        )
        raise typer.Exit(1)
