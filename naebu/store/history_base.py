"""What both kinds of record history share: the read filters, the last version of a key, and
the canonical dtypes every load gives.

The history is kept either in tables (:mod:`.history_tables`) or in columnar segment files
(:mod:`.segments`, :mod:`.segments_read`); :mod:`.history` chooses and is what callers use.
Everything here works on frames alone, not on a store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from naebu.core import datasets
from naebu.core.dtypes import text_array


def last_versions(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """``frame`` with one record per ``key``, the last (as the store's upsert keeps it).

    Keys are nearly always unique already: asking costs a third of de-duplicating (a million
    payments: 0.14 s against 0.42 s), so the frame is copied only when it has to be.
    """
    if frame[key].is_unique:
        return frame
    return frame.drop_duplicates(subset=[key], keep="last", ignore_index=True)


@dataclass(frozen=True)
class KeyFilter:
    """Records whose text ``column`` holds one of ``values`` (and null, if ``with_null``), and
    also every record written after run ``or_after_run`` when it is given.

    Any number of values: past a few hundred they are written to a temporary table the query
    joins, not bound one by one (drivers cap bound parameters; SQLite at 32,766).
    """

    column: str
    values: tuple[str, ...]
    with_null: bool = False
    or_after_run: int | None = None

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """The same filter on an in-memory canonical frame (its key part: which run wrote a
        record is not in the frame, so ``or_after_run`` is the caller's to apply)."""
        column = frame[self.column]
        if isinstance(column.array, pd.arrays.ArrowStringArray):
            # In Arrow with the values as one Arrow array: pandas' isin converts the values
            # one by one in Python (0.3 s for 20,000 touched keys).
            data = pa.chunked_array(column.array.__arrow_array__())
            found = pc.is_in(data, value_set=pa.array(self.values, type=data.type))
            keep = found.to_numpy(zero_copy_only=False).astype(bool, copy=False)
        else:
            keep = column.isin(self.values).to_numpy(dtype=bool, na_value=False)
        if self.with_null:
            keep = keep | column.isna().to_numpy(dtype=bool)
        return keep


@dataclass(frozen=True)
class NewRecords:
    """Records last written after run ``after_run``: for a rule that judges each record on
    its own, against lookups that have not changed, the older records were judged already."""

    after_run: int


def in_window(
    frame: pd.DataFrame,
    dataset_name: str,
    *,
    since: datetime | None,
    time_column: str | None,
    only: KeyFilter | NewRecords | None = None,
) -> pd.DataFrame:
    """The rows of this run's in-memory canonical frame that :func:`load` would give."""
    dataset = datasets.get(dataset_name)
    # This run's records are all new: a NewRecords filter keeps every one, and so does a key
    # filter that also takes the records written after an earlier run.
    if isinstance(only, KeyFilter) and only.or_after_run is None and not frame.empty:
        keep = only.mask(frame)
        if not keep.all():
            frame = frame[keep].reset_index(drop=True)
    column = time_column or dataset.event_time
    if not column or since is None or frame.empty:
        return frame
    as_date = dataset.by_name[column].type == "date"
    bound = pd.Timestamp(since.date() if as_date else since)
    times = frame[column]
    keep = (times.isna() | (times >= bound)).to_numpy(dtype=bool)
    return frame if keep.all() else frame[keep].reset_index(drop=True)


def empty(dataset_name: str) -> pd.DataFrame:
    """A dataset's frame without records, in the dtypes :func:`load` gives."""
    return typed({}, 0, datasets.get(dataset_name))


def typed(raw: Mapping[str, Sequence[Any]], length: int, dataset: datasets.Dataset) -> pd.DataFrame:
    """Database values (per column) in the dtypes :func:`naebu.connectors.coerce.coerce` produces."""
    out: dict[str, Any] = {}
    for c in dataset.columns:
        values = raw.get(c.name)
        if values is None:
            values = (None,) * length
        if c.type == "str":
            out[c.name] = text_array(values)
        elif c.type == "int":
            out[c.name] = pd.to_numeric(_objects(values), errors="coerce").astype("Int64")
        elif c.type == "number":
            out[c.name] = pd.to_numeric(_objects(values), errors="coerce").astype("float64")
        elif c.type in ("date", "datetime"):
            stamps = _datetimes(values)
            out[c.name] = stamps.normalize() if c.type == "date" else stamps
        elif c.type == "time":
            out[c.name] = pd.to_timedelta(
                pd.to_numeric(_objects(values), errors="coerce"), unit="s"
            ).astype("timedelta64[ns]")
        else:
            out[c.name] = pd.Series(_objects(values)).astype("boolean").array
    return pd.DataFrame(out, index=pd.RangeIndex(length))


def _objects(values: Sequence[Any]) -> pd.Series:
    return pd.Series(np.array(values, dtype=object) if len(values) else [], dtype=object)


def _datetimes(values: Sequence[Any]) -> pd.DatetimeIndex:
    """Dates from the driver: ISO text on SQLite, date/datetime objects elsewhere."""
    series = _objects(values)
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        # SQLite text: one ISO parser for '2025-03-01' and '2025-03-01 10:00:00.000000'.
        stamps = pd.to_datetime(series, errors="coerce", format="ISO8601")
    else:
        stamps = pd.to_datetime(series, errors="coerce")
    return pd.DatetimeIndex(stamps).astype("datetime64[ns]")


def as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    return pd.Timestamp(value).to_pydatetime()
