"""How the benchmark times what it compares: interleaved runs and their median.

Two sides timed one after the other (all of naebu, then all of DuckDB) each see a different
machine when something else runs meanwhile, and the best of several runs hides how the runs
spread. So the sides take turns - naebu, DuckDB, Polars, naebu, DuckDB, Polars, ... - for
``rounds`` rounds, every run is kept, and the median of each side counts.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class Runs:
    """One side's runs: the seconds of each, and the last run's result."""

    seconds: list[float]
    result: Any

    @property
    def median(self) -> float:
        """The median seconds."""
        return statistics.median(self.seconds)

    def as_json(self) -> dict[str, Any]:
        """The runs and their median, for results.json."""
        return {"median": self.median, "runs": [round(s, 6) for s in self.seconds]}


def interleaved(sides: Mapping[str, Callable[[], Any]], rounds: int) -> dict[str, Runs]:
    """Call every side once per round, in the order given, for ``rounds`` rounds (at least
    one); each call is timed on its own."""
    out = {name: Runs([], None) for name in sides}
    for _ in range(max(1, rounds)):
        for name, call in sides.items():
            start = time.perf_counter()
            result = call()
            out[name].seconds.append(time.perf_counter() - start)
            out[name].result = result
    return out


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator
