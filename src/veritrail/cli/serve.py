"""``veritrail serve``: the web interface and the API."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web interface and the API (http://HOST:PORT)."""
    typer.echo(f"Veritrail at http://{host}:{port}  (API docs: /api/docs; stop with Ctrl-C)")
    uvicorn.run(
        "veritrail.server:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
    )
