"""Facilities that disappear from a state's declarations, or come back after a gap.

Declaration types such as the CWC plant site declarations describe one
facility per declaration. A plant site declared year after year that is
missing one year, while the state did report on the regime that year, may have
closed, dropped below the threshold, or been left out by mistake: an analyst
should find out which. A site that comes back after a year without it raises
the same question about the year it was missing.

Which types describe a facility, and what identifies it, is read from the
regime packs rather than listed here: a type expected "when applicable" whose
first form section has a ``site_code`` field or a name field (``name``, or the
first text field whose id contains "name"). A facility is known by its site
code when one is given, else by its name, compared without regard to case or
spacing; a name once declared together with a site code is taken to mean that
site in the state's other years too.

A year counts only when it is covered: the state submitted some declaration of
the regime that year, and the year is not later than the latest year any state
submitted the type (so a year still being declared is not read as a gap).
Consecutive covered years of the state are compared; a year the state did not
report on at all is skipped, neither a disappearance nor a gap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from veritrail.analysis.findings import Finding, Source
from veritrail.analysis.sources import Submitted
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import DeclarationType, FieldType, SectionKind


@dataclass(frozen=True, slots=True)
class FacilityForm:
    """Where a declaration type names its facility: a form section's code and name fields."""

    type: DeclarationType
    section: str
    code_field: str | None
    name_field: str | None


@dataclass
class _Facility:
    """One facility of one state and type: the declarations naming it, by year."""

    key: str
    name: str
    site_code: str | None
    declared: dict[int, Submitted] = field(default_factory=dict)


@dataclass
class _Group:
    """The declarations of one regime, type and state."""

    form: FacilityForm
    state: str
    regime_name: str
    declarations: list[Submitted] = field(default_factory=list)
    # Years with a declaration whose facility cannot be read (withheld or empty):
    # which facility it names is unknown, so the year is not compared.
    unreadable: set[int] = field(default_factory=set)


def facility_forms(registry: Registry) -> dict[tuple[str, str], FacilityForm]:
    """The declaration types that describe one facility per declaration, by (regime, type)."""
    forms: dict[tuple[str, str], FacilityForm] = {}
    for dtype in registry.all_types():
        if dtype.expected != "when_applicable":
            continue
        section = next((s for s in dtype.sections if s.kind is SectionKind.FORM), None)
        if section is None:
            continue
        text_ids = [f.id for f in section.fields if f.type is FieldType.TEXT]
        code = "site_code" if "site_code" in text_ids else None
        name = "name" if "name" in text_ids else next((i for i in text_ids if "name" in i), None)
        if code or name:
            forms[(dtype.regime, dtype.id)] = FacilityForm(dtype, section.id, code, name)
    return forms


def disappearances(declarations: Iterable[Submitted], registry: Registry) -> list[Finding]:
    """Facilities declared one covered year and missing the next, or back after a gap."""
    forms = facility_forms(registry)
    covered: dict[tuple[str, str], set[int]] = defaultdict(set)  # (regime, state) -> years
    latest: dict[tuple[str, str], int] = {}  # (regime, type) -> latest year declared
    groups: dict[tuple[str, str, str], _Group] = {}
    for d in declarations:
        covered[(d.regime, d.state)].add(d.period)
        form = forms.get((d.regime, d.type))
        if form is None:
            continue
        latest[(d.regime, d.type)] = max(latest.get((d.regime, d.type), d.period), d.period)
        group = groups.get((d.regime, d.type, d.state))
        if group is None:
            name = registry.regime(d.regime).regime.short_name.en
            group = groups[(d.regime, d.type, d.state)] = _Group(form, d.state, name)
        group.declarations.append(d)
    findings: list[Finding] = []
    for (regime, type_id, state), group in groups.items():
        facilities = _facilities(group)
        limit = latest[(regime, type_id)]
        years = sorted(
            y for y in covered[(regime, state)] if y <= limit and y not in group.unreadable
        )
        for facility in facilities:
            findings.extend(_changes(group, facility, years))
    findings.sort(key=lambda f: (f.regime, f.year, f.states, f.item or "", f.key))
    return findings


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _facilities(group: _Group) -> list[_Facility]:
    form = group.form
    by_name: dict[str, str] = {}  # a name declared with a site code stands for that code
    for d in group.declarations:
        site = d.form(form.section)
        code, name = _norm(site.get(form.code_field or "")), _norm(site.get(form.name_field or ""))
        if code and name:
            by_name.setdefault(name, code)
    facilities: dict[str, _Facility] = {}
    for d in sorted(group.declarations, key=lambda d: (d.period, d.version, d.id)):
        site = d.form(form.section)
        code, name = _norm(site.get(form.code_field or "")), _norm(site.get(form.name_field or ""))
        code = code or by_name.get(name, "")
        if not code and not name:
            group.unreadable.add(d.period)
            continue
        key = f"{form.type.id}:code={code}" if code else f"{form.type.id}:name={name}"
        raw_name = str(site.get(form.name_field or "") or site.get(form.code_field or ""))
        found = facilities.setdefault(key, _Facility(key, raw_name, None))
        found.name = " ".join(raw_name.split()) or found.name  # the latest spelling
        found.site_code = str(site.get(form.code_field or "") or "") or found.site_code
        found.declared[d.period] = d
    return list(facilities.values())


