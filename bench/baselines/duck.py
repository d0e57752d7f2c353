"""Baseline (b): DuckDB running equivalent SQL over the very same pandas frames.

The frames are registered as views (DuckDB scans pandas memory; nothing is copied into a
table first) and each query's result is fetched as a column of keys. Timed: the query's
execution and fetch, best of several runs (:mod:`bench.baselines.timing`), as naebu's side is.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pandas as pd

from bench.baselines.cases import SQL_PRESENT
from bench.baselines.timing import best_of, timed


class Duck:
    """A DuckDB connection with the benchmark's frames registered by dataset name."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute(SQL_PRESENT)
        for name, frame in frames.items():
            self.con.register(name, frame)

    @property
    def threads(self) -> int:
        """The worker threads DuckDB uses (its default: every core)."""
        row = self.con.execute("SELECT current_setting('threads')").fetchone()
        return int(row[0]) if row else 0

    def keys(self, sql: str, repeat: int = 3) -> tuple[float, list[object]]:
        """Best wall seconds of ``sql`` (:func:`bench.baselines.timing.best_of`) and the keys
        it returned."""
        return best_of(timed(lambda: [row[0] for row in self.con.execute(sql).fetchall()]), repeat)

    def close(self) -> None:
        """Release the connection."""
        self.con.close()
