"""Factories for test data: documents built from the packs, not frozen fixtures."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

import pyotp

from veritrail.access import Actor, Role
from veritrail.regimes import registry

# The TOTP secret every test user of a role that needs a second factor gets.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - test data


def adnd(
    state: str = "FRA", period: int = 2024, lines: list[dict[str, Any]] | None = None, **header: Any
) -> dict[str, Any]:
    """An aggregate-national-data declaration of the CWC."""
    doc: dict[str, Any] = {
        "format": "veritrail.declaration/1",
        "regime": "cwc",
        "type": "adnd",
        "period": period,
        "state": state,
        "data": {
            "lines": lines
            if lines is not None
            else [
                {"cas": "75-44-5", "activity": "production", "quantity": "120", "unit": "t"},
                {
                    "cas": "75-44-5",
                    "activity": "export",
                    "partner_state": "DEU",
                    "quantity": "40",
                    "unit": "t",
                },
                {"cas": "464-07-3", "activity": "consumption", "quantity": "2.5", "unit": "t"},
            ]
        },
    }
    doc.update(header)
    return doc


def adnd_lines(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` distinct valid ADND lines (import and export to many partners)."""
    rng = random.Random(seed)
    pack = registry().regime("cwc")
    chemicals = [
        e.code
        for e in pack.lists["schedules"].entries
        if str(pack.lists["schedules"].attribute(e, "schedule")) != "1A"
        and str(pack.lists["schedules"].attribute(e, "schedule")) != "1B"
    ]
    from veritrail.reference import all_states

    partners = [s.alpha3 for s in all_states()]
    lines: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    while len(lines) < n:
        cas = rng.choice(chemicals)
        activity = rng.choice(("import", "export"))
        partner = rng.choice(partners)
        if (cas, activity, partner) in seen:
            continue
        seen.add((cas, activity, partner))
        lines.append(
            {
                "cas": cas,
                "activity": activity,
                "partner_state": partner,
                "quantity": str(rng.randint(1, 900) * 10),
                "unit": "t",
            }
        )
    return lines


def national(state: str = "FRA", role: Role = Role.NA_SUBMITTER) -> Actor:
    return Actor(
        username=f"{state.lower()}-{role.value}",
        role=role,
        state=state,
        organisation_id=f"na-{state}",
    )


def secretariat(role: Role = Role.ANALYST) -> Actor:
    return Actor(username=role.value, role=role, organisation_id="secretariat")


def make_user(
    ctx: Any,
    username: str,
    role: Role,
    state: str | None = None,
    password: str = "correct horse battery",
) -> Actor:
    """A stored user (and its organisation) for tests that sign in."""
    from veritrail.access import OPERATOR
    from veritrail.actions.accounts import do_create_organisation, do_create_user
    from veritrail.errors import Conflict

    org = f"na-{state}" if state else "secretariat"
    try:
        do_create_organisation(
            ctx,
            actor=OPERATOR,
            id=org,
            kind="national_authority" if state else "secretariat",
            name=f"Organisation {org}",
            state=state,
        )
    except Conflict:
        pass
    do_create_user(
        ctx, actor=OPERATOR, username=username, password=password, role=role, organisation_id=org
    )
    enrol_if_needed(ctx, username, role)
    return Actor(username=username, role=role, state=state, organisation_id=org)


def enrol_if_needed(ctx: Any, username: str, role: Role, secret: str = TOTP_SECRET) -> None:
    """Give a user of a role that needs a second factor its TOTP secret, as enrolment would."""
    from veritrail.access import OPERATOR
    from veritrail.access.policy import NEEDS_SECOND_FACTOR
    from veritrail.actions.login import do_set_totp_secret

    if role in NEEDS_SECOND_FACTOR:
        do_set_totp_secret(ctx, actor=OPERATOR, username=username, secret=secret)


def totp_code(ctx: Any, username: str, secret: str = TOTP_SECRET) -> str:
    """A code that signs ``username`` in now: the current step's, or the next one's if the
    current step was used already (a code is accepted once)."""
    from sqlalchemy import select

    from veritrail.store.models import User

    with ctx.sessions() as session:
        last = session.scalar(select(User.totp_last_step).where(User.username == username))
    totp = pyotp.TOTP(secret)
    step = totp.timecode(datetime.now(UTC))
    return totp.generate_otp(max(step, (last or 0) + 1))


def annexed(
    regime: str,
    type_: str,
    state: str = "FRA",
    period: int = 2024,
    *,
    secret: str = "ANNEX-SECRET",
    seed: int = 1,
) -> dict[str, Any]:
    """A valid declaration of a type with confidential annexes, ``secret`` planted in them.

    Every text field of every annex holds ``secret`` (so a response that leaks an annex
    contains it), every annex table has rows, and the other sections hold none of it.
    """
    from veritrail.demo.fake import fake_document
    from veritrail.regimes.model import FieldType, SectionKind

    reg = registry()
    dtype = reg.declaration_type(regime, type_)
    doc = fake_document(
        dtype, registry=reg, state=state, period=period, rng=random.Random(seed), rows=(2, 3)
    )
    for section in dtype.sections:
        if section.kind is SectionKind.FORM:  # answer yes to questions others depend on
            for spec in section.fields:
                if spec.type is FieldType.BOOLEAN and spec.required:
                    doc["data"][section.id][spec.id] = True
        if section.id not in dtype.annexes:
            continue
        value = doc["data"][section.id]
        rows = value if isinstance(value, list) else [value]
        for index, row in enumerate(rows):
            for spec in section.fields:
                if spec.type is FieldType.TEXT:
                    row[spec.id] = f"{secret}-{index}"[: spec.max_length]
    return doc


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def web_sign_in(
    client: Any, username: str, password: str = "correct horse battery", then: str = "/account"
) -> str:
    """Sign in through the web form (password and TOTP code); the session's CSRF token.

    ``client`` is a Starlette test client of an app whose ``state.ctx`` holds the
    users; the token is read from ``then``, a page with a form.
    """
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token is not None
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "code": totp_code(client.app.state.ctx, username),
            "csrf": token.group(1),
            "next": "/",
        },
    )
    assert response.status_code == 303, response.text
    fresh = CSRF_FIELD.search(client.get(then).text)
    assert fresh is not None
    return fresh.group(1)
