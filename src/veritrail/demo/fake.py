"""Plausible declaration documents for any declaration type, from its pack alone.

Used by the demo world and by tests and benchmarks. Nothing here knows a
regime by name: values follow each field's type, choices, code list and limits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from veritrail.reference import states
from veritrail.regimes import Registry
from veritrail.regimes.model import DeclarationType, FieldSpec, FieldType, SectionKind

WORDS = (
    "national authority annual review facility laboratory production research protective "
    "purposes vaccine plant site storage transfer legislation regulation enforcement "
    "permit licence customs border control inspection training outreach industry "
    "academic safety security containment programme project report"
).split()


@dataclass(frozen=True)
class Site:
    """A facility the generator may describe (name and coordinates)."""

    name: str
    lat: float
    lon: float
    code: str | None = None  # the site code the secretariat assigned, the same every year


def _allowed_codes(registry: Registry, dtype: DeclarationType, spec: FieldSpec) -> list[str]:
    code_list = registry.code_list(dtype.regime, spec.code_list or "")
    where = spec.list_where or {}
    return [
        e.code
        for e in code_list.entries
        if all(str(code_list.attribute(e, k)) in v for k, v in where.items())
    ]


def fake_value(
    spec: FieldSpec,
    *,
    rng: random.Random,
    registry: Registry,
    dtype: DeclarationType,
    state: str,
    period: int,
    site: Site | None = None,
) -> Any:
    """A valid value for ``spec``."""
    match spec.type:
        case FieldType.TEXT:
            if site is not None and "name" in spec.id:
                return site.name
            if site is not None and site.code and spec.id == "site_code":
                return site.code
            n = rng.randint(2, 8 if not spec.multiline else 30)
            return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()[: spec.max_length]
        case FieldType.INTEGER | FieldType.DECIMAL:
            lo = float(spec.min) if spec.min is not None else 0.0
            hi = float(spec.max) if spec.max is not None else lo + 1000.0
            value = Decimal(str(round(rng.uniform(lo, min(hi, lo + 5000.0)), 3)))
            if spec.type is FieldType.INTEGER:
                return int(value)
            return format(value.normalize(), "f")
        case FieldType.LATITUDE:
            return str(round(site.lat if site else rng.uniform(-60, 70), 5))
        case FieldType.LONGITUDE:
            return str(round(site.lon if site else rng.uniform(-170, 170), 5))
        case FieldType.DATE:
            return (date(period, 1, 1) + timedelta(days=rng.randint(0, 364))).isoformat()
        case FieldType.YEAR:
            return rng.randint(max(1946, period - 30), period)
        case FieldType.BOOLEAN:
            return rng.random() < 0.6
        case FieldType.CHOICE:
            return rng.choice(spec.choice_values())
        case FieldType.STATE:
            others = [s.alpha3 for s in states.all_states() if s.alpha3 != state]
            return rng.choice(others)
        case FieldType.CODE:
            return rng.choice(_allowed_codes(registry, dtype, spec))


def _row(fields: list[FieldSpec], *, fill_optional: float, **kw: Any) -> dict[str, Any]:
    rng: random.Random = kw["rng"]
    row: dict[str, Any] = {}
    for spec in fields:
        if spec.required or spec.required_if or rng.random() < fill_optional:
            row[spec.id] = fake_value(spec, **kw)
    for spec in fields:  # drop conditional values whose condition does not hold
        cond = spec.required_if
        if cond and not spec.required and row.get(cond.field) not in cond.in_:
            if spec.type is FieldType.STATE:
                row.pop(spec.id, None)
    return row


def fake_document(
    dtype: DeclarationType,
    *,
    registry: Registry,
    state: str,
    period: int,
    rng: random.Random,
    rows: tuple[int, int] = (1, 12),
    site: Site | None = None,
    fill_optional: float = 0.5,
) -> dict[str, Any]:
    """A canonical document for ``dtype`` that passes validation."""
    kw: dict[str, Any] = {
        "rng": rng,
        "registry": registry,
        "dtype": dtype,
        "state": state,
        "period": period,
        "site": site,
    }
    data: dict[str, Any] = {}
    for section in dtype.sections:
        if section.kind is SectionKind.FORM:
            data[section.id] = _row(section.fields, fill_optional=fill_optional, **kw)
            continue
        lines: list[dict[str, Any]] = []
        seen: set[tuple[Any, ...]] = set()
        wanted = max(section.min_rows, rng.randint(*rows))
        for _ in range(wanted * 3):
            if len(lines) >= wanted:
                break
            line = _row(section.fields, fill_optional=fill_optional, **kw)
            key = tuple(line.get(f) for f in section.unique)
            if section.unique and key in seen:
                continue
            seen.add(key)
            lines.append(line)
        data[section.id] = lines
    for rule in dtype.rules:
        if rule.kind == "at_least_one":
            form = data.get(rule.section) or {}
            spec = next(f for f in dtype.sections if f.id == rule.section).field(rule.fields[0])
            if spec is not None and not any(form.get(f) for f in rule.fields):
                form[spec.id] = fake_value(spec, **kw)
    return {
        "format": "veritrail.declaration/1",
        "regime": dtype.regime,
        "type": dtype.id,
        "period": period,
        "state": state,
        "nothing_to_declare": False,
        "data": data,
    }


__all__ = ["Site", "fake_document", "fake_value"]
