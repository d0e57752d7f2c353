"""``unmatched``: what a ``sequence`` rule does with a record whose counterpart is unknown.

An absence (``expect = "absent"`` or ``"before"``) has two very different causes:

- the counterpart **record exists** but its event did not happen in time: a contract whose
  inspection day is empty or later than the payment. That is the finding;
- **no counterpart record exists at all**: a payment against a contract the contracts export
  does not hold (it covers this year; the payment is on last year's contract). Nothing is
  known about the event: absent data must never make a rule fire.

``unmatched`` on the rule says which way the second case goes:

- ``"skip"`` (the default): the record is not judged;
- ``"fire"``: the counterpart never existing is itself the finding - a sale with no receipt
  at all, a permit never levied. Say why in the rule file.

A counterpart record is *known* for a flagged record when the other side holds a record of
its key (no null in a ``match`` column) that passes the other side's ``when`` and whose time
is empty or not before the flagged record's window starts. A record whose event lies before
the window (an inspection more than ``within`` before the payment) says nothing about the
window either way and is not counted; this also keeps the answer within the history an
incremental run reads (every counterpart from the window's start on, and those without a
time), and within one part of the Dask backend (parts split by the ``match`` columns).
With ``expect = "present"`` the key has no effect: a presence needs a counterpart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from naebu.core.problems import did_you_mean
from naebu.engine.expr import CompiledExpression
from naebu.engine.registry import ProblemFactory
from naebu.engine.ruletypes.sequence_search import key_codes

UNMATCHED = ("skip", "fire")
DEFAULT = "skip"
_TZ = "Asia/Seoul"


def compile_unmatched(raw: Any, expect: str | None, problem: ProblemFactory) -> str | None:
    """The rule's ``unmatched`` (the default when absent), or None after reporting a problem."""
    if raw is None:
        return DEFAULT
    if raw not in UNMATCHED:
        problem(
            "unmatched",
            f"unknown unmatched {raw!r}",
            did_you_mean(str(raw), UNMATCHED) or "skip (the default) or fire",
        )
        return None
    if expect == "present":
        problem(
            "unmatched",
            'has no effect with expect = "present": a presence needs a counterpart',
            "leave unmatched out",
        )
        return None
    return str(raw)


def naive(series: pd.Series) -> pd.Series:
    """Times as naive Asia/Seoul datetimes (the canonical form), whatever they came as."""
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series, errors="coerce")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(_TZ).dt.tz_localize(None)
    return series


def ticks(times: pd.Series, by_day: bool) -> np.ndarray:
    """Calendar days or seconds since the epoch, as integers (times must not be null)."""
    unit = "datetime64[D]" if by_day else "datetime64[s]"
    return times.to_numpy(dtype="datetime64[ns]").astype(unit).astype("int64")


def counterpart_known(
    keys: pd.DataFrame,
    lo: np.ndarray,
    other: pd.DataFrame,
    columns: list[str],
    time: str,
    when: CompiledExpression | None,
    by_day: bool,
) -> np.ndarray:
    """Per flagged record (its ``match`` values in ``keys``, its window's first tick in
    ``lo``): does ``other`` hold a counterpart record of its key (see the module docstring)?"""
    known = np.zeros(len(keys), dtype=bool)
    if not len(keys) or other.empty:
        return known
    theirs = other[columns]
    keyed = np.flatnonzero(~np.asarray(theirs.isna().any(axis=1), dtype=bool))
    mine, codes = key_codes(
        keys.set_axis(range(len(columns)), axis=1),
        theirs.take(keyed).set_axis(range(len(columns)), axis=1),
    )
    # Only the records of the flagged keys are looked at (and copied): the filter runs on few
    # rows.
    wanted = np.isin(codes, mine)
    rows, codes = other.take(keyed[wanted]), codes[wanted]
    if when is not None and len(rows):
        used = [c for c in rows.columns if c in when.columns_used]
        passes = np.asarray(when.evaluate(rows[used]), dtype=bool)
        rows, codes = rows[passes], codes[passes]
    if not len(rows):
        return known
    times = naive(rows[time])
    timed = ~np.asarray(times.isna(), dtype=bool)
    at = np.full(len(rows), np.iinfo("int64").max)  # no time: it may yet come, it counts
    at[timed] = ticks(times[timed], by_day)
    latest = np.full(int(max(codes.max(), mine.max())) + 1, np.iinfo("int64").min)
    np.maximum.at(latest, codes, at)
    return np.asarray(latest[mine] >= lo, dtype=bool)
