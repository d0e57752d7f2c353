"""First pulls of ``kind = "sql"`` sources read Arrow-native, through an ADBC driver.

SQLite (``adbc-driver-sqlite``) and PostgreSQL (``adbc-driver-postgresql``) hand over columns
instead of rows: the rows are never built as Python tuples and then transposed into a frame,
and text columns reach :func:`naebu.connectors.coerce.coerce` as Arrow strings, which its
normalisation reads without copying. The frames are the very ones the SQLAlchemy path gives
(:mod:`naebu.connectors.sql`, ``tests/test_sources_arrow.py`` compares them): every column
that is not plain text is handed over as the Python values the DB-API driver would give
(``int``, ``float``, ``Decimal``, ``date``, ``datetime``, ``bytes``), so typing, quarantine
reasons and watermarks do not depend on the path.

SQLite stores a type per value, not per column (a ``pay_amt`` column holding ``미정`` among
its numbers), while ADBC infers one type per column from the first rows and stops at the
first value of another. So one scan first learns each column's storage classes; a column of
one class is read as it is, a column of several as one column per class plus the class of
each row, reassembled here. TEXT that is not UTF-8 (a legacy system's EUC-KR) becomes bytes,
as :func:`naebu.connectors.sql._sqlite_text` makes it on the other path.

Only what this module can give exactly takes it; :func:`arrow_chunks` returns None otherwise
and the caller reads through SQLAlchemy: another dialect (MariaDB/MySQL), a driver that is
not installed, an in-memory database, a PostgreSQL type outside the list below, a PostgreSQL
table under 4 MB (opening an ADBC connection costs more than it saves), or a pull with a stored
watermark (its bound value keeps SQLAlchemy's typing; such pulls are small).
"""

from __future__ import annotations

import decimal
import importlib
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

#: SQLite storage classes, by the code the class column carries.
_CLASSES = {"integer": 1, "real": 2, "text": 3, "blob": 4}
#: PostgreSQL tables smaller than this are read through psycopg2 (:func:`_small_table`).
_PG_MIN_BYTES = 4 * 2**20
_DEFAULT = {"integer": "0", "real": "0.0", "text": "''", "blob": "X''"}


class ArrowReadError(Exception):
    """The driver failed while rows were being read (connection lost...): one line, the
    driver's exception as the cause."""


def driver(dialect: str) -> Any | None:
    """The ADBC DB-API module for ``dialect``, or None (another dialect, not installed)."""
    name = {"sqlite": "adbc_driver_sqlite.dbapi", "postgresql": "adbc_driver_postgresql.dbapi"}
    if dialect not in name:
        return None
    try:
        return importlib.import_module(name[dialect])
    except ImportError:
        return None


