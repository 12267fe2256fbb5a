"""The access policy as search providers apply it: one branch per way a record is visible.

Built from the same grants as ``can`` (``access.policy``), per record type:
declarations under ``declaration.read``, archive documents under
``archive.read``. A provider puts these branches inside the query it runs, so
totals, facet counts and snippets only ever cover what the reader may see.
"""

from __future__ import annotations

from veritrail.access import Actor, Role
from veritrail.access.policy import Action, readable_classifications
from veritrail.regimes.model import Classification
from veritrail.search.model import Branch, RecordType, Visibility

READ_ACTION: dict[RecordType, Action] = {
    RecordType.DECLARATION: Action.DECLARATION_READ,
    RecordType.DOCUMENT: Action.ARCHIVE_READ,
}

_HP = Classification.HIGHLY_PROTECTED.value


def _branches(actor: Actor, record_type: RecordType) -> list[Branch]:
    action = READ_ACTION[record_type]
    own = readable_classifications(actor, action, own=True)
    other = readable_classifications(actor, action, own=False)
    branches: list[Branch] = []
    if actor.state is not None and own:
        branches.append(Branch(record_type, tuple(own), owner_state=actor.state))
    levels = tuple(c for c in other if c != _HP)
    if levels:
        branches.append(Branch(record_type, levels, not_owner_state=actor.state))
    if _HP in other:
        if actor.role is Role.OPERATOR:
            branches.append(Branch(record_type, (_HP,), not_owner_state=actor.state))
        elif actor.groups:
            branches.append(
                Branch(
                    record_type,
                    (_HP,),
                    not_owner_state=actor.state,
                    groups=tuple(sorted(actor.groups)),
                )
            )
    return branches


def visibility(actor: Actor) -> Visibility:
    """Every branch through which ``actor`` may see a declaration or a document.

    An API token without the scope of a record type's read permission sees none of it.
    """
    return tuple(
        branch
        for rt in RecordType
        if actor.scopes is None or READ_ACTION[rt].value in actor.scopes
        for branch in _branches(actor, rt)
    )


__all__ = ["READ_ACTION", "visibility"]
