"""``veritrail status``: who has reported what, and when."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from veritrail.cli.common import acting_actor, context, handle_errors, out, print_json
from veritrail.queries import status_table


@handle_errors()
def status(
    period: Annotated[
        int | None, typer.Option(help="Year reported on (default: last year).")
    ] = None,
    regime: Annotated[str | None, typer.Option()] = None,
    state: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-3.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Reporting status per state and regime: on time, late, missing, nothing to declare."""
    period = period or datetime.now(UTC).year - 1
    with context() as ctx:
        cells = status_table(
            ctx, actor=acting_actor(ctx), period=period, regime=regime, state=state
        )
    if as_json:
        print_json(cells)
        return
    counts = Counter((c.regime, c.status.value) for c in cells)
    table = Table("regime", "status", "states")
    for (regime_id, value), n in sorted(counts.items()):
        table.add_row(regime_id, value, str(n))
    out.print(f"reporting status for {period}")
    out.print(table)
