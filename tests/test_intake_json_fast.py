"""The fast JSON path reads exactly what the standard parser reads, or steps aside."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veritrail.declarations.intake import Limits, parse_json
from veritrail.declarations.intake.json_ import _fast_load, _measure
from veritrail.errors import ValidationFailed

LIMITS = Limits(max_upload_bytes=10_000_000, max_json_depth=32, max_spreadsheet_cells=1_000_000)


def _fast(text: str) -> Any:
    return _fast_load(text, _measure(text, 32, 1_000_000)[2])


def test_a_plain_declaration_takes_the_fast_path() -> None:
    text = json.dumps({"regime": "cwc", "data": {"lines": [{"q": "1.5", "n": 3, "s": "a:b"}]}})
    assert _fast(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": 1.5}',
        '{"a": 1e3}',
        '{"a": "x\\"y"}',
        '{"a": "\\ud800"}',
        '[{"k": 1, "k": 1}]',
        '{"a": [1, 2,]}',
    ],
    ids=["duplicate", "fraction", "exponent", "escape", "surrogate", "nested-duplicate", "bad"],
)
def test_anything_doubtful_goes_to_the_standard_parser(text: str) -> None:
    assert _fast(text) is None


def test_duplicates_and_fractions_are_still_handled_exactly() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_json(b'{"regime": "cwc", "regime": "bwc"}', limits=LIMITS)
    assert info.value.problems[0].code == "duplicate_key"
    parsed = parse_json(
        b'{"data": {"lines": [{"quantity": 0.1000000000000000055511}]}}', limits=LIMITS
    )
    assert parsed.document["data"]["lines"][0]["quantity"] == Decimal("0.1000000000000000055511")


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=5), documents, max_size=5))
def test_fast_path_agrees_with_the_standard_parser(document: dict[str, Any]) -> None:
    text = json.dumps(document, ensure_ascii=False)
    fast = _fast(text)
    if fast is not None:
        assert fast == json.loads(text)
    assert parse_json(text.encode(), limits=LIMITS).document == json.loads(text)
