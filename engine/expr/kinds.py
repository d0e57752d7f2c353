"""Value types of the expression language and how parameter values map onto them.

Column types are those of :mod:`naebu.core.datasets`. ``int`` and ``number`` are both numeric and
mix freely. ``null`` is the type of the ``null`` literal; lists (``list[str]``, ``list[number]``,
``list[date]``, ``list[any]`` when empty) only appear on the right of ``in``. ``error`` marks a
sub-expression that already has a reported problem, so one mistake is reported once.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

NUMERIC = frozenset({"int", "number"})
TEMPORAL = frozenset({"date", "datetime"})
SCALAR_TYPES = frozenset({"str", "int", "number", "date", "datetime", "time", "bool"})
ANY = frozenset(SCALAR_TYPES | {"null"})
ERROR = "error"

#: Plain words for messages read by compliance staff.
_WORDS = {
    "str": "text",
    "int": "a whole number",
    "number": "a number",
    "date": "a date",
    "datetime": "a date and time",
    "time": "a time of day",
    "bool": "true/false",
    "null": "null",
}


def describe(type_: str) -> str:
    """``"number"`` -> ``"a number"``; lists -> ``"a list of text"``."""
    if type_.startswith("list["):
        inner = element_type(type_)
        return (
            "a list"
            if inner == "any"
            else f"a list of {_WORDS.get(inner, inner).removeprefix('a ')}"
        )
    return _WORDS.get(type_, type_)


def is_list(type_: str) -> bool:
    """Whether ``type_`` is a list type."""
    return type_.startswith("list[")


def element_type(type_: str) -> str:
    """``"list[str]"`` -> ``"str"``."""
    return type_[5:-1]


def family(type_: str) -> str:
    """The group within which values compare: numbers with numbers, dates with datetimes."""
    if type_ in NUMERIC:
        return "number"
    if type_ in TEMPORAL:
        return "date"
    return type_


def comparable(a: str, b: str) -> bool:
    """Whether values of types ``a`` and ``b`` can be compared with == or <."""
    return family(a) == family(b)


def unify(a: str, b: str) -> str:
    """The common type of two comparable types (int and number give number)."""
    if a == b:
        return a
    if family(a) == "number":
        return "number"
    if family(a) == "date":
        return "datetime"
    return a


def value_type(value: Any) -> str | None:
    """The language type of a parameter value from a rule file, or None if it has none.

    TOML gives bool, int, float, str, date, datetime, time and lists. ``bool`` is checked before
    ``int`` because ``True`` is an ``int`` in Python.
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number" if not (isinstance(value, float) and math.isinf(value)) else None
    if isinstance(value, str):
        return "str"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, list | tuple):
        return _list_type(value)
    return None


def _list_type(values: list[Any] | tuple[Any, ...]) -> str | None:
    if not values:
        return "list[any]"
    types = [value_type(v) for v in values]
    if any(t is None or is_list(t) for t in types):
        return None
    families = {family(t) for t in types if t is not None}
    if len(families) != 1:
        return None  # a list mixing text and numbers is a mistake in the rule file
    kinds = set(types)
    if len(kinds) == 1:
        return f"list[{types[0]}]"
    # int with float, or date with datetime
    return "list[number]" if families == {"number"} else "list[datetime]"
