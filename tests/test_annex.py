"""Confidential annexes: packs, redaction on every read path, the access log, reclassification.

A secret is planted in every text field of the annexes (``factories.annexed``); whatever
leaves the system for a reader who may not see an annex must not contain it, searched
for in the response bytes (and inside ZIP containers: XLSX, the my-data export).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories import annexed, make_user, totp_code
from veritrail.access import OPERATOR, Actor, Role
from veritrail.access.actor import NATIONAL
from veritrail.access.policy import LEVELS, Action, Resource, can, decide
from veritrail.actions import Context, do_reclassify, do_reclassify_annex, do_submit_declaration
from veritrail.actions.tokens import do_create_token, grantable_scopes
from veritrail.declarations.document import ParsedDeclaration
from veritrail.declarations.export import version_csv, version_xlsx
from veritrail.declarations.intake import parse_upload
from veritrail.declarations.redact import (
    annex_classifications,
    is_withheld,
    line_count,
    marker,
    redact,
)
from veritrail.declarations.validate import validate
from veritrail.errors import Forbidden, InputError, NotFound, RegimePackError, ValidationFailed
from veritrail.queries import (
    declaration_detail,
    diff_versions,
    original_file,
    version_document,
    version_export,
)
from veritrail.queries.mydata import my_data_zip
from veritrail.regimes import load_registry, registry
from veritrail.regimes.loader import PACKS_DIR
from veritrail.regimes.model import Classification
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import AccessEvent, AuditEvent, Group, GroupMember, User

PU, RE, PR, HP = LEVELS
SECRET = "ANNEX-SECRET"
GROUP = "case-1"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "regime-packs.md"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def leaks(payload: bytes | str | object, secret: str = SECRET) -> bool:
    """Does ``payload`` hold ``secret``: in its bytes, or in a member of a ZIP it is?"""
    if not isinstance(payload, bytes | str):
        payload = json.dumps(payload, default=repr, ensure_ascii=False)
    data = payload.encode() if isinstance(payload, str) else payload
    if secret.encode() in data:
        return True
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(secret.encode() in archive.read(name) for name in archive.namelist())
    return False


def submit(ctx: Context, document: dict[str, Any], actor: Actor = OPERATOR) -> str:
    original = json.dumps(document, ensure_ascii=False).encode()
    return do_submit_declaration(
        ctx,
        actor=actor,
        parsed=ParsedDeclaration(document, "json"),
        original=original,
        filename="declaration.json",
    ).id


def amend(ctx: Context, declaration_id: str, document: dict[str, Any]) -> None:
    """A second version: every planted secret and one visible value changed."""
    second = json.loads(json.dumps(document).replace(SECRET, SECRET + "-V2"))
    second["id"] = declaration_id
    do_submit_declaration(ctx, actor=OPERATOR, parsed=ParsedDeclaration(second, "json"))


def make_group(ctx: Context) -> None:
    with ctx.sessions() as session, session.begin():
        if session.get(Group, GROUP) is None:
            session.add(Group(id=GROUP, kind="case", name="Case 1"))


def access_events(ctx: Context) -> list[AccessEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AccessEvent).order_by(AccessEvent.id)))


def allows(actor: Actor, level: Classification) -> bool:
    """The policy's answer for reading France's material of ``level`` in the group."""
    resource = Resource(owner_state="FRA", classification=level, group_id=GROUP)
    return can(actor, Action.DECLARATION_READ, resource, groups=actor.groups)


def every_reader() -> Iterator[Actor]:
    """Every role, of the owning state and of another, in and out of the group."""
    for role, member in itertools.product(list(Role), (False, True)):
        groups = frozenset({GROUP}) if member else frozenset()
        for state in ("FRA", "DEU") if role in NATIONAL else (None,):
            name = f"{role.value}-{state or 'sec'}-{'in' if member else 'out'}"
            yield Actor(username=name, role=role, state=state, groups=groups)


# --- packs ---------------------------------------------------------------------------------


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "packs"
    shutil.copytree(PACKS_DIR, root)
    return root


def _edit(path: Path, section: int, **values: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["sections"][section].update(values)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_pack_refuses_an_annex_below_its_type(packs: Path) -> None:
    _edit(packs / "cwc" / "plant_site_s2.yaml", 1, classification="restricted")
    with pytest.raises(RegimePackError) as info:
        load_registry(packs)
    assert info.value.details == {
        "file": "packs/cwc/plant_site_s2.yaml",
        "field": "sections.1.classification",
    }
    assert "below its declaration type (protected)" in info.value.message


def test_pack_accepts_an_annex_at_its_type_level_and_refuses_the_marker_name(
    packs: Path,
) -> None:
    _edit(packs / "cwc" / "plant_site_s2.yaml", 1, classification="protected")
    assert load_registry(packs).declaration_type("cwc", "plant_site_s2").annexes == {"plants": PR}
    data = yaml.safe_load((packs / "bwc" / "form_g.yaml").read_text(encoding="utf-8"))
    data["sections"][0]["fields"][0]["id"] = "withheld"
    (packs / "bwc" / "form_g.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(RegimePackError) as info:
        load_registry(packs)
    assert info.value.details["file"] == "packs/bwc/form_g.yaml"
    assert info.value.details["field"] == "sections.0"
    assert "reserved" in info.value.message


def test_shipped_annexes_are_above_their_type_and_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    found = {
        (t.key, section): level
        for t in registry().all_types()
        for section, level in t.annexes.items()
    }
    assert found == {
        ("cwc/plant_site_s1", "facility"): HP,
        ("cwc/plant_site_s2", "plants"): HP,
        ("cwc/plant_site_s3", "plants"): HP,
        ("bwc/form_a2", "facilities"): PR,
    }
    for (key, section), level in found.items():
        dtype = registry().declaration_type(*key.split("/"))
        assert level.rank > dtype.classification.rank
        assert f"| `{key}` | `{section}` |" in text, f"docs/regime-packs.md omits {key} {section}"


# --- the pure redaction ----------------------------------------------------------------------


def test_redact_replaces_annexes_with_a_marker_and_leaves_the_rest() -> None:
    dtype = registry().declaration_type("cwc", "plant_site_s2")
    document = annexed("cwc", "plant_site_s2")
    frozen = json.dumps(document, sort_keys=True)
    shown = redact(document, dtype, {PU, RE, PR})
    assert json.dumps(document, sort_keys=True) == frozen  # not changed in place
    assert shown["data"]["plants"] == {"withheld": True, "classification": "highly_protected"}
    assert is_withheld(shown["data"]["plants"]) and not leaks(shown)
    for section in ("site", "chemicals", "transfers", "purposes"):
        assert shown["data"][section] == document["data"][section]
    assert redact(document, dtype, set(LEVELS)) == document
    # A withheld annex is marked whether or not the version filled it in.
    empty = {**document, "data": {k: v for k, v in document["data"].items() if k != "plants"}}
    assert redact(empty, dtype, {PR})["data"]["plants"] == marker(HP)
    # Lines of withheld annexes do not count.
    total = sum(len(v) for v in document["data"].values() if isinstance(v, list))
    assert line_count(document, dtype) == total
    assert line_count(shown, dtype) == total - len(document["data"]["plants"])


def test_annex_levels_follow_the_pack_the_declaration_and_its_overrides() -> None:
    dtype = registry().declaration_type("bwc", "form_a2")
    assert annex_classifications(dtype, RE) == {"facilities": PR}
    assert annex_classifications(dtype, HP) == {"facilities": HP}  # carried up
    assert annex_classifications(dtype, PU, {"facilities": "restricted"}) == {"facilities": RE}
    assert annex_classifications(dtype, PR, {"facilities": "restricted"}) == {"facilities": PR}
    # An override on a section the pack does not mark makes it an annex; unknown ones do not.
    assert annex_classifications(dtype, RE, {"programme": "protected", "nope": "protected"}) == {
        "facilities": PR,
        "programme": PR,
    }


def test_exports_round_trip_and_a_redacted_export_cannot_be_resubmitted() -> None:
    reg = registry()
    dtype = reg.declaration_type("cwc", "plant_site_s2")
    document = validate(annexed("cwc", "plant_site_s2"), reg).document
    for name, writer in (("v.csv", version_csv), ("v.xlsx", version_xlsx)):
        parsed = parse_upload(writer(document, dtype), name, registry=reg, limits=Settings())
        assert validate(parsed.document, reg).document == document, name
        redacted = writer(redact(document, dtype, {PU, RE, PR}), dtype)
        assert not leaks(redacted)
        with pytest.raises(ValidationFailed) as info:
            parse_upload(redacted, name, registry=reg, limits=Settings())
        assert "unknown column 'withheld'" in info.value.problems[0].message, name


# --- every reader, every annex level, every read path ----------------------------------------


def test_every_reader_sees_exactly_what_the_policy_allows(ctx: Context) -> None:
    """Driven by ``can``: the annex is shown to a reader exactly when the policy lets it read
    the declaration's owner and group at the annex's classification."""
    make_group(ctx)
    document = annexed("bwc", "form_a2", "FRA", secret=SECRET)
    declaration_id = submit(ctx, document)
    amend(ctx, declaration_id, document)
    do_reclassify(
        ctx,
        actor=OPERATOR,
        declaration_id=declaration_id,
        classification=PU,
        reason="published by France",
        group_id=GROUP,
    )
    rows = len(document["data"]["facilities"])
    for level in LEVELS:
        do_reclassify_annex(
            ctx,
            actor=OPERATOR,
            declaration_id=declaration_id,
            section="facilities",
            classification=level,
            reason=f"test at {level.value}",
        )
        for actor in every_reader():
            case = (level.value, actor.username)
            if not allows(actor, PU):
                with pytest.raises(NotFound):
                    version_document(ctx, actor=actor, declaration_id=declaration_id)
                continue
            sees = allows(actor, level)
            shown = level if sees else PU
            logged = decide(
                actor, Action.DECLARATION_READ, Resource("FRA", shown, GROUP), groups=actor.groups
            ).logged
            before = len(access_events(ctx))

            doc = version_document(ctx, actor=actor, declaration_id=declaration_id, version=2)
            assert leaks(doc, SECRET + "-V2") == sees, case
            assert is_withheld(doc["data"]["facilities"]) == (not sees), case
            assert doc["data"]["programme"] == document["data"]["programme"], case
            events = access_events(ctx)[before:]
            assert [(e.action, e.classification) for e in events] == (
                [("declaration.version", shown.value)] if logged else []
            ), case

            detail = declaration_detail(ctx, actor=actor, declaration_id=declaration_id)
            assert [a.model_dump() for a in detail.annexes] == [
                {"section": "facilities", "classification": level.value, "withheld": not sees}
            ], case
            assert [v.line_count for v in detail.versions] == [rows if sees else 0] * 2, case
            assert not leaks(detail.model_dump(mode="json")) or sees, case

            diff = diff_versions(ctx, actor=actor, declaration_id=declaration_id, old=1, new=2)
            assert leaks(diff) == sees, case
            assert diff.withheld == ({} if sees else {"facilities": level.value}), case
            rows_diffed = sum(v for k, v in diff.summary().items() if k.startswith("rows_"))
            assert (rows_diffed > 0) == sees, case

            for fmt in ("csv", "xlsx"):
                data, _name, _type = version_export(
                    ctx, actor=actor, declaration_id=declaration_id, version=2, format=fmt
                )
                assert leaks(data, SECRET + "-V2") == sees, (case, fmt)

            if sees:
                data, _name, _type = original_file(
                    ctx, actor=actor, declaration_id=declaration_id, version=1
                )
                assert leaks(data)
            else:
                before = len(access_events(ctx))
                with pytest.raises(Forbidden) as info:
                    original_file(ctx, actor=actor, declaration_id=declaration_id, version=1)
                assert info.value.details["withheld"] == ["facilities"]
                assert len(access_events(ctx)) == before  # nothing was read


def test_annex_reads_are_logged_at_the_annex_level(ctx: Context) -> None:
    make_group(ctx)
    declaration_id = submit(ctx, annexed("cwc", "plant_site_s2", "FRA"))
    do_reclassify(
        ctx,
        actor=OPERATOR,
        declaration_id=declaration_id,
        classification=PR,
        reason="need-to-know group of the inspection",
        group_id=GROUP,
    )
    outsider = Actor(username="analyst-out", role=Role.ANALYST)
    member = Actor(username="analyst-in", role=Role.ANALYST, groups=frozenset({GROUP}))
    assert not leaks(version_document(ctx, actor=outsider, declaration_id=declaration_id))
    assert leaks(version_document(ctx, actor=member, declaration_id=declaration_id))
    assert [(e.actor, e.classification) for e in access_events(ctx)] == [
        ("analyst-out", "protected"),
        ("analyst-in", "highly_protected"),
    ]


def test_the_owning_state_keeps_everything_including_its_my_data_export(ctx: Context) -> None:
    declaration_id = submit(ctx, annexed("cwc", "plant_site_s2", "FRA"))
    viewer = Actor(username="fra-viewer", role=Role.NA_VIEWER, state="FRA")
    assert leaks(version_document(ctx, actor=viewer, declaration_id=declaration_id))
    data, _name, _type = original_file(ctx, actor=viewer, declaration_id=declaration_id, version=1)
    assert leaks(data)
    archive, _name = my_data_zip(ctx, actor=viewer)
    assert leaks(archive)


# --- reclassification of one annex -----------------------------------------------------------


def test_reclassify_annex_is_logged_and_controlled(ctx: Context) -> None:
    make_group(ctx)
    declaration_id = submit(ctx, annexed("bwc", "form_a2", "FRA"))  # restricted; annex protected
    analyst = Actor(username="analyst", role=Role.ANALYST)

    def change(
        actor: Actor, level: Classification, section: str = "facilities", reason: str = "r"
    ) -> None:
        do_reclassify_annex(
            ctx,
            actor=actor,
            declaration_id=declaration_id,
            section=section,
            classification=level,
            reason=reason,
        )

    for role in (Role.NA_SUBMITTER, Role.NA_VIEWER, Role.INVESTIGATOR, Role.AUDITOR, Role.ADMIN):
        with pytest.raises(Forbidden):
            change(Actor(username="x", role=role, state="FRA" if role in NATIONAL else None), PU)
    with pytest.raises(InputError, match="never below its declaration"):
        change(analyst, PU)
    with pytest.raises(InputError, match="not a confidential annex.*facilities"):
        change(analyst, PR, section="programme")
    with pytest.raises(InputError, match="reason"):
        change(analyst, PR, reason="  ")
    with pytest.raises(InputError, match="need-to-know group"):
        change(analyst, HP)
    with pytest.raises(NotFound):
        do_reclassify_annex(
            ctx,
            actor=analyst,
            declaration_id="D-NONE",
            section="facilities",
            classification=PR,
            reason="r",
        )

    change(analyst, RE, reason="France agreed to share the facilities")
    detail = declaration_detail(ctx, actor=analyst, declaration_id=declaration_id)
    assert detail.annexes[0].classification == "restricted"
    do_reclassify(
        ctx,
        actor=analyst,
        declaration_id=declaration_id,
        classification=RE,
        reason="inspection",
        group_id=GROUP,
    )
    change(analyst, HP, reason="inspection findings")
    with ctx.sessions() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "declaration.reclassify_annex")
            .order_by(AuditEvent.id)
        ).all()
        stored = session.scalars(select(func.count()).select_from(AuditEvent)).one()
    assert stored >= 3
    assert [(e.actor, e.record_id, e.details) for e in events] == [
        (
            "analyst",
            declaration_id,
            {
                "section": "facilities",
                "old": "protected",
                "new": "restricted",
                "reason": "France agreed to share the facilities",
            },
        ),
        (
            "analyst",
            declaration_id,
            {
                "section": "facilities",
                "old": "restricted",
                "new": "highly_protected",
                "reason": "inspection findings",
            },
        ),
    ]
    # Highly protected: an analyst outside the group no longer sees it.
    assert not leaks(version_document(ctx, actor=analyst, declaration_id=declaration_id))
    # Raising the declaration carries its annex; lowering it again leaves the annex's own level.
    do_reclassify(
        ctx,
        actor=OPERATOR,
        declaration_id=declaration_id,
        classification=PU,
        reason="published",
        group_id=GROUP,
    )
    public = Actor(username="deu", role=Role.NA_VIEWER, state="DEU")
    doc = version_document(ctx, actor=public, declaration_id=declaration_id)
    assert doc["data"]["facilities"] == marker(HP) and not leaks(doc)


# --- over HTTP: the API and the web pages ----------------------------------------------------


def _token(ctx: Context, username: str, role: Role, state: str | None = None) -> dict[str, str]:
    make_user(ctx, username, role, state, password=PASSWORD)
    token = do_create_token(
        ctx,
        actor=OPERATOR,
        username=username,
        name="tests",
        scopes=grantable_scopes(role),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    ).token
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def published(ctx: Context) -> str:
    """France's Form A part 2, reclassified public: the facilities annex stays protected."""
    document = annexed("bwc", "form_a2", "FRA")
    declaration_id = submit(ctx, document)
    amend(ctx, declaration_id, document)
    do_reclassify(
        ctx, actor=OPERATOR, declaration_id=declaration_id, classification=PU, reason="published"
    )
    return declaration_id


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings, ctx), follow_redirects=False) as test_client:
        yield test_client


