"""The ``sequence`` rule type on real pandas frames, through durable_rules (never mocked).

Scenarios from ``shared/design/scenarios.md``; window edges, nulls, empty frames and the
clock; a property-based comparison with a brute-force oracle; four threads at once; and the
located one-line problems of wrong options.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.coerce import coerce
from engine import durable_adapter
from engine.examples import run_examples
from engine.loader import load_rules
from engine.registry import EvalContext, ProblemFactory, RuleType
from engine.rule import RuleMeta
from engine.ruletypes.sequence import SequenceRule
from naebu import datasets

NOW = datetime(2025, 12, 31, 12, 0)

HEAD = """
[[rule]]
id = "{id}"
title = "시험 규칙"
title_en = "Test rule"
type = "sequence"
severity = "high"
"""

PROCEEDS = """
dataset = "property_sales"
first = { dataset = "property_sales", time = "contract_date", when = "sale_price > 0" }
then = { dataset = "receipts", time = "received_on", when = 'ref_type == "property_sale"' }
match = { sale_id = "ref_id" }
within = "60d"
expect = "absent"
complete = { sum = "amount", at_least = "sale_price" }
message = "매각 {sale_id}: 계약 후 60일 내 매각대금 {sale_price:,}원 전액 미수납"
"""

TITLE = """
dataset = "property_sales"
first = { dataset = "receipts", time = "received_on", when = 'ref_type == "property_sale"' }
then = { dataset = "property_sales", time = "title_transfer_date" }
match = { ref_id = "sale_id" }
within = "365d"
expect = "before"
complete = { sum = "amount", at_least = "sale_price" }
"""

VENDOR = """
dataset = "payments"
first = { dataset = "vendors", time = "account_changed_on" }
then = { dataset = "payments", time = "paid_on" }
match = { vendor_id = "vendor_id" }
within = "7d"
expect = "present"
"""

INSPECTION = """
dataset = "payments"
first = { dataset = "contracts", time = "inspection_date" }
then = { dataset = "payments", time = "paid_on" }
match = { contract_id = "contract_id" }
within = "365d"
expect = "before"
"""

PERMIT = """
dataset = "permits"
params = { levy_days = 30 }
first = { dataset = "permits", time = "decided_on", when = 'status == "허가"' }
then = { dataset = "levies", time = "levied_on" }
match = { permit_id = "permit_id" }
within = "params.levy_days"
expect = "absent"
"""


def load(tmp_path: Path, body: str, rule_id: str = "SEQ-TEST") -> RuleType:
    """Load one sequence rule from a real rule file; fail on any problem."""
    path = tmp_path / f"{rule_id.lower()}.toml"
    path.write_text(HEAD.format(id=rule_id) + body, encoding="utf-8")
    loaded = load_rules([path], root=tmp_path)
    assert [str(p) for p in loaded.problems] == []
    (rule,) = loaded.rules
    return rule


def problems_of(tmp_path: Path, body: str) -> list[str]:
    """The problems the loader reports for one rule file."""
    path = tmp_path / "bad.toml"
    path.write_text(HEAD.format(id="SEQ-BAD") + body, encoding="utf-8")
    return [str(p) for p in load_rules([path], root=tmp_path).problems]


def frame(name: str, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A canonical frame typed by the connectors' own coercion, as the pipeline gets it."""
    dataset = datasets.get(name)
    texts = [{k: None if v is None else str(v) for k, v in row.items()} for row in rows]
    raw = pd.DataFrame(texts, columns=dataset.column_names, dtype="object")
    typed, bad = coerce(
        raw,
        dataset,
        {c: c for c in dataset.column_names},
        {},
        [f"row {i}" for i in range(len(rows))],
    )
    assert bad == [], [q.reason for q in bad]
    return typed


def keys(rule: RuleType, frames: Mapping[str, pd.DataFrame], now: datetime = NOW) -> list[str]:
    """Record keys of the findings, frames completed with empty ones for missing datasets."""
    full = {d: frames.get(d, frame(d, [])) for d in rule.datasets}
    return sorted(f.record_key for f in rule.evaluate(full, EvalContext(now=now)))


def sale(sale_id: str, contract: str, price: float = 1000, **extra: Any) -> dict[str, Any]:
    return {"sale_id": sale_id, "contract_date": contract, "sale_price": price, **extra}


def receipt(
    n: int, ref: str | None, on: str | None, amount: float, kind: str = "property_sale"
) -> dict[str, Any]:
    return {
        "receipt_id": f"R{n}",
        "ref_type": kind,
        "ref_id": ref,
        "received_on": on,
        "amount": amount,
    }


