"""Deliver a demo city in slices, as a daemon running every few minutes sees it.

The demo writes each record once, as it finally stands. A city's systems do not: a contract is
keyed in when it is signed and its inspection day is filled in when the inspection report is
entered, up to two days after the inspection (the contract's change stamp says when). So a
payment made on the inspection day may reach naebu before the contract's inspection does.

:class:`Slicer` takes every SQL source with a watermark out of the city's database and puts it
back slice by slice: before slice ``i`` each record is there in the last version whose change
stamp is at most the slice's end. A contract with an inspection has two versions: signed
(inspection day empty, stamped on its signing day) and inspected (the demo's row). Sources read
whole (the directory, vendors) and the card drop stay as they are.
"""

from __future__ import annotations

import bisect
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import make_url

from naebu.settings.config import Config


@dataclass
class _Table:
    name: str
    watermark: str
    columns: list[str]
    #: (stamp, row) of every version, in stamp order.
    versions: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    #: The versions' stamps as comparable text (``YYYY-MM-DD HH:MM:SS``), in the same order.
    stamps: list[str] = field(default_factory=list)


@dataclass
class Slicer:
    """A city's sliced sources, and the slices' ends."""

    db: str
    tables: list[_Table]
    ends: list[datetime]
    #: Per table, how many of its versions (in stamp order) the sources hold already.
    delivered: dict[str, int] = field(default_factory=dict)

    @classmethod
    def take(cls, config: Config, slices: int) -> Slicer:
        """Take the watermarked SQL sources out of the city's database, into ``slices``."""
        db = ""
        tables = []
        for source in config.sources.values():
            watermark = source.options.get("watermark")
            if source.kind != "sql" or not source.enabled or not watermark:
                continue
            url = make_url(str(source.options["url"]))
            db = str(url.database)
            name = str(source.options["table"])
            with sqlite3.connect(db) as con:
                cursor = con.execute(f'select * from "{name}"')  # noqa: S608
                columns = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
                con.execute(f'delete from "{name}"')  # noqa: S608
            table = _Table(name, str(watermark), columns)
            at = columns.index(str(watermark))
            for row in rows:
                table.versions += _versions(name, columns, row, at)
            comparable = _comparable([stamp for stamp, _ in table.versions])
            order = sorted(range(len(comparable)), key=comparable.__getitem__)
            table.versions = [table.versions[i] for i in order]
            table.stamps = [comparable[i] for i in order]
            tables.append(table)
        stamps = pd.to_datetime(
            pd.Series([s for t in tables for s, _ in t.versions]), errors="coerce"
        ).dropna()
        qs = [i / slices for i in range(1, slices + 1)]
        ends = sorted({stamp.to_pydatetime() for stamp in stamps.quantile(qs)})
        return cls(db, tables, ends)

    def deliver(self, until: datetime) -> None:
        """Make the sources hold every record as it stood at ``until`` (its latest version).

        Slices come in time order: only the versions stamped since the last delivery are
        written, each replacing its record's earlier version (a province has millions of
        versions; rewriting every table for each of 50 slices would take the bench's hours).
        """
        bound = str(pd.Timestamp(until))
        with sqlite3.connect(self.db) as con:
            for table in self.tables:
                start = self.delivered.get(table.name, 0)
                stop = bisect.bisect_right(table.stamps, bound, lo=start)
                if stop == start:
                    continue
                # The first column is the source table's key (a record's versions share it).
                key = table.columns[0]
                latest = {row[0]: row for _, row in table.versions[start:stop]}
                con.executemany(
                    f'delete from "{table.name}" where "{key}" = ?',  # noqa: S608
                    [(k,) for k in latest],
                )
                marks = ", ".join("?" for _ in table.columns)
                con.executemany(
                    f'insert into "{table.name}" values ({marks})',  # noqa: S608
                    list(latest.values()),
                )
                self.delivered[table.name] = stop


def _versions(
    table: str, columns: list[str], row: tuple[object, ...], at: int
) -> list[tuple[str, tuple[object, ...]]]:
    """A record's versions: the contract signed before it was inspected, then as it stands."""
    last = (str(row[at]), row)
    if table != "ctrt_mst":
        return [last]
    inspected, signed = columns.index("insp_ymd"), columns.index("ctrt_ymd")
    if row[inspected] in (None, "") or row[signed] in (None, ""):
        return [last]
    day = str(row[signed]).replace("-", "")
    stamp = f"{day[:4]}-{day[4:6]}-{day[6:8]} 09:00:00"
    if stamp >= last[0]:
        return [last]
    first = list(row)
    first[inspected] = None
    first[at] = stamp
    return [(stamp, tuple(first)), last]


def _comparable(stamps: list[str]) -> list[str]:
    """Stamps as ``str(pd.Timestamp)`` writes them, so text order is time order (a stamp
    that does not read as a time sorts first, as before: delivered with the first slice)."""
    parsed = pd.to_datetime(pd.Series(stamps, dtype=object), errors="coerce")
    return [str(t) if not pd.isna(t) else "" for t in parsed]
