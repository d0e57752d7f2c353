"""Polars side of the baselines: the prepared frames turned into Polars frames once (dates as
``Date``), then each rule's lazy query collected and its keys taken."""

from __future__ import annotations

import time

import polars as pl

from bench.baselines.polars_aggregate import AGGREGATE, DUPLICATE
from bench.baselines.polars_match import MATCH, Query
from bench.baselines.polars_sequence import SEQUENCE
from bench.baselines.spec import Spec
from bench.baselines.tables import Prepared, date_columns

#: Every rule's query, by rule id.
QUERIES: dict[str, Query] = {**MATCH, **AGGREGATE, **DUPLICATE, **SEQUENCE}


class PolarsTables:
    """The prepared tables as Polars frames (held in memory, queried lazily)."""

    def __init__(self, prepared: Prepared) -> None:
        start = time.perf_counter()
        self.frames: dict[str, pl.LazyFrame] = {}
        for name, frame in prepared.frames.items():
            df = pl.from_pandas(frame)
            dates = [d for d in date_columns(name) if d in df.columns]
            df = df.with_columns([pl.col(d).cast(pl.Date) for d in dates]).rechunk()
            self.frames[name] = df.lazy()
        days = pl.from_pandas(prepared.holidays).with_columns(pl.col("day").cast(pl.Date))
        self.frames["holidays"] = days.lazy()
        #: Seconds spent turning the frames into Polars frames.
        self.load_seconds = time.perf_counter() - start

    def keys(self, query: Query, spec: Spec) -> set[str]:
        """The keys the rule's query flags, as text."""
        found = query(spec, self.frames).collect()
        return {str(k) for k in found.to_series(0).to_list()}

    @staticmethod
    def threads() -> int:
        """The worker threads Polars uses."""
        return int(pl.thread_pool_size())
