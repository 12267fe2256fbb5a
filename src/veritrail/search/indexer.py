"""From the database to the search index: entries, the outbox, rebuilds.

Every change search must see writes an outbox row in its own transaction
(``store.outbox``). :func:`sync` applies the rows after the index's watermark,
so an index that missed changes (a crash, a busy writer) catches up on the next
call. :func:`reindex` builds a whole new index from the database and swaps it
in; searches keep answering from the old one meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veritrail.declarations.redact import annex_classifications, is_withheld, redact
from veritrail.errors import ConfigurationError, IndexBusy, VeritrailError
from veritrail.reference import states
from veritrail.regimes.model import LANGUAGES, Classification
from veritrail.search.analyze import analyze
from veritrail.search.model import IndexDoc, RecordType, SearchProvider
from veritrail.search.query import normalise_symbol
from veritrail.store import outbox
from veritrail.store.context import Context
from veritrail.store.models import ArchiveDocument, Declaration, DeclarationVersion

logger = logging.getLogger(__name__)

BATCH = 500
_SERVICE = "search.provider"
_LOCK = "search.lock"


def provider(ctx: Context) -> SearchProvider:
    """The configured search provider of this context, opened once."""
    found = ctx.services.get(_SERVICE)
    if found is None:
        backend = ctx.settings.search_backend
        if backend == "postgresql":
            if ctx.engine.dialect.name != "postgresql":
                raise ConfigurationError(
                    "VERITRAIL_SEARCH_BACKEND=postgresql needs a PostgreSQL database "
                    "(VERITRAIL_DATABASE_URL); the embedded default is tantivy"
                )
            from veritrail.search.postgres_provider import PostgresProvider

            found = PostgresProvider(ctx.engine)
        else:
            from veritrail.search.tantivy_provider import TantivyProvider

            found = TantivyProvider(ctx.settings.search_dir)
        ctx.services[_SERVICE] = found
    provider_: SearchProvider = found
    return provider_


# -- entries ------------------------------------------------------------------------------


def document_entry(row: ArchiveDocument) -> IndexDoc:
    """An archive document as the index holds it."""
    mentions: Mapping[str, Any] = row.mentions or {}
    mentioned = [s for s in mentions.get("states", []) if isinstance(s, str)]
    concerned = ([row.owner_state] if row.owner_state else []) + mentioned
    return IndexDoc(
        key=f"{RecordType.DOCUMENT.value}:{row.id}",
        record_type=RecordType.DOCUMENT,
        record_id=row.id,
        title=row.title,
        text=row.text,
        title_tokens=analyze(f"{row.title} {row.source_name}", row.language),
        body_tokens=analyze(row.text, row.language),
        language=row.language,
        classification=row.classification,
        owner_state=row.owner_state,
        group_id=row.group_id,
        updated_at=row.updated_at,
        states=tuple(dict.fromkeys(concerned)),
        regimes=tuple(row.regimes or ()),
        symbols=tuple(
            normalise_symbol(s) for s in mentions.get("symbols", []) if isinstance(s, str)
        ),
        year=row.year,
        source_name=row.source_name,
    )


def _values(value: Any, out: list[str]) -> None:
    if is_withheld(value):
        return
    if isinstance(value, Mapping):
        for item in value.values():
            _values(item, out)
    elif isinstance(value, list):
        for item in value:
            _values(item, out)
    elif isinstance(value, str):
        out.append(value)
        found = states.by_alpha3(value) if len(value) == 3 and value.isupper() else None
        if found is not None:
            out.append(found.name("en"))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out.append(str(value))


def declaration_entry(ctx: Context, row: Declaration, version: DeclarationVersion) -> IndexDoc:
    """A submitted declaration as the index holds it.

    Its confidential annexes above the declaration's own classification are left
    out, so nobody finds a declaration by words only its annexes hold.
    """
    pack = ctx.registry.packs.get(row.regime)
    dtype = pack.types.get(row.type) if pack else None
    state = states.by_alpha3(row.state)
    level = Classification(row.classification)
    document = version.document
    if dtype is not None:
        annexes = annex_classifications(dtype, level, row.annex_classification)
        shown = [c for c in Classification if not c.at_least(level) or c is level]
        document = redact(document, dtype, shown, annexes=annexes)
    values: list[str] = []
    _values(document.get("data", {}), values)
    titles = []
    for language in LANGUAGES:
        regime = pack.regime.short_name.get(language) if pack else row.regime
        kind = dtype.title.get(language) if dtype else row.type
        where = state.name(language) if state else row.state
        titles.append(f"{regime} {kind} {row.period} {where}")
    title = titles[LANGUAGES.index("en")] if "en" in LANGUAGES else titles[0]
    text = "\n".join(values)
    return IndexDoc(
        key=f"{RecordType.DECLARATION.value}:{row.id}",
        record_type=RecordType.DECLARATION,
        record_id=row.id,
        title=title,
        text=text,
        title_tokens=analyze(" ".join(dict.fromkeys(titles)), "und"),
        body_tokens=analyze(text, "und"),
        language="und",
        classification=row.classification,
        owner_state=row.state,
        group_id=row.group_id,
        updated_at=row.updated_at,
        states=(row.state,),
        regimes=(row.regime,),
        year=row.period,
    )


def _entry(ctx: Context, session: Session, record_type: str, record_id: str) -> IndexDoc | None:
    """The current entry of one record, or None when it should not be in the index."""
    if record_type == RecordType.DOCUMENT.value:
        doc = session.get(ArchiveDocument, record_id)
        return document_entry(doc) if doc is not None else None
    if record_type == RecordType.DECLARATION.value:
        row = session.get(Declaration, record_id)
        if row is None or row.current_version < 1:
            return None
        version = session.scalars(
            select(DeclarationVersion).where(
                DeclarationVersion.declaration_id == row.id,
                DeclarationVersion.version == row.current_version,
            )
        ).one()
        return declaration_entry(ctx, row, version)
    return None


def all_entries(ctx: Context, session: Session) -> Iterator[IndexDoc]:
    """Every record search should hold, streamed from the database."""
    for doc in session.scalars(
        select(ArchiveDocument).order_by(ArchiveDocument.id).execution_options(yield_per=200)
    ):
        yield document_entry(doc)
        session.expunge(doc)
    pairs = session.execute(
        select(Declaration, DeclarationVersion)
        .join(
            DeclarationVersion,
            (DeclarationVersion.declaration_id == Declaration.id)
            & (DeclarationVersion.version == Declaration.current_version),
        )
        .order_by(Declaration.id)
        .execution_options(yield_per=200)
    )
    for row, version in pairs:
        yield declaration_entry(ctx, row, version)
        session.expunge(version)
        session.expunge(row)


def record_count(session: Session) -> int:
    """How many records search should hold."""
    documents = session.scalar(select(func.count()).select_from(ArchiveDocument)) or 0
    declarations = (
        session.scalar(
            select(func.count()).select_from(Declaration).where(Declaration.current_version > 0)
        )
        or 0
    )
    return int(documents) + int(declarations)


# -- keeping the index current ------------------------------------------------------------


def reindex(ctx: Context, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Build the index anew from the database and swap it in; the entries written."""
    with _lock(ctx):
        written = _rebuild(ctx, progress)
        _sync(ctx)
    return written


