"""Quantities in the unit a regime reconciles in: masses in g, kg or t; counts in items."""

from __future__ import annotations

from decimal import Decimal

from veritrail.errors import InputError
from veritrail.regimes.model import Unit

MASS: dict[str, Decimal] = {"g": Decimal("0.001"), "kg": Decimal(1), "t": Decimal(1000)}
UNITS: tuple[Unit, ...] = ("g", "kg", "t", "items")


def convert(quantity: Decimal, unit: str, to: Unit) -> Decimal:
    """``quantity`` in ``unit`` expressed in ``to``; a mass is never a count."""
    if unit == to:
        return quantity
    if unit in MASS and to in MASS:
        return quantity * MASS[unit] / MASS[to]
    accepted = "items" if to == "items" else "g, kg or t"
    raise InputError(f"a quantity in {unit!r} cannot be compared in {to!r}; use {accepted}")


__all__ = ["MASS", "UNITS", "convert"]
