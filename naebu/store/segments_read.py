"""The record history kept in segment files: the manifest, and every read.

A segment is one Parquet file of one dataset's records, written by one committed batch
(:mod:`.segments`), in a folder beside the SQLite database (``<database>.history/<dataset>/``).
The ``history_segments`` table (the manifest) names each live segment, in the order they were
written: a file it does not name is not part of the history (a batch whose transaction never
committed), and readers never open it.

A key may be in several segments (a record that changed at the source is written again by a
later run): its version in the latest segment is the record, as a table's upsert would have
kept it. Each segment is read with its older versions left out - its keys found in a later
segment - and with the caller's filter (run ids, a time window, key sets) pushed down to
Arrow, so a read decodes each file once and builds no Python object per record. The frames
are given in exactly the dtypes the table backend gives (tests/test_segments.py compares them).
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from sqlalchemy import Column, Connection, DateTime, Index, Integer, String, Table, select

from naebu.core import datasets
from naebu.store.history_base import KeyFilter, NewRecords, as_datetime
from naebu.store.history_write import RUN_COLUMN, arrow_schema
from naebu.store.tables import metadata

#: The live segments, one row each, in the order they were written (``id``).
manifest = Table(
    "history_segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(100), nullable=False),
    # Relative to the store's segment folder (:func:`folder`): the store can be moved.
    Column("path", String(500), nullable=False),
    # The newest and the oldest run whose records the segment holds (one run, but for a
    # compacted segment or a whole reference dataset): a read for the records written after
    # (before) a run skips the segments that can hold none.
    Column("run_id", Integer, nullable=False),
    Column("first_run_id", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_history_segments_dataset", "dataset", "id"),
)


@dataclass(frozen=True)
class Segment:
    """One row of the manifest."""

    id: int
    path: Path
    run_id: int
    first_run_id: int
    rows: int


def folder(conn: Connection) -> Path:
    """The folder holding a SQLite store's segments: beside the database file."""
    database = conn.engine.url.database
    assert database, "segments are for SQLite stores with a file"
    return Path(f"{database}.history")


def segments(conn: Connection, dataset_name: str) -> list[Segment]:
    """The live segments of a dataset, oldest first."""
    base = folder(conn)
    m = manifest.c
    rows = conn.execute(
        select(m.id, m.path, m.run_id, m.first_run_id, m.rows)
        .where(m.dataset == dataset_name)
        .order_by(m.id)
    ).all()
    return [Segment(r.id, base / r.path, r.run_id, r.first_run_id, r.rows) for r in rows]


# -- reading segment files ---------------------------------------------------------------

T = TypeVar("T")

#: Attempts at a read whose files a concurrent commit replaced (see :func:`_retrying`).
_ATTEMPTS = 3


def _retrying(read: Callable[[], T]) -> T:
    """``read()``, again if a file it listed is gone: a run that replaced a dataset (a whole
    reference pull, a compaction) deletes the old files after its commit, and a reader in
    another process may have listed them just before. Listed again, the manifest names the
    new ones (SQLite reads outside a write transaction see each commit)."""
    for attempt in range(_ATTEMPTS):
        try:
            return read()
        except FileNotFoundError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


_cache_lock = threading.Lock()
#: The key column of recently read segment files (files never change once written).
_keys_cache: OrderedDict[str, pa.Array] = OrderedDict()
_KEYS_CACHED = 64


def _keys(segment: Segment, key: str) -> pa.Array:
    """The keys of one segment (cached: every read of an older segment needs them)."""
    at = os.fspath(segment.path)
    with _cache_lock:
        found = _keys_cache.get(at)
        if found is not None:
            _keys_cache.move_to_end(at)
            return found
    keys = pq.read_table(at, columns=[key]).column(key).combine_chunks()
    with _cache_lock:
        _keys_cache[at] = keys
        while len(_keys_cache) > _KEYS_CACHED:
            _keys_cache.popitem(last=False)
    return keys


