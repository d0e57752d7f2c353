"""Turning matched rows into findings: record keys, JSON-safe evidence, rendered messages.

Shared by every rule type, so an alert looks the same whichever type raised it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from naebu.core.datasets import Dataset
from naebu.core.jsonsafe import json_safe
from naebu.engine.findings import Finding
from naebu.engine.params_dated import EVIDENCE_KEY, citations, dated_params
from naebu.engine.rule import RuleMeta
from naebu.engine.template import MessageTemplate, clock_texts


def json_value(value: Any, column_type: str | None = None) -> Any:
    """A cell as evidence keeps it: :func:`naebu.core.jsonsafe.json_safe`, except that date-times
    are written ``YYYY-MM-DD`` (a date column, or a time of midnight when the type is not known)
    or ``YYYY-MM-DD HH:MM:SS``, durations as ``HH:MM`` and whole floats as ints: the forms
    officials read and :func:`json_column` writes a whole column in."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
        if column_type == "date" or (column_type is None and ts == ts.normalize()):
            return ts.strftime("%Y-%m-%d")
        return ts.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, pd.Timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    if isinstance(value, list | tuple):  # sibling keys of a duplicate, members of a window
        return [json_value(v) for v in value]
    value = json_safe(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def findings_from_rows(
    meta: RuleMeta,
    dataset: Dataset,
    rows: pd.DataFrame,
    template: MessageTemplate | None,
    evidence_columns: Iterable[str],
    extra: Mapping[str, str] | None = None,
    case_keys: list[str] | None = None,
    judged_on: np.ndarray | None = None,
) -> list[Finding]:
    """One finding per row of ``rows`` (the records a rule matched).

    ``case_keys`` gives each row's case (:attr:`Finding.case_key`, see :func:`case_keys`);
    none: each record is its own case.

    ``extra`` names further fields of ``rows`` to keep as evidence, with their types: joined
    columns (``vendor.account_no``) and values a rule type computed (``group.sum_amount``).

    A rule with parameters tied to dates (engine/params_dated.py) cites the value each record
    was judged by under :data:`~naebu.engine.params_dated.EVIDENCE_KEY`: the one in force on the
    record's date, or on ``judged_on`` (one date per row: a window's last record).

    Values are converted column by column (:func:`json_column`, :meth:`MessageTemplate.render_rows`),
    each exactly as :func:`json_value` and :meth:`MessageTemplate.render` would one at a time.
    """
    extra = extra or {}
    wanted = _evidence_columns(dataset, evidence_columns)
    wanted += [c for c in extra if c in rows.columns and c not in wanted]
    types = {c.name: c.type for c in dataset.columns} | dict(extra)
    n = len(rows)
    if n == 0:
        return []
    none: list[Any] = [None] * n
    values = [json_column(rows[c], types.get(c)) if c in rows.columns else none for c in wanted]
    keys = json_column(rows[dataset.key], types[dataset.key])
    messages = template.render_rows(rows) if template else [meta.title] * n
    departments = _texts(rows, dataset.department, none)
    officials = _texts(rows, dataset.official, none)
    times = _times(rows, dataset.event_time, none)
    cited = citations(rows, dated_params(meta.params), judged_on)
    if cited is not None:
        wanted.append(EVIDENCE_KEY)
        values.append(cited)
    rule_id, name, severity = meta.id, dataset.name, meta.severity
    cases = case_keys if case_keys is not None else [""] * n
    return [
        Finding(rule_id, name, str(key), severity, message, department, official, time,
                dict(zip(wanted, row, strict=True)), case)
        for key, message, department, official, time, row, case in zip(
            keys, messages, departments, officials, times, zip(*values, strict=True), cases,
            strict=True,
        )
    ]  # fmt: skip


#: Between the parts of a case key (never in a record's text values in practice).
CASE_SEPARATOR = "\x1f"


def case_keys(columns: Iterable[pd.Series]) -> list[str]:
    """Per row, the text of a case key made of ``columns`` (a group's keys, its window's
    start): each value as :func:`json_value` writes it, joined by :data:`CASE_SEPARATOR`.
    Equal values give equal keys whatever the dtype the column came in."""
    texts = [["" if v is None else str(v) for v in json_column(c)] for c in columns]
    if not texts:
        return []
    return [CASE_SEPARATOR.join(parts) for parts in zip(*texts, strict=True)]


def json_column(series: pd.Series, column_type: str | None = None) -> list[Any]:
    """:func:`json_value` of every value of ``series``, with fast paths for the usual dtypes."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) or dtype == np.dtype(object):
        return [v if type(v) is str else json_value(v, column_type) for v in series.tolist()]
    if dtype == np.float64:
        return [
            None if not math.isfinite(v) else int(v) if v.is_integer() and abs(v) < 2**53 else v
            for v in series.to_numpy().tolist()
        ]
    if dtype.kind == "M" and isinstance(dtype, np.dtype) and column_type in ("date", "datetime"):
        texts = iso_texts(series.to_numpy(), "D" if column_type == "date" else "s")
        if texts is not None:
            return texts
    if dtype.kind == "m" and isinstance(dtype, np.dtype):
        clocks = clock_texts(series.to_numpy())
        if clocks is not None:
            return clocks
    return [json_value(v, column_type) for v in series]


#: Years numpy and pandas write the same way (pandas' strftime does not pad years below 1000).
_ISO_SAFE = (np.datetime64("1000-01-01", "s"), np.datetime64("9999-12-31T23:59:59", "s"))


def _iso_safe(present: np.ndarray) -> bool:
    """Whether every date-time (none is NaT) is within :data:`_ISO_SAFE`."""
    if not len(present) or np.datetime_data(present.dtype)[0] == "ns":
        return True  # nanoseconds reach 1677-2262 only
    seconds = present.astype("M8[s]")
    return bool(seconds.min() >= _ISO_SAFE[0] and seconds.max() <= _ISO_SAFE[1])


def iso_texts(values: np.ndarray, unit: Literal["D", "m", "s"]) -> list[Any] | None:
    """Date-times as ``YYYY-MM-DD`` (unit ``D``), ``YYYY-MM-DD HH:MM`` (``m``) or
    ``YYYY-MM-DD HH:MM:SS`` (``s``), None for NaT: numpy's own formatting, which truncates like
    pandas' ``strftime`` and ``isoformat``. None when a year is outside 1000-9999."""
    missing = np.isnat(values)
    if not _iso_safe(values[~missing]):
        return None
    texts = np.datetime_as_string(values.astype(f"M8[{unit}]"), unit=unit).tolist()
    if unit != "D":
        texts = [t.replace("T", " ") for t in texts]
    if missing.any():
        return [None if m else t for t, m in zip(texts, missing.tolist(), strict=True)]
    return texts


def _evidence_columns(dataset: Dataset, used: Iterable[str]) -> list[str]:
    roles = [dataset.key, dataset.department, dataset.official, dataset.event_time]
    ordered: list[str] = []
    for name in [*roles, *used]:
        if name and name in dataset.by_name and name not in ordered:
            ordered.append(name)
    return ordered


def _texts(rows: pd.DataFrame, column: str | None, none: list[Any]) -> list[Any]:
    """A role column (department, official) as text, None where missing."""
    if not column or column not in rows.columns:
        return none
    return [None if v is None else str(v) for v in json_column(rows[column])]


def _times(rows: pd.DataFrame, column: str | None, none: list[Any]) -> list[Any]:
    """The event time of each row as a Python datetime, None where missing or not a time."""
    if not column or column not in rows.columns:
        return none
    series = rows[column]
    if isinstance(series.dtype, np.dtype) and series.dtype.kind == "M":
        values = series.to_numpy()
        if _iso_safe(values[~np.isnat(values)]):
            # microseconds, floored like Timestamp.to_pydatetime(); NaT gives None
            return values.astype("M8[us]").tolist()  # type: ignore[no-any-return]
    return [
        pd.Timestamp(v).to_pydatetime()
        if v is not None and v is not pd.NaT and isinstance(v, pd.Timestamp | datetime)
        else None
        for v in series
    ]
