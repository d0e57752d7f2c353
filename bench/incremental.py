"""New records for the incremental run: the city's latest 1 %, held back and then delivered.

Made-up copies of records would break what the demo generator guarantees (its labels are
exact because it controls every duplicate, split and sequence), so the new records are the
city's own: before a first run, the latest ``fraction`` of each incremental source is taken out
(SQL sources: the rows with the highest watermark; the card drop: the latest approvals, cut from
their monthly files); after that run they are put back as a source system would deliver them
(rows with a newer watermark; a new CSV file in the drop). The second run then reads only these
rows plus what the windows need, and its store ends up with every record of the city, so every
label must be an alert. Reference tables (read whole on every run) are left alone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import make_url

from naebu import datasets
from naebu.config import Config, SourceConfig

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

    @property
    def rows(self) -> dict[str, int]:
        """Rows held back per source."""
        return {p.source: len(p) for p in self.parts}

    @property
    def total(self) -> int:
        """Rows held back over all sources."""
        return sum(len(p) for p in self.parts)


def _count(total: int, fraction: float) -> int:
    return min(total, max(1, int(round(total * fraction))))


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
    """Take the latest ``fraction`` of every incremental source out of it."""
    held = HeldBack()
    for source in config.sources.values():
        if not source.enabled or datasets.get(source.dataset).reference:
            continue
        if source.kind == "sql" and source.options.get("watermark"):
            part, existing = _hold_sql(source, fraction)
        elif source.kind == "files":
            part, existing = _hold_files(source, fraction)
        else:
            continue
        if part is not None:
            held.parts.append(part)
            held.existing[source.name] = existing
    return held


def _hold_sql(source: SourceConfig, fraction: float) -> tuple[_Held | None, int]:
    table, watermark = str(source.options["table"]), str(source.options["watermark"])
    with sqlite3.connect(_sqlite_path(source)) as db:
        total = int(db.execute(f'select count(*) from "{table}"').fetchone()[0])  # noqa: S608
        if not total:
            return None, 0
        # Watermarks are ISO text (or numbers): their order is their time order.
        cursor = db.execute(
            f'select rowid, * from "{table}" order by "{watermark}" desc, rowid desc limit ?',  # noqa: S608
            (_count(total, fraction),),
        )
        columns = [d[0] for d in cursor.description][1:]
        latest = cursor.fetchall()
        db.executemany(f'delete from "{table}" where rowid = ?', [(r[0],) for r in latest])  # noqa: S608
    raw = [tuple(r[1:]) for r in reversed(latest)]
    return _Held(source.name, table, columns=columns, raw=raw), total


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    for encoding in ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding), encoding
        except UnicodeDecodeError:
            continue
    raise RuntimeError(f"{path}: not readable as {' or '.join(ENCODINGS)}")


def _hold_files(source: SourceConfig, fraction: float) -> tuple[_Held | None, int]:
    folder = Path(str(source.options["path"]))
    pattern = str(source.options.get("pattern", "*.csv"))
    date = _single(source, datasets.get(source.dataset).event_time)
    files = sorted(folder.glob(pattern))
    if not pattern.endswith(".csv") or not files or date is None:
        return None, 0
    read = {path: _read_csv(path) for path in files}
    rows = pd.concat(
        [f.assign(_file=str(p), _line=range(len(f))) for p, (f, _) in read.items()],
        ignore_index=True,
    )
    fmt = source.formats.get(datasets.get(source.dataset).event_time or "", "%Y-%m-%d")
    when = pd.to_datetime(rows[date], format=fmt, errors="coerce")
    order = when[when.notna()].sort_values(kind="stable")
    latest = rows.loc[order.index[-_count(len(rows), fraction) :]]
    for path, (frame, encoding) in read.items():
        taken = set(latest.loc[latest["_file"] == str(path), "_line"])
        if taken:
            keep = frame[[i not in taken for i in range(len(frame))]]
            keep.to_csv(path, index=False, encoding=encoding)
    target = folder / pattern.replace("*", "bench-new-records")
    held = _Held(source.name, str(target), frame=latest.drop(columns=["_file", "_line"]))
    return held, len(rows)


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
