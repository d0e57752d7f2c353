"""Map source rows onto a canonical dataset and type them; quarantine what cannot be typed.

:func:`coerce` is shared by every connector. It works on whole columns (pandas string methods,
regular expressions, ``to_numeric``/``to_datetime``); Python runs per row only to word the
reasons of the rows that failed.

Mapping (``columns``: canonical column -> source column):

- A value names one source column. Header names are matched exactly, else ignoring case,
  surrounding spaces and full-width forms.
- A list of source columns joins their parts into one value, for sources that split a date:
  ``approved_date = ["year", "month", "day"]``. Each part is stripped and numeric text such as
  ``2018.0`` becomes ``2018``; parts are joined with ``-`` for a date, ``:`` for a time and a
  space otherwise (``["paid_date", "paid_time"]`` for a datetime). All parts empty is a missing
  value; some parts empty is an invalid one.
- A canonical column with no mapping takes the source column of the same name if there is
  one, and is all-null otherwise (so a required one makes every row "missing"; connectors
  refuse such a mapping up front with :func:`resolve_columns`). A mapped source column the
  source does not have is a :class:`~naebu.connectors.base.SourceError`.

Bytes (a BLOB column, text a database holds in another encoding) are decoded as UTF-8, else
as CP949 (the encoding of the city's legacy systems); bytes that are neither quarantine their
row (``department: b'\\xff\\xfe' is neither UTF-8 nor CP949 text``).

Types (``str`` text is NFKC-normalised, stripped, and empty text is a missing value):

- ``number``: ``1,234,000``, ``12000원``, ``₩5,000``, ``-5000``, ``(5,000)`` (negative),
  ``12000.0``, full-width digits. A number that is not finite (``1e400``, a database's
  infinity) is refused: ``amount: '1e400' is not a finite number``.
- ``int``: the same, when the value is whole.
- ``date``: ``2025-03-01``, ``2025.03.01``, ``2025/3/1``, ``20250301``, ``2025년 3월 1일``, or a
  date and time (the date part is taken); impossible dates (``2025-02-30``) are refused. A
  spreadsheet serial day number between 20000 and 80000 (``45658`` -> 2025-01-01) is read as
  Excel counts days, for sheets whose date format was lost.
- ``datetime``: a date as above followed by ``HH:MM[:SS[.fff]]`` (or ``HHMMSS`` after an 8-digit
  date), optionally with ``Z`` or ``+09:00``; an offset is converted to Seoul time (naive).
- ``time``: ``HH:MM``, ``HH:MM:SS``, ``HHMM``, ``HHMMSS`` (a leading date is ignored).
- ``bool``: Y/N, yes/no, 1/0, true/false, 예/아니오.
- ``formats`` gives a strptime format for a date, datetime or time column instead.

A row with bad values goes to quarantine with every problem named, ``"; "`` joined:
``amount: '미정' is not a number; approved_date: '2025-02-30' is not a valid date``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from naebu.connectors.base import (
    ColumnSpec,
    QuarantinedRow,
    SourceError,
    UnmappedValues,
    column_parts,
)
from naebu.connectors.temporal import _bool, _date, _datetime, _floats, _time, as_ns
from naebu.connectors.text_values import decode_columns, normalised_text
from naebu.connectors.vocabulary import map_values
from naebu.core.datasets import Column, Dataset
from naebu.core.jsonsafe import json_safe
from naebu.core.problems import did_you_mean

_WHY = {
    "number": "is not a number",
    "int": "is not a whole number",
    "date": "is not a valid date",
    "datetime": "is not a valid date and time",
    "time": "is not a valid time of day",
    "bool": "is not a yes/no value",
}
_JOIN = {"date": "-", "time": ":"}
_NOT_TEXT = "is neither UTF-8 nor CP949 text"


class Coerced(NamedTuple):
    """A chunk mapped and typed: good rows, quarantined rows, unmapped values per column."""

    frame: pd.DataFrame
    quarantined: list[QuarantinedRow]
    unmapped: dict[str, UnmappedValues]


def coerce(
    raw: pd.DataFrame,
    dataset: Dataset,
    columns: Mapping[str, ColumnSpec],
    formats: Mapping[str, str],
    locations: Sequence[str],
    *,
    source: str = "source",
    defaults: Mapping[str, Sequence[Any]] | None = None,
    also_required: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
    """Map ``raw`` (source columns) onto ``dataset`` and type it.

    Returns the typed frame (every canonical column in declaration order, good rows only, a
    fresh 0..n-1 index) and the quarantined rows, located by ``locations`` (one per raw row).
    ``defaults`` gives values for canonical columns the source does not carry (the files
    connector's ``file:line`` keys). ``source`` names the source in a :class:`SourceError`.
    Connectors use :func:`naebu.connectors.mapping.map_source`, which adds a source's constants,
    value maps and derived columns.
    """
    result = coerce_mapped(
        raw,
        dataset,
        columns,
        formats,
        locations,
        source=source,
        defaults=defaults,
        also_required=also_required,
    )
    return result.frame, result.quarantined


def coerce_mapped(
    raw: pd.DataFrame,
    dataset: Dataset,
    columns: Mapping[str, ColumnSpec],
    formats: Mapping[str, str],
    locations: Sequence[str],
    *,
    source: str = "source",
    defaults: Mapping[str, Sequence[Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    vocabulary: bool = False,
    also_required: Sequence[str] = (),
) -> Coerced:
    """:func:`coerce` with value maps (``values``: canonical column -> {source text: code}),
    and with ``vocabulary`` the unmapped values of closed-vocabulary columns made empty and
    counted (:mod:`naebu.connectors.vocabulary`). ``labels`` names where a column given by
    ``defaults`` came from in quarantine reasons (``attendees (derived)``).
    ``also_required``: columns a row must have besides the dataset's required ones (the
    ``merge_on`` columns its key is built from, :mod:`naebu.connectors.merge`).
    """
    defaults = defaults or {}
    labels = labels or {}
    value_maps = values or {}
    unmapped: dict[str, UnmappedValues] = {}
    n = len(raw)
    if len(locations) != n:
        raise ValueError(f"{len(locations)} locations for {n} rows")
    mapping = resolve_columns(
        [str(c) for c in raw.columns], dataset, columns, defaults, source, require=False
    )
    reasons: dict[int, list[str]] = {}
    out: dict[str, pd.Series] = {}
    # Bytes (a BLOB/VARBINARY column, or SQLite text that is not UTF-8) become text here, for
    # every connector alike; the values that are not text in any encoding are bad values.
    raw, undecodable = decode_columns(raw, {p for ps in mapping.values() for p in ps})
    for col in dataset.columns:
        if col.name in defaults:
            given = defaults[col.name]
            column = (
                given.reset_index(drop=True)
                if isinstance(given, pd.Series)
                else pd.Series(list(given), dtype=object)
            )
            parts = [labels.get(col.name, col.name)]
        elif col.name in mapping:
            parts = mapping[col.name]
            column = _source_values(raw, parts, col.type)
        else:
            out[col.name] = null_column(col.type, n)
            if col.required or col.name == dataset.key or col.name in also_required:
                for row in range(n):
                    reasons.setdefault(row, []).append(f"{col.name}: missing")
            continue
        fmt = formats.get(col.name)
        typed = None
        if col.name in value_maps or (vocabulary and col.closed):
            text = normalised_text(column)
            column, missed = map_values(text, col, value_maps.get(col.name), vocabulary)
            if missed is not None:
                unmapped[col.name] = missed
            if column is text and col.type == "str" and fmt is None:
                # Nothing mapped: already the text _convert would make (_text again is the
                # same text, at the cost of a second pass over every row).
                typed = _convert_typed(column, col.type)
                typed = column if typed is None else typed
        if typed is None:
            typed, bad = _convert(column, col, fmt)
        else:
            bad = np.zeros(n, dtype=bool)
        required = col.required or col.name == dataset.key or col.name in also_required
        label = col.name if len(parts) == 1 else f"{col.name} ({'/'.join(parts)})"
        if col.name in labels:
            label = labels[col.name]
        garbled = np.zeros(n, dtype=bool)
        for part in parts if col.name not in defaults else ():
            if part in undecodable:
                for row, value in undecodable[part].items():
                    garbled[row] = True
                    reasons.setdefault(row, []).append(f"{label}: {value!r} {_NOT_TEXT}")
        if garbled.any():
            typed = typed.mask(garbled)
            bad = bad & ~garbled
        missing = typed.isna().to_numpy() & ~bad & ~garbled
        if not required:
            missing[:] = False
        if bad.any():
            why = _WHY[col.type]
            if col.name in formats:
                why += f" (format {formats[col.name]})"
            shown = column.to_numpy()
            for i in np.flatnonzero(bad):
                reasons.setdefault(int(i), []).append(
                    f"{label}: {_show(shown[i])} {_why_not(shown[i], col.type, why)}"
                )
        for i in np.flatnonzero(missing):
            reasons.setdefault(int(i), []).append(f"{col.name}: missing")
        out[col.name] = typed.reset_index(drop=True)

    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    if not reasons:
        return Coerced(frame, [], unmapped)
    bad_rows = sorted(reasons)
    keep = np.ones(n, dtype=bool)
    keep[bad_rows] = False
    records = raw.iloc[bad_rows].to_dict("records")
    for name, garbled_values in undecodable.items():
        for rec, at in zip(records, bad_rows, strict=True):
            if at in garbled_values:
                rec[name] = repr(garbled_values[at])  # escaped, as the reason shows it
    quarantined = [
        QuarantinedRow(
            location=locations[i],
            raw={str(k): json_safe(v) for k, v in rec.items()},
            reason="; ".join(reasons[i]),
        )
        for i, rec in zip(bad_rows, records, strict=True)
    ]
    return Coerced(frame[keep].reset_index(drop=True), quarantined, unmapped)


def resolve_columns(
    available: Sequence[str],
    dataset: Dataset,
    columns: Mapping[str, ColumnSpec],
    defaults: Mapping[str, Any],
    source: str,
    *,
    require: bool = True,
) -> dict[str, list[str]]:
    """Canonical column -> the source column(s) it is read from.

    SourceError when a mapped source column is absent, and (``require``) when a required
    column has no source column at all: a configuration mistake connectors report once,
    instead of quarantining every row as "missing". coerce() itself does not require it.
    """
    by_norm: dict[str, list[str]] = {}
    for name in available:
        by_norm.setdefault(_norm_name(name), []).append(name)

    def find(part: str) -> str | None:
        if part in available:
            return part
        matches = by_norm.get(_norm_name(part), [])
        return matches[0] if len(matches) == 1 else None

    mapping: dict[str, list[str]] = {}
    for canon, spec in columns.items():
        if canon in defaults:
            continue
        found = []
        for part in column_parts(spec):
            hit = find(part)
            if hit is None:
                close = did_you_mean(part, available)
                raise SourceError(
                    source,
                    f"column {part!r} (mapped to {canon}) is not in the source",
                    close or "source columns: " + ", ".join(available[:20]),
                )
            found.append(hit)
        mapping[canon] = found
    for col in dataset.columns:
        if col.name not in mapping and col.name not in defaults and col.name in available:
            mapping[col.name] = [col.name]
    for name in dataset.required_columns if require else ():
        if name not in mapping and name not in defaults:
            raise SourceError(
                source,
                f"required column {name} of dataset {dataset.name} is not mapped",
                f'add columns.{name} = "<source column>"',
            )
    return mapping


def null_column(type_: str, n: int) -> pd.Series:
    """An all-null column of ``n`` rows with the dtype of canonical type ``type_``."""
    dtype = {
        "str": "string",
        "int": "Int64",
        "number": "float64",
        "date": "datetime64[ns]",
        "datetime": "datetime64[ns]",
        "time": "timedelta64[ns]",
        "bool": "boolean",
    }[type_]
    return pd.Series([None] * n, dtype=dtype)


def empty_frame(dataset: Dataset) -> pd.DataFrame:
    """A zero-row frame with every canonical column of ``dataset`` and its dtype."""
    return pd.DataFrame({c.name: null_column(c.type, 0) for c in dataset.columns})


def reads_as(value: Any, column: Column) -> bool:
    """Whether ``value`` (a constant of the config) reads as a value of ``column``'s type."""
    typed, bad = _convert(pd.Series([value], dtype=object), column, None)
    return not bad[0] and bool(typed.notna().iloc[0])


