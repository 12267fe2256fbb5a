"""A request body limit enforced before anything reads or parses the body."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """Refuses bodies over ``max_bytes`` with 413, by header and while streaming.

    ``per_path`` gives other limits to exact paths (archive uploads take larger files).
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        received = 0
        refused = False

        async def limited() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise _TooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, limit)
        except Exception:
            if refused and not started:
                await self._refuse(send, limit)
            else:
                raise

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "code": "too_large",
                "message": f"the request is larger than the limit of {limit:,} bytes "
                + (
                    "(VERITRAIL_MAX_UPLOAD_BYTES)"
                    if limit == self.max_bytes
                    else "for this upload (VERITRAIL_MAX_ARCHIVE_BYTES)"
                ),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


__all__ = ["BodyLimit"]
