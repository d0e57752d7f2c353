"""Baseline (c): the match rules of :mod:`bench.baselines.cases` as a plain per-row Python
loop over record dicts: what a programmer writes without a data-frame library. Only the loop
is timed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

Record = dict[str, Any]
DAY_NS = 86_400 * 10**9


def loop_match(predicate: Callable[[Record], bool], records: Sequence[Record],
               key: str) -> tuple[float, list[Any]]:  # fmt: skip
    """Seconds of one pass calling ``predicate`` on every record, and the flagged keys."""
    start = time.perf_counter()
    flagged = [r[key] for r in records if predicate(r)]
    return time.perf_counter() - start, flagged
