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

Fixed values (literals and params) are broadcast to the frame's index when an operator or a
function needs them as a Series, so everything stays vectorized; a comparison with a fixed
value compares each row with the one value instead (:class:`naebu.engine.expr.compiler.Fixed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
        text = series.astype("str") if series.dtype != "str" else series
        chunked = arrow_text(text)
        if chunked is not None:
            blank, null = _arrow_masks(chunked)
        else:
            blank, null = blanks(text), text.isna().to_numpy(dtype=bool)
        result = text.mask(blank) if blank.any() else text
        memo = _KNOWN_NULLS.get()
        if memo is not None:  # its nulls are now known: missing before, or blank
            _remember(memo, result, blank if null is None else blank | null)
        return result
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

#: Every whitespace character (Python's ``str.isspace`` and Arrow's whitespace are the same set;
#: tests/test_expr_values.py checks this list against every code point).
_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(
    chr(c) for c in [*range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)
#: UTF-8 bytes that start a whitespace character, and for those of several bytes the pairs of
#: first and second byte: a text whose start matches neither is not blank.
_SPACE_LEAD = np.zeros(256, dtype=bool)
_SPACE_PAIR = np.zeros((256, 256), dtype=bool)
for _char in _SPACES:
    _utf8 = _char.encode("utf-8")
    _SPACE_LEAD[_utf8[0]] = True
    if len(_utf8) > 1:
        _SPACE_PAIR[_utf8[0], _utf8[1]] = True


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


def arrow_bools(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow boolean array as numpy bools, null counted as false: the bits unpacked
    directly (Arrow's own conversion is several times slower)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    parts = []
    for chunk in chunks:
        n, offset = len(chunk), chunk.offset
        validity, bits = chunk.buffers()[:2]
        if n == 0:
            continue
        flags = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), bitorder="little")
        flags = flags[offset : offset + n].view(bool)
        if chunk.null_count:
            valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
            flags = flags & valid[offset : offset + n].view(bool)
        parts.append(flags)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def blanks(series: pd.Series) -> np.ndarray:
    """Boolean array: where text is empty or only whitespace (NA is not blank).

    This runs for every text column every rule reads, so it avoids looking at whole strings:
    an Arrow-backed column is screened by length and first bytes (a blank text is empty or
    starts with a whitespace character), and only the few candidates are trimmed and compared.
    Other text goes through ``str.isspace`` over the object array, ten times faster than
    ``.str.strip()``."""
    chunked = arrow_text(series)
    if chunked is not None:
        return _arrow_blanks(chunked, with_nulls=False)
    values = series.to_numpy(dtype=object, na_value=None)
    present = ~series.isna().to_numpy(dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    if present.any():
        texts = values[present]
        out[present] = (texts == "") | _ISSPACE(texts).astype(bool)
    return out


def _arrow_blanks(chunked: pa.ChunkedArray, *, with_nulls: bool) -> np.ndarray:
    """:func:`blanks` of Arrow strings; with ``with_nulls``, blank or null."""
    blank, null = _arrow_masks(chunked)
    return blank | null if with_nulls and null is not None else blank


def _arrow_masks(chunked: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
    """Where Arrow strings are blank, and where they are null (None when nowhere)."""
    parts = [_chunk_masks(chunk) for chunk in chunked.chunks]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.zeros(0, dtype=bool), None
    blank = np.concatenate([b for b, _ in parts])
    if all(n is None for _, n in parts):
        return blank, None
    null = np.concatenate([np.zeros(len(b), dtype=bool) if n is None else n for b, n in parts])
    return blank, null


def _chunk_masks(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    n = len(chunk)
    null = None
    if chunk.null_count:
        null = arrow_bools(chunk.is_null())
    if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)) or n == 0:
        blank = pc.equal(pc.utf8_trim_whitespace(chunk), "").fill_null(False)
        return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool), null
    _, offsets, data = chunk.buffers()
    bounds: npt.NDArray[np.int64] | npt.NDArray[np.int32]
    if pa.types.is_large_string(chunk.type):
        bounds = np.frombuffer(offsets, dtype=np.int64)
    else:
        bounds = np.frombuffer(offsets, dtype=np.int32)
    bounds = bounds[chunk.offset : chunk.offset + n + 1]
    starts = bounds[:-1]
    blank = bounds[1:] == starts  # empty; then the texts starting with whitespace are added
    utf8 = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    if len(utf8):
        first = np.take(utf8, starts, mode="clip")  # of an empty text: the next one's, unused
        # a cheap first sieve: control characters and space, or a lead byte 0xC2-0xE3
        maybe = np.flatnonzero((first <= 0x20) | ((first - np.uint8(0xC2)) <= 0x21))
        maybe = maybe[~blank[maybe]]
        lead = first[maybe]
        maybe, lead = maybe[_SPACE_LEAD[lead]], lead[_SPACE_LEAD[lead]]
        wide = lead >= 0x80
        if wide.any():  # a character of several bytes: its second byte must fit too
            second = np.take(utf8, starts[maybe[wide]] + 1, mode="clip")
            fits = np.ones(len(maybe), dtype=bool)
            fits[wide] = _SPACE_PAIR[lead[wide], second]
            maybe = maybe[fits]
        if len(maybe):  # starts with whitespace: blank if nothing else follows
            trimmed = pc.utf8_trim_whitespace(chunk.take(pa.array(maybe)))
            blank[maybe] = np.asarray(trimmed.to_numpy(zero_copy_only=False) == "", dtype=bool)
    if null is not None:
        blank &= ~null  # a null is not blank (its bytes mean nothing)
    return blank, null


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


#: While an expression is evaluated: the null masks found so far, by the id of their Series
#: (kept alive here, so an id cannot be reused). See :func:`remembered_nulls`.
_KNOWN_NULLS: ContextVar[dict[int, tuple[pd.Series, np.ndarray]] | None] = ContextVar(
    "known_nulls", default=None
)


@contextmanager
def remembered_nulls() -> Iterator[None]:
    """Within the block, :func:`nulls` of one Series is computed once, and a text column made
    canonical by :func:`to_runtime` brings its nulls along: one evaluation of a condition tests
    a column for nulls in several places (``not_null(x) and x != y``). The remembered masks are
    read-only and forgotten when the block ends."""
    token = _KNOWN_NULLS.set({})
    try:
        yield
    finally:
        _KNOWN_NULLS.reset(token)


def _remember(memo: dict[int, tuple[pd.Series, np.ndarray]], series: pd.Series,
              missing: np.ndarray) -> np.ndarray:  # fmt: skip
    missing.flags.writeable = False
    memo[id(series)] = (series, missing)
    return missing


def nulls(series: pd.Series) -> np.ndarray:
    """Boolean array: where ``series`` is null (NA, NaN, NaT, or blank text)."""
    memo = _KNOWN_NULLS.get()
    if memo is None:
        return _nulls(series)
    known = memo.get(id(series))
    if known is not None and known[0] is series:
        return known[1]
    return _remember(memo, series, _nulls(series))


def _nulls(series: pd.Series) -> np.ndarray:
    if series.dtype == "str":
        chunked = arrow_text(series)
        if chunked is not None:  # one pass over the validity bits and the offsets
            return _arrow_blanks(chunked, with_nulls=True)
        return series.isna().to_numpy(dtype=bool) | blanks(series)
    return series.isna().to_numpy(dtype=bool)


def truth(series: pd.Series) -> pd.Series:
    """A condition as a plain numpy-bool Series: null counts as false."""
    if series.dtype == bool:
        return series
    return pd.Series(series.to_numpy(dtype=bool, na_value=False), index=series.index)


def boolean(values: np.ndarray | pd.Series, index: pd.Index) -> pd.Series:
    """Wrap a boolean array (NA counted as false) as a condition Series on ``index``."""
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=bool, na_value=False)
    flags = np.asarray(values, dtype=bool)
    if not flags.flags.writeable:  # a remembered null mask: the Series gets its own copy
        flags = flags.copy()
    return pd.Series(flags, index=index)


def finite(series: pd.Series) -> pd.Series:
    """Infinities (division by zero, overflow) become NaN: a null, never inf."""
    return series.where(np.isfinite(series.to_numpy(dtype="float64")))
