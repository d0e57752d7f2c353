"""The record history kept in segment files: writing, replacing, compacting, sweeping.

Why files: a batch of records is written as one Parquet file (Arrow encodes and compresses a
million records in a fraction of a second) instead of upserted row by row into an indexed
table (tens of seconds at the province profile). The manifest (``history_segments``,
:mod:`.segments_read`) says which files are the history.

The crash guarantee is the table's: a batch's records, alerts and watermark are committed
together or not at all. The file is written and fsynced first, then its manifest row is
inserted on the caller's connection, in the caller's transaction. A crash before the commit
leaves a file no manifest row names: readers never open it, and :func:`sweep` deletes it.
A file is deleted only once no committed manifest row names it.

A daemon that runs every 15 minutes adds a segment per dataset per run: :func:`compact`
merges a dataset's segments into one (the last version of each key) when there are more than
:data:`MAX_SEGMENTS`, in one transaction, and deletes the old files after its commit.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from naebu.core import datasets
from naebu.store import history_tables, history_write
from naebu.store.history_base import last_versions
from naebu.store.history_write import RUN_COLUMN
from naebu.store.segments_read import folder, live, manifest, segments

log = logging.getLogger(__name__)

#: More live segments than this in one dataset and :func:`compact` merges them.
MAX_SEGMENTS = 64
#: A file no manifest row names is deleted once this old (seconds): younger, it may be a
#: batch another process has written and not yet committed.
ORPHAN_AGE = 3600.0

#: Rows per Parquet row group: a read filtered by run or time skips the groups whose
#: statistics exclude it (a compacted segment holds its runs in order).
ROW_GROUP = 131_072

_superseded_lock = threading.Lock()
#: Files whose manifest rows this process deleted: once that deletion is committed (the
#: manifest no longer names them), :func:`sweep` deletes them whatever their age.
_superseded: set[Path] = set()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _options(dataset: datasets.Dataset) -> dict[str, object]:
    """How a segment is written: zstd; statistics (which let a read skip row groups) only
    for the run and the time columns, the ones reads filter on by range; no dictionary for
    the key, whose values are all distinct (a fifth less time to write a batch)."""
    times = [c.name for c in dataset.columns if c.type in ("date", "datetime")]
    return {
        "compression": "zstd",
        "row_group_size": ROW_GROUP,
        "write_statistics": [RUN_COLUMN, *times],
        "use_dictionary": [n for n in dataset.column_names if n != dataset.key],
        "data_page_version": "1.0",
    }


def _write_file(conn: Connection, dataset_name: str, table: pa.Table, run_id: int) -> str:
    """Write ``table`` as a new segment file of a dataset, durably; its relative path."""
    base = folder(conn)
    where = base / dataset_name
    if not where.is_dir():
        where.mkdir(parents=True, exist_ok=True)
        _fsync_dir(base)
        _fsync_dir(base.parent)
    relative = f"{dataset_name}/{run_id:08d}-{uuid.uuid4().hex}.parquet"
    path = base / relative
    with open(path, "wb") as fh:
        pq.write_table(table, fh, **_options(datasets.get(dataset_name)))
        fh.flush()
        os.fsync(fh.fileno())
    # The file's name is durable before its manifest row can be: after a power cut, the
    # manifest never names a file that is not there.
    _fsync_dir(where)
    return relative


def _add(conn: Connection, dataset_name: str, table: pa.Table, run_id: int) -> int:
    """Write a segment and insert its manifest row on ``conn`` (the caller's transaction);
    the row's id."""
    relative = _write_file(conn, dataset_name, table, run_id)
    runs = table.column(RUN_COLUMN)
    newest = pc.max(runs).as_py() if len(table) else run_id
    oldest = pc.min(runs).as_py() if len(table) else run_id
    result = conn.execute(
        insert(manifest).values(
            dataset=dataset_name,
            path=relative,
            run_id=newest,
            first_run_id=oldest,
            rows=len(table),
            created_at=datetime.now().replace(microsecond=0),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _retire(conn: Connection, dataset_name: str, before: int) -> None:
    """Delete the manifest rows of a dataset's segments older than segment ``before``; their
    files are deleted once that is committed (:func:`sweep`)."""
    m = manifest.c
    older = [s for s in segments(conn, dataset_name) if s.id < before]
    if not older:
        return
    conn.execute(delete(manifest).where(m.dataset == dataset_name, m.id < before))
    with _superseded_lock:
        _superseded.update(s.path for s in older)


def store_records(conn: Connection, dataset_name: str, frame: pd.DataFrame, run_id: int) -> int:
    """:func:`naebu.store.history.store_records` as a new segment; how many were written."""
    if frame.empty:
        return 0
    dataset = datasets.get(dataset_name)
    frame = last_versions(frame, dataset.key)
    _add(conn, dataset_name, history_write.arrow_table(frame, dataset, run_id), run_id)
    return len(frame)


def _same_rows(new: pa.Table, stored: pa.Table, at: np.ndarray, names: list[str]) -> np.ndarray:
    """Per row of ``new``: whether ``stored`` row ``at[i]`` (-1: none) holds the same values."""
    found = at >= 0
    same = found.copy()
    if not found.any():
        return same
    rows = pa.array(np.where(found, at, 0))
    for name in names:
        a = new.column(name).combine_chunks()
        b = stored.column(name).take(rows).combine_chunks()
        equal = pc.fill_null(pc.equal(a, b), False)
        both_null = pc.and_(a.is_null(), b.is_null())
        same &= pc.or_(equal, both_null).to_numpy(zero_copy_only=False).astype(bool)
    return same


def store_whole(conn: Connection, dataset_name: str, frame: pd.DataFrame, run_id: int) -> int:
    """:func:`naebu.store.history.store_whole` as one segment holding the whole dataset, the
    older segments retired in the same transaction; how many records were written.

    An unchanged record keeps the run that last wrote it (its ``_run_id`` is carried over), so
    rules joining the dataset see that nothing is new. A record gone at the source is left
    out, and then every record counts as written by this run, as with tables."""
    dataset = datasets.get(dataset_name)
    frame = last_versions(frame, dataset.key)
    new = history_write.arrow_table(frame, dataset, run_id)
    stored = live(conn, dataset_name)
    keys = new.column(dataset.key).combine_chunks()
    stored_keys = stored.column(dataset.key).combine_chunks()
    at = pc.index_in(keys, value_set=stored_keys)
    positions = pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    gone = len(stored_keys) - int((positions >= 0).sum())
    if gone:
        written = len(new)
    else:
        same = _same_rows(new, stored, positions, dataset.column_names)
        written = int((~same).sum())
        if not written:
            return 0
        kept = np.full(len(new), run_id, dtype=np.int64)
        if same.any():
            runs = stored.column(RUN_COLUMN).to_numpy().astype(np.int64)
            kept[same] = runs[positions[same]]
        new = new.set_column(new.num_columns - 1, RUN_COLUMN, pa.array(kept))
    if len(new):
        newest = _add(conn, dataset_name, new, run_id)
        _retire(conn, dataset_name, newest)
    else:
        _retire_all(conn, dataset_name)
    return written


def _retire_all(conn: Connection, dataset_name: str) -> None:
    newest = conn.execute(select(func.max(manifest.c.id))).scalar_one_or_none()
    _retire(conn, dataset_name, (newest or 0) + 1)


def drop_older(conn: Connection, dataset_name: str, run_id: int) -> int:
    """Delete the records a whole (reference) pull did not bring again: those last written
    by another run than ``run_id``; how many."""
    stored = live(conn, dataset_name)
    keep = stored.filter(pc.equal(stored.column(RUN_COLUMN), run_id))
    dropped = len(stored) - len(keep)
    if not dropped:
        return 0
    if len(keep):
        _retire(conn, dataset_name, _add(conn, dataset_name, keep, run_id))
    else:
        _retire_all(conn, dataset_name)
    return dropped


# -- upkeep: compaction, stores that still hold tables, orphans -----------------------------


def compact(engine: Engine, *, bound: int | None = None) -> list[str]:
    """Merge each dataset's segments into one when it has more than ``bound``: the last
    version of each key, with the run that wrote it. One transaction per dataset (the new
    manifest row in, the old ones out); the old files are deleted after the commit. The
    datasets compacted. ``bound`` defaults to :data:`MAX_SEGMENTS`."""
    bound = MAX_SEGMENTS if bound is None else bound
    m = manifest.c
    with engine.connect() as conn:
        rows = conn.execute(select(m.dataset, func.count()).group_by(m.dataset)).all()
        counts: dict[str, int] = {r[0]: r[1] for r in rows}
    done = []
    for name in datasets.DATASETS:
        if counts.get(name, 0) <= bound:
            continue
        with engine.begin() as conn:
            _lock(conn)
            listed = segments(conn, name)
            if len(listed) <= bound:
                continue
            merged = live(conn, name)
            newest = _add(conn, name, merged, listed[-1].run_id)
            _retire(conn, name, newest)
        done.append(name)
    if done:
        sweep(engine)
    return done


def _lock(conn: Connection) -> None:
    """Take SQLite's write lock now, so what is read next cannot change before the commit
    (a no-op write: a deferred transaction otherwise reads first and may fail to write)."""
    conn.execute(update(manifest).where(manifest.c.id < 0).values(rows=0))


def adopt_tables(engine: Engine) -> list[str]:
    """Move the records of ``rec_<dataset>`` tables into segments: a store written before
    segments keeps its history. Per dataset, one transaction reads the table (with each
    record's run), writes it as the dataset's oldest segment and empties the table. The
    datasets moved."""
    moved = []
    for name, table in history_tables.TABLES.items():
        with engine.connect() as conn:
            if not history_tables.holds_records(conn, name):
                continue
        with engine.begin() as conn:
            _lock(conn)
            if not history_tables.holds_records(conn, name):
                continue  # another process moved it meanwhile
            dataset = datasets.get(name)
            frame = history_tables.load(conn, name)
            runs = conn.execute(select(table.c[dataset.key], table.c[RUN_COLUMN])).all()
            by_key = dict(runs)
            records = history_write.arrow_table(frame, dataset, 0)
            kept = np.array([by_key[k] for k in frame[dataset.key]], dtype=np.int64)
            records = records.set_column(records.num_columns - 1, RUN_COLUMN, pa.array(kept))
            first = segments(conn, name)
            if first:
                # Segments written meanwhile hold newer versions: the table goes before them.
                merged = pa.concat_tables([records, live(conn, name)])
                newest = _add(conn, name, merged, int(pc.max(merged.column(RUN_COLUMN)).as_py()))
                _retire(conn, name, newest)
            else:
                _add(conn, name, records, int(kept.max()))
            conn.execute(delete(table))
        moved.append(name)
    if moved:
        sweep(engine)
    return moved


def sweep(engine: Engine, *, age: float = ORPHAN_AGE) -> list[Path]:
    """Delete the segment files no manifest row names: a batch whose transaction never
    committed (if older than ``age`` seconds: a younger one may be committing in another
    process), or a segment this process replaced. The files deleted."""
    with engine.connect() as conn:
        base = folder(conn)
        if not base.is_dir():
            return []
        named = {base / p for p in conn.execute(select(manifest.c.path)).scalars()}
    with _superseded_lock:
        replaced = set(_superseded)
    now = time.time()
    deleted = []
    for path in sorted(base.glob("*/*.parquet")):
        if path in named:
            continue
        try:
            if path not in replaced and now - path.stat().st_mtime < age:
                continue
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:  # a read-only store, a file held elsewhere: next time
            log.warning("could not delete segment file %s: %s", path, exc)
            continue
        deleted.append(path)
    with _superseded_lock:
        _superseded.difference_update(deleted)
    if deleted:
        log.info("deleted %d segment files no manifest row names", len(deleted))
    return deleted