def test_api_never_leaks_a_withheld_annex(client: TestClient, ctx: Context, published: str) -> None:
    deu = _token(ctx, "deu-viewer", Role.NA_VIEWER, "DEU")
    fra = _token(ctx, "fra-viewer", Role.NA_VIEWER, "FRA")
    base = f"/api/declarations/{published}"
    reads = [
        base,
        f"{base}/versions/1",
        f"{base}/versions/2",
        f"{base}/diff?from=1&to=2",
        f"{base}/versions/2/export?format=csv",
        f"{base}/versions/2/export?format=xlsx",
        "/api/declarations",
    ]
    for path in reads:
        response = client.get(path, headers=deu)
        assert response.status_code == 200, (path, response.text)
        assert not leaks(response.content) and not leaks(response.content, SECRET + "-V2"), path
    version = client.get(f"{base}/versions/2", headers=deu).json()
    assert version["data"]["facilities"] == {"withheld": True, "classification": "protected"}
    detail = client.get(base, headers=deu).json()
    assert detail["annexes"] == [
        {"section": "facilities", "classification": "protected", "withheld": True}
    ]
    assert [v["line_count"] for v in detail["versions"]] == [0, 0]
    diff = client.get(f"{base}/diff?from=1&to=2", headers=deu).json()
    assert diff["withheld"] == [{"section": "facilities", "classification": "protected"}]
    assert diff["sections"] == []
    original = client.get(f"{base}/versions/1/original", headers=deu)
    assert original.status_code == 403 and original.json()["code"] == "forbidden"
    assert original.json()["withheld"] == ["facilities"] and not leaks(original.content)

    # The owner gets all of it.
    for path in reads[1:3] + reads[4:6] + [f"{base}/versions/1/original", "/api/my-data"]:
        response = client.get(path, headers=fra)
        assert response.status_code == 200, (path, response.text)
        assert leaks(response.content), path
    assert client.get(base, headers=fra).json()["annexes"][0]["withheld"] is False


