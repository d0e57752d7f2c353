"""``naebu test-rule``: a dry run of one rule. Stores nothing, notifies nobody."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from naebu import coverage_report, replay
from naebu.commands.common import UserError, parse_now, with_config
from naebu.commands.replay_options import load_ruleset, parse_day
from naebu.core import datasets
from naebu.core.problems import did_you_mean
from naebu.engine import coverage
from naebu.engine.registry import RuleType
from naebu.engine.template import render_evidence
from naebu.settings.config import Config


@click.command("test-rule")
@click.argument("rule_id")
@click.option("--source", "source_name", help="pull this configured source afresh (read only)")
@click.option(
    "--data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False),
    help="a CSV/XLSX file of canonical columns (with --source: mapped like that source)",
)
@click.option("--since", help="first day of the period (event time)")
@click.option("--until", help="last day of the period (event time)")
@click.option("--now", "now_text", help="judge windows and absences as of this time")
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False),
    help="rule folder to use instead of the config's",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--limit", type=int, default=50, show_default=True, help="findings to print in a table (0: all)"
)
@with_config
def test_rule(
    config: Config,
    rule_id: str,
    source_name: str | None,
    data_file: str | None,
    since: str | None,
    until: str | None,
    now_text: str | None,
    rules_dir: str | None,
    fmt: str,
    limit: int,
) -> None:
    """Dry-run RULE_ID and print the records it matches, with their evidence.

    Data: the records earlier runs have read (default), one source pulled afresh (--source),
    or a file (--data). Exit code 0 whether or not anything matched.
    """
    ruleset = load_ruleset(config, rules_dir, strict=False)
    rules = ruleset.by_id()
    rule = rules.get(rule_id)
    if rule is None:
        mine = [p for p in ruleset.problems if p.rule_id == rule_id]
        if mine:
            raise UserError([*mine, f"rule {rule_id} has {len(mine)} problem(s)"])
        raise UserError(
            f"unknown rule {rule_id!r}"
            + (f" - {hint}" if (hint := did_you_mean(rule_id, rules)) else "")
        )
    if source_name and source_name not in config.sources:
        hint = did_you_mean(source_name, config.sources) or "sources: " + ", ".join(config.sources)
        raise UserError(f"unknown source {source_name!r} - {hint}")
    # What the config's sources feed decides what runs (a bare --data file: its own columns)
    state = None
    if source_name or not data_file:
        state = coverage_report.rule_states(config, [rule]).get(rule_id)
    if state is not None and not state.evaluable:
        _not_evaluable(rule, state, fmt)
        return
    if state is not None and state.uses_fallback and rule.fallback is not None:
        rule = rule.fallback
    start, end = replay.period_bounds(parse_day(since, "--since"), parse_day(until, "--until"))
    now = parse_now(now_text) or end or datetime.now().replace(microsecond=0)

    others = [d for d in rule.datasets if d != rule.meta.dataset]
    if data_file:
        mapping = config.sources[source_name] if source_name else None
        frames = replay.from_file(Path(data_file), rule.meta.dataset, mapping)
    elif source_name:
        source = config.sources[source_name]
        if source.dataset != rule.meta.dataset:
            raise UserError(
                f"source {source_name} feeds {source.dataset}, but rule {rule_id} reads {rule.meta.dataset}"
            )
        frames = replay.from_sources(config, [], only=source_name)
    else:
        frames = replay.from_store(config, [rule.meta.dataset])
        if frames.get(rule.meta.dataset).empty:
            raise UserError(
                f"no {rule.meta.dataset} records in the store - run `naebu run --once` first, "
                "or test against --source NAME or --data FILE"
            )
    if data_file and state is None and rule.fallback is not None:
        # A bare file is judged by its own columns: an optional input it lacks (empty in every
        # row) runs the rule's fallback, as an unmapped column does in a run.
        own = frames.get(rule.meta.dataset)
        if any(
            d == rule.meta.dataset and (c not in own.columns or own[c].isna().all())
            for d, c in rule.meta.optional
        ):
            rule = rule.fallback
    if others:  # joined and correlated datasets come from the store
        extra = replay.from_store(config, others)
        frames.by_dataset.update(
            {k: v for k, v in extra.by_dataset.items() if k not in frames.by_dataset}
        )

    findings = replay.evaluate(rule, frames, since=start, until=end, now=now)
    given = {name: frames.get(name) for name in rule.datasets}
    empty = [] if findings else coverage_report.empty_inputs(rule, given)
    if fmt == "json":
        click.echo(json.dumps({"rule_id": rule_id, "data": frames.origin, "rows": frames.rows(),
                               "quarantined": frames.quarantined, "findings": replay.finding_rows(findings),
                               "coverage": state.as_json() if state else None, "empty_inputs": empty},
                              ensure_ascii=False, indent=2))  # fmt: skip
        return
    meta = rule.meta
    click.echo(f"{meta.id}  {meta.title} ({meta.dataset}, {meta.type}, {meta.severity})")
    period = f"{since or '...'} .. {until or '...'}"
    click.echo(
        f"data: {frames.origin} ({replay.summary_by(frames.rows())}); period {period}; as of {now:%Y-%m-%d %H:%M}"
    )
    if frames.quarantined:
        click.echo(f"rows that could not be read: {frames.quarantined:,}")
    if state is not None and not state.live:
        click.echo(coverage_report.state_text(state))
    click.echo("")
    types = {c.name: c.type for c in datasets.get(meta.dataset).columns}
    shown = findings if limit == 0 else findings[:limit]
    for i, f in enumerate(shown, 1):
        when = f.event_time.strftime("%Y-%m-%d") if f.event_time else "-"
        click.echo(
            f"{i:>4}. {f.record_key}  {when}  {f.department or '-'}  {f.official_id or '-'}  {f.message}"
        )
        evidence = render_evidence(f.evidence, types)
        click.echo("      " + ", ".join(f"{k}={v}" for k, v in evidence.items()))
    if len(shown) < len(findings):
        click.echo(f"      ... {len(findings) - len(shown)} more (use --limit 0 or --format json)")
    click.echo(f"\n{len(findings)} finding(s); nothing stored, nobody notified")
    for reason in empty:
        click.echo(f"0 findings: {reason} - the rule never fires without it")


def _not_evaluable(rule: RuleType, state: coverage.Coverage, fmt: str) -> None:
    """What test-rule says of a rule no configured source can feed: it is not run."""
    if fmt == "json":
        click.echo(json.dumps({"rule_id": rule.meta.id, "coverage": state.as_json(), "findings": []},
                              ensure_ascii=False, indent=2))  # fmt: skip
        return
    meta = rule.meta
    click.echo(f"{meta.id}  {meta.title} ({meta.dataset}, {meta.type}, {meta.severity})")
    click.echo(f"{coverage_report.state_text(state)}: the rule is not run and raises nothing")
    click.echo(f"hint: {state.hint}")
