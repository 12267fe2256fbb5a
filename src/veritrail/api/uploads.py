"""Reading a declaration from a request: a raw JSON/CSV/XLSX body or a multipart file."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from veritrail.actions import Context
from veritrail.declarations.document import MEDIA_TYPES, ParsedDeclaration
from veritrail.declarations.intake import parse_upload
from veritrail.errors import InputError

_EXTENSIONS = {v: k for k, v in MEDIA_TYPES.items()}


async def read_upload(request: Request, ctx: Context) -> tuple[ParsedDeclaration, bytes, str]:
    """The parsed declaration, its original bytes and a file name for it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=20)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError("send the declaration as a form field named 'file'")
        data = await upload.read()
        filename = upload.filename or "upload"
    else:
        data = await request.body()
        extension = _EXTENSIONS.get(content_type, "json")
        filename = request.query_params.get("filename") or f"upload.{extension}"
    if not data:
        raise InputError("the request carries no declaration (empty body)")
    parsed = parse_upload(data, filename, registry=ctx.registry, limits=ctx.settings)
    return parsed, data, filename


BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "The declaration: canonical JSON, or a filled-in CSV or XLSX template "
        "(as the raw body with its media type, or as multipart form field `file`).",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}

__all__ = ["BODY_DOC", "read_upload"]
