"""Year-over-year anomalies: a declared figure far from the state's own other years.

A state's production of a Schedule 2 chemical, or its exports of battle tanks,
usually moves little from one year to the next. When one year stands far from
the others (a tenfold rise, or a drop to nothing), an analyst should ask
whether the activity really changed or the declaration is wrong: a unit mixed
up, a line left out, a plant site forgotten.

Each series follows one state, item and measure (a chemical and an activity, a
category and a direction) over the years the state submitted that declaration
type. A submitted declaration that does not list the item counts as zero for
that year, since a drop to zero is worth showing; a year the state did not
submit is left out, not counted as zero (missing declarations are the
completeness check's business).

Every year is compared with the median of the series' other years, using the
median absolute deviation (MAD) as the yardstick: the modified z-score
``0.6745 * (x - median) / MAD`` is flagged beyond a cut-off (3.5 by default).
Leaving the year out keeps a single outlier from hiding itself, and medians
keep one odd year from distorting the yardstick of the others. When the other
years do not vary at all (MAD 0), a year is flagged only if it differs from
their median by more than half of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from statistics import median
from typing import Any

from veritrail.analysis.findings import Finding, Source
from veritrail.analysis.sources import Submitted
from veritrail.analysis.units import convert
from veritrail.errors import InputError
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import FieldType, Unit

Z_FACTOR = 0.6745  # makes the MAD comparable with a standard deviation for normal data
FLAT_TOLERANCE = Decimal("0.5")  # flag a flat series' year beyond ±50 % of its median


@dataclass(frozen=True, slots=True)
class SeriesSource:
    """Where a declaration type's table holds figures to follow from year to year.

    Each row adds its ``quantity`` (in ``unit``; a mass is converted from the
    unit in the row's ``unit_field``) to the series of the declaring state, the
    row's ``item`` and a measure: the row's ``measure_field`` value, or the
    fixed ``measure`` when the table holds one kind of figure.
    """

    regime: str
    type: str
    section: str
    item: str
    quantity: str
    unit: Unit
    measure: str | None = None
    measure_field: str | None = None
    unit_field: str | None = None
    item_prefix: str = ""


SERIES: tuple[SeriesSource, ...] = (
    SeriesSource(
        regime="cwc",
        type="adnd",
        section="lines",
        item="cas",
        quantity="quantity",
        unit="kg",
        measure_field="activity",
        unit_field="unit",
    ),
    *(
        SeriesSource(
            regime="att",
            type="annual_report",
            section=section,
            item="category",
            quantity="items",
            unit="items",
            measure=measure,
            item_prefix="category ",
        )
        for section, measure in (("exports", "export"), ("imports", "import"))
    ),
)

SeriesKey = tuple[str, str, str, str, str]  # regime, type, state, item, measure


@dataclass
class _Series:
    source: SeriesSource
    amounts: dict[int, Decimal] = field(default_factory=dict)


@dataclass
class _Collected:
    # (regime, type, state) -> year -> the declarations of that year
    submitted: dict[tuple[str, str, str], dict[int, list[Submitted]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    series: dict[SeriesKey, _Series] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Outlier:
    year: int
    value: Decimal
    median: Decimal
    mad: Decimal
    score: float | None  # None when the other years do not vary (MAD 0)
    others: tuple[int, ...]


def year_over_year(
    declarations: Iterable[Submitted],
    registry: Registry,
    *,
    min_years: int = 4,
    cutoff: float = 3.5,
) -> list[Finding]:
    """Years whose declared figure stands far from the median of the series' other years."""
    sources = _known_sources(registry)
    collected = _collect(declarations, sources)
    findings: list[Finding] = []
    for key, series in collected.series.items():
        regime, type_id, state, _, _ = key
        by_year = collected.submitted[(regime, type_id, state)]
        if len(by_year) < min_years:
            continue
        values = {year: series.amounts.get(year, Decimal(0)) for year in sorted(by_year)}
        for outlier in _outliers(values, cutoff):
            declared = by_year[outlier.year]
            findings.append(_finding(key, series, outlier, declared, registry, cutoff))
    findings.sort(key=lambda f: (f.regime, f.year, f.states, f.item or "", f.key))
    return findings


def _known_sources(registry: Registry) -> dict[tuple[str, str], list[SeriesSource]]:
    """The series sources whose declaration type the loaded packs describe."""
    known = {(t.regime, t.id) for t in registry.all_types()}
    by_type: dict[tuple[str, str], list[SeriesSource]] = defaultdict(list)
    for source in SERIES:
        if (source.regime, source.type) in known:
            by_type[(source.regime, source.type)].append(source)
    return by_type


def _collect(
    declarations: Iterable[Submitted], sources: dict[tuple[str, str], list[SeriesSource]]
) -> _Collected:
    collected = _Collected()
    for declaration in declarations:
        specs = sources.get((declaration.regime, declaration.type))
        if not specs:
            continue
        key = (declaration.regime, declaration.type, declaration.state)
        collected.submitted[key][declaration.period].append(declaration)
        for spec in specs:
            _add_rows(collected, declaration, spec)
    return collected


def _add_rows(collected: _Collected, declaration: Submitted, spec: SeriesSource) -> None:
    for row in declaration.rows(spec.section):
        item = row.get(spec.item)
        measure = spec.measure or row.get(spec.measure_field or "")
        amount = _amount(row, spec)
        if not item or not measure or amount is None:
            continue
        key = (declaration.regime, declaration.type, declaration.state, str(item), str(measure))
        series = collected.series.setdefault(key, _Series(spec))
        series.amounts[declaration.period] = (
            series.amounts.get(declaration.period, Decimal(0)) + amount
        )


def _amount(row: dict[str, Any], spec: SeriesSource) -> Decimal | None:
    unit = row.get(spec.unit_field) if spec.unit_field else spec.unit
    try:
        return convert(Decimal(str(row.get(spec.quantity))), str(unit), spec.unit)
    except (InvalidOperation, InputError):
        return None  # validated at submission; an unreadable figure is left out


def _outliers(values: dict[int, Decimal], cutoff: float) -> list[_Outlier]:
    """Each year against the median and MAD of the other years (leave-one-out)."""
    found = []
    for year, value in values.items():
        others = [v for y, v in values.items() if y != year]
        middle = median(others)
        mad = median(abs(v - middle) for v in others)
        others_years = tuple(y for y in values if y != year)
        if mad > 0:
            score = Z_FACTOR * float(value - middle) / float(mad)
            if abs(score) > cutoff:
                found.append(_Outlier(year, value, middle, mad, score, others_years))
        elif middle > 0 and abs(value - middle) > FLAT_TOLERANCE * middle:
            found.append(_Outlier(year, value, middle, mad, None, others_years))
    return found


def _finding(
    key: SeriesKey,
    series: _Series,
    outlier: _Outlier,
    declared: Sequence[Submitted],
    registry: Registry,
    cutoff: float,
) -> Finding:
    regime, _, state, item, measure = key
    spec = series.source
    listed = outlier.year in series.amounts
    return Finding(
        check="anomaly",
        kind="year_over_year",
        regime=regime,
        year=outlier.year,
        states=(state,),
        item=item,
        title=_title(state, measure, spec.item_prefix + item, outlier, spec.unit),
        explanation=_explanation(
            state, measure, _item_label(registry, spec, item), outlier, spec.unit, listed, cutoff
        ),
        details={
            "key": measure,
            "measure": measure,
            "value": _plain(outlier.value),
            "median": _plain(outlier.median),
            "mad": _plain(outlier.mad),
            "score": None if outlier.score is None else round(outlier.score, 2),
            "unit": spec.unit,
            "years": list(outlier.others),
            "listed": listed,
        },
        sources=tuple(Source(d.state, d.id, d.version) for d in declared),
    )


def _title(state: str, measure: str, item: str, outlier: _Outlier, unit: str) -> str:
    what = f"{state}: {measure} of {item} in {outlier.year}"
    if outlier.value == 0:
        return (
            f"{state}: no {measure} of {item} in {outlier.year}, against a median of "
            f"{_quantity(outlier.median, unit)} in other years"
        )
    if outlier.median == 0:
        return f"{what} is {_quantity(outlier.value, unit)}, against a median of 0 in other years"
    ratio = outlier.value / outlier.median
    if ratio >= 1:
        return f"{what} is {ratio:.1f} times the median of other years"
    share = f"{ratio:.0%}" if ratio >= Decimal("0.01") else "less than 1%"
    return f"{what} is {share} of the median of other years"


def _explanation(
    state: str,
    measure: str,
    item: str,
    outlier: _Outlier,
    unit: str,
    listed: bool,
    cutoff: float,
) -> str:
    declared = (
        f"{_quantity(outlier.value, unit)} declared for {outlier.year}"
        if listed
        else f"nothing declared for {outlier.year} (the declaration for that year has no line "
        "for it, which counts as zero)"
    )
    basis = (
        f"the median over {_and(outlier.others)} is {_quantity(outlier.median, unit)} "
        f"(median absolute deviation {_quantity(outlier.mad, unit)})"
    )
    if outlier.score is not None:
        side = "above" if outlier.score > 0 else "below"
        verdict = (
            f"that is {abs(outlier.score):.1f} robust deviations {side} it, "
            f"beyond the cut-off of {cutoff:g}"
        )
    else:
        gap = abs(outlier.value - outlier.median) / outlier.median
        verdict = (
            "the other years do not vary, so no robust score can be computed; the year is "
            f"shown because it differs from their median by {gap:.0%}, more than half of it"
        )
    return f"{measure.capitalize()} of {item} by {state}: {declared}; {basis}; {verdict}."


def _item_label(registry: Registry, spec: SeriesSource, item: str) -> str:
    """The item with its name from the pack (a chemical's name, a category's label)."""
    section = registry.declaration_type(spec.regime, spec.type).section(spec.section)
    field_spec = section.field(spec.item) if section else None
    name: str | None = None
    if field_spec is not None and field_spec.type is FieldType.CODE and field_spec.code_list:
        code_list = registry.regime(spec.regime).lists.get(field_spec.code_list)
        entry = next((e for e in code_list.entries if e.code == item), None) if code_list else None
        name = entry.name.en if entry else None
    elif field_spec is not None and field_spec.type is FieldType.CHOICE:
        name = next((c.label.en for c in field_spec.choices or [] if c.value == item), None)
    label = spec.item_prefix + item
    return f"{label} ({name})" if name and name != item else label


def _plain(amount: Decimal) -> str:
    """A decimal without trailing zeros or an exponent: "500", "12.5"."""
    return format(amount.normalize(), "f")


def _quantity(amount: Decimal, unit: str) -> str:
    rounded = amount.quantize(Decimal("0.001")) if amount != amount.to_integral() else amount
    return f"{format(rounded.normalize(), ',f')} {unit}"


def _and(years: Sequence[int]) -> str:
    words = [str(y) for y in years]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


__all__ = ["SERIES", "SeriesSource", "year_over_year"]
