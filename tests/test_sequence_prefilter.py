"""The ``sequence`` narrowing and deciders keep results: sorted searches against brute force,
randomized cities of sales and receipts evaluated every way against the oracle, evidence of
the other side, and proof that durable_rules is given less when the narrowing is on."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sequence_helpers import BASE, VARIANTS, load, oracle, typed, variant

from naebu.engine import durable_adapter
from naebu.engine.registry import EvalContext, RuleType
from naebu.engine.ruletypes.sequence_search import Timeline, in_some_window, key_codes, witnesses

# -- the sorted searches against brute force -----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_timeline_counts_and_first_events_like_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 6, 80)
    times = rng.integers(-5, 30, 80)
    q_keys = rng.integers(0, 8, 60)  # keys 6 and 7 have no events
    lo = rng.integers(-8, 30, 60)
    hi = lo + rng.integers(-1, 6, 60)  # some empty ranges (hi < lo)
    line = Timeline.of(keys, times)
    count = line.count(q_keys, lo, hi)
    first = line.first_in(q_keys, lo, hi)
    for i in range(60):
        inside = [j for j in range(80) if keys[j] == q_keys[i] and lo[i] <= times[j] <= hi[i]]
        assert count[i] == len(inside)
        if inside:
            earliest = min(times[j] for j in inside)
            assert keys[first[i]] == q_keys[i] and times[first[i]] == earliest
        else:
            assert first[i] == -1


@pytest.mark.parametrize("seed", range(5))
def test_in_some_window_and_witnesses_like_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    within = int(rng.integers(0, 5))
    r_keys, r_lo = rng.integers(0, 5, 40), rng.integers(0, 40, 40)
    c_keys, c_times = rng.integers(0, 7, 120), rng.integers(-5, 50, 120)
    inside = in_some_window(c_keys, c_times, r_keys, r_lo, within)
    for j in range(120):
        want = any(
            r_keys[i] == c_keys[j] and r_lo[i] <= c_times[j] <= r_lo[i] + within for i in range(40)
        )
        assert inside[j] == want
    found = witnesses(r_keys, r_lo, r_lo + within, c_keys, c_times)
    for i in range(40):
        want = any(
            c_keys[j] == r_keys[i] and r_lo[i] <= c_times[j] <= r_lo[i] + within for j in range(120)
        )
        assert (found[i] >= 0) == want


def test_searches_on_empty_sides() -> None:
    none = np.zeros(0, "int64")
    some = np.array([1, 2, 3])
    assert in_some_window(none, none, some, some, 3).tolist() == []
    assert in_some_window(some, some, none, none, 3).tolist() == [False] * 3
    assert witnesses(some, some, some + 1, none, none).tolist() == [-1] * 3
    assert Timeline.of(none, none).count(some, some, some).tolist() == [0] * 3


def test_key_codes_are_shared_and_tell_tuples_apart() -> None:
    left = pd.DataFrame({0: ["a", "ab", "a", "x"], 1: ["bc", "c", "bc", "y"]})
    right = pd.DataFrame({0: ["ab", "a", "z"], 1: ["c", "c", "y"]})
    codes_l, codes_r = key_codes(left, right)
    pairs = [*zip(left[0], left[1], strict=True), *zip(right[0], right[1], strict=True)]
    codes = [*codes_l.tolist(), *codes_r.tolist()]
    for i, a in enumerate(pairs):
        for j, b in enumerate(pairs):
            assert (codes[i] == codes[j]) == (a == b), (a, b)
    assert min(codes) >= 0


# -- randomized cities: every decider, narrowed or not, equals the oracle ------------------------

SHAPES = {
    # absence: a sale with no (complete) proceeds within the window, decided once it closed
    "absent": ("property_sales", "contract_date", "receipts", "received_on", "absent", "first"),
    # presence: the sale is followed by a receipt within the window
    "present": ("property_sales", "contract_date", "receipts", "received_on", "present", "first"),
    # presence looking back: the sale is preceded by a receipt within the window
    "present_then": (
        "receipts",
        "received_on",
        "property_sales",
        "contract_date",
        "present",
        "then",
    ),  # fmt: skip
    # before: no receipt within the window before the sale
    "before": ("receipts", "received_on", "property_sales", "contract_date", "before", "then"),
}


def _rule(tmp_path: Path, shape: str, within: int, complete: bool) -> RuleType:
    first, first_time, then, then_time, expect, flag = SHAPES[shape]
    sales_when = 'when = "sale_price > 1"'
    receipts_when = "when = 'ref_type == \"property_sale\"'"
    side = {
        "property_sales": (first_time if first == "property_sales" else then_time, sales_when),
        "receipts": (first_time if first == "receipts" else then_time, receipts_when),
    }
    match = '{ sale_id = "ref_id" }' if first == "property_sales" else '{ ref_id = "sale_id" }'
    body = f"""
