"""The record history: every canonical record naebu has read, kept in the store.

Rules that look across records - a 30-day window of contracts, a sale and its receipts, a
payment and its vendor - need more than the rows a pull just brought. Sources cannot always be
asked again (a card company's file is delivered once), so each pulled batch is written here,
in the same transaction as its alerts and its source's watermark. A record that changes at
the source replaces its old version (the dataset's key says which); ``_run_id`` tells which
run last wrote a record, so the engine can ask "what is new since this rule was last
evaluated".

Two backends keep it, with the same functions and the same results (:func:`backend` chooses,
in one place):

- ``segments`` (SQLite stores with a file): one Parquet file per committed batch beside the
  database, named by a manifest table committed with the batch (:mod:`.segments`,
  :mod:`.segments_read`; docs/history.md says why);
- ``tables`` (PostgreSQL, in-memory SQLite, the others): one ``rec_<dataset>`` table per
  dataset, upserted by key (:mod:`.history_tables`).

:func:`load` gives back frames in exactly the dtypes the connectors produce, from either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Literal

import pandas as pd
from sqlalchemy import Connection, Engine

from naebu.store import history_tables, segments, segments_read
from naebu.store.history_base import (
    KeyFilter,
    NewRecords,
    empty,
    in_window,
    last_versions,
)
from naebu.store.history_tables import TABLES, rule_state
from naebu.store.history_write import sqlite_datetimes as _sqlite_datetimes  # noqa: F401  (tests)

__all__ = [
    "TABLES",
    "KeyFilter",
    "NewRecords",
    "backend",
    "build_indexes",
    "column_filled",
    "defer_indexes",
    "drop_older",
    "empty",
    "holds_records",
    "in_window",
    "keys_timed_between",
    "last_versions",
    "load",
    "new_since",
    "rule_state",
    "store_records",
    "store_whole",
    "tidy",
    "touched_keys",
    "using",
]

Backend = Literal["segments", "tables"]

#: Set by :func:`using`: the backend every store gets, whatever it is.
_forced: list[Backend] = []


def backend(conn: Connection | Engine) -> Backend:
    """Where the history of this store is kept: in segment files for a SQLite store with a
    file, in tables for every other store (PostgreSQL: several daemons may share it and
    COPY is fast; an in-memory SQLite store has no folder for files)."""
    if _forced:
        return _forced[-1]
    url = conn.engine.url if isinstance(conn, Connection) else conn.url
    if url.get_backend_name() != "sqlite":
        return "tables"
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return "tables"
    if url.query.get("mode") == "memory":
        return "tables"
    return "segments"


@contextmanager
def using(kind: Backend) -> Iterator[None]:
    """Keep the history in ``kind`` whatever the store (tests compare the two backends)."""
    _forced.append(kind)
    try:
        yield
    finally:
        _forced.pop()


def _segments(conn: Connection) -> bool:
    return backend(conn) == "segments"


def store_records(conn: Connection, dataset_name: str, frame: pd.DataFrame, run_id: int) -> int:
    """Write a batch of canonical records; returns how many were written.

    The last record of a key within the batch wins, as it would at the source, and replaces
    the key's stored version. Written on ``conn``, in its transaction: a crash before the
    commit leaves the history as it was (a segment file no committed manifest row names is
    never read).
    """
    if _segments(conn):
        return segments.store_records(conn, dataset_name, frame, run_id)
    return history_tables.store_records(conn, dataset_name, frame, run_id)


def store_whole(conn: Connection, dataset_name: str, frame: pd.DataFrame, run_id: int) -> int:
    """Replace a reference dataset by a whole pull of it; returns how many records were written.

    Only the records that changed or are new count as written by this run, so an unchanged
    record keeps the run that last wrote it and rules joining the dataset see that nothing is
    new (:func:`new_since`). A record gone at the source is deleted; as a deletion leaves
    nothing to mark, every record then counts as written again (all count as new).
    """
    if _segments(conn):
        return segments.store_whole(conn, dataset_name, frame, run_id)
    return history_tables.store_whole(conn, dataset_name, frame, run_id)


def load(
    conn: Connection,
    dataset_name: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    time_column: str | None = None,
    before_run: int | None = None,
    only: KeyFilter | NewRecords | None = None,
) -> pd.DataFrame:
    """Records of a dataset (time within ``[since, until]`` when given), canonical dtypes.

    The time is ``time_column`` (default: the dataset's event time). Records without one are
    always included: a window rule cannot place them, but a join or an absence rule may
    still need them. ``before_run`` keeps only records last written by an earlier run (the
    pipeline has this run's records in memory already); ``only`` keeps the records whose
    column holds one of the given text values (None in the values: also where it is null;
    :class:`KeyFilter`, which may also take the records written after a given run), or those
    written after a given run (:class:`NewRecords`).
    """
    read = segments_read.load if _segments(conn) else history_tables.load
    return read(
        conn,
        dataset_name,
        since=since,
        until=until,
        time_column=time_column,
        before_run=before_run,
        only=only,
    )


def defer_indexes(conn: Connection, dataset_name: str) -> bool:
    """Before a load: true when the dataset's history holds no record (a first load). On
    tables, their secondary indexes are then dropped, and :func:`build_indexes` builds them
    after the load in one sort each; segments have no index to defer."""
    if _segments(conn):
        return not segments_read.holds_records(conn, dataset_name)
    return history_tables.defer_indexes(conn, dataset_name)


def build_indexes(conn: Connection, dataset_name: str) -> None:
    """Build the secondary indexes of a dataset's history table that are missing (after a
    first load, or one an interruption cut short); nothing for segments."""
    if not _segments(conn):
        history_tables.build_indexes(conn, dataset_name)


def touched_keys(
    conn: Connection, dataset_name: str, column: str, after_run: int
) -> set[str | None]:
    """The distinct values of ``column`` among the records written after ``after_run``."""
    if _segments(conn):
        return segments_read.touched_keys(conn, dataset_name, column, after_run)
    return history_tables.touched_keys(conn, dataset_name, column, after_run)


def keys_timed_between(
    conn: Connection,
    dataset_name: str,
    column: str,
    time_column: str,
    earliest: datetime,
    latest: datetime,
) -> set[str | None]:
    """The distinct values of ``column`` among records timed within ``[earliest, latest]``."""
    find = (
        segments_read.keys_timed_between if _segments(conn) else history_tables.keys_timed_between
    )
    return find(conn, dataset_name, column, time_column, earliest, latest)


def new_since(conn: Connection, dataset_name: str, last_run_id: int) -> tuple[int, datetime | None]:
    """How many records of a dataset were written after ``last_run_id``, and their earliest
    event time (None when the dataset has no event time or nothing is new)."""
    if _segments(conn):
        return segments_read.new_since(conn, dataset_name, last_run_id)
    return history_tables.new_since(conn, dataset_name, last_run_id)


def drop_older(conn: Connection, dataset_name: str, run_id: int) -> int:
    """Delete the records a whole (reference) pull did not bring again: gone at the source."""
    if _segments(conn):
        return segments.drop_older(conn, dataset_name, run_id)
    return history_tables.drop_older(conn, dataset_name, run_id)


def holds_records(conn: Connection, dataset_name: str) -> bool:
    """Whether the history of a dataset holds any record."""
    if _segments(conn):
        return segments_read.holds_records(conn, dataset_name)
    return history_tables.holds_records(conn, dataset_name)


def column_filled(conn: Connection, dataset_name: str, column: str) -> bool:
    """Whether any stored record of a dataset has a value in ``column``."""
    if _segments(conn):
        return segments_read.column_filled(conn, dataset_name, column)
    return history_tables.column_filled(conn, dataset_name, column)


def tidy(engine: Engine, *, compact: bool = True) -> None:
    """The upkeep of a store's segments, at the start and the end of a run: a store written
    before segments has its tables' records moved into them, files no committed manifest
    row names are deleted, and (``compact``) a dataset with too many segments is merged
    into one. Nothing for a store whose history is in tables."""
    if backend(engine) != "segments":
        return
    segments.adopt_tables(engine)
    if compact:
        segments.compact(engine)
    segments.sweep(engine)
