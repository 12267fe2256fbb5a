"""The ``veritrail`` command line."""

from __future__ import annotations

import typer

from veritrail.cli import db, declare, demo, regimes, serve, status, token

app = typer.Typer(
    name="veritrail",
    help="Veritrail: declarations, verification records and a tamper-evident log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(regimes.app, name="regimes")
app.add_typer(declare.app, name="declare")
app.add_typer(token.app, name="token")
app.command("serve")(serve.serve)
app.command("status")(status.status)
app.command("demo")(demo.demo)


def main() -> None:
    app()


__all__ = ["app", "main"]
