"""Row-wise functions over several values, for the derived columns of a source mapping.

A city's export often spreads one canonical figure over several columns (three appraisal
columns, a date and a time, a count written in words), and every source column arrives as
text. These functions combine them, row by row and vectorized (one numpy operation per call):

- ``mean_present(감정가1, 감정가2, 감정가3)`` / ``count_present(...)``: the mean and the count of
  the values that read as numbers (empty ones and text that is no number are left out);
- ``greatest(a, b, ...)`` / ``least(...)``: the largest or smallest date or number, nulls ignored;
- ``to_number(text)`` / ``to_date(text)``: text read the way connectors read a number or a date
  column (``1,234,000원``, ``(5,000)``, ``2025.3.1``, ``2025년 3월 1일``, ``20250301``...);
- ``extract(text, pattern[, group])``: the part of the text a regular expression captures;
- ``concat(a, b, ...)`` / ``concat_ws(sep, a, b, ...)``: texts joined, empty ones left out.

Registered in :data:`naebu.engine.expr.functions.FUNCTIONS` on import. Number and date parsing is
the connectors' own (:mod:`naebu.connectors.coerce`), so a derived value reads exactly as the same
text in a mapped column would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .functions import TEXT, per_distinct, register
from .functions_more import _compiled, _pattern_problem
from .kinds import NUMERIC, TEMPORAL, comparable, describe, unify

#: A value a number can be read from: a number, or text holding one.
NUMBER_OR_TEXT = frozenset(NUMERIC | TEXT)
NUMBER_OR_DATE = frozenset(NUMERIC | TEMPORAL)


def _numbers(x: pd.Series) -> np.ndarray:
    """float64 values of a number or text argument (NaN when empty or not a number)."""
    if x.dtype == "float64":
        return x.to_numpy(dtype="float64")
    from naebu.connectors.coerce import parse_numbers  # the connectors' own reading of amounts

    return parse_numbers(x).to_numpy(dtype="float64")


def _matrix(args: Sequence[pd.Series]) -> np.ndarray:
    return np.column_stack([_numbers(a) for a in args])


@register("mean_present", [NUMBER_OR_TEXT], "number", variadic=True)
def _mean_present(*args: pd.Series) -> pd.Series:
    """Mean of the arguments that hold a number, row by row; null when none does:
    mean_present(감정가1, 감정가2, 감정가3) gives 150000000 for "100,000,000원", "200,000,000" and
    an empty third. Text is read as a number column is (commas, 원, ₩, full-width digits);
    text that is no number ("미정") is left out like an empty value."""
    values = _matrix(args)
    present = np.isfinite(values)
    count = present.sum(axis=1)
    total = np.where(present, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return pd.Series(mean, index=args[0].index)


@register("count_present", [NUMBER_OR_TEXT], "int", variadic=True)
def _count_present(*args: pd.Series) -> pd.Series:
    """How many of the arguments hold a number, row by row (0 when none does):
    count_present(감정가1, 감정가2, 감정가3) counts the appraisals given."""
    values = _matrix(args)
    return pd.Series(np.isfinite(values).sum(axis=1).astype("float64"), index=args[0].index)


def _extreme_type(types: Sequence[str]) -> str:
    result = types[0]
    for t in types[1:]:
        if not comparable(result, t):
            raise ValueError(
                f"the arguments must all be numbers or all dates, got {describe(result)} "
                f"and {describe(t)}"
            )
        result = unify(result, t)
    return result


def _extreme(args: Sequence[pd.Series], largest: bool) -> pd.Series:
    index = args[0].index
    if any(pd.api.types.is_datetime64_any_dtype(a.dtype) for a in args):
        stamps = np.column_stack([a.to_numpy(dtype="datetime64[ns]") for a in args])
        ints = stamps.view(np.int64).astype("float64")
        ints[np.isnat(stamps)] = np.nan
        picked = _nan_extreme(ints, largest)
        out = np.full(len(picked), np.datetime64("NaT"), dtype="datetime64[ns]")
        ok = np.isfinite(picked)
        out[ok] = picked[ok].astype(np.int64).view("datetime64[ns]")
        return pd.Series(out, index=index)
    return pd.Series(_nan_extreme(_matrix(args), largest), index=index)


def _nan_extreme(values: np.ndarray, largest: bool) -> np.ndarray:
    present = np.isfinite(values)
    filler = -np.inf if largest else np.inf
    filled = np.where(present, values, filler)
    picked = filled.max(axis=1) if largest else filled.min(axis=1)
    return np.where(present.any(axis=1), picked, np.nan)


@register("greatest", [NUMBER_OR_DATE], _extreme_type, variadic=True)
def _greatest(*args: pd.Series) -> pd.Series:
    """The largest of the arguments (all numbers or all dates), nulls ignored; null when all
    are null: greatest(to_date(감정일1), to_date(감정일2)) is the later appraisal."""
    return _extreme(args, largest=True)


@register("least", [NUMBER_OR_DATE], _extreme_type, variadic=True)
def _least(*args: pd.Series) -> pd.Series:
    """The smallest of the arguments (all numbers or all dates), nulls ignored; null when all
    are null: least(to_date(감정일1), to_date(감정일2)) is the oldest appraisal."""
    return _extreme(args, largest=False)


@register("to_number", [NUMBER_OR_TEXT], "number")
def _to_number(x: pd.Series) -> pd.Series:
    """The text read as a number the way a number column is read: "1,234,000원", "₩5,000",
    "(5,000)" (negative), full-width digits; null when it holds no number."""
    return pd.Series(_numbers(x), index=x.index)


@register("to_date", [frozenset(TEXT | TEMPORAL)], "date")
@per_distinct
def _to_date(x: pd.Series) -> pd.Series:
    """The text read as a date the way a date column is read: "2025-03-01", "2025.3.1",
    "20250301", "2025년 3월 1일", a date and time (its day), a spreadsheet serial day;
    null when it is no date."""
    if pd.api.types.is_datetime64_any_dtype(x.dtype):
        return x.dt.normalize()
    from naebu.connectors.coerce import parse_dates

    return parse_dates(x).set_axis(x.index)


def _check_extract_text(fixed: Sequence[Any]) -> str | None:
    problem = _pattern_problem(fixed[1], None)
    if problem is not None:
        return problem
    groups = _compiled(fixed[1]).groups
    group = fixed[2] if len(fixed) > 2 and fixed[2] is not None else None
    if group is not None and not 0 <= int(group) <= groups:
        return f"the pattern has {groups} group(s) (...); group {int(group)} does not exist"
    return None


@register("extract", [TEXT, TEXT, frozenset({"int"})], "str", optional=1, constant=[1, 2],
          check=_check_extract_text)  # fmt: skip
@per_distinct
def _extract(text: pd.Series, pattern: str, group: float | None = None) -> pd.Series:
    """The part of the text the regular expression captures, or null when it does not match:
    extract(계약명, "\\\\[(.+?)\\\\]") gives 긴급 for "[긴급] 제설 용역". Without a group number,
    the first group (...) if the pattern has one, else the whole match. Fixed pattern, at most
    100 characters, no look-around, back-references, nested repeats or alternatives under a
    repeat."""
    compiled = _compiled(pattern)
    wanted = int(group) if group is not None else (1 if compiled.groups else 0)
    found = text.str.extract(f"({pattern})", expand=True)
    # The whole match is the added outer group 0; the pattern's own groups follow it.
    result = found[wanted].astype("str").mask(found[wanted].isna())
    result = result.mask(result.str.strip() == "")
    return result.set_axis(text.index)


def _joined(args: Sequence[pd.Series], sep: str) -> pd.Series:
    index = args[0].index
    joined: pd.Series | None = None
    for a in args:
        part = a.astype("str")
        present = part.notna() & (part.str.strip() != "")
        if joined is None:
            joined = part.where(present)
            continue
        both = joined.notna() & present
        joined = joined.where(~both, joined + sep + part).where(joined.notna(), part.where(present))
    assert joined is not None
    return joined.set_axis(index)


@register("concat", [TEXT], "str", variadic=True)
def _concat(*args: pd.Series) -> pd.Series:
    """The texts joined as they are, empty ones left out; null when all are empty:
    concat(연도, "-", 번호) gives 2025-17. To join with spaces use concat_ws(" ", ...)."""
    return _joined(args, "")


@register("concat_ws", [TEXT, TEXT], "str", constant=[0], variadic=True)
def _concat_ws(sep: str, *args: pd.Series) -> pd.Series:
    """The texts joined with the fixed separator between the non-empty ones; null when all are
    empty: concat_ws(" ", 시도, 시군구, 상세주소) gives "경기도 한빛시 중앙로 1"."""
    return _joined(args, str(sep))
