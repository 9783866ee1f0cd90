"""`evroam price`: price a CDR against its tariff and check the CDR's own totals (the eMSP's invoice check)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from evroam.cli.common import AsJson, app, err, out
from evroam.tariffs import PricingError, PricingResult, price_periods, read_cdr, read_tariff, tariff_of
from evroam.tariffs.audit import Difference, compare_costs
from evroam.tariffs.clock import from_us

__all__ = ["price"]

# Exit codes: 0 the CDR's totals agree with ours, 1 they differ, 2 the input cannot be priced.
INPUT_ERROR = 2


def _stop(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(INPUT_ERROR)


def _load(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _stop(f"cannot read {what} {path}: {exc}")


@app.command()
def price(
    cdr: Annotated[Path, typer.Option("--cdr", help="CDR JSON file (only the pricing-relevant fields are needed).")],
    tariff: Annotated[
        Path | None,
        typer.Option("--tariff", help="Tariff JSON file; default: the tariff the CDR embeds (`tariffs`)."),
    ] = None,
    time_zone: Annotated[
        str,
        typer.Option("--time-zone", help="IANA time zone of the Location; a CDR does not carry one."),
    ] = "UTC",
    as_json: AsJson = False,
) -> None:
    """Price a CDR's charging periods and compare with its stated totals: exit 0 when they agree within the
    currency's rounding, 1 when they differ, 2 when the input cannot be priced. --json prints amounts as
    decimal strings."""
    warnings: list[str] = []
    try:
        document = read_cdr(_load(cdr, "CDR"))
        warnings.extend(document.warnings)
        if tariff is not None:
            chosen, filled = read_tariff(_load(tariff, "tariff"))
            if filled:
                warnings.append(f"tariff lacks {', '.join(filled)} (not needed for pricing)")
        elif document.tariffs:
            chosen = tariff_of(document.charging_periods, document.tariffs)
        else:
            _stop("the CDR embeds no tariff: pass --tariff")
        core = document.core
        if core.currency is not None and core.currency.upper() != chosen.currency.upper():
            warnings.append(f"CDR currency {core.currency} differs from tariff currency {chosen.currency}")
        result = price_periods(
            chosen, document.charging_periods, start=core.start_date_time, end=core.end_date_time, time_zone=time_zone
        )
    except PricingError as exc:
        _stop(str(exc))
    differences = compare_costs(result, document.stated_costs())
    agrees = all(d.agrees for d in differences)
    if as_json:
        print(json.dumps(_as_json(result, differences, agrees, warnings, document.stated_quantities()), indent=2))
    else:
        _show(result, differences, agrees, warnings)
    if not agrees:
        raise typer.Exit(1)


def _as_json(
    result: PricingResult,
    differences: list[Difference],
    agrees: bool,
    warnings: list[str],
    quantities: dict[str, Any],
) -> dict[str, Any]:
    return {
        "agrees": agrees,
        "warnings": warnings,
        "differences": [
            {k: v if isinstance(v, bool | str) else str(v) for k, v in d._asdict().items()} for d in differences
        ],
        "stated_quantities": {k: str(v) for k, v in quantities.items()},
        "result": result.to_dict(),
    }


def _show(result: PricingResult, differences: list[Difference], agrees: bool, warnings: list[str]) -> None:
    first = f"{from_us(result.periods[0].start_us):%Y-%m-%d %H:%M} UTC, " if result.periods else ""
    out.print(f"{first}tariff {escape(result.tariff_id)}, {result.currency}, local time {escape(result.time_zone)}")
    for warning in warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    table = Table("UTC", "dimension", "element", "volume", "billed", "price", "VAT %", "excl", "incl")
    for period in result.periods:
        span = f"{from_us(period.start_us):%H:%M:%S}-{from_us(period.end_us):%H:%M:%S}"
        for line in period.lines:
            billed = f"{line.billed_volume:.6g}"
            if line.step is not None and line.step.billed != line.step.consumed:
                billed += f" (step {line.step.step_size} {line.step.unit})"
            table.add_row(
                span,
                line.dimension.value,
                escape(f"{line.tariff_id}#{line.element_index}"),
                f"{line.volume:.6g}",
                billed,
                str(line.price),
                "-" if line.vat is None else str(line.vat),
                f"{line.excl_vat:.6g}",
                f"{line.incl_vat:.6g}",
            )
    out.print(table)
    for limit in result.limits:
        out.print(f"{limit.limit} changes {limit.part} from {limit.before:.6g} to {limit.after}")
    for note in result.notes:
        out.print(f"note: {escape(note)}")
    out.print(
        f"total {result.total_cost.excl_vat} excl. VAT, {result.total_cost.incl_vat} incl. VAT "
        f"(unrounded {result.unrounded.excl_vat:.10g} / {result.unrounded.incl_vat:.10g}); "
        f"energy {result.total_energy:.6g} kWh, time {result.total_time:.6g} h, "
        f"parking {result.total_parking_time:.6g} h"
    )
    if not differences:
        out.print("the CDR states no costs to compare")
        return
    check = Table("CDR field", "part", "CDR", "ours", "difference", "")
    for d in differences:
        mark = "[green]ok[/green]" if d.agrees else "[red]differs[/red]"
        check.add_row(d.field, d.part, str(d.stated), str(d.computed), str(d.difference), mark)
    out.print(check)
    out.print("[green]the CDR's totals agree[/green]" if agrees else "[red]the CDR's totals differ[/red]")
