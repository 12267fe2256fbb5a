"""The HTTP API under ``/api``: the same operations as the CLI."""

from fastapi import APIRouter

from veritrail.api import declarations, oversight, reference, tokens

router = APIRouter(prefix="/api")
router.include_router(declarations.router)
router.include_router(reference.router)
router.include_router(tokens.router)
router.include_router(oversight.router)

__all__ = ["router"]
