"""The run summary as text lines for the command line (``naebu run``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naebu.connectors.vocabulary import unmapped_lines
from naebu.core import text_tables as tables
from naebu.core.text_tables import Column
from naebu.coverage_report import coverage_hints, coverage_note
from naebu.pipeline.summary import RunSummary


def summary_lines(summary: RunSummary, rules: Mapping[str, Any]) -> list[str]:
    """The run summary as text lines for the command line."""
    lines = [f"naebu run #{summary.run_id} at {summary.started_at:%Y-%m-%d %H:%M}", ""]
    sources = []
    for s in summary.sources:
        note = f"ERROR {s.error}" if s.error else (f"{s.files} file(s)" if s.files else "")
        sources.append((s.name, s.dataset, s.rows_read, s.quarantined, note))
    source_columns = [
        Column("source", 18),
        Column("dataset", 18),
        Column("rows read", 10, ">"),
        Column("quarantined", 12, ">"),
        Column("note", before="  "),
    ]
    lines += tables.render(source_columns, sources)
    lines += unmapped_lines((s.name, s.unmapped) for s in summary.sources)
    lines.append("")
    rows = []
    for rule_id in sorted(rules):
        meta = rules[rule_id]
        err = summary.rule_errors.get(rule_id)
        title = f"ERROR {err}" if err else coverage_note(summary.coverage.get(rule_id), meta.title)
        rows.append(
            (rule_id, summary.findings.get(rule_id, 0), summary.new_alerts.get(rule_id, 0), title)
        )
    rule_columns = [
        Column("rule", 24),
        Column("findings", 9, ">"),
        Column("new alerts", 11, ">"),
        Column("title", before="  "),
    ]
    lines += tables.render(rule_columns, rows)
    total_new = sum(summary.new_alerts.values())
    lines += [
        "",
        f"new alerts: {total_new:,} (unassigned {summary.unassigned:,}); "
        f"quarantined rows: {sum(s.quarantined for s in summary.sources):,}",
        f"notifications: {summary.digests_queued:,} digest(s) queued, {summary.sent:,} sent, "
        f"{summary.retrying:,} to retry, {summary.failed:,} failed",
    ]
    if summary.withdrawn:
        # Only when there were any: a late record took an alert's condition away.
        per_rule = ", ".join(f"{r} {n:,}" for r, n in sorted(summary.withdrawn.items()))
        lines.append(
            f"withdrawn alerts (late records took the condition away): "
            f"{sum(summary.withdrawn.values()):,} ({per_rule})"
        )
    if summary.followups:
        lines.append(summary.followups)
    lines += coverage_hints(summary.coverage)
    if summary.timings:
        phases = ", ".join(
            f"{phase} {summary.timings[phase]:.1f} s"
            for phase in ("pull", "evaluate", "store", "notify")
            if phase in summary.timings
        )
        lines.append(f"time: {phases}")
    return lines