dataset = "property_sales"
first = {{ dataset = "{first}", time = "{side[first][0]}", {side[first][1]} }}
then = {{ dataset = "{then}", time = "{side[then][0]}", {side[then][1]} }}
match = {match}
within = "{within}d"
expect = "{expect}"
flag = "{flag}"
"""
    if complete:
        body += 'complete = { sum = "amount", at_least = "sale_price" }\n'
    if expect != "present":
        body += 'unmatched = "fire"\n'  # the oracle judges a sale with no receipt at all
    return load(tmp_path, body, rule_id=f"SEQ-{shape.upper().replace('_', '-')}")


def _city(rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sales (some sharing an id, some filtered out) and receipts (some of other kinds, other
    keys, null keys or times) on a narrow range of days: many ties and window edges."""
    n_keys = int(rng.integers(3, 15))

    def day(n: int) -> datetime | None:
        return None if n < 0 else BASE + timedelta(days=n)

    sales = [
        {
            "sale_id": f"S{rng.integers(0, n_keys)}",
            "contract_date": day(int(rng.integers(-2, 40))),
            "sale_price": float(rng.choice([0, 1, 2, 3, 5, 8])),
        }
        for _ in range(int(rng.integers(0, 50)))
    ]
    receipts = [
        {
            "receipt_id": f"R{i}",
            "ref_type": str(rng.choice(["property_sale", "property_sale", "levy"])),
            "ref_id": None if rng.random() < 0.05 else f"S{rng.integers(0, n_keys + 3)}",
            "received_on": day(int(rng.integers(-2, 60))),
            "amount": float(rng.choice([0, 1, 1, 2, 3])),
        }
        for i in range(int(rng.integers(0, 160)))
    ]
    return sales, receipts


def _want(
    shape: str,
    within: int,
    complete: bool,
    sales: list[dict[str, Any]],
    receipts: list[dict[str, Any]],
    now: datetime,
) -> list[str]:
    """The oracle on the records the ``when`` filters keep, in day ticks."""
    _, _, _, _, expect, flag = SHAPES[shape]

    def tick(value: datetime | None) -> int | None:
        return None if value is None else (value - datetime(1970, 1, 1)).days

    kept_sales = [
        (s["sale_id"], tick(s["contract_date"]), s["sale_price"])
        for s in sales
        if s["sale_price"] > 1
    ]
    kept_receipts = [
        (r["ref_id"], tick(r["received_on"]), r["amount"])
        for r in receipts
        if r["ref_type"] == "property_sale"
    ]
    return oracle(expect, flag, complete, within, kept_sales, kept_receipts, tick(now))  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("complete", [False, True], ids=["plain", "complete"])
def test_every_way_equals_the_oracle_on_random_cities(
    tmp_path: Path, shape: str, complete: bool
) -> None:
    rng = np.random.default_rng(sorted(SHAPES).index(shape) * 2 + complete)
    for round_ in range(12):
        within = int(rng.integers(0, 12))
        rule = _rule(tmp_path, shape, within, complete)
        sales, receipts = _city(rng)
        frames = {"property_sales": typed("property_sales", sales), "receipts": typed("receipts", receipts)}  # fmt: skip
        # the clock inside the data: some windows still open (the clock-driven absence)
        now = BASE + timedelta(days=int(rng.integers(0, 80)), hours=int(rng.integers(0, 24)))
        want = _want(shape, within, complete, sales, receipts, now)
        for decider, narrowed in VARIANTS:
            found = variant(rule, decider, narrowed).evaluate(frames, EvalContext(now=now))
            got = sorted(f.record_key for f in found)
            assert got == want, (round_, decider, narrowed, within, now)


# -- the narrowing gives durable_rules less --------------------------------------------------------


