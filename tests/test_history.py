"""The record history: canonical records survive the store round trip, are replaced by key,
and let a rule added later look back over what was already read."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, run_cli
from services import pg_url, require_service, unique_name
from sqlalchemy import create_engine, text

from connectors.coerce import coerce
from naebu import datasets, history, store


def _cards(rows: list[dict[str, str | None]]) -> pd.DataFrame:
    ds = datasets.get("card_transactions")
    raw = pd.DataFrame(rows, dtype="object")
    frame, bad = coerce(
        raw, ds, {c: c for c in raw.columns}, {}, [f"r{i}" for i in range(len(raw))]
    )
    assert not bad
    return frame


ROWS = [
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
    finally:
        engine.dispose()


def test_roundtrip_sqlite(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 's.db'}")


def test_roundtrip_postgresql() -> None:
    base = require_service("PostgreSQL", pg_url())
    schema = unique_name("naebu_hist")
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
        _roundtrip(url)
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
