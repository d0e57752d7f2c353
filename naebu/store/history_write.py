"""How a batch of canonical records is written into the record history (``rec_<dataset>``).

The history is written on the hot path of every run, in the transaction of the batch's alerts
and watermark (naebu.pipeline.pull), a million rows at a time on a first run: every step here
is vectorized, and each database gets the bulk path its driver has.

- PostgreSQL (psycopg2): the batch becomes an Arrow table, Arrow writes it as CSV in C++, and
  ``COPY`` loads it - straight into the table while it holds no record (a first load), else
  into a temporary table that one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` merges.
  ``execute_values`` before it spent 5.3 s on 100,000 payments; COPY takes a tenth of that.
- SQLite: multi-row ``INSERT ... ON CONFLICT DO UPDATE`` statements with the driver's
  ``executemany``, their parameters one reshaped numpy array (no tuple per row) and text
  values made once per distinct value.
- Others (MariaDB, MySQL): replace by key, a thousand rows per statement.

All of it runs on the caller's connection, inside its transaction: a crash before the commit
leaves the history as it was, with the watermark (the crash tests hold this).
"""

from __future__ import annotations

import itertools
import sqlite3
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Table, delete, insert, literal, select

from naebu.core import datasets

RUN_COLUMN = "_run_id"
#: Rows per statement of the portable path (MariaDB allows 65,535 bound parameters).
_INSERT_CHUNK = 1_000
#: Rows per multi-row INSERT on SQLite (fewer if the bound-parameter limit is lower): beyond
#: a few hundred, a longer statement gains nothing.
_SQLITE_ROWS = 200

_stages = itertools.count()


def column_order(dataset: datasets.Dataset) -> list[str]:
    """The history table's columns in the order rows are written: the dataset's, run id last."""
    return [*dataset.column_names, RUN_COLUMN]


def sqlite_datetimes(values: pd.Series) -> np.ndarray:
    """Instants as the text SQLAlchemy's SQLite DateTime stores (``%Y-%m-%d %H:%M:%S.%f``, so
    bound comparisons still work), missing as None.

    Arrow's cast to text writes exactly that for microsecond timestamps, in C++: a first load
    formats millions of them (``updated_at`` of every record), 0.17 s a million against
    0.79 s for pandas' strftime. The cast to microseconds floors nanoseconds, as strftime's
    ``%f`` reads them (before 1970 too: tests/test_history.py).
    """
    micro = values.astype("datetime64[us]")
    text = pa.array(micro, from_pandas=True).cast(pa.string())
    return text.to_numpy(zero_copy_only=False)


def _texts(s: pd.Series) -> np.ndarray:
    """A text column as an object array, None for missing.

    Most text columns repeat a few values (a department, an official, a vendor): each distinct
    value is made a Python string once and shared (a fifth of the time for 100,000 payments'
    purposes); a column of distinct values (keys) is converted directly, which is cheaper."""
    text = s.astype("string")
    if len(text) > 1000:
        sample = text.iloc[:1000]
        if sample.nunique() < 500:
            codes, uniques = pd.factorize(text)
            values = np.asarray(uniques, dtype=object)
            return np.append(values, np.array([None], dtype=object))[codes]
    return text.to_numpy(dtype=object, na_value=None)


def column_values(s: pd.Series, kind: str, dialect: str) -> np.ndarray:
    """One canonical column as an object array of values the DB-API driver binds as they are,
    ``None`` for every kind of missing."""
    if kind == "time":
        seconds = (s.dt.total_seconds() if len(s) else s).astype("float64")
        return seconds.astype(object).where(seconds.notna(), None).to_numpy()
    if kind in ("date", "datetime"):
        stamps = pd.to_datetime(s, errors="coerce")
        if kind == "date":
            # A year of records holds a few hundred days: each is formatted once.
            codes, days = pd.factorize(stamps)
            days = pd.DatetimeIndex(days)
            if dialect == "sqlite":
                text = days.strftime("%Y-%m-%d").to_numpy(dtype=object)
            else:
                text = np.array([d.date() for d in days], dtype=object)
            return np.append(text, np.array([None], dtype=object))[codes]  # -1: missing, None
        if dialect == "sqlite":
            return sqlite_datetimes(stamps)
        return stamps.astype(object).where(stamps.notna(), None).to_numpy()
    if kind == "number":
        numbers = pd.to_numeric(s, errors="coerce").astype("float64")
        return numbers.astype(object).where(numbers.notna(), None).to_numpy()
    if kind == "int":
        return s.astype("Int64").to_numpy(dtype=object, na_value=None)
    if kind == "bool":
        flags = s.astype("boolean")
        if dialect == "sqlite":
            return flags.astype("Int64").to_numpy(dtype=object, na_value=None)
        return flags.to_numpy(dtype=object, na_value=None)
    return _texts(s)


