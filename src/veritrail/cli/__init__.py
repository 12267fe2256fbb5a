"""The ``veritrail`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

from veritrail.cli import (
    account,
    analyze,
    archive,
    audit,
    db,
    declare,
    demo,
    ledger,
    regimes,
    search,
    serve,
    status,
    token,
    verify,
    witness,
)
from veritrail.cli.common import act_as

app = typer.Typer(
    name="veritrail",
    help="Veritrail: declarations, verification records and a tamper-evident log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="USER",
            help="Run with USER's rights instead of the local operator's.",
        ),
    ] = None,
) -> None:
    """Veritrail: declarations, verification records and a tamper-evident log."""
    act_as(as_user)


app.add_typer(db.app, name="db")
app.add_typer(regimes.app, name="regimes")
app.add_typer(declare.app, name="declare")
app.add_typer(token.app, name="token")
app.add_typer(ledger.app, name="ledger")
app.add_typer(verify.app, name="verify")
app.add_typer(witness.app, name="witness")
app.add_typer(archive.app, name="archive")
app.add_typer(analyze.app, name="analyze")
app.add_typer(analyze.transfers_app, name="transfers")
app.add_typer(analyze.cases_app, name="cases")
app.command("search")(search.search)
app.command("serve")(serve.serve)
app.command("status")(status.status)
app.command("demo")(demo.demo)
app.command("totp-code")(account.totp_code)
app.command("audit")(audit.audit)


def main() -> None:
    app()


__all__ = ["app", "main"]
