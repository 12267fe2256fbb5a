"""UN member and observer states with ISO 3166-1 codes and names in six languages."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data" / "states.yaml"


@dataclass(frozen=True, slots=True)
class Place:
    """A populated place of a state, with WGS 84 coordinates."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class State:
    alpha2: str
    alpha3: str
    numeric: str
    status: str  # "member" or "observer"
    iso_name: str
    names: dict[str, str]
    places: tuple[Place, ...] = ()

    def name(self, language: str = "en") -> str:
        return self.names.get(language) or self.names["en"]


@lru_cache(maxsize=1)
def all_states() -> tuple[State, ...]:
    rows = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return tuple(
        State(
            alpha2=r["alpha2"],
            alpha3=r["alpha3"],
            numeric=str(r["numeric"]),
            status=r["status"],
            iso_name=r["iso_name"],
            names=dict(r["names"]),
            places=tuple(Place(p["name"], p["lat"], p["lon"]) for p in r.get("places", [])),
        )
        for r in rows
    )


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _index() -> dict[str, State]:
    index: dict[str, State] = {}
    for state in all_states():
        keys = {state.alpha3, state.alpha2, state.iso_name, *state.names.values()}
        for key in keys:
            index.setdefault(_fold(key), state)
    return index


def lookup(value: str) -> State | None:
    """Find a state by alpha-3, alpha-2 or name in any of the six languages."""
    return _index().get(_fold(value))


def by_alpha3(code: str) -> State | None:
    state = lookup(code)
    return state if state is not None and state.alpha3 == code else None


__all__ = ["Place", "State", "all_states", "by_alpha3", "lookup"]
