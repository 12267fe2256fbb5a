"""The HTTP API under ``/api``: the same operations as the CLI."""

from fastapi import APIRouter, Depends

from veritrail.api import (
    analysis,
    archive,
    declarations,
    log,
    oversight,
    reference,
    signing_keys,
    tokens,
)
from veritrail.api.deps import no_nul_characters

router = APIRouter(prefix="/api", dependencies=[Depends(no_nul_characters)])
router.include_router(declarations.router)
router.include_router(reference.router)
router.include_router(tokens.router)
router.include_router(oversight.router)
router.include_router(log.router)
router.include_router(signing_keys.router)
router.include_router(archive.router)
router.include_router(analysis.router)

# The log's static layout lives at /log, outside the API, as C2SP tlog-tiles names it.
log_router = log.log_router

__all__ = ["log_router", "router"]
