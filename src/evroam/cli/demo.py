"""`evroam demo`: roaming end to end in one command (see `evroam.demo.story`)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from evroam.cli.common import app, err, event_loop_factory, out
from evroam.demo.story import DemoFailed, DemoOptions, DemoReport, run_demo

__all__ = ["demo"]


@app.command()
def demo(
    duration: Annotated[
        float, typer.Option(min=2, help="Seconds the app session charges (half before its charging profile).")
    ] = 20.0,
    locations: Annotated[int, typer.Option(min=1, max=20_000, help="Locations in the CPO's network.")] = 200,
    drivers: Annotated[int, typer.Option(min=1, max=10_000, help="Drivers of the eMSP.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the generated network and drivers.")] = 1,
    work_dir: Annotated[
        Path | None, typer.Option("--work-dir", help="Keep the nodes' databases and logs here (default: temporary).")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Leave both nodes running at the end, until Ctrl+C.")] = False,
) -> None:
    """Start a CPO node and an eMSP node as processes on loopback and let them roam: registration, pulls,
    pushes, real-time authorization, a session started from the app, capped by a charging profile,
    stopped, and its CDR checked by the eMSP. Exits 0 when every step happened, 1 with the reason if not."""
    options = DemoOptions(
        duration=duration, locations=locations, drivers=drivers, seed=seed, work_dir=work_dir, keep=keep
    )
    out.print(
        f"[bold]evroam demo[/bold]: a CPO and an eMSP roaming over HTTP ({locations} Locations, {drivers} drivers)\n"
    )
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            report = runner.run(run_demo(options, out))
            out.print("\n[green]Every step happened.[/green] Your own node: 'Running a node' in the README.")
            if keep:
                _explore(report)
                runner.run(_until_interrupted(report))
    except DemoFailed as exc:
        err.print(f"[red]✗ the demo stopped:[/red] {exc}")
        err.print("  The nodes' logs say more; run again with --work-dir DIR to keep them.")
        raise typer.Exit(1) from None


def _explore(report: DemoReport) -> None:
    out.print("\n[bold]The nodes keep running[/bold] (Ctrl+C stops them); their data is in", str(report.work_dir))
    for node in (report.cpo, report.emsp):
        assert node is not None
        out.print(f"  {node.name}: {node.base_url}  admin token: {node.admin_token}")
        out.print(f"    curl -H 'Authorization: Bearer {node.admin_token}' {node.base_url}/admin/api/locations")


async def _until_interrupted(report: DemoReport) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for node in (report.cpo, report.emsp):
        if node is not None:
            await node.stop()
