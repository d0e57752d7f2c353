"""New records for the incremental run: the city's latest 1 %, held back and then delivered.

Made-up copies of records would break what the demo generator guarantees (its labels are
exact because it controls every duplicate, split and sequence), so the new records are the
city's own: before a first run, every record changed after one moment is taken out of the
incremental sources, the moment chosen so that this is ``fraction`` of their records (SQL
sources by watermark; the card drop by approval date, cut from the monthly files); after that
run they are put back as a source system would deliver them (rows with a newer watermark; a
new CSV file in the drop). The second run then reads only these rows plus what the windows
need, and its store ends up with every record of the city, so every label must be an alert. Reference tables (read whole on every run) are left alone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import make_url

from naebu.connectors.source_settings import SourceConfig
from naebu.core import datasets
from naebu.settings.config import Config

#: Encodings a card CSV is read with, in order (the demo drop mixes both).
ENCODINGS = ("utf-8-sig", "cp949")


@dataclass
class _Held:
    source: str
    #: SQL: the table; files: the file the rows go to when delivered.
    target: str
    #: SQL: the rows exactly as stored (no type round trip through pandas) and their columns.
    columns: list[str] = field(default_factory=list)
    raw: list[tuple[object, ...]] = field(default_factory=list)
    #: Files: the rows as text.
    frame: pd.DataFrame | None = None
    encoding: str = "utf-8-sig"

    def __len__(self) -> int:
        return len(self.frame) if self.frame is not None else len(self.raw)


@dataclass
class HeldBack:
    """Rows taken out of the sources, per source, until :func:`deliver`."""

    parts: list[_Held] = field(default_factory=list)
    existing: dict[str, int] = field(default_factory=dict)
    #: The moment after which records were held back (ISO), if any.
    cutoff: str | None = None

    @property
    def rows(self) -> dict[str, int]:
        """Rows held back per source."""
        return {p.source: len(p) for p in self.parts}

    @property
    def total(self) -> int:
        """Rows held back over all sources."""
        return sum(len(p) for p in self.parts)


def _single(source: SourceConfig, column: str | None) -> str | None:
    """The one source column a canonical column is mapped from (None: unmapped or joined)."""
    if column is None:
        return None
    mapped = source.columns.get(column, column)
    return mapped if isinstance(mapped, str) else None


def _sqlite_path(source: SourceConfig) -> str:
    url = make_url(str(source.options["url"]))
    if url.get_backend_name() != "sqlite" or not url.database:
        raise RuntimeError(f"source {source.name}: the benchmark changes SQLite sources only")
    return url.database


def hold_back(config: Config, fraction: float = 0.01) -> HeldBack:
    """Take out of the incremental sources every record that changed after one moment: the
    moment before which ``1 - fraction`` of their records lie (SQL sources by watermark, the
    card drop by approval date). One moment for all sources, so what is left is the city as
    it stood then: a contract and the payments that follow its inspection come back together.
    """
    sources = [
        s
        for s in config.sources.values()
        if s.enabled
        and not datasets.get(s.dataset).reference
        and ((s.kind == "sql" and s.options.get("watermark")) or s.kind == "files")
    ]
    times = {s.name: _times(s) for s in sources}
    every = pd.concat([t for t in times.values() if len(t)], ignore_index=True).dropna()
    held = HeldBack()
    if every.empty:
        return held
    cutoff = every.sort_values(ignore_index=True).iloc[int(len(every) * (1 - fraction))]
    held.cutoff = cutoff.isoformat()
    for source in sources:
        later = times[source.name] > cutoff
        part = _take_sql(source, later) if source.kind == "sql" else _take_files(source, later)
        held.existing[source.name] = len(later)
        if part is not None:
            held.parts.append(part)
    return held


def _times(source: SourceConfig) -> pd.Series:
    """Each record's time, in the order :func:`_take_sql` / :func:`_take_files` read them."""
    if source.kind == "sql":
        table, watermark = str(source.options["table"]), str(source.options["watermark"])
        with sqlite3.connect(_sqlite_path(source)) as db:
            rows = db.execute(f'select "{watermark}" from "{table}" order by rowid').fetchall()  # noqa: S608
        return pd.to_datetime(pd.Series([r[0] for r in rows], dtype=object), errors="coerce")
    frame = _drop(source)[0]
    date = _single(source, datasets.get(source.dataset).event_time)
    if frame.empty or date is None:
        return pd.Series([], dtype="datetime64[ns]")
    fmt = source.formats.get(datasets.get(source.dataset).event_time or "", "%Y-%m-%d")
    return pd.to_datetime(frame[date], format=fmt, errors="coerce")