def columns(
    frame: pd.DataFrame, dataset: datasets.Dataset, run_id: int, dialect: str
) -> list[np.ndarray]:
    """The frame's columns as bindable object arrays in :func:`column_order`, run id last."""
    out = [column_values(frame[c.name], c.type, dialect) for c in dataset.columns]
    out.append(np.full(len(frame), run_id, dtype=object))
    return out


def row_tuples(
    frame: pd.DataFrame, dataset: datasets.Dataset, run_id: int, dialect: str
) -> list[tuple[Any, ...]]:
    """The frame's rows as tuples in :func:`column_order`, run id last."""
    return list(zip(*columns(frame, dataset, run_id, dialect), strict=True))


def write(conn: Connection, table: Table, dataset: datasets.Dataset, frame: pd.DataFrame,
          run_id: int) -> None:  # fmt: skip
    """Upsert ``frame`` (one record per key) into ``table`` on ``conn``, in its transaction."""
    dialect = conn.dialect.name
    names = column_order(dataset)
    if dialect == "sqlite":
        _upsert_sqlite(
            conn, table.name, names, dataset.key, columns(frame, dataset, run_id, dialect)
        )
    elif dialect == "postgresql" and conn.dialect.driver == "psycopg2":
        _copy_postgresql(conn, table, dataset, frame, run_id)
    else:  # portable: replace by key
        rows = row_tuples(frame, dataset, run_id, dialect)
        dicts = [dict(zip(names, row, strict=True)) for row in rows]
        for start in range(0, len(dicts), _INSERT_CHUNK):
            chunk = dicts[start : start + _INSERT_CHUNK]
            keys = [r[dataset.key] for r in chunk]
            conn.execute(delete(table).where(table.c[dataset.key].in_(keys)))
            conn.execute(insert(table), chunk)


def _upsert_sql(table: str, names: list[str], key: str, values: str) -> str:
    quoted = ", ".join(f'"{n}"' for n in names)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n != key)
    return (
        f'INSERT INTO "{table}" ({quoted}) {values} ON CONFLICT ("{key}") DO UPDATE SET {updates}'
    )


