"""New records for the incremental run: a share (1 %) of each incremental source, added as a
source system would add them.

For every SQL source with a watermark, a random sample of its well-formed rows is copied with a
new record key, every date moved by the same number of days so that the copy's event time falls
in the last week of the data (a new record is a recent one), and a watermark after every row
already there. For the card drop, the sampled approvals are written as a new CSV file, as the
card company's next delivery would be. Reference tables (read whole on every run) get nothing.
The next ``naebu run --once`` then reads only these rows plus what the windows need.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import make_url

from naebu import datasets
from naebu.config import Config, SourceConfig

#: How source dates are written when the config gives no format (ISO text).
ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "%Y-%m-%d %H:%M:%S"
#: Copies fall within this many days before the latest event time of their dataset.
RECENT_DAYS = 7


@dataclass
class Added:
    """What :func:`add_new_records` wrote, per source."""

    rows: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """New rows over all sources."""
        return sum(self.rows.values())


def add_new_records(config: Config, fraction: float = 0.01, seed: int = 7) -> Added:
    """Add ``fraction`` new rows to every incremental source of ``config``."""
    rng = np.random.default_rng(seed)
    added = Added()
    for source in config.sources.values():
        dataset = datasets.get(source.dataset)
        if not source.enabled or dataset.reference:
            continue
        if source.kind == "sql" and source.options.get("watermark"):
            n, existing = _add_sql(source, fraction, rng)
        elif source.kind == "files":
            n, existing = _add_file(source, fraction, rng)
        else:
            continue
        added.rows[source.name] = n
        added.existing[source.name] = existing
    return added


def _single(source: SourceConfig, column: str | None) -> str | None:
    """The one source column a canonical column is mapped from (None: unmapped or joined)."""
    if column is None:
        return None
    mapped = source.columns.get(column, column)
    return mapped if isinstance(mapped, str) else None


def _date_columns(source: SourceConfig) -> dict[str, str]:
    """Source column -> strptime format of every mapped date column but the watermark."""
    dataset = datasets.get(source.dataset)
    out = {}
    for col in dataset.columns:
        if col.type not in ("date", "datetime") or col.name == "updated_at":
            continue
        name = _single(source, col.name)
        if name is not None:
            default = ISO_DATE if col.type == "date" else ISO_DATETIME
            out[name] = source.formats.get(col.name, default)
    return out


def _sample(frame: pd.DataFrame, source: SourceConfig, fraction: float,
            rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:  # fmt: skip
    """A sample of rows whose event time parses, and those event times."""
    dataset = datasets.get(source.dataset)
    event = _single(source, dataset.event_time)
    formats = _date_columns(source)
    if event is None or event not in frame.columns:
        times = pd.Series(pd.NaT, index=frame.index)
    else:
        times = pd.to_datetime(frame[event].astype(str), format=formats[event], errors="coerce")
    usable = frame.index[times.notna()] if event is not None else frame.index
    n = max(1, int(round(len(frame) * fraction)))
    chosen = rng.choice(np.asarray(usable), size=min(n, len(usable)), replace=False)
    return frame.loc[np.sort(chosen)].copy(), times


def _shift_dates(rows: pd.DataFrame, times: pd.Series, source: SourceConfig,
                 rng: np.random.Generator) -> None:  # fmt: skip
    """Move every date of each row by the days that bring its event time into the last week."""
    valid = times.dropna()
    if valid.empty:
        return
    latest = valid.max().normalize()
    back = rng.integers(0, RECENT_DAYS, size=len(rows))
    target = latest - pd.to_timedelta(back, unit="D")
    delta = (target - times.loc[rows.index].dt.normalize().to_numpy()).to_numpy()
    for column, fmt in _date_columns(source).items():
        if column not in rows.columns:
            continue
        parsed = pd.to_datetime(rows[column].astype(str), format=fmt, errors="coerce")
        moved = (parsed + delta).dt.strftime(fmt)
        rows[column] = moved.where(parsed.notna(), rows[column])


def _new_keys(sampled: pd.Series, existing: pd.Series) -> list[object]:
    """Keys no row has yet: after the largest when the keys are numbers, else the sampled key
    with a suffix."""
    numeric = pd.to_numeric(existing, errors="coerce")
    if len(existing) and numeric.notna().all():
        top = int(numeric.max())
        return [top + 1 + i for i in range(len(sampled))]
    return [f"{v}-N{i:06d}" for i, v in enumerate(sampled.astype(str))]


def _add_sql(source: SourceConfig, fraction: float, rng: np.random.Generator) -> tuple[int, int]:
    url = make_url(str(source.options["url"]))
    if url.get_backend_name() != "sqlite" or not url.database:
        raise RuntimeError(f"source {source.name}: the benchmark adds rows to SQLite sources only")
    table = str(source.options["table"])
    watermark = str(source.options["watermark"])
    key = _single(source, datasets.get(source.dataset).key)
    with sqlite3.connect(url.database) as db:
        frame = pd.read_sql_query(f'select * from "{table}"', db)  # noqa: S608 (config names)
        rows, times = _sample(frame, source, fraction, rng)
        _shift_dates(rows, times, source, rng)
        if key is not None:
            rows[key] = _new_keys(rows[key], frame[key])
        last = pd.to_datetime(frame[watermark], errors="coerce").max()
        base = (last if pd.notna(last) else pd.Timestamp(datetime.now())) + timedelta(minutes=1)
        rows[watermark] = [
            (base + timedelta(seconds=i)).strftime(ISO_DATETIME) for i in range(len(rows))
        ]
        rows.to_sql(table, db, if_exists="append", index=False)
    return len(rows), len(frame)


def _read_drop(folder: Path, pattern: str) -> list[pd.DataFrame]:
    frames = []
    for path in sorted(folder.glob(pattern)):
        for encoding in ("utf-8-sig", "cp949"):
            try:
                frames.append(pd.read_csv(path, dtype=str, keep_default_na=False,
                                          encoding=encoding))  # fmt: skip
                break
            except UnicodeDecodeError:
                continue
    return frames


def _add_file(source: SourceConfig, fraction: float, rng: np.random.Generator) -> tuple[int, int]:
    folder = Path(str(source.options["path"]))
    pattern = str(source.options.get("pattern", "*.csv"))
    if not pattern.endswith(".csv"):
        return 0, 0
    parts = _read_drop(folder, pattern)
    if not parts:
        return 0, 0
    frame = pd.concat(parts, ignore_index=True)
    rows, times = _sample(frame, source, fraction, rng)
    _shift_dates(rows, times, source, rng)
    key = _single(source, datasets.get(source.dataset).key)
    if key is not None and key in rows.columns:
        rows[key] = [str(k) for k in _new_keys(rows[key], frame[key])]
    name = pattern.replace("*", "bench-incremental")
    rows.to_csv(folder / name, index=False, encoding="utf-8-sig")
    return len(rows), len(frame)
