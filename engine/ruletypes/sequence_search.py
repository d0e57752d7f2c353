"""Sorted searches over (key, time) for ``sequence`` rules: their prefilter and their decision.

A sequence rule relates a flagged record at tick ``t`` to the counterparts of its key whose
tick lies in its window ``[lo, hi]`` (both edges inclusive, every window the same length).
Two whole-array questions answer everything the rule type needs without a Python loop:

- :func:`in_some_window`: which counterparts fall in the window of at least one flagged record
  of their key? The others can never take part in a match: dropping them changes no result.
- :class:`Timeline` ``.first_in`` / :func:`witnesses`: which flagged records have a
  counterpart of their key in their window, and the earliest such counterpart.

Both are one ``np.searchsorted`` over a combined, sorted (key, time rank) integer, the same
trick as :mod:`naebu.engine.ruletypes.windows`. Keys are dense non-negative codes (:func:`key_codes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def key_codes(left: pd.DataFrame, right: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One dense non-negative integer per distinct key tuple, shared by both frames.

    The frames have the same number of columns (the ``match`` pairs, in order) and no nulls.
    Values compare as Python objects do (``==`` and ``hash``), column by column.
    """
    n = len(left)
    if left.shape[1] == 0 or n + len(right) == 0:
        return np.zeros(n, "int64"), np.zeros(len(right), "int64")
    combined: np.ndarray | None = None
    for i in range(left.shape[1]):
        both = pd.concat([left.iloc[:, i], right.iloc[:, i]], ignore_index=True)
        if both.dtype != left.iloc[:, i].dtype and len(left) and len(right):
            both = both.astype(object)  # two dtypes: compare the values as Python objects
        codes, uniques = pd.factorize(both)
        codes = np.asarray(codes, dtype="int64")
        if combined is None:
            combined = codes
        else:  # fold the column in, then re-densify so the product never overflows
            combined, _ = pd.factorize(combined * len(uniques) + codes)
            combined = np.asarray(combined, dtype="int64")
    assert combined is not None
    return combined[:n], combined[n:]


#: Most steps of the block-wise binary search (:meth:`Timeline._bounds`): a key with more
#: events than ``2**BLOCK_STEPS - 1`` sends every query to one global ``np.searchsorted``.
BLOCK_STEPS = 4