def arrow_chunks(
    conn: Connection,
    select: sa.Select[Any],
    names: list[str],
    chunk: int,
    order: list[sa.ColumnElement[Any]],
) -> Iterator[pd.DataFrame] | None:
    """Raw frames of ``chunk`` rows (the last one shorter) of ``select``, whose result columns
    are ``names``, ordered by the columns ``order`` (the watermark, then the key), read through ADBC; None when this path
    cannot read it (see the module docstring), before anything was read."""
    url = conn.engine.url
    module = driver(conn.dialect.name)
    if module is None:
        return None
    if conn.dialect.name == "sqlite":
        if not url.database or url.database == ":memory:" or url.query:
            return None
        target = url.database
    else:
        if _small_table(conn, select):
            return None
        target = url.set(drivername="postgresql").render_as_string(hide_password=False)
    sql = str(select.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    quote = conn.dialect.identifier_preparer.quote
    # Unary plus: the same order (a column's collation holds through it), but SQLite sorts
    # the rows it scans instead of walking the watermark's index and looking up every row
    # in the table from it: a third of the CPU on a province's attendance, never more.
    order_by = " ORDER BY " + ", ".join(f"+q.{quote(c.name)}" for c in order) if order else ""
    try:
        adbc = module.connect(target)
    except Exception as exc:  # noqa: BLE001 - any driver failure: SQLAlchemy words it
        log.debug("ADBC connect failed (%s); reading through SQLAlchemy", exc)
        return None
    try:
        if conn.dialect.name == "sqlite":
            reader = _sqlite_reader(adbc, quote, sql, order_by, names, chunk)
        else:
            # The very statement SQLAlchemy would send: PostgreSQL orders rows of one
            # watermark as its plan happens to, so a wrapped query could order ties otherwise.
            ordered = select.order_by(*order)
            text = ordered.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            reader = _postgres_reader(adbc, str(text), names)
    except Exception as exc:  # noqa: BLE001 - same: nothing read yet, fall back
        adbc.close()
        log.debug("ADBC read failed (%s); reading through SQLAlchemy", exc)
        return None
    if reader is None:
        adbc.close()
        return None
    return _rechunked(adbc, reader, chunk)


def _small_table(conn: Connection, select: sa.Select[Any]) -> bool:
    """Whether ``select`` reads one PostgreSQL table smaller than :data:`_PG_MIN_BYTES`.

    An ADBC connection costs 50-80 ms to open (it reads the type catalogue), which a table of
    a few thousand rows does not win back: measured on the demo city, 10,000 contracts
    (2.2 MB) read faster through psycopg2, 72,000 attendance rows (8.7 MB) through ADBC.
    """
    froms = select.get_final_froms()
    if len(froms) != 1 or not isinstance(froms[0], sa.TableClause):
        return False  # a query: its size is not known, and queries are the big reads
    table = froms[0]
    quote = conn.dialect.identifier_preparer.quote
    name = (
        quote(table.name) if table.schema is None else f"{quote(table.schema)}.{quote(table.name)}"
    )
    size = conn.execute(
        sa.text("SELECT pg_relation_size(to_regclass(:name))"), {"name": name}
    ).scalar()
    return size is not None and int(size) < _PG_MIN_BYTES


def _rechunked(adbc: Any, batches: Iterator[pd.DataFrame], chunk: int) -> Iterator[pd.DataFrame]:
    """Frames of exactly ``chunk`` rows from frames of any size (the driver's batches), so the
    chunks are the SQLAlchemy path's (duplicates are resolved per chunk)."""
    try:
        pending: list[pd.DataFrame] = []
        held = 0
        for frame in _reading(batches):
            pending.append(frame)
            held += len(frame)
            while held >= chunk:
                whole = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
                yield whole.iloc[:chunk].reset_index(drop=True)
                rest = whole.iloc[chunk:].reset_index(drop=True)
                pending, held = [rest], len(rest)
        if held:
            yield pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
    finally:
        adbc.close()


def _frames(cur: Any, frame: Any, reader: Any = None) -> Iterator[pd.DataFrame]:
    """Frames of the cursor's record batches (the cursor is held while they are read)."""
    for batch in reader if reader is not None else cur.fetch_record_batch():
        yield frame(batch)
    cur.close()


def _reading(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``batches``, a driver error raised as :class:`ArrowReadError`."""
    while True:
        try:
            frame = next(batches)
        except StopIteration:
            return
        except Exception as exc:
            if type(exc).__module__.startswith(("adbc_driver", "pyarrow")) or isinstance(
                exc, OSError
            ):
                lines = str(exc).strip().splitlines() or [type(exc).__name__]
                raise ArrowReadError(f"{type(exc).__name__}: {lines[0]}") from exc
            raise
        yield frame


# SQLite ------------------------------------------------------------------------------------


def _sqlite_reader(
    adbc: Any, quote: Any, sql: str, order_by: str, names: list[str], chunk: int
) -> Iterator[pd.DataFrame] | None:
    """Frames of ``sql`` read by storage class (see the module docstring)."""
    cur = adbc.cursor()
    cols = [f"q.{quote(n)}" for n in names]
    cur.execute(
        "SELECT "
        + ", ".join(f"group_concat(DISTINCT typeof({c}))" for c in cols)
        + f" FROM ({sql}) q"
    )
    row = cur.fetchone() or ()
    classes = [set((v or "").split(",")) - {""} for v in row]
    exprs: list[str] = []
    plans: list[tuple[str, list[str], bool]] = []
    for name, col, found in zip(names, cols, classes, strict=True):
        kinds = sorted(found - {"null"}, key=_CLASSES.__getitem__)
        coded = "null" in found or len(kinds) > 1
        if coded:
            # The class of each row; 0 for NULL. Never NULL itself, so ADBC types it int64.
            exprs.append(
                "CASE typeof("
                + col
                + ") "
                + " ".join(f"WHEN '{k}' THEN {v}" for k, v in _CLASSES.items())
                + " ELSE 0 END"
            )
        for kind in kinds:
            # One class per column, never NULL: the type ADBC infers from the first rows holds.
            exprs.append(f"CASE WHEN typeof({col}) = '{kind}' THEN {col} ELSE {_DEFAULT[kind]} END")
        plans.append((name, kinds, coded))
    if not exprs:  # no columns at all
        return None
    cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(chunk)})
    cur.execute(f"SELECT {', '.join(exprs)} FROM ({sql}) q{order_by}")
    return _frames(cur, lambda batch: _sqlite_frame(batch, plans))


def _sqlite_frame(batch: pa.RecordBatch, plans: list[tuple[str, list[str], bool]]) -> pd.DataFrame:
    n = batch.num_rows
    out: dict[str, Any] = {}
    at = 0
    for name, kinds, coded in plans:
        code = batch.column(at).to_numpy() if coded else None
        at += int(coded)
        parts = {kind: batch.column(at + i) for i, kind in enumerate(kinds)}
        at += len(kinds)
        if kinds == ["text"] and _valid_text(parts["text"]):
            text = parts["text"]
            if code is not None:
                text = pc.if_else(pa.array(code == 0), pa.scalar(None, text.type), text)
            out[name] = pd.arrays.ArrowStringArray(text.cast(pa.large_string()))
            continue
        if code is None and kinds in (["integer"], ["real"]):
            # Numbers without NULLs as numpy int64/float64: typed alike (pandas infers the
            # same kind), worded alike (the same str()), never scanned for bytes.
            out[name] = parts[kinds[0]].to_numpy()
            continue
        values = np.full(n, None, dtype=object)
        for kind, part in parts.items():
            where = np.ones(n, dtype=bool) if code is None else code == _CLASSES[kind]
            values[where] = _python_values(kind, part)[where]
        out[name] = values
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _valid_text(arr: pa.Array) -> bool:
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False  # not UTF-8: _python_values gives bytes where sqlite3 would
    return True


def _python_values(kind: str, part: pa.Array) -> np.ndarray:
    """Values of one storage class as sqlite3 gives them (text that is not UTF-8 as bytes)."""
    if kind in ("integer", "real"):
        return part.to_numpy().astype(object)  # Python int / float, as sqlite3 gives them
    if kind == "text":
        if _valid_text(part):
            return part.to_numpy(zero_copy_only=False).astype(object)
        return _listed(part.view(pa.binary()), _utf8_or_bytes)
    return _listed(part)


def _utf8_or_bytes(value: bytes | None) -> str | bytes | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


# PostgreSQL --------------------------------------------------------------------------------


def _postgres_reader(adbc: Any, sql: str, names: list[str]) -> Iterator[pd.DataFrame] | None:
    cur = adbc.cursor()
    cur.execute(sql)
    reader = cur.fetch_record_batch()
    convert = [_pg_converter(field) for field in reader.schema]
    if any(c is None for c in convert):
        # A type this module does not hand over exactly (interval, time, json...).
        return None
    return _frames(
        cur,
        lambda b: pd.DataFrame(
            {n: f(b.column(i)) for i, (n, f) in enumerate(zip(names, convert, strict=True))},
            index=pd.RangeIndex(b.num_rows),
        ),
        reader,
    )


def _pg_converter(field: pa.Field) -> Any:
    """How a column of ``field``'s type becomes what psycopg2 would give; None if unknown."""
    t = field.type
    pg_type = (field.metadata or {}).get(b"POSTGRESQL:type", b"").decode()
    if isinstance(t, pa.BaseExtensionType):
        if pg_type == "numeric":
            return _decimals
        return None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return lambda a: pd.arrays.ArrowStringArray(a.cast(pa.large_string()))
    # Not float4: psycopg2 reads its text (1.1), Arrow its 32 bits (1.100000023841858).
    if pa.types.is_integer(t) or pa.types.is_float64(t) or pa.types.is_boolean(t):
        return _scalars
    if pa.types.is_date32(t) or pa.types.is_timestamp(t) or pa.types.is_binary(t):
        return _listed
    if pa.types.is_null(t):
        return lambda a: np.full(len(a), None, dtype=object)
    return None


def _scalars(arr: pa.Array) -> np.ndarray:
    zero = False if pa.types.is_boolean(arr.type) else 0
    values = arr.fill_null(zero).to_numpy(zero_copy_only=False).astype(object)
    if arr.null_count:
        values[arr.is_null().to_numpy(zero_copy_only=False)] = None
    return values


def _listed(arr: pa.Array, each: Any = None) -> np.ndarray:
    """The Python values of ``arr`` as an object array (bytes stay scalars), mapped by ``each``."""
    values = arr.to_pylist()
    out = np.empty(len(values), dtype=object)
    out[:] = values if each is None else [each(v) for v in values]
    return out


def _decimals(arr: pa.Array) -> np.ndarray:
    text = arr.storage if isinstance(arr, pa.ExtensionArray) else arr
    out = np.empty(len(text), dtype=object)
    out[:] = [None if v is None else decimal.Decimal(v) for v in text.to_pylist()]
    return out
