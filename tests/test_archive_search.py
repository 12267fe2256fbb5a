"""The archive and search end to end: import, de-duplication, the log, the policy in the
query, rebuilds, the command line and the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from corpus import MISSING, UN_ZH_DOCS
from factories import adnd, national, secretariat
from test_api import Bearer, make_api_user
from veritrail.access import OPERATOR, Actor, Role
from veritrail.access.policy import Action, Resource, can
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.archive import do_import_document, do_reclassify_document
from veritrail.cli import app
from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import UnsupportedFormat
from veritrail.queries.ledger_audit import run_audit
from veritrail.regimes.model import Classification
from veritrail.search.indexer import provider, reindex
from veritrail.search.model import Facet, RecordType
from veritrail.search.service import search
from veritrail.server import create_app
from veritrail.settings import Settings, get_settings
from veritrail.store import log
from veritrail.store.models import ArchiveDocument, Declaration, Group

PUBLIC = Classification.PUBLIC


def _corpus() -> list[Path]:
    if len(UN_ZH_DOCS) != 5:
        pytest.skip(MISSING)
    return UN_ZH_DOCS


@pytest.fixture
def corpus(ctx: Context) -> dict[str, str]:
    """The five real documents imported as public; their ids by file-name prefix."""
    ids = {}
    for path in _corpus():
        imported = do_import_document(
            ctx, actor=OPERATOR, data=path.read_bytes(), filename=path.name, classification=PUBLIC
        )
        ids[path.name[:3]] = imported.id
    return ids


def _first(ctx: Context, query: str, actor: Actor = OPERATOR) -> str | None:
    results = search(ctx, actor, query, limit=3)
    return results.hits[0].record_id if results.hits else None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("阿里亚办法", "000"),
        ("阿里亞辦法", "000"),  # traditional characters
        ("第２１１８（２０１３）号决议", "000"),  # full-width digits and brackets
        ("2118(2013)", "000"),
        ("S/2020/1197", "000"),  # a document symbol
        ("Ｓ／２０２０／１１９７", "000"),  # the same, full-width
        ("symbol:A/75/649", "000"),
        ("哈萨克斯坦", "001"),
        ("哈薩克斯坦", "001"),
        ("S/2018/4", "001"),
        ("人工智能", "002"),
        ("裁軍談判會議", "002"),
        ("1540 (2004)", "003"),
        ("第1540(2004)號決議", "003"),
        ('"核查的一切方面"', "004"),
        ("A/61/1028", "004"),
    ],
)
def test_chinese_queries_find_the_right_document_first(
    ctx: Context, corpus: dict[str, str], query: str, expected: str
) -> None:
    assert _first(ctx, query) == corpus[expected], query


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_postgresql_provider_finds_the_same(settings: Settings, corpus: dict[str, str]) -> None:
    """Full-text search in PostgreSQL, over the same analysed terms, from the same outbox."""
    pg = Context.from_settings(settings.model_copy(update={"search_backend": "postgresql"}))
    try:
        assert provider(pg).name == "postgresql"
        for query, expected in [
            ("阿里亞辦法", "000"),
            ("Ｓ／２０２０／１１９７", "000"),
            ("核查", "004"),
        ]:
            assert _first(pg, query) == corpus[expected], query
        viewer = national("FRA", Role.NA_VIEWER)
        assert search(pg, viewer, "阿里亚办法").total == 1
        imported = do_import_document(
            pg, actor=OPERATOR, data=b"the basalt note\n", filename="n.txt", owner_state="DEU"
        )
        assert search(pg, viewer, "basalt").total == 0
        assert search(pg, OPERATOR, "basalt").hits[0].record_id == imported.id
    finally:
        pg.close()


def test_import_reads_language_mentions_and_dates(ctx: Context, corpus: dict[str, str]) -> None:
    with ctx.sessions() as session:
        doc = session.get(ArchiveDocument, corpus["000"])
        assert doc is not None
        assert doc.language == "zh"
        assert "S/2020/1197" in doc.mentions["symbols"]
        assert {"RUS", "CHN"} <= set(doc.mentions["states"])
        assert doc.year == 2020
        letter = session.get(ArchiveDocument, corpus["003"])
        assert letter is not None and "unscr1540" in letter.regimes


def test_the_same_files_twice_add_nothing(ctx: Context, corpus: dict[str, str]) -> None:
    with ctx.sessions() as session:
        size_before = log.counters(session)[0]
    again = [
        do_import_document(ctx, actor=OPERATOR, data=p.read_bytes(), filename=f"copy-{p.name}")
        for p in _corpus()
    ]
    assert [a.created for a in again] == [False] * 5
    assert {a.id for a in again} == set(corpus.values())
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ArchiveDocument)) == 5
        assert log.counters(session)[0] == size_before


def test_every_document_is_in_the_log_and_the_audit_finds_tampering(
    ctx: Context, corpus: dict[str, str]
) -> None:
    assert run_audit(ctx).clean
    with ctx.sessions() as session, session.begin():
        session.execute(
            update(ArchiveDocument)
            .where(ArchiveDocument.id == corpus["002"])
            .values(text="a different text")
        )
    findings = run_audit(ctx).findings
    assert [(f.kind, f.record) for f in findings] == [("altered", f"document {corpus['002']}")]


def test_refused_file_stores_nothing(ctx: Context) -> None:
    with pytest.raises(UnsupportedFormat):
        do_import_document(ctx, actor=OPERATOR, data=b"MZ\x90\x00" + bytes(200), filename="x.pdf")
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ArchiveDocument)) == 0
        assert log.counters(session)[0] == 0


# -- the policy inside the query ----------------------------------------------------------

STATES = ("FRA", "DEU", None)
LEVELS = tuple(Classification)


@pytest.fixture
def spread(ctx: Context) -> dict[str, Resource]:
    """A document for every owner × classification (highly protected in group g1), each
    carrying the word "zircon", and a declaration of France and of Germany."""
    with ctx.sessions() as session, session.begin():
        session.add(Group(id="g1", kind="case", name="Case 1"))
    resources: dict[str, Resource] = {}
    for owner, level in product(STATES, LEVELS):
        group = "g1" if level is Classification.HIGHLY_PROTECTED else None
        body = f"zircon report of {owner or 'the secretariat'} at {level.value}\n".encode()
        imported = do_import_document(
            ctx,
            actor=OPERATOR,
            data=body,
            filename=f"{owner}-{level.value}.txt",
            classification=level,
            owner_state=owner,
            group_id=group,
        )
        resources[imported.id] = Resource(owner_state=owner, classification=level, group_id=group)
    for state in ("FRA", "DEU"):
        result = do_submit_declaration(
            ctx,
            actor=national(state),
            parsed=ParsedDeclaration(adnd(state=state), "json"),
        )
        with ctx.sessions() as session:
            row = session.get(Declaration, result.id)
            assert row is not None
            resources[result.id] = Resource(
                owner_state=state, classification=Classification(row.classification)
            )
    return resources


READERS = [
    national("FRA", Role.NA_VIEWER),
    national("DEU", Role.NA_SUBMITTER),
    secretariat(Role.ANALYST),
    Actor(username="grouped", role=Role.ANALYST, organisation_id="s", groups=frozenset({"g1"})),
    secretariat(Role.INVESTIGATOR),
    secretariat(Role.AUDITOR),
    OPERATOR,
]


@pytest.mark.parametrize("reader", READERS, ids=lambda a: a.username)
def test_results_counts_and_facets_hold_only_what_the_reader_may_see(
    ctx: Context, spread: dict[str, Resource], reader: Actor
) -> None:
    def action(record_id: str) -> Action:
        return Action.ARCHIVE_READ if record_id.startswith("A-") else Action.DECLARATION_READ

    allowed = {
        rid for rid, res in spread.items() if can(reader, action(rid), res, groups=reader.groups)
    }
    everything = search(ctx, reader, "", limit=100)
    assert {h.record_id for h in everything.hits} == allowed
    assert everything.total == len(allowed)
    by_level = {v.value: v.count for v in everything.facets[Facet.CLASSIFICATION]}
    expected: dict[str, int] = {}
    for rid in allowed:
        level = spread[rid].classification.value
        expected[level] = expected.get(level, 0) + 1
    assert by_level == expected
    zircon = search(ctx, reader, "zircon", limit=100)
    assert {h.record_id for h in zircon.hits} == {r for r in allowed if r.startswith("A-")}
    for hit in zircon.hits:
        assert "zircon" in hit.snippet.html().lower()


def test_a_word_only_hidden_documents_hold_finds_nothing(ctx: Context) -> None:
    do_import_document(
        ctx,
        actor=OPERATOR,
        data=b"the codeword quetzal is protected\n",
        filename="secret.txt",
        classification=Classification.PROTECTED,
        owner_state="DEU",
    )
    viewer = national("FRA", Role.NA_VIEWER)
    results = search(ctx, viewer, "quetzal")
    assert results.total == 0 and results.hits == []
    assert all(values == [] for values in results.facets.values())
    assert search(ctx, national("DEU", Role.NA_VIEWER), "quetzal").total == 1


def test_reclassification_reaches_the_next_search(ctx: Context) -> None:
    imported = do_import_document(
        ctx, actor=OPERATOR, data=b"the obsidian memo\n", filename="memo.txt", classification=PUBLIC
    )
    viewer = national("FRA", Role.NA_VIEWER)
    assert search(ctx, viewer, "obsidian").total == 1
    do_reclassify_document(
        ctx,
        actor=secretariat(Role.ANALYST),
        document_id=imported.id,
        classification=Classification.PROTECTED,
        reason="names a facility",
    )
    assert search(ctx, viewer, "obsidian").total == 0
    assert search(ctx, secretariat(Role.ANALYST), "obsidian").total == 1
    assert run_audit(ctx).clean


def test_reindex_rebuilds_from_the_database(ctx: Context, corpus: dict[str, str]) -> None:
    before = search(ctx, OPERATOR, "禁止化学武器组织", limit=10)
    assert reindex(ctx) == 5
    after = search(ctx, OPERATOR, "禁止化学武器组织", limit=10)
    assert [h.record_id for h in after.hits] == [h.record_id for h in before.hits]
    assert provider(ctx).count() == 5


def test_declarations_and_documents_share_one_result_list(
    ctx: Context, spread: dict[str, Resource]
) -> None:
    results = search(ctx, OPERATOR, "", limit=100)
    types = {v.value: v.count for v in results.facets[Facet.TYPE]}
    assert types == {"document": 12, "declaration": 2}
    france = search(ctx, OPERATOR, "France type:declaration")
    assert [h.record_type for h in france.hits] == [RecordType.DECLARATION]


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("VERITRAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VERITRAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_import_is_resumable_and_lists_refused_files(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    for path in _corpus()[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not a whole PDF")
    first = cli.invoke(
        app, ["archive", "import", str(folder), "--classification", "public", "--json"]
    )
    assert first.exit_code == 1, first.output
    report = json.loads(first.stdout)
    assert (report["imported"], report["duplicate"], report["refused"]) == (3, 0, 1)
    refused = next(f for f in report["files"] if f["status"] == "refused")
    assert refused["file"].endswith("broken.pdf") and refused["error"]
    for path in _corpus()[3:]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.pdf").unlink()
    second = cli.invoke(app, ["archive", "import", str(folder), "--json"])
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert (again["imported"], again["duplicate"], again["refused"]) == (2, 3, 0)


def test_cli_search_json(cli: CliRunner, tmp_path: Path) -> None:
    source = _corpus()[0]
    cli.invoke(app, ["archive", "import", str(source), "--classification", "public"])
    result = cli.invoke(app, ["search", "阿里亚办法", "--limit", "5", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["total"] == 1
    hit = answer["results"][0]
    assert hit["type"] == "document" and hit["language"] == "zh"
    assert hit["source_name"] == source.name
    assert hit["record_id"].startswith("A-") and hit["score"] > 0
    assert "阿里亚办法" in hit["snippet"].replace("\n", "")
    assert "<mark>" in hit["snippet_html"]
    rebuilt = cli.invoke(app, ["search", "reindex", "--json"])
    assert rebuilt.exit_code == 0 and json.loads(rebuilt.stdout)["indexed"] == 1
    bad = cli.invoke(app, ["search", '"unclosed', "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["code"] == "query_syntax"


# -- the API ------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    make_api_user(ctx, "fra", Role.NA_VIEWER, "FRA")
    make_api_user(ctx, "analyst", Role.ANALYST)
    with TestClient(create_app(settings, ctx)) as test_client:
        yield test_client


def _wait(client: TestClient, url: str, auth: Bearer) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(url, auth=auth).json()
        if job["state"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.2)
    pytest.fail(f"the job at {url} did not finish")


def test_api_upload_job_then_search_and_read(client: TestClient) -> None:
    analyst, fra = Bearer("analyst"), Bearer("fra")
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in _corpus()[:2]]
    files.append(("files", ("empty.txt", b"", "text/plain")))
    queued = client.post(
        "/api/archive/documents", files=files, data={"classification": "public"}, auth=analyst
    )
    assert queued.status_code == 202, queued.text
    job = _wait(client, queued.json()["url"], analyst)
    assert job["state"] == "done", job
    result = job["result"]
    assert isinstance(result, dict)
    assert (result["imported"], result["refused"]) == (2, 1)
    assert client.get(queued.json()["url"], auth=fra).status_code == 403  # fra may not import

    found = client.get("/api/search", params={"q": "阿里亚办法"}, auth=fra)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total"] == 1 and body["results"][0]["url"].startswith("/archive/")
    document_id = body["results"][0]["record_id"]
    assert "type" in body["facets"] and "language" in body["facets"]
    read = client.get(f"/api/archive/documents/{document_id}", auth=fra)
    assert read.status_code == 200 and read.json()["language"] == "zh"
    original = client.get(f"/api/archive/documents/{document_id}/original", auth=fra)
    assert original.status_code == 200 and original.content == _corpus()[0].read_bytes()

    changed = client.put(
        f"/api/archive/documents/{document_id}/classification",
        json={"classification": "protected", "reason": "names a plant"},
        auth=analyst,
    )
    assert changed.status_code == 204, changed.text
    assert client.get(f"/api/archive/documents/{document_id}", auth=fra).status_code == 404
    assert client.get("/api/search", params={"q": "阿里亚办法"}, auth=fra).json()["total"] == 0
    bad = client.get("/api/search", params={"q": "(unbalanced"}, auth=fra)
    assert bad.status_code == 400 and bad.json()["code"] == "query_syntax"
    national_upload = client.post("/api/archive/documents", files=files[:1], auth=fra)
    assert national_upload.status_code == 403
