"""Documentation that cannot rot: the README and the CLI agree."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.main import get_group

from veritrail.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: object, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, command in getattr(group, "commands", {}).items():
        full = f"{prefix}{name}"
        if getattr(command, "commands", None):
            names |= _commands(command, full + " ")
        else:
            names.add(full)
    return names


def test_every_cli_command_is_in_the_readme() -> None:
    commands = _commands(get_group(app))
    assert {"declare submit", "declare validate", "db upgrade", "serve", "demo"} <= commands
    missing = sorted(c for c in commands if f"veritrail {c}" not in README)
    assert not missing, f"commands not shown in README.md: {missing}"


def test_every_command_the_readme_shows_exists() -> None:
    commands = _commands(get_group(app))
    shown = set(re.findall(r"veritrail ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", README))
    # Two words name a command, or a group of them (`declare keys` of `declare keys list`).
    groups = {c.rsplit(" ", 1)[0] for c in commands if c.count(" ") > 1}
    unknown = sorted(
        s for s in shown if s not in commands | groups and s.split()[0] not in commands
    )
    assert not unknown, f"README.md shows commands that do not exist: {unknown}"


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("## A short tour")[0]
    assert "make run" in head and "make test" in head
    assert isinstance(app, typer.Typer)