def _schema(dataset: datasets.Dataset) -> pa.Schema:
    """The Arrow schema of a segment of ``dataset`` (as history_write.arrow_table builds it)."""
    return _schemas(dataset.name)


@functools.cache
def _schemas(name: str) -> pa.Schema:
    return arrow_schema(datasets.get(name))


#: The liveness masks of recent segment lists (see :func:`_liveness`).
_live_cache: OrderedDict[tuple[str, ...], list[np.ndarray | None]] = OrderedDict()
_LIVE_CACHED = 32


def _liveness(listed: list[Segment], key: str) -> list[np.ndarray | None]:
    """Per segment of ``listed`` (consecutive, up to the newest): which of its rows hold the
    last version of their key, None when all do.

    One pass over every key, newest segment first: Arrow's dictionary encoding numbers the
    keys in the order they first appear, so a row is a key's newest version exactly when its
    number is new (greater than every number before it). Cached per segment list: a run's
    reads of one dataset ask it again and again, and files never change."""
    at = tuple(os.fspath(s.path) for s in listed)
    with _cache_lock:
        found = _live_cache.get(at)
        if found is not None:
            _live_cache.move_to_end(at)
            return found
    keys = [_keys(s, key) for s in reversed(listed)]
    masks: list[np.ndarray | None] = [None] * len(listed)
    if len(listed) > 1:
        every = pa.chunked_array(keys, type=pa.large_string()).combine_chunks()
        encoded = pc.dictionary_encode(every)
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        ahead = np.maximum.accumulate(codes)
        newest = np.ones(len(codes), dtype=bool)
        newest[1:] = codes[1:] > ahead[:-1]
        newest |= codes < 0  # a null key is no key: no later row replaces it
        if not newest.all():
            start = 0
            for i, part in enumerate(keys):
                mask = newest[start : start + len(part)]
                start += len(part)
                masks[len(listed) - 1 - i] = None if mask.all() else mask
    with _cache_lock:
        _live_cache[at] = masks
        while len(_live_cache) > _LIVE_CACHED:
            _live_cache.popitem(last=False)
    return masks


def _read(
    dataset: datasets.Dataset,
    chosen: list[tuple[Segment, list[Segment]]],
    columns: list[str] | None,
    where: pc.Expression | None,
) -> pa.Table:
    """The live rows of the ``chosen`` segments (each with the later segments that may hold
    newer versions of its keys) meeting ``where``, in ``columns`` (all when None), oldest
    segment first. A segment whose every row is live is read with ``where`` pushed down to
    Arrow; one holding replaced versions is read whole and filtered in memory."""
    schema = _schema(dataset)
    names = columns if columns is not None else schema.names
    parts: list[pa.Table] = []
    masks: list[np.ndarray | None] = []
    if chosen:
        first, later = chosen[0]
        masks = _liveness([first, *later], dataset.key)
        offset = {s.id: i for i, s in enumerate([first, *later])}
    for segment, _ in chosen:
        mask = masks[offset[segment.id]]
        if mask is None:
            parts.append(_read_file(segment.path, schema, names, where))
            continue
        table = _read_file(segment.path, schema, schema.names, None).filter(pa.array(mask))
        if where is not None:
            table = table.filter(where)
        parts.append(table.select(names))
    if not parts:
        return schema.empty_table().select(names)
    return pa.concat_tables(parts)


def _read_file(
    path: Path, schema: pa.Schema, names: list[str], condition: pc.Expression | None
) -> pa.Table:
    """One segment file's rows meeting ``condition``, in ``names``. A file written before a
    column was added to its dataset reads that column as null."""
    source = pads.dataset(path, format="parquet")
    missing = [n for n in schema.names if n not in source.schema.names]
    if not missing:
        return source.to_table(columns=names, filter=condition)
    table = source.to_table()
    for name in missing:
        table = table.append_column(
            schema.field(name), pa.nulls(len(table), schema.field(name).type)
        )
    if condition is not None:
        table = table.filter(condition)
    return table.select(names)


