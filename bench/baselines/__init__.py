"""Baselines run in the same process on the same frames as naebu, each as a ratio to naebu:

(a) durable_rules fed record by record (:mod:`bench.baselines.durable`), for match rules;
(b) DuckDB SQL over the same pandas frames (:mod:`bench.baselines.duck`), for match, aggregate
    and duplicate rules;
(c) a plain per-row Python loop (:mod:`bench.baselines.pyloop`), for the same rules.

Each baseline's flagged keys are compared with naebu's findings on the same frame
(``agrees``); the rules are written out in :mod:`bench.baselines.cases`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from bench.baselines import pyloop
from bench.baselines.cases import (
    MATCH_CASES,
    SPLIT_KIND,
    MatchCase,
    duplicate_sql,
    is_licence,
    licence_phrases,
    split_kind,
    split_sql,
    window_days,
)
from bench.baselines.duck import Duck
from bench.baselines.durable import post_records
from bench.baselines.records import to_records
from bench.baselines.timing import best_of, timed
from bench.evaluate import frames_for
from naebu.engine.loader import RuleSet
from naebu.engine.registry import EvalContext, RuleType

#: The window rules compared with DuckDB and the Python loop: (rule id, rule type).
WINDOW_RULES = (("CONTRACT-SPLIT", "aggregate"), ("PAY-DUPLICATE", "duplicate"))


def _naebu(rule: RuleType, frames: Mapping[str, pd.DataFrame], ctx: EvalContext,
           repeat: int) -> tuple[float, set[str]]:  # fmt: skip
    """Best seconds of ``repeat`` evaluations of ``rule`` and the keys it flagged."""
    given = frames_for(rule, frames)
    best, found = best_of(timed(lambda: rule.evaluate(given, ctx)), repeat)
    return best, {f.record_key for f in found}


def _rate(rows: int, seconds: float) -> float | None:
    return rows / seconds if seconds > 0 else None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _strs(keys: list[Any]) -> set[str]:
    return {str(k) for k in keys}


def _match(case: MatchCase, rule: RuleType, frames: Mapping[str, pd.DataFrame], duck: Duck,
           ctx: EvalContext, durable_records: int, repeat: int) -> dict[str, Any]:  # fmt: skip
    frame = frames[case.dataset]
    params = dict(rule.meta.params)
    naebu_s, naebu_keys = _naebu(rule, frames, ctx, repeat)
    start = time.perf_counter()
    records = to_records(frame, [case.key, *case.columns])
    convert_s = time.perf_counter() - start

    posted = records[: max(1, durable_records)]
    dr_s, dr_keys = post_records(case.durable(params), posted, case.key)
    posted_keys = {str(r[case.key]) for r in posted}
    extrapolated = len(posted) < len(records)
    dr_all = dr_s * len(records) / len(posted) if posted else 0.0

    predicate = case.python(params)
    loop_best, loop_keys = best_of(lambda: pyloop.loop_match(predicate, records, case.key), repeat)
    duck_s, duck_keys = duck.keys(case.sql(params), repeat)
    rows = len(frame)
    return {
        "rule_id": case.rule_id,
        "dataset": case.dataset,
        "rows": rows,
        "naebu": {"seconds": naebu_s, "rows_per_second": _rate(rows, naebu_s),
                  "findings": len(naebu_keys)},
        "to_records_seconds": convert_s,
        "durable_rules": {
            "records_posted": len(posted),
            "seconds": dr_s,
            "rows_per_second": _rate(len(posted), dr_s),
            "extrapolated": extrapolated,
            "seconds_all_rows": dr_all,
            "flagged": len(dr_keys),
            "agrees": _strs(dr_keys) == naebu_keys & posted_keys,
            "naebu_speedup": _ratio(dr_all, naebu_s),
        },
        "python_loop": {
            "seconds": loop_best,
            "rows_per_second": _rate(rows, loop_best),
            "flagged": len(loop_keys),
            "agrees": _strs(loop_keys) == naebu_keys,
            "naebu_speedup": _ratio(loop_best, naebu_s),
        },
        "duckdb": {
            "seconds": duck_s,
            "rows_per_second": _rate(rows, duck_s),
            "flagged": len(duck_keys),
            "agrees": _strs(duck_keys) == naebu_keys,
            "naebu_over_duckdb": _ratio(naebu_s, duck_s),
        },
    }  # fmt: skip


def _check_shape(rule: RuleType) -> None:
    """Refuse to compare with a rule whose shape the hand translation does not cover."""
    rid = rule.meta.id
    if rid == "CONTRACT-SPLIT":
        ok = getattr(rule, "group_by", None) == ["department", "vendor_id", SPLIT_KIND] and list(
            getattr(rule, "key_expressions", {})
        ) == [SPLIT_KIND]
    else:
        ok = getattr(rule, "key_columns", None) == ["vendor_id", "amount", "invoice_no"] and (
            getattr(rule, "distinct", None) is None and getattr(rule, "when", None) is None
        )
    if not ok:
        raise ValueError(f"{rid} changed shape; update bench/baselines/cases.py")


def _window(rule_id: str, kind: str, rule: RuleType, frames: Mapping[str, pd.DataFrame],
            duck: Duck, ctx: EvalContext, repeat: int,
            lists: Mapping[str, Any]) -> dict[str, Any]:  # fmt: skip
    _check_shape(rule)
    days = window_days(rule)
    frame = frames[rule.meta.dataset]
    naebu_s, naebu_keys = _naebu(rule, frames, ctx, repeat)
    if rule_id == "CONTRACT-SPLIT":
        sql = split_sql(rule, lists)
        records = pyloop.window_records(frame, "contract_id", "contract_date",
                                        ["department", "vendor_id", "method", "category",
                                         "amount", "title"])  # fmt: skip
        limit = float(rule.meta.params["limit"])
        yes, no = licence_phrases(lists)

        def loop() -> tuple[float, list[Any]]:
            return pyloop.loop_split(records, days, limit, "contract_id",
                                     lambda title: is_licence(title, yes, no), split_kind)  # fmt: skip
    else:
        sql = duplicate_sql(rule)
        keys = ["vendor_id", "amount", "invoice_no"]
        records = pyloop.window_records(frame, "payment_id", "paid_on", keys)

        def loop() -> tuple[float, list[Any]]:
            return pyloop.loop_duplicate(records, keys, days, "payment_id")

    duck_s, duck_keys = duck.keys(sql, repeat)
    loop_best, loop_keys = best_of(loop, repeat)
    rows = len(frame)
    return {
        "rule_id": rule_id,
        "type": kind,
        "dataset": rule.meta.dataset,
        "rows": rows,
        "window_days": days,
        "naebu": {"seconds": naebu_s, "rows_per_second": _rate(rows, naebu_s),
                  "findings": len(naebu_keys)},
        "duckdb": {
            "seconds": duck_s,
            "rows_per_second": _rate(rows, duck_s),
            "flagged": len(duck_keys),
            "agrees": _strs(duck_keys) == naebu_keys,
            "naebu_over_duckdb": _ratio(naebu_s, duck_s),
            "sql": " ".join(sql.split()),
        },
        "python_loop": {
            "seconds": loop_best,
            "rows_per_second": _rate(rows, loop_best),
            "flagged": len(loop_keys),
            "agrees": _strs(loop_keys) == naebu_keys,
            "naebu_speedup": _ratio(loop_best, naebu_s),
        },
    }  # fmt: skip


def run_baselines(ruleset: RuleSet, frames: Mapping[str, pd.DataFrame], now: datetime, *,
                  durable_records: int = 50_000, repeat: int = 3) -> dict[str, Any]:  # fmt: skip
    """Every baseline on ``frames``; see the module docstring."""
    rules = ruleset.by_id()
    ctx = EvalContext(now=now)
    duck = Duck({name: frames[name] for name in ("card_transactions", "payments", "contracts")})
    try:
        match = [
            _match(case, rules[case.rule_id], frames, duck, ctx, durable_records, repeat)
            for case in MATCH_CASES
        ]
        window = [
            _window(rid, kind, rules[rid], frames, duck, ctx, repeat, ruleset.lists)
            for rid, kind in WINDOW_RULES
        ]
        threads = duck.threads
    finally:
        duck.close()
    checks = [
        b["agrees"] for m in match for b in (m["durable_rules"], m["python_loop"], m["duckdb"])
    ]
    checks += [b["agrees"] for w in window for b in (w["duckdb"], w["python_loop"])]
    return {
        "repeat": repeat,
        "duckdb_threads": threads,
        "all_agree": all(checks),
        "match": match,
        "window": window,
    }
