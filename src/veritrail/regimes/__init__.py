"""Regimes as data: packs of YAML files, checked when loaded."""

from veritrail.regimes.loader import RegimePack, Registry, load_pack, load_registry, registry
from veritrail.regimes.model import Classification, DeclarationType, FieldSpec, FieldType, Text

__all__ = [
    "Classification",
    "DeclarationType",
    "FieldSpec",
    "FieldType",
    "RegimePack",
    "Registry",
    "Text",
    "load_pack",
    "load_registry",
    "registry",
]
