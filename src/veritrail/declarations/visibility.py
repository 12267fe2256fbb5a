"""The policy for reading declarations as SQL conditions, for every query that lists them.

Built from the same grants as :func:`veritrail.access.policy.can`, so a list,
a count, a search or an analysis never reaches a declaration its reader could
not open.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_

from veritrail.access import Actor, Role
from veritrail.access.policy import LEVELS, Action, readable_classifications
from veritrail.regimes.model import Classification
from veritrail.store.models import Declaration


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """The policy for reading declarations as one WHERE clause."""
    branches = visible_branches(actor)
    return or_(*branches) if branches else false()


def visible_branches(actor: Actor) -> list[ColumnElement[bool]]:
    """The policy for reading declarations as alternatives, each one index-friendly.

    Built from the same grants as ``can``: the actor's own state's records up to
    its own ceiling, others' records up to its other ceiling, and others'
    highly protected records only in the actor's need-to-know groups.
    """
    own = readable_classifications(actor, Action.DECLARATION_READ, own=True)
    other = readable_classifications(actor, Action.DECLARATION_READ, own=False)
    everything = len(own) == len(LEVELS)
    branches: list[ColumnElement[bool]] = []
    if actor.state is not None and own:
        mine = Declaration.state == actor.state
        branches.append(mine if everything else and_(mine, Declaration.classification.in_(own)))
    not_mine = [Declaration.state != actor.state] if actor.state is not None else []
    hp = Classification.HIGHLY_PROTECTED.value
    levels = [c for c in other if c != hp]
    if levels:
        reach = (
            Declaration.classification.in_(levels)
            if len(levels) > 1
            else Declaration.classification == levels[0]
        )
        branches.append(and_(reach, *not_mine) if not_mine else reach)
    if hp in other:
        if actor.role is Role.OPERATOR:
            branches.append(and_(Declaration.classification == hp, *not_mine))
        elif actor.groups:
            branches.append(
                and_(
                    Declaration.classification == hp,
                    Declaration.group_id.in_(sorted(actor.groups)),
                    *not_mine,
                )
            )
    return branches


__all__ = ["visible_branches", "visible_clause"]
