"""Built-in functions of the expression language: a registry of name -> :class:`Function`.

Adding a function takes a few lines::

    @register("quarter", [TEMPORAL], "int")
    def _quarter(x: pd.Series) -> pd.Series:
        \"\"\"Quarter of the year, 1-4.\"\"\"
        return x.dt.quarter.astype("float64")

The implementation receives one Series per argument, already in the canonical dtype of
:mod:`naebu.engine.expr.values` (numbers as float64, text as ``str`` with blanks as NA...), except for
arguments listed in ``constant``, which must be a literal or a parameter and arrive as Python
values. It must be vectorized and return a Series on the same index; a null input gives a null
result, and a function returning bool gives false for null (SQL-like, made boolean).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .kinds import ANY, NUMERIC, TEMPORAL, comparable, describe, unify
from .values import boolean, nulls

TIME_OF_DAY = frozenset({"datetime", "time"})
TEXT = frozenset({"str"})

#: A return type, or a function of the argument types that gives it (raising ValueError with a
#: message when the combination is wrong).
Returns = str | Callable[[Sequence[str]], str]


@dataclass(frozen=True)
class Function:
    """One built-in function: its signature, documentation and implementation."""

    name: str
    params: tuple[frozenset[str], ...]
    returns: Returns
    impl: Callable[..., pd.Series]
    doc: str
    optional: int = 0  # how many trailing parameters may be left out
    constant: frozenset[int] = frozenset()  # positions that must be fixed values
    #: Checks the fixed arguments at load time (a regular expression that does not compile):
    #: gets the argument values (None where not fixed), returns a message or None.
    check: Callable[[Sequence[Any]], str | None] | None = None
    #: The last parameter repeats: ``concat(text, ...)`` takes any number of arguments.
    variadic: bool = False
    #: Positions that take a list: a fixed one (``lists.NAME``, ``params.NAME``, ``[...]``) or
    #: every value of another dataset's column (``accounts.virtual_accounts``). The
    #: implementation receives the values as a sequence, not a Series.
    lists: frozenset[int] = frozenset()

    @property
    def min_args(self) -> int:
        """The fewest arguments a call may give."""
        return len(self.params) - self.optional

    @property
    def max_args(self) -> int | None:
        """The most arguments a call may give (None: any number, for a variadic function)."""
        return None if self.variadic else len(self.params)

    def param(self, i: int) -> frozenset[str]:
        """The types argument ``i`` (0-based) may have; a variadic function's last parameter
        stands for every argument after it."""
        return self.params[min(i, len(self.params) - 1)]

    def result_type(self, arg_types: Sequence[str]) -> str:
        """The type a call returns for these argument types (ValueError if they do not fit)."""
        return self.returns if isinstance(self.returns, str) else self.returns(arg_types)

    def signature(self) -> str:
        """``round(number, [number])`` for messages and documentation."""
        parts = [
            " or ".join(describe(t) for t in sorted(p)) if p != ANY else "any" for p in self.params
        ]
        for i in range(self.min_args, len(parts)):
            parts[i] = f"[{parts[i]}]"
        if self.variadic:
            parts.append("...")
        return f"{self.name}({', '.join(parts)})"


FUNCTIONS: dict[str, Function] = {}


def register(name: str, params: Iterable[frozenset[str]], returns: Returns, *, optional: int = 0,
             constant: Iterable[int] = (),
             check: Callable[[Sequence[Any]], str | None] | None = None,
             variadic: bool = False, lists: Iterable[int] = (),
             ) -> Callable[[Callable[..., pd.Series]], Callable[..., pd.Series]]:  # fmt: skip
    """Decorator adding a function to :data:`FUNCTIONS`; its docstring documents it.

    ``variadic``: the last parameter may be given any number of times (at least once unless
    it is optional); the implementation then receives one Series per argument (``*args``).
    ``lists``: positions taking a list (see :attr:`Function.lists`); their parameter types are
    list types (``frozenset({"list[str]"})``; an empty list fits every list type).
    """

    def decorate(impl: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
        if name in FUNCTIONS:
            raise ValueError(f"function {name!r} is registered twice")
        FUNCTIONS[name] = Function(name, tuple(params), returns, impl, inspect.getdoc(impl) or "",
                                   optional, frozenset(constant), check, variadic,
                                   frozenset(lists))  # fmt: skip
        return impl

    return decorate


#: Below this many rows a function is simply applied; above it, see :func:`per_distinct`.
_DISTINCT_MIN = 2_000


def per_distinct(impl: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
    """Run a one-column function once per distinct value and spread the results back.

    Administrative columns repeat: a year of card approvals names a few thousand merchants and
    categories, a million payments a few hundred departments. Text functions cost per value
    in Python or in Arrow; on the distinct values they cost per merchant instead of per row.
    Only for functions of one column (other arguments fixed) whose result for a value does
    not depend on the other rows. Null is one of the distinct values, so a function's own
    null handling is kept.
    """

    @functools.wraps(impl)
    def wrapper(x: pd.Series, *fixed: Any) -> pd.Series:
        if len(x) < _DISTINCT_MIN:
            return impl(x, *fixed)
        codes, uniques = pd.factorize(x, use_na_sentinel=False)
        if len(uniques) * 4 > len(x):
            return impl(x, *fixed)
        result = impl(pd.Series(uniques, dtype=x.dtype), *fixed)
        return result.iloc[codes].set_axis(x.index)

    return wrapper


def _floats(series: pd.Series) -> pd.Series:
    return series.astype("float64")


# -- date and time ------------------------------------------------------------------------------
def _seconds_of_day(x: pd.Series) -> pd.Series:
    if pd.api.types.is_timedelta64_dtype(x.dtype):
        return x.dt.total_seconds() % 86400
    return _floats(x.dt.hour * 3600 + x.dt.minute * 60 + x.dt.second)


_NS_PER_DAY = 86_400_000_000_000


def _time_part(x: pd.Series, unit_ns: int, modulo: int) -> pd.Series | None:
    """``(time of day) // unit % modulo`` in whole numbers, for a time or a plain (no time zone)
    date-time column: integer nanoseconds instead of pandas' float seconds or field accessors,
    several times faster. None for other dtypes (the caller falls back)."""
    kind = x.dtype.kind if isinstance(x.dtype, np.dtype) else None
    if kind not in ("m", "M"):
        return None
    values = x.to_numpy(dtype="m8[ns]" if kind == "m" else "M8[ns]")
    ns = values.view(np.int64)
    missing = np.isnat(values)
    if kind == "M" or not len(ns) or ns.min() < 0 or ns.max() >= _NS_PER_DAY:
        ns = ns % _NS_PER_DAY  # NaT is the smallest int64: negative, so it takes this path
    parts = ns // unit_ns
    if unit_ns * modulo < _NS_PER_DAY:
        parts %= modulo
    parts = parts.astype("float64")
    parts[missing] = np.nan
    return pd.Series(parts, index=x.index)


@register("hour", [TIME_OF_DAY], "int")
def _hour(x: pd.Series) -> pd.Series:
    """Hour of the day, 0-23."""
    fast = _time_part(x, 3_600_000_000_000, 24)
    return _seconds_of_day(x) // 3600 if fast is None else fast


@register("minute", [TIME_OF_DAY], "int")
def _minute(x: pd.Series) -> pd.Series:
    """Minute of the hour, 0-59."""
    fast = _time_part(x, 60_000_000_000, 60)
    return _seconds_of_day(x) // 60 % 60 if fast is None else fast


@register("weekday", [TEMPORAL], "int")
def _weekday(x: pd.Series) -> pd.Series:
    """Day of the week: Monday = 0 ... Saturday = 5, Sunday = 6."""
    return _floats(x.dt.day_of_week)


@register("day", [TEMPORAL], "int")
def _day(x: pd.Series) -> pd.Series:
    """Day of the month, 1-31."""
    return _floats(x.dt.day)


@register("month", [TEMPORAL], "int")
def _month(x: pd.Series) -> pd.Series:
    """Month, 1-12."""
    return _floats(x.dt.month)


@register("year", [TEMPORAL], "int")
def _year(x: pd.Series) -> pd.Series:
    """Year, e.g. 2024."""
    return _floats(x.dt.year)


@register("date", [TEMPORAL], "date")
def _date(x: pd.Series) -> pd.Series:
    """The calendar day of a date and time (its time part dropped)."""
    return x.dt.normalize()


@register("days_between", [TEMPORAL, TEMPORAL], "int")
def _days_between(a: pd.Series, b: pd.Series) -> pd.Series:
    """Calendar days from a to b (b - a; negative when b is earlier). Times of day are ignored."""
    return _floats((b.dt.normalize() - a.dt.normalize()).dt.days)


# -- nulls --------------------------------------------------------------------------------------
@register("is_null", [ANY], "bool")
def _is_null(x: pd.Series) -> pd.Series:
    """Whether the value is missing; empty or whitespace-only text counts as missing."""
    return boolean(nulls(x), x.index)


@register("not_null", [ANY], "bool")
def _not_null(x: pd.Series) -> pd.Series:
    """Whether the value is present (the opposite of is_null)."""
    return boolean(~nulls(x), x.index)


def _coalesce_type(types: Sequence[str]) -> str:
    a, b = types
    if a == "null" or b == "null":
        return b if a == "null" else a
    if not comparable(a, b):
        raise ValueError(
            f"coalesce() needs two values of the same type, got {describe(a)} and {describe(b)}"
        )
    return unify(a, b)


@register("coalesce", [ANY, ANY], _coalesce_type)
def _coalesce(a: pd.Series, b: pd.Series) -> pd.Series:
    """The first value unless it is null, else the second: coalesce(attendees, 1)."""
    if a.dtype != b.dtype and pd.api.types.is_datetime64_any_dtype(a.dtype):
        b = b.astype(a.dtype)
    return a.mask(nulls(a), b)


# -- text ---------------------------------------------------------------------------------------
def _text_test(a: pd.Series, b: pd.Series, test: Callable[..., np.ndarray]) -> pd.Series:
    missing = nulls(a) | nulls(b)
    left = a.fillna("").to_numpy(dtype=str)
    right = b.fillna("").to_numpy(dtype=str)
    return boolean(test(left, right) & ~missing, a.index)


@register("contains", [TEXT, TEXT], "bool")
def _contains(text: pd.Series, part: pd.Series) -> pd.Series:
    """Whether the text contains the part (case-sensitive, no patterns): contains(purpose, "회식")."""
    return _text_test(text, part, lambda a, b: np.strings.find(a, b) >= 0)


@register("startswith", [TEXT, TEXT], "bool")
def _startswith(text: pd.Series, prefix: pd.Series) -> pd.Series:
    """Whether the text starts with the prefix."""
    return _text_test(text, prefix, np.strings.startswith)


@register("endswith", [TEXT, TEXT], "bool")
def _endswith(text: pd.Series, suffix: pd.Series) -> pd.Series:
    """Whether the text ends with the suffix."""
    return _text_test(text, suffix, np.strings.endswith)


@register("lower", [TEXT], "str")
@per_distinct
def _lower(x: pd.Series) -> pd.Series:
    """The text in lower case."""
    return x.str.lower()


@register("upper", [TEXT], "str")
@per_distinct
def _upper(x: pd.Series) -> pd.Series:
    """The text in upper case."""
    return x.str.upper()


@register("trim", [TEXT], "str")
@per_distinct
def _trim(x: pd.Series) -> pd.Series:
    """The text without leading and trailing whitespace."""
    return x.str.strip()


@register("len", [TEXT], "int")
@per_distinct
def _len(x: pd.Series) -> pd.Series:
    """Number of characters of the text (a Hangul syllable counts as one)."""
    return _floats(x.str.len())


# -- numbers ------------------------------------------------------------------------------------
@register("abs", [NUMERIC], lambda types: types[0])
def _abs(x: pd.Series) -> pd.Series:
    """The absolute value."""
    return x.abs()


@register("round", [NUMERIC, frozenset({"int"})], "number", optional=1, constant=[1])
def _round(x: pd.Series, digits: float = 0) -> pd.Series:
    """Round to ``digits`` decimals (default 0), halves away from zero: round(2.5) is 3.

    ``digits`` must be a fixed whole number; a negative one rounds to tens, hundreds...
    """
    # Scale by an exact power of ten: 10.0 ** -5 is inexact and would turn 50_000 into 99_999.99.
    factor = 10.0 ** abs(int(digits))
    if digits >= 0:
        return np.sign(x) * np.floor(x.abs() * factor + 0.5) / factor
    return np.sign(x) * np.floor(x.abs() / factor + 0.5) * factor


# The functions below were added for the rule types of issue 3, and the attendee count of the
# per-person rule; importing the modules registers them (kept apart so this module stays small).
# Functions that take a list (a reference list, or every value of another dataset's column).
from . import functions_attendees as _functions_attendees  # noqa: E402, F401
from . import functions_lists as _functions_lists  # noqa: E402, F401
from . import functions_more as _functions_more  # noqa: E402, F401

# Row-wise functions over several source columns, for derived columns of a source mapping.
from . import functions_rowwise as _functions_rowwise  # noqa: E402, F401

# Working days, holidays and statutory deadlines, on the shared calendar of naebu.core.workdays.
from . import functions_workdays as _functions_workdays  # noqa: E402, F401
