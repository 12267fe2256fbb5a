"""One policy: ``can(actor, action, resource)``.

Every permission is a row of :data:`GRANTS`: for a role and an action, the
highest classification the role may reach on a resource its own state owns,
and on one it does not. The same table answers single checks (:func:`can`),
builds the SQL filter of lists and searches (:func:`readable_classifications`),
and renders ``docs/permissions.md``; a test walks every role, action,
classification and ownership through it.

Highly protected material is further limited to the members of the record's
need-to-know group, whatever the role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from veritrail.access.actor import Actor, Role
from veritrail.errors import Forbidden
from veritrail.regimes.model import Classification

LEVELS: tuple[Classification, ...] = (
    Classification.PUBLIC,
    Classification.RESTRICTED,
    Classification.PROTECTED,
    Classification.HIGHLY_PROTECTED,
)


class Action(StrEnum):
    """What an actor may want to do. Each value is documented in DESCRIPTIONS."""

    PUBLIC = "public"
    DECLARATION_READ = "declaration.read"
    DECLARATION_SUBMIT = "declaration.submit"
    DECLARATION_RECLASSIFY = "declaration.reclassify"
    STATUS_READ = "status.read"
    REFERENCE_READ = "reference.read"
    ACCESS_LOG_READ = "access_log.read"
    USER_MANAGE = "user.manage"
    TOKEN_MANAGE_OWN = "token.manage_own"  # noqa: S105 - a permission name, not a secret
    MY_DATA_EXPORT = "my_data.export"
    SIGNING_KEY_READ = "signing_key.read"
    SIGNING_KEY_MANAGE = "signing_key.manage"
    ARCHIVE_READ = "archive.read"
    ARCHIVE_IMPORT = "archive.import"
    ARCHIVE_RECLASSIFY = "archive.reclassify"
    ANALYSIS_READ = "analysis.read"
    TRANSFERS_IMPORT = "transfers.import"
    CASE_READ = "case.read"
    CASE_MANAGE = "case.manage"
    CASE_ANSWER = "case.answer"


DESCRIPTIONS: dict[Action, str] = {
    Action.PUBLIC: "Pages and endpoints open to anyone: sign-in, health, API description.",
    Action.DECLARATION_READ: "Read a declaration, its versions, original files and diffs.",
    Action.DECLARATION_SUBMIT: "Submit, amend, save drafts of and pre-fill declarations.",
    Action.DECLARATION_RECLASSIFY: "Change the classification of a declaration (logged).",
    Action.STATUS_READ: "See reporting status (on time, late, missing) per state and regime.",
    Action.REFERENCE_READ: "Read regimes, templates, states and facilities.",
    Action.ACCESS_LOG_READ: "Read the log of reads of protected and highly protected material.",
    Action.USER_MANAGE: "Manage organisations, users, roles, lock-outs and tokens of others.",
    Action.TOKEN_MANAGE_OWN: "Create and revoke one's own API tokens.",
    Action.MY_DATA_EXPORT: "Export everything one's own state submitted, with receipts.",
    Action.SIGNING_KEY_READ: "See the Ed25519 keys a state registered to sign its declarations.",
    Action.SIGNING_KEY_MANAGE: "Register, rotate and revoke a state's signing keys (logged).",
    Action.ARCHIVE_READ: "Find, read and download archive documents (search applies it too).",
    Action.ARCHIVE_IMPORT: "Add files to the archive (upload or bulk import), at a classification.",
    Action.ARCHIVE_RECLASSIFY: "Change the classification of an archive document (logged).",
    Action.ANALYSIS_READ: "Run the checks (reconciliation, anomalies and others); the dashboard.",
    Action.TRANSFERS_IMPORT: "Load transfer lines from a file of another system (logged).",
    Action.CASE_READ: "See discrepancy cases: all of them, or those concerning one's own state.",
    Action.CASE_MANAGE: "Open, assign, ask states about, close and reopen cases (logged).",
    Action.CASE_ANSWER: "Answer a clarification request to one's own state (logged).",
}


@dataclass(frozen=True, slots=True)
class Grant:
    """Highest classification reachable on one's own state's resources and on others'."""

    own: Classification | None
    other: Classification | None


@dataclass(frozen=True, slots=True)
class Resource:
    """What a permission is checked against."""

    owner_state: str | None = None
    classification: Classification = Classification.PUBLIC
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    logged: bool = False  # a read that must go to the access log


HP = Classification.HIGHLY_PROTECTED
PR = Classification.PROTECTED
RE = Classification.RESTRICTED
PU = Classification.PUBLIC
ALL = Grant(own=HP, other=HP)
NONE = Grant(own=None, other=None)

_NATIONAL_COMMON: dict[Action, Grant] = {
    Action.PUBLIC: ALL,
    Action.DECLARATION_READ: Grant(own=HP, other=PU),
    Action.STATUS_READ: Grant(own=HP, other=None),
    Action.REFERENCE_READ: ALL,
    Action.TOKEN_MANAGE_OWN: ALL,
    Action.MY_DATA_EXPORT: Grant(own=HP, other=None),
    Action.SIGNING_KEY_READ: Grant(own=HP, other=None),
    Action.ARCHIVE_READ: Grant(own=HP, other=PU),
    Action.CASE_READ: Grant(own=HP, other=None),
}
_SECRETARIAT_COMMON: dict[Action, Grant] = {
    Action.PUBLIC: ALL,
    Action.REFERENCE_READ: ALL,
    Action.TOKEN_MANAGE_OWN: ALL,
    # Public keys: the secretariat checks who signed what.
    Action.SIGNING_KEY_READ: ALL,
}

