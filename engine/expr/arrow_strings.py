"""Text functions on the Arrow buffers of a text column, where pandas goes row by row in Python.

pandas runs ``Series.str.normalize`` on Arrow strings one value at a time in Python, and a
regular-expression replace through Arrow's RE2 one match at a time: on a million payments,
``digits(payee_account)`` cost about half a second. These give the same answers from the
buffers:

- :func:`nfkc`: ``str.normalize("NFKC")``, with Python's ``unicodedata`` as before, but only
  on the texts that are not plain ASCII (NFKC leaves ASCII as it is: composition and
  compatibility mappings only concern other characters). Registers, account numbers and
  names written by Korean systems are mostly ASCII or Hangul syllables; only those are asked.
- :func:`digits_only`: ``str.replace(r"\\D", "", regex=True)``. pandas answers with Python's
  ``re`` (Unicode digits: ``٣`` is one) once a column holds any non-ASCII text, with RE2
  otherwise; either way the answer is Python's. Here an ASCII text keeps its bytes
  0x30-0x39 (a cumulative count over the buffer), and only the non-ASCII texts are asked of
  ``re``.

For text that is not Arrow-backed, :func:`nfkc` is pandas' own and :func:`digits_only` None:
the callers keep the pandas path there.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .values import arrow_bools, arrow_text

#: The bytes an ASCII digit is: ``0`` to ``9``.
_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[ord("0") : ord("9") + 1] = True
_NOT_DIGIT = re.compile(r"\D")


def nfkc(text: pd.Series) -> pd.Series:
    """``text.str.normalize("NFKC")``, Python's normalization asked only of non-ASCII texts."""
    chunked = arrow_text(text)
    if chunked is None:
        return text.str.normalize("NFKC")
    odd = ~arrow_bools(pc.string_is_ascii(chunked)) & ~arrow_bools(chunked.is_null())
    if not odd.any():
        return text
    at = np.flatnonzero(odd)
    before = chunked.take(pa.array(at)).to_pylist()
    after = [unicodedata.normalize("NFKC", v) for v in before]
    changed = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if a != b]
    if not changed:
        return text
    mask = np.zeros(len(text), dtype=bool)
    mask[at[changed]] = True
    whole = chunked.combine_chunks()
    replacements = pa.array([after[i] for i in changed], type=whole.type)
    values = pc.replace_with_mask(whole, pa.array(mask), replacements)
    return _series(values, text)


def digits_only(text: pd.Series, *, empty_as_null: bool = False) -> pd.Series | None:
    """``text.str.replace(r"\\D", "", regex=True)`` of Arrow-backed text, with ``empty_as_null``
    a text left empty made null; None for text that is not Arrow-backed."""
    chunked = arrow_text(text)
    if chunked is None:
        return None
    array = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.large_string())
    size = len(array)
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=width)[array.offset : array.offset + size + 1]
    utf8 = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    used = utf8[bounds[0] : bounds[-1]] if size else utf8[:0]
    keep = _IS_DIGIT[used]
    # Digits kept before each byte (a cumulative sum of bytes: several times faster than of bools).
    count = np.int32 if used.size < 2**31 else np.int64
    kept = np.concatenate([[0], np.cumsum(keep.view(np.uint8), dtype=count)])
    new_bounds = kept[bounds - bounds[0]].astype(width)
    null = arrow_bools(array.is_null())
    digits = pa.Array.from_buffers(
        array.type,
        size,
        [
            pa.py_buffer(np.packbits(~null, bitorder="little")) if null.any() else None,
            pa.py_buffer(new_bounds),
            pa.py_buffer(used[keep]),
        ],
        null_count=int(null.sum()),
    )
    odd = np.flatnonzero(~arrow_bools(pc.string_is_ascii(array)) & ~null)
    if odd.size:  # Python's \d: every decimal digit (٣, ３ left by NFKC...), as pandas asks re
        texts = array.take(pa.array(odd)).to_pylist()
        mask = np.zeros(size, dtype=bool)
        mask[odd] = True
        found = pa.array([_NOT_DIGIT.sub("", t) for t in texts], type=array.type)
        digits = pc.replace_with_mask(digits, pa.array(mask), found)
    if empty_as_null:
        empty = pc.equal(pc.binary_length(digits), 0)
        digits = pc.if_else(empty, pa.scalar(None, digits.type), digits)
    return _series(digits, text)


def _series(values: pa.Array | pa.ChunkedArray, like: pd.Series) -> pd.Series:
    """Arrow strings as a Series of ``like``'s dtype and index."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.large_string() and like.dtype.storage == "pyarrow":
        values = values.cast(pa.large_string())  # what pandas' Arrow strings hold
    array = pd.arrays.ArrowStringArray(values, dtype=like.dtype)
    return pd.Series(array, index=like.index, name=like.name)
