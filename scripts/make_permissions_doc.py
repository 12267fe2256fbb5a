"""Write docs/permissions.md from the policy and the application's routes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from veritrail.api.permissions import render_markdown
from veritrail.server import create_app
from veritrail.settings import Settings


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp)))
        out = Path(__file__).parents[1] / "docs" / "permissions.md"
        out.write_text(render_markdown(app), encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
