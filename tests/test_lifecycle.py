"""Draft, submission, amendment and status, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from factories import adnd, national, secretariat
from veritrail.access import OPERATOR
from veritrail.actions import Context, do_prefill_draft, do_save_draft, do_submit_declaration
from veritrail.declarations.document import ParsedDeclaration, content_hash
from veritrail.declarations.models import Lifecycle, ReportingStatus
from veritrail.errors import Conflict, Forbidden, NotFound, ValidationFailed
from veritrail.queries import (
    declaration_detail,
    diff_versions,
    list_declarations,
    status_table,
    version_document,
)
from veritrail.store.models import AuditEvent, Blob, Declaration, DeclarationVersion


def _submit(ctx: Context, doc: dict, **kw: object):  # type: ignore[no-untyped-def]
    return do_submit_declaration(
        ctx,
        actor=kw.pop("actor", OPERATOR),  # type: ignore[arg-type]
        parsed=ParsedDeclaration(doc, "json"),
        **kw,
    )  # type: ignore[arg-type]


def _count(ctx: Context, model: type) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_submit_stores_version_original_and_audit(ctx: Context) -> None:
    original = b'{"hand": "written"}'
    result = _submit(ctx, adnd(), original=original, filename="fra.json")
    assert result.version == 1 and not result.amendment
    assert result.status is Lifecycle.SUBMITTED
    stored = version_document(ctx, actor=OPERATOR, declaration_id=result.id)
    assert stored["id"] == result.id and stored["state"] == "FRA"
    assert content_hash(stored) == result.content_sha256
    assert ctx.blobs.get(result.original_sha256 or "") == original
    assert _count(ctx, AuditEvent) == 1 and _count(ctx, Blob) == 1


def test_invalid_submission_stores_nothing(ctx: Context) -> None:
    bad = adnd(lines=[{"cas": "75-44-6", "activity": "export", "quantity": "-3", "unit": "lb"}])
    with pytest.raises(ValidationFailed) as info:
        _submit(ctx, bad, original=b"x")
    codes = {p.code for p in info.value.problems}
    assert {"invalid_cas", "negative", "not_a_choice", "required"} <= codes
    for model in (Declaration, DeclarationVersion, AuditEvent, Blob):
        assert _count(ctx, model) == 0
    assert not any(ctx.settings.blob_dir.rglob("*")) if ctx.settings.blob_dir.exists() else True


def test_amendment_keeps_every_version_and_diffs(ctx: Context) -> None:
    first = _submit(ctx, adnd())
    changed = adnd(id=first.id)
    changed["data"]["lines"][0]["quantity"] = "150"
    changed["data"]["lines"].pop(2)
    second = _submit(ctx, changed)
    assert second.amendment and second.version == 2 and second.status is Lifecycle.AMENDED
    detail = declaration_detail(ctx, actor=OPERATOR, declaration_id=first.id)
    assert [v.version for v in detail.versions] == [1, 2]
    assert (
        version_document(ctx, actor=OPERATOR, declaration_id=first.id, version=1)["data"]["lines"][
            0
        ]["quantity"]
        == "120"
    )
    diff = diff_versions(ctx, actor=OPERATOR, declaration_id=first.id, old=1, new=2)
    assert diff.summary() == {
        "header": 0,
        "fields": 0,
        "rows_added": 0,
        "rows_removed": 1,
        "rows_changed": 1,
    }


def test_identical_amendment_and_second_original_are_refused(ctx: Context) -> None:
    first = _submit(ctx, adnd())
    with pytest.raises(Conflict, match="nothing to amend"):
        _submit(ctx, adnd(id=first.id))
    with pytest.raises(Conflict, match=first.id):
        _submit(ctx, adnd())
    assert _count(ctx, DeclarationVersion) == 1


def test_amendment_cannot_move_to_another_period(ctx: Context) -> None:
    first = _submit(ctx, adnd())
    with pytest.raises(Conflict, match="cannot change"):
        _submit(ctx, adnd(id=first.id, period=2023))
    with pytest.raises(NotFound):
        _submit(ctx, adnd(id="D-NOSUCHTHING"))


def test_national_authority_acts_for_its_own_state_only(ctx: Context) -> None:
    with pytest.raises(Forbidden):
        _submit(ctx, adnd(state="DEU"), actor=national("FRA"))
    mine = _submit(ctx, adnd(state="FRA"), actor=national("FRA"))
    theirs = _submit(ctx, adnd(state="DEU"))
    seen = list_declarations(ctx, actor=national("FRA"))
    assert [d.id for d in seen] == [mine.id]
    with pytest.raises(NotFound):
        declaration_detail(ctx, actor=national("FRA"), declaration_id=theirs.id)
    assert len(list_declarations(ctx, actor=secretariat())) == 2


def test_state_given_on_submission_must_agree(ctx: Context) -> None:
    doc = adnd()
    del doc["state"]
    result = _submit(ctx, doc, state="fra")
    assert result.state == "FRA"
    with pytest.raises(ValidationFailed, match="1 error"):
        _submit(ctx, adnd(state="DEU"), state="FRA")


def test_reporting_status(ctx: Context) -> None:
    due_passed = datetime(2026, 6, 1, tzinfo=UTC)
    _submit(ctx, adnd(state="FRA", period=2025), now=datetime(2026, 2, 1, tzinfo=UTC))
    _submit(ctx, adnd(state="DEU", period=2025), now=datetime(2026, 5, 2, tzinfo=UTC))
    _submit(
        ctx,
        adnd(state="ITA", period=2025, nothing_to_declare=True, lines=[]),
        now=datetime(2026, 3, 31, 23, 59, tzinfo=UTC),
    )
    cells = {
        c.state: c.status
        for c in status_table(ctx, actor=OPERATOR, period=2025, regime="cwc", now=due_passed)
    }
    assert cells["FRA"] is ReportingStatus.ON_TIME
    assert cells["DEU"] is ReportingStatus.LATE
    assert cells["ITA"] is ReportingStatus.NOTHING_TO_DECLARE
    assert cells["ESP"] is ReportingStatus.MISSING
    assert "ISR" not in cells  # not a party
    early = {
        c.state: c.status
        for c in status_table(
            ctx, actor=OPERATOR, period=2025, regime="cwc", now=datetime(2026, 1, 5, tzinfo=UTC)
        )
    }
    assert early["ESP"] is ReportingStatus.NOT_YET_DUE
    mine = status_table(ctx, actor=national("FRA"), period=2025, regime="cwc", now=due_passed)
    assert [c.state for c in mine] == ["FRA"]


def test_draft_then_submit_and_prefill_from_last_period(ctx: Context) -> None:
    draft = adnd(period=2024)
    draft["data"]["lines"][0]["quantity"] = "not yet known"
    declaration_id, problems = do_save_draft(ctx, actor=OPERATOR, document=draft)
    assert [p.code for p in problems] == ["not_a_number"]
    detail = declaration_detail(ctx, actor=OPERATOR, declaration_id=declaration_id)
    assert detail.status is Lifecycle.DRAFT and detail.draft is not None
    result = _submit(ctx, adnd(period=2024))
    assert result.id == declaration_id and result.version == 1
    new_id = do_prefill_draft(
        ctx, actor=OPERATOR, regime="cwc", type_="adnd", state="FRA", period=2025
    )
    prefilled = declaration_detail(ctx, actor=OPERATOR, declaration_id=new_id).draft
    assert prefilled is not None and prefilled["period"] == 2025
    assert (
        prefilled["data"] == version_document(ctx, actor=OPERATOR, declaration_id=result.id)["data"]
    )
    with pytest.raises(NotFound):
        do_prefill_draft(ctx, actor=OPERATOR, regime="cwc", type_="adnd", state="DEU", period=2025)


def test_prefill_never_overwrites_an_existing_declaration(ctx: Context) -> None:
    _submit(ctx, adnd(period=2024))
    _submit(ctx, adnd(period=2025))
    with pytest.raises(Conflict, match="already has declaration"):
        do_prefill_draft(ctx, actor=OPERATOR, regime="cwc", type_="adnd", state="FRA", period=2025)
