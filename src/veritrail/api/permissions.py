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
        return actor

    setattr(dependency, ACTION_ATTRIBUTE, action)
    dependency.__name__ = f"requires_{action.value.replace('.', '_')}"
    return dependency


def public() -> None:
    """Marks a route open to anyone."""


setattr(public, ACTION_ATTRIBUTE, Action.PUBLIC)

__all__ = ["ACTION_ATTRIBUTE", "declared_action", "public", "requires"]
