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
from typing import Any

from veritrail.access import OPERATOR, Role, totp
from veritrail.access.policy import NEEDS_SECOND_FACTOR
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.accounts import (
    do_add_facilities,
    do_create_organisation,
    do_create_user,
)
from veritrail.actions.ledger import integrate
from veritrail.actions.login import do_set_totp_secret
from veritrail.declarations.document import ParsedDeclaration
from veritrail.demo.archive import load_demo_archive
from veritrail.demo.fake import Site, fake_document
from veritrail.errors import Conflict
from veritrail.reference import states
from veritrail.regimes.model import DeclarationType, FieldType, SectionKind, SectionSpec
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


def _transfer_shape(section: SectionSpec) -> tuple[str, str, str] | None:
    """(direction field, partner field, first decimal field) if rows are transfers."""
    direction = next(
        (
            f.id
            for f in section.fields
            if f.type is FieldType.CHOICE and {"import", "export"} <= set(f.choice_values())
        ),
        None,
    )
    partner = next((f.id for f in section.fields if f.type is FieldType.STATE), None)
    quantity = next(
        (f.id for f in section.fields if f.type in (FieldType.DECIMAL, FieldType.INTEGER)), None
    )
    if direction and partner and quantity:
        return direction, partner, quantity
    return None


def _mirror_transfers(
    docs: dict[str, dict[str, Any]],
    dtype: DeclarationType,
    rng: random.Random,
    summary: DemoSummary,
    period: int,
) -> None:
    """Give importers the lines matching exporters' lines, planting a few discrepancies."""
    for section in dtype.sections:
        shape = _transfer_shape(section) if section.kind is SectionKind.TABLE else None
        if shape is None:
            continue
        direction, partner, quantity = shape
        for state, doc in list(docs.items()):
            for line in list(doc["data"].get(section.id) or []):
                if line.get(direction) != "export" or line.get(partner) not in docs:
                    continue
                other = docs[line[partner]]
                if other.get("nothing_to_declare"):
                    continue
                mirror = dict(line, **{direction: "import", partner: state})
                roll = rng.random()
                what = f"{dtype.key} {period}: {state} -> {line[partner]} {section.id}"
                if roll < 0.03:
                    summary.planted.append(f"{what}: import not declared")
                    continue
                if roll < 0.06:
                    mirror[quantity] = str(round(float(line[quantity]) * 1.6 + 1, 3))
                    summary.planted.append(f"{what}: quantities differ")
                rows = other["data"].setdefault(section.id, [])
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
                        if rng.random() > 0.25:
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
                    chosen = rng.choice(sites[party]) if sites.get(party) else None
                    doc = fake_document(
                        dtype,
                        registry=ctx.registry,
                        state=party,
                        period=period,
                        rng=rng,
                        site=chosen,
                        rows=(1, 8),
                    )
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
    integrate(ctx)
    return summary


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