GRANTS: dict[Role, dict[Action, Grant]] = {
    Role.NA_SUBMITTER: {
        **_NATIONAL_COMMON,
        Action.DECLARATION_SUBMIT: Grant(own=HP, other=None),
        Action.SIGNING_KEY_MANAGE: Grant(own=HP, other=None),
        Action.CASE_ANSWER: Grant(own=HP, other=None),
    },
    Role.NA_VIEWER: dict(_NATIONAL_COMMON),
    Role.ANALYST: {
        **_SECRETARIAT_COMMON,
        Action.DECLARATION_READ: Grant(own=HP, other=HP),
        Action.DECLARATION_RECLASSIFY: Grant(own=HP, other=HP),
        Action.STATUS_READ: ALL,
        Action.ARCHIVE_READ: ALL,
        Action.ARCHIVE_IMPORT: ALL,
        Action.ARCHIVE_RECLASSIFY: ALL,
        Action.ANALYSIS_READ: ALL,
        Action.TRANSFERS_IMPORT: ALL,
        Action.CASE_READ: ALL,
        Action.CASE_MANAGE: ALL,
    },
    Role.INSPECTOR: {
        **_SECRETARIAT_COMMON,
        Action.DECLARATION_READ: Grant(own=HP, other=HP),
        Action.STATUS_READ: ALL,
        Action.ARCHIVE_READ: ALL,
        Action.ARCHIVE_IMPORT: ALL,
        Action.ANALYSIS_READ: ALL,
        Action.CASE_READ: ALL,
    },
    Role.INVESTIGATOR: {
        **_SECRETARIAT_COMMON,
        Action.DECLARATION_READ: Grant(own=RE, other=RE),
        Action.ARCHIVE_READ: Grant(own=RE, other=RE),
        Action.ARCHIVE_IMPORT: Grant(own=RE, other=RE),
    },
    Role.AUDITOR: {
        **_SECRETARIAT_COMMON,
        Action.DECLARATION_READ: Grant(own=PU, other=PU),
        Action.STATUS_READ: ALL,
        Action.ACCESS_LOG_READ: ALL,
        Action.ARCHIVE_READ: Grant(own=PU, other=PU),
    },
    Role.ADMIN: {
        **_SECRETARIAT_COMMON,
        Action.DECLARATION_READ: Grant(own=PU, other=PU),
        Action.ARCHIVE_READ: Grant(own=PU, other=PU),
        Action.STATUS_READ: ALL,
        Action.USER_MANAGE: ALL,
        Action.SIGNING_KEY_MANAGE: ALL,
    },
    Role.OPERATOR: dict.fromkeys(Action, ALL),
}

# Reads of protected and highly protected material under these go to the access log.
READS: frozenset[Action] = frozenset(
    {Action.DECLARATION_READ, Action.ARCHIVE_READ, Action.CASE_READ}
)

# Roles that can reach protected material must use a second factor.
NEEDS_SECOND_FACTOR: frozenset[Role] = frozenset(
    role
    for role, grants in GRANTS.items()
    if role is not Role.OPERATOR
    and any(
        g.own in (PR, HP) or g.other in (PR, HP) for action, g in grants.items() if action in READS
    )
)


def _level(classification: Classification) -> int:
    return LEVELS.index(classification)


def decide(
    actor: Actor,
    action: Action,
    resource: Resource | None = None,
    *,
    groups: frozenset[str] = frozenset(),
) -> Decision:
    """The decision with its reason; :func:`can` when only the answer matters."""
    grant = GRANTS.get(actor.role, {}).get(action)
    if grant is None or (grant.own is None and grant.other is None):
        return Decision(False, f"the role {actor.role.value} may not {action.value}")
    if resource is None:
        return Decision(True, "the role has this permission")
    own = resource.owner_state is not None and resource.owner_state == actor.state
    ceiling = grant.own if own else grant.other
    if ceiling is None:
        whose = "its own state's" if own else "another state's"
        return Decision(False, f"the role {actor.role.value} may not {action.value} {whose} data")
    if _level(resource.classification) > _level(ceiling):
        return Decision(
            False,
            f"{resource.classification.value} material is beyond what the role "
            f"{actor.role.value} may reach",
        )
    if (
        resource.classification is HP
        and actor.role is not Role.OPERATOR
        and not own
        and (resource.group_id is None or resource.group_id not in groups)
    ):
        return Decision(False, "highly protected material is limited to its need-to-know group")
    logged = resource.classification in (PR, HP) and action in READS
    return Decision(True, "allowed", logged=logged)


def can(
    actor: Actor,
    action: Action,
    resource: Resource | None = None,
    *,
    groups: frozenset[str] = frozenset(),
) -> bool:
    """May ``actor`` do ``action`` (on ``resource``)?"""
    return decide(actor, action, resource, groups=groups).allowed


def require(
    actor: Actor,
    action: Action,
    resource: Resource | None = None,
    *,
    groups: frozenset[str] = frozenset(),
) -> Decision:
    """The decision, or :class:`Forbidden` with its reason."""
    decision = decide(actor, action, resource, groups=groups)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    return decision


def readable_classifications(actor: Actor, action: Action, *, own: bool) -> list[str]:
    """Classifications ``actor`` may reach for ``action`` on own or others' records.

    Highly protected records of others also need group membership, which
    queries add as their own condition.
    """
    grant = GRANTS.get(actor.role, {}).get(action)
    ceiling = (grant.own if own else grant.other) if grant else None
    if ceiling is None:
        return []
    return [c.value for c in LEVELS[: _level(ceiling) + 1]]


__all__ = [
    "DESCRIPTIONS",
    "GRANTS",
    "LEVELS",
    "NEEDS_SECOND_FACTOR",
    "READS",
    "Action",
    "Decision",
    "Grant",
    "Resource",
    "can",
    "decide",
    "readable_classifications",
    "require",
]
