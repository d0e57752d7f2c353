"""Every rule of the pack on the same tables: naebu, DuckDB SQL and Polars, interleaved.

naebu evaluates the canonical frames as a run hands them over; DuckDB and Polars query the
prepared tables (:mod:`bench.baselines.tables`: loaded once, text cleaned once, the time
reported apart). A derived column that is a rule's own logic rather than cleaning - the
attendee count, the statutory deadline - is computed at load too, but its seconds are added
to that rule's baseline runs (:data:`CHARGED`): naebu computes it inside the rule, and a
baseline must not look faster for having done the work beforehand. The holiday table is
reference data, loaded once like the other tables (naebu keeps its calendar too). Each baseline must flag exactly naebu's record keys: a rule where it does not
is listed in ``disagreements`` with the keys on each side, and the benchmark fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from bench.baselines.duck_tables import QUERIES as DUCK
from bench.baselines.duck_tables import DuckTables
from bench.baselines.polars_tables import QUERIES as POLARS
from bench.baselines.polars_tables import PolarsTables
from bench.baselines.spec import Spec
from bench.baselines.tables import Prepared
from bench.baselines.timing import interleaved, ratio
from bench.evaluate import frames_for
from naebu.engine.loader import RuleSet
from naebu.engine.registry import EvalContext

#: Keys shown per side of a disagreement.
SHOWN = 10
#: Rules whose baselines read a derived column of their own logic: its load seconds count.
CHARGED = {
    "CARD-PERPERSON": ("attendee_n",),
    "PERMIT-LATE": ("due_at",),
}
ENGINES = ("duckdb", "polars")


def _side(keys: set[str], naebu: set[str], runs: Any, naebu_median: float) -> dict[str, Any]:
    return {
        **runs.as_json(),
        "flagged": len(keys),
        "agrees": keys == naebu,
        "naebu_only": sorted(naebu - keys)[:SHOWN],
        "engine_only": sorted(keys - naebu)[:SHOWN],
        "naebu_over": ratio(naebu_median, runs.median),
    }


def compare_rules(ruleset: RuleSet, frames: Mapping[str, pd.DataFrame], prepared: Prepared,
                  duck: DuckTables, pola: PolarsTables, now: datetime,
                  rounds: int) -> list[dict[str, Any]]:  # fmt: skip
    """Per enabled rule: the three sides' runs, medians, findings and agreement."""
    ctx = EvalContext(now=now)
    lists = {n: tuple(v.items) for n, v in ruleset.lists.items()}
    out = []
    for rule in ruleset.rules:
        if not rule.meta.enabled:
            continue
        rid = rule.meta.id
        if rid not in DUCK or rid not in POLARS:
            raise RuntimeError(f"{rid}: no DuckDB or Polars translation (bench/baselines)")
        spec = Spec(rule, lists, now.date())
        given = frames_for(rule, frames)
        sql = DUCK[rid](spec)
        query = POLARS[rid]
        runs = interleaved(
            {
                "naebu": lambda r=rule, g=given: {f.record_key for f in r.evaluate(g, ctx)},  # type: ignore[misc]
                "duckdb": lambda s=sql: duck.keys(s),  # type: ignore[misc]
                "polars": lambda q=query, s=spec: pola.keys(q, s),  # type: ignore[misc]
            },
            rounds,
        )
        charged = sum(prepared.logic_seconds.get(c, 0.0) for c in CHARGED.get(rid, ()))
        for engine in ENGINES:
            runs[engine].seconds = [s + charged for s in runs[engine].seconds]
        naebu_keys: set[str] = runs["naebu"].result
        median = runs["naebu"].median
        out.append({
            "rule_id": rid,
            "type": rule.name,
            "dataset": rule.meta.dataset,
            "rows": len(frames[rule.meta.dataset]),
            "findings": len(naebu_keys),
            "naebu": runs["naebu"].as_json(),
            "duckdb": _side(runs["duckdb"].result, naebu_keys, runs["duckdb"], median),
            "polars": _side(runs["polars"].result, naebu_keys, runs["polars"], median),
            "load_seconds_charged": charged,
            "sql": " ".join(sql.split()),
        })  # fmt: skip
    return out


def by_type(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per rule type, and for the whole pack (type ``all``): the medians summed and the ratios
    naebu / DuckDB and naebu / Polars."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rules:
        groups.setdefault(r["type"], []).append(r)
    groups["all"] = rules
    out = []
    for kind, members in groups.items():
        naebu = sum(r["naebu"]["median"] for r in members)
        row: dict[str, Any] = {"type": kind, "rules": len(members), "naebu_seconds": naebu}
        for engine in ENGINES:
            s = sum(r[engine]["median"] for r in members)
            row[f"{engine}_seconds"] = s
            row[f"naebu_over_{engine}"] = ratio(naebu, s)
        out.append(row)
    return out


def disagreements(rules: list[dict[str, Any]]) -> list[str]:
    """One line per rule and engine that flagged other records than naebu."""
    lines = []
    for r in rules:
        for engine in ENGINES:
            e = r[engine]
            if not e["agrees"]:
                lines.append(
                    f"{r['rule_id']} ({engine}): naebu {r['findings']}, {engine} {e['flagged']}; "
                    f"only naebu: {e['naebu_only']}; only {engine}: {e['engine_only']}"
                )
    return lines
