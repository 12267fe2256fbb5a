"""The demo world: deterministic by seed, loaded through the same actions as real data.

All states; a national authority per state; secretariat divisions and
laboratories; a few thousand facilities near real places; three years of
declarations for every regime, with late, missing and nothing-to-declare
reports, amendments, and planted transfer inconsistencies (an export whose
importer declares a different quantity, or nothing at all).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from veritrail.access import OPERATOR, Actor, Role, totp
from veritrail.access.policy import NEEDS_SECOND_FACTOR
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.accounts import (
    do_add_facilities,
    do_create_organisation,
    do_create_user,
)
from veritrail.actions.case_jobs import CHECKS_ACTOR
from veritrail.actions.cases import (
    do_answer_clarification,
    do_assign_case,
    do_close_case,
    do_refresh_cases,
    do_request_clarification,
)
from veritrail.actions.ledger import integrate
from veritrail.actions.login import do_set_totp_secret
from veritrail.declarations.document import ParsedDeclaration
from veritrail.demo.archive import load_demo_archive
from veritrail.demo.fake import Site, fake_document
from veritrail.errors import Conflict
from veritrail.queries.cases import list_cases
from veritrail.reference import states
from veritrail.regimes.model import (
    DeclarationType,
    FieldType,
    SectionKind,
    SectionSpec,
    TransferSource,
)
from veritrail.store.models import Facility

DEMO_PASSWORD = "veritrail-demo"  # noqa: S105 - printed for the demo accounts on purpose


def demo_totp_secret(seed: int, username: str) -> str:
    """The TOTP secret of a demo account: derived from the seed, printed by ``veritrail demo``."""
    return totp.derived_secret(f"veritrail-demo-{seed}", username)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    organisation: str
    display_name: str


DEMO_USERS = (
    DemoUser("admin", Role.ADMIN, "secretariat-admin", "Administrator"),
    DemoUser("analyst", Role.ANALYST, "secretariat-verification", "Secretariat analyst"),
    DemoUser("inspector", Role.INSPECTOR, "secretariat-inspectorate", "Inspector"),
    DemoUser("investigator", Role.INVESTIGATOR, "secretariat-investigations", "Investigator"),
    DemoUser("auditor", Role.AUDITOR, "secretariat-audit", "Auditor"),
    DemoUser("fra-submitter", Role.NA_SUBMITTER, "na-FRA", "France national authority"),
    DemoUser("fra-viewer", Role.NA_VIEWER, "na-FRA", "France national authority (read)"),
    DemoUser("chn-submitter", Role.NA_SUBMITTER, "na-CHN", "China national authority"),
    DemoUser("bra-submitter", Role.NA_SUBMITTER, "na-BRA", "Brazil national authority"),
)

SITE_KINDS = ("Chemical Works", "Industrial Park", "Laboratory", "Pharma Plant", "Research Centre")

SECRETARIAT = {
    "secretariat-admin": "Secretariat: administration",
    "secretariat-verification": "Secretariat: verification division",
    "secretariat-inspectorate": "Secretariat: inspectorate",
    "secretariat-investigations": "Secretariat: investigations",
    "secretariat-audit": "Secretariat: internal audit",
}


@dataclass
class DemoSummary:
    states: int = 0
    facilities: int = 0
    declarations: int = 0
    amendments: int = 0
    late: int = 0
    missing: int = 0
    nothing_to_declare: int = 0
    documents: int = 0
    planted: list[str] = field(default_factory=list)
    cases: int = 0


Progress = Callable[[str, int, int], None]


def _behaviour(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.70:
        return "on_time"
    if roll < 0.83:
        return "late"
    if roll < 0.93:
        return "missing"
    return "nothing"


def _moment(
    dtype: DeclarationType, period: int, behaviour: str, rng: random.Random, now: datetime
) -> datetime | None:
    due = datetime.combine(dtype.deadline.due(period), time(12), UTC)
    if behaviour == "late":
        moment = due + timedelta(days=rng.randint(3, 150), hours=rng.randint(0, 10))
    else:
        # On time: after the period ended (the reports are about a finished
        # year), in the weeks before the due date.
        start = min(datetime(period + 1, 1, 2, 9, tzinfo=UTC), due - timedelta(days=30))
        span = max(1, (due - start).days)
        moment = start + timedelta(days=rng.randint(0, span - 1), hours=rng.randint(0, 8))
    return moment if moment < now else None


def _mirror_line(
    line: dict[str, Any], src: TransferSource, dst: TransferSource, section: SectionSpec, state: str
) -> dict[str, Any]:
    """The importer's line for an exporter's ``line``, in the importer's section's fields."""
    moved = {src.partner, src.item, src.quantity, src.direction_field}
    mirror = {k: v for k, v in line.items() if k not in moved and section.field(k) is not None}
    mirror[dst.item] = line[src.item]
    mirror[dst.quantity] = line[src.quantity]
    mirror[dst.partner] = state
    if dst.direction_field:
        mirror[dst.direction_field] = "import"
    return mirror


def _restate(mirror: dict[str, Any], dst: TransferSource, rng: random.Random) -> None:
    """Some importers declare a mass in the other unit: the same amount, written differently."""
    if dst.unit_field and mirror.get(dst.unit_field) in ("kg", "t") and rng.random() < 0.3:
        quantity = Decimal(str(mirror[dst.quantity]))
        if mirror[dst.unit_field] == "kg":
            mirror[dst.quantity], mirror[dst.unit_field] = str(quantity / 1000), "t"
        else:
            mirror[dst.quantity], mirror[dst.unit_field] = str(quantity * 1000), "kg"


def _site(choices: list[Site], key: str, rng: random.Random) -> Site | None:
    """Mostly the same site for a state and declaration type every year; now and then another."""
    if not choices:
        return None
    if rng.random() < 0.08:
        return rng.choice(choices)
    return random.Random(key).choice(choices)


def _export_controls(doc: dict[str, Any], key: str) -> None:
    """Most states record chemical export controls in their 1540 matrix; a few record none."""
    rows = doc["data"].setdefault("measures", [])
    rows[:] = [
        r
        for r in rows
        if (r.get("obligation"), r.get("weapon"), r.get("measure"))
        != ("op3d", "chemical", "export_controls")
    ]
    in_place = random.Random(key).random() < 0.9
    rows.append(
        {
            "obligation": "op3d",
            "weapon": "chemical",
            "measure": "export_controls",
            "aspect": "legal_framework",
            "in_place": in_place,
            "legal_reference": "Export Control Act, section 4" if in_place else None,
        }
    )


def _is_import(row: dict[str, Any], src: TransferSource) -> bool:
    if src.direction_field:
        return bool(row.get(src.direction_field) == "import")
    return src.direction == "import"


def _mirror_transfers(
    docs: dict[str, dict[str, Any]],
    dtype: DeclarationType,
    rng: random.Random,
    summary: DemoSummary,
    period: int,
) -> None:
    """Give importers the lines matching exporters' lines, planting a few discrepancies."""
    rule = dtype.reconciliation
    if rule is None:
        return
    for src in rule.sources:
        # Imports come from mirroring exporters' lines; of the made-up ones a
        # few stay, as imports whose exporter declared nothing.
        for doc in docs.values():
            rows = doc["data"].get(src.section)
            if rows:
                doc["data"][src.section] = [
                    r for r in rows if not _is_import(r, src) or rng.random() < 0.02
                ]
    exports = [s for s in rule.sources if s.direction != "import"]
    for src in exports:
        dst = (
            src if src.direction_field else next(s for s in rule.sources if s.direction == "import")
        )
        section = dtype.section(dst.section)
        if section is None:
            continue
        for state, doc in list(docs.items()):
            for line in list(doc["data"].get(src.section) or []):
                if src.direction_field and line.get(src.direction_field) != "export":
                    continue
                if line.get(src.partner) not in docs:
                    continue
                other = docs[line[src.partner]]
                if other.get("nothing_to_declare"):
                    continue
                mirror = _mirror_line(line, src, dst, section, state)
                roll = rng.random()
                what = f"{dtype.key} {period}: {state} -> {line[src.partner]} {line[src.item]}"
                if roll < 0.03:
                    summary.planted.append(f"{what}: import not declared")
                    continue
                if roll < 0.06:
                    quantity = Decimal(str(line[src.quantity]))
                    changed = quantity * Decimal("1.6") + 1
                    whole = isinstance(line[src.quantity], int)
                    mirror[dst.quantity] = int(changed) if whole else str(round(changed, 3))
                    summary.planted.append(f"{what}: quantities differ")
                else:
                    _restate(mirror, dst, rng)
                rows = other["data"].setdefault(dst.section, [])
                keys = list(section.unique)
                if keys and any(all(r.get(k) == mirror.get(k) for k in keys) for r in rows):
                    continue
                rows.append(mirror)