def parse_numbers(values: pd.Series) -> pd.Series:
    """Values read as a ``number`` column reads them (float64, NaN when not a number); for the
    expression language's ``to_number`` and ``mean_present``."""
    return _parse(normalised_text(values.reset_index(drop=True)), "number")


def parse_dates(values: pd.Series) -> pd.Series:
    """Values read as a ``date`` column reads them (datetime64, NaT when not a date)."""
    return _parse(normalised_text(values.reset_index(drop=True)), "date")


# Source values and text ------------------------------------------------------------------


def _norm_name(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _source_values(raw: pd.DataFrame, parts: list[str], type_: str) -> pd.Series:
    """The source column, or the parts of a multi-column mapping joined as text."""
    if len(parts) == 1:
        return raw[parts[0]].reset_index(drop=True)
    texts = []
    for part in parts:
        t = normalised_text(raw[part].reset_index(drop=True))
        # Spreadsheets export whole numbers as floats: 2018.0 -> 2018.
        nums = _floats(pd.to_numeric(t, errors="coerce"))
        whole = np.isfinite(nums) & (np.mod(nums, 1) == 0) & (np.abs(nums) < 2**53)
        if whole.any():
            t = t.copy()
            t[whole] = nums[whole].astype(np.int64).astype(str)
        texts.append(t)
    all_missing = np.logical_and.reduce([t.isna().to_numpy() for t in texts])
    joined = texts[0].fillna("")
    for t in texts[1:]:
        joined = joined + _JOIN.get(type_, " ") + t.fillna("")
    return joined.mask(all_missing)


def _why_not(value: Any, type_: str, why: str) -> str:
    """``why`` a bad value is not of ``type_``; for a number too large for a float (``1e400``)
    or an infinity, that it is not finite."""
    if type_ not in ("number", "int"):
        return why
    try:
        number = float(str(value).strip().replace(",", ""))
    except ValueError:
        return why
    return why if math.isfinite(number) else "is not a finite number"


def _show(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "''"
    return repr(str(value).strip())


# Conversion --------------------------------------------------------------------------------


def _convert(values: pd.Series, col: Column, fmt: str | None) -> tuple[pd.Series, np.ndarray]:
    """(typed values, bad mask) of one column; bad means present but not convertible."""
    typed = _convert_typed(values, col.type) if fmt is None else None
    if typed is not None:
        if col.type == "number":
            # A database float or decimal too large for a float (1e400) is infinity here.
            infinite = np.isinf(typed.to_numpy(dtype="float64", na_value=np.nan))
            if infinite.any():
                return typed.mask(infinite), infinite
        return typed, np.zeros(len(values), dtype=bool)
    text = normalised_text(values)
    if col.type == "str":
        return text, np.zeros(len(values), dtype=bool)
    if fmt is not None and col.type in ("date", "datetime", "time"):
        parsed = as_ns(pd.to_datetime(text, format=fmt, errors="coerce"))
        if col.type == "date":
            result: pd.Series = parsed.dt.normalize()
        elif col.type == "time":
            result = parsed - parsed.dt.normalize()
        else:
            result = parsed
    else:
        result = _parse(text, col.type)
    bad = text.notna().to_numpy() & result.isna().to_numpy()
    return result, bad


def _convert_typed(values: pd.Series, type_: str) -> pd.Series | None:
    """Values already of a usable type (database columns), converted without text; else None."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "empty":
        return null_column(type_, len(values))
    if type_ == "number" and kind in ("integer", "floating", "mixed-integer-float", "decimal"):
        return pd.Series(pd.to_numeric(values).astype("float64"))
    if type_ == "int" and kind == "integer":
        return values.astype("Int64")
    if type_ in ("date", "datetime") and kind in ("datetime", "datetime64", "date"):
        parsed = pd.to_datetime(values, errors="coerce", utc=_tz_aware(values))
        if parsed.dt.tz is not None:
            parsed = parsed.dt.tz_convert("Asia/Seoul").dt.tz_localize(None)
        parsed = as_ns(parsed)
        return parsed.dt.normalize() if type_ == "date" else parsed
    if type_ == "time" and kind in ("timedelta", "timedelta64"):
        return pd.to_timedelta(values).astype("timedelta64[ns]")
    if type_ == "bool" and kind == "boolean":
        return values.astype("boolean")
    return None


def _tz_aware(values: pd.Series) -> bool:
    first = values.dropna()
    if first.empty:
        return False
    v = first.iloc[0]
    return getattr(v, "tzinfo", None) is not None


def _parse(text: pd.Series, type_: str) -> pd.Series:
    """Parse ``text`` as ``type_``: the usual layout in one vectorised call, the rest by
    the general parser (regular expressions), which then runs on few values or none."""
    fast = _FAST.get(type_)
    if fast is None:
        return _PARSERS[type_](text)
    result = fast(text)
    rest = (text.notna() & result.isna()).to_numpy()
    if rest.any():
        result = result.copy()
        result[rest] = _PARSERS[type_](text[rest]).to_numpy()
    return result


def _fast_number(text: pd.Series) -> pd.Series:
    arr = _floats(pd.to_numeric(text.to_numpy(dtype=object), errors="coerce"))
    missed = np.isnan(arr)
    if missed.any():
        # Amounts with thousands separators ("56,300", as card companies write them): what
        # _number makes of them (the commas dropped, then to_numeric), without its regular
        # expressions for each value. Anything else still goes to _number.
        grouped = missed & text.str.fullmatch(_GROUPED).fillna(False).to_numpy(dtype=bool)
        if grouped.any():
            plain = text[grouped].str.replace(",", "", regex=False)
            arr[grouped] = _floats(pd.to_numeric(plain, errors="coerce"))
    arr[~np.isfinite(arr)] = np.nan
    return pd.Series(arr, dtype="float64")


#: A number grouped by thousands, in ASCII digits: the common form _fast_number reads itself.
_GROUPED = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"


def _fast_date(text: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(text.to_numpy(dtype=object), format="%Y-%m-%d", errors="coerce")
    return as_ns(parsed)


def _fast_datetime(text: pd.Series) -> pd.Series:
    fmt = "%Y-%m-%d %H:%M:%S"
    parsed = pd.to_datetime(text.to_numpy(dtype=object), format=fmt, errors="coerce")
    return as_ns(parsed)


def _fast_time(text: pd.Series) -> pd.Series:
    parsed = as_ns(pd.to_datetime(text.to_numpy(dtype=object), format="%H:%M", errors="coerce"))
    return parsed - parsed.dt.normalize()


def _number(text: pd.Series) -> pd.Series:
    t = text.str.replace("−", "-", regex=False)
    t = t.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # (5,000) is accountants' -5000
    # Thousands separators group by three: "31,5" (a decimal comma, or a cut "31,500") is
    # not 315.
    ungrouped = t.str.contains(r"\d{4,},|(?<!\d),|,(?!\d{3}(?!\d))", regex=True)
    t = t.where(~ungrouped.fillna(False).astype(bool))
    t = t.str.replace(r"[,\s]", "", regex=True)
    t = t.str.replace(r"^([+-]?)₩", r"\1", regex=True).str.replace(r"원$", "", regex=True)
    ok = t.str.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?").fillna(False)
    arr = _floats(pd.to_numeric(t.where(ok), errors="coerce"))
    arr[~np.isfinite(arr)] = np.nan
    return pd.Series(arr, dtype="float64")


def _int(text: pd.Series) -> pd.Series:
    return _whole(_number(text).to_numpy())


def _fast_int(text: pd.Series) -> pd.Series:
    return _whole(_fast_number(text).to_numpy())


def _whole(arr: np.ndarray) -> pd.Series:
    """The whole numbers of ``arr`` as Int64 (NA for the others)."""
    whole = np.isfinite(arr) & (np.mod(arr, 1) == 0) & (np.abs(arr) < 2**63)
    return pd.Series(np.where(whole, arr, np.nan)).astype("Int64")


_FAST = {
    "number": _fast_number,
    "int": _fast_int,
    "date": _fast_date,
    "datetime": _fast_datetime,
    "time": _fast_time,
}

_PARSERS = {
    "number": _number,
    "int": _int,
    "date": _date,
    "datetime": _datetime,
    "time": _time,
    "bool": _bool,
}