def _chosen(
    conn: Connection,
    dataset: datasets.Dataset,
    *,
    after_run: int | None = None,
    before_run: int | None = None,
) -> list[tuple[Segment, list[Segment]]]:
    """The segments a read must open, each with its later segments. Records written after
    ``after_run`` are only in segments holding a newer run; those written before
    ``before_run`` only in segments holding an older one."""
    listed = segments(conn, dataset.name)
    out = []
    for i, segment in enumerate(listed):
        if after_run is not None and segment.run_id <= after_run:
            continue
        if before_run is not None and segment.first_run_id >= before_run:
            continue
        out.append((segment, listed[i + 1 :]))
    return out


# -- the conditions ------------------------------------------------------------------------


def _bound(dataset: datasets.Dataset, column: str, value: datetime) -> pa.Scalar:
    """A time bound as an Arrow scalar of the column's type (dates compare as dates)."""
    if dataset.by_name[column].type == "date":
        day = value.date() if isinstance(value, datetime) else value
        return pa.scalar(day, type=pa.date32())
    stamp = pd.Timestamp(value).to_datetime64().astype("datetime64[us]")
    return pa.scalar(stamp, type=pa.timestamp("us"))


def _conjunction(parts: list[pc.Expression]) -> pc.Expression | None:
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out & part
    return out


def _only(only: KeyFilter | NewRecords | None) -> tuple[pc.Expression | None, int | None]:
    """The condition of a narrowing, and the run after which all its records lie (if any)."""
    if only is None:
        return None, None
    run = pc.field(RUN_COLUMN)
    if isinstance(only, NewRecords):
        return run > only.after_run, only.after_run
    key = pc.field(only.column)
    present = [v for v in only.values if v is not None]
    allowed = key.isin(pa.array(present, type=pa.large_string()))
    if only.with_null:
        allowed = allowed | key.is_null()
    if only.or_after_run is not None:
        allowed = allowed | (run > only.or_after_run)
    return allowed, None


# -- the history API -----------------------------------------------------------------------


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
    """:func:`naebu.store.history.load` from segments (same arguments, same frame)."""
    dataset = datasets.get(dataset_name)
    parts: list[pc.Expression] = []
    if before_run is not None:
        parts.append(pc.field(RUN_COLUMN) < before_run)
    narrowing, after = _only(only)
    if narrowing is not None:
        parts.append(narrowing)
    column = time_column or dataset.event_time
    if column and (since is not None or until is not None):
        t = pc.field(column)
        bounds = []
        if since is not None:
            bounds.append(t >= _bound(dataset, column, since))
        if until is not None:
            bounds.append(t <= _bound(dataset, column, until))
        window = _conjunction(bounds)
        assert window is not None
        parts.append(t.is_null() | window)
    where = _conjunction(parts)

    def read() -> pa.Table:
        chosen = _chosen(conn, dataset, after_run=after, before_run=before_run)
        return _read(dataset, chosen, dataset.column_names, where)

    return frame_of(_retrying(read), dataset)


