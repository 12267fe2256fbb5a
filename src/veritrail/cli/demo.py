"""``veritrail demo``: load the demo world into the configured database."""

from __future__ import annotations

from datetime import UTC, datetime
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

from veritrail.access import totp
from veritrail.actions import Context
from veritrail.cli.common import context, err, handle_errors, out
from veritrail.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from veritrail.errors import ConfigurationError, Conflict
from veritrail.queries.accounts import is_empty, second_factor_secret
from veritrail.search.indexer import sync_quietly
from veritrail.store.migrate import upgrade


def print_logins(ctx: Context, *, now: datetime | None = None) -> None:
    """The demo accounts, then the TOTP secret and current code of those that need one.

    Secrets are read from the database, so they are right whatever seed loaded it.
    They are printed on lines of their own, so that no table folds them.
    """
    now = now or datetime.now(UTC)
    left = totp.STEP_SECONDS - int(now.timestamp()) % totp.STEP_SECONDS
    table = Table("username", "password", "role", "organisation", "TOTP", title="Demo accounts")
    secrets: list[tuple[str, str, str]] = []
    for user in DEMO_USERS:
        try:
            secret = second_factor_secret(ctx, username=user.username)
        except ConfigurationError:
            secrets.append((user.username, "(unreadable: enrols again at sign-in)", ""))
            secret = None
        else:
            if secret:
                secrets.append((user.username, secret, totp.code_at(secret, now)))
        table.add_row(
            user.username,
            DEMO_PASSWORD,
            user.role.value,
            user.organisation,
            "yes" if secret else "-",
        )
    out.print(table)
    if not secrets:
        return
    out.print(
        "TOTP secrets (add one to an authenticator app, or get the current code with "
        f"`.venv/bin/veritrail totp-code USER`); codes valid for {left} more seconds:"
    )
    for username, secret, code in secrets:
        out.print(f"  {username:<14} secret {secret}  code {code}", highlight=False)


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
                print_logins(ctx)
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
        sync_quietly(ctx)  # the search index, built now rather than on the first search
        out.print(
            f"demo world: {summary.states} states, {summary.facilities} facilities, "
            f"{summary.declarations} declarations ({summary.amendments} amended, "
            f"{summary.late} late, {summary.missing} missing, "
            f"{summary.nothing_to_declare} nothing to declare), "
            f"{summary.documents} archive documents, "
            f"{len(summary.planted)} planted transfer inconsistencies, "
            f"{summary.cases} discrepancy cases opened"
        )
        print_logins(ctx)
