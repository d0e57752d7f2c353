"""How the benchmark times a call it compares: the best of several runs.

One evaluation of a match rule takes a few milliseconds; timed three times, a scheduler
hiccup or a cold cache in one of them moves a ratio by a third (the same rule measured 4.4
and 7.8 ms in two runs of the benchmark). So a timed side runs at least ``repeat`` times and
then again until :data:`BUDGET` seconds have been spent on it (at most :data:`MOST` runs),
and its best time counts, as ``timeit`` does. naebu, DuckDB and the Python loops are timed
alike; durable_rules is fed its records once (a fresh ruleset each time would not be the
same engine state), over a third of a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds spent on one timed side before its best run counts.
BUDGET = 0.5
#: The most runs of one timed side.
MOST = 100


def best_of(call: Callable[[], tuple[float, T]], repeat: int) -> tuple[float, T]:
    """The best seconds of ``call`` - which times its own work and returns ``(seconds,
    result)`` - over at least ``repeat`` runs and until :data:`BUDGET` seconds have been
    spent, with the last run's result (every run gives the same)."""
    best, spent, runs = float("inf"), 0.0, 0
    while True:
        seconds, result = call()
        best, spent, runs = min(best, seconds), spent + seconds, runs + 1
        if runs >= max(1, repeat) and (spent >= BUDGET or runs >= MOST):
            return best, result


def timed(call: Callable[[], T]) -> Callable[[], tuple[float, T]]:
    """``call`` made to time itself (for :func:`best_of`)."""

    def run() -> tuple[float, T]:
        start = time.perf_counter()
        result = call()
        return time.perf_counter() - start, result

    return run
