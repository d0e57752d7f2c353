"""The record history's bulk write path (naebu.store.history_write): every kind of value
survives COPY on PostgreSQL and the multi-row upserts on SQLite, a second write merges by key,
and a transaction rolled back after the write leaves the history as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from services import pg_url, require_service, unique_name
from sqlalchemy import Engine, create_engine, text

from naebu.core import datasets
from naebu.store import history
from naebu.store import tables as store

#: Text COPY's CSV must carry as it is: quotes, separators, line breaks, a backslash, an
#: empty text (not a missing one), Korean, a literal "NULL".
HOSTILE = ['a"b', "x,y", "line\nbreak\r\n", "back\\slash", "", "재무과 한빛", "NULL", None]


def _employees(n: int, *, offset: int = 0, note: str = "") -> pd.DataFrame:
    """``n`` employees with every column kind the dataset has (text, bool, dates), nulls too."""
    ds = datasets.get("employees")
    frame = history.empty("employees")
    data: dict[str, object] = {}
    for c in ds.columns:
        if c.name == ds.key:
            data[c.name] = [f"E{offset + i:06d}" for i in range(n)]
        elif c.type == "str":
            data[c.name] = [HOSTILE[i % len(HOSTILE)] for i in range(n)]
        elif c.type == "bool":
            data[c.name] = pd.array([[True, False, None][i % 3] for i in range(n)], "boolean")
        else:  # date
            days = pd.Series(pd.to_datetime("1965-07-01") + pd.to_timedelta(np.arange(n), "D"))
            data[c.name] = days.where(np.arange(n) % 5 != 0)
    for name, values in data.items():
        frame[name] = pd.Series(values).astype(frame[name].dtype)
    if note:
        frame["name"] = pd.Series([note] * n).astype(frame["name"].dtype)
    return frame


def _cards(n: int, *, offset: int = 0) -> pd.DataFrame:
    """``n`` card approvals: a time of day, numbers with NaN, integers with nulls."""
    frame = history.empty("card_transactions")
    idx = np.arange(n)
    frame["approval_id"] = pd.Series([f"A{offset + i}" for i in idx]).astype("str")
    frame["department"] = pd.Series([HOSTILE[i % len(HOSTILE)] for i in idx]).astype("str")
    frame["approved_date"] = pd.Series(
        pd.to_datetime("2025-03-01") + pd.to_timedelta(idx % 40, "D")
    )
    seconds = pd.Series((idx * 37.5) % 86400).where(idx % 4 != 0)
    frame["approved_time"] = pd.to_timedelta(seconds, unit="s").astype("timedelta64[ns]")
    frame["amount"] = pd.Series(idx * 1000.25 - 5e5).where(idx % 6 != 1).astype("float64")
    frame["attendees"] = pd.array([None if i % 3 == 0 else int(i) for i in idx], "Int64")
    for c in datasets.get("card_transactions").columns:
        frame[c.name] = frame[c.name].astype(history.empty("card_transactions")[c.name].dtype)
    return frame


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key, ignore_index=True)


def _check(engine: Engine) -> None:
    """Write, merge, roll back, and read back on ``engine``."""
    first = _employees(3000)
    with engine.begin() as conn:  # an empty table: COPY straight in on PostgreSQL
        assert history.store_records(conn, "employees", first, run_id=1) == 3000
    with engine.connect() as conn:
        back = history.load(conn, "employees")
    pd.testing.assert_frame_equal(_sorted(back, "employee_id"), first)

    # Half of them again, changed, and 1,000 new: merged by key.
    again = _employees(2500, offset=1500, note="바뀐 이름")
    with engine.begin() as conn:
        assert history.store_records(conn, "employees", again, run_id=2) == 2500
    with engine.connect() as conn:
        back = _sorted(history.load(conn, "employees"), "employee_id")
        assert history.new_since(conn, "employees", 1) == (2500, None)
    expected = pd.concat([first.iloc[:1500], again], ignore_index=True)
    pd.testing.assert_frame_equal(back, expected)

    # A transaction that fails after the write (as a crash before the commit) leaves nothing.
    with pytest.raises(RuntimeError), engine.begin() as conn:
        history.store_records(conn, "employees", _employees(10, offset=9000), run_id=3)
        history.store_records(conn, "employees", _employees(10, note="x"), run_id=3)
        raise RuntimeError("crash before the commit")
    with engine.connect() as conn:
        after = _sorted(history.load(conn, "employees"), "employee_id")
        assert history.new_since(conn, "employees", 2) == (0, None)
    pd.testing.assert_frame_equal(after, expected)

    cards = _cards(1200)
    with engine.begin() as conn:
        history.store_records(conn, "card_transactions", cards.iloc[:700], run_id=1)
        history.store_records(conn, "card_transactions", cards.iloc[500:], run_id=1)
    with engine.connect() as conn:
        back = history.load(conn, "card_transactions")
    order = back["approval_id"].str.slice(1).astype(int).argsort()
    pd.testing.assert_frame_equal(back.iloc[order].reset_index(drop=True), cards)


def test_write_path_sqlite(tmp_path: Path) -> None:
    engine = store.connect(f"sqlite:///{tmp_path / 's.db'}")
    try:
        _check(engine)
    finally:
        engine.dispose()


@contextmanager
def _pg_schema() -> Iterator[str]:
    base = require_service("PostgreSQL", pg_url())
    schema = unique_name("naebu_histw")
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_write_path_postgresql() -> None:
    with _pg_schema() as url:
        engine = store.connect(url)
        try:
            _check(engine)
            # The temporary tables COPY merged through are gone with their transactions.
            with engine.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'naebu_stage_%'")
                ).scalar_one()
            assert left == 0
        finally:
            engine.dispose()
