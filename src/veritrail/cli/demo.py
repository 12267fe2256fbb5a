"""``veritrail demo``: load the demo world into the configured database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from veritrail.cli.common import context, err, handle_errors, out
from veritrail.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from veritrail.errors import Conflict
from veritrail.queries.accounts import is_empty
from veritrail.store.migrate import upgrade


def print_logins() -> None:
    table = Table("username", "password", "role", "organisation", title="Demo accounts")
    for user in DEMO_USERS:
        table.add_row(user.username, DEMO_PASSWORD, user.role.value, user.organisation)
    out.print(table)


@handle_errors(None)
def demo(
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same world.")
    ] = 1540,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (but print the logins) if data exists.")
    ] = False,
) -> None:
    """Load the demo world: all states, facilities, three years of declarations, users."""
    with context() as ctx:
        upgrade(ctx.engine)
        if not is_empty(ctx):
            if if_empty:
                err.print("demo: the database already holds data; leaving it as it is")
                print_logins()
                return
            raise Conflict("the database already holds data; the demo loads into an empty one")
        columns = (
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=False) as bar:
            tasks: dict[str, TaskID] = {}

            def tick(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                bar.update(tasks[label], completed=done, total=total)

            summary = load_demo(ctx, seed=seed, progress=tick)
    out.print(
        f"demo world: {summary.states} states, {summary.facilities} facilities, "
        f"{summary.declarations} declarations ({summary.amendments} amended, {summary.late} late, "
        f"{summary.missing} missing, {summary.nothing_to_declare} nothing to declare), "
        f"{len(summary.planted)} planted transfer inconsistencies"
    )
    print_logins()
