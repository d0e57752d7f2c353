"""``naebu backtest``: findings per rule per month over history, and what a rule change would
add or remove. Stores nothing, notifies nobody."""

from __future__ import annotations

import json
from typing import Any

import click

from naebu import coverage_report, replay
from naebu.commands.common import parse_now, with_config
from naebu.commands.replay_options import load_ruleset, parse_day
from naebu.core import text_tables as tables
from naebu.core.text_tables import Column
from naebu.settings.config import Config

#: ``--compare``: per rule, findings before and after the change.
COMPARE_COLUMNS = (
    Column("rule", 24),
    Column("before", 7, ">"),
    Column("after", 7, ">"),
    Column("added", 7, ">", number="+,"),
    Column("removed", 8, ">", number="+,"),
    Column("status", before="  "),
)


@click.command()
@click.option("--since", required=True, help="first day of the period (event time), YYYY-MM-DD")
@click.option("--until", required=True, help="last day of the period, YYYY-MM-DD")
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, file_okay=False),
    help="rule folder to test (default: the config's)",
)
@click.option(
    "--compare",
    "compare_dir",
    type=click.Path(exists=True, file_okay=False),
    help="another rule folder: show what it would add and remove",
)
@click.option(
    "--from-sources",
    is_flag=True,
    help="pull the sources afresh (read only) instead of using the store's records",
)
@click.option(
    "--now", "now_text", help="judge absences as of this time (default: the end of the period)"
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@with_config
def backtest(
    config: Config,
    since: str,
    until: str,
    rules_dir: str | None,
    compare_dir: str | None,
    from_sources: bool,
    now_text: str | None,
    fmt: str,
) -> None:
    """Run the rules over a past period: findings per rule per month, and the alerts (one
    per case) they would make.

    With --compare DIR, the rules in DIR run on the same data and the difference is shown per
    rule: the records the change would add and remove.
    """
    start, end = replay.period_bounds(parse_day(since, "--since"), parse_day(until, "--until"))
    assert start is not None and end is not None
    now = parse_now(now_text) or end
    base_rules = load_ruleset(config, rules_dir, strict=True).rules
    other_rules = load_ruleset(config, compare_dir, strict=True).rules if compare_dir else None
    result = replay.compare_rules(
        config,
        base_rules,
        other_rules,
        since=start,
        until=end,
        now=now,
        pull_sources=from_sources,
    )
    base, other, frames, states = result.base, result.other, result.frames, result.states
    diff = replay.compare(base, other) if other else None
    if fmt == "json":
        doc: dict[str, Any] = {
            "since": since,
            "until": until,
            "data": frames.origin,
            "rows": frames.rows(),
            "per_rule_month": {k: dict(v) for k, v in base.per_month.items()},
            "totals": {k: len(v) for k, v in base.findings.items()},
            "alerts": dict(base.cases),
            "errors": base.errors,
            **coverage_report.coverage_json(states),
        }
        if diff is not None and other is not None:
            doc["compare"] = diff
            doc["compare_errors"] = other.errors
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    _print_months(base, f"{since} .. {until}", frames)
    for rule_id, state in sorted(states.items()):
        click.echo(f"{tables.pad(rule_id, 24)} {coverage_report.state_text(state)}")
    if diff is not None:
        _print_compare(diff)


def _print_months(result: replay.Backtest, period: str, frames: replay.Frames) -> None:
    click.echo(f"backtest {period}; data: {frames.origin} ({replay.summary_by(frames.rows())})")
    months = result.months
    columns = [
        Column("rule", 24),
        *(Column(m[2:], 7, ">", before="") for m in months),
        Column("total", 8, ">", before=""),
        Column("alerts", 8, ">", before=""),
    ]
    rows = []
    for rule_id in sorted(result.findings):
        counts: dict[str, int] = dict(result.per_month.get(rule_id, {}))
        alerts = result.cases.get(rule_id, 0)
        per_month = [counts.get(m, 0) for m in months]
        rows.append((rule_id, *per_month, len(result.findings[rule_id]), alerts))
    for line in tables.render(columns, rows):
        click.echo(line)
    for rule_id, err in sorted(result.errors.items()):
        click.echo(f"{tables.pad(rule_id, 24)} ERROR {err}")


def _print_compare(diff: dict[str, dict[str, Any]]) -> None:
    click.echo("")
    rows = [
        (rule_id, d["before"], d["after"], len(d["added"]), -len(d["removed"]), d["status"])
        for rule_id, d in diff.items()
    ]
    head, *lines = tables.render(COMPARE_COLUMNS, rows)
    click.echo(head)
    for line, d in zip(lines, diff.values(), strict=True):
        click.echo(line)
        for sign, keys in (("+", d["added"]), ("-", d["removed"])):
            for key in keys[:5]:
                click.echo(f"    {sign} {key}")
            if len(keys) > 5:
                click.echo(f"    {sign} ... {len(keys) - 5} more")