def _upsert_sqlite(
    conn: Connection, table: str, names: list[str], key: str, cols: list[np.ndarray]
) -> None:
    """Multi-row upserts, ``per`` rows a statement, through the driver's ``executemany``.

    The parameters of each statement are one row of the columns stacked and reshaped in numpy
    (``.tolist()`` builds them all at once in C): no tuple per record, no slicing of a flat
    list. SQLite's own work (B-tree inserts, the write-ahead log) is what remains."""
    count = len(cols[0])
    if not count:
        return
    width = len(names)
    dbapi: Any = conn.connection.dbapi_connection  # sqlite3's own connection
    limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(_SQLITE_ROWS, limit // width))
    grid = np.column_stack(cols)
    row = "(" + ", ".join("?" * width) + ")"
    whole = count // per * per
    # The driver's own cursor, on the connection's transaction: sqlite3 binds a list of
    # values as it binds a tuple, SQLAlchemy's exec_driver_sql would want tuples.
    cursor = dbapi.cursor()
    try:
        if whole:
            many = grid[:whole].reshape(-1, per * width).tolist()
            cursor.executemany(
                _upsert_sql(table, names, key, "VALUES " + ", ".join([row] * per)), many
            )
        if whole < count:
            rest = "VALUES " + ", ".join([row] * (count - whole))
            cursor.execute(_upsert_sql(table, names, key, rest), grid[whole:].ravel().tolist())
    finally:
        cursor.close()


def arrow_table(frame: pd.DataFrame, dataset: datasets.Dataset, run_id: int) -> pa.Table:
    """The frame as an Arrow table in :func:`column_order`, in the history's SQL types: time
    of day as seconds, instants floored to microseconds (as the drivers store them), every
    kind of missing as null."""
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for c in dataset.columns:
        s = frame[c.name]
        if c.type == "time":
            seconds = (s.dt.total_seconds() if len(s) else s).astype("float64")
            arrays.append(pa.array(seconds, from_pandas=True, type=pa.float64()))
        elif c.type in ("date", "datetime"):
            micro = pd.to_datetime(s, errors="coerce").astype("datetime64[us]")
            stamps = pa.array(micro, from_pandas=True, type=pa.timestamp("us"))
            arrays.append(stamps.cast(pa.date32()) if c.type == "date" else stamps)
        elif c.type == "number":
            numbers = pd.to_numeric(s, errors="coerce").astype("float64")
            arrays.append(pa.array(numbers, from_pandas=True, type=pa.float64()))
        elif c.type == "int":
            arrays.append(pa.array(s.astype("Int64"), type=pa.int64()))
        elif c.type == "bool":
            arrays.append(pa.array(s.astype("boolean"), type=pa.bool_()))
        else:
            arrays.append(pa.array(s.astype("string"), type=pa.large_string()))
    arrays.append(pa.array(np.full(len(frame), run_id, dtype=np.int64)))
    return pa.Table.from_arrays(arrays, names=column_order(dataset))


#: The Arrow type of each kind of canonical column, as :func:`arrow_table` writes it.
ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.large_string(),
    "int": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "time": pa.float64(),
    "bool": pa.bool_(),
}


def arrow_schema(dataset: datasets.Dataset) -> pa.Schema:
    """The schema of :func:`arrow_table` for ``dataset``."""
    fields = [pa.field(c.name, ARROW_TYPES[c.type]) for c in dataset.columns]
    return pa.schema([*fields, pa.field(RUN_COLUMN, pa.int64())])


def _csv(table: pa.Table) -> pa.BufferReader:
    """The table as CSV PostgreSQL's ``COPY ... (FORMAT csv)`` reads: Arrow quotes every text
    value (an empty text is ``""``) and leaves a null empty and unquoted, which COPY reads as
    NULL; dates, instants and booleans are written in forms PostgreSQL parses."""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    # Read by COPY straight from Arrow's buffer (``read()``), not copied into Python bytes.
    return pa.BufferReader(sink.getvalue())


def _copy_postgresql(
    conn: Connection, table: Table, dataset: datasets.Dataset, frame: pd.DataFrame, run_id: int
) -> None:
    """COPY the records in: straight into an empty table, else through a temporary one merged
    by key. The temporary table is dropped at the commit (or the rollback)."""
    names = column_order(dataset)
    quoted = ", ".join(f'"{n}"' for n in names)
    data = _csv(arrow_table(frame, dataset, run_id))
    empty = conn.execute(select(literal(1)).select_from(table).limit(1)).first() is None
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if empty:
            cursor.copy_expert(f'COPY "{table.name}" ({quoted}) FROM STDIN WITH (FORMAT csv)', data)
            return
        stage = f"naebu_stage_{next(_stages)}"
        cursor.execute(
            f'CREATE TEMPORARY TABLE "{stage}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
        )
        cursor.copy_expert(f'COPY "{stage}" ({quoted}) FROM STDIN WITH (FORMAT csv)', data)
        cursor.execute(
            _upsert_sql(table.name, names, dataset.key, f'SELECT {quoted} FROM "{stage}"')
        )
        cursor.execute(f'DROP TABLE "{stage}"')
    finally:
        cursor.close()
