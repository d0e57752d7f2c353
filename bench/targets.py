"""The issue's performance targets, judged on one benchmark's results.

The targets are set at the province volumes (1M payments, 200k card approvals, 100k contracts,
20k property sales); at a smaller scale "met" only says the figure is within the bound there.
"""

from __future__ import annotations

from typing import Any

GB = 1024.0  # MB


def _target(tid: str, what: str, bound: str, value: float | None, met: bool | None,
            unit: str = "") -> dict[str, Any]:  # fmt: skip
    return {"id": tid, "what": what, "target": bound, "value": value, "unit": unit, "met": met}


def judge(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (None: not measured)."""
    out = []
    ev = results.get("evaluation")
    if ev:
        s = ev["seconds"]
        out.append(_target("1a", "full pack evaluated in memory", "<= 10 s", s, s <= 10, "s"))
    run = results.get("full_run")
    if run:
        s, rss = run["wall_seconds"], run["peak_rss_mb"]
        out.append(_target("1b", "whole `naebu run --once` from the SQLite demo sources",
                           "<= 45 s", s, s <= 45 and run["exit_code"] == 0, "s"))  # fmt: skip
        out.append(_target("1c", "peak RSS of that run", "<= 3 GB", rss, rss <= 3 * GB, "MB"))
    base = results.get("baselines")
    if base:
        for m in base["match"]:
            x = m["durable_rules"]["naebu_speedup"]
            out.append(_target("2a", f"{m['rule_id']}: naebu vs durable_rules record by record",
                               ">= 100x faster", x, x is not None and x >= 100, "x"))  # fmt: skip
        for w in base["window"]:
            x = w["duckdb"]["naebu_over_duckdb"]
            out.append(_target("2b", f"{w['rule_id']} ({w['type']}): naebu time / DuckDB time",
                               "<= 2x", x, x is not None and x <= 2, "x"))  # fmt: skip
    inc = results.get("incremental")
    if inc:
        r = inc["ratio"]
        out.append(_target("3", "incremental run (1% new records) / full run", "<= 10%",
                           r * 100 if r is not None else None,
                           r is not None and r <= 0.10, "%"))  # fmt: skip
    note = results.get("notification")
    if note:
        s = note["seconds"]["total"]
        ok = s <= note["target_seconds"] and note["smtp_messages"] == note["recipients"]
        out.append(_target("4", f"{note['alerts']:,} alerts to {note['recipients']} recipients "
                           "as digests over SMTP", "<= 60 s", s, ok, "s"))  # fmt: skip
    return out
