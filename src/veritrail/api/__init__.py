"""The HTTP API under ``/api``: the same operations as the CLI."""

from fastapi import APIRouter

from veritrail.api import declarations, reference

router = APIRouter(prefix="/api")
router.include_router(declarations.router)
router.include_router(reference.router)

__all__ = ["router"]
