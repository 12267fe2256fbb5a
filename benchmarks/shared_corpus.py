"""Where the real UN documents of the shared corpus are, for the benchmarks that read them.

Looked for in ``$VERITRAIL_CORPUS_DIR``, then in ``../shared/corpus`` beside the
checkout, then in ``/work/shared/corpus`` (the same order as the tests' ``corpus``).
"""

from __future__ import annotations

import os
from pathlib import Path

PLACES = [
    *([Path(os.environ["VERITRAIL_CORPUS_DIR"])] if os.environ.get("VERITRAIL_CORPUS_DIR") else []),
    Path(__file__).resolve().parents[2] / "shared" / "corpus",
    Path("/work/shared/corpus"),
]


def un_zh() -> Path:
    """The folder of the five Chinese UN documents (the first place that has it)."""
    for place in PLACES:
        if (place / "un-zh").is_dir():
            return place / "un-zh"
    return PLACES[0] / "un-zh"


__all__ = ["PLACES", "un_zh"]