def _rebuild(ctx: Context, progress: Callable[[int, int], None] | None) -> int:
    index = provider(ctx)
    with ctx.sessions() as session:
        mark = outbox.last_position(session)
        total = record_count(session)
        done = 0

        def counted() -> Iterator[IndexDoc]:
            nonlocal done
            for entry in all_entries(ctx, session):
                yield entry
                done += 1
                if progress is not None and (done % 500 == 0 or done == total):
                    progress(done, total)

        written = index.rebuild(counted(), mark)
    if progress is not None:
        progress(written, written)
    return written


def sync(ctx: Context) -> int:
    """Apply the outbox rows the index has not applied yet; the number of records refreshed.

    The first call on an empty index builds it from the database. Raises
    :class:`IndexBusy` when another process holds the index's writer (that process
    applies the rows instead).
    """
    with _lock(ctx):
        return _sync(ctx)


def _lock(ctx: Context) -> threading.Lock:
    """One sync at a time within a process; other processes meet the index's own lock."""
    lock: threading.Lock = ctx.services.setdefault(_LOCK, threading.Lock())
    return lock


def _sync(ctx: Context) -> int:
    index = provider(ctx)
    watermark = index.watermark()
    with ctx.sessions() as session:
        if watermark == 0 and index.count() == 0 and record_count(session) > 0:
            return _rebuild(ctx, None)
        if outbox.last_position(session) <= watermark:
            return 0  # nothing new: the writer is not even opened
    refreshed = 0
    with index.writer() as writer:
        applied = index.watermark()
        while True:
            with ctx.sessions() as session:
                rows = outbox.pending(session, applied, BATCH)
                if not rows:
                    break
                wanted = dict.fromkeys((row.record_type, row.record_id) for row in rows)
                fresh: list[IndexDoc] = []
                gone: list[str] = []
                for record_type, record_id in wanted:
                    entry = _entry(ctx, session, record_type, record_id)
                    if entry is None:
                        gone.append(f"{record_type}:{record_id}")
                    else:
                        fresh.append(entry)
                applied = rows[-1].id
            writer.upsert(fresh)
            writer.delete(gone)
            refreshed += len(wanted)
        if refreshed:
            writer.commit(applied)
    if refreshed:
        with ctx.sessions() as session, session.begin():
            outbox.prune(session, applied)
    return refreshed


def sync_quietly(ctx: Context) -> None:
    """:func:`sync` after a write: a busy index is left to the process that holds it."""
    try:
        sync(ctx)
    except IndexBusy:
        logger.debug("search index busy; its writer will apply the change")
    except VeritrailError as exc:
        logger.warning("search index not updated (the next change retries): %s", exc.message)


__all__ = [
    "all_entries",
    "declaration_entry",
    "document_entry",
    "provider",
    "record_count",
    "reindex",
    "sync",
    "sync_quietly",
]
