"""Reading a declaration from a request: a raw JSON/CSV/XLSX body or a multipart file."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from veritrail.actions import Context
from veritrail.declarations.document import MEDIA_TYPES, ParsedDeclaration
from veritrail.declarations.intake import parse_upload
from veritrail.errors import InputError

_EXTENSIONS = {v: k for k, v in MEDIA_TYPES.items()}


async def read_file(request: Request, what: str, default_name: str) -> tuple[bytes, str]:
    """A file sent as the raw body or as multipart field ``file``, and a name for it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=20)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError(f"send the {what} as a form field named 'file'")
        data = await upload.read()
        filename = upload.filename or default_name
    else:
        data = await request.body()
        filename = request.query_params.get("filename") or default_name
    if not data:
        raise InputError(f"the request carries no {what} (empty body)")
    return data, filename


async def read_upload(request: Request, ctx: Context) -> tuple[ParsedDeclaration, bytes, str]:
    """The parsed declaration, its original bytes and a file name for it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    extension = _EXTENSIONS.get(content_type, "json")
    data, filename = await read_file(request, "declaration", f"upload.{extension}")
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

__all__ = ["BODY_DOC", "read_file", "read_upload"]
