"""Runtime values: every sub-expression evaluates to a pandas Series of one canonical dtype.

==========  ====================================================================
type        runtime dtype
==========  ====================================================================
int/number  ``float64`` (null is NaN; exact for KRW amounts up to 2**53)
str         pandas ``str``; empty or whitespace-only text is turned into NA, so
            "blank counts as null" holds for comparisons as well as is_null()
date        ``datetime64`` at midnight
datetime    ``datetime64``
time        ``timedelta64`` since midnight
bool        pandas ``boolean`` (nullable) for values; conditions are numpy ``bool``
null        ``float64`` NaN
==========  ====================================================================

Fixed values (literals and params) are broadcast to the frame's index, so every operator and
function only ever sees Series and stays vectorized.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .kinds import NUMERIC

try:
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - pyarrow is a dependency
    pa = pc = None


def to_runtime(series: pd.Series, type_: str) -> pd.Series:
    """Convert a column of the frame to the canonical dtype of ``type_``."""
    if type_ in NUMERIC:
        if not pd.api.types.is_float_dtype(series.dtype) or isinstance(series.dtype, pd.ArrowDtype):
            series = pd.to_numeric(series, errors="coerce")
        return series.astype("float64")
    if type_ == "str":
        return blank_to_na(series.astype("str") if series.dtype != "str" else series)
    if type_ in ("date", "datetime"):
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            series = pd.to_datetime(series, errors="coerce")
        return series
    if type_ == "time":
        if not pd.api.types.is_timedelta64_dtype(series.dtype):
            series = pd.to_timedelta(series, errors="coerce")
        return series
    if type_ == "bool":
        return series.astype("boolean")
    return series


def blank_to_na(series: pd.Series) -> pd.Series:
    """Text that is empty or only whitespace becomes NA."""
    blank = blanks(series)
    return series.mask(blank) if blank.any() else series


_ISSPACE = np.frompyfunc(str.isspace, 1, 1)

#: UTF-8 bytes that can start a whitespace character (Python's ``str.isspace`` and Arrow's
#: whitespace are the same set: ASCII tab to carriage return, 0x1C-0x1F and space; U+0085 and
#: U+00A0 start with 0xC2; U+1680 with 0xE1; U+2000-U+205F with 0xE2; U+3000 with 0xE3).
#: tests/test_expr_values.py checks this against every code point.
_SPACE_LEAD = np.zeros(256, dtype=bool)
_SPACE_LEAD[
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0xC2, 0xE1, 0xE2, 0xE3]
] = True


def arrow_text(series: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow strings behind an Arrow-backed text Series, else None."""
    if (
        pa is not None
        and isinstance(series.dtype, pd.StringDtype)
        and series.dtype.storage == "pyarrow"
    ):
        values = series.array.__arrow_array__()
        return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    return None


def blanks(series: pd.Series) -> np.ndarray:
    """Boolean array: where text is empty or only whitespace (NA is not blank).

    This runs for every text column every rule reads, so it avoids looking at whole strings:
    an Arrow-backed column is screened by length and first byte (a blank text is empty or
    starts with a whitespace character), and only the few candidates are trimmed and compared.
    Other text goes through ``str.isspace`` over the object array, ten times faster than
    ``.str.strip()``."""
    chunked = arrow_text(series)
    if chunked is not None:
        parts = [_arrow_blanks(chunk) for chunk in chunked.chunks]
        return np.concatenate(parts) if parts else np.zeros(len(series), dtype=bool)
    values = series.to_numpy(dtype=object, na_value=None)
    present = ~series.isna().to_numpy(dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    if present.any():
        texts = values[present]
        out[present] = (texts == "") | _ISSPACE(texts).astype(bool)
    return out


def _arrow_blanks(chunk: pa.Array) -> np.ndarray:
    """:func:`blanks` of one Arrow string array."""
    n = len(chunk)
    if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)) or n == 0:
        trimmed = pc.equal(pc.utf8_trim_whitespace(chunk), "")
        return np.asarray(trimmed.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    validity, offsets, data = chunk.buffers()
    bounds: npt.NDArray[np.int64] | npt.NDArray[np.int32]
    if pa.types.is_large_string(chunk.type):
        bounds = np.frombuffer(offsets, dtype=np.int64)
    else:
        bounds = np.frombuffer(offsets, dtype=np.int32)
    bounds = bounds[chunk.offset : chunk.offset + n + 1]
    starts = bounds[:-1]
    candidate = bounds[1:] == starts  # empty
    if data is not None and data.size:
        first = np.take(np.frombuffer(data, dtype=np.uint8), starts, mode="clip")
        candidate |= _SPACE_LEAD.take(first)
    if chunk.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        candidate &= bits[chunk.offset : chunk.offset + n].view(bool)
    check = np.flatnonzero(candidate & (bounds[1:] != starts))
    if len(check):  # starts with whitespace: blank only if nothing else follows
        trimmed = pc.utf8_trim_whitespace(chunk.take(pa.array(check)))
        candidate[check] = np.asarray(
            pc.equal(trimmed, "").to_numpy(zero_copy_only=False), dtype=bool
        )
    return candidate


def scalar(value: Any, type_: str) -> Any:
    """A parameter or literal as the pandas scalar its type is evaluated with."""
    if value is None:
        return np.nan
    if type_ in NUMERIC:
        return float(value)
    if type_ in ("date", "datetime"):
        return pd.Timestamp(value)
    if type_ == "time":
        if isinstance(value, dt.time):
            return pd.Timedelta(hours=value.hour, minutes=value.minute, seconds=value.second,
                                microseconds=value.microsecond)  # fmt: skip
        return pd.Timedelta(value)
    return value


def constant(value: Any, type_: str, index: pd.Index) -> pd.Series:
    """A fixed value broadcast to ``index``."""
    value = scalar(value, type_)
    if type_ == "null" or value is np.nan:
        return pd.Series(np.nan, index=index, dtype="float64")
    if type_ == "str":
        return blank_to_na(pd.Series(value, index=index, dtype="str"))
    if type_ == "bool":
        return pd.Series(value, index=index, dtype="boolean")
    return pd.Series(value, index=index)


def nulls(series: pd.Series) -> np.ndarray:
    """Boolean array: where ``series`` is null (NA, NaN, NaT, or blank text)."""
    missing = series.isna().to_numpy(dtype=bool)
    if series.dtype == "str":
        missing = missing | blanks(series)
    return missing


def truth(series: pd.Series) -> pd.Series:
    """A condition as a plain numpy-bool Series: null counts as false."""
    if series.dtype == bool:
        return series
    return pd.Series(series.to_numpy(dtype=bool, na_value=False), index=series.index)


def boolean(values: np.ndarray | pd.Series, index: pd.Index) -> pd.Series:
    """Wrap a boolean array (NA counted as false) as a condition Series on ``index``."""
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=bool, na_value=False)
    return pd.Series(np.asarray(values, dtype=bool), index=index)


def finite(series: pd.Series) -> pd.Series:
    """Infinities (division by zero, overflow) become NaN: a null, never inf."""
    return series.where(np.isfinite(series.to_numpy(dtype="float64")))
