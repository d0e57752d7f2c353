"""The incremental planner on small stores: from when a rule reads, which groups it reads
again, and that this run's records come from memory, the newest version of a key winning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import ROOT
from sqlalchemy import Connection, Engine, insert, select

from naebu.connectors.coerce import coerce
from naebu.core import datasets
from naebu.engine.loader import load_rules
from naebu.engine.registry import RuleType
from naebu.pipeline.planner import IncrementalPlanner, is_record_rule, time_column
from naebu.store import history
from naebu.store import tables as store
from naebu.store.history import KeyFilter, NewRecords

NOW = datetime(2025, 3, 10, 9)


@pytest.fixture(scope="module")
def rules() -> dict[str, RuleType]:
    ruleset = load_rules([ROOT / "rules"])
    assert not ruleset.problems
    return ruleset.by_id()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = store.connect(f"sqlite:///{tmp_path / 'planner.db'}")
    yield engine
    engine.dispose()


def _frame(dataset: str, rows: list[dict[str, str | None]]) -> pd.DataFrame:
    raw = pd.DataFrame(rows, dtype="object")
    frame, bad = coerce(
        raw, datasets.get(dataset), {c: c for c in raw.columns}, {},
        [f"r{i}" for i in range(len(raw))],
    )  # fmt: skip
    assert not bad
    return frame


def _card(
    approval_id: str, department: str | None, day: str, amount: str = "1000"
) -> dict[str, Any]:
    return {
        "approval_id": approval_id,
        "department": department,
        "approved_date": day,
        "amount": amount,
    }


def _store(engine: Engine, dataset: str, rows: list[dict[str, Any]], run_id: int) -> None:
    with engine.begin() as conn:
        history.store_records(conn, dataset, _frame(dataset, rows), run_id)


def _state(conn: Connection, rule_id: str, last_run_id: int, evaluated_at: datetime) -> Any:
    conn.execute(
        insert(history.rule_state).values(
            rule_id=rule_id, last_run_id=last_run_id, evaluated_at=evaluated_at
        )
    )
    return conn.execute(
        select(history.rule_state).where(history.rule_state.c.rule_id == rule_id)
    ).one()


def test_since_first_nothing_new_and_new_records(
    engine: Engine, rules: dict[str, RuleType]
) -> None:
    split = rules["CARD-SPLIT"]  # a one-day window over card payments, grouped by department
    _store(engine, "card_transactions", [_card("A1", "재무과", "2025-03-01")], run_id=1)
    planner = IncrementalPlanner(run_id=3, now=NOW)
    with engine.begin() as conn:
        assert planner.since(conn, split, None) == (None, True)  # first time: everything
        state = _state(conn, "CARD-SPLIT", 1, datetime(2025, 3, 2))
        assert planner.since(conn, split, state) == (None, False)  # nothing new since run 1
    _store(engine, "card_transactions", [_card("A2", "총무과", "2025-03-05")], run_id=2)
    later = IncrementalPlanner(run_id=3, now=NOW)
    with engine.connect() as conn:
        # From the earliest new record, less the rule's lookback.
        assert later.since(conn, split, state) == (datetime(2025, 3, 5) - timedelta(days=1), True)


def test_touched_groups_and_new_records_only(engine: Engine, rules: dict[str, RuleType]) -> None:
    split, mismatch = rules["CARD-SPLIT"], rules["PAY-ACCOUNT-MISMATCH"]
    _store(
        engine,
        "card_transactions",
        [_card("A1", "재무과", "2025-03-01"), _card("A2", "총무과", "2025-03-01")],
        run_id=1,
    )
    _store(engine, "card_transactions", [_card("A3", "재무과", "2025-03-05")], run_id=2)
    planner = IncrementalPlanner(run_id=3, now=NOW)
    with engine.begin() as conn:
        assert planner.touched(conn, split, None) == {}  # first evaluation: the whole history
        state = _state(conn, "CARD-SPLIT", 1, datetime(2025, 3, 2))
        only = planner.touched(conn, split, state)
        # Only the department a new record joined is read again (no new null: no null group).
        assert only == {"card_transactions": KeyFilter("department", ("재무과",), False)}
        # A match with a join reads only its new records while its lookup is unchanged.
        assert not is_record_rule(mismatch)
        paid = _state(conn, "PAY-ACCOUNT-MISMATCH", 2, datetime(2025, 3, 6))
        assert planner.touched(conn, mismatch, paid) == {"payments": NewRecords(2)}


def test_frames_merge_store_and_memory_newest_version_wins(
    engine: Engine, rules: dict[str, RuleType]
) -> None:
    split = rules["CARD-SPLIT"]
    assert time_column(split, "card_transactions") == "approved_date"
    _store(
        engine,
        "card_transactions",
        [_card("A1", "재무과", "2025-03-01", "1000"), _card("A2", "총무과", "2025-03-04")],
        run_id=1,
    )
    # This run (3) pulled a new version of A2 and a new A3: the planner has them in memory
    # (the store still holding A2 as run 1 wrote it, as store_whole leaves an unchanged one).
    batch = _frame(
        "card_transactions",
        [_card("A2", "총무과", "2025-03-04", "7000"), _card("A3", "재무과", "2025-03-05")],
    )
    planner = IncrementalPlanner(run_id=3, now=NOW)
    planner.add_batch("card_transactions", batch.iloc[:1])
    planner.add_batch("card_transactions", batch.iloc[1:])
    assert planner.batch_count("card_transactions") == 2
    planner.join_pulled("card_transactions")
    assert planner.batch_count("card_transactions") == 1
    wide = planner.plan(split, None, {})
    narrow = planner.plan(split, datetime(2025, 3, 4), {})
    with engine.connect() as conn:
        whole = planner.frames(conn, split, wide)["card_transactions"]
        recent = planner.frames(conn, split, narrow)["card_transactions"]
    assert sorted(whole["approval_id"]) == ["A1", "A2", "A3"]
    assert whole.set_index("approval_id").loc["A2", "amount"] == 7000  # this run's version
    assert sorted(recent["approval_id"]) == ["A2", "A3"]  # the same history, cut in time


def test_first_load_reads_nothing_from_the_store(
    engine: Engine, rules: dict[str, RuleType]
) -> None:
    split = rules["CARD-SPLIT"]
    # A dataset whose history was empty when the run began: every record of it is in memory,
    # so the store is not read (a stray earlier record there is not seen, which shows it).
    _store(engine, "card_transactions", [_card("A9", "재무과", "2025-03-01")], run_id=1)
    planner = IncrementalPlanner(run_id=3, now=NOW)
    planner.first_load("card_transactions")
    planner.add_batch(
        "card_transactions", _frame("card_transactions", [_card("A1", "재무과", "2025-03-02")])
    )
    with engine.connect() as conn:
        frames = planner.frames(conn, split, planner.plan(split, None, {}))
    assert list(frames["card_transactions"]["approval_id"]) == ["A1"]
