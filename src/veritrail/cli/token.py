"""``veritrail token``: API tokens for machine clients, created and revoked by the local operator.

The token is printed once, alone on stdout (so ``$(veritrail token create …)``
captures it); everything else goes to stderr. Only its SHA-256 is stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from veritrail.actions.tokens import MAX_LIFETIME, do_create_token, do_revoke_token
from veritrail.cli.common import acting_actor, context, err, handle_errors, out, print_json
from veritrail.errors import InputError
from veritrail.queries.tokens import list_tokens

app = typer.Typer(help="API tokens for machine clients.", no_args_is_help=True)

_LIFETIME = re.compile(r"^\s*(\d{1,4})\s*([dwh])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_lifetime(text: str) -> timedelta:
    """``90d``, ``12w`` or ``36h``: a lifetime of at most 365 days."""
    match = _LIFETIME.match(text)
    if match is None:
        raise InputError(f"--expires {text!r}: write a lifetime such as 90d, 12w or 36h")
    lifetime = int(match.group(1)) * _UNITS[match.group(2)]
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise InputError(f"--expires {text!r}: a token lives between 1 hour and 365 days")
    return lifetime


@app.command("create")
@handle_errors()
def create(
    user: Annotated[str, typer.Option("--user", help="Username the token acts for.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="A permission the token carries (repeat), e.g. "
            "declaration.read; never more than the user's role.",
        ),
    ],
    expires: Annotated[str, typer.Option(help="Lifetime: 90d, 12w, 36h (at most 365d).")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. ci.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API token for a user; it is printed once and cannot be shown again."""
    lifetime = parse_lifetime(expires)
    now = datetime.now(UTC)
    with context() as ctx:
        created = do_create_token(
            ctx,
            actor=acting_actor(ctx),
            username=user,
            name=name,
            scopes=scope,
            expires_at=now + lifetime,
            now=now,
        )
    if as_json:
        print_json(created)
        return
    err.print(
        f"created {created.id} for {created.username} ({', '.join(created.scopes)}), "
        f"expires {created.expires_at:%Y-%m-%d %H:%M} UTC; it is shown only now:",
        highlight=False,
    )
    typer.echo(created.token)


@app.command("list")
@handle_errors()
def list_(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List API tokens (never their secrets), newest first."""
    with context() as ctx:
        rows = list_tokens(ctx, actor=acting_actor(ctx), everyone=True, owner=user)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "user", "name", "scopes", "expires", "last used", "state")
    for row in rows:
        table.add_row(
            row.id,
            row.username,
            row.name,
            ", ".join(row.scopes),
            f"{row.expires_at:%Y-%m-%d}",
            f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "-",
            row.state.value,
        )
    out.print(table)


@app.command("revoke")
@handle_errors(None)
def revoke(token_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Revoke an API token at once."""
    with context() as ctx:
        changed = do_revoke_token(ctx, actor=acting_actor(ctx), token_id=token_id)
    out.print(f"revoked {token_id}" if changed else f"{token_id} was already revoked")
