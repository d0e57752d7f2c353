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
  source does not have is a :class:`~connectors.base.SourceError`.

Types (``str`` text is NFKC-normalised, stripped, and empty text is a missing value):

- ``number``: ``1,234,000``, ``12000원``, ``₩5,000``, ``-5000``, ``(5,000)`` (negative),
  ``12000.0``, full-width digits.
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

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import ColumnSpec, QuarantinedRow, SourceError, column_parts, json_safe
from naebu.datasets import Column, Dataset
from naebu.dtypes import text_array
from naebu.problems import did_you_mean

_BOOL_TRUE = ("y", "yes", "1", "1.0", "true", "t", "o", "예", "네", "참")
_BOOL_FALSE = ("n", "no", "0", "0.0", "false", "f", "x", "아니오", "아니요", "거짓")

_WHY = {
    "number": "is not a number",
    "int": "is not a whole number",
    "date": "is not a valid date",
    "datetime": "is not a valid date and time",
    "time": "is not a valid time of day",
    "bool": "is not a yes/no value",
}
_JOIN = {"date": "-", "time": ":"}

# Date part: 2025-03-01, 2025.3.1, 2025/03/01, 2025년 3월 1일 (then anything, e.g. a time).
_DATE_SEP = r"^(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})(?!\d)\s*[.일]?"
_DATE_8 = r"^(\d{4})(\d{2})(\d{2})"
_TIME_COLON = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
_TIME_PLAIN = r"(\d{2})(\d{2})(\d{2})?"
_TZ = r"\s*(Z|[+-]\d{2}:?\d{2})?$"
_SEP = "\x00"
#: What ``str.strip()`` strips: every character Python calls whitespace (written out: working
#: it out over all of Unicode took a quarter of a second of every start-up; a test checks it).
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


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
    ``also_required``: columns a row must have besides the dataset's required ones (the
    ``merge_on`` columns its key is built from, :mod:`connectors.merge`).
    """
    defaults = defaults or {}
    n = len(raw)
    if len(locations) != n:
        raise ValueError(f"{len(locations)} locations for {n} rows")
    mapping = resolve_columns(
        [str(c) for c in raw.columns], dataset, columns, defaults, source, require=False
    )
    reasons: dict[int, list[str]] = {}
    out: dict[str, pd.Series] = {}
    for col in dataset.columns:
        if col.name in defaults:
            values: pd.Series = pd.Series(list(defaults[col.name]), dtype=object)
            parts = [col.name]
        elif col.name in mapping:
            parts = mapping[col.name]
            values = _source_values(raw, parts, col.type)
        else:
            out[col.name] = null_column(col.type, n)
            if col.required or col.name == dataset.key or col.name in also_required:
                for row in range(n):
                    reasons.setdefault(row, []).append(f"{col.name}: missing")
            continue
        typed, bad = _convert(values, col, formats.get(col.name))
        required = col.required or col.name == dataset.key or col.name in also_required
        missing = typed.isna().to_numpy() & ~bad if required else np.zeros(n, dtype=bool)
        if bad.any():
            why = _WHY[col.type]
            if col.name in formats:
                why += f" (format {formats[col.name]})"
            label = col.name if len(parts) == 1 else f"{col.name} ({'/'.join(parts)})"
            shown = values.to_numpy()
            for i in np.flatnonzero(bad):
                reasons.setdefault(int(i), []).append(f"{label}: {_show(shown[i])} {why}")
        for i in np.flatnonzero(missing):
            reasons.setdefault(int(i), []).append(f"{col.name}: missing")
        out[col.name] = typed.reset_index(drop=True)

    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    if not reasons:
        return frame, []
    bad_rows = sorted(reasons)
    keep = np.ones(n, dtype=bool)
    keep[bad_rows] = False
    records = raw.iloc[bad_rows].to_dict("records")
    quarantined = [
        QuarantinedRow(
            location=locations[i],
            raw={str(k): json_safe(v) for k, v in rec.items()},
            reason="; ".join(reasons[i]),
        )
        for i, rec in zip(bad_rows, records, strict=True)
    ]
    return frame[keep].reset_index(drop=True), quarantined


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


# Source values and text ------------------------------------------------------------------


def _norm_name(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _source_values(raw: pd.DataFrame, parts: list[str], type_: str) -> pd.Series:
    """The source column, or the parts of a multi-column mapping joined as text."""
    if len(parts) == 1:
        return raw[parts[0]].reset_index(drop=True)
    texts = []
    for part in parts:
        t = _text(raw[part].reset_index(drop=True))
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


def _text(values: pd.Series) -> pd.Series:
    """Values as NFKC-normalised, stripped text; empty text is NA."""
    arrow = _arrow_text(values)
    if arrow is not None:
        return pd.Series(pd.arrays.ArrowStringArray(arrow))
    return _python_text(values)


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """:func:`_text` in Arrow's C++ kernels, for a column holding only text and missing
    values (the common case: five times faster than Python's loops); None for anything else.

    ``utf8_trim`` is given exactly the characters ``str.strip()`` strips, so both paths agree.
    """
    try:
        if isinstance(values.dtype, pd.StringDtype):
            arr = pa.array(values.array)
        else:
            arr = pa.array(values.to_numpy(dtype=object), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None  # numbers, dates, bytes... mixed in: the Python path words them
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    text = pc.utf8_trim(pc.utf8_normalize(arr.cast(pa.large_string()), "NFKC"), _WHITESPACE)
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)


def _python_text(values: pd.Series) -> pd.Series:
    """:func:`_text` for columns that are not plain text (numbers or dates mixed in).

    The present values are joined with NUL, normalised in one call, split again and stripped
    by ``map``: C-level loops for the whole column instead of Python per value.
    """
    present = values.notna().to_numpy(dtype=bool)
    strs = values.to_numpy(dtype=object)[present]
    if not isinstance(values.dtype, pd.StringDtype) and _inferred(strs) != "string":
        # Numbers, dates... in a text column: pandas' own text form of each.
        values = values.astype("string")
        present = values.notna().to_numpy(dtype=bool)
        strs = values.to_numpy(dtype=object)[present]
    out = np.full(len(values), None, dtype=object)
    if len(strs):
        joined = _SEP.join(strs)
        if joined.count(_SEP) == len(strs) - 1:  # no value holds a NUL itself
            parts = unicodedata.normalize("NFKC", joined).split(_SEP)
            # map() runs str.strip in C; a regular expression around every separator cost
            # more than everything else in coercion.
            out[present] = list(map(str.strip, parts))
        else:
            text = values.astype("string").str.normalize("NFKC").str.strip()
            out[present] = text.to_numpy(dtype=object)[present]
    out[out == ""] = None
    return pd.Series(text_array(out))


def _inferred(values: np.ndarray) -> str:
    """pandas' inferred kind of an object array ("string" when every value is text)."""
    return str(pd.api.types.infer_dtype(values, skipna=False)) if len(values) else "empty"


def _show(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "''"
    return repr(str(value).strip())


# Conversion --------------------------------------------------------------------------------


def _convert(values: pd.Series, col: Column, fmt: str | None) -> tuple[pd.Series, np.ndarray]:
    """(typed values, bad mask) of one column; bad means present but not convertible."""
    typed = _convert_typed(values, col.type) if fmt is None else None
    if typed is not None:
        return typed, np.zeros(len(values), dtype=bool)
    text = _text(values)
    if col.type == "str":
        return text, np.zeros(len(values), dtype=bool)
    if fmt is not None and col.type in ("date", "datetime", "time"):
        parsed = pd.to_datetime(text, format=fmt, errors="coerce").astype("datetime64[ns]")
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
        parsed = parsed.astype("datetime64[ns]")
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
    arr[~np.isfinite(arr)] = np.nan
    return pd.Series(arr, dtype="float64")


def _fast_date(text: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(text.to_numpy(dtype=object), format="%Y-%m-%d", errors="coerce")
    return pd.Series(parsed).astype("datetime64[ns]")


def _fast_datetime(text: pd.Series) -> pd.Series:
    fmt = "%Y-%m-%d %H:%M:%S"
    parsed = pd.to_datetime(text.to_numpy(dtype=object), format=fmt, errors="coerce")
    return pd.Series(parsed).astype("datetime64[ns]")


def _fast_time(text: pd.Series) -> pd.Series:
    parsed = pd.Series(
        pd.to_datetime(text.to_numpy(dtype=object), format="%H:%M", errors="coerce")
    ).astype("datetime64[ns]")
    return parsed - parsed.dt.normalize()


def _number(text: pd.Series) -> pd.Series:
    t = text.str.replace("−", "-", regex=False)
    t = t.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # (5,000) is accountants' -5000
    t = t.str.replace(r"[,\s]", "", regex=True)
    t = t.str.replace(r"^([+-]?)₩", r"\1", regex=True).str.replace(r"원$", "", regex=True)
    ok = t.str.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?").fillna(False)
    arr = _floats(pd.to_numeric(t.where(ok), errors="coerce"))
    arr[~np.isfinite(arr)] = np.nan
    return pd.Series(arr, dtype="float64")


def _int(text: pd.Series) -> pd.Series:
    arr = _number(text).to_numpy()
    whole = np.isfinite(arr) & (np.mod(arr, 1) == 0) & (np.abs(arr) < 2**63)
    return pd.Series(np.where(whole, arr, np.nan)).astype("Int64")


def _ints(frame: pd.DataFrame, col: int | str) -> pd.Series:
    """A group of digits as float64 (NaN when absent), so date arithmetic never meets NA."""
    return pd.Series(_floats(pd.to_numeric(frame[col], errors="coerce")), index=frame.index)


def _floats(nums: pd.Series | np.ndarray) -> np.ndarray:
    """Numbers (possibly nullable Int64/Float64) as a float64 array with NaN for missing."""
    if isinstance(nums, np.ndarray):
        return nums.astype("float64")
    return nums.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _date(text: pd.Series) -> pd.Series:
    parts = text.str.extract(_DATE_SEP + r"(?:$|[ T])").combine_first(
        text.str.extract(_DATE_8 + r"(?:$|[ T])")
    )
    result = _assemble(parts, 0)
    serial = _excel_serial(text)
    return result.where(result.notna().to_numpy(), serial.to_numpy())


#: Excel's day zero (its 1900 calendar counts a 29 February 1900 that never was).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serial days read as dates: 1954-10-03 .. 2119-01-09. A narrower number in a date column is
#: more likely an id or an amount pasted in the wrong place than a date, and stays refused.
_EXCEL_SERIALS = (20_000, 80_000)


def _excel_serial(text: pd.Series) -> pd.Series:
    """Dates from spreadsheet serial day numbers (``45658`` or ``45658.0`` is 2025-01-01),
    as a column of an exported sheet holds when its date format was lost; NaT otherwise."""
    digits = text.str.fullmatch(r"\d{5}(?:\.0+)?").fillna(False).to_numpy(dtype=bool)
    days = pd.to_numeric(text.where(digits), errors="coerce").to_numpy(dtype="float64")
    low, high = _EXCEL_SERIALS
    days[(days < low) | (days > high)] = np.nan
    dates = _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    return pd.Series(dates, dtype="datetime64[ns]").reset_index(drop=True)


def _assemble(parts: pd.DataFrame, first: int) -> pd.Series:
    ymd = pd.DataFrame(
        {
            "year": _ints(parts, first),
            "month": _ints(parts, first + 1),
            "day": _ints(parts, first + 2),
        }
    )
    return pd.to_datetime(ymd, errors="coerce").astype("datetime64[ns]").reset_index(drop=True)


def _clock(parts: pd.DataFrame, first: int) -> pd.Series:
    """Time of day from hour, minute, second, fraction groups; NaT when out of range."""
    h, m = _ints(parts, first), _ints(parts, first + 1)
    s = _ints(parts, first + 2).fillna(0)
    frac = parts[first + 3].fillna("0") if first + 3 in parts else pd.Series("0", index=h.index)
    ns = pd.to_numeric(frac.str.ljust(9, "0").str.slice(0, 9), errors="coerce").fillna(0)
    ok = (h >= 0) & (h <= 23) & (m >= 0) & (m <= 59) & (s >= 0) & (s <= 59)
    secs = (h * 3600 + m * 60 + s).where(ok)
    return pd.to_timedelta(secs, unit="s").astype("timedelta64[ns]") + pd.to_timedelta(
        ns, unit="ns"
    )


def _datetime(text: pd.Series) -> pd.Series:
    sep = text.str.extract(_DATE_SEP + r"(?:[ T]+" + _TIME_COLON + r")?" + _TZ)
    plain = text.str.extract(_DATE_8 + r"(?:[ T]?" + _TIME_PLAIN + r")?" + _TZ)
    # Align both layouts on year, month, day, hour, minute, second, fraction, offset.
    plain = plain.rename(columns={6: 7})
    plain[6] = pd.NA
    parts = sep.combine_first(plain).reset_index(drop=True)
    day = _assemble(parts, 0)
    has_time = parts[3].notna()
    clock = _clock(parts, 3).where(has_time, pd.Timedelta(0))
    result = day + clock
    offset = parts[7]
    if offset.notna().any():
        sign = offset.str.slice(0, 1).map({"+": 1, "-": -1}).fillna(1)
        digits = offset.str.replace(r"\D", "", regex=True)
        minutes = _ints(pd.DataFrame({0: digits.str.slice(0, 2)}), 0) * 60 + _ints(
            pd.DataFrame({0: digits.str.slice(2, 4)}), 0
        )
        minutes = (sign * minutes).fillna(0).where(offset.notna(), 9 * 60)
        # Seoul is UTC+9 all year (no daylight saving since 1988).
        result = result + pd.to_timedelta((9 * 60 - minutes) * 60, unit="s")
    return result.astype("datetime64[ns]")


def _time(text: pd.Series) -> pd.Series:
    # A leading date (a datetime given where a time is expected) is dropped.
    t = text.str.replace(_DATE_SEP + r"[ T]+", "", regex=True)
    colon = t.str.extract("^" + _TIME_COLON + "$")
    plain = t.str.extract("^" + _TIME_PLAIN + "$")
    plain[3] = pd.NA
    parts = colon.combine_first(plain).reset_index(drop=True)
    return _clock(parts, 0)


def _bool(text: pd.Series) -> pd.Series:
    lower = text.str.casefold()
    result = pd.Series(pd.NA, index=text.index, dtype="boolean")
    result[lower.isin(_BOOL_TRUE).fillna(False)] = True
    result[lower.isin(_BOOL_FALSE).fillna(False)] = False
    return result.reset_index(drop=True)


_FAST = {
    "number": _fast_number,
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
