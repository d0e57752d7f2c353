"""Frames turned into the per-record form the record-at-a-time baselines consume.

durable_rules takes JSON messages, and a per-row Python loop works on dicts; both get the same
dicts: the record key and the columns the rule reads, with JSON values (text, numbers, dates as
ISO text, a time of day as ``HH:MM:SS``). A missing value - null, NaN, or blank text, which the
expression language also treats as missing - is left out of the dict, so a condition on it is
false in durable_rules exactly as a comparison with a missing value is false in naebu.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def _column_values(series: pd.Series) -> list[Any]:
    """JSON values of one column, None where missing."""
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        secs = series.dt.total_seconds()
        return [
            None
            if pd.isna(s)
            else f"{int(s) // 3600:02d}:{int(s) // 60 % 60:02d}:{int(s) % 60:02d}"
            for s in secs.tolist()
        ]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(t) else t.isoformat() for t in series.tolist()]
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        return [None if pd.isna(v) else (bool(v) if isinstance(v, np.bool_ | bool) else int(v))
                for v in series.astype(object).tolist()]  # fmt: skip
    if pd.api.types.is_float_dtype(series.dtype):
        return [None if v != v else float(v) for v in series.tolist()]  # NaN != NaN
    out: list[Any] = []
    for v in series.astype(object).tolist():
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, str):
            out.append(v if v.strip() else None)
        else:
            out.append(v)
    return out


def to_records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per row with ``columns`` (missing values left out), in frame order."""
    values = {c: _column_values(frame[c]) for c in dict.fromkeys(columns)}
    names = list(values)
    records = []
    for row in zip(*(values[c] for c in names), strict=True):
        records.append({n: v for n, v in zip(names, row, strict=True) if v is not None})
    return records
