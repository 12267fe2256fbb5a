"""The public Verify page: anyone checks a receipt (and the document) against the log.

Open to everyone, signed in or not: a receipt proves something only if anyone
can check it. The same checks run offline with ``veritrail verify receipt``,
which the page explains, with the log's key and latest checkpoint.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from veritrail.api.deps import CtxDep
from veritrail.api.permissions import public
from veritrail.errors import InputError, TooLarge
from veritrail.ledger.receipt import MAX_RECEIPT_BYTES
from veritrail.queries.ledger import log_summary
from veritrail.queries.receipts import Step, Verdict, verify_receipt
from veritrail.store.context import Context
from veritrail.web.common import N_, page
from veritrail.web.deps import MaybeActor
from veritrail.web.security import check_csrf

router = APIRouter(dependencies=[Depends(public)])

PATH = "/verify"
_STATUS = {None: 200, Step.KEY: 400, Step.READ: 400}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _page(
    request: Request,
    ctx: Context,
    actor: Any,
    *,
    verdict: Verdict | None = None,
    error: str | None = None,
    vkey: str = "",
    document_given: bool = False,
    status_code: int = 200,
) -> Response:
    base = str(request.base_url).rstrip("/")
    return page(
        request,
        "verify.html",
        {
            "log": log_summary(ctx),
            "log_url": f"{base}/log",
            "verdict": verdict,
            "error": error,
            "vkey": vkey,
            "document_given": document_given,
            "max_receipt": MAX_RECEIPT_BYTES,
            "max_document": ctx.settings.max_upload_bytes,
            "max_receipt_label": _megabytes(MAX_RECEIPT_BYTES),
            "max_document_label": _megabytes(ctx.settings.max_upload_bytes),
            "lang_next": PATH,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get(PATH, include_in_schema=False)
def verify_form(request: Request, ctx: CtxDep, actor: MaybeActor) -> Response:
    """The form, the log's key and checkpoint, and how to verify offline."""
    return _page(request, ctx, actor)


async def _read(upload: UploadFile | None, limit: int) -> bytes | None:
    """The file's bytes, one more than ``limit`` at most (enough to refuse it); None if absent."""
    if upload is None or not upload.filename:
        return None
    return await upload.read(limit + 1)


@router.post(PATH, include_in_schema=False)
async def verify(
    request: Request,
    ctx: CtxDep,
    actor: MaybeActor,
    receipt: Annotated[UploadFile | None, File()] = None,
    document: Annotated[UploadFile | None, File()] = None,
    vkey: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the receipt given and say in plain words what holds and what does not."""
    check_csrf(request, csrf)
    try:
        data = await _read(receipt, MAX_RECEIPT_BYTES)
        if data is None:
            raise InputError(N_("Choose the receipt file (JSON) to check."))
        content = await _read(document, ctx.settings.max_upload_bytes)
        verdict = verify_receipt(ctx, receipt=data, document=content, vkey=vkey or None)
    except (InputError, TooLarge) as exc:
        return _page(request, ctx, actor, error=exc.message, vkey=vkey, status_code=exc.status)
    return _page(
        request,
        ctx,
        actor,
        verdict=verdict,
        vkey=vkey,
        document_given=content is not None,
        status_code=_STATUS.get(verdict.failed, 422),
    )


__all__ = ["router"]
