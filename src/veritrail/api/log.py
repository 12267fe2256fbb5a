"""The transparency log over HTTP, open to anyone.

``/log/checkpoint`` and ``/log/tile/...`` are served exactly as C2SP
tlog-tiles specifies, so states can mirror and check the log with their own
tools; ``/api/log/...`` adds receipts and consistency proofs as JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse, Response

from veritrail.api.deps import SQL_BIGINT_MAX, CtxDep
from veritrail.api.permissions import public
from veritrail.ledger.tiles import TILE_WIDTH, parse_tile_path
from veritrail.queries import ledger as queries

log_router = APIRouter(prefix="/log", tags=["transparency log"], dependencies=[Depends(public)])
router = APIRouter(prefix="/log", tags=["transparency log"], dependencies=[Depends(public)])

IMMUTABLE = "public, max-age=31536000, immutable"
FRESH = "no-cache"


@log_router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(ctx: CtxDep) -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note), with cosignatures."""
    found = queries.checkpoint_note(ctx)
    return PlainTextResponse(found.note, headers={"cache-control": FRESH})


@log_router.get(
    "/tile/{tile_path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def tile(
    ctx: CtxDep,
    tile_path: Annotated[str, Path(max_length=200, description="L/N[.p/W] or entries/N[.p/W]")],
) -> Response:
    """A hash tile or an entry bundle, as C2SP tlog-tiles lays them out."""
    tile_id = parse_tile_path("tile/" + tile_path)
    data = queries.tile(ctx, tile_id)
    cache = IMMUTABLE if tile_id.width == TILE_WIDTH else "public, max-age=60"
    return Response(data, media_type="application/octet-stream", headers={"cache-control": cache})


@router.get("")
def summary(ctx: CtxDep) -> dict[str, Any]:
    """The log's origin, signed size, verifier key, latest checkpoint and witnesses."""
    return queries.log_summary(ctx)


@router.get("/receipts/{index}")
def receipt_by_index(
    ctx: CtxDep, index: Annotated[int, Path(ge=0, le=SQL_BIGINT_MAX)]
) -> dict[str, Any]:
    """The receipt of one leaf: checkpoint, index, entry and inclusion proof."""
    return queries.receipt_for_index(ctx, index)


@router.get("/records/{record_type}/{record_id}/receipt")
def receipt_by_record(
    ctx: CtxDep,
    record_type: Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")],
    record_id: Annotated[str, Path(max_length=64)],
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """The receipt of a record version (the latest committed one without `version`)."""
    return queries.receipt_for_record(ctx, record_type, record_id, version)


@router.get("/consistency")
def consistency(
    ctx: CtxDep,
    old: Annotated[int, Query(ge=0, le=SQL_BIGINT_MAX)],
    new: Annotated[int, Query(ge=0, le=SQL_BIGINT_MAX)],
) -> dict[str, list[str]]:
    """RFC 9162 consistency proof between two sizes of the log."""
    return {"consistency_proof": queries.consistency(ctx, old, new)}


__all__ = ["log_router", "router"]
