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


@dataclass(frozen=True)
class Timeline:
    """Events (key code, tick) sorted by key, then time, searchable by key and time range."""

    order: np.ndarray  # positions of the events, sorted by (key, time)
    combined: np.ndarray  # key * width + rank of time, sorted (nondecreasing)
    unique: np.ndarray  # the distinct ticks, sorted
    width: int

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
        return cls(order, combined[order], unique, width)

    def _bounds(
        self, keys: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each query, the sorted positions ``[start, end)`` of its key's events in
        ``[lo, hi]``. The rank of ``hi`` + 1 is at most ``len(unique)`` < ``width``, so a
        range never reaches into the next key."""
        keys = np.asarray(keys, dtype="int64")
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
    return Timeline.of(r_keys, r_lo).count(c_keys, c_times - within, c_times) > 0


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
