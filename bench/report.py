"""``results.md``: the benchmark's results as markdown tables (from the results.json dict)."""

from __future__ import annotations

import re
from typing import Any


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


_NUMBER = re.compile(r"^-?[\d,.]+( ?(x|s|%|MB|\(extrapolated\)))?$|^-$")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table; columns of figures are right-aligned."""
    numeric = [bool(rows) and all(_NUMBER.match(r[i].strip()) for r in rows)
               for i in range(len(header))]  # fmt: skip
    align = ["---:" if n else "---" for n in numeric]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines + [""]


def _met(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "**not met**")


def _head(r: dict[str, Any]) -> list[str]:
    m, v = r["machine"], r["versions"]
    volumes = ", ".join(f"{k} {n:,}" for k, n in r["volumes"].items())
    return [
        "# naebu benchmark results",
        "",
        f"- command: `{r['command']}`",
        f"- date: {r['date']}; city: {r['city']}",
        f"- volumes: {volumes}",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GiB; load average at "
        f"start {m['load_average']}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        *[f"- note: {n}" for n in r.get("notes", [])],
        "",
    ]


def _targets(r: dict[str, Any]) -> list[str]:
    rows = [
        [t["id"], t["what"], t["target"], f"{_num(t['value'])} {t['unit']}".strip(), _met(t["met"])]
        for t in r["targets"]
    ]
    return ["## Targets", "", *_table(["#", "what", "target", "measured", ""], rows)]


def _runs(r: dict[str, Any]) -> list[str]:
    out = ["## Whole runs (`naebu run --once`, a subprocess)", ""]
    rows = []
    inc = r.get("incremental") or {}
    runs = (("full", r.get("full_run")), ("without the latest records", inc.get("before")),
            ("incremental", inc.get("run")))  # fmt: skip
    for label, run in runs:
        if not run:
            continue
        t = run["timings"]
        rows.append([label, f"{run['rows_read']:,}", _num(run["wall_seconds"]), _num(t["pull"]),
                     _num(t["evaluate"]), _num(t["store"]), _num(t["notify"]),
                     _num(run["other_seconds"]), _num(run["peak_rss_mb"], 0),
                     f"{run['new_alerts']:,}"])  # fmt: skip
    out += _table(["run", "rows read", "wall s", "pull s", "evaluate s", "store s", "notify s",
                   "other s", "peak RSS MB", "new alerts"], rows)  # fmt: skip
    full = r.get("full_run")
    if full:
        lab = full["alerts_vs_labels"]
        out.append(f"Alerts of the full run against labels.csv: {'equal' if lab['equal'] else 'NOT equal'} "
                   f"({lab['found']:,} alerts, {lab['labels']:,} labels, {lab['missing']} missing, "
                   f"{lab['extra']} extra).")  # fmt: skip
    if inc:
        lab = inc["alerts_vs_labels"]
        out.append(f"Incremental: the {inc['added_rows']:,} records changed after {inc.get('cutoff')} "
                   f"({inc['fraction'] * 100:g}% of the incremental sources) held back, then "
                   f"delivered to a store that had the rest; wall time "
                   f"{_num((inc['ratio'] or 0) * 100, 1)}% of the full run. "
                   f"Alerts after it against labels.csv: {lab['missing']} label(s) missing, "
                   f"{lab['extra']} extra alert(s) raised on the partial data.")  # fmt: skip
    return out + [""]


def _evaluation(r: dict[str, Any]) -> list[str]:
    ev = r["evaluation"]
    out = ["## The pack evaluated in memory", "",
           f"{len(ev['rules'])} rules, {_num(ev['seconds'])} s in all (frames read through the "
           f"connectors in {_num(r['load']['seconds'])} s, not included). Findings against "
           f"labels.csv: {'equal' if ev['findings_vs_labels']['equal'] else 'NOT equal'}.", ""]  # fmt: skip
    rows = [[t["type"], str(t["rules"]), f"{t['rows_in']:,}", _num(t["seconds"], 3),
             _rate(t["rows_per_second"]), f"{t['findings']:,}"] for t in ev["types"]]  # fmt: skip
    out += _table(["rule type", "rules", "rows in", "seconds", "rows/s", "findings"], rows)
    rows = [[f"`{x['rule_id']}`", x["type"], x["dataset"], f"{x['rows_in']:,}", _num(x["seconds"], 3),
             _rate(x["rows_per_second"]), f"{x['findings']:,}" + (" ERROR" if x["error"] else "")]
            for x in ev["rules"]]  # fmt: skip
    out += _table(["rule", "type", "dataset", "rows in", "seconds", "rows/s", "findings"], rows)
    return out


def _baselines(r: dict[str, Any]) -> list[str]:
    b = r["baselines"]
    out = ["## Baselines (same process, same frames)", "",
           f"Best of at least {b['repeat']} runs each, more until 0.5 s was spent "
           f"(durable_rules: one pass); DuckDB with {b['duckdb_threads']} threads; every "
           f"baseline flagged the same records as naebu: {'yes' if b['all_agree'] else '**NO**'}.", ""]  # fmt: skip
    rows = []
    for m in b["match"]:
        d, p, q = m["durable_rules"], m["python_loop"], m["duckdb"]
        posted = f"{d['records_posted']:,}" + (" (extrapolated)" if d["extrapolated"] else "")
        rows.append([f"`{m['rule_id']}`", f"{m['rows']:,}", _rate(m["naebu"]["rows_per_second"]),
                     _rate(d["rows_per_second"]), posted, _num(d["naebu_speedup"], 0) + "x",
                     _rate(p["rows_per_second"]), _num(p["naebu_speedup"], 2) + "x",
                     _rate(q["rows_per_second"]), _num(q["naebu_over_duckdb"]) + "x",
                     _num(m["to_records_seconds"], 3),
                     "yes" if d["agrees"] and p["agrees"] and q["agrees"] else "NO"])  # fmt: skip
    out += _table(["match rule", "rows", "naebu rows/s", "durable rows/s", "posted",
                   "naebu speed-up", "loop rows/s", "naebu speed-up vs loop", "DuckDB rows/s",
                   "naebu time / DuckDB", "dicts built s", "same keys"], rows)  # fmt: skip
    out.append(
        "durable_rules and the loop are timed on record dicts built beforehand "
        "(*dicts built s*, not in their times)."
    )
    out.append("")
    rows = []
    for w in b["window"]:
        q, p = w["duckdb"], w["python_loop"]
        rows.append([f"`{w['rule_id']}`", w["type"], f"{w['rows']:,}", _num(w["naebu"]["seconds"], 3),
                     _num(q["seconds"], 3), _num(q["naebu_over_duckdb"]) + "x", _num(p["seconds"], 3),
                     _num(p["naebu_speedup"]) + "x", str(w["naebu"]["findings"]),
                     "yes" if q["agrees"] and p["agrees"] else "NO"])  # fmt: skip
    out += _table(["window rule", "type", "rows", "naebu s", "DuckDB s", "naebu / DuckDB",
                   "loop s", "naebu speed-up vs loop", "findings", "same keys"], rows)  # fmt: skip
    return out


def _notification(r: dict[str, Any]) -> list[str]:
    n = r["notification"]
    s = n["seconds"]
    out = ["## Notification", "",
           f"{n['alerts']:,} alerts to {n['recipients']} officials: {n['digests_queued']} digests "
           f"queued, {n['sent']} sent, {n['smtp_messages']} received by the SMTP server.", ""]  # fmt: skip
    out += _table(["raise s", "queue s", "deliver s", "total s", "ms per message",
                   "ssl.create_default_context() ms"],
                  [[_num(s["raise"]), _num(s["queue"]), _num(s["deliver"]), _num(s["total"]),
                    _num(n["per_message_ms"], 0), _num(n.get("ssl_context_ms"), 0)]])  # fmt: skip
    return out


def markdown(results: dict[str, Any]) -> str:
    """The whole report."""
    lines = _head(results) + _targets(results)
    if results.get("full_run"):
        lines += _runs(results)
    if results.get("evaluation"):
        lines += _evaluation(results)
    if results.get("baselines"):
        lines += _baselines(results)
    if results.get("notification"):
        lines += _notification(results)
    return "\n".join(lines).rstrip() + "\n"
