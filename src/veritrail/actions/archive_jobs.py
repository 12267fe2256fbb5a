"""Uploads to the archive as background jobs: files staged, then read one by one.

The web upload stages the files in the data directory and queues one job; the
worker imports each file with :func:`do_import_document`, reporting progress
per file and per page, and lists every file's outcome (imported, already in
the archive, or the reason it was refused) in the job's result. The staged
copies are removed when the job ends.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, require
from veritrail.actions import ledger
from veritrail.actions.archive import do_import_document, refused, tally
from veritrail.errors import InputError, NotFound, TooLarge, VeritrailError
from veritrail.jobs import queue
from veritrail.jobs.worker import Handler, Report
from veritrail.regimes.model import Classification
from veritrail.search.indexer import sync_quietly
from veritrail.store.context import Context

IMPORT_JOB = "archive.import"
MAX_FILES = 500


def _staging(ctx: Context, job_id: str) -> Path:
    return ctx.settings.data_dir / "staging" / job_id


def enqueue_import(
    ctx: Context,
    *,
    actor: Actor,
    files: Sequence[tuple[str, bytes]],
    classification: Classification = Classification.RESTRICTED,
    owner_state: str | None = None,
    regimes: Sequence[str] = (),
    group_id: str | None = None,
) -> str:
    """Stage uploaded files and queue their import; the job's id."""
    if not files:
        raise InputError("choose at least one file to upload")
    if len(files) > MAX_FILES:
        raise InputError(f"{len(files)} files in one upload; at most {MAX_FILES} are accepted")
    if classification is Classification.HIGHLY_PROTECTED and not group_id:
        raise InputError("highly protected material needs a need-to-know group (group_id)")
    require(
        actor,
        Action.ARCHIVE_IMPORT,
        Resource(owner_state=owner_state, classification=classification, group_id=group_id),
        groups=actor.groups | ({group_id} if group_id else set()),
    )
    limit = ctx.settings.max_archive_bytes
    for name, data in files:
        if len(data) > limit:
            raise TooLarge(
                f"{name} is {len(data):,} bytes; the archive accepts files up to {limit:,} bytes",
                limit=limit,
            )
    job_id = queue.new_job_id()
    staging = _staging(ctx, job_id)
    staging.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for number, (name, data) in enumerate(files):
            path = staging / f"{number:04d}"
            path.write_bytes(data)
            staged.append({"name": name, "path": path.name, "size": len(data)})
        with ctx.sessions() as session, session.begin():
            queue.enqueue(
                session,
                job_id=job_id,
                kind=IMPORT_JOB,
                payload={
                    "files": staged,
                    "classification": classification.value,
                    "owner_state": owner_state,
                    "regimes": list(regimes),
                    "group_id": group_id,
                },
                created_by=actor.username,
                total=len(files),
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return job_id


def import_handler(ctx: Context, actor_for: Callable[[str], Actor | None]) -> Handler:
    """The worker's handler for upload jobs; ``actor_for`` finds the uploader's account."""

    def handle(job_id: str, payload: dict[str, Any], report: Report) -> dict[str, Any]:
        staging = _staging(ctx, job_id)
        files: list[dict[str, Any]] = list(payload.get("files", []))
        total = len(files)
        try:
            with ctx.sessions() as session:
                owner = queue.get(session, job_id).created_by
            actor = actor_for(owner)
            if actor is None:
                raise NotFound(f"the account {owner!r} that queued this upload no longer exists")
            outcomes: list[dict[str, Any]] = []
            for number, item in enumerate(files):
                name = str(item["name"])

                def pages(done: int, of: int, name: str = name, number: int = number) -> None:
                    report(number, total, f"{name}: page {done} of {of}")

                report(number, total, f"reading {name}")
                try:
                    data = (staging / str(item["path"])).read_bytes()
                    imported = do_import_document(
                        ctx,
                        actor=actor,
                        data=data,
                        filename=name,
                        classification=Classification(payload["classification"]),
                        owner_state=payload.get("owner_state"),
                        regimes=payload.get("regimes") or (),
                        group_id=payload.get("group_id"),
                        progress=pages,
                        integrate=False,
                    )
                except VeritrailError as exc:
                    outcomes.append(refused(name, exc.message))
                except OSError:
                    outcomes.append(refused(name, "the staged copy is gone"))
                else:
                    outcomes.append(imported.outcome(name))
                report(number + 1, total, f"{number + 1} of {total} files read")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        ledger.integrate(ctx)
        sync_quietly(ctx)
        return {"files": outcomes, **tally(outcomes)}

    return handle


__all__ = ["IMPORT_JOB", "MAX_FILES", "enqueue_import", "import_handler"]
