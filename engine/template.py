"""Message templates of rules: ``"매각 {sale_id}: 매각가 {sale_price:,}원"``.

A small, closed format language instead of ``str.format``: a field names a column or
``params.NAME`` and nothing else, so the classic sandbox escape ``{x.__class__}`` is a located
error at load time rather than a leak at run time. Format specs are limited to ``,`` (thousands
separators), ``.Nf`` and ``,.Nf`` (N decimals), ``d`` (whole number) and none. ``{{`` and ``}}``
write a literal brace.

Values are written as officials read them: ``-`` for a missing value, whole numbers without
``.0``, dates ``YYYY-MM-DD``, times ``HH:MM``, datetimes ``YYYY-MM-DD HH:MM``, true/false as
예/아니오. The same rendering serves pandas records and JSON-safe evidence dicts (where dates
are ISO text), see :func:`format_value` and :func:`render_evidence`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from naebu.core.problems import did_you_mean
from naebu.engine.expr import ExprError, ExprProblem
from naebu.engine.expr.kinds import NUMERIC, describe, value_type
from naebu.engine.params_dated import DatedParam

_NAME = re.compile(r"[^\W\d]\w*")  # letters (Hangul too), digits and _, not starting with a digit
_SPEC = re.compile(r",|,?\.\d{1,2}f|d|")
_SPEC_HINT = "allowed formats: {x:,} {x:.2f} {x:,.2f} {x:d} or none"


@dataclass(frozen=True)
class Field:
    """One ``{...}`` of a template: what it names, its type and format spec."""

    name: str  # column name, or "params.NAME"
    type: str
    spec: str
    offset: int
    param_value: Any = None  # bound at compile time for params.NAME

    @property
    def is_param(self) -> bool:
        """Whether the field names a rule parameter rather than a column."""
        return self.name.startswith("params.")


class MessageTemplate:
    """A compiled message template; :meth:`render` fills it from one record."""

    def __init__(self, text: str, parts: list[str | Field]):
        self.text = text
        self.parts = tuple(parts)
        self.fields = tuple(p for p in parts if isinstance(p, Field))
        #: Columns the message reads, so callers can keep them as evidence.
        self.columns_used = frozenset(f.name for f in self.fields if not f.is_param)

    def render(self, record: Mapping[str, Any]) -> str:
        """The message for ``record`` (a row as a dict, or a JSON-safe evidence dict).

        Never raises: a column missing from ``record`` renders as ``-``.
        """
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = record.get(part.name)
                if isinstance(part.param_value, DatedParam):  # one value per record
                    dated = part.param_value
                    if value is None and record.get(dated.date) is not None:
                        value = dated.values_at([record[dated.date]]).iloc[0]
                elif part.is_param:
                    value = part.param_value
                out.append(format_value(value, part.type, part.spec))
        return "".join(out)

    def render_rows(self, rows: pd.DataFrame) -> list[str]:
        """:meth:`render` of every row of ``rows``, one column at a time (same text)."""
        n = len(rows)
        columns: list[list[str]] = []
        for part in self.parts:
            if isinstance(part, str):
                columns.append([part] * n)
            elif part.name in rows.columns:  # a column, or a dated parameter's values
                columns.append(format_column(rows[part.name], part.type, part.spec))
            elif isinstance(part.param_value, DatedParam):
                dated = part.param_value
                values = (dated.values_at(rows[dated.date], rows.index) if dated.date in rows.columns
                          else pd.Series([None] * n, index=rows.index, dtype=object))  # fmt: skip
                columns.append(format_column(values, part.type, part.spec))
            elif part.is_param:
                columns.append([format_value(part.param_value, part.type, part.spec)] * n)
            else:
                columns.append(["-"] * n)
        return ["".join(texts) for texts in zip(*columns, strict=True)] if columns else [""] * n

    def __repr__(self) -> str:
        return f"MessageTemplate({self.text!r})"


def compile_template(
    text: str,
    columns: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> MessageTemplate:
    """Check and compile ``text``; raise ExprError listing every problem (with offsets).

    ``aliases`` allows ``{alias.column}`` fields (a joined dataset's column, or a value the
    rule type computes such as ``{group.count}``); the record then carries the value under the
    key ``"alias.column"``.
    """
    params = params or {}
    aliases = aliases or {}
    parts: list[str | Field] = []
    problems: list[ExprProblem] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{" and text.startswith("{{", i) or ch == "}" and text.startswith("}}", i):
            literal.append(ch)
            i += 2
        elif ch == "}":
            problems.append(
                ExprProblem("single '}' in the message", "write '}}' for a literal brace", i)
            )
            i += 1
        elif ch == "{":
            end = text.find("}", i + 1)
            nested = text.find("{", i + 1)
            if end < 0:
                problems.append(
                    ExprProblem(
                        "'{' is never closed",
                        "close the field with '}', or write '{{' for a brace",
                        i,
                    )
                )
                break
            if 0 <= nested < end:
                problems.append(
                    ExprProblem(
                        "'{' inside a field",
                        "fields cannot be nested; write '{{' for a brace",
                        nested,
                    )
                )
                after = text.find("}", end + 1)  # skip the rest of the outer field too
                i = end + 1 if after < 0 else after + 1
                continue
            field = _field(text[i + 1 : end], i + 1, columns, params, problems, aliases)
            if field is not None:
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(field)
            i = end + 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    if problems:
        raise ExprError(problems)
    return MessageTemplate(text, parts)


def _field(body: str, offset: int, columns: Mapping[str, str], params: Mapping[str, Any],
           problems: list[ExprProblem],
           aliases: Mapping[str, Mapping[str, str]] | None = None) -> Field | None:  # fmt: skip
    """Check the inside of one ``{...}``; ``offset`` is where ``body`` starts in the text."""
    only = "a field names a column or params.NAME"

    def fail(message: str, hint: str | None, at: int) -> Field | None:
        problems.append(ExprProblem(message, hint, at))
        return None

    name, _, spec = body.partition(":")
    at = offset + len(name) - len(name.lstrip())
    name = name.strip()
    spec_at = offset + len(body) - len(spec)
    if not name:
        return fail(
            "empty field '{}'",
            "name a column, e.g. {amount}, or write '{{}}' for braces",
            offset - 1,
        )
    for bad, message in (("!", "conversions like '!r' are not allowed"), ("[", "indexing with [...] is not allowed"),
                         ("(", "calls are not allowed in a message")):  # fmt: skip
        if bad in name:
            return fail(f"{message}: {{{name}}}", only, at + name.index(bad))
    base, dot, attr = name.partition(".")
    aliases = aliases or {}
    if dot and base in aliases and base != "params" and "." not in attr and "__" not in attr:
        if not _NAME.fullmatch(attr) or attr not in aliases[base]:
            hint = did_you_mean(attr, aliases[base]) or f"{base}: " + ", ".join(aliases[base])
            return fail(f"unknown field {name!r}", hint, at + len(base) + 1)
        type_ = aliases[base][attr]
        if not _SPEC.fullmatch(spec):
            return fail(f"format ':{spec}' is not allowed", _SPEC_HINT, spec_at)
        if spec and type_ not in NUMERIC:
            return fail(f"format ':{spec}' needs a number, but {name!r} is {describe(type_)}",
                        "drop the format", spec_at)  # fmt: skip
        return Field(name, type_, spec, at)
    if dot and (base != "params" or "." in attr):
        # {x.__class__} is the classic str.format escape; point at the dot that starts it.
        where = at + len(base) if base != "params" else at + len(base) + 1 + attr.index(".")
        return fail(f"attribute access is not allowed: {{{name}}}", only, where)
    if "__" in name:
        return fail(f"names with '__' are not allowed: {{{name}}}", only, at + name.index("__"))
    if not _NAME.fullmatch(attr if dot else base):
        return fail(f"invalid field name {{{name}}}", only, at)
    if dot:
        if attr not in params:
            hint = (
                did_you_mean(attr, params)
                or f"defined parameters: {', '.join(sorted(params)) or 'none'}"
            )
            return fail(f"unknown parameter 'params.{attr}'", hint, at + len("params."))
        value = params[attr]
        type_ = value.type if isinstance(value, DatedParam) else value_type(value) or "str"
    else:
        if name not in columns:
            return fail(f"unknown column {name!r}", did_you_mean(name, columns), at)
        type_, value = columns[name], None
    if not _SPEC.fullmatch(spec):
        return fail(f"format ':{spec}' is not allowed", _SPEC_HINT, spec_at)
    if spec and type_ not in NUMERIC:
        return fail(
            f"format ':{spec}' needs a number, but {name!r} is {describe(type_)}",
            "drop the format",
            spec_at,
        )
    return Field(name, type_, spec, at, value)


# -- rendering values ---------------------------------------------------------------------------
def is_missing(value: Any) -> bool:
    """None, NaN, NaT, pandas NA, or blank text."""
    # Plain type tests only: an unknown object is never probed (no getattr, no pd.isna on it).
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    if isinstance(value, str):
        return not value.strip()
    return False


def format_value(value: Any, type_: str | None = None, spec: str = "") -> str:
    """One value as officials read it; ``type_`` is its column type when known.

    Never raises: a value that does not fit its type is written as plain text.
    """
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v, None, spec) for v in value) or "-"
    if is_missing(value):
        return "-"
    if type_ is None:
        type_ = _infer_type(value)
    try:
        if type_ in NUMERIC:
            return _number(float(value), spec)
        if type_ in ("date", "datetime"):
            ts = pd.Timestamp(value)
            return ts.strftime("%Y-%m-%d" if type_ == "date" else "%Y-%m-%d %H:%M")
        if type_ == "time":
            return _time(value)
        if type_ == "bool":
            return "예" if _bool(value) else "아니오"
    except (TypeError, ValueError, OverflowError):
        pass
    return str(value)


def format_column(series: pd.Series, type_: str, spec: str = "") -> list[str]:
    """:func:`format_value` of every value of ``series``, with fast paths for the usual dtypes."""
    dtype = series.dtype
    if type_ in NUMERIC and dtype == np.float64:
        return ["-" if v != v else _number(v, spec) for v in series.to_numpy().tolist()]
    if type_ == "str" and (isinstance(dtype, pd.StringDtype) or dtype == np.dtype(object)):
        return [
            v if type(v) is str and v and not v.isspace() else format_value(v, type_, spec)
            for v in series.tolist()
        ]
    if type_ in ("date", "datetime") and isinstance(dtype, np.dtype) and dtype.kind == "M":
        from naebu.engine.evidence import iso_texts  # evidence imports this module

        texts = iso_texts(series.to_numpy(), "D" if type_ == "date" else "m")
        if texts is not None:
            return ["-" if t is None else t for t in texts]
    if type_ == "time" and isinstance(dtype, np.dtype) and dtype.kind == "m":
        clocks = clock_texts(series.to_numpy())
        if clocks is not None:
            return ["-" if c is None else c for c in clocks]
    return [format_value(v, type_, spec) for v in series]


def clock_texts(values: np.ndarray) -> list[str | None] | None:
    """numpy timedeltas as ``HH:MM`` (None for NaT), as :func:`format_value` writes a time:
    whole seconds of ``Timedelta.total_seconds()``, truncated. None for an unusual unit."""
    per_second = _PER_SECOND.get(np.datetime_data(values.dtype)[0])
    if per_second is None:
        return None
    missing = np.isnat(values).tolist()
    return [
        None if m else _clock(int(v / per_second))
        for v, m in zip(values.view(np.int64).tolist(), missing, strict=True)
    ]


#: Ticks per second of numpy timedelta units (Timedelta.total_seconds() divides by these).
_PER_SECOND = {"ns": 1_000_000_000, "us": 1_000_000, "ms": 1_000, "s": 1}


def render_evidence(
    evidence: Mapping[str, Any], columns: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every value of an evidence dict formatted as in messages (types from ``columns``)."""
    columns = columns or {}
    return {key: format_value(value, columns.get(key)) for key, value in evidence.items()}


def _infer_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | np.number):
        return "number"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return "date" if pd.Timestamp(value) == pd.Timestamp(value).normalize() else "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, pd.Timedelta | dt.timedelta | dt.time):
        return "time"
    return "str"


def _number(value: float, spec: str) -> str:
    if math.isinf(value):
        return "-"
    if spec == "d" or (not spec.endswith("f") and value.is_integer()):
        whole = round(value)  # 90,000,000 rather than 90,000,000.0
        return f"{whole:,}" if spec == "," else str(whole)
    return format(value, spec) if spec else repr(value)


def _time(value: Any) -> str:
    if isinstance(value, dt.time | dt.datetime | pd.Timestamp):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", value.strip()):
        hours, minutes = value.strip().split(":")[:2]
        return f"{int(hours):02d}:{minutes}"
    return _clock(int(pd.Timedelta(value).total_seconds()))


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "y", "yes", "예")
    return bool(value)