def test_reclassify_annex_route(client: TestClient, ctx: Context, published: str) -> None:
    analyst = _token(ctx, "analyst", Role.ANALYST)
    fra = _token(ctx, "fra-submitter", Role.NA_SUBMITTER, "FRA")
    path = f"/api/declarations/{published}/annexes/facilities/classification"
    body = {"classification": "restricted", "reason": "shared with the states parties"}
    assert client.put(path, json=body, headers=fra).status_code == 403
    assert client.put(path, json=body, headers=analyst).status_code == 204
    assert client.get(f"/api/declarations/{published}", headers=analyst).json()["annexes"] == [
        {"section": "facilities", "classification": "restricted", "withheld": False}
    ]
    wrong = client.put(
        f"/api/declarations/{published}/annexes/programme/classification",
        json=body,
        headers=analyst,
    )
    assert wrong.status_code == 400 and "facilities" in wrong.json()["message"]
    invalid = {"classification": "secret", "reason": "x"}
    assert client.put(path, json=invalid, headers=analyst).status_code == 422
    regimes = client.get("/api/regimes", headers=analyst).json()
    bwc = next(r for r in regimes if r["id"] == "bwc")
    assert next(t for t in bwc["types"] if t["id"] == "form_a2")["annexes"] == {
        "facilities": "protected"
    }


