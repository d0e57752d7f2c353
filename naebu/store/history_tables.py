"""The record history kept in tables: one ``rec_<dataset>`` table per canonical dataset,
upserted by the dataset's key (a record that changes at the source replaces its old version),
with the run that last wrote each record in ``_run_id``.

The history of PostgreSQL stores (several daemons may share one; COPY is fast), in-memory
SQLite stores and the other databases (:func:`naebu.store.history.backend`). Written on the
caller's connection, in its transaction (:mod:`.history_write`). Column types map onto
portable SQL types; time-of-day values are stored as seconds since midnight.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine

from naebu.core import datasets
from naebu.store import history_write
from naebu.store.history_base import KeyFilter, NewRecords, as_datetime, last_versions, typed
from naebu.store.history_write import RUN_COLUMN
from naebu.store.tables import metadata

_SQL_TYPES: dict[str, type[TypeEngine[Any]]] = {
    "str": Text,
    "int": BigInteger,
    "number": Float,
    "date": Date,
    "datetime": DateTime,
    "time": Float,
    "bool": Boolean,
}


def _table(dataset: datasets.Dataset) -> Table:
    cols: list[Any] = []
    for c in dataset.columns:
        if c.name == dataset.key:
            cols.append(Column(c.name, String(500), primary_key=True))
        else:
            cols.append(Column(c.name, _SQL_TYPES[c.type]()))
    cols.append(Column(RUN_COLUMN, Integer, nullable=False))
    indexes = [Index(f"ix_rec_{dataset.name}_run", RUN_COLUMN)]
    if dataset.event_time:
        indexes.append(Index(f"ix_rec_{dataset.name}_time", dataset.event_time))
    for column in dataset.lookups:
        # MariaDB indexes a TEXT column by a prefix only; keys are far shorter than this.
        indexes.append(Index(f"ix_rec_{dataset.name}_{column}", column, mysql_length=100))
    return Table(f"rec_{dataset.name}", metadata, *cols, *indexes)


TABLES: dict[str, Table] = {name: _table(ds) for name, ds in datasets.DATASETS.items()}

#: Per rule: the last run whose records it has seen, and that run's clock.
rule_state = Table(
    "rule_state",
    metadata,
    Column("rule_id", String(100), primary_key=True),
    Column("last_run_id", Integer, nullable=False),
    Column("evaluated_at", DateTime, nullable=False),
)


def store_records(conn: Connection, dataset_name: str, frame: pd.DataFrame, run_id: int) -> int:
    """Upsert a batch of canonical records; returns how many were written.

    The last record of a key within the batch wins, as it would at the source. Written on
    ``conn``, in its transaction, by each database's bulk path (:mod:`.history_write`: COPY
    on PostgreSQL, multi-row upserts on SQLite).
    """
    if frame.empty:
        return 0
    dataset = datasets.get(dataset_name)
    frame = last_versions(frame, dataset.key)
    history_write.write(conn, TABLES[dataset_name], dataset, frame, run_id)
    return len(frame)


def store_whole(conn: Connection, dataset_name: str, frame: pd.DataFrame, run_id: int) -> int:
    """Replace a reference dataset by a whole pull of it; returns how many records were written.

    Only the records that changed or are new are written, so an unchanged record keeps the run
    that last wrote it and rules joining the dataset see that nothing is new
    (:func:`new_since`). A record gone at the source is deleted; as a deletion leaves nothing
    to mark, every record is then written again (all count as new).
    """
    dataset = datasets.get(dataset_name)
    table = TABLES[dataset_name]
    names = dataset.column_names
    frame = last_versions(frame, dataset.key)
    rows = history_write.row_tuples(frame, dataset, run_id, conn.dialect.name)
    k = names.index(dataset.key)
    # The driver's own values (no SQLAlchemy result processing), the kind _row_tuples binds:
    # a record read back equal to what would be written is unchanged. A value the database
    # rounds reads back different, and its record is merely written again.
    result = conn.execute(select(*[table.c[n] for n in names]))
    stored = {row[k]: tuple(row) for row in result.cursor.fetchall()} if result.cursor else {}
    result.close()
    if stored.keys() - {row[k] for row in rows}:
        written = store_records(conn, dataset_name, frame, run_id)
        drop_older(conn, dataset_name, run_id)
        return written
    changed = [i for i, row in enumerate(rows) if stored.get(row[k]) != row[:-1]]
    if not changed:
        return 0
    return store_records(conn, dataset_name, frame.iloc[changed], run_id)


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
    """:func:`naebu.store.history.load` from the ``rec_<dataset>`` tables (same arguments,
    same frame)."""
    dataset = datasets.get(dataset_name)
    table = TABLES[dataset_name]
    query = select(*[table.c[c.name] for c in dataset.columns])
    if before_run is not None:
        # "+ 0": nearly every record is older than this run, so the run index is the wrong
        # way in (SQLite would take it over the time index and visit the whole table).
        query = query.where(table.c[RUN_COLUMN] + 0 < before_run)
    keys: Table | None = None
    if isinstance(only, NewRecords):
        query = query.where(table.c[RUN_COLUMN] > only.after_run)
    elif only is not None:
        key = table.c[only.column]
        present = [v for v in only.values if v is not None]
        allowed: ColumnElement[bool]
        if len(present) > _IN_LIST:
            keys = _key_table(conn, present)
            allowed = key.in_(select(keys.c.value))
        else:
            allowed = key.in_(present)
        if only.with_null:
            allowed = or_(allowed, key.is_(None))
        if only.or_after_run is not None:
            allowed = or_(allowed, table.c[RUN_COLUMN] > only.or_after_run)
        query = query.where(allowed)
    column = time_column or dataset.event_time
    if column and (since is not None or until is not None):
        t = table.c[column]
        # Bind dates as dates: SQLite compares them as text, and '2025-03-02' sorts before
        # '2025-03-02 00:00:00'.
        as_date = dataset.by_name[column].type == "date"
        low = None if since is None else since.date() if as_date else since
        high = None if until is None else until.date() if as_date else until
        if column == dataset.event_time:
            # A bound no record lies beyond is no bound. Left in, it leads the planner into
            # the time index even for a window reaching back before the first record, and a
            # walk of the index in time order visits the table's rows out of order: slower
            # than reading the table through (a year's lookback over a year of payments).
            # The event time is indexed, so asking is a seek.
            low = low if low is None or _any_record(conn, table, t < low) else None
            high = high if high is None or _any_record(conn, table, t > high) else None
        bounds: list[ColumnElement[bool]] = [t.is_not(None)]
        if low is not None:
            bounds.append(t >= low)
        if high is not None:
            bounds.append(t <= high)
        if len(bounds) > 1:
            query = query.where(or_(t.is_(None), and_(*bounds)))
    # Fetch the driver's tuples, not SQLAlchemy rows: per-value result processing costs more
    # than the query on a large history. _typed types the raw values column by column.
    try:
        result = conn.execute(query)
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
    finally:
        if keys is not None:
            keys.drop(conn)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in dataset.column_names]
    raw = {name: columns[i] for i, name in enumerate(dataset.column_names)}
    return typed(raw, len(rows), dataset)


def defer_indexes(conn: Connection, dataset_name: str) -> bool:
    """Drop the secondary indexes of a dataset's history while it holds no record: a first
    load goes into the bare table and :func:`build_indexes` builds them after, in one sort
    each instead of an index update per record (a million payments: 6.4 s to load and index
    instead of 8.1 s, and room for the lookup indexes). True when they were dropped."""
    table = TABLES[dataset_name]
    if _any_record(conn, table, literal(True)):
        return False
    for index in table.indexes:
        index.drop(conn, checkfirst=True)
    return True


def build_indexes(conn: Connection, dataset_name: str) -> None:
    """Build the secondary indexes of a dataset's history that are missing (after a first
    load, or one an interruption cut short)."""
    for index in TABLES[dataset_name].indexes:
        index.create(conn, checkfirst=True)


def _any_record(conn: Connection, table: Table, where: ColumnElement[bool]) -> bool:
    """Whether any record of ``table`` meets ``where`` (not which: one row at most is read)."""
    return (
        conn.execute(select(literal(1)).select_from(table).where(where).limit(1)).first()
        is not None
    )


#: Above this many values a key filter goes through a temporary table instead of an IN list.
_IN_LIST = 500

_key_tables = itertools.count()


def _key_table(conn: Connection, values: Sequence[str]) -> Table:
    """A temporary one-column table holding ``values``, created on ``conn``; drop it after."""
    keys = Table(
        f"naebu_keys_{next(_key_tables)}",
        MetaData(),
        Column("value", String(500), primary_key=True),
        prefixes=["TEMPORARY"],
    )
    keys.create(conn)
    if conn.dialect.name == "sqlite":
        # The driver's executemany on plain tuples: a fifth of the time SQLAlchemy takes
        # with a dict per value (tens of thousands of touched keys in an incremental run).
        sql = f'INSERT INTO "{keys.name}" ("value") VALUES (?)'
        conn.exec_driver_sql(sql, [(v,) for v in values])  # type: ignore[arg-type]
    else:
        conn.execute(insert(keys), [{"value": v} for v in values])
    return keys


def touched_keys(
    conn: Connection, dataset_name: str, column: str, after_run: int
) -> set[str | None]:
    """The distinct values of ``column`` among the records written after ``after_run``."""
    table = TABLES[dataset_name]
    newer = table.c[RUN_COLUMN] > after_run
    return _distinct(conn, select(table.c[column]).where(newer))


def keys_timed_between(
    conn: Connection,
    dataset_name: str,
    column: str,
    time_column: str,
    earliest: datetime,
    latest: datetime,
) -> set[str | None]:
    """The distinct values of ``column`` among records timed within ``[earliest, latest]``."""
    dataset = datasets.get(dataset_name)
    table = TABLES[dataset_name]
    t = table.c[time_column]
    as_date = dataset.by_name[time_column].type == "date"
    low = earliest.date() if as_date else earliest
    high = latest.date() if as_date else latest
    return _distinct(conn, select(table.c[column]).where(t >= low, t <= high))


def _distinct(conn: Connection, query: Select[tuple[Any]]) -> set[Any]:
    """The distinct values of a one-column query, from the driver's tuples: SQLAlchemy's
    per-row processing costs more than the query for the tens of thousands of keys an
    incremental run may touch (text columns need none).

    Made distinct here, not by the database: asked for DISTINCT values of an indexed column,
    SQLite walks that column's whole index instead of the few rows the run or time index
    finds (1.6 s against 0.01 s for a contract id over a million payments)."""
    result = conn.execute(query)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    return {row[0] for row in rows}


def new_since(conn: Connection, dataset_name: str, last_run_id: int) -> tuple[int, datetime | None]:
    """How many records of a dataset were written after ``last_run_id``, and their earliest
    event time (None when the dataset has no event time or nothing is new)."""
    dataset = datasets.get(dataset_name)
    table = TABLES[dataset_name]
    newer = table.c[RUN_COLUMN] > last_run_id
    if not dataset.event_time:
        count = conn.execute(select(func.count()).select_from(table).where(newer)).scalar_one()
        return int(count), None
    # One query for both: alone, min() would walk the time index from its start, visiting
    # every older record, instead of the few new ones the run index finds.
    count, earliest = conn.execute(
        select(func.count(), func.min(table.c[dataset.event_time])).where(newer)
    ).one()
    return int(count), as_datetime(earliest) if count else None


def drop_older(conn: Connection, dataset_name: str, run_id: int) -> int:
    """Delete the records a whole (reference) pull did not bring again: gone at the source."""
    table = TABLES[dataset_name]
    return conn.execute(delete(table).where(table.c[RUN_COLUMN] != run_id)).rowcount or 0


def holds_records(conn: Connection, dataset_name: str) -> bool:
    """Whether the history of a dataset holds any record (one row read at most)."""
    return _any_record(conn, TABLES[dataset_name], literal(True))


def column_filled(conn: Connection, dataset_name: str, column: str) -> bool:
    """Whether any record of a dataset has a value in ``column``: stops at the first one."""
    table = TABLES[dataset_name]
    return _any_record(conn, table, table.c[column].is_not(None))
