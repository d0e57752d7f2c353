"""The record key of a source merged with others (``merge_on``), built from typed values.

When several sources feed one dataset (overtime claims and leave records into ``attendance``:
docs/sources.md, "Several sources into one dataset"), each names the canonical columns that
identify a record in ``merge_on``. A source that does not give the dataset's key itself gets
one built from those columns' typed values, joined with ``|``: ``E1001|2025-03-12``. The values
are the coerced ones (text NFKC-normalised and stripped, dates ISO, whole numbers without
``.0``), so ``E1001 `` in one file and ``E1001`` in another, or ``2025.03.12`` and
``20250312``, give one key. ``|`` and ``%`` inside a value are written ``%7C`` and ``%25``,
so two different records never share a key. A row with an empty ``merge_on`` value cannot be
keyed: coerce quarantines it (``work_date: missing``).

One code path for every connector kind: when :func:`builds_key`, the connector gives coerce the
rows' locations as stand-in keys (so no key column is required and no row is keyless) and
``also_required=merge_on``, then replaces the keys by :func:`with_merge_keys`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from naebu.connectors.source_settings import SourceConfig
from naebu.core.datasets import Dataset
from naebu.core.dtypes import text_array

SEPARATOR = "|"


def builds_key(source: SourceConfig, dataset: Dataset, available: Sequence[str]) -> bool:
    """Whether naebu builds the record key of ``source``'s rows from its ``merge_on`` values:
    it has ``merge_on`` and gives no key of its own (mapped, set, derived, or a source column
    named like the key among ``available``)."""
    if not source.merge_on:
        return False
    key = dataset.key
    given = set(source.columns)
    for section in ("constants", "derive"):  # the source mappings of issue 16
        given |= set(getattr(source, section, None) or {})
    return key not in given and key not in available


def with_merge_keys(frame: pd.DataFrame, dataset: Dataset, merge_on: Sequence[str]) -> pd.DataFrame:
    """``frame`` (typed, every canonical column) with the key built from ``merge_on``."""
    if frame.empty:
        return frame
    keys = merge_keys(frame, dataset, merge_on)
    return frame.assign(**{dataset.key: pd.Series(keys, index=frame.index)})


def merge_keys(frame: pd.DataFrame, dataset: Dataset, merge_on: Sequence[str]) -> Any:
    """The key of each row of a typed frame: its ``merge_on`` values as text, ``|`` joined
    (None where a value is missing). Vectorized: one pass per column."""
    joined: pd.Series | None = None
    missing = np.zeros(len(frame), dtype=bool)
    for column in merge_on:
        part = _key_text(frame[column].reset_index(drop=True), dataset.by_name[column].type)
        missing |= part.isna().to_numpy(dtype=bool)
        part = part.fillna("").str.replace("%", "%25", regex=False)
        part = part.str.replace(SEPARATOR, "%7C", regex=False)
        joined = part if joined is None else joined + SEPARATOR + part
    assert joined is not None, "merge_on is never empty"
    values = np.array(joined.astype(object), dtype=object)
    values[missing] = None
    return text_array(values)


def _key_text(values: pd.Series, type_: str) -> pd.Series:
    """One typed canonical column as the text a key holds (NA where missing)."""
    if type_ == "date":
        text = values.dt.strftime("%Y-%m-%d")
    elif type_ == "datetime":
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
    elif type_ == "time":
        seconds = values.dt.total_seconds()
        whole = seconds.fillna(0).astype("int64")
        text = pd.Series(
            [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in whole], dtype=object
        )
    elif type_ == "number":
        numbers = values.astype("float64")
        whole = np.isfinite(numbers) & (np.mod(numbers, 1) == 0) & (np.abs(numbers) < 2**53)
        text = numbers.astype(str).astype(object)
        text[whole] = numbers[whole].astype("int64").astype(str)
    elif type_ == "bool":
        text = values.astype("boolean").map({True: "true", False: "false"})
    else:  # str, int
        text = values.astype("string")
    return pd.Series(text.to_numpy(dtype=object), dtype="string").where(
        values.notna().to_numpy(dtype=bool)
    )
