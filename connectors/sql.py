"""``kind = "sql"``: a table or query of any database SQLAlchemy can reach.

Options:

- ``url``: SQLAlchemy URL (``postgresql+psycopg2://user:${PG_PASSWORD}@host/db``,
  ``mysql+pymysql://...``, ``sqlite:///data/fin.db``); or ``connection = "name"`` in the source.
- ``table`` or ``query`` (exactly one): a table name, or a ``SELECT``/``WITH`` text. The query is
  wrapped as a subquery, so the watermark filter and ordering apply to its result. A literal
  colon followed by a word in the query must be written ``\\:`` (``:name`` is a parameter).
- ``schema``: schema of ``table`` (optional).
- ``watermark``: source column (a change timestamp, or any value that grows) for incremental
  pulls. Each pull reads rows with ``watermark >= last`` ordered by it; inclusive on purpose,
  because rows committed later with the same timestamp as the last one seen would otherwise be
  lost (the boundary rows come again; alerts are idempotent by fingerprint). Values compare as
  the source stores them; the stored watermark is ISO text bound with the column's own type.
  Rows whose watermark is NULL are read only by the first pull. Reference datasets
  (``employees``, ``vendors``, ``departments``) ignore it and are read whole every pull.
- ``chunk_size``: rows per batch (default 50,000), streamed with a server-side cursor.
- ``key``: source column that names a row in quarantine locations
  (``table fin_payment, pay_no=P-001``); default: the column mapped to the dataset's key.

A first pull (no watermark bound) on SQLite or PostgreSQL is read Arrow-native through an ADBC
driver when it is installed (:mod:`naebu.connectors.arrow_sql`), giving the same batches; other
pulls, other databases, or no driver: SQLAlchemy streams the rows.

A pull yields one batch per chunk, each carrying the highest watermark read so far, and at
least one (possibly empty) batch, so a reference set that became empty is seen as such.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

from naebu.connectors import merge
from naebu.connectors.arrow_sql import ArrowReadError, arrow_chunks
from naebu.connectors.base import (
    Batch,
    Connector,
    SourceError,
    SourceState,
    check_int,
    check_str,
    keep_last,
)
from naebu.connectors.coerce import empty_frame
from naebu.connectors.mapping import check_columns, map_source
from naebu.connectors.registry import register
from naebu.connectors.source_settings import SourceConfig
from naebu.connectors.text_values import decode_text
from naebu.core.problems import Problem, did_you_mean

_SELECT = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(select|with)\b", re.I | re.S)


@register
class SqlConnector(Connector):
    """Reads a table or query of a SQL database, incrementally by a watermark column."""

    kind = "sql"
    options = {
        "url": (None, "SQLAlchemy database URL"),
        "table": (None, "table to read"),
        "query": (None, "SELECT text to read instead of a table"),
        "schema": (None, "schema of the table"),
        "watermark": (None, "source column for incremental pulls"),
        "chunk_size": (50_000, "rows per batch"),
        "key": (None, "source column naming a row in quarantine locations"),
    }

    @classmethod
    def check(cls, source: SourceConfig, file: str) -> list[Problem]:
        """Check the options without connecting (URL syntax and dialect, table xor query)."""
        problems = super().check(source, file)
        opts = source.options
        check_str(
            source,
            file,
            "url",
            problems,
            required=True,
            hint='url = "postgresql+psycopg2://..." or connection = "<name in [connections]>"',
        )
        if isinstance(opts.get("url"), str) and opts["url"].strip():
            try:
                make_url(opts["url"]).get_dialect()
            except (ArgumentError, NoSuchModuleError, ValueError) as exc:
                problems.append(
                    Problem(
                        file,
                        f"not a usable database URL: {exc}",
                        key=f"sources.{source.name}.url",
                        hint="e.g. postgresql+psycopg2://user:${PG_PASSWORD}@host/db",
                    )
                )
        has_table, has_query = "table" in opts, "query" in opts
        if has_table == has_query:
            problems.append(
                Problem(
                    file,
                    "give exactly one of table and query",
                    key=f"sources.{source.name}",
                    hint='table = "fin_payment" or query = "SELECT ..."',
                )
            )
        for name in ("table", "query", "schema", "watermark", "key"):
            check_str(source, file, name, problems)
        if isinstance(opts.get("query"), str) and not _SELECT.match(opts["query"]):
            problems.append(
                Problem(
                    file,
                    "query must be a SELECT (or WITH ... SELECT) statement",
                    key=f"sources.{source.name}.query",
                )
            )
        check_int(source, file, "chunk_size", 1, problems)
        return problems

    def pull(self, state: SourceState) -> Iterator[Batch]:
        """Yield the new (or, for reference data, all) rows chunk by chunk."""
        url = str(self.option("url"))
        engine = sa.create_engine(url)
        database = engine.url.database
        # SQLite would silently create an empty file and then miss every table.
        if (
            engine.dialect.name == "sqlite"
            and database
            and database != ":memory:"
            and not Path(database).is_file()
        ):
            engine.dispose()
            raise self.problem(
                f"database file {database} not found",
                "fix the url, or run `naebu demo` first for the demo city",
            )
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_bytes_when_not_utf8)
        try:
            with engine.connect() as conn:
                yield from self._pull(conn, state)
        except SQLAlchemyError as exc:
            raise self.problem(_one_line(exc), f"database {_safe_url(url)}") from exc
        finally:
            engine.dispose()

    def _pull(self, conn: Connection, state: SourceState) -> Iterator[Batch]:
        src, label = self._from(conn)
        names = [c.name for c in src.columns]
        # Merged with other sources (merge_on): the key is built from the typed merge_on
        # values (naebu.connectors.merge); until then no key column is required.
        built = merge.builds_key(self.source, self.dataset, names)
        placeholder = {self.dataset.key: ()} if built else {}
        check_columns(names, self.dataset, self.source, placeholder)
        wm_name = self.option("watermark")
        incremental = bool(wm_name) and not self.dataset.reference
        watermark = state.watermark if incremental else None
        wm_col = None
        if incremental:
            wm_col = _find(src, str(wm_name), self.source.name, "watermark")
        table, schema = self.option("table"), self.option("schema")
        stmt = sa.select(*_select_columns(conn, src, table, schema, wm_col))
        if self.option("key"):
            key_col = _find(src, str(self.option("key")), self.source.name, "key")
        else:
            key_col = _find(src, _key_source(self.source.columns, self.dataset.key))
        key_name = key_col.name if key_col is not None else None
        chunk = int(self.option("chunk_size"))
        # Rows of one watermark in the key's order: otherwise their order (and, at a chunk's
        # end, their chunk) is the plan's, which differs between a server-side cursor and
        # PostgreSQL's COPY (the ADBC path) and may differ between two runs.
        order = [] if wm_col is None else [wm_col]
        if wm_col is not None and key_col is not None and key_col.name != wm_col.name:
            order.append(key_col)
        if wm_col is None or state.watermark is None:
            # Nothing to bind: the ADBC driver may read it (naebu.connectors.arrow_sql).
            frames = arrow_chunks(conn, stmt, names, chunk, order)
            if frames is not None:
                # Its metadata read, the SQLAlchemy connection is not needed while ADBC reads:
                # not left idle in a transaction, nor counted as a second reader.
                conn.close()
                conn.engine.dispose()  # closes the pooled connection itself
                yield from self._arrow_batches(frames, wm_col, key_name, label, watermark, built)
                return
        if wm_col is not None:
            if state.watermark is not None:
                last = _bind_watermark(conn, wm_col, state.watermark, self.source.name)
                stmt = stmt.where(wm_col >= last)
            stmt = stmt.order_by(*order)

        result = conn.execution_options(stream_results=True, max_row_buffer=chunk).execute(stmt)
        keys = list(result.keys())
        wm_index = keys.index(wm_col.name) if wm_col is not None else -1
        key_index = keys.index(key_name) if key_name is not None else -1
        # Rows are fetched from the driver's cursor itself: SQLAlchemy's Row objects cost more
        # than the driver's fetch on a million-row first pull, and untyped columns have no
        # result processing to lose. Driver errors are wrapped as SQLAlchemy would wrap them.
        cursor = result.cursor
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            # SQLAlchemy's streaming strategy has already read the first row into its buffer;
            # take it through the Result, the rest straight from the cursor.
            head = [tuple(r) for r in result.fetchmany(1)]
            yield from self._batches(
                cursor, head, chunk, keys, wm_index, key_index, label, watermark, built
            )
        except dbapi_error as exc:
            _forget_stream(cursor)
            raise sa.exc.DBAPIError.instance(
                None, None, exc, dbapi_error, dialect=conn.dialect
            ) from exc
        except SQLAlchemyError:
            _forget_stream(cursor)
            raise
        finally:
            result.close()

    def _batches(
        self,
        cursor: Any,
        head: list[tuple[Any, ...]],
        chunk: int,
        keys: list[str],
        wm_index: int,
        key_index: int,
        label: str,
        watermark: str | None,
        built: bool = False,
    ) -> Iterator[Batch]:
        """One batch per chunk of ``head`` (rows already read) followed by the driver's
        streamed ``cursor``; at least one (possibly empty)."""
        seen = 0
        for rows in _chunks(cursor, head, chunk):
            if wm_index >= 0:
                # Rows come ordered by the watermark in the database's own collation; the last
                # non-NULL one is the highest the database knows of.
                for row in reversed(rows):
                    if row[wm_index] is not None:
                        watermark = _watermark_text(row[wm_index])
                        break
            raw = pd.DataFrame(rows, columns=keys, dtype=object)
            key = keys[key_index] if key_index >= 0 else None
            at = (lambda i, rows=rows: rows[i][key_index]) if key is not None else None
            locations = _Locations(label, len(rows), key, at, seen)
            yield self._batch(raw, locations, watermark, built)
            seen += len(rows)
        if seen == 0:
            yield self._empty(watermark)

    def _arrow_batches(
        self,
        frames: Iterator[pd.DataFrame],
        wm_col: sa.ColumnElement[Any] | None,
        key: str | None,
        label: str,
        watermark: str | None,
        built: bool,
    ) -> Iterator[Batch]:
        """:meth:`_batches` for the raw frames an ADBC driver read."""
        seen = 0
        try:
            for raw in frames:
                if wm_col is not None:
                    present = raw[wm_col.name].dropna()
                    if len(present):
                        watermark = _watermark_text(present.iloc[-1])
                values = raw[key].to_numpy(dtype=object) if key is not None else None
                at = values.__getitem__ if values is not None else None
                locations = _Locations(label, len(raw), key, at, seen)
                yield self._batch(raw, locations, watermark, built)
                seen += len(raw)
        except ArrowReadError as exc:
            url = _safe_url(str(self.option("url")))
            raise self.problem(str(exc), f"database {url}") from exc.__cause__
        if seen == 0:
            yield self._empty(watermark)

    def _batch(
        self, raw: pd.DataFrame, locations: _Locations, watermark: str | None, built: bool
    ) -> Batch:
        """One chunk of raw source rows mapped, typed and deduplicated."""
        frame, quarantined, unmapped = map_source(
            raw,
            self.dataset,
            self.source,
            locations,
            defaults={self.dataset.key: locations} if built else None,
            also_required=self.source.merge_on,
        )
        if built:
            frame = merge.with_merge_keys(frame, self.dataset, self.source.merge_on)
        frame = keep_last(frame, self.dataset.key, self.source.name, locations.label)
        return Batch(
            self.source.name,
            self.dataset.name,
            frame,
            quarantined,
            len(raw),
            watermark,
            unmapped=unmapped,
        )

    def _empty(self, watermark: str | None) -> Batch:
        return Batch(
            self.source.name, self.dataset.name, empty_frame(self.dataset), [], 0, watermark
        )

    def _from(self, conn: Connection) -> tuple[sa.FromClause, str]:
        """The selectable to read (table or wrapped query) and its label for locations.

        Columns stay untyped, so values arrive as the database driver gives them (text stays
        text, as stored): coerce() types them, and the watermark compares as stored.
        """
        schema = self.option("schema")
        if self.option("table"):
            name = str(self.option("table"))
            try:
                cols = sa.inspect(conn).get_columns(name, schema=schema)
            except NoSuchTableError:
                tables = sa.inspect(conn).get_table_names(schema=schema)
                raise self.problem(
                    f"table {name!r} not found",
                    did_you_mean(name, tables) or "tables: " + ", ".join(tables[:20]),
                ) from None
            table = sa.table(name, *[sa.column(c["name"]) for c in cols], schema=schema)
            return table, f"table {schema + '.' if schema else ''}{name}"
        query = str(self.option("query")).strip().rstrip(";")
        # Learn the query's column names without reading its rows, then wrap it as a subquery.
        probe = conn.execute(sa.text(f"SELECT * FROM ({query}) naebu_q WHERE 1=0"))
        names = list(probe.keys())
        probe.close()
        sub = sa.text(query).columns(*[sa.column(n) for n in names]).subquery("naebu_q")
        return sub, f"query of source {self.source.name}"


def _select_columns(
    conn: Connection,
    src: sa.FromClause,
    table: Any,
    schema: Any,
    watermark: sa.ColumnElement[Any] | None,
) -> list[sa.ColumnElement[Any]]:
    """The columns to read: MariaDB/MySQL ``latin1`` columns of a table as their stored bytes.

    Legacy Korean systems kept CP949 bytes in latin1 columns; the server would convert them
    to UTF-8 as if they were Latin-1 (``±è´ã´ç`` for 김담당), silently wrong. Read as bytes,
    :func:`naebu.connectors.coerce.coerce` decodes them (UTF-8, else CP949, else quarantine). The
    watermark column keeps its type, so it compares as stored.
    """
    columns: list[sa.ColumnElement[Any]] = list(src.c)
    if conn.dialect.name not in ("mysql", "mariadb") or not table:
        return columns
    latin1 = {
        str(name)
        for (name,) in conn.execute(
            sa.text(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_NAME = :t "
                "AND TABLE_SCHEMA = COALESCE(:s, DATABASE()) AND CHARACTER_SET_NAME = 'latin1'"
            ),
            {"t": str(table), "s": schema},
        )
    }
    skip = watermark.name if watermark is not None else None
    return [
        sa.cast(c, mysql.BINARY()).label(c.name) if c.name in latin1 and c.name != skip else c
        for c in columns
    ]


def _sqlite_text(value: bytes) -> str | bytes:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value  # coerce() decodes it as CP949 or quarantines its row


def _sqlite_bytes_when_not_utf8(dbapi_conn: Any, _record: Any) -> None:
    """SQLite TEXT that is not UTF-8 (a legacy system's EUC-KR bytes) arrives as bytes.

    sqlite3's own decoding raises on such a value and stops the whole read at that row;
    as bytes it reaches :func:`naebu.connectors.coerce.coerce` like any BLOB.
    """
    dbapi_conn.text_factory = _sqlite_text


def _chunks(cursor: Any, head: list[tuple[Any, ...]], chunk: int) -> Iterator[list[Any]]:
    """Lists of up to ``chunk`` rows: ``head`` and then the cursor's. An empty ``head`` means
    the result is already exhausted (and closed)."""
    if not head:
        return
    rows = head + (list(cursor.fetchmany(chunk - len(head))) if chunk > len(head) else [])
    while rows:
        yield rows
        rows = list(cursor.fetchmany(chunk))


class _Locations(Sequence[str]):
    """Row locations, worded only for the rows that are asked for (the quarantined ones).

    ``value_at(i)`` is row ``i``'s value of the ``key`` column (both None without one).
    """

    def __init__(
        self,
        label: str,
        n: int,
        key: str | None,
        value_at: Callable[[int], Any] | None,
        offset: int,
    ) -> None:
        self.label, self.n, self.key, self.value_at, self.offset = label, n, key, value_at, offset

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -self.n <= i < self.n:
            raise IndexError(i)  # iterating a Sequence relies on it
        i = i % self.n
        value = self.value_at(i) if self.value_at is not None else None
        if isinstance(value, bytes):
            value = decode_text(value) or repr(value)
        if value is None or value is pd.NA or (isinstance(value, str) and not value.strip()):
            return f"{self.label}, row {self.offset + i + 1}"
        return f"{self.label}, {self.key}={value}"


def _key_source(columns: dict[str, Any], key: str) -> str:
    spec = columns.get(key)
    return spec if isinstance(spec, str) else key


def _find(
    src: sa.FromClause, name: str, source: str | None = None, role: str = ""
) -> sa.ColumnElement[Any]:
    """Column ``name`` of ``src`` (exact, else case-insensitive).

    When it is absent: SourceError if ``source`` is given, else None.
    """
    if name in src.c:
        return src.c[name]
    for col in src.c:
        if col.name.lower() == name.lower():
            return col
    if source is None:
        return None  # type: ignore[return-value]
    names = [c.name for c in src.c]
    raise SourceError(
        source,
        f"{role} column {name!r} is not in the source",
        did_you_mean(name, names) or "source columns: " + ", ".join(names[:20]),
    )


def _bind_watermark(
    conn: Connection, col: sa.ColumnElement[Any], text: str, source: str
) -> sa.BindParameter[Any]:
    """The stored watermark as a parameter of the column's own type.

    The type is learnt from one stored value: a TIMESTAMP column gives datetimes and is
    compared as timestamps, an ISO text column gives text and is compared as text.
    """
    sample = conn.execute(sa.select(col).where(col.is_not(None)).limit(1)).scalar()
    try:
        value: Any
        sa_type: sa.types.TypeEngine[Any]
        if isinstance(sample, dt.datetime):
            value, sa_type = dt.datetime.fromisoformat(text), sa.DateTime(timezone=True)
        elif isinstance(sample, dt.date):
            value, sa_type = dt.date.fromisoformat(text[:10]), sa.Date()
        elif isinstance(sample, bool | int):
            value, sa_type = int(text), sa.Integer()
        elif isinstance(sample, decimal.Decimal | float):
            value, sa_type = decimal.Decimal(text), sa.Numeric()
        else:
            value, sa_type = text, sa.String()
    except (ValueError, decimal.InvalidOperation):
        raise SourceError(
            source,
            f"stored watermark {text!r} does not fit column {col.name!r}",
            "the watermark column changed type; reset the source's watermark",
        ) from None
    return sa.bindparam("naebu_last", value, type_=sa_type)


def _watermark_text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _one_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines() or [type(orig).__name__]
    return f"{type(orig).__name__}: {lines[0]}"


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def _forget_stream(cursor: Any) -> None:
    """Drop a streamed result whose connection died mid-read.

    PyMySQL would otherwise try to finish the unbuffered result on the dead connection when
    the cursor is collected, and print "Exception ignored" tracebacks to stderr after the
    source error was already reported in one line. There is nothing left to finish.
    """
    raw = getattr(cursor, "_result", None)
    if raw is not None and getattr(raw, "unbuffered_active", False):
        raw.unbuffered_active = False
