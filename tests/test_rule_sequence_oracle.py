"""The ``sequence`` rule type against a brute-force oracle (property-based, every decider, with
and without the narrowing), four threads at once, and the adapter's sessions and rulesets."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sequence_helpers import (
    BASE,
    NOW,
    PROCEEDS,
    VARIANTS,
    compiled,
    keys,
    load,
    oracle,
    typed,
    variant,
)

from naebu.engine import durable_adapter
from naebu.engine.registry import EvalContext

# narrow ranges and rare nulls: many ties, window edges and partial totals
ticks = st.sampled_from([None, 0, 1, 2, 3, 4, 5, 6])
amounts = st.sampled_from([None, 0.0, 1.0, 2.0, 3.0, 4.0])
keys_ = st.sampled_from([None, 0, 1, 2, 3, 4, 5])


@example(
    ("absent", "first"), False, True, 2, [(0, 1.0)], [(0, 2, 1.0)], 10, "fire"
)  # on the last day
@example(("present", "first"), True, False, 2, [(1, 3.0)], [(0, 1, 1.0), (0, 3, 2.0)], 9, "fire")
@example(
    ("before", "then"), False, True, 3, [(4, 1.0)], [(0, 4, None)], 9, "fire"
)  # same day: in order
@example(("absent", "first"), False, True, 2, [(0, 1.0)], [], 2, "fire")  # window still open at now
@example(
    ("present", "first"), False, True, 2, [(3, 1.0)], [(0, 3, 1.0)], 9, "fire"
)  # same day as A
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from(
        [("absent", "first"), ("present", "first"), ("present", "then"), ("before", "then")]
    ),
    complete=st.booleans(),
    by_day=st.booleans(),
    within=st.integers(0, 3),
    sales=st.lists(st.tuples(ticks, amounts), max_size=6),
    receipts=st.lists(st.tuples(keys_, ticks, amounts), max_size=20),
    now=st.integers(0, 12),
    unmatched=st.sampled_from(["fire", "skip"]),
)
def test_every_decider_agrees_with_oracle(
    shape: tuple[str, str],
    complete: bool,
    by_day: bool,
    within: int,
    sales: list[tuple[int | None, float | None]],
    receipts: list[tuple[int | None, int | None, float | None]],
    now: int,
    unmatched: str,
) -> None:
    expect, flag = shape
    rule = compiled(expect, flag, complete, by_day, within, unmatched)
    unit = timedelta(days=1) if by_day else timedelta(hours=1)
    tick_seconds = 86_400 if by_day else 1  # the engine's ticks: days, or seconds

    def when(n: int | None) -> datetime | None:
        return None if n is None else BASE + n * unit

    sale_rows = [
        {"sale_id": f"S{i}", "contract_date": when(t), "updated_at": when(t), "sale_price": p}
        for i, (t, p) in enumerate(sales)
    ]
    receipt_rows = [
        {"receipt_id": f"R{i}", "ref_id": None if k is None else f"S{k}", "received_on": when(t),
         "updated_at": when(t), "amount": a}
        for i, (k, t, a) in enumerate(receipts)
    ]  # fmt: skip
    frames = {
        "property_sales": typed("property_sales", sale_rows),
        "receipts": typed("receipts", receipt_rows),
    }
    clock = BASE + now * unit
    got = {
        (decider, narrowed): sorted(
            f.record_key
            for f in variant(rule, decider, narrowed).evaluate(frames, EvalContext(now=clock))
        )
        for decider, narrowed in VARIANTS
    }

    def tick(n: int | None) -> int | None:
        return None if n is None else n * int(unit.total_seconds()) // tick_seconds

    want = oracle(
        expect,
        flag,
        complete,
        within * int(unit.total_seconds()) // tick_seconds,
        [(f"S{i}", tick(t), p) for i, (t, p) in enumerate(sales)],
        [(None if k is None else f"S{k}", tick(t), a) for k, t, a in receipts],
        tick(now),  # type: ignore[arg-type]
        unmatched,
    )
    assert got == {v: want for v in VARIANTS}
    # An incremental run reads the other side from the earliest window's start on (and the
    # counterparts without a time): the findings, unmatched ones included, are the same.
    starts = [t - (within if flag == "then" else 0) for t, _ in sales if t is not None]
    if starts:
        cut = [r for r, (_, t, _) in zip(receipt_rows, receipts, strict=True)
               if t is None or t >= min(starts)]  # fmt: skip
        frames["receipts"] = typed("receipts", cut)
        found = rule.evaluate(frames, EvalContext(now=clock))
        assert sorted(f.record_key for f in found) == want


# -- four threads at once ------------------------------------------------------------------------


def test_four_threads_get_the_same_findings(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    n = 1_500
    base = pd.Timestamp("2025-01-01")
    sales = typed(
        "property_sales",
        [{"sale_id": f"S{i}", "contract_date": base + pd.Timedelta(days=i % 90), "sale_price": 100.0} for i in range(n)],
    )  # fmt: skip
    receipts = typed(
        "receipts",
        [
            {"receipt_id": f"R{i}", "ref_type": "property_sale", "ref_id": f"S{i % n}",
             "received_on": base + pd.Timedelta(days=(i * 7) % 150), "amount": 50.0}
            for i in range(2 * n)
        ],
    )  # fmt: skip
    frames = {"property_sales": sales, "receipts": receipts}
    assert rule.decider == "durable"  # complete: the threads all go through durable_rules

    def found() -> list[str]:
        return sorted(f.record_key for f in rule.evaluate(frames, EvalContext(now=NOW)))

    expected = keys(rule, frames)  # every way agrees, once
    assert 0 < len(expected) < n
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(found())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [expected] * 12


@pytest.mark.parametrize(
    ("max_sessions", "batch_records"),
    [(2, 10_000), (1024, 2 * durable_adapter.SESSION_SIZE)],
    ids=["sessions-bound", "records-bound"],
)
def test_adapter_batches_a_large_candidate_set_through_one_ruleset(
    monkeypatch: pytest.MonkeyPatch, max_sessions: int, batch_records: int
) -> None:
    # seven sessions' worth of flagged records, two sessions a batch: four batches, one
    # ruleset used again for each, the same answer as at once
    n = durable_adapter.SESSION_SIZE * 7
    ids = pd.RangeIndex(n).to_numpy()
    monkeypatch.setattr(durable_adapter, "MAX_SESSIONS", max_sessions)
    monkeypatch.setattr(durable_adapter, "BATCH_RECORDS", batch_records)
    batches: list[int] = []
    real = durable_adapter._run

    def counted(definition: str, facts: Any) -> set[int]:
        batches.append(len(facts.r))
        return real(definition, facts)

    monkeypatch.setattr(durable_adapter, "_run", counted)
    made: list[str] = []
    create = durable_adapter._create

    def creating(definition: str) -> Any:
        made.append(definition)
        return create(definition)

    monkeypatch.setattr(durable_adapter, "_create", creating)
    # a definition of its own (each has one ruleset): windows of 5 or 6 ticks, closed by 100
    definition = durable_adapter.compile_ruleset("absent", "first", 5 + (max_sessions == 2))
    found = durable_adapter.correlate(
        definition,
        durable_adapter.Flagged(ids, ids, ids * 0),
        durable_adapter.Counterparts(ids[::2], ids[::2] * 0 + 5),
        100,
    )
    assert found == set(ids[1::2].tolist())
    assert len(batches) == 4 and sum(batches) == n
    assert len(made) <= 1 and definition in durable_adapter._IDLE  # one ruleset, kept
