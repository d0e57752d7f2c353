"""Building canonical text columns fast.

Canonical text columns use pandas' ``string`` dtype. With pyarrow installed (a dependency)
that dtype is Arrow-backed, and ``pd.array(objects, dtype="string")`` validates every value in
Python before handing the list to Arrow; Arrow validates it anyway, five times faster. Record
history loads and source coercion build millions of such values per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

try:
    import pyarrow as pa
except ImportError:  # pragma: no cover - pyarrow is a dependency; keep working without it
    pa = None


def text_array(values: Sequence[Any] | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values`` (str or None/NaN/NA, nothing else) as an array of the ``string`` dtype."""
    if pa is not None and pd.StringDtype().storage == "pyarrow":
        objects = np.asarray(values, dtype=object) if len(values) else np.array([], dtype=object)
        # from_pandas: NaN and pd.NA count as null, like pandas' own constructor.
        return pd.arrays.ArrowStringArray(
            pa.array(objects, type=pa.large_string(), from_pandas=True)
        )
    return pd.array(np.asarray(values, dtype=object) if len(values) else [], dtype="string")


def joined(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """``frames`` one after another (a fresh index), each Arrow-backed column in one chunk.

    ``pd.concat`` keeps every frame's Arrow chunks, and Arrow's ``take`` on a chunked column
    first concatenates all its chunks: every row selection a rule makes (its hits, a group's
    members) then copied the whole column. A million payments read in batches made each
    selection cost about 0.3 ms per text column instead of microseconds; combining the chunks
    once here costs about that, once.
    """
    if len(frames) == 1:
        return whole_chunks(frames[0].reset_index(drop=True))  # a view, not a copy (CoW)
    return whole_chunks(pd.concat(frames, ignore_index=True))


def whole_chunks(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every Arrow-backed column held in a single chunk (see :func:`joined`);
    ``frame`` itself when all already are."""
    if pa is None:
        return frame
    combined: dict[Any, pd.Series] = {}
    for name, series in frame.items():
        array = series.array
        if not isinstance(array, pd.arrays.ArrowExtensionArray):
            continue
        chunked = array.__arrow_array__()
        if chunked.num_chunks > 1:
            try:
                whole = chunked.combine_chunks()
            except pa.ArrowInvalid:  # over 2 GB of text in a 32-bit-offset column: keep
                continue
            if isinstance(array, pd.arrays.ArrowStringArray):
                rebuilt = type(array)(whole, dtype=array.dtype)
            else:
                rebuilt = type(array)(whole)
            combined[name] = pd.Series(rebuilt, index=frame.index, name=name, copy=False)
    if not combined:
        return frame
    frame = frame.copy(deep=False)
    for name, series in combined.items():
        frame[name] = series
    return frame
