"""Vectorized time windows over groups: the engine room of ``aggregate`` and ``duplicate``.

pandas ``groupby().rolling("30D")`` runs Python per group (93 s for 1M rows in 1.6M groups on
the project machine). Here every step is a whole-array numpy operation (about 1 s for the same):

1. rows are sorted by group, then time (:func:`prepare`);
2. each row's window is a range ``[start, end)`` of sorted positions, found with one
   ``np.searchsorted`` on a combined (group, time rank) key (:func:`trailing`, :func:`around`,
   :func:`blocks`);
3. count, sum and mean come from prefix sums (exact integer prefix sums when the values allow),
   min and max from a sparse table, distinct from "previous occurrence" positions
   (:func:`range_aggregates`).

Windows are closed at both ends: a trailing ``30d`` window of a record at ``t`` holds every
record of its group with ``t - 30 days <= time <= t`` (records exactly 30 days apart share it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from naebu.engine.expr.values import to_runtime

#: Pairs (window, member) expanded at once when counting distinct values in trailing windows.
_CHUNK_PAIRS = 4_000_000


@dataclass
class Sorted:
    """Rows of a frame that can take part in windows, sorted by group then time.

    ``rows`` are positions in the original frame; ``group`` dense group codes; ``time`` int64
    nanoseconds. Rows with a null group key or a null time are left out.
    """

    rows: np.ndarray
    group: np.ndarray
    time: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


def group_codes(frame: pd.DataFrame, columns: Sequence[str], types: dict[str, str]) -> np.ndarray:
    """A dense int code per row for the combination of ``columns``; -1 where any is null (or
    blank text: blank counts as missing, as in conditions)."""
    if not columns:
        return np.zeros(len(frame), dtype=np.int64)
    # Each column factorized once, the codes folded pairwise: the numbering of
    # ``groupby(columns, sort=False, dropna=True).ngroup()`` (order of first appearance)
    # without its group index machinery.
    combined = np.zeros(len(frame), dtype=np.int64)
    for c in columns:
        codes, uniques = pd.factorize(to_runtime(frame[c], types[c]))
        combined = _fold(combined, np.asarray(codes, dtype=np.int64), len(uniques))
    return combined


def _fold(codes: np.ndarray, more: np.ndarray, size: int) -> np.ndarray:
    """Dense codes (first appearance order, -1 where either is -1) of the pairs
    (``codes``, ``more``); ``more`` holds codes below ``size``."""
    out = np.full(len(codes), -1, dtype=np.int64)
    both = (codes >= 0) & (more >= 0)
    # dense codes (below n) times size (at most n) stay below n**2: exact in int64
    out[both] = pd.factorize(codes[both] * max(1, size) + more[both])[0]
    return out


def shared_codes(
    frame: pd.DataFrame, columns: Sequence[str], types: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose combination of ``columns`` (none null or blank) at least one other row
    shares: their positions, and a dense code per such row for its combination.

    Only such rows can have a sibling (``duplicate``). The columns are taken one at a time and
    rows left alone on the keys so far are dropped before the next column is coded, so a
    nearly unique column (an invoice number) is hashed only for the few rows that share the
    others (1M payments: 11,000 share vendor and amount). Codes compare as
    :func:`group_codes` does (its groupby codes each column with the same factorize)."""
    pos = np.arange(len(frame))
    combined: np.ndarray | None = None  # codes of the columns so far, below len(frame)
    for c in columns:
        column = frame[c] if len(pos) == len(frame) else frame[c].take(pos)
        codes, uniques = pd.factorize(to_runtime(column, types[c]))
        codes = np.asarray(codes, dtype=np.int64)
        present = codes >= 0
        codes = codes[present]
        if combined is not None:
            # codes below n times the column's distinct count stay below n**2: exact in int64
            codes = np.asarray(
                pd.factorize(combined[present] * max(1, len(uniques)) + codes)[0], dtype=np.int64
            )
        shared = np.bincount(codes)[codes] >= 2 if len(codes) else present[:0]
        pos, combined = pos[present][shared], codes[shared]
    if combined is None:
        combined = np.zeros(len(frame), dtype=np.int64)
    if len(combined):  # dense again, in order of first appearance
        combined = np.asarray(pd.factorize(combined)[0], dtype=np.int64)
    return pos, combined