def test_narrowing_keeps_counterparts_out_of_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Receipts of other sales, and receipts long after every window, never reach the engine;
    the findings are the same."""
    rule = _rule(tmp_path, "absent", 10, complete=True)
    sales = [{"sale_id": f"S{i}", "contract_date": BASE, "sale_price": 5.0} for i in range(20)]
    receipts = [
        {"receipt_id": f"R{i}", "ref_type": "property_sale", "ref_id": f"S{i % 40}",
         "received_on": BASE + timedelta(days=2 if i < 10 else 200), "amount": 5.0}
        for i in range(200)
    ]  # fmt: skip
    frames = {"property_sales": typed("property_sales", sales), "receipts": typed("receipts", receipts)}  # fmt: skip
    given: list[tuple[int, int]] = []
    real = durable_adapter.correlate

    def spy(definition: str, flagged: Any, counterparts: Any, now: int | None) -> set[int]:
        given.append((len(flagged.ids), len(counterparts.keys)))
        return real(definition, flagged, counterparts, now)

    monkeypatch.setattr(durable_adapter, "correlate", spy)
    now = datetime(2025, 12, 31)
    narrowed = sorted(f.record_key for f in rule.evaluate(frames, EvalContext(now=now)))
    everything = sorted(
        f.record_key for f in variant(rule, "durable", False).evaluate(frames, EvalContext(now=now))
    )
    assert narrowed == everything == [f"S{i}" for i in range(10, 20)]  # S0-S9 paid on day 2
    # narrowed: only the 10 sales with a completion in the window, and their completions;
    # unnarrowed: every sale, and a completion for every sale (the late ones too)
    assert given == [(10, 10), (20, 20)]


# -- evidence of the other side ------------------------------------------------------------------


def _evidence(rule: RuleType, frames: dict[str, pd.DataFrame]) -> dict[str, dict[str, Any]]:
    now = EvalContext(now=datetime(2025, 12, 31))
    return {f.record_key: f.evidence for f in rule.evaluate(frames, now)}


def test_evidence_names_the_counterpart_in_or_after_the_window(tmp_path: Path) -> None:
    sales = typed(
        "property_sales",
        [{"sale_id": s, "contract_date": BASE, "sale_price": 5.0} for s in ("S1", "S2", "S3")],
    )
    receipts = typed(
        "receipts",
        [
            {"receipt_id": "R1", "ref_type": "property_sale", "ref_id": "S1",
             "received_on": BASE + timedelta(days=3), "amount": 1.0},
            {"receipt_id": "R2", "ref_type": "property_sale", "ref_id": "S1",
             "received_on": BASE + timedelta(days=1), "amount": 1.0},
            {"receipt_id": "R3", "ref_type": "property_sale", "ref_id": "S2",
             "received_on": BASE + timedelta(days=30), "amount": 1.0},
            {"receipt_id": "R4", "ref_type": "levy", "ref_id": "S2",
             "received_on": BASE + timedelta(days=20), "amount": 1.0},  # filtered out
        ],
    )  # fmt: skip
    frames = {"property_sales": sales, "receipts": receipts}
    present = _evidence(_rule(tmp_path, "present", 5, complete=False), frames)
    assert list(present) == ["S1"]
    assert present["S1"]["receipts.receipt_id"] == "R2"  # the earliest in the window
    assert present["S1"]["receipts.received_on"] == "2025-01-02"
    absent = _evidence(_rule(tmp_path, "absent", 5, complete=False), frames)
    assert sorted(absent) == ["S2", "S3"]
    assert absent["S2"]["receipts.receipt_id"] == "R3"  # came, but late (R4 is a levy)
    assert absent["S2"]["receipts.received_on"] == "2025-01-31"
    assert absent["S3"]["receipts.receipt_id"] is None  # never came
    alone = {"property_sales": sales.iloc[2:], "receipts": receipts.iloc[0:0]}
    only_s3 = _evidence(_rule(tmp_path, "absent", 5, complete=False), alone)
    assert only_s3["S3"]["receipts.received_on"] is None  # the same fields, whatever the run
    totals = _evidence(_rule(tmp_path, "absent", 5, complete=True), frames)
    assert sorted(totals) == ["S1", "S2", "S3"]
    assert [totals[s]["receipts.sum_amount"] for s in ("S1", "S2", "S3")] == [2, 0, 0]


@pytest.mark.parametrize("steps", [0, 2, 8])
@pytest.mark.parametrize("seed", range(3))
def test_block_and_global_searches_agree_with_brute_force(
    seed: int, steps: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys with one event, a few and many: the block-wise search (few steps) and the global
    fallback (``BLOCK_STEPS`` too small for the largest key) give the brute-force answers, and
    ``in_some_window`` from either side (more flagged records than counterparts, or fewer)."""
    from naebu.engine.ruletypes import sequence_search

    monkeypatch.setattr(sequence_search, "BLOCK_STEPS", steps)
    rng = np.random.default_rng(500 + seed)
    keys = np.concatenate([np.arange(10), rng.integers(10, 14, 30), np.full(40, 14)])
    times = rng.integers(-5, 40, len(keys))
    q_keys = rng.integers(-1, 17, 200)  # -1, 15 and 16 have no events
    lo = rng.integers(-8, 40, 200)
    hi = lo + rng.integers(-1, 8, 200)
    line = Timeline.of(keys, times)
    count, first = line.count(q_keys, lo, hi), line.first_in(q_keys, lo, hi)
    for i in range(200):
        inside = [
            j for j in range(len(keys)) if keys[j] == q_keys[i] and lo[i] <= times[j] <= hi[i]
        ]
        assert count[i] == len(inside)
        assert first[i] == (min(inside, key=lambda j: (times[j], j)) if inside else -1)
    within = 3
    for r_keys, r_lo in (
        (q_keys[q_keys >= 0][:20], lo[q_keys >= 0][:20]),
        (q_keys[q_keys >= 0], lo[q_keys >= 0]),
    ):
        marked = in_some_window(keys, times, r_keys, r_lo, within)
        for j in range(len(keys)):
            want = any(r_keys[i] == keys[j] and r_lo[i] <= times[j] <= r_lo[i] + within
                       for i in range(len(r_keys)))  # fmt: skip
            assert marked[j] == want
