"""Check a canonical declaration against its regime pack, reporting every problem.

The validator never stops at the first problem: it walks the whole document
and returns all of them, each with a JSON pointer, a stable code and a message
in the reader's language. It also returns the document normalised (states as
alpha-3, decimals as plain strings, choices in their canonical spelling), which
is what gets stored and hashed.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import repeat
from typing import Any
from weakref import WeakKeyDictionary

from veritrail.declarations.document import FORMAT, HEADER_KEYS, pointer
from veritrail.declarations.fields import Checker, fast_check, make_checker
from veritrail.errors import NotFound, Problem, ValidationFailed
from veritrail.i18n import translator
from veritrail.reference import states
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import (
    AtLeastOneRule,
    DeclarationType,
    FieldSpec,
    SectionKind,
    SectionSpec,
    ThresholdRule,
)

UNIT_TO_KG = {"g": Decimal("0.001"), "kg": Decimal(1), "t": Decimal(1000)}


@dataclass
class ValidationResult:
    document: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        if not self.valid:
            raise ValidationFailed(self.problems)


@dataclass(frozen=True, slots=True)
class _Entry:
    spec: FieldSpec
    check: Checker
    fast: Callable[[Any], bool] | None


@dataclass(frozen=True)
class _CompiledSection:
    """A section's checkers, with what each row needs precomputed.

    Large tables (tens of thousands of rows) are the common case for industry
    declarations, so values already in canonical form are accepted by a cheap
    ``fast`` test; only the rest goes through the full checker.
    """

    spec: SectionSpec
    entries: dict[str, _Entry]
    required: tuple[str, ...]
    conditional: tuple[tuple[str, str, frozenset[Any]], ...]

    @property
    def field_ids(self) -> list[str]:
        return list(self.entries)


class _Reporter:
    def __init__(self, language: str) -> None:
        self.t = translator(language)
        self.language = language
        self.problems: list[Problem] = []
        # Columns of tables that passed the column-wise check, reused by rules.
        self.columns: dict[str, dict[str, list[Any]]] = {}

    def add(
        self,
        path: str,
        code: str,
        message: str,
        params: dict[str, Any] | None = None,
        *,
        label: str | None = None,
        severity: str = "error",
    ) -> None:
        text = self.t.gettext(message)
        if params:  # pack texts and exception messages are used as they are
            text = text.format(**params)
        if label:
            text = f"{label}: {text}"
        self.problems.append(Problem(path=path, code=code, message=text, severity=severity))


_COMPILED: WeakKeyDictionary[Registry, dict[str, dict[str, _CompiledSection]]] = WeakKeyDictionary()


def _compile(registry: Registry, dtype: DeclarationType) -> dict[str, _CompiledSection]:
    """Checkers for every field of ``dtype``, built once per registry."""
    per_registry = _COMPILED.setdefault(registry, {})
    if dtype.key not in per_registry:
        lists = registry.regime(dtype.regime).lists
        per_registry[dtype.key] = {
            s.id: _CompiledSection(
                spec=s,
                entries={
                    f.id: _Entry(f, make_checker(f, lists), fast_check(f, lists)) for f in s.fields
                },
                required=tuple(f.id for f in s.fields if f.required),
                conditional=tuple(
                    (f.id, f.required_if.field, frozenset(f.required_if.in_))
                    for f in s.fields
                    if f.required_if and not f.required
                ),
            )
            for s in dtype.sections
        }
    return per_registry[dtype.key]


def validate(document: Any, registry: Registry, *, language: str = "en") -> ValidationResult:
    """Validate ``document`` against its regime pack; never raises for bad input."""
    report = _Reporter(language)
    if not isinstance(document, dict):
        report.add("", "not_an_object", "a declaration must be a JSON object")
        return ValidationResult({}, report.problems)
    out: dict[str, Any] = {"format": FORMAT}
    dtype = _header(document, registry, out, report)
    if dtype is None:
        return ValidationResult(out, report.problems)
    data = document.get("data", {})
    if out.get("nothing_to_declare"):
        if data not in ({}, None, []) and any(_has_content(v) for v in _values(data)):
            report.add(
                "/data",
                "data_with_nothing_to_declare",
                "a declaration of nothing to declare must carry no data",
            )
        out["data"] = {}
        return ValidationResult(out, report.problems)
    if not isinstance(data, dict):
        report.add("/data", "not_an_object", "data must be an object with one entry per section")
        return ValidationResult(out, report.problems)
    compiled = _compile(registry, dtype)
    for key in data:
        if key not in compiled:
            report.add(
                pointer("data", key),
                "unknown_section",
                "unknown section {name!r}; the sections are: {known}",
                {"name": str(key)[:60], "known": ", ".join(compiled)},
            )
    out_data: dict[str, Any] = {}
    for section_id, section in compiled.items():
        value = data.get(section_id)
        if section.spec.kind is SectionKind.FORM:
            out_data[section_id] = _form(section, value, report)
        else:
            out_data[section_id] = _table(section, value, report)
    out["data"] = out_data
    _rules(dtype, registry, out_data, report)
    return ValidationResult(out, report.problems)


def ensure_valid(document: Any, registry: Registry, *, language: str = "en") -> dict[str, Any]:
    """The normalised document, or :class:`ValidationFailed` with every problem."""
    result = validate(document, registry, language=language)
    result.raise_for_errors()
    return result.document


def _values(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return list(data.values())
    if isinstance(data, list):
        return data
    return [data]


def _has_content(value: Any) -> bool:
    if isinstance(value, dict | list):
        return any(_has_content(v) for v in _values(value))
    return value not in (None, "")


def _header(
    doc: dict[str, Any], registry: Registry, out: dict[str, Any], report: _Reporter
) -> DeclarationType | None:
    for key in doc:
        if key not in (*HEADER_KEYS, "data"):
            report.add(
                pointer(key),
                "unknown_key",
                "unknown key {name!r}; a declaration has: {known}",
                {"name": str(key)[:60], "known": ", ".join((*HEADER_KEYS, "data"))},
            )
    fmt = doc.get("format", FORMAT)
    if fmt != FORMAT:
        report.add("/format", "unknown_format", "format must be {expected!r}", {"expected": FORMAT})
    dtype: DeclarationType | None = None
    regime_id, type_id = doc.get("regime"), doc.get("type")
    if not isinstance(regime_id, str) or not regime_id:
        report.add("/regime", "required", "the regime is required (for example 'cwc')")
    elif not isinstance(type_id, str) or not type_id:
        report.add("/type", "required", "the declaration type is required (for example 'adnd')")
    else:
        try:
            dtype = registry.declaration_type(regime_id, type_id)
            out["regime"], out["type"] = regime_id, type_id
        except NotFound as exc:
            path = "/regime" if regime_id not in registry.packs else "/type"
            report.add(path, "unknown_declaration_type", exc.message)
    period = doc.get("period")
    this_year = datetime.now(UTC).year
    if isinstance(period, str) and period.strip().isdigit():
        period = int(period.strip())
    if isinstance(period, bool) or not isinstance(period, int):
        report.add("/period", "required", "the period is required: the calendar year reported on")
    elif not 1946 <= period <= this_year + 1:
        report.add(
            "/period",
            "out_of_range",
            "the period must be a year from 1946 to {last}",
            {"last": this_year + 1},
        )
    else:
        out["period"] = period
    state = doc.get("state")
    if state is None:
        report.add("/state", "required", "the declaring state is required (ISO 3166-1 alpha-3)")
    else:
        found = states.lookup(str(state)) if isinstance(state, str) else None
        if found is None:
            report.add(
                "/state",
                "unknown_state",
                "{value!r} is not a known state; use an ISO 3166-1 alpha-3 code such as FRA",
                {"value": str(state)[:60]},
            )
        else:
            out["state"] = found.alpha3
    if doc.get("id") is not None:
        if not isinstance(doc["id"], str) or not 0 < len(doc["id"]) <= 40:
            report.add("/id", "invalid_id", "id must be the identifier of an existing declaration")
        else:
            out["id"] = doc["id"]
    ntd = doc.get("nothing_to_declare", False)
    if not isinstance(ntd, bool):
        report.add("/nothing_to_declare", "not_a_boolean", "must be true or false")
    elif ntd and dtype is not None and not dtype.nothing_to_declare:
        report.add(
            "/nothing_to_declare",
            "not_allowed",
            "this declaration type has no 'nothing to declare' option",
        )
    else:
        out["nothing_to_declare"] = ntd
    return dtype if "period" in out and "state" in out and dtype is not None else None


def _check_fields(
    section: _CompiledSection, raw: dict[str, Any], base: tuple[str | int, ...], report: _Reporter
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    entries = section.entries
    failed: set[str] = set()
    for key, value in raw.items():
        entry = entries.get(key)
        if entry is None:
            report.add(
                pointer(*base, key),
                "unknown_field",
                "unknown field {name!r}; the fields are: {known}",
                {"name": str(key)[:60], "known": ", ".join(entries)},
            )
            continue
        if entry.fast is not None and entry.fast(value):
            out[key] = value
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, dict | list):
            failed.add(key)
            report.add(
                pointer(*base, key),
                "not_a_value",
                "must be a single value, not a list or an object",
                label=entry.spec.label.get(report.language),
            )
            continue
        normal, failure = entry.check(value)
        if failure:
            failed.add(key)
            code, message, params = failure
            report.add(
                pointer(*base, key),
                code,
                message,
                params,
                label=entry.spec.label.get(report.language),
            )
        else:
            out[key] = normal
    missing = [f for f in section.required if f not in out and f not in failed]
    missing += [
        f
        for f, cond, values in section.conditional
        if f not in out and f not in failed and out.get(cond) in values
    ]
    for field_id in missing:
        report.add(
            pointer(*base, field_id),
            "required",
            "is required",
            label=entries[field_id].spec.label.get(report.language),
        )
    return out


def _form(section: _CompiledSection, value: Any, report: _Reporter) -> dict[str, Any]:
    base = ("data", section.spec.id)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        report.add(pointer(*base), "not_an_object", "this section must be an object of fields")
        return {}
    return _check_fields(section, value, base, report)


def _table_is_canonical(section: _CompiledSection, rows: list[Any]) -> dict[str, list[Any]] | None:
    """The table's columns when every row is already valid and canonical, else None.

    A large table usually repeats few distinct values per column (chemicals,
    activities, partner states), so each distinct value is tested once. Any
    doubt returns None and the row-by-row checker produces the problems.
    """
    # map() over C-level methods: these passes cost well under a microsecond a row.
    if set(map(type, rows)) - {dict}:
        return None
    known = frozenset(section.entries)
    if not all(map(known.issuperset, map(dict.keys, rows))):
        return None
    if any(map(operator.contains, map(dict.values, rows), repeat(None))):
        return None
    columns: dict[str, list[Any]] = {}
    try:
        for field_id, entry in section.entries.items():
            column = [r.get(field_id) for r in rows]
            distinct = set(column)
            if None in distinct:
                if field_id in section.required:
                    return None
                distinct.discard(None)
            if distinct and (entry.fast is None or not all(map(entry.fast, distinct))):
                return None
            columns[field_id] = column
    except TypeError:  # an unhashable value (a list or an object) where a scalar belongs
        return None
    for field_id, condition, values in section.conditional:
        pairs = zip(columns[field_id], columns[condition], strict=True)
        if any(v is None and c in values for v, c in pairs):
            return None
    if section.spec.unique:
        keys = list(zip(*(columns[f] for f in section.spec.unique), strict=True))
        if len(set(keys)) != len(keys):
            return None
    return columns


def _table(section: _CompiledSection, value: Any, report: _Reporter) -> list[dict[str, Any]]:
    spec = section.spec
    base = ("data", spec.id)
    if value is None:
        value = []
    if not isinstance(value, list):
        report.add(pointer(*base), "not_a_list", "this section must be a list of rows")
        return []
    if len(value) > spec.max_rows:
        report.add(
            pointer(*base),
            "too_many_rows",
            "at most {max} rows are accepted",
            {"max": spec.max_rows},
        )
        return []
    if len(value) < spec.min_rows:
        report.add(
            pointer(*base), "too_few_rows", "at least {min} rows are needed", {"min": spec.min_rows}
        )
    columns = _table_is_canonical(section, value)
    if columns is not None:
        report.columns[spec.id] = columns
        return value
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            report.add(pointer(*base, index), "not_an_object", "each row must be an object")
            rows.append({})  # keeps row numbers aligned for the rules
            continue
        checked = _check_fields(section, row, (*base, index), report)
        rows.append(checked)
        if spec.unique:
            key = tuple(map(checked.get, spec.unique))
            first = seen.setdefault(key, index)
            if first != index:
                report.add(
                    pointer(*base, index),
                    "duplicate_line",
                    "duplicates row {first} (same {fields})",
                    {"first": first + 1, "fields": ", ".join(spec.unique)},
                )
    return rows


def _rules(
    dtype: DeclarationType, registry: Registry, data: dict[str, Any], report: _Reporter
) -> None:
    lang = report.language
    for rule in dtype.rules:
        if isinstance(rule, ThresholdRule):
            _threshold(rule, registry, dtype, data.get(rule.section) or [], report)
        elif isinstance(rule, AtLeastOneRule):
            values = data.get(rule.section) or {}
            if isinstance(values, dict) and not any(values.get(f) for f in rule.fields):
                report.add(pointer("data", rule.section), "at_least_one", rule.message.get(lang))


def _threshold(
    rule: ThresholdRule,
    registry: Registry,
    dtype: DeclarationType,
    rows: list[dict[str, Any]],
    report: _Reporter,
) -> None:
    section = dtype.section(rule.section)
    item_spec = section.field(rule.item) if section else None
    if item_spec is None or not item_spec.code_list:
        return
    code_list = registry.code_list(dtype.regime, item_spec.code_list)
    attribute = {e.code: str(code_list.attribute(e, rule.by)) for e in code_list.entries}
    limit_factor = float(UNIT_TO_KG[rule.limit_unit])
    factors = {unit: float(f) for unit, f in UNIT_TO_KG.items()}
    cached = report.columns.get(rule.section, {})

    def column(field_id: str) -> list[Any]:
        return cached[field_id] if field_id in cached else [row.get(field_id) for row in rows]

    items = column(rule.item)
    quantities = column(rule.quantity)
    units = column(rule.unit) if rule.unit else [rule.default_unit] * len(rows)
    keys: list[tuple[Any, ...]]
    if rule.aggregate:
        groups = [column(f) for f in rule.group_by]
        keys = list(zip(*groups, strict=True)) if groups else [()] * len(rows)
    else:
        keys = [(i,) for i in range(len(rows))]
    # Floats suffice: the threshold only decides whether to warn.
    totals: dict[tuple[Any, ...], float] = defaultdict(float)
    item_of: dict[tuple[Any, ...], Any] = {}
    default = factors[rule.default_unit]
    for key, item, quantity, unit in zip(keys, items, quantities, units, strict=True):
        if item is not None and quantity is not None:
            totals[key] += float(quantity) * factors.get(unit, default)
            item_of[key] = item
    below = set()
    for key, total in totals.items():
        limit = rule.limits.get(attribute.get(item_of[key], ""))
        if limit is not None and total < float(limit) * limit_factor:
            below.add(key)
    if not below:
        return
    for index, key in enumerate(keys):
        if key in below and items[index] is not None and quantities[index] is not None:
            report.add(
                pointer("data", rule.section, index, rule.quantity),
                "below_threshold",
                rule.message.get(report.language),
                severity=rule.severity,
            )


__all__ = ["ValidationResult", "ensure_valid", "validate"]
