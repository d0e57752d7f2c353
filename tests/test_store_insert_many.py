"""Multi-row INSERTs on SQLite write every row once, in order, whatever the count."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from naebu.store import tables as store


@pytest.mark.parametrize("count", [1, 6, 7, 13, 14, 0])
def test_every_row_once_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setattr(store, "SQLITE_ROWS", 7)  # whole statements and a shorter last one
    engine = create_engine(f"sqlite:///{tmp_path / 'rows.sqlite'}")
    rows = [(i, f"r{i}", None if i % 3 else i * 1.5) for i in range(count)]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT, x REAL)"))
        flat = [value for row in rows for value in row]
        store.insert_many_sqlite(conn, "INSERT INTO t (n, s, x) VALUES {}".format, flat, 3)
    with engine.connect() as conn:
        back = [tuple(r) for r in conn.execute(text("SELECT n, s, x FROM t ORDER BY rowid"))]
    assert back == rows
    engine.dispose()