def _changes(group: _Group, facility: _Facility, years: list[int]) -> list[Finding]:
    """Compare each covered year with the state's previous covered year."""
    findings = []
    for previous, year in zip(years, years[1:], strict=False):
        was, now = previous in facility.declared, year in facility.declared
        if was and not now:
            findings.append(_disappeared(group, facility, previous, year))
        elif now and not was and any(y < previous for y in facility.declared):
            last = max(y for y in facility.declared if y < previous)
            missing = [y for y in years if last < y < year]
            findings.append(_reappeared(group, facility, last, missing, year))
    return findings


def _kind(group: _Group) -> str:
    return f"{group.regime_name}: '{group.form.type.title.en}'"


def _label(facility: _Facility) -> str:
    code = f" (site code {facility.site_code})" if facility.site_code else ""
    return f"'{facility.name}'{code}"


def _disappeared(group: _Group, facility: _Facility, last: int, year: int) -> Finding:
    d = facility.declared[last]
    years = [y for y in sorted(facility.declared) if y < year]
    explanation = (
        f"{group.state} declared {_label(facility)} for {_and(years)} ({_kind(group)}); "
        f"the last was declaration {d.id} version {d.version}, for {last}. It is not "
        f"declared for {year}, although {group.state} submitted {group.regime_name} "
        "declarations for that year."
    )
    return _finding(
        "disappeared",
        group,
        facility,
        year,
        f"{group.state}: {facility.name} not declared for {year}",
        explanation,
        (Source(d.state, d.id, d.version),),
    )


def _reappeared(
    group: _Group, facility: _Facility, last: int, missing: list[int], year: int
) -> Finding:
    now, before = facility.declared[year], facility.declared[last]
    those = "that year" if len(missing) == 1 else "those years"
    explanation = (
        f"{group.state} declares {_label(facility)} for {year} in declaration {now.id} "
        f"version {now.version} ({_kind(group)}), after declaring it last for "
        f"{before.period} in declaration {before.id} version {before.version}. It is "
        f"missing for {_and(missing)}, although {group.state} submitted "
        f"{group.regime_name} declarations for {those}. "
        f"Declared for {_and(sorted(facility.declared))}."
    )
    return _finding(
        "reappeared",
        group,
        facility,
        year,
        f"{group.state}: {facility.name} declared again for {year} after a gap",
        explanation,
        (Source(before.state, before.id, before.version), Source(now.state, now.id, now.version)),
    )


def _finding(
    kind: str,
    group: _Group,
    facility: _Facility,
    year: int,
    title: str,
    explanation: str,
    sources: tuple[Source, ...],
) -> Finding:
    dtype = group.form.type
    return Finding(
        check="facility",
        kind=kind,
        regime=dtype.regime,
        year=year,
        states=(group.state,),
        item=facility.name,
        title=title,
        explanation=explanation,
        details={
            "key": facility.key,
            "type": dtype.id,
            "years": sorted(facility.declared),
            "site_code": facility.site_code,
        },
        sources=sources,
    )


def _and(years: list[int]) -> str:
    words = [str(y) for y in years]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


__all__ = ["FacilityForm", "disappearances", "facility_forms"]
