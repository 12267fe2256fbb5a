"""The HTTP API under ``/api``: the same operations as the CLI."""

from fastapi import APIRouter, Depends

from veritrail.api import declarations, oversight, reference, tokens
from veritrail.api.deps import no_nul_characters

router = APIRouter(prefix="/api", dependencies=[Depends(no_nul_characters)])
router.include_router(declarations.router)
router.include_router(reference.router)
router.include_router(tokens.router)
router.include_router(oversight.router)

__all__ = ["router"]
