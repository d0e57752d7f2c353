"""The run summary as text lines for the command line (``naebu run``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.vocabulary import unmapped_lines
from naebu.coverage_report import coverage_hints, coverage_note
from naebu.pipeline.summary import RunSummary


def summary_lines(summary: RunSummary, rules: Mapping[str, Any]) -> list[str]:
    """The run summary as text lines for the command line."""
    lines = [f"naebu run #{summary.run_id} at {summary.started_at:%Y-%m-%d %H:%M}", ""]
    lines.append(f"{'source':<18} {'dataset':<18} {'rows read':>10} {'quarantined':>12}  note")
    for s in summary.sources:
        note = f"ERROR {s.error}" if s.error else (f"{s.files} file(s)" if s.files else "")
        lines.append(
            f"{s.name:<18} {s.dataset:<18} {s.rows_read:>10,} {s.quarantined:>12,}  {note}"
        )
    lines += unmapped_lines((s.name, s.unmapped) for s in summary.sources)
    width = max([24, *(len(r) for r in rules)])
    lines += ["", f"{'rule':<{width}} {'findings':>9} {'new alerts':>11}  title"]
    for rule_id in sorted(rules):
        meta = rules[rule_id]
        err = summary.rule_errors.get(rule_id)
        title = f"ERROR {err}" if err else coverage_note(summary.coverage.get(rule_id), meta.title)
        lines.append(
            f"{rule_id:<{width}} {summary.findings.get(rule_id, 0):>9,} "
            f"{summary.new_alerts.get(rule_id, 0):>11,}  {title}"
        )
    total_new = sum(summary.new_alerts.values())
    lines += [
        "",
        f"new alerts: {total_new:,} (unassigned {summary.unassigned:,}); "
        f"quarantined rows: {sum(s.quarantined for s in summary.sources):,}",
        f"notifications: {summary.digests_queued:,} digest(s) queued, {summary.sent:,} sent, "
        f"{summary.retrying:,} to retry, {summary.failed:,} failed",
    ]
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