def _sign_in(client: TestClient, ctx: Context, username: str, role: Role, state: str) -> None:
    make_user(ctx, username, role, state, password=PASSWORD)
    token = CSRF.search(client.get("/login").text)
    assert token is not None
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "code": totp_code(ctx, username),
            "csrf": token.group(1),
            "next": "/",
        },
    )
    assert response.status_code == 303


def test_web_pages_never_leak_a_withheld_annex(
    client: TestClient, ctx: Context, published: str
) -> None:
    _sign_in(client, ctx, "deu-viewer", Role.NA_VIEWER, "DEU")
    page = client.get(f"/declarations/{published}")
    assert page.status_code == 200
    assert not leaks(page.content) and not leaks(page.content, SECRET + "-V2")
    assert "This annex is withheld: it is classified Protected" in page.text
    assert "/versions/1/original" not in page.text  # the original is not offered
    assert "Withheld: the file holds annexes you may not read" in page.text
    diff = client.get(f"/declarations/{published}/diff?from=1&to=2")
    assert diff.status_code == 200 and not leaks(diff.content)
    assert "Not compared: this annex is withheld (classified Protected)." in diff.text
    token = CSRF.search(page.text)
    assert token is not None
    client.post("/language", data={"lang": "zh", "csrf": token.group(1), "next": "/"})
    zh = client.get(f"/declarations/{published}")
    assert "本附件不予显示：其密级为“保护”" in zh.text and not leaks(zh.content)