def prepare(codes: np.ndarray, times: pd.Series, period: str | None = None) -> Sorted:
    """Sort the usable rows by (group, time). With a calendar ``period`` (pandas frequency:
    D, W, M, Q, Y) the period of the time joins the group, so each block is one calendar span."""
    t = pd.to_datetime(times, errors="coerce").reset_index(drop=True)
    usable = (codes >= 0) & t.notna().to_numpy()
    rows = np.flatnonzero(usable)
    g = codes[rows]
    ns = t.to_numpy(dtype="datetime64[ns]")[rows].astype(np.int64)
    if period is not None and len(rows):
        spans = t.iloc[rows].dt.to_period(period).astype("int64").to_numpy()
        p_codes, p_uniques = pd.factorize(spans)
        g = _fold(g, np.asarray(p_codes, dtype=np.int64), len(p_uniques))
    order = np.lexsort((ns, g))
    return Sorted(rows[order], g[order].astype(np.int64), ns[order])


def _rank_key(s: Sorted) -> tuple[np.ndarray, np.ndarray, int]:
    """Sorted unique times, and a key (group, time rank) that is nondecreasing over ``s``."""
    unique = np.unique(s.time)
    width = len(unique) + 1
    # group * width + rank stays below n**2: exact in int64 for any frame that fits in memory
    key = s.group * width + np.searchsorted(unique, s.time)
    return unique, key, width


