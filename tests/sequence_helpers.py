"""Shared by the ``sequence`` tests: rule bodies, real rule loading, typed frames, and a
brute-force oracle of the documented semantics."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from naebu.connectors.coerce import coerce
from naebu.core import datasets
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, ProblemFactory, RuleType
from naebu.engine.rule import RuleMeta
from naebu.engine.ruletypes.sequence import SequenceRule

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
unmatched = "fire"
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
unmatched = "fire"
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
unmatched = "fire"
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
    """Record keys of the findings, frames completed with empty ones for missing datasets.

    The rule is evaluated in every :data:`VARIANTS` way; they must all agree.
    """
    full = {d: frames.get(d, frame(d, [])) for d in rule.datasets}
    found = {
        v: sorted(f.record_key for f in variant(rule, *v).evaluate(full, EvalContext(now=now)))
        for v in VARIANTS
    }
    assert len(set(map(tuple, found.values()))) == 1, found
    return found[VARIANTS[0]]


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


def compiled(
    expect: str, flag: str, complete: bool, by_day: bool, within: int, unmatched: str = "fire"
) -> RuleType:
    """A sequence rule between sales and receipts, flagging sales, compiled (and cached)."""
    shape = (expect, flag, complete, by_day, within, unmatched)
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
        if expect != "present":
            spec["unmatched"] = unmatched
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
    unmatched: str = "fire",
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
        # unmatched = "skip": no receipt of the sale without a time or from the window's
        # start on: unknown, not judged
        known = any(ref == sale_id and (rt is None or rt >= lo) for ref, rt, _ in receipts)
        if unmatched == "skip" and expect != "present" and not known:
            continue
        # an absence counts only once the window has closed by the clock
        if happened if expect == "present" else hi < now and not happened:
            fired.append(sale_id)
    return sorted(fired)


def variant(rule: RuleType, decider: str, prefilter: bool) -> RuleType:
    """The same compiled rule, decided by ``decider`` (numpy or durable), narrowed or not."""
    assert isinstance(rule, SequenceRule)
    other = copy.copy(rule)
    other.decider = decider  # type: ignore[assignment]
    other.prefilter = prefilter
    return other


#: Every way a sequence rule can be evaluated; all must give the same findings.
VARIANTS = [("numpy", True), ("numpy", False), ("durable", True), ("durable", False)]