def frame_of(table: pa.Table, dataset: datasets.Dataset) -> pd.DataFrame:
    """Segment rows as a canonical frame, in the dtypes the table backend's load gives
    (:func:`naebu.store.history_base.typed`), converted column by column in Arrow."""
    out: dict[str, Any] = {}
    length = table.num_rows
    for c in dataset.columns:
        data = table.column(c.name).combine_chunks() if length else table.column(c.name)
        if c.type == "str":
            out[c.name] = pd.arrays.ArrowStringArray(
                pa.chunked_array([data], type=pa.large_string())
                if length
                else pa.chunked_array([], type=pa.large_string())
            )
        elif c.type == "int":
            values = pc.fill_null(data, 0).to_numpy(zero_copy_only=False).astype(np.int64)
            out[c.name] = pd.arrays.IntegerArray(values, _nulls(data, length))
        elif c.type == "number":
            out[c.name] = data.to_numpy(zero_copy_only=False).astype(np.float64)
        elif c.type in ("date", "datetime"):
            stamps = data.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
            out[c.name] = pd.DatetimeIndex(stamps.astype("datetime64[ns]"))
        elif c.type == "time":
            seconds = data.to_numpy(zero_copy_only=False).astype(np.float64)
            out[c.name] = pd.to_timedelta(seconds, unit="s").astype("timedelta64[ns]")
        else:
            values = pc.fill_null(data, False).to_numpy(zero_copy_only=False).astype(bool)
            out[c.name] = pd.arrays.BooleanArray(values, _nulls(data, length))
    return pd.DataFrame(out, index=pd.RangeIndex(length))


def _nulls(data: pa.Array | pa.ChunkedArray, length: int) -> np.ndarray:
    if not length:
        return np.zeros(0, dtype=bool)
    return data.is_null().to_numpy(zero_copy_only=False).astype(bool)


def live(conn: Connection, dataset_name: str) -> pa.Table:
    """Every live record of a dataset as stored (all columns, ``_run_id`` last), oldest
    segment first: what a whole replacement compares with and what a compaction keeps."""
    dataset = datasets.get(dataset_name)
    return _retrying(lambda: _read(dataset, _chosen(conn, dataset), None, None))


def _column_values(
    conn: Connection,
    dataset: datasets.Dataset,
    column: str,
    where: pc.Expression | None,
    after_run: int | None = None,
) -> set[Any]:
    def read() -> pa.Table:
        return _read(dataset, _chosen(conn, dataset, after_run=after_run), [column], where)

    values = pc.unique(_retrying(read).column(column))
    return set(values.to_pylist())


def touched_keys(
    conn: Connection, dataset_name: str, column: str, after_run: int
) -> set[str | None]:
    """The distinct values of ``column`` among the records written after ``after_run``."""
    dataset = datasets.get(dataset_name)
    return _column_values(conn, dataset, column, pc.field(RUN_COLUMN) > after_run, after_run)


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
    t = pc.field(time_column)
    where = (t >= _bound(dataset, time_column, earliest)) & (
        t <= _bound(dataset, time_column, latest)
    )
    return _column_values(conn, dataset, column, where)


def new_since(conn: Connection, dataset_name: str, last_run_id: int) -> tuple[int, datetime | None]:
    """How many records of a dataset were written after ``last_run_id``, and their earliest
    event time (None when the dataset has no event time or nothing is new)."""
    dataset = datasets.get(dataset_name)
    columns = [dataset.event_time] if dataset.event_time else [RUN_COLUMN]

    def read() -> pa.Table:
        chosen = _chosen(conn, dataset, after_run=last_run_id)
        return _read(dataset, chosen, columns, pc.field(RUN_COLUMN) > last_run_id)

    found = _retrying(read)
    count = found.num_rows
    if not dataset.event_time or not count:
        return count, None
    earliest = pc.min(found.column(dataset.event_time)).as_py()
    return count, as_datetime(earliest) if isinstance(earliest, (date, datetime)) else None


def holds_records(conn: Connection, dataset_name: str) -> bool:
    """Whether the history of a dataset holds any record."""
    m = manifest.c
    query = select(m.id).where(m.dataset == dataset_name, m.rows > 0).limit(1)
    return conn.execute(query).first() is not None


def column_filled(conn: Connection, dataset_name: str, column: str) -> bool:
    """Whether any record of a dataset has a value in ``column``."""
    dataset = datasets.get(dataset_name)

    def read() -> pa.Table:
        return _read(dataset, _chosen(conn, dataset), [column], pc.field(column).is_valid())

    return _retrying(read).num_rows > 0