def _take_sql(source: SourceConfig, later: pd.Series) -> _Held | None:
    if not later.any():
        return None
    table = str(source.options["table"])
    with sqlite3.connect(_sqlite_path(source)) as db:
        rowids = [r[0] for r in db.execute(f'select rowid from "{table}" order by rowid')]  # noqa: S608
        chosen = [rowids[i] for i in later.to_numpy().nonzero()[0]]
        columns: list[str] = []
        raw: list[tuple[object, ...]] = []
        for start in range(0, len(chosen), 500):
            part = chosen[start : start + 500]
            marks = ", ".join("?" for _ in part)
            cursor = db.execute(
                f'select * from "{table}" where rowid in ({marks}) order by rowid',  # noqa: S608
                part,
            )
            columns = [d[0] for d in cursor.description]
            raw += [tuple(r) for r in cursor.fetchall()]
        db.executemany(f'delete from "{table}" where rowid = ?', [(r,) for r in chosen])  # noqa: S608
    return _Held(source.name, table, columns=columns, raw=raw)


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    for encoding in ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding), encoding
        except UnicodeDecodeError:
            continue
    raise RuntimeError(f"{path}: not readable as {' or '.join(ENCODINGS)}")


def _drop(source: SourceConfig) -> tuple[pd.DataFrame, dict[Path, tuple[pd.DataFrame, str]]]:
    """The drop's CSV rows as text (with their file and line), and each file as read."""
    folder = Path(str(source.options["path"]))
    pattern = str(source.options.get("pattern", "*.csv"))
    files = sorted(folder.glob(pattern)) if pattern.endswith(".csv") else []
    read = {path: _read_csv(path) for path in files}
    if not read:
        return pd.DataFrame(), read
    rows = pd.concat(
        [f.assign(_file=str(p), _line=range(len(f))) for p, (f, _) in read.items()],
        ignore_index=True,
    )
    return rows, read


def _take_files(source: SourceConfig, later: pd.Series) -> _Held | None:
    rows, read = _drop(source)
    if rows.empty or not later.any():
        return None
    latest = rows[later.to_numpy()]
    for path, (frame, encoding) in read.items():
        taken = set(latest.loc[latest["_file"] == str(path), "_line"])
        if taken:
            keep = frame[[i not in taken for i in range(len(frame))]]
            keep.to_csv(path, index=False, encoding=encoding)
    pattern = str(source.options.get("pattern", "*.csv"))
    target = Path(str(source.options["path"])) / pattern.replace("*", "bench-new-records")
    return _Held(source.name, str(target), frame=latest.drop(columns=["_file", "_line"]))


def deliver(config: Config, held: HeldBack) -> None:
    """Put the held-back rows back, as new deliveries of their sources."""
    for part in held.parts:
        source = config.sources[part.source]
        if part.frame is not None:
            part.frame.to_csv(part.target, index=False, encoding=part.encoding)
            continue
        names = ", ".join(f'"{c}"' for c in part.columns)
        marks = ", ".join("?" for _ in part.columns)
        with sqlite3.connect(_sqlite_path(source)) as db:
            db.executemany(
                f'insert into "{part.target}" ({names}) values ({marks})',  # noqa: S608
                part.raw,
            )
