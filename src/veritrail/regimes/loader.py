"""Load and check regime packs; a broken pack fails naming its file and field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from veritrail.errors import NotFound, RegimePackError
from veritrail.reference import states
from veritrail.regimes.model import (
    AtLeastOneRule,
    CodeList,
    DeclarationType,
    FieldType,
    Regime,
    SectionKind,
    SectionSpec,
    ThresholdRule,
)

PACKS_DIR = Path(__file__).parent / "packs"
_M = TypeVar("_M", Regime, CodeList, DeclarationType)


@dataclass
class RegimePack:
    regime: Regime
    lists: dict[str, CodeList] = field(default_factory=dict)
    types: dict[str, DeclarationType] = field(default_factory=dict)

    def parties(self) -> list[str]:
        """ISO 3166-1 alpha-3 codes of the states expected to report."""
        spec = self.regime.parties
        codes = {s.alpha3 for s in states.all_states() if s.status == "member"}
        chosen = set(spec.include) | (codes if spec.all_un_members else set())
        return sorted(chosen - set(spec.exclude))


@dataclass(eq=False)
class Registry:
    packs: dict[str, RegimePack]

    def regime(self, regime_id: str) -> RegimePack:
        try:
            return self.packs[regime_id]
        except KeyError:
            known = ", ".join(sorted(self.packs))
            raise NotFound(f"unknown regime {regime_id!r}; known: {known}") from None

    def declaration_type(self, regime_id: str, type_id: str) -> DeclarationType:
        pack = self.regime(regime_id)
        try:
            return pack.types[type_id]
        except KeyError:
            known = ", ".join(sorted(pack.types))
            raise NotFound(
                f"regime {regime_id!r} has no declaration type {type_id!r}; known: {known}"
            ) from None

    def code_list(self, regime_id: str, list_id: str) -> CodeList:
        return self.regime(regime_id).lists[list_id]

    def all_types(self) -> Iterable[DeclarationType]:
        for pack in self.packs.values():
            yield from pack.types.values()


def _read_yaml(path: Path, root: Path) -> dict[str, Any]:
    name = str(path.relative_to(root.parent))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RegimePackError(f"not valid YAML ({exc})", file=name) from exc
    if not isinstance(data, dict):
        raise RegimePackError("must be a mapping at the top level", file=name)
    return data


def _parse(model: type[_M], data: dict[str, Any], name: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RegimePackError(first["msg"], file=name, field=where) from exc


def load_pack(folder: Path, root: Path = PACKS_DIR) -> RegimePack:
    """Load one regime folder and check every cross-reference inside it."""
    regime_file = folder / "regime.yaml"
    rel = str(regime_file.relative_to(root.parent))
    if not regime_file.exists():
        raise RegimePackError("missing; every regime folder needs one", file=rel)
    regime = _parse(Regime, _read_yaml(regime_file, root), rel)
    if regime.id != folder.name:
        raise RegimePackError(
            f"id {regime.id!r} differs from its folder name {folder.name!r}", file=rel, field="id"
        )
    _check_states(regime.parties.include + regime.parties.exclude, rel, "parties")
    pack = RegimePack(regime=regime)
    for list_id in regime.lists:
        path = folder / "lists" / f"{list_id}.yaml"
        name = str(path.relative_to(root.parent))
        if not path.exists():
            raise RegimePackError(
                f"code list {list_id!r} has no file {name}", file=rel, field="lists"
            )
        code_list = _parse(CodeList, _read_yaml(path, root), name)
        if code_list.id != list_id:
            raise RegimePackError(f"id must be {list_id!r}", file=name, field="id")
        pack.lists[list_id] = code_list
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "regime.yaml":
            continue
        name = str(path.relative_to(root.parent))
        dtype = _parse(DeclarationType, _read_yaml(path, root), name)
        if dtype.regime != regime.id:
            raise RegimePackError(
                f"regime {dtype.regime!r} differs from its folder {regime.id!r}",
                file=name,
                field="regime",
            )
        if dtype.id != path.stem:
            raise RegimePackError(
                f"id {dtype.id!r} differs from its file name {path.stem!r}", file=name, field="id"
            )
        _check_type(dtype, pack, name)
        pack.types[dtype.id] = dtype
    if not pack.types:
        raise RegimePackError("declares no declaration type", file=rel)
    return pack


def _check_states(codes: list[str], name: str, where: str) -> None:
    # Only alpha-3 codes: parties() compares codes, so a name or an alpha-2 code that
    # lookup() would accept would silently include or exclude nobody.
    for code in codes:
        if states.by_alpha3(code) is None:
            hint = states.lookup(code)
            tip = f"; write {hint.alpha3!r}" if hint is not None else ""
            raise RegimePackError(
                f"unknown state {code!r} (an ISO 3166-1 alpha-3 code is expected{tip})",
                file=name,
                field=where,
            )


def _check_type(dtype: DeclarationType, pack: RegimePack, name: str) -> None:
    for s_index, section in enumerate(dtype.sections):
        if section.classification is not None and not section.classification.at_least(
            dtype.classification
        ):
            raise RegimePackError(
                f"the annex is {section.classification.value}, below its declaration type "
                f"({dtype.classification.value}); an annex is classified at least as high as "
                "the declaration it belongs to",
                file=name,
                field=f"sections.{s_index}.classification",
            )
        for f_index, spec in enumerate(section.fields):
            where = f"sections.{s_index}.fields.{f_index}"
            if spec.type is FieldType.CODE:
                code_list = pack.lists.get(spec.code_list or "")
                if code_list is None:
                    raise RegimePackError(
                        f"unknown code list {spec.code_list!r}; the regime has "
                        f"{', '.join(sorted(pack.lists)) or 'none'}",
                        file=name,
                        field=f"{where}.list",
                    )
                for attr, allowed in (spec.list_where or {}).items():
                    values = {str(code_list.attribute(e, attr)) for e in code_list.entries}
                    unknown = sorted(set(allowed) - values)
                    if unknown:
                        raise RegimePackError(
                            f"no entry of list {code_list.id!r} has {attr} = {unknown[0]!r}",
                            file=name,
                            field=f"{where}.list_where",
                        )
    _check_reconciliation(dtype, pack, name)
    for r_index, rule in enumerate(dtype.rules):
        where = f"rules.{r_index}"
        found = dtype.section(rule.section)
        if found is None:
            raise RegimePackError(f"unknown section {rule.section!r}", file=name, field=where)
        section = found
        if isinstance(rule, ThresholdRule):
            needed = [rule.item, rule.quantity, *rule.group_by]
            needed += [rule.unit] if rule.unit else []
            _check_threshold(rule, section, pack, name, where)
        elif isinstance(rule, AtLeastOneRule):
            needed = list(rule.fields)
            if section.kind is not SectionKind.FORM:
                raise RegimePackError(
                    f"'at_least_one' needs a form section; {section.id!r} is a table",
                    file=name,
                    field=where,
                )
        for field_id in needed:
            if section.field(field_id) is None:
                raise RegimePackError(
                    f"section {section.id!r} has no field {field_id!r}", file=name, field=where
                )


def _check_reconciliation(dtype: DeclarationType, pack: RegimePack, name: str) -> None:
    rule = dtype.reconciliation
    if rule is None:
        return
    if rule.item_list is not None:
        code_list = pack.lists.get(rule.item_list)
        if code_list is None:
            raise RegimePackError(
                f"unknown code list {rule.item_list!r}", file=name, field="reconciliation.item_list"
            )
        values = {str(code_list.attribute(e, rule.by or "")) for e in code_list.entries}
        unknown = sorted(set(rule.limits) - values)
        if unknown:
            raise RegimePackError(
                f"no entry of list {code_list.id!r} has {rule.by} = {unknown[0]!r}",
                file=name,
                field="reconciliation.limits",
            )
    for index, source in enumerate(rule.sources):
        where = f"reconciliation.sources.{index}"
        section = dtype.section(source.section)
        if section is None or section.kind is not SectionKind.TABLE:
            raise RegimePackError(
                f"{source.section!r} is not a table section of this type", file=name, field=where
            )
        for field_id in (
            source.partner,
            source.item,
            source.quantity,
            source.direction_field,
            source.unit_field,
        ):
            if field_id is not None and section.field(field_id) is None:
                raise RegimePackError(
                    f"section {section.id!r} has no field {field_id!r}", file=name, field=where
                )
        item = section.field(source.item)
        if item is not None and item.type is FieldType.CHOICE:
            grouped = {m for members in rule.item_groups.values() for m in members}
            strange = sorted(grouped - set(item.choice_values()))
            if strange:
                raise RegimePackError(
                    f"item group member {strange[0]!r} is not a choice of field {item.id!r}",
                    file=name,
                    field="reconciliation.item_groups",
                )


def _check_threshold(
    rule: ThresholdRule, section: SectionSpec, pack: RegimePack, name: str, where: str
) -> None:
    item = section.field(rule.item)
    if item is None or item.code_list is None:
        raise RegimePackError(
            f"the item field {rule.item!r} must be of type 'code'", file=name, field=where
        )
    code_list = pack.lists[item.code_list]
    values = {str(code_list.attribute(e, rule.by)) for e in code_list.entries}
    unknown = sorted(set(rule.limits) - values)
    if unknown:
        raise RegimePackError(
            f"no entry of list {code_list.id!r} has {rule.by} = {unknown[0]!r}",
            file=name,
            field=f"{where}.limits",
        )


def load_registry(root: Path = PACKS_DIR) -> Registry:
    """Load every regime pack under ``root``."""
    if not root.is_dir():
        raise RegimePackError("the regime packs folder does not exist", file=str(root))
    packs: dict[str, RegimePack] = {}
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    for folder in folders:
        pack = load_pack(folder, root)
        packs[pack.regime.id] = pack
    if not packs:
        raise RegimePackError("no regime pack found", file=str(root))
    return Registry(packs=packs)


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The packs shipped with Veritrail, loaded once per process."""
    return load_registry()


__all__ = ["PACKS_DIR", "RegimePack", "Registry", "load_pack", "load_registry", "registry"]
