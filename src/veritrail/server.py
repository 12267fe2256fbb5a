"""The ASGI application: API, web interface, static files, errors in one place."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from veritrail import __version__, api, web
from veritrail.actions import Context
from veritrail.actions.archive_jobs import IMPORT_JOB, import_handler
from veritrail.actions.case_jobs import REFRESH_JOB, refresh_handler
from veritrail.actions.log_keeper import LogKeeper
from veritrail.api.limits import BodyLimit
from veritrail.api.permissions import public
from veritrail.errors import VeritrailError
from veritrail.jobs.worker import Worker
from veritrail.queries.accounts import actor_for
from veritrail.settings import Mode, Settings, get_settings
from veritrail.web.security import SecurityHeaders

log = logging.getLogger("veritrail")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api", "/healthz", "/log/"))


def _validation_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        problems.append(
            {
                "path": "/" + "/".join(loc),
                "code": str(error.get("type", "invalid")),
                "message": str(error.get("msg", "invalid value")),
            }
        )
    return problems


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "Stable error code"},
        "message": {"type": "string", "description": "What went wrong, for a person"},
        "errors": {
            "type": "array",
            "description": "Every problem found, each located",
            "items": {
                "type": "object",
                "required": ["path", "code", "message"],
                "properties": {
                    "path": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "severity": {"type": "string"},
                    "field": {"type": "string"},
                },
            },
        },
    },
}


def create_app(settings: Settings | None = None, ctx: Context | None = None) -> FastAPI:
    """Build the application; ``veritrail serve`` calls this with the process settings."""
    settings = settings or get_settings()
    ctx = ctx or Context.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        keeper = LogKeeper(ctx)
        keeper.start()
        worker = Worker(
            ctx.sessions,
            {
                IMPORT_JOB: import_handler(ctx, functools.partial(actor_for, ctx)),
                REFRESH_JOB: refresh_handler(ctx),
            },
        )
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            keeper.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Veritrail",
        version=__version__,
        description="Declarations of states under arms-control regimes: templates, validation, "
        "submission, amendments, versions and reporting status. Authenticate with the session "
        "cookie of the web interface or with an API token (`Authorization: Bearer vt_…`, "
        "created on the account page or with `veritrail token create`).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.settings = settings

    @app.exception_handler(VeritrailError)
    async def veritrail_error(request: Request, exc: VeritrailError) -> Response:
        if _wants_html(request):
            return web.error_page(request, exc.status, exc.message, exc)
        headers = {"www-authenticate": 'Bearer realm="veritrail"'} if exc.status == 401 else None
        return JSONResponse(exc.as_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = _validation_problems(exc)
        if _wants_html(request):
            message = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
            return web.error_page(request, 422, message)
        return JSONResponse(
            {"code": "invalid_request", "message": "the request is not valid", "errors": problems},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request):
            return web.error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse(
            {"code": "http_error", "message": str(exc.detail)}, status_code=exc.status_code
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        message = "an unexpected error occurred; it has been logged"
        if _wants_html(request):
            return web.error_page(request, 500, message)
        return JSONResponse({"code": "internal", "message": message}, status_code=500)

    @app.get("/healthz", tags=["health"], dependencies=[Depends(public)])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers and reaches its database."""
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/api/docs", include_in_schema=False, dependencies=[Depends(public)])
    def api_docs(request: Request) -> Response:
        """Interactive API documentation, served from this site's own assets."""
        return web.render(request, "api_docs.html", {})

    def openapi() -> dict[str, Any]:
        """The schema, with validation errors documented as Veritrail answers them."""
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_SCHEMA
                schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    app.include_router(api.router)
    app.include_router(api.log_router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="veritrail_session",
        same_site="lax",
        https_only=settings.mode is Mode.PRODUCTION,
        max_age=8 * 3600,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.mode is Mode.PRODUCTION)
    archive_uploads = settings.max_archive_bytes + 1024 * 1024  # room for the form's fields
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_upload_bytes,
        per_path={"/api/archive/documents": archive_uploads, "/archive/upload": archive_uploads},
    )
    return app


__all__ = ["create_app"]
