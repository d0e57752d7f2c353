"""Text values of a source: bytes decoded (UTF-8, else CP949) and text normalised (NFKC,
stripped, empty as missing), the way every connector reads a text cell.

Two paths give the same text: Arrow's C++ kernels for a column of plain text (the common case,
five times faster), Python for columns with numbers or dates mixed in.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from naebu.core.dtypes import text_array

_SEP = "\x00"
#: The binary types a driver gives.
_BINARY = (bytes, bytearray, memoryview)
#: What ``str.strip()`` strips: every character Python calls whitespace (written out: working
#: it out over all of Unicode took a quarter of a second of every start-up; a test checks it).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def decode_columns(
    raw: pd.DataFrame, names: set[str]
) -> tuple[pd.DataFrame, dict[str, dict[int, bytes]]]:
    """``raw`` with the bytes in columns ``names`` decoded, and per column the row positions
    and values that decode neither way.

    UTF-8 first, else CP949 (the superset of EUC-KR that the city's legacy systems write);
    bytes that are neither stay out of the frame (None) and their rows are quarantined.
    """
    undecodable: dict[str, dict[int, bytes]] = {}
    decoded: dict[str, pd.Series] = {}
    for name in names:
        if name not in raw.columns or raw[name].dtype != object:
            continue
        values = raw[name].to_numpy()
        # The types present first (map and set run in C): most object columns hold numbers,
        # text and None, and an isinstance per value cost seconds on a first pull.
        if not any(issubclass(kind, _BINARY) for kind in set(map(type, values))):
            continue
        where = [i for i, v in enumerate(values) if isinstance(v, _BINARY)]
        if not where:
            continue
        fixed = values.copy()
        for i in where:
            text = decode_text(bytes(values[i]))
            if text is None:
                undecodable.setdefault(name, {})[i] = bytes(values[i])
            fixed[i] = text
        decoded[name] = pd.Series(fixed, index=raw.index, dtype=object)
    if not decoded:
        return raw, undecodable
    raw = raw.copy()
    for name, column in decoded.items():
        raw[name] = column
    return raw, undecodable


def decode_text(value: bytes) -> str | None:
    """``value`` as text: UTF-8, else CP949; None when it is neither."""
    for encoding in ("utf-8", "cp949"):
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            pass
    return None


def normalised_text(values: pd.Series) -> pd.Series:
    """Values as NFKC-normalised, stripped text; empty text is NA."""
    arrow = _arrow_text(values)
    if arrow is not None:
        return pd.Series(pd.arrays.ArrowStringArray(arrow))
    return _python_text(values)


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """:func:`normalised_text` in Arrow's C++ kernels, for a column holding only text and missing
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
    arr = arr.cast(pa.large_string())
    if pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        # ASCII is NFKC already (no compatibility forms): IDs, codes, numbers, dates.
        return _trimmed(arr)
    # Korean names, departments, purposes: few distinct values per column, and NFKC costs
    # about ten times a hash lookup per value. Each distinct value is normalised once.
    encoded = arr.dictionary_encode()
    return _trimmed(pc.utf8_normalize(encoded.dictionary, "NFKC")).take(encoded.indices)


def _trimmed(text: pa.Array) -> pa.Array:
    """``text`` stripped as ``str.strip()`` strips it, empty text as null."""
    text = pc.utf8_trim(text, WHITESPACE)
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)


def _python_text(values: pd.Series) -> pd.Series:
    """:func:`normalised_text` for columns that are not plain text (numbers or dates mixed in).

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
