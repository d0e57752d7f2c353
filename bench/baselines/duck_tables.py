"""DuckDB side of the baselines: the prepared frames copied into DuckDB tables once (dates as
``DATE``), then each rule's query run and its keys fetched."""

from __future__ import annotations

import time
from collections.abc import Callable

import duckdb

from bench.baselines.duck_aggregate import AGGREGATE, DUPLICATE
from bench.baselines.duck_match import QUERIES as MATCH
from bench.baselines.duck_sequence import SEQUENCE
from bench.baselines.spec import Spec
from bench.baselines.tables import Prepared, date_columns

#: Every rule's query builder, by rule id.
QUERIES: dict[str, Callable[[Spec], str]] = {**MATCH, **AGGREGATE, **DUPLICATE, **SEQUENCE}


class DuckTables:
    """An in-memory DuckDB database holding the prepared tables."""

    def __init__(self, prepared: Prepared, threads: int | None = None) -> None:
        start = time.perf_counter()
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        for name, frame in prepared.frames.items():
            dates = set(date_columns(name))
            cols = ", ".join(
                f'CAST("{c}" AS DATE) AS "{c}"' if c in dates else f'"{c}"' for c in frame.columns
            )
            self.con.register("incoming", frame)
            self.con.execute(f'CREATE TABLE "{name}" AS SELECT {cols} FROM incoming')
            self.con.unregister("incoming")
        self.con.register("incoming", prepared.holidays)
        self.con.execute("CREATE TABLE holidays AS SELECT CAST(day AS DATE) AS day FROM incoming")
        self.con.unregister("incoming")
        #: Seconds spent copying the frames into DuckDB.
        self.load_seconds = time.perf_counter() - start

    @property
    def threads(self) -> int:
        """The worker threads DuckDB uses."""
        row = self.con.execute("SELECT current_setting('threads')").fetchall()[0]
        return int(row[0]) if row else 0

    def keys(self, sql: str) -> set[str]:
        """The keys ``sql`` returns, as text."""
        return {str(r[0]) for r in self.con.execute(sql).fetchall()}

    def close(self) -> None:
        """Release the connection."""
        self.con.close()
