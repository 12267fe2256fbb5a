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

from veritrail.actions import Context
from veritrail.errors import ValidationFailed, VeritrailError
from veritrail.settings import get_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def context() -> Iterator[Context]:
    ctx = Context.from_settings(get_settings())
    try:
        yield ctx
    finally:
        ctx.close()


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


__all__ = ["context", "err", "handle_errors", "out", "print_json", "report_error"]
