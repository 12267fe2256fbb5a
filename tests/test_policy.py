"""The access policy: one table, checked cell by cell, in SQL and on every route."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from factories import adnd
from veritrail.access import OPERATOR, Actor, Role
from veritrail.access.actor import NATIONAL
from veritrail.access.policy import (
    DESCRIPTIONS,
    GRANTS,
    LEVELS,
    NEEDS_SECOND_FACTOR,
    Action,
    Resource,
    can,
    decide,
)
from veritrail.actions import Context, do_reclassify, do_submit_declaration
from veritrail.api.permissions import render_markdown, route_permissions
from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import Forbidden, InputError
from veritrail.queries import list_declarations, version_document
from veritrail.regimes.model import Classification
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import AccessEvent, Group

DOC = Path(__file__).parents[1] / "docs" / "permissions.md"
PU, RE, PR, HP = LEVELS


def _actor(role: Role, state: str | None = "FRA", groups: frozenset[str] = frozenset()) -> Actor:
    national = role in NATIONAL
    return Actor(username=role.value, role=role, state=state if national else None, groups=groups)


CASES = list(itertools.product(list(Role), list(Action), LEVELS, (True, False), (True, False)))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("app")))


def test_every_route_declares_a_permission(app) -> None:  # type: ignore[no-untyped-def]
    routes = route_permissions(app)
    assert len(routes) > 20
    missing = [(methods, path) for methods, path, action in routes if action is None]
    assert not missing, f"routes without a declared permission: {missing}"


def test_permissions_doc_is_current(app) -> None:  # type: ignore[no-untyped-def]
    expected = render_markdown(app)
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/permissions.md is out of date: run .venv/bin/python scripts/make_permissions_doc.py"
    )
    for action in Action:
        assert f"`{action.value}`" in expected and DESCRIPTIONS[action]


@pytest.mark.parametrize(
    ("role", "action", "level", "own", "member"), CASES, ids=lambda v: getattr(v, "value", str(v))
)
def test_policy_matrix(
    role: Role, action: Action, level: Classification, own: bool, member: bool
) -> None:
    actor = _actor(role, groups=frozenset({"case-1"}) if member else frozenset())
    owner = actor.state if own and actor.state else "DEU"
    resource = Resource(owner_state=owner, classification=level, group_id="case-1")
    decision = decide(actor, action, resource, groups=actor.groups)
    grant = GRANTS.get(role, {}).get(action)
    ceiling = (grant.own if owner == actor.state else grant.other) if grant else None

    # The cell follows its grant: nothing above the ceiling, everything at or below it,
    # except others' highly protected material outside its need-to-know group.
    within = ceiling is not None and LEVELS.index(level) <= LEVELS.index(ceiling)
    needs_group = level is HP and owner != actor.state and role is not Role.OPERATOR
    assert decision.allowed == (within and (member or not needs_group))
    # Lower classifications are never harder to reach than higher ones.
    if decision.allowed and level is not PU:
        lower = Resource(
            owner_state=owner, classification=LEVELS[LEVELS.index(level) - 1], group_id="case-1"
        )
        assert can(actor, action, lower, groups=actor.groups)
    # Reads of protected material are logged; others are not.
    if decision.allowed and action is Action.DECLARATION_READ:
        assert decision.logged == (level in (PR, HP))
    # National authorities never reach another state's non-public declarations.
    declarations = (
        Action.DECLARATION_READ,
        Action.DECLARATION_SUBMIT,
        Action.DECLARATION_RECLASSIFY,
    )
    if role in NATIONAL and owner != actor.state and level is not PU and action in declarations:
        assert not decision.allowed
    # Whoever reaches protected material signs in with a second factor.
    if decision.allowed and action is Action.DECLARATION_READ and level in (PR, HP):
        assert role in NEEDS_SECOND_FACTOR or role is Role.OPERATOR
    if action in (Action.USER_MANAGE, Action.ACCESS_LOG_READ) and decision.allowed:
        assert role in (Role.ADMIN, Role.AUDITOR, Role.OPERATOR)


def _submit(ctx: Context, state: str, period: int) -> str:
    return do_submit_declaration(
        ctx, actor=OPERATOR, parsed=ParsedDeclaration(adnd(state=state, period=period), "json")
    ).id


def test_lists_apply_the_same_policy_in_sql(ctx: Context) -> None:
    with ctx.sessions() as session, session.begin():
        session.add(Group(id="case-1", kind="case", name="Case 1"))
    records: dict[str, Resource] = {}
    for (state, period), level in zip(
        itertools.product(("FRA", "DEU"), (2021, 2022, 2023, 2024)), LEVELS * 2, strict=True
    ):
        declaration_id = _submit(ctx, state, period)
        group = "case-1" if level is HP else None
        if level is not PR:  # ADND is protected by default
            do_reclassify(
                ctx,
                actor=OPERATOR,
                declaration_id=declaration_id,
                classification=level,
                reason="test",
                group_id=group,
            )
        records[declaration_id] = Resource(owner_state=state, classification=level, group_id=group)
    for role, member in itertools.product(list(Role), (False, True)):
        actor = _actor(role, groups=frozenset({"case-1"}) if member else frozenset())
        everything = [d.id for d in list_declarations(ctx, actor=actor, limit=1000)]
        allowed = {
            i
            for i, r in records.items()
            if can(actor, Action.DECLARATION_READ, r, groups=actor.groups)
        }
        assert set(everything) == allowed, (role, member)
        # Pages, merged from the policy's alternatives, follow the same order.
        paged = [
            d.id
            for start in range(0, len(records), 3)
            for d in list_declarations(ctx, actor=actor, limit=3, offset=start)
        ]
        assert paged == everything, (role, member)
        walked: list[str] = []
        cursor = None
        while True:
            page = list_declarations(ctx, actor=actor, limit=3, before=cursor)
            if not page:
                break
            walked += [d.id for d in page]
            cursor = (page[-1].updated_at, page[-1].id)
        assert walked == everything, (role, member)


def test_protected_reads_are_logged_and_reclassification_is_controlled(ctx: Context) -> None:
    declaration_id = _submit(ctx, "FRA", 2024)
    analyst = _actor(Role.ANALYST)
    version_document(
        ctx,
        actor=analyst,
        declaration_id=declaration_id,
        version=1,
        client="192.0.2.7",
        purpose="reconciliation",
    )
    with ctx.sessions() as session:
        events = session.query(AccessEvent).all()
    assert [
        (e.actor, e.action, e.record_id, e.client, e.purpose, e.classification) for e in events
    ] == [
        (
            "analyst",
            "declaration.version",
            declaration_id,
            "192.0.2.7",
            "reconciliation",
            "protected",
        )
    ]
    with pytest.raises(Forbidden):
        do_reclassify(
            ctx,
            actor=_actor(Role.NA_SUBMITTER),
            declaration_id=declaration_id,
            classification=Classification.PUBLIC,
            reason="publish",
        )
    with pytest.raises(InputError):
        do_reclassify(
            ctx,
            actor=analyst,
            declaration_id=declaration_id,
            classification=Classification.PUBLIC,
            reason=" ",
        )
    do_reclassify(
        ctx,
        actor=analyst,
        declaration_id=declaration_id,
        classification=Classification.RESTRICTED,
        reason="released to states parties",
    )
    version_document(ctx, actor=analyst, declaration_id=declaration_id, version=1)
    with ctx.sessions() as session:
        assert session.query(AccessEvent).count() == 1  # restricted reads are not logged
