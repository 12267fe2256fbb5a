"""Where the real UN documents of the shared corpus are, for the tests that read them.

Looked for in ``$VERITRAIL_CORPUS_DIR``, then in ``../shared/corpus`` beside the
checkout, then in ``/work/shared/corpus``. Tests that need it are skipped, with
the places looked in, when it is nowhere; the run's summary says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_PLACES = [
    *([Path(os.environ["VERITRAIL_CORPUS_DIR"])] if os.environ.get("VERITRAIL_CORPUS_DIR") else []),
    Path(__file__).resolve().parents[2] / "shared" / "corpus",
    Path("/work/shared/corpus"),
]


def _find() -> Path:
    for place in _PLACES:
        if (place / "un-zh").is_dir():
            return place / "un-zh"
    return _PLACES[0] / "un-zh"


UN_ZH = _find()
UN_ZH_DOCS = sorted(UN_ZH.glob("*.txt"))
MISSING = f"the shared corpus is in none of {', '.join(str(p) for p in _PLACES)}"

needs_corpus = pytest.mark.skipif(len(UN_ZH_DOCS) != 5, reason=MISSING)

__all__ = ["MISSING", "UN_ZH", "UN_ZH_DOCS", "needs_corpus"]
