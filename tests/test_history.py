"""The record history: canonical records survive the store round trip, are replaced by key,
and let a rule added later look back over what was already read."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, run_cli
from services import mysql_url, pg_url, require_service, unique_name
from sqlalchemy import Engine, create_engine, event, text
from test_daemon_helpers import fresh_database

from naebu.connectors.coerce import coerce
from naebu.core import datasets
from naebu.store import history, history_tables
from naebu.store import tables as store


def _cards(rows: list[dict[str, str | None]]) -> pd.DataFrame:
    return _frame("card_transactions", rows)


ROWS: list[dict[str, str | None]] = [
    {
        "approval_id": "A1",
        "department": "재무과",
        "approved_date": "2025-03-01",
        "approved_time": "23:15:30",
        "amount": "12,000",
        "attendees": "3",
        "merchant_name": "한빛식당",
    },
    {
        "approval_id": "A2",
        "approved_date": "2025-03-02",
        "approved_time": None,
        "amount": "-500",
        "attendees": None,
    },
]


def _roundtrip(url: str) -> None:
    engine = store.connect(url)
    try:
        frame = _cards(ROWS)
        with engine.begin() as conn:
            assert history.store_records(conn, "card_transactions", frame, run_id=1) == 2
        with engine.connect() as conn:
            back = history.load(conn, "card_transactions")
        back = back.sort_values("approval_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_dtype=True)

        changed = _cards([{**ROWS[0], "amount": "15,000"}])
        with engine.begin() as conn:
            history.store_records(conn, "card_transactions", changed, run_id=2)
        with engine.connect() as conn:
            back = history.load(conn, "card_transactions")
            assert len(back) == 2
            assert back.set_index("approval_id").loc["A1", "amount"] == 15000
            assert history.new_since(conn, "card_transactions", 1) == (1, datetime(2025, 3, 1))
            since = history.load(conn, "card_transactions", since=datetime(2025, 3, 2))
            assert list(since["approval_id"]) == ["A2"]
        _windows(engine)
    finally:
        engine.dispose()


def _windows(engine: Engine) -> None:
    """Time bounds, exact at the edges; a bound no record lies beyond is left out of the query
    (the planner would otherwise walk the time index for a window covering everything)."""
    sent: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        cases = [
            (datetime(2025, 2, 1), None, {"A1", "A2"}, False),
            (datetime(2025, 3, 1), datetime(2025, 3, 2), {"A1", "A2"}, False),
            (datetime(2025, 3, 1, 23), None, {"A1", "A2"}, False),  # a date column: the day
            (datetime(2025, 3, 2), None, {"A2"}, True),
            (None, datetime(2025, 3, 1), {"A1"}, True),
            (datetime(2025, 3, 3), None, set(), True),
        ]
        for since, until, expected, bounded in cases:
            sent.clear()
            with engine.connect() as conn:
                back = history.load(conn, "card_transactions", since=since, until=until)
            assert set(back["approval_id"]) == expected, (since, until)
            if history.backend(engine) == "segments":
                continue  # no query: the window is an Arrow filter (test_segments.py)
            main = sent[-1]
            assert ("approved_date >=" in main or "approved_date <=" in main) == bounded, main
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _frame(dataset: str, rows: list[dict[str, str | None]]) -> pd.DataFrame:
    raw = pd.DataFrame(rows, dtype="object")
    frame, bad = coerce(
        raw,
        datasets.get(dataset),
        {c: c for c in raw.columns},
        {},
        [f"r{i}" for i in range(len(raw))],
    )
    assert not bad
    return frame


VENDORS: list[dict[str, str | None]] = [
    {
        "vendor_id": "V1",
        "name": "한빛상사",
        "account_no": "110",
        "account_changed_on": "2025-01-02",
    },
    {"vendor_id": "V2", "name": "두리건설", "account_no": None, "account_changed_on": None},
    {"vendor_id": "V3", "name": "새솔", "account_no": "330", "account_changed_on": None},
]


def _filters(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Key filters (bound values and the temporary key table), new records, and a reference
    dataset replaced whole with its unchanged records left as they were."""
    engine = store.connect(url)
    try:
        cards = _cards(
            [{**ROWS[0], "approval_id": f"A{i}", "department": f"D{i % 4}"} for i in range(12)]
        )
        # SQLite: 10 rows in multi-row statements of 3 (three whole and one of the last row)
        monkeypatch.setattr(store, "SQLITE_ROWS", 3)
        with engine.begin() as conn:
            assert history.store_records(conn, "card_transactions", cards.iloc[:10], run_id=1) == 10
            history.store_records(conn, "card_transactions", cards.iloc[10:], run_id=2)
        with engine.connect() as conn:
            back = history.load(conn, "card_transactions").sort_values(
                "approval_id", key=lambda s: s.str[1:].astype(int), ignore_index=True
            )
            pd.testing.assert_frame_equal(back, cards.reset_index(drop=True))
        wanted = history.KeyFilter("department", ("D1", "D3", "D9"))
        expected = {f"A{i}" for i in range(12) if i % 4 in (1, 3)}
        for bound in (100, 1):  # an IN list, then the temporary table
            monkeypatch.setattr(history_tables, "_IN_LIST", bound)
            with engine.connect() as conn:
                back = history.load(conn, "card_transactions", only=wanted)
                assert set(back["approval_id"]) == expected
                back = history.load(conn, "card_transactions", only=wanted, before_run=2)
                assert set(back["approval_id"]) == expected - {"A11"}
                # The same values, or written after run 1 (A10, department D2).
                either = history.KeyFilter("department", ("D1", "D3", "D9"), or_after_run=1)
                back = history.load(conn, "card_transactions", only=either)
                assert set(back["approval_id"]) == expected | {"A10"}
        with engine.connect() as conn:
            back = history.load(conn, "card_transactions", only=history.NewRecords(1))
            assert set(back["approval_id"]) == {"A10", "A11"}

        vendors = _frame("vendors", VENDORS)
        with engine.begin() as conn:
            assert history.store_whole(conn, "vendors", vendors, run_id=1) == 3
        with engine.begin() as conn:
            assert history.store_whole(conn, "vendors", vendors, run_id=2) == 0
            assert history.new_since(conn, "vendors", 1) == (0, None)
        changed = _frame("vendors", [VENDORS[0], {**VENDORS[1], "account_no": "220"}, VENDORS[2]])
        with engine.begin() as conn:
            assert history.store_whole(conn, "vendors", changed, run_id=3) == 1
            assert history.new_since(conn, "vendors", 2) == (1, None)
        # V3 gone at the source: deleted, and the others written again (a deletion is a change).
        with engine.begin() as conn:
            assert history.store_whole(conn, "vendors", changed.iloc[:2], run_id=4) == 2
            assert history.new_since(conn, "vendors", 3) == (2, None)
            back = history.load(conn, "vendors").sort_values("vendor_id", ignore_index=True)
            pd.testing.assert_frame_equal(back, changed.iloc[:2].reset_index(drop=True))
            assert history.store_whole(conn, "vendors", changed.iloc[:0], run_id=5) == 0
            assert history.load(conn, "vendors").empty
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["segments", "tables"])
def test_roundtrip_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: history.Backend
) -> None:
    with history.using(kind):
        _roundtrip(f"sqlite:///{tmp_path / 's.db'}")
        _filters(f"sqlite:///{tmp_path / 'f.db'}", monkeypatch)


