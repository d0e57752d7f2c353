"""The record history: every canonical record naebu has read, kept in the store.

Rules that look across records - a 30-day window of contracts, a sale and its receipts, a
payment and its vendor - need more than the rows a pull just brought. Sources cannot always be
asked again (a card company's file is delivered once), so each pulled batch is written here,
in the same transaction as its alerts and its source's watermark, one table per canonical
dataset (``rec_<dataset>``), upserted by the dataset's key: a record that changes at the source
replaces its old version. ``_run_id`` tells which run last wrote a record, so the engine can
ask "what is new since this rule was last evaluated".

Column types map onto portable SQL types; time-of-day values are stored as seconds since
midnight. :func:`load` gives back frames in exactly the dtypes the connectors produce.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
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
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine

from naebu import datasets
from naebu.store import metadata

RUN_COLUMN = "_run_id"
#: Rows per INSERT statement; SQLite allows 32,766 bound parameters per statement.
_INSERT_CHUNK = 1_000

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


def _python_rows(
    frame: pd.DataFrame, dataset: datasets.Dataset, run_id: int
) -> Iterator[dict[str, Any]]:
    """Frame rows as dicts of plain Python values, NULL for every kind of missing."""
    converted: dict[str, list[Any]] = {}
    for c in dataset.columns:
        s = frame[c.name]
        if c.type == "time":
            values = (s.dt.total_seconds() if len(s) else s).astype("float64").to_numpy()
            converted[c.name] = [None if np.isnan(v) else float(v) for v in values]
        elif c.type == "date":
            converted[c.name] = [None if pd.isna(v) else v.date() for v in s]
        elif c.type == "datetime":
            converted[c.name] = [None if pd.isna(v) else v.to_pydatetime() for v in s]
        elif c.type == "number":
            converted[c.name] = [None if pd.isna(v) else float(v) for v in s]
        elif c.type == "int":
            converted[c.name] = [None if pd.isna(v) else int(v) for v in s]
        elif c.type == "bool":
            converted[c.name] = [None if pd.isna(v) else bool(v) for v in s]
        else:
            converted[c.name] = [None if pd.isna(v) else str(v) for v in s]
    names = list(converted)
    for values in zip(*(converted[n] for n in names), strict=True):
        row = dict(zip(names, values, strict=True))
        row[RUN_COLUMN] = run_id
        yield row


def store_records(conn: Connection, dataset_name: str, frame: pd.DataFrame, run_id: int) -> int:
    """Upsert a batch of canonical records; returns how many were written.

    The last record of a key within the batch wins, as it would at the source.
    """
    if frame.empty:
        return 0
    dataset = datasets.get(dataset_name)
    table = TABLES[dataset_name]
    frame = frame.drop_duplicates(subset=[dataset.key], keep="last")
    rows = list(_python_rows(frame, dataset, run_id))
    dialect = conn.dialect.name
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        if dialect in ("sqlite", "postgresql"):
            ins = (sqlite_insert if dialect == "sqlite" else pg_insert)(table)
            update = {c.name: ins.excluded[c.name] for c in table.columns if c.name != dataset.key}
            conn.execute(
                ins.on_conflict_do_update(index_elements=[dataset.key], set_=update), chunk
            )
        else:  # portable fallback: replace by key
            keys = [r[dataset.key] for r in chunk]
            conn.execute(delete(table).where(table.c[dataset.key].in_(keys)))
            conn.execute(insert(table), chunk)
    return len(rows)


def load(
    conn: Connection,
    dataset_name: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    time_column: str | None = None,
) -> pd.DataFrame:
    """Records of a dataset (time within ``[since, until]`` when given), canonical dtypes.

    The time is ``time_column`` (default: the dataset's event time). Records without one are
    always included: a window rule cannot place them, but a join or an absence rule may
    still need them.
    """
    dataset = datasets.get(dataset_name)
    table = TABLES[dataset_name]
    query = select(*[table.c[c.name] for c in dataset.columns])
    column = time_column or dataset.event_time
    if column and (since is not None or until is not None):
        t = table.c[column]
        # Bind dates as dates: SQLite compares them as text, and '2025-03-02' sorts before
        # '2025-03-02 00:00:00'.
        as_date = dataset.by_name[column].type == "date"
        bounds: list[ColumnElement[bool]] = [t.is_not(None)]
        if since is not None:
            bounds.append(t >= (since.date() if as_date else since))
        if until is not None:
            bounds.append(t <= (until.date() if as_date else until))
        query = query.where(or_(t.is_(None), and_(*bounds)))
    rows = conn.execute(query).all()
    raw = pd.DataFrame.from_records(rows, columns=dataset.column_names)
    return to_canonical(raw, dataset)


def to_canonical(raw: pd.DataFrame, dataset: datasets.Dataset) -> pd.DataFrame:
    """Database values back into the dtypes :func:`connectors.coerce.coerce` produces."""
    out: dict[str, pd.Series] = {}
    for c in dataset.columns:
        s = raw[c.name] if c.name in raw else pd.Series([None] * len(raw), dtype="object")
        if c.type == "str":
            out[c.name] = s.astype("string")
        elif c.type == "int":
            out[c.name] = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif c.type == "number":
            out[c.name] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif c.type in ("date", "datetime"):
            values = pd.to_datetime(s, errors="coerce").astype("datetime64[ns]")
            out[c.name] = values.dt.normalize() if c.type == "date" else values
        elif c.type == "time":
            out[c.name] = pd.to_timedelta(pd.to_numeric(s, errors="coerce"), unit="s").astype(
                "timedelta64[ns]"
            )
        else:
            out[c.name] = s.astype("boolean")
    return pd.DataFrame(out, index=pd.RangeIndex(len(raw)))


def new_since(conn: Connection, dataset_name: str, last_run_id: int) -> tuple[int, datetime | None]:
    """How many records of a dataset were written after ``last_run_id``, and their earliest
    event time (None when the dataset has no event time or nothing is new)."""
    dataset = datasets.get(dataset_name)
    table = TABLES[dataset_name]
    newer = table.c[RUN_COLUMN] > last_run_id
    count = conn.execute(select(func.count()).select_from(table).where(newer)).scalar_one()
    if not count or not dataset.event_time:
        return int(count), None
    earliest = conn.execute(select(func.min(table.c[dataset.event_time])).where(newer)).scalar()
    return int(count), _as_datetime(earliest)


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    return pd.Timestamp(value).to_pydatetime()


def drop_older(conn: Connection, dataset_name: str, run_id: int) -> int:
    """Delete the records a whole (reference) pull did not bring again: gone at the source."""
    table = TABLES[dataset_name]
    return conn.execute(delete(table).where(table.c[RUN_COLUMN] != run_id)).rowcount or 0
