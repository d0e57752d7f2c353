"""More built-in functions: calendar parts, text normalization, patterns.

Registered in :data:`naebu.engine.expr.functions.FUNCTIONS` on import (``functions`` imports this
module at its end). Every function is vectorized: one pandas/numpy operation per call.

Regular expressions (``extract_number``, ``matches``) must be fixed values - a literal or a
parameter - so they are checked and compiled once, when the rule file is loaded. Python's
``re`` has no time limit, so a pattern is refused when it is longer than
:data:`MAX_PATTERN` characters or has a shape that can backtrack catastrophically, found on
the parsed pattern (:func:`_unsafe_shape`): look-around (``(?=``, ``(?!``, ``(?<=``, ``(?<!``),
back-references, conditionals, a repeat inside a repeat (``(a+)+``, ``(\\d*)*``) and
alternatives inside a repeat (``(a|aa)*``).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .arrow_strings import nfkc
from .functions import TEXT, per_distinct, register
from .kinds import TEMPORAL
from .values import boolean, nulls

with warnings.catch_warnings():  # sre_parse is deprecated by name only; re._parser is private
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_parse as _sre_parser

#: Longest regular expression a rule may use.
MAX_PATTERN = 100

_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_BACKREF = re.compile(r"\\[1-9]|\(\?P=")


@register("quarter", [TEMPORAL], "int")
def _quarter(x: pd.Series) -> pd.Series:
    """Quarter of the year, 1-4."""
    return x.dt.quarter.astype("float64")


@register("week", [TEMPORAL], "int")
def _week(x: pd.Series) -> pd.Series:
    """ISO week of the year, 1-53 (weeks start on Monday; 2025-12-29 is week 1 of 2026)."""
    return x.dt.isocalendar().week.astype("float64").set_axis(x.index)


@register("normalize", [TEXT], "str")
@per_distinct
def _normalize(x: pd.Series) -> pd.Series:
    """The text in Unicode NFKC form (full-width ＡＢＣ１２３ -> ABC123, ㈜ -> (주)), trimmed,
    with runs of whitespace inside collapsed to one space: compare names written differently."""
    return nfkc(x).str.strip().str.replace(r"\s+", " ", regex=True)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _pattern_problem(pattern: Any, groups: int | None) -> str | None:
    if not isinstance(pattern, str) or not pattern:
        return "the pattern must be a non-empty text"
    if len(pattern) > MAX_PATTERN:
        return f"the pattern is longer than {MAX_PATTERN} characters; keep it simple"
    if _BACKREF.search(pattern):
        return "back-references (\\1) are not allowed in a pattern"
    if _NESTED_REPEAT.search(pattern):
        return "a repeated group that itself repeats, like (a+)+, can take forever; simplify it"
    try:
        compiled = _compiled(pattern)
        shape = _unsafe_shape(pattern)
    except re.error as exc:
        return f"the pattern is not a valid regular expression: {exc}"
    if shape is not None:
        return shape
    arrow = _arrow_problem(pattern)
    if arrow is not None:
        return arrow
    if groups is not None and compiled.groups != groups:
        return f"the pattern needs exactly {groups} group (...) around the number, it has {compiled.groups}"
    return None


@functools.lru_cache(maxsize=256)
def _arrow_problem(pattern: str) -> str | None:
    """Why Arrow's regular expressions (RE2, which pandas runs on Arrow-backed text) refuse
    ``pattern``, or None. Python's ``re`` takes some that RE2 does not (a repeat over 1,000,
    ``\\Z``, atomic groups): such a pattern compiled, then failed every evaluation."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # no Arrow: pandas runs Python's re, already checked
        return None
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        return f"the pattern is not a valid regular expression here: {exc}"
    return None


def _unsafe_shape(pattern: str) -> str | None:
    """Why ``pattern`` may backtrack catastrophically, or None when its shape is safe.

    Walks the parsed pattern (``re``'s own parser: what runs is what is checked) without
    recursion. Refused: look-around, back-references, conditionals, and a repeat whose body
    holds another repeat or a choice between alternatives.
    """
    stack: list[tuple[Any, bool]] = [(_sre_parser.parse(pattern), False)]
    while stack:
        items, in_repeat = stack.pop()
        for op, arg in items:
            name = str(op)
            if name in ("ASSERT", "ASSERT_NOT"):
                return "look-around ((?=, (?!, (?<=, (?<!) is not allowed in a pattern; match the text itself"
            if name in ("GROUPREF", "GROUPREF_EXISTS"):
                return "back-references and (?(1)...) conditionals are not allowed in a pattern"
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if in_repeat:
                    return "a repeat inside a repeat in a pattern, like (a+)+, can take forever; simplify it"
                stack.append((arg[2], True))
            elif name == "BRANCH":
                if in_repeat:
                    return "alternatives inside a repeat in a pattern, like (a|aa)*, can take forever; repeat a character class [ab]* instead"
                stack.extend((branch, in_repeat) for branch in arg[1])
            elif name == "SUBPATTERN":
                stack.append((arg[-1], in_repeat))
            elif name == "ATOMIC_GROUP":
                stack.append((arg, in_repeat))
    return None


def _check_extract(fixed: Sequence[Any]) -> str | None:
    return _pattern_problem(fixed[1], 1)


def _check_matches(fixed: Sequence[Any]) -> str | None:
    return _pattern_problem(fixed[1], None)


@register("extract_number", [TEXT, TEXT], "number", constant=[1], check=_check_extract)
@per_distinct
def _extract_number(text: pd.Series, pattern: str) -> pd.Series:
    """The number captured by the pattern's one group (...), or null when the text does not match:
    extract_number(purpose, "(\\\\d+)\\\\s*명") gives 3 for "행정팀장 등 3명". Thousands separators
    in the capture are ignored ("1,200" gives 1200). The pattern must be a fixed text or parameter.
    """
    captured = text.str.extract(_compiled(pattern), expand=False)
    cleaned = captured.str.replace(",", "", regex=False)
    return pd.to_numeric(cleaned, errors="coerce").astype("float64").set_axis(text.index)


@register("matches", [TEXT, TEXT], "bool", constant=[1], check=_check_matches)
@per_distinct
def _matches(text: pd.Series, pattern: str) -> pd.Series:
    """Whether the regular expression occurs anywhere in the text (anchor it with ^ and $ to
    match the whole text): matches(merchant_name, "노래(연습장|방)"). Fixed pattern, at most
    100 characters, no look-around, back-references, nested repeats or alternatives under a
    repeat."""
    found = text.str.contains(_compiled(pattern), regex=True)
    return boolean(found.to_numpy(dtype=bool, na_value=False) & ~nulls(text), text.index)
