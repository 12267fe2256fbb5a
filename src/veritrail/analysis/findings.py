"""What every check returns: a finding, with what it rests on and a stable key.

The key (``fingerprint``) names the thing found, not its figures: the same
transfer pair, state and item, or facility found again after an amendment has
the same key, so a discrepancy case is opened once and re-evaluated after.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

Check = Literal["reconciliation", "anomaly", "facility", "consistency"]


@dataclass(frozen=True, slots=True)
class Source:
    """A declaration version or an imported file's row that a finding rests on."""

    state: str
    declaration_id: str | None = None
    version: int | None = None
    import_id: str | None = None
    row: int | None = None

    def label(self) -> str:
        if self.declaration_id is not None:
            return f"{self.state}: declaration {self.declaration_id} version {self.version}"
        return f"{self.state}: imported file {self.import_id} row {self.row}"

    def as_json(self) -> dict[str, Any]:
        if self.declaration_id is not None:
            return {
                "state": self.state,
                "declaration_id": self.declaration_id,
                "version": self.version,
            }
        return {"state": self.state, "import_id": self.import_id, "row": self.row}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found that an analyst should look at."""

    check: Check
    kind: str
    regime: str
    year: int
    states: tuple[str, ...]
    item: str | None
    title: str
    explanation: str
    details: dict[str, Any] = field(default_factory=dict)
    sources: tuple[Source, ...] = ()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.check, self.regime, self.year, self.states, self.item, self.key)

    @property
    def key(self) -> str:
        """What tells two findings of one check apart beyond regime, year, states and item."""
        return str(self.details.get("key", ""))

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "kind": self.kind,
            "regime": self.regime,
            "year": self.year,
            "states": list(self.states),
            "item": self.item,
            "title": self.title,
            "explanation": self.explanation,
            "details": self.details,
            "sources": [s.as_json() for s in self.sources],
            "fingerprint": self.fingerprint,
        }


def fingerprint(
    check: str, regime: str, year: int, states: tuple[str, ...], item: str | None, key: str = ""
) -> str:
    parts = [check, regime, str(year), ",".join(states), item or "", key]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


__all__ = ["Check", "Finding", "Source", "fingerprint"]
