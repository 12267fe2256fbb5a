"""``veritrail regimes``: the regime packs this installation knows."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from veritrail.cli.common import context, handle_errors, out, print_json

app = typer.Typer(help="Regime packs and their declaration types.", no_args_is_help=True)


@app.command("list")
@handle_errors()
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List regimes, their declaration types and deadlines."""
    with context() as ctx:
        packs = list(ctx.registry.packs.values())
    if as_json:
        print_json(
            [
                {
                    "id": pack.regime.id,
                    "name": pack.regime.short_name.en,
                    "parties": len(pack.parties()),
                    "types": [
                        {
                            "id": t.id,
                            "title": t.title.en,
                            "reference": t.reference,
                            "deadline": {
                                "month": t.deadline.month,
                                "day": t.deadline.day,
                                "year_offset": t.deadline.year_offset,
                            },
                            "expected": t.expected,
                            "classification": t.classification.value,
                        }
                        for t in pack.types.values()
                    ],
                }
                for pack in packs
            ]
        )
        return
    rows = [
        (
            pack.regime.id,
            t.id,
            date(2001, t.deadline.month, t.deadline.day).strftime("%d %b")
            + f" (+{t.deadline.year_offset}y)",
            t.expected,
            t.classification.value,
            t.title.en,
        )
        for pack in packs
        for t in pack.types.values()
    ]
    names = ("regime", "type", "due", "expected", "classification", "title")
    widths = [max(len(names[i]), *(len(row[i]) for row in rows)) for i in range(5)]
    for row in [names, *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        out.print(
            f"{line}  {row[5]}", highlight=False, markup=False, overflow="ellipsis", no_wrap=True
        )
