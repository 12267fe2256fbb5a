"""``veritrail totp-code``: the current second-factor code of a user, for the operator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from veritrail.access import Role
from veritrail.access.totp import code_at
from veritrail.cli.common import acting_actor, context, handle_errors, out
from veritrail.errors import Forbidden, NotFound
from veritrail.queries.accounts import second_factor_secret


@handle_errors(None)
def totp_code(username: Annotated[str, typer.Argument(metavar="USER")]) -> None:
    """Print USER's current TOTP code (local operator only; handy with the demo accounts)."""
    with context() as ctx:
        if acting_actor(ctx).role is not Role.OPERATOR:
            raise Forbidden("only the local operator may read second-factor codes")
        secret = second_factor_secret(ctx, username=username)
    if secret is None:
        raise NotFound(f"{username!r} has no second factor (or no such user)")
    now = datetime.now(UTC)
    left = 30 - int(now.timestamp()) % 30
    out.print(f"{code_at(secret, now)}  (valid for {left} more seconds)", highlight=False)
