"""Counting the Python function calls a piece of work makes: a vectorized evaluation makes
about as many for a hundred thousand records as for a thousand, a per-record loop a hundred
times more. Unlike a stopwatch, the count does not depend on how busy the machine is."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def python_calls(work: Callable[[], Any]) -> tuple[Any, int]:
    """``work()``'s result and the number of Python function calls it made (this thread)."""
    count = 0

    def profile(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        result = work()
    finally:
        sys.setprofile(None)
    return result, count


def per_record(work: Callable[[int], Any], small: int = 1_000, large: int = 100_000) -> float:
    """Extra Python calls per extra record between ``work(small)`` and ``work(large)``:
    about 0 when vectorized, 1 or more when a Python function runs per record."""
    work(small)  # warm caches and lazy imports, which are not per record
    _, few = python_calls(lambda: work(small))
    _, many = python_calls(lambda: work(large))
    return (many - few) / (large - small)
