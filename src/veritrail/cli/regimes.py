"""``veritrail regimes``: the regime packs this installation knows."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

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
    table = Table("regime", "type", "title", "due", "expected", "classification")
    for pack in packs:
        for t in pack.types.values():
            due = f"{t.deadline.day:02d}-{t.deadline.month:02d} (+{t.deadline.year_offset}y)"
            table.add_row(pack.regime.id, t.id, t.title.en, due, t.expected, t.classification.value)
    out.print(table)
