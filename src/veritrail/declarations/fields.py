"""Checks and normalisation of one value, per field type of a regime pack.

Each checker takes the raw value and returns ``(value, None)`` with the value
normalised for the canonical document, or ``(None, (code, message))``.
Messages are gettext message ids; the validator translates and fills them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from veritrail.reference import states
from veritrail.regimes.model import CodeList, FieldSpec, FieldType

Failure = tuple[str, str, dict[str, Any]]
Checked = tuple[Any, Failure | None]
Checker = Callable[[Any], Checked]

MAX_DIGITS = 30
_EXACT = Context(prec=MAX_DIGITS + 2)
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d{1,2}|[+-]?\d+,\d{4,}")
_CAS = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
_INT = re.compile(r"^[+-]?\d+$")


def cas_is_valid(code: str) -> bool:
    """True when ``code`` has the CAS registry number form and check digit."""
    match = _CAS.match(code)
    if not match:
        return False
    digits = (match.group(1) + match.group(2))[::-1]
    total = sum((i + 1) * int(d) for i, d in enumerate(digits))
    return total % 10 == int(match.group(3))


def _text(spec: FieldSpec) -> Checker:
    def check(value: Any) -> Checked:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            return None, ("type", "must be text", {})
        text = str(value).strip()
        if len(text) > spec.max_length:
            return None, ("too_long", "must be at most {max} characters", {"max": spec.max_length})
        if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
            return None, ("control_characters", "contains control characters", {})
        return text, None

    return check


def _number(spec: FieldSpec, integer: bool) -> Checker:
    lo, hi = spec.min, spec.max

    def check(value: Any) -> Checked:
        if isinstance(value, bool):
            return None, ("type", "must be a number", {})
        if isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float | str | Decimal):
            text = str(value).strip().replace("\u00a0", "").replace(" ", "")
            if _DECIMAL_COMMA.fullmatch(text):
                return None, (
                    "decimal_comma",
                    "write decimals with a dot (12.5), not a comma: {value!r}",
                    {"value": text[:40]},
                )
            try:
                number = Decimal(text)
            except InvalidOperation:
                return None, (
                    "not_a_number",
                    "must be a number, not {value!r}",
                    {"value": text[:40]},
                )
            if not number.is_finite():
                return None, ("not_a_number", "must be a finite number", {})
        else:
            return None, ("type", "must be a number", {})
        if integer and number != number.to_integral_value():
            return None, ("not_an_integer", "must be a whole number", {})
        if abs(number.adjusted()) > 15:
            return None, ("out_of_range", "is out of range", {})
        if len(number.as_tuple().digits) > MAX_DIGITS:
            return None, (
                "too_precise",
                "has more than {max} significant digits",
                {"max": MAX_DIGITS},
            )
        if lo is not None and number < lo:
            code = "negative" if lo == 0 else "too_small"
            return None, (code, "must be at least {min}", {"min": lo})
        if hi is not None and number > hi:
            return None, ("too_large", "must be at most {max}", {"max": hi})
        if integer:
            return int(number), None
        return _plain(number), None

    return check


def _plain(number: Decimal) -> str:
    """A decimal as plain digits, without exponent or trailing zeros (never rounded)."""
    text = format(number.normalize(_EXACT), "f")
    return "0" if text in ("-0", "") else text


def _coordinate(spec: FieldSpec, limit: int) -> Checker:
    base = _number(spec, integer=False)

    def check(value: Any) -> Checked:
        number, failure = base(value)
        if failure:
            return None, failure
        if abs(Decimal(number)) > limit:
            return None, ("out_of_range", "must be between -{limit} and {limit}", {"limit": limit})
        return number, None

    return check


def _date(_spec: FieldSpec) -> Checker:
    def check(value: Any) -> Checked:
        if not isinstance(value, str):
            return None, ("type", "must be a date written YYYY-MM-DD", {})
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat(), None
        except ValueError:
            return None, (
                "not_a_date",
                "must be a date written YYYY-MM-DD, not {value!r}",
                {"value": value[:40]},
            )

    return check


def _year(_spec: FieldSpec) -> Checker:
    def check(value: Any) -> Checked:
        text = str(value).strip()
        if isinstance(value, bool) or not _INT.match(text) or not 1900 <= int(text) <= 2200:
            return None, ("not_a_year", "must be a year such as 2025", {})
        return int(text), None

    return check


_TRUE = {"true", "yes", "y", "1", "x", "是", "oui", "si", "sí", "да"}
_FALSE = {"false", "no", "n", "0", "", "否", "non", "нет"}


def _boolean(_spec: FieldSpec) -> Checker:
    def check(value: Any) -> Checked:
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().casefold()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return None, ("not_a_boolean", "must be yes or no", {})

    return check


def _choice(spec: FieldSpec) -> Checker:
    allowed = spec.choice_values()
    folded = {v.casefold(): v for v in allowed}

    def check(value: Any) -> Checked:
        text = str(value).strip()
        if text in allowed:
            return text, None
        if text.casefold() in folded:
            return folded[text.casefold()], None
        return None, (
            "not_a_choice",
            "{value!r} is not one of: {allowed}",
            {"value": text[:40], "allowed": ", ".join(allowed)},
        )

    return check


def _state(_spec: FieldSpec) -> Checker:
    def check(value: Any) -> Checked:
        text = str(value).strip()
        found = states.lookup(text)
        if found is None:
            return None, (
                "unknown_state",
                "{value!r} is not a known state; use an ISO 3166-1 alpha-3 code such as FRA",
                {"value": text[:60]},
            )
        return found.alpha3, None

    return check


def _code(spec: FieldSpec, code_list: CodeList) -> Checker:
    where = spec.list_where or {}
    allowed = {
        e.code
        for e in code_list.entries
        if all(str(code_list.attribute(e, k)) in v for k, v in where.items())
    }
    every = {e.code for e in code_list.entries}
    is_cas = code_list.format == "cas"

    def check(value: Any) -> Checked:
        text = str(value).strip()
        if text in allowed:
            return text, None
        if is_cas and not cas_is_valid(text):
            return None, (
                "invalid_cas",
                "{value!r} is not a valid CAS registry number (form 1234-56-7 with a "
                "correct check digit)",
                {"value": text[:40]},
            )
        if text in every:
            return None, (
                "code_not_allowed",
                "{value!r} is in the list {list} but not allowed here",
                {"value": text, "list": code_list.id},
            )
        return None, (
            "unknown_code",
            "{value!r} is not in the list {list}",
            {"value": text[:40], "list": code_list.id},
        )

    return check


_PLAIN_DECIMAL = re.compile(r"(0|[1-9]\d{0,14})(\.\d{0,14}[1-9])?")


def fast_check(spec: FieldSpec, lists: dict[str, CodeList]) -> Callable[[Any], bool] | None:
    """A cheap test that a value is already valid and canonical, where one exists.

    Returning False only means "use the full checker"; it never rejects.
    """
    match spec.type:
        case FieldType.CHOICE:
            return _member(frozenset(spec.choice_values()))
        case FieldType.STATE:
            return _member(frozenset(s.alpha3 for s in states.all_states()))
        case FieldType.CODE:
            code_list = lists[spec.code_list or ""]
            where = spec.list_where or {}
            return _member(
                frozenset(
                    e.code
                    for e in code_list.entries
                    if all(str(code_list.attribute(e, k)) in v for k, v in where.items())
                )
            )
        case FieldType.DECIMAL if spec.max is None and (spec.min is None or spec.min <= 0):
            match = _PLAIN_DECIMAL.fullmatch
            return lambda v: type(v) is str and match(v) is not None
        case FieldType.TEXT:
            limit = spec.max_length
            return lambda v: (
                type(v) is str and 0 < len(v) <= limit and v.isprintable() and v == v.strip()
            )
        case FieldType.BOOLEAN:
            return lambda v: type(v) is bool
        case FieldType.YEAR:
            return lambda v: type(v) is int and 1900 <= v <= 2200
        case FieldType.INTEGER if _whole(spec.min) and _whole(spec.max):
            lo = int(spec.min) if spec.min is not None else -(10**15)
            hi = int(spec.max) if spec.max is not None else 10**15
            return lambda v: type(v) is int and lo <= v <= hi
        case FieldType.DATE:
            return _canonical_date
    return None


def _whole(limit: Decimal | None) -> bool:
    return limit is None or limit == limit.to_integral_value()


def _member(allowed: frozenset[str]) -> Callable[[Any], bool]:
    return lambda v: type(v) is str and v in allowed


def _canonical_date(value: Any) -> bool:
    if type(value) is not str or len(value) != 10:
        return False
    try:
        return date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def make_checker(spec: FieldSpec, lists: dict[str, CodeList]) -> Checker:
    """The checker for one field of a pack."""
    match spec.type:
        case FieldType.TEXT:
            return _text(spec)
        case FieldType.INTEGER:
            return _number(spec, integer=True)
        case FieldType.DECIMAL:
            return _number(spec, integer=False)
        case FieldType.LATITUDE:
            return _coordinate(spec, 90)
        case FieldType.LONGITUDE:
            return _coordinate(spec, 180)
        case FieldType.DATE:
            return _date(spec)
        case FieldType.YEAR:
            return _year(spec)
        case FieldType.BOOLEAN:
            return _boolean(spec)
        case FieldType.CHOICE:
            return _choice(spec)
        case FieldType.STATE:
            return _state(spec)
        case FieldType.CODE:
            return _code(spec, lists[spec.code_list or ""])


__all__ = ["Checker", "Failure", "cas_is_valid", "fast_check", "make_checker"]
