"""``veritrail db``: the database schema."""

from __future__ import annotations

import typer

from veritrail.actions.ledger import integrate
from veritrail.cli.common import context, handle_errors, out
from veritrail.store.migrate import upgrade as run_upgrade

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
@handle_errors(None)
def upgrade() -> None:
    """Bring the database schema up to date (safe to run again)."""
    with context() as ctx:
        run_upgrade(ctx.engine)
        size = integrate(ctx)
        out.print(f"database is up to date: {ctx.engine.url.render_as_string(hide_password=True)}")
        out.print(f"transparency log: {size} entries, checkpoint signed")
