"""Every route declares the permission it needs, through these dependencies.

``requires(Action.X)`` authenticates the caller, checks that its role holds
the permission at all (record-level checks happen in the queries), and marks
the route so that a test can prove no route was forgotten. ``public`` marks
routes open to anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from veritrail.access import Actor
from veritrail.access.policy import Action, require
from veritrail.api.deps import CurrentActor
from veritrail.errors import Forbidden

ACTION_ATTRIBUTE = "__veritrail_action__"


def declared_action(dependency: Any) -> Action | None:
    """The permission a dependency declares, if it is one of ours."""
    action = getattr(dependency, ACTION_ATTRIBUTE, None)
    return action if isinstance(action, Action) else None


@cache
def requires(action: Action) -> Callable[..., Actor]:
    """A dependency giving the authenticated actor once ``action`` is allowed to its role."""

    def dependency(actor: CurrentActor) -> Actor:
        require(actor, action)
        if actor.scopes is not None and action.value not in actor.scopes:
            raise Forbidden(f"this API token does not carry the scope {action.value}")
        return actor

    setattr(dependency, ACTION_ATTRIBUTE, action)
    dependency.__name__ = f"requires_{action.value.replace('.', '_')}"
    return dependency


def public() -> None:
    """Marks a route open to anyone."""


setattr(public, ACTION_ATTRIBUTE, Action.PUBLIC)


def route_permissions(app: Any) -> list[tuple[str, str, Action | None]]:
    """(methods, path, declared permission) of every route of ``app``, however included."""
    from fastapi.routing import APIRoute, iter_route_contexts

    rows: list[tuple[str, str, Action | None]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        found: Action | None = None
        stack = [route.dependant]
        while stack and found is None:
            dependant = stack.pop()
            found = declared_action(dependant.call) if dependant.call else None
            stack.extend(dependant.dependencies)
        methods = ",".join(sorted(route.methods or ()))
        rows.append((methods, context.path or route.path, found))
    return sorted(rows, key=lambda r: (r[1], r[0]))


def render_markdown(app: Any) -> str:
    """``docs/permissions.md``: the actions, the grants, the decisions and every route."""
    from veritrail.access.actor import NATIONAL, Actor, Role
    from veritrail.access.policy import (
        DESCRIPTIONS,
        GRANTS,
        LEVELS,
        NEEDS_SECOND_FACTOR,
        Resource,
        decide,
    )

    lines = [
        "# Permissions",
        "",
        "Generated from `veritrail.access.policy` and the application's routes by",
        "`scripts/make_permissions_doc.py`; a test fails when this page is out of date,",
        "when a route declares no permission, or when a permission is not listed here.",
        "",
        "One policy answers `can(actor, action, resource)`. A grant gives, for a role and an",
        "action, the highest classification the role reaches on records its own state owns",
        "and on records of others. Highly protected records of others are further limited to",
        "the members of their need-to-know group. Reads of protected and highly protected",
        "material are written to the access log.",
        "",
        "## Actions",
        "",
        "| action | meaning |",
        "| --- | --- |",
    ]
    lines += [f"| `{a.value}` | {DESCRIPTIONS[a]} |" for a in Action]
    lines += [
        "",
        "## Grants",
        "",
        "Highest classification reached on the role's own state's records / on others':",
        "PU public, RE restricted, PR protected, HP highly protected; `all` for every",
        "classification and owner; `-` for none.",
        "",
    ]
    roles = list(Role)
    lines.append("| action | " + " | ".join(f"`{r.value}`" for r in roles) + " |")
    lines.append("| --- |" + " --- |" * len(roles))
    short = {LEVELS[0]: "PU", LEVELS[1]: "RE", LEVELS[2]: "PR", LEVELS[3]: "HP"}
    for action in Action:
        cells = []
        for role in roles:
            grant = GRANTS.get(role, {}).get(action)
            if grant is None or (grant.own is None and grant.other is None):
                cells.append("-")
            elif grant.own is LEVELS[3] and grant.other is LEVELS[3]:
                cells.append("all")
            else:
                mine = short[grant.own] if grant.own else "-"
                theirs = short[grant.other] if grant.other else "-"
                cells.append(f"{mine} / {theirs}")
        lines.append(f"| `{action.value}` | " + " | ".join(cells) + " |")
    second = ", ".join(f"`{r.value}`" for r in sorted(NEEDS_SECOND_FACTOR))
    lines += ["", f"Roles that must sign in with a second factor (TOTP): {second}.", ""]
    lines += [
        "## Decisions on declarations",
        "",
        "Every role, classification and ownership through `can()` for "
        "`declaration.read` (R) and `declaration.submit` (S); `L` marks a read that is "
        "logged; `G` a read allowed only to need-to-know group members.",
        "",
    ]
    header = "| role | ownership | " + " | ".join(c.value for c in LEVELS) + " |"
    lines += [header, "| --- | --- |" + " --- |" * len(LEVELS)]
    for role in roles:
        national = role in NATIONAL
        actor = Actor(username="x", role=role, state="AAA" if national else None)
        for own in (True, False) if national else (False,):
            cells = []
            for level in LEVELS:
                resource = Resource(
                    owner_state="AAA" if own else "BBB", classification=level, group_id="g"
                )
                read = decide(actor, Action.DECLARATION_READ, resource)
                in_group = decide(actor, Action.DECLARATION_READ, resource, groups=frozenset({"g"}))
                mark = ""
                if read.allowed:
                    mark = "R" + ("L" if read.logged else "")
                elif in_group.allowed:
                    mark = "RG" + ("L" if in_group.logged else "")
                if decide(actor, Action.DECLARATION_SUBMIT, resource).allowed:
                    mark += " S"
                cells.append(mark.strip() or "-")
            whose = ("own state" if own else "other states") if national else "any state"
            lines.append(f"| `{role.value}` | {whose} | " + " | ".join(cells) + " |")
    lines += ["", "## Routes", "", "| methods | path | permission |", "| --- | --- | --- |"]
    for methods, path, declared in route_permissions(app):
        lines.append(f"| {methods} | `{path}` | `{declared.value if declared else 'NONE'}` |")
    return "\n".join(lines) + "\n"


__all__ = [
    "ACTION_ATTRIBUTE",
    "declared_action",
    "public",
    "render_markdown",
    "requires",
    "route_permissions",
]