def test_web_shows_the_owner_its_annex_with_its_badge(
    client: TestClient, ctx: Context, published: str
) -> None:
    _sign_in(client, ctx, "fra-viewer", Role.NA_VIEWER, "FRA")
    page = client.get(f"/declarations/{published}")
    assert page.status_code == 200 and leaks(page.content, SECRET + "-V2")
    assert 'data-classification="protected"' in page.text
    assert "Confidential annex: Protected" in page.text
    assert "withheld" not in page.text.lower().replace("withheld-", "")
    assert "/versions/1/original" in page.text
    diff = client.get(f"/declarations/{published}/diff?from=1&to=2")
    assert leaks(diff.content, SECRET + "-V2") and "Not compared" not in diff.text


def test_group_membership_is_read_from_the_store(ctx: Context) -> None:
    """The annex follows the signed-in user's need-to-know groups, as stored."""
    from veritrail.queries.accounts import actor_for

    make_group(ctx)
    declaration_id = submit(ctx, annexed("cwc", "plant_site_s2", "FRA"))
    do_reclassify(
        ctx,
        actor=OPERATOR,
        declaration_id=declaration_id,
        classification=PR,
        reason="r",
        group_id=GROUP,
    )
    make_user(ctx, "inspector", Role.INSPECTOR)
    inspector = actor_for(ctx, "inspector")
    assert inspector is not None
    assert not leaks(version_document(ctx, actor=inspector, declaration_id=declaration_id))
    with ctx.sessions() as session, session.begin():
        user_id = session.scalar(select(User.id).where(User.username == "inspector"))
        session.add(GroupMember(group_id=GROUP, user_id=user_id))
    inspector = actor_for(ctx, "inspector")
    assert inspector is not None and GROUP in inspector.groups
    assert leaks(version_document(ctx, actor=inspector, declaration_id=declaration_id))