@dataclass(frozen=True)
class Timeline:
    """Events (key code, tick) sorted by key, then time, searchable by key and time range."""

    order: np.ndarray  # positions of the events, sorted by (key, time)
    combined: np.ndarray  # key * width + rank of time, sorted (nondecreasing)
    unique: np.ndarray  # the distinct ticks, sorted
    width: int
    times: np.ndarray  # the ticks in sorted order
    starts: np.ndarray  # key k's events are at sorted positions starts[k] .. starts[k + 1] - 1

    @classmethod
    def of(cls, keys: np.ndarray, times: np.ndarray) -> Timeline:
        """The timeline of events with these key codes and ticks."""
        keys = np.asarray(keys, dtype="int64")
        times = np.asarray(times, dtype="int64")
        unique = np.unique(times)
        width = len(unique) + 1
        # key * width + rank < (keys + 1) * width: exact in int64 for any frame in memory
        combined = keys * width + np.searchsorted(unique, times)
        order = np.argsort(combined, kind="stable")
        counts = np.bincount(keys) if len(keys) else np.zeros(0, "int64")
        starts = np.concatenate([[0], np.cumsum(counts)]).astype("int64")
        return cls(order, combined[order], unique, width, times[order], starts)

    def _bounds(
        self, keys: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each query, the sorted positions ``[start, end)`` of its key's events in
        ``[lo, hi]``.

        A key holds few events in the usual case (one inspection per contract, one account
        change per vendor): each query then searches only its key's block, a few whole-array
        steps of a binary search (gathers from a small array), instead of a binary search of
        the whole timeline per query, whose scattered reads dominated a rule's time on a
        million payments. A key with many events falls back to the global search."""
        keys = np.asarray(keys, dtype="int64")
        lo, hi = np.asarray(lo, dtype="int64"), np.asarray(hi, dtype="int64")
        blocks = len(self.starts) - 1
        largest = int(np.diff(self.starts).max()) if blocks > 0 else 0
        if largest.bit_length() <= BLOCK_STEPS:
            known = (keys >= 0) & (keys < blocks)
            k = np.where(known, keys, 0)
            first = np.where(known, self.starts[k], 0)
            last = np.where(known, self.starts[k + 1], 0)
            start = _block_search(self.times, first, last, lo, right=False)
            end = _block_search(self.times, first, last, hi, right=True)
            return start, np.maximum(start, end)
        # The rank of ``hi`` + 1 is at most ``len(unique)`` < ``width``, so a range never
        # reaches into the next key.
        first = np.searchsorted(self.unique, lo, side="left")
        after = np.searchsorted(self.unique, hi, side="right")
        start = np.searchsorted(self.combined, keys * self.width + first, side="left")
        end = np.searchsorted(self.combined, keys * self.width + after, side="left")
        return start, np.maximum(start, end)

    def count(self, keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """How many events of each query's key lie in ``[lo, hi]``."""
        if not len(self.order):
            return np.zeros(len(keys), "int64")
        start, end = self._bounds(keys, lo, hi)
        return end - start

    def first_in(self, keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """For each query, the position of its key's earliest event in ``[lo, hi]``; -1 if none."""
        out = np.full(len(keys), -1, dtype="int64")
        if not len(self.order):
            return out
        start, end = self._bounds(keys, lo, hi)
        found = end > start
        out[found] = self.order[start[found]]
        return out


def _block_search(
    values: np.ndarray, first: np.ndarray, last: np.ndarray, x: np.ndarray, *, right: bool
) -> np.ndarray:
    """For each query, the first position in ``[first, last)`` (``values`` sorted there) whose
    value is at least ``x`` (above ``x`` when ``right``): a binary search of every query at
    once, as many steps as the largest block needs."""
    lo, hi = first.copy(), last.copy()
    if not len(values):
        return lo
    steps = int((hi - lo).max(initial=0)).bit_length()
    top = len(values) - 1
    for _ in range(steps):
        active = lo < hi
        mid = (lo + hi) >> 1
        v = values[np.minimum(mid, top)]
        go = active & ((v <= x) if right else (v < x))
        lo = np.where(go, mid + 1, lo)
        hi = np.where(active & ~go, mid, hi)
    return lo


def in_some_window(
    c_keys: np.ndarray,
    c_times: np.ndarray,
    r_keys: np.ndarray,
    r_lo: np.ndarray,
    within: int,
) -> np.ndarray:
    """Whether each counterpart lies in the window ``[lo, lo + within]`` of at least one
    flagged record of its key. Equivalently: some record's ``lo`` is in ``[t - within, t]``."""
    c_times = np.asarray(c_times, dtype="int64")
    if not len(c_keys) or not len(r_keys):
        return np.zeros(len(c_keys), dtype=bool)
    if len(r_keys) <= len(c_keys):
        return Timeline.of(r_keys, r_lo).count(c_keys, c_times - within, c_times) > 0
    # More flagged records than counterparts (a million payments, 100,000 contracts): sort the
    # smaller side instead; each window marks its range of sorted counterparts.
    r_lo = np.asarray(r_lo, dtype="int64")
    line = Timeline.of(c_keys, c_times)
    start, end = line._bounds(r_keys, r_lo, r_lo + within)
    n = len(c_keys)
    marks = np.bincount(start, minlength=n + 1) - np.bincount(end, minlength=n + 1)
    inside = np.zeros(n, dtype=bool)
    inside[line.order] = np.cumsum(marks[:n]) > 0
    return inside


def witnesses(
    r_keys: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    c_keys: np.ndarray,
    c_times: np.ndarray,
) -> np.ndarray:
    """For each flagged record, the position of the earliest counterpart of its key in its
    window ``[lo, hi]``; -1 when it has none."""
    return Timeline.of(c_keys, c_times).first_in(r_keys, lo, hi)