def trailing(s: Sorted, length_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """For each sorted row at ``t``: the range of its group's rows with ``t - length <= time <= t``."""
    if not len(s):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    unique, key, width = _rank_key(s)
    first = np.searchsorted(unique, s.time - length_ns, side="left")
    start = np.searchsorted(key, s.group * width + first, side="left")
    end = np.searchsorted(key, key, side="right")
    return start, end


def around(s: Sorted, length_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """For each sorted row at ``t``: the range of its group's rows with ``|time - t| <= length``."""
    if not len(s):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    unique, key, width = _rank_key(s)
    first = np.searchsorted(unique, s.time - length_ns, side="left")
    last = np.searchsorted(unique, s.time + length_ns, side="right") - 1
    start = np.searchsorted(key, s.group * width + first, side="left")
    end = np.searchsorted(key, s.group * width + last, side="right")
    return start, end


def blocks(s: Sorted) -> tuple[np.ndarray, np.ndarray]:
    """For each sorted row: the range of its whole group (a calendar block, see :func:`prepare`)."""
    return np.searchsorted(s.group, s.group, "left"), np.searchsorted(s.group, s.group, "right")


# -- aggregates over ranges ----------------------------------------------------------------------
def range_count_present(values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """How many non-null values each range holds."""
    present = np.concatenate([[0], np.cumsum(~np.isnan(values), dtype=np.int64)])
    return present[end] - present[start]


def range_sum(values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Sum of the non-null values of each range (null when it has none).

    Amounts in won, or hours with a few decimals, are summed exactly as scaled integers, so a
    total of exactly the limit compares equal to it; other values use float prefix sums.
    """
    filled = np.nan_to_num(values, nan=0.0)
    total: np.ndarray | None = None
    for scale in (1, 100, 10_000, 1_000_000):
        scaled = filled * scale
        whole = np.round(scaled)
        if np.all(np.abs(scaled - whole) <= 1e-6) and np.abs(whole).sum() < 2**62:
            prefix = np.concatenate([[0], np.cumsum(whole.astype(np.int64))])
            total = (prefix[end] - prefix[start]).astype(np.float64) / scale
            break
    if total is None:
        prefix_f = np.concatenate([[0.0], np.cumsum(filled)])
        total = prefix_f[end] - prefix_f[start]
    total[range_count_present(values, start, end) == 0] = np.nan
    return total


def range_extreme(
    values: np.ndarray, start: np.ndarray, end: np.ndarray, *, high: bool
) -> np.ndarray:
    """Minimum (or maximum) non-null value of each range, by a sparse table: level k holds the
    extreme of every run of 2**k values, and a range is covered by two overlapping runs."""
    if not len(start):
        return np.zeros(0)
    pick = np.fmax if high else np.fmin  # fmin/fmax skip NaN unless both are NaN
    lengths = end - start
    levels = [values.astype(np.float64)]
    k = 1
    while (1 << k) <= int(lengths.max()):
        prev, half = levels[-1], 1 << (k - 1)
        nxt = prev.copy()
        nxt[: len(prev) - half] = pick(prev[: len(prev) - half], prev[half:])
        levels.append(nxt)
        k += 1
    table = np.vstack(levels)
    level = np.floor(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    level = np.minimum(level, len(levels) - 1)
    return pick(table[level, start], table[level, end - (1 << level)])


def previous_same(s: Sorted, values: pd.Series) -> np.ndarray:
    """For each sorted row: the sorted position of the previous row of its group holding the
    same value, -1 if none; -2 for a null value (never counted as distinct)."""
    codes, _ = pd.factorize(values.to_numpy(dtype=object)[s.rows] if len(s) else values.iloc[:0])
    codes = np.asarray(codes, dtype=np.int64)
    pos = np.arange(len(s))
    order = np.lexsort((pos, codes, s.group))
    prev = np.full(len(s), -1, dtype=np.int64)
    same = (s.group[order][1:] == s.group[order][:-1]) & (codes[order][1:] == codes[order][:-1])
    prev[order[1:][same]] = order[:-1][same]
    prev[codes < 0] = -2
    return prev


def range_distinct(
    prev: np.ndarray, start: np.ndarray, end: np.ndarray, *, shared: bool
) -> np.ndarray:
    """Distinct non-null values of each range: its rows whose value did not occur earlier in it.

    ``shared``: every row of a range has that same range (calendar blocks), so one prefix count
    serves; otherwise (trailing windows) the (range, row) pairs are expanded in chunks.
    """
    n = len(start)
    if not n:
        return np.zeros(0)
    if shared:
        fresh = (prev < start) & (prev != -2)
        prefix = np.concatenate([[0], np.cumsum(fresh, dtype=np.int64)])
        return (prefix[end] - prefix[start]).astype(np.float64)
    out = np.zeros(n, dtype=np.float64)
    lengths = end - start
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    i = 0
    while i < n:
        j = max(i + 1, int(np.searchsorted(bounds, bounds[i] + _CHUNK_PAIRS, side="right")) - 1)
        j = min(j, n)
        lens = lengths[i:j]
        anchor = np.repeat(np.arange(i, j), lens)
        offset = np.arange(len(anchor)) - np.repeat(bounds[i:j] - bounds[i], lens)
        member = start[anchor] + offset
        fresh = (prev[member] < start[anchor]) & (prev[member] != -2)
        out[i:j] = np.bincount(anchor - i, weights=fresh, minlength=j - i)
        i = j
    return out


def members_of_true_windows(
    ok: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows inside at least one window where ``ok`` holds, and for each row the window whose
    values it reports: the first such window (in sorted order) that contains it, so a record's
    evidence does not change when later records arrive. Returns (flagged mask, window index)."""
    n = len(ok)
    hits = np.flatnonzero(ok)
    if not len(hits):
        return np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64)
    # start and end only grow along the sorted rows, so the first true window ending after j
    # is the only candidate that may contain j
    idx = np.searchsorted(end[hits], np.arange(n), side="right")
    inside = idx < len(hits)
    chosen = np.full(n, -1, dtype=np.int64)
    chosen[inside] = hits[idx[inside]]
    inside[inside] = start[chosen[inside]] <= np.flatnonzero(inside)
    chosen[~inside] = -1
    return inside, chosen
