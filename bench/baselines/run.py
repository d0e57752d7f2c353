"""Baselines run in the same process on the same data as naebu, each as a ratio to naebu:

(a) DuckDB SQL for every rule of the pack (:mod:`bench.baselines.duck_match`,
    ``duck_aggregate``, ``duck_sequence``) and (b) Polars for the same
    (``polars_match``, ``polars_aggregate``, ``polars_sequence``), over tables loaded once
    with their text cleaned once (:mod:`bench.baselines.tables`), timed interleaved with naebu
    rule by rule (:mod:`bench.baselines.compare`);
(c) durable_rules fed in batches (:mod:`bench.baselines.durable`) and (d) a plain per-row
    Python loop (:mod:`bench.baselines.pyloop`), for three match rules
    (:mod:`bench.baselines.cases`).

Each baseline's flagged keys are compared with naebu's findings (``agrees``); any difference
fails the benchmark. The end-to-end DuckDB script is :mod:`bench.baselines.duck_script`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from bench.baselines import compare, pyloop
from bench.baselines.cases import MATCH_CASES, MatchCase
from bench.baselines.duck_tables import DuckTables
from bench.baselines.durable import post_records
from bench.baselines.polars_tables import PolarsTables
from bench.baselines.records import to_records
from bench.baselines.tables import prepare
from bench.baselines.timing import interleaved, ratio
from bench.evaluate import frames_for
from naebu.engine.loader import RuleSet
from naebu.engine.registry import EvalContext, RuleType


def _rate(rows: int, seconds: float | None) -> float | None:
    return rows / seconds if seconds else None


def _match(case: MatchCase, rule: RuleType, frames: Mapping[str, pd.DataFrame],
           ctx: EvalContext, durable_records: int, rounds: int) -> dict[str, Any]:  # fmt: skip
    """durable_rules (batches) and the Python loop against naebu on one match rule."""
    frame = frames[case.dataset]
    params = dict(rule.meta.params)
    records = to_records(frame, [case.key, *case.columns])
    posted = records[: max(1, durable_records)]
    posted_keys = {str(r[case.key]) for r in posted}
    predicate = case.python(params)
    given = frames_for(rule, frames)
    runs = interleaved(
        {
            "naebu": lambda: {f.record_key for f in rule.evaluate(given, ctx)},
            "durable_rules": lambda: post_records(case.durable(params), posted, case.key)[1],
            "python_loop": lambda: pyloop.loop_match(predicate, records, case.key)[1],
        },
        rounds,
    )
    naebu_keys: set[str] = runs["naebu"].result
    naebu_s = runs["naebu"].median
    rows = len(frame)
    dr = runs["durable_rules"]
    dr_all = dr.median * len(records) / len(posted) if posted else 0.0
    loop = runs["python_loop"]
    return {
        "rule_id": case.rule_id,
        "dataset": case.dataset,
        "rows": rows,
        "naebu": {**runs["naebu"].as_json(), "rows_per_second": _rate(rows, naebu_s),
                  "findings": len(naebu_keys)},
        "durable_rules": {
            **dr.as_json(),
            "records_posted": len(posted),
            "rows_per_second": _rate(len(posted), dr.median),
            "extrapolated": len(posted) < len(records),
            "seconds_all_rows": dr_all,
            "flagged": len(dr.result),
            "agrees": {str(k) for k in dr.result} == naebu_keys & posted_keys,
            "naebu_speedup": ratio(dr_all, naebu_s),
        },
        "python_loop": {
            **loop.as_json(),
            "rows_per_second": _rate(rows, loop.median),
            "flagged": len(loop.result),
            "agrees": {str(k) for k in loop.result} == naebu_keys,
            "naebu_speedup": ratio(loop.median, naebu_s),
        },
    }  # fmt: skip


def run_baselines(ruleset: RuleSet, frames: Mapping[str, pd.DataFrame], now: datetime, *,
                  durable_records: int = 50_000, repeat: int = 5) -> dict[str, Any]:  # fmt: skip
    """Every baseline on ``frames``, ``repeat`` interleaved rounds each; see the module."""
    prepared = prepare(frames)
    duck = DuckTables(prepared)
    pola = PolarsTables(prepared)
    try:
        rules = compare.compare_rules(ruleset, frames, prepared, duck, pola, now, repeat)
        threads = duck.threads
    finally:
        duck.close()
    by_id = ruleset.by_id()
    ctx = EvalContext(now=now)
    match = [_match(case, by_id[case.rule_id], frames, ctx, durable_records, repeat)
             for case in MATCH_CASES]  # fmt: skip
    wrong = compare.disagreements(rules)
    for m in match:
        wrong += [f"{m['rule_id']} ({side}): flagged other records than naebu"
                  for side in ("durable_rules", "python_loop") if not m[side]["agrees"]]  # fmt: skip
    return {
        "repeat": repeat,
        "duckdb_threads": threads,
        "polars_threads": pola.threads(),
        "prepare_seconds": prepared.seconds,
        "duckdb_load_seconds": duck.load_seconds,
        "polars_load_seconds": pola.load_seconds,
        "rules": rules,
        "types": compare.by_type(rules),
        "match": match,
        "disagreements": wrong,
        "all_agree": not wrong,
    }
