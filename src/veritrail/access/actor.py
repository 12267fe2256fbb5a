"""The actor behind every read and write.

Who may do what is decided by ``veritrail.access.policy``; the helpers here
ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from veritrail.errors import Forbidden


class Role(StrEnum):
    NA_SUBMITTER = "na_submitter"
    NA_VIEWER = "na_viewer"
    ANALYST = "analyst"
    INSPECTOR = "inspector"
    INVESTIGATOR = "investigator"
    AUDITOR = "auditor"
    ADMIN = "admin"
    OPERATOR = "operator"


NATIONAL = frozenset({Role.NA_SUBMITTER, Role.NA_VIEWER})


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: Role
    state: str | None = None  # ISO 3166-1 alpha-3, for national authorities
    organisation_id: str | None = None
    display_name: str = ""
    language: str = "en"
    groups: frozenset[str] = frozenset()  # need-to-know groups the actor belongs to
    scopes: frozenset[str] | None = None  # an API token's scopes; None for a session

    @property
    def is_national(self) -> bool:
        return self.role in NATIONAL

    def may_submit_for(self, state: str) -> bool:
        """Whether the policy's grants let this actor submit for ``state``."""
        # Imported here because the policy is built on this module.
        from veritrail.access.policy import Action, Resource, can

        return can(self, Action.DECLARATION_SUBMIT, Resource(owner_state=state))

    def require_submit(self, state: str) -> None:
        if not self.may_submit_for(state):
            if self.is_national:
                raise Forbidden(
                    f"you may only submit declarations for {self.state}, not for {state}"
                )
            raise Forbidden("only a national authority submitter may submit declarations")


OPERATOR = Actor(username="operator", role=Role.OPERATOR, display_name="Local operator")

__all__ = ["NATIONAL", "OPERATOR", "Actor", "Role"]
