"""The message catalogues: every message extracted has a Chinese and an English text."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from veritrail.declarations.validate import validate
from veritrail.i18n import LANGUAGES, LOCALE_DIR, translator
from veritrail.regimes import registry

ROOT = Path(__file__).resolve().parents[1]
COMPLETE = ("en", "zh")
NAVIGATION = (
    "Dashboard",
    "Overview",
    "Declarations",
    "New declaration",
    "Upload",
    "Sign in",
    "Sign out",
    "Reporting status overview",
    "Your declarations",
    "Not found",
)
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+(?:![rs])?\}")


@cache
def extracted() -> frozenset[str]:
    """Message ids in the code and templates, found as ``babel.cfg`` says."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found: set[str] = set()
    for _name, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.update([message] if isinstance(message, str) else message)
    return frozenset(found)


@cache
def catalogue(language: str) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


def translated(language: str) -> dict[str, str]:
    return {
        str(m.id): str(m.string)
        for m in catalogue(language)
        if m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def test_extraction_finds_templates_views_and_validator_messages() -> None:
    messages = extracted()
    assert "Dashboard" in messages  # a template
    assert "On time" in messages  # a view module (N_)
    assert "is required" in messages  # the validator
    assert "must be at least {min}" in messages  # a field checker
    assert len(messages) > 150


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_catalogue_exists(language: str) -> None:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    assert path.is_file(), f"missing catalogue {path.relative_to(ROOT)}"
    assert catalogue(language).locale is not None


@pytest.mark.parametrize("language", COMPLETE)
def test_every_message_is_translated(language: str) -> None:
    missing = sorted(extracted() - set(translated(language)))
    assert not missing, f"{len(missing)} messages lack a {language} translation: {missing[:20]}"


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - set(COMPLETE)))
def test_navigation_and_headings_are_translated(language: str) -> None:
    texts = translated(language)
    missing = [m for m in NAVIGATION if m not in texts]
    assert not missing, f"{language} lacks {missing}"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_translations_keep_their_placeholders(language: str) -> None:
    wrong = [
        (msgid, text)
        for msgid, text in translated(language).items()
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))
    ]
    assert not wrong, wrong


def test_validator_speaks_chinese() -> None:
    document = {
        "regime": "cwc",
        "type": "adnd",
        "state": "CHN",
        "period": 2020,
        "data": {
            "lines": [{"cas": "756-79-6", "activity": "export", "quantity": "-2", "unit": "kg"}]
        },
    }
    messages = [p.message for p in validate(document, registry(), language="zh").errors]
    assert "数量: 必须至少为 0" in messages
    assert "伙伴国（进口和出口）: 为必填项" in messages


def test_translator_reads_the_catalogues() -> None:
    assert translator("zh").gettext("Dashboard") == "工作台"
    assert translator("ar").rtl and not translator("fr").rtl
    assert translator("fr").gettext("Sign in") == "Se connecter"
