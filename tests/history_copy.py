"""A store's record history as ``rec_<dataset>`` tables in an in-memory SQLite database, read
through the history's own readers (segment files or tables, whichever the store keeps), so a
test can ask it in SQL as it did when the history was only ever tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.pool import NullPool, StaticPool

from naebu.core import datasets
from naebu.store import history, history_write, segments_read
from naebu.store.history_write import RUN_COLUMN


def history_db(store: str | Path) -> sqlite3.Connection:
    """The history of the store at ``store`` (a URL, or a SQLite file's path) in the
    ``rec_<dataset>`` tables of a new in-memory SQLite database, with each record's run."""
    url = store if isinstance(store, str) else f"sqlite:///{store}"
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    target = sa.create_engine("sqlite://", creator=lambda: copy, poolclass=StaticPool)
    source = sa.create_engine(url, poolclass=NullPool)
    try:
        with source.connect() as conn, target.begin() as out:
            segments = history.backend(conn) == "segments"
            for name, table in history.TABLES.items():
                table.create(out)
                dataset = datasets.get(name)
                if segments:
                    try:
                        stored = segments_read.live(conn, name)
                    except sa.exc.OperationalError:
                        continue  # no store there yet
                    frame = segments_read.frame_of(stored, dataset)
                    runs = stored.column(RUN_COLUMN).to_numpy()
                    for run in pc.unique(stored.column(RUN_COLUMN)).to_pylist():
                        part = frame[runs == run]
                        history_write.write(out, table, dataset, part, int(run))
                else:
                    try:
                        rows = conn.execute(sa.select(table)).all()
                    except sa.exc.OperationalError:
                        continue
                    if rows:
                        out.execute(sa.insert(table), [dict(r._mapping) for r in rows])
    finally:
        source.dispose()
    return copy


def history_sql(store: str | Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql`` over the store's history (:func:`history_db`)."""
    db = history_db(store)
    try:
        return [tuple(r) for r in db.execute(sql).fetchall()]
    finally:
        db.close()
