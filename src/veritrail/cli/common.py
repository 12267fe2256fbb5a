"""What every command shares: the context, output, and turning errors into exit codes.

Exit codes: 0 success, 1 the input or the request was refused (with the reason),
2 the command was used wrongly (Typer's own usage errors).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from veritrail.access import OPERATOR, Actor
from veritrail.actions import Context
from veritrail.errors import InputError, ValidationFailed, VeritrailError
from veritrail.queries.accounts import actor_for
from veritrail.settings import get_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")

# Set by the global ``--as USER`` option: whose rights the command runs with.
_acting_as: list[str] = []
R = TypeVar("R")


@contextmanager
def context() -> Iterator[Context]:
    ctx = Context.from_settings(get_settings())
    try:
        yield ctx
    finally:
        ctx.close()


def act_as(username: str | None) -> None:
    """Narrow every following command to ``username``'s rights (``--as USER``)."""
    _acting_as.clear()
    if username:
        _acting_as.append(username)


def acting_actor(ctx: Context) -> Actor:
    """The local operator, or the user named with ``--as``.

    Run on the server machine against its data directory, the command line acts
    as the operator (every write is attributed to ``operator`` in the audit log);
    ``--as USER`` gives it that user's rights instead.
    """
    if not _acting_as:
        return OPERATOR
    actor = actor_for(ctx, _acting_as[0])
    if actor is None:
        raise InputError(f"--as {_acting_as[0]!r}: no active user of that name")
    return actor


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, nothing else on it."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def handle_errors(
    as_json_param: str | None = "as_json",
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn Veritrail errors into a message (or JSON) and exit code 1."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except VeritrailError as exc:
                if as_json_param and kwargs.get(as_json_param):
                    print_json({"ok": False, **exc.as_dict()})
                else:
                    report_error(exc)
                raise typer.Exit(1) from None

        return wrapper

    return decorate


def report_error(exc: VeritrailError) -> None:
    err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    if isinstance(exc, ValidationFailed):
        for problem in exc.problems:
            colour = "yellow" if problem.severity == "warning" else "red"
            err.print(
                f"  [{colour}]{problem.severity}[/] [bold]{problem.path or '/'}[/] "
                f"({problem.code}): {problem.message}",
                highlight=False,
            )


__all__ = [
    "act_as",
    "acting_actor",
    "context",
    "err",
    "handle_errors",
    "out",
    "print_json",
    "report_error",
]
