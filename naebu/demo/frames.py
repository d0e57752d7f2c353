"""Frames for the generators: text as numpy object arrays, not pandas' Arrow strings.

The planters edit large frames a few records at a time, and the writers turn every column back
into Python values. On Arrow-backed strings (the pandas 3 default) each edit rebuilds the whole
column and each conversion copies it; on object arrays an edit writes the few cells. At a
million payments that is the difference between minutes and seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _is_text(values: object) -> bool:
    if isinstance(values, pd.Series | pd.Index):
        return isinstance(values.dtype, pd.StringDtype) or values.dtype == object
    if isinstance(values, np.ndarray):
        return values.dtype.kind in "OU"
    return isinstance(values, list | tuple | str) or values is None


def table(columns: dict[str, object]) -> pd.DataFrame:
    """A frame of ``columns`` (arrays, series, lists or scalars to repeat) with every text
    column an object array; the other columns keep their types."""
    n = next(
        len(v)  # type: ignore[arg-type]
        for v in columns.values()
        if not (isinstance(v, str) or v is None or np.isscalar(v))
    )
    out: dict[str, object] = {}
    for name, values in columns.items():
        if isinstance(values, str) or values is None:
            values = np.full(n, values, dtype=object)
        if _is_text(values):
            out[name] = pd.Series(np.asarray(values, dtype=object), dtype=object)
        elif isinstance(values, pd.Series):
            out[name] = values.reset_index(drop=True)
        else:
            out[name] = values
    return pd.DataFrame(out)


def column_of(values: np.ndarray, dtype: Any, index: pd.Index) -> pd.Series:
    """``values`` as a column of ``dtype``; text stays an object array (never Arrow)."""
    if values.dtype == object or isinstance(dtype, pd.StringDtype) or dtype is object:
        return pd.Series(values, index=index, dtype=object)
    return pd.Series(values, index=index).astype(dtype)  # type: ignore[call-overload]


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with any Arrow-backed text column turned into an object array."""
    text = {c: object for c in df.columns if isinstance(df[c].dtype, pd.StringDtype)}
    return df.astype(text) if text else df


class Edits:
    """Columns of a frame as numpy arrays, edited in place and written back once (``flush``).

    Reads (``edits[column]``) see the edits made so far. A pandas assignment per planted record
    copies the frame's whole block of columns: far too slow when scale 100 plants thousands.
    """

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.arrays: dict[str, np.ndarray] = {}
        self.changed: set[str] = set()

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self.arrays:
            s = self.df[column]
            text = s.dtype == object or isinstance(s.dtype, pd.StringDtype)
            self.arrays[column] = s.to_numpy(dtype=object if text else None, copy=True)
        return self.arrays[column]

    def set(self, rows: Any, column: str, values: Any) -> None:
        """Overwrite ``column`` at row positions (or a boolean mask) ``rows``."""
        target = self[column]
        if values is pd.NaT and target.dtype.kind in "mM":  # numpy does not take pandas' NaT
            values = np.array("NaT", dtype=target.dtype)
        target[rows] = values
        self.changed.add(column)

    def flush(self) -> None:
        """Write the edited columns back into the frame, each in its own dtype."""
        for column in sorted(self.changed):
            self.df[column] = column_of(self.arrays[column], self.df[column].dtype, self.df.index)
        self.changed.clear()