def load_demo(
    ctx: Context, *, seed: int = 1540, progress: Progress | None = None, now: datetime | None = None
) -> DemoSummary:
    """Load the demo world into an empty database."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    summary = DemoSummary()
    tick = progress or (lambda _label, _done, _total: None)
    all_states = list(states.all_states())
    summary.states = len(all_states)

    for org_id, name in SECRETARIAT.items():
        do_create_organisation(ctx, actor=OPERATOR, id=org_id, kind="secretariat", name=name)
    for i, state in enumerate(all_states):
        do_create_organisation(
            ctx,
            actor=OPERATOR,
            id=f"na-{state.alpha3}",
            kind="national_authority",
            name=f"National authority of {state.name()}",
            state=state.alpha3,
        )
        tick("organisations", i + 1, len(all_states))
    for lab in ("FIN", "NLD", "CHE", "SGP", "ZAF", "ARG"):
        do_create_organisation(
            ctx,
            actor=OPERATOR,
            id=f"lab-{lab}",
            kind="laboratory",
            name=f"Designated laboratory ({states.lookup(lab).name()})",  # type: ignore[union-attr]
            state=lab,
        )
    for user in DEMO_USERS:
        do_create_user(
            ctx,
            actor=OPERATOR,
            username=user.username,
            password=DEMO_PASSWORD,
            role=user.role,
            organisation_id=user.organisation,
            display_name=user.display_name,
            language="zh" if user.username.startswith("chn") else "en",
        )
        if user.role in NEEDS_SECOND_FACTOR:
            # Enrolled already, so that a newcomer signs in with the printed secret.
            do_set_totp_secret(
                ctx,
                actor=OPERATOR,
                username=user.username,
                secret=demo_totp_secret(seed, user.username),
            )

    sites: dict[str, list[Site]] = {}
    facilities: list[Facility] = []
    regimes_with_sites = [
        p.regime.id
        for p in ctx.registry.packs.values()
        if any(t.expected == "when_applicable" for t in p.types.values())
    ]
    for state in all_states:
        count = rng.choice((2, 4, 6, 10, 16, 24, 40))
        for n in range(count):
            place = rng.choice(state.places)
            site = Site(
                name=f"{place.name} {rng.choice(SITE_KINDS)} {n + 1}",
                lat=round(place.lat + rng.uniform(-0.08, 0.08), 5),
                lon=round(place.lon + rng.uniform(-0.08, 0.08), 5),
                code=f"F-{state.alpha3}-{n + 1:03d}",
            )
            sites.setdefault(state.alpha3, []).append(site)
            facilities.append(
                Facility(
                    id=f"F-{state.alpha3}-{n + 1:03d}",
                    state=state.alpha3,
                    name=site.name,
                    kind=rng.choice(("chemical", "chemical", "biological", "pharmaceutical")),
                    regime=rng.choice(regimes_with_sites or ["cwc"]),
                    latitude=site.lat,
                    longitude=site.lon,
                    operator=f"{place.name} Holdings",
                )
            )
    summary.facilities = do_add_facilities(ctx, actor=OPERATOR, facilities=facilities)

    periods = [now.year - 3, now.year - 2, now.year - 1]
    jobs: list[tuple[datetime, dict[str, Any], bool]] = []
    for pack in ctx.registry.packs.values():
        parties = pack.parties()
        for period in periods:
            for dtype in pack.types.values():
                docs: dict[str, dict[str, Any]] = {}
                moments: dict[str, datetime] = {}
                for party in parties:
                    if dtype.expected == "when_applicable":
                        # A quarter of the parties have such facilities, year after
                        # year; now and then one is left out of a year's declarations.
                        applies = random.Random(f"{seed}-{party}-{dtype.key}").random() < 0.25
                        if not applies or rng.random() > 0.95:
                            continue
                        behaviour = "on_time" if rng.random() < 0.85 else "late"
                    else:
                        behaviour = _behaviour(rng)
                    if behaviour == "missing":
                        summary.missing += 1
                        continue
                    moment = _moment(dtype, period, behaviour, rng, now)
                    if moment is None:
                        continue
                    chosen = _site(sites.get(party, []), f"{seed}-{party}-{dtype.key}", rng)
                    doc = fake_document(
                        dtype,
                        registry=ctx.registry,
                        state=party,
                        period=period,
                        rng=rng,
                        site=chosen,
                        rows=(1, 8),
                    )
                    if dtype.key == "unscr1540/matrix":
                        _export_controls(doc, f"{seed}-{party}")
                    if behaviour == "nothing" and dtype.nothing_to_declare:
                        doc["data"], doc["nothing_to_declare"] = {}, True
                        summary.nothing_to_declare += 1
                    summary.late += behaviour == "late"
                    docs[party], moments[party] = doc, moment
                _mirror_transfers(docs, dtype, rng, summary, period)
                jobs.extend((moments[s], d, rng.random() < 0.05) for s, d in docs.items())

    jobs.sort(key=lambda job: job[0])
    for i, (moment, doc, amend) in enumerate(jobs):
        result = do_submit_declaration(
            ctx, actor=OPERATOR, parsed=ParsedDeclaration(doc, "json"), now=moment, note="demo data"
        )
        summary.declarations += 1
        if amend and not doc.get("nothing_to_declare"):
            amended = dict(doc, id=result.id)
            _amend(amended, ctx, rng)
            later = min(now - timedelta(minutes=1), moment + timedelta(days=rng.randint(5, 60)))
            try:
                do_submit_declaration(
                    ctx,
                    actor=OPERATOR,
                    parsed=ParsedDeclaration(amended, "json"),
                    now=later,
                    note="demo amendment",
                )
                summary.amendments += 1
            except Conflict:  # an amendment that changes nothing is not one
                continue
        tick("declarations", i + 1, len(jobs))
    summary.documents = load_demo_archive(
        ctx,
        rng=rng,
        sites={code: [site.name for site in found] for code, found in sites.items()},
        today=now.date(),
        tick=tick,
    )
    summary.cases = _work_cases(ctx, rng)
    integrate(ctx)
    return summary


def _work_cases(ctx: Context, rng: random.Random) -> int:
    """Open the cases the checks find, and work a few of them as an analyst would."""
    tally = do_refresh_cases(ctx, actor=CHECKS_ACTOR)
    analyst = next(
        Actor(username=u.username, role=u.role, organisation_id=u.organisation)
        for u in DEMO_USERS
        if u.role is Role.ANALYST
    )
    found, _ = list_cases(ctx, actor=OPERATOR, check="reconciliation", limit=1000)
    # One request to France, answered; one to China, waiting; some assigned or closed.
    for state, answer in (("FRA", True), ("CHN", False)):
        case = next((c for c in found if state in c.states), None)
        if case is None:
            continue
        do_assign_case(ctx, actor=analyst, case_id=case.id, assignee=analyst.username)
        do_request_clarification(
            ctx,
            actor=analyst,
            case_id=case.id,
            states=[state],
            message="Please confirm the quantity declared for this transfer, "
            "or amend your declaration.",
        )
        if answer:
            do_answer_clarification(
                ctx,
                actor=Actor(
                    username=f"{state.lower()}-submitter", role=Role.NA_SUBMITTER, state=state
                ),
                case_id=case.id,
                explanation="The shipment left in December and arrived in January; "
                "we declared it on arrival.",
            )
    for case in rng.sample(found, min(3, len(found))):
        if case.status == "open":
            do_close_case(
                ctx,
                actor=analyst,
                case_id=case.id,
                reason="not_a_discrepancy",
                note="Authorised and actual transfers compared; both figures are right.",
            )
    return tally.opened


def _amend(doc: dict[str, Any], ctx: Context, rng: random.Random) -> None:
    """Change a few figures or drop a row, as a real correction would."""
    dtype = ctx.registry.declaration_type(doc["regime"], doc["type"])
    data = {k: (list(v) if isinstance(v, list) else dict(v)) for k, v in doc["data"].items()}
    for section in dtype.sections:
        rows = data.get(section.id)
        if section.kind is SectionKind.TABLE and rows:
            number = next((f.id for f in section.fields if f.type is FieldType.DECIMAL), None)
            if number and rng.random() < 0.7:
                index = rng.randrange(len(rows))
                row = dict(rows[index])
                row[number] = str(round(float(row.get(number) or 0) + rng.uniform(1, 50), 3))
                rows[index] = row
            elif len(rows) > 1:
                rows.pop(rng.randrange(len(rows)))
    doc["data"] = data


__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "DemoSummary", "demo_totp_secret", "load_demo"]