# -- property proceeds not received in full within 60 days (absent, complete) --------------------


def test_proceeds_absent_with_edges_partials_and_other_sales(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame(
        "property_sales",
        [
            sale("S1", "2025-01-01"),  # paid in full exactly on day 60: in time
            sale("S2", "2025-01-01"),  # full payment on day 61: late
            sale("S3", "2025-01-01"),  # three partial receipts sum to full: in time
            sale("S4", "2025-01-01"),  # partial only: late
            sale("S5", "2025-01-01"),  # nothing, but S5's money went to another sale: late
            sale("S6", "2025-01-01"),  # paid, but as a levy, not a property sale: late
            sale("S7", "2025-01-01", price=0),  # filtered out by when
            sale("S8", "2025-01-01"),  # full payment on the contract day: in time
        ],
    )
    receipts = frame(
        "receipts",
        [
            receipt(1, "S1", "2025-03-02", 1000),  # 2025-01-01 + 60 days
            receipt(2, "S2", "2025-03-03", 1000),
            receipt(3, "S3", "2025-01-05", 300),
            receipt(4, "S3", "2025-02-01", 300),
            receipt(5, "S3", "2025-03-02", 400),
            receipt(6, "S4", "2025-01-10", 999),
            receipt(7, "S1", "2025-01-10", 1000),  # another sale's money (S1), not S5's
            receipt(8, "S6", "2025-01-10", 1000, kind="levy"),
            receipt(9, "S8", "2025-01-01", 1000),
        ],
    )
    found = rule.evaluate({"property_sales": sales, "receipts": receipts}, EvalContext(now=NOW))
    assert sorted(f.record_key for f in found) == ["S2", "S4", "S5", "S6"]
    by_key = {f.record_key: f for f in found}
    assert by_key["S2"].message == "매각 S2: 계약 후 60일 내 매각대금 1,000원 전액 미수납"
    assert by_key["S2"].evidence["contract_date"] == "2025-01-01"
    assert by_key["S2"].evidence["sale_price"] == 1000
    assert by_key["S2"].dataset == "property_sales"


def test_proceeds_absence_waits_for_the_window_to_close(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame("property_sales", [sale("S1", "2025-01-01")])
    # the window's last day is 2025-03-02: not provable during it, provable once it is over
    assert keys(rule, {"property_sales": sales}, now=datetime(2025, 3, 1, 23, 0)) == []
    assert keys(rule, {"property_sales": sales}, now=datetime(2025, 3, 2, 23, 59)) == []
    assert keys(rule, {"property_sales": sales}, now=datetime(2025, 3, 3, 0, 0)) == ["S1"]


def test_proceeds_nulls_and_empty_frames(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame(
        "property_sales",
        [sale("S1", "2025-01-01"), sale("S2", "2025-01-01"), sale("S3", "2025-01-01")],
    )
    receipts = frame(
        "receipts",
        [
            receipt(1, None, "2025-01-05", 1000),  # null key: matches nothing
            receipt(2, "S2", "2025-01-05", 1000),
            receipt(3, "S3", "2025-01-05", 1000),
        ],
    )
    receipts.loc[1, "received_on"] = pd.NaT  # null time (a required column a source lost): skipped
    assert keys(rule, {"property_sales": sales, "receipts": receipts}) == ["S1", "S2"]
    assert keys(rule, {"property_sales": frame("property_sales", []), "receipts": receipts}) == []
    assert keys(rule, {"property_sales": sales}) == ["S1", "S2", "S3"]


def test_proceeds_sale_without_contract_date_is_skipped(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame("property_sales", [sale("S1", "2025-01-01")])
    sales.loc[0, "contract_date"] = pd.NaT  # a source that lost a required date
    assert keys(rule, {"property_sales": sales}) == []


# -- title transferred before full payment (before, complete) ------------------------------------


def test_title_transferred_before_full_payment(tmp_path: Path) -> None:
    rule = load(tmp_path, TITLE)
    sales = frame(
        "property_sales",
        [
            sale("S1", "2025-01-01", title_transfer_date="2025-02-01"),  # paid in full the same day
            sale("S2", "2025-01-01", title_transfer_date="2025-02-01"),  # full only after transfer
            sale("S3", "2025-01-01", title_transfer_date="2025-02-01"),  # never paid
            sale("S4", "2025-01-01"),  # no transfer yet: nothing to say
            sale("S5", "2025-01-01", title_transfer_date="2025-02-01"),  # two halves before
        ],
    )
    receipts = frame(
        "receipts",
        [
            receipt(1, "S1", "2025-02-01", 1000),
            receipt(2, "S2", "2025-01-20", 500),
            receipt(3, "S2", "2025-02-02", 500),
            receipt(4, "S5", "2025-01-10", 500),
            receipt(5, "S5", "2025-01-11", 500),
        ],
    )
    assert keys(rule, {"property_sales": sales, "receipts": receipts}) == ["S2", "S3"]


# -- vendor account changed, then paid within 7 days (present) -----------------------------------


def test_vendor_account_changed_then_paid(tmp_path: Path) -> None:
    rule = load(tmp_path, VENDOR)
    assert rule.datasets == ("payments", "vendors")
    assert rule.lookback == timedelta(days=7)
    vendors = frame(
        "vendors",
        [
            {"vendor_id": "V1", "account_changed_on": "2025-05-01"},
            {"vendor_id": "V2", "account_changed_on": None},  # never changed
            {"vendor_id": "V3", "account_changed_on": "2025-05-01"},
        ],
    )
    pay = [
        ("P1", "V1", "2025-05-01"),  # same day as the change: in the window
        ("P2", "V1", "2025-05-08"),  # exactly 7 days later: in the window
        ("P3", "V1", "2025-05-09"),  # 8 days: outside
        ("P4", "V1", "2025-04-30"),  # before the change: not this pattern
        ("P5", "V2", "2025-05-02"),
        ("P6", None, "2025-05-02"),  # no vendor: never matches
        ("P7", "V3", "2025-05-03"),
    ]
    payments = frame(
        "payments",
        [{"payment_id": p, "vendor_id": v, "paid_on": d, "amount": 10} for p, v, d in pay],
    )
    found = keys(rule, {"vendors": vendors, "payments": payments}, now=datetime(2025, 5, 3))
    assert found == ["P1", "P2", "P7"]


# -- payment before the contract's inspection (before) -------------------------------------------


def test_payment_before_inspection_or_without_one(tmp_path: Path) -> None:
    rule = load(tmp_path, INSPECTION)
    contracts = frame(
        "contracts",
        [
            {
                "contract_id": "C1",
                "contract_date": "2025-01-01",
                "amount": 1,
                "inspection_date": "2025-03-01",
            },
            {
                "contract_id": "C2",
                "contract_date": "2025-01-01",
                "amount": 1,
                "inspection_date": None,
            },
        ],
    )
    pay = [
        ("P1", "C1", "2025-02-28"),  # the day before the inspection
        ("P2", "C1", "2025-03-01"),  # on the inspection day: in order
        ("P3", "C1", "2025-03-02"),
        ("P4", "C2", "2025-03-02"),  # contract never inspected
        ("P5", None, "2025-03-02"),  # no contract: not this rule's business
    ]
    payments = frame(
        "payments",
        [{"payment_id": p, "contract_id": c, "paid_on": d, "amount": 10} for p, c, d in pay],
    )
    assert keys(rule, {"contracts": contracts, "payments": payments}) == ["P1", "P4"]
    # a payment made today cannot be judged before the day is over: the inspection may follow
    today = datetime(2025, 3, 2, 15, 0)
    assert keys(rule, {"contracts": contracts, "payments": payments}, now=today) == ["P1"]


# -- permit granted, no levy within N days (absent) ----------------------------------------------


def test_permit_without_levy(tmp_path: Path) -> None:
    rule = load(tmp_path, PERMIT)
    assert rule.lookback == timedelta(days=30)
    permits = frame(
        "permits",
        [
            {
                "permit_id": "A1",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "허가",
            },
            {
                "permit_id": "A2",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "허가",
            },
            {
                "permit_id": "A3",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "불허",
            },
            {
                "permit_id": "A4",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "허가",
            },
        ],
    )
    levies = frame(
        "levies",
        [
            {"levy_id": "L1", "permit_id": "A1", "levied_on": "2025-02-09", "amount": 1},  # day 30
            {"levy_id": "L4", "permit_id": "A4", "levied_on": "2025-02-10", "amount": 1},  # day 31
        ],
    )
    assert keys(rule, {"permits": permits, "levies": levies}) == ["A2", "A4"]


# -- property-based: durable_rules path == brute-force oracle ------------------------------------

BASE = datetime(2025, 1, 1)
_DTYPES = {"str": "string", "int": "Int64", "number": "float64", "date": "datetime64[ns]",
           "datetime": "datetime64[ns]", "time": "timedelta64[ns]", "bool": "boolean"}  # fmt: skip


def typed(name: str, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A canonical frame built directly (fast, and it may hold nulls coerce would refuse)."""
    dataset = datasets.get(name)
    return pd.DataFrame(
        {
            c.name: pd.Series([row.get(c.name) for row in rows], dtype=_DTYPES[c.type])
            for c in dataset.columns
        }
    )


_RULES: dict[tuple[Any, ...], RuleType] = {}


def compiled(expect: str, flag: str, complete: bool, by_day: bool, within: int) -> RuleType:
    """A sequence rule between sales and receipts, flagging sales, compiled (and cached)."""
    shape = (expect, flag, complete, by_day, within)
    if shape not in _RULES:
        sales_time = "contract_date" if by_day else "updated_at"
        receipts_time = "received_on" if by_day else "updated_at"
        sales = {"dataset": "property_sales", "time": sales_time}
        receipts = {"dataset": "receipts", "time": receipts_time}
        spec: dict[str, Any] = {
            "within": f"{within}d" if by_day else f"{within}h",
            "expect": expect,
            "flag": flag,
        }
        if flag == "first":
            spec |= {"first": sales, "then": receipts, "match": {"sale_id": "ref_id"}}
        else:
            spec |= {"first": receipts, "then": sales, "match": {"ref_id": "sale_id"}}
        if complete:
            spec["complete"] = {"sum": "amount", "at_least": "sale_price"}
        meta = RuleMeta("SEQ-PROP", "t", "t", "sequence", "property_sales", "low", Path("p.toml"))
        problem = ProblemFactory("p.toml", "SEQ-PROP")
        rule = SequenceRule.compile(meta, spec, problem)
        assert rule is not None, [str(p) for p in problem.problems]
        _RULES[shape] = rule
    return _RULES[shape]


def oracle(
    expect: str,
    flag: str,
    complete: bool,
    within: int,
    sales: list[tuple[str, int | None, float | None]],
    receipts: list[tuple[str | None, int | None, float | None]],
    now: int,
) -> list[str]:
    """The documented semantics as plain loops over every pair, in integer ticks."""
    fired = []
    for sale_id, t, price in sales:
        if t is None or (complete and price is None):
            continue
        lo, hi = (t, t + within) if flag == "first" else (t - within, t)
        times = [rt for ref, rt, _ in receipts if ref == sale_id and rt is not None]
        if complete:
            happened = False
            for moment in times:
                if lo <= moment <= hi:
                    total = sum(
                        amount or 0
                        for ref, rt, amount in receipts
                        if ref == sale_id and rt is not None and lo <= rt <= moment
                    )
                    happened = happened or total >= price  # type: ignore[operator]
        else:
            happened = any(lo <= moment <= hi for moment in times)
        # an absence counts only once the window has closed by the clock
        if happened if expect == "present" else hi < now and not happened:
            fired.append(sale_id)
    return sorted(fired)


# narrow ranges and rare nulls: many ties, window edges and partial totals
ticks = st.sampled_from([None, 0, 1, 2, 3, 4, 5, 6])
amounts = st.sampled_from([None, 0.0, 1.0, 2.0, 3.0, 4.0])
keys_ = st.sampled_from([None, 0, 1, 2, 3, 4, 5])


@example(("absent", "first"), False, True, 2, [(0, 1.0)], [(0, 2, 1.0)], 10)  # on the last day
@example(("present", "first"), True, False, 2, [(1, 3.0)], [(0, 1, 1.0), (0, 3, 2.0)], 9)
@example(("before", "then"), False, True, 3, [(4, 1.0)], [(0, 4, None)], 9)  # same day: in order
@example(("absent", "first"), False, True, 2, [(0, 1.0)], [], 2)  # window still open at now
@example(("present", "first"), False, True, 2, [(3, 1.0)], [(0, 3, 1.0)], 9)  # same day as A
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
)
def test_durable_path_agrees_with_oracle(
    shape: tuple[str, str],
    complete: bool,
    by_day: bool,
    within: int,
    sales: list[tuple[int | None, float | None]],
    receipts: list[tuple[int | None, int | None, float | None]],
    now: int,
) -> None:
    expect, flag = shape
    rule = compiled(expect, flag, complete, by_day, within)
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
    got = sorted(f.record_key for f in rule.evaluate(frames, EvalContext(now=clock)))

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
    )
    assert got == want


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
    expected = keys(rule, frames)
    assert 0 < len(expected) < n
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(keys(rule, frames))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [expected] * 12


def test_adapter_spreads_a_large_candidate_set_over_sessions_and_rulesets() -> None:
    # more flagged records than one ruleset's sessions hold: several rulesets, same answer
    n = durable_adapter.SESSION_SIZE * 3
    ids = pd.RangeIndex(n).to_numpy()
    old = durable_adapter.MAX_SESSIONS
    durable_adapter.MAX_SESSIONS = 2
    try:
        definition = durable_adapter.compile_ruleset("absent", "first", 5)
        found = durable_adapter.correlate(
            definition,
            durable_adapter.Flagged(ids, ids, ids * 0),
            durable_adapter.Counterparts(ids[::2], ids[::2] * 0 + 5),
            100,
        )
    finally:
        durable_adapter.MAX_SESSIONS = old
    assert found == set(ids[1::2].tolist())


# -- wrong options: one located line each --------------------------------------------------------


def test_missing_within(tmp_path: Path) -> None:
    body = PROCEEDS.replace('within = "60d"\n', "")
    (line,) = problems_of(tmp_path, body)
    assert line.startswith("bad.toml:2: rule SEQ-BAD: within: missing required key")


def test_match_column_not_in_the_other_dataset(tmp_path: Path) -> None:
    body = PROCEEDS.replace('match = { sale_id = "ref_id" }', 'match = { sale_id = "ref_idx" }')
    (line,) = problems_of(tmp_path, body)
    assert line.startswith("bad.toml:12: rule SEQ-BAD: match.sale_id: ")
    assert "column 'ref_idx' is not in receipts (then)" in line and "did you mean 'ref_id'?" in line


def test_bad_expect(tmp_path: Path) -> None:
    body = PROCEEDS.replace('expect = "absent"', 'expect = "absnet"')
    (line,) = problems_of(tmp_path, body)
    assert (
        line
        == "bad.toml:14: rule SEQ-BAD: expect: unknown expect 'absnet' - did you mean 'absent'?"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('within = "60d"', 'within = "60 days"', "within: cannot read '60 days' as a window"),
        ('within = "60d"', 'within = "36h"', "within: '36h' is not whole days"),
        ('time = "contract_date"', 'time = "sale_price"', "first.time: 'sale_price' is not a date"),
        (
            'dataset = "property_sales"\nfirst',
            'dataset = "receipts"\nfirst',
            "dataset: findings are on the first side",
        ),
        (
            'expect = "absent"',
            'expect = "absent"\nflag = "then"',
            "flag: expect = 'absent' flags first",
        ),
        ('at_least = "sale_price"', 'at_least = "sale_pric"', "complete: at_least: "),
        ('when = "sale_price > 0"', 'when = "sale_price >"', "first.when: "),
    ],
)
def test_other_wrong_options(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in PROCEEDS
    (line,) = problems_of(tmp_path, PROCEEDS.replace(old, new, 1))
    assert expected in line, line


# -- examples in the multi-dataset format (engine/examples.py) -----------------------------------

PROCEEDS_EXAMPLES = """
[[rule.example]]
fires = true
note = "only 400 of 1,000 received within 60 days; the rest on day 61"
record = { sale_id = "S-1", contract_date = "2025-01-01", sale_price = 1000 }
related = { receipts = [
  { receipt_id = "R-1", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-01-20", amount = 400 },
  { receipt_id = "R-2", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-03-03", amount = 600 },
] }

[[rule.example]]
fires = false
note = "two receipts reach the price on day 60, the window's last day"
record = { sale_id = "S-1", contract_date = "2025-01-01", sale_price = 1000 }
related = { receipts = [
  { receipt_id = "R-1", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-01-20", amount = 400 },
  { receipt_id = "R-2", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-03-02", amount = 600 },
] }
"""

VENDOR_EXAMPLES = """
[[rule.example]]
fires = true
record = { payment_id = "P-1", vendor_id = "V-1", paid_on = "2025-05-08", amount = 5000000 }
related = { vendors = [ { vendor_id = "V-1", account_changed_on = "2025-05-01" } ] }

[[rule.example]]
fires = false
note = "paid 8 days after the change"
record = { payment_id = "P-1", vendor_id = "V-1", paid_on = "2025-05-09", amount = 5000000 }
related = { vendors = [ { vendor_id = "V-1", account_changed_on = "2025-05-01" } ] }
"""


@pytest.mark.parametrize("body", [PROCEEDS + PROCEEDS_EXAMPLES, VENDOR + VENDOR_EXAMPLES])
def test_rule_file_examples_run(tmp_path: Path, body: str) -> None:
    rule = load(tmp_path, body)
    assert len(rule.meta.examples) == 2
    assert [str(p) for p in run_examples([rule])] == []