def test_roundtrip_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    base = require_service("PostgreSQL", pg_url())
    schema = unique_name("naebu_hist")
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
        _roundtrip(url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        _filters(url, monkeypatch)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_empty_frame_stores_nothing(tmp_path: Path) -> None:
    engine = store.connect(f"sqlite:///{tmp_path / 's.db'}")
    with engine.begin() as conn:
        assert history.store_records(conn, "payments", _cards([]).iloc[0:0], run_id=1) == 0
        assert history.load(conn, "payments").empty
    engine.dispose()


@pytest.mark.parametrize("held_back", ["rules/cards/business_card.toml"])
def test_a_rule_added_later_looks_back(tmp_path: Path, held_back: str) -> None:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    assert run_cli("demo", "--scale", "0.2", cwd=tmp_path).returncode == 0
    kept = (tmp_path / held_back).read_text(encoding="utf-8")
    (tmp_path / held_back).unlink()
    first = run_cli("run", "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "CARD-NIGHT" not in first.stdout

    (tmp_path / held_back).write_text(kept, encoding="utf-8")
    second = run_cli("run", "--once", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    night = next(line for line in second.stdout.splitlines() if line.startswith("CARD-NIGHT "))
    assert int(night.split()[2]) > 0, "the new rule found the card approvals read by the first run"
    third = run_cli("run", "--once", cwd=tmp_path)
    assert "new alerts: 0 " in third.stdout


def test_filters_mariadb(monkeypatch: pytest.MonkeyPatch) -> None:
    require_service("MariaDB/MySQL", mysql_url())
    with fresh_database(mysql_url(), "naebu_hist") as url:
        _filters(url, monkeypatch)


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_sqlite_datetimes_are_written_as_sqlalchemy_writes_them(unit: str) -> None:
    # Formatted by Arrow's cast (fast); SQLAlchemy's SQLite DateTime writes strftime's text.
    import numpy as np

    rng = np.random.default_rng(7)
    span = 200 * 365 * 86_400 * 10**9  # 1870 to 2070, nanoseconds, before 1970 too
    nanos = rng.integers(-span // 2, span // 2, 20_000)
    stamps = pd.Series(nanos.astype("datetime64[ns]")).astype(f"datetime64[{unit}]")
    stamps[::97] = pd.NaT
    extra = pd.to_datetime(["2025-01-01", "2025-01-01 10:00:00.5"], format="ISO8601")
    stamps = pd.concat([stamps, pd.Series(extra)], ignore_index=True)
    expected = stamps.dt.strftime("%Y-%m-%d %H:%M:%S.%f").to_numpy(dtype=object, na_value=None)
    assert list(history._sqlite_datetimes(stamps)) == list(expected)


def test_last_versions_keeps_the_last_record_of_a_key() -> None:
    frame = pd.DataFrame({"k": ["a", "b", "a", "c", "b"], "v": [1, 2, 3, 4, 5]})
    last = history.last_versions(frame, "k")
    assert list(zip(last["k"], last["v"], strict=True)) == [("a", 3), ("c", 4), ("b", 5)]
    unique = frame.iloc[[0, 1, 3]]
    assert history.last_versions(unique, "k") is unique  # nothing to drop: not copied
