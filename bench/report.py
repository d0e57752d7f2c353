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
        f"start {m['load_average']}, at the end {m.get('load_average_end', '-')}",
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
                   f"{_num((inc['ratio'] or 0) * 100, 1)}% of the median full run. "
                   f"Alerts after it against labels.csv: {lab['missing']} label(s) missing, "
                   f"{lab['extra']} extra alert(s) raised on the partial data.")  # fmt: skip
        warm = inc.get("warm")
        if warm:
            out.append(f"Warm, as a daemon runs it (in a process that has run before): the "
                       f"incremental run took {_num(warm['incremental_seconds'])} s, a full run "
                       f"on a fresh store {_num(warm['full_seconds'])} s: "
                       f"{_num((warm['ratio'] or 0) * 100, 1)}%.")  # fmt: skip
    cut = r.get("sliced")
    if cut:
        verdict = "equal" if cut["equal"] else "NOT equal"
        out.append(
            f"Slices: the city delivered in {cut['slices']} slices (a contract's inspection keyed "
            f"in after its signing), `naebu run` after each (median "
            f"{_num(cut['slice_median_seconds'])} s a slice, {_num(cut['sliced_total_seconds'])} s "
            f"in all; one full run {_num(cut['full_seconds'])} s): open alerts {verdict} to one "
            f"full run's ({cut['open_alerts_sliced']:,} against {cut['open_alerts_full']:,}; "
            f"only after slices {cut['only_sliced'] or 'none'}, only in the full run "
            f"{cut['only_full'] or 'none'}); {cut['withdrawn']:,} alert(s) withdrawn on the way."
        )
    grow = r.get("scaling")
    if grow:
        parts = [
            f"scale {s['scale']:g}: {s['rows_read']:,} rows read, median {_num(s['median_seconds'])} s "
            f"({', '.join(_num(w) for w in s['wall_seconds'])}), peak RSS {_num(s['peak_rss_mb'], 0)} MB"
            for s in grow["sizes"]
        ]  # fmt: skip
        out.append(
            "Scaling: " + "; ".join(parts) + f". Exponent of time over rows read "
            f"{_num(grow['exponent_rows'])}, over the scale {_num(grow['exponent_scale'])}."
        )
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


def _end_to_end(r: dict[str, Any]) -> list[str]:
    e = r["end_to_end"]
    out = ["## End to end: `naebu run --once` against the DuckDB script", "",
           "Both read the city's sources (SQLite through ADBC and the card CSV drop through "
           "pyarrow on the DuckDB side), each a subprocess, in interleaved pairs; each naebu run "
           f"on a fresh store. Medians: naebu {_num(e['naebu_median'])} s, DuckDB script "
           f"{_num(e['duckdb_script_median'])} s, ratio **{_num(e['naebu_over_duckdb_script'])}x**; "
           f"peak RSS naebu {_num(e['naebu_peak_rss_mb'], 0)} MB, script "
           f"{_num(e['duckdb_script_peak_rss_mb'], 0)} MB. The script flagged the same records "
           f"as naebu on all {e['duckdb_script_rules']} rules: "
           f"{'yes' if e['agrees'] else '**NO** (' + ', '.join(e['disagreements']) + ')'}; "
           f"rows it left out as untypable: {e['duckdb_script_left_out']}.", ""]  # fmt: skip
    rows = [[str(i + 1), _num(p["naebu"]), _num(p["duckdb_script"])]
            for i, p in enumerate(e["pairs"])]  # fmt: skip
    out += _table(["pair", "naebu s", "DuckDB script s"], rows)
    ph = e["duckdb_script_phases"]
    out += ["The script's own phases (last run): " + ", ".join(
        f"{k} {_num(v)} s" for k, v in ph.items()) + ".", ""]  # fmt: skip
    return out


def _baselines(r: dict[str, Any]) -> list[str]:
    b = r["baselines"]
    out = ["## Baselines in memory (same process, same data)", "",
           f"Every rule as DuckDB SQL ({b['duckdb_threads']} threads) and as Polars lazy queries "
           f"({b['polars_threads']} threads) over tables loaded once, text cleaned once: "
           f"preparing them took {_num(b['prepare_seconds'])} s, loading DuckDB "
           f"{_num(b['duckdb_load_seconds'])} s and Polars {_num(b['polars_load_seconds'])} s "
           f"(not in the rule times, except the attendee count and the statutory deadline, "
           f"charged to the one rule each serves). {b['repeat']} interleaved rounds per rule (naebu, "
           f"DuckDB, Polars, naebu, ...); medians. Every baseline flagged the same records as "
           f"naebu: {'yes' if b['all_agree'] else '**NO**'}.", ""]  # fmt: skip
    for line in b["disagreements"]:
        out.append(f"- **disagrees**: {line}")
    if b["disagreements"]:
        out.append("")
    rows = [[t["type"], str(t["rules"]), _num(t["naebu_seconds"], 3), _num(t["duckdb_seconds"], 3),
             _num(t["polars_seconds"], 3), _num(t["naebu_over_duckdb"]) + "x",
             _num(t["naebu_over_polars"]) + "x"] for t in b["types"]]  # fmt: skip
    out += _table(["rule type", "rules", "naebu s", "DuckDB s", "Polars s", "naebu / DuckDB",
                   "naebu / Polars"], rows)  # fmt: skip
    rows = [[f"`{x['rule_id']}`", x["type"], f"{x['rows']:,}", str(x["findings"]),
             _num(x["naebu"]["median"], 4), _num(x["duckdb"]["median"], 4),
             _num(x["polars"]["median"], 4), _num(x["duckdb"]["naebu_over"]) + "x",
             _num(x["polars"]["naebu_over"]) + "x",
             "yes" if x["duckdb"]["agrees"] and x["polars"]["agrees"] else "NO"]
            for x in b["rules"]]  # fmt: skip
    out += _table(["rule", "type", "rows", "findings", "naebu s", "DuckDB s", "Polars s",
                   "naebu / DuckDB", "naebu / Polars", "same keys"], rows)  # fmt: skip
    rows = []
    for m in b["match"]:
        d, p = m["durable_rules"], m["python_loop"]
        posted = f"{d['records_posted']:,}" + (" (extrapolated)" if d["extrapolated"] else "")
        rows.append([f"`{m['rule_id']}`", f"{m['rows']:,}", _rate(m["naebu"]["rows_per_second"]),
                     _rate(d["rows_per_second"]), posted, _num(d["naebu_speedup"], 0) + "x",
                     _rate(p["rows_per_second"]), _num(p["naebu_speedup"], 2) + "x",
                     "yes" if d["agrees"] and p["agrees"] else "NO"])  # fmt: skip
    out += _table(["match rule", "rows", "naebu rows/s", "durable rows/s", "posted",
                   "naebu speed-up", "loop rows/s", "naebu speed-up vs loop", "same keys"], rows)  # fmt: skip
    out.append(
        "durable_rules gets its records in batches (`assert_events`, 1,000 a call); it and the "
        "loop are timed on record dicts built beforehand."
    )
    out.append("")
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
    if results.get("end_to_end"):
        lines += _end_to_end(results)
    if results.get("evaluation"):
        lines += _evaluation(results)
    if results.get("baselines"):
        lines += _baselines(results)
    if results.get("notification"):
        lines += _notification(results)
    return "\n".join(lines).rstrip() + "\n"
