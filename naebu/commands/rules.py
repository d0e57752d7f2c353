"""``naebu rules``: propose a rule change, simulate it on past answers, approve it.

Exit codes: 0 done; 1 refused (a user's mistake or a step not allowed, one line in Korean and
English, no traceback); 2 bad options.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from naebu import rule_drafts, rule_simulation
from naebu.commands.common import UserError, parse_now, with_config
from naebu.commands.replay_options import parse_day
from naebu.core import text_tables as tables
from naebu.replay import period_bounds
from naebu.settings.config import Config
from naebu.store import tables as store

AS_HELP = "employee id of the official taking the step (담당자 명부의 직원 번호)"


def _now(text: str | None) -> datetime:
    return parse_now(text) or datetime.now().replace(microsecond=0)


def _refused(exc: rule_drafts.DraftError) -> UserError:
    return UserError(f"naebu rules: {exc}")


@click.group()
def rules() -> None:
    """Rule changes: draft -> simulate -> approve -> live (규칙 변경 승인)."""


@rules.command("propose")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--replaces",
    required=True,
    metavar="TARGET",
    help="the rule file or folder the draft replaces (e.g. rules/cards/business_card.toml)",
)
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("-m", "--message", "reason", required=True, help="why the rule changes")
@click.option("--now", "now_text", help="record the step at this time (default: now)")
@with_config
def rules_propose(
    config: Config, path: Path, replaces: str, actor: str, reason: str, now_text: str | None
) -> None:
    """Propose PATH (an edited copy of a rule file or folder) as a draft of TARGET."""
    from naebu.commands.directory import stored_directory

    engine = store.connect(config.store_url)
    try:
        directory = stored_directory(config, engine, "naebu rules")
        draft = rule_drafts.propose(
            engine,
            config,
            path,
            replaces,
            actor=actor,
            reason=reason,
            now=_now(now_text),
            directory=directory,
        )
    except rule_drafts.DraftError as exc:
        raise _refused(exc) from None
    finally:
        engine.dispose()
    click.echo(f"rule draft #{draft.id} of {draft.target} ({draft.content_hash[:12]})")
    for rule_id, v in draft.rules.items():
        click.echo(f"  {rule_id}: {(v['old'] or 'new')[:12]} -> {(v['new'] or 'removed')[:12]}")
    click.echo(f"next: naebu rules simulate {draft.id}")


@rules.command("simulate")
@click.argument("draft_id", type=int)
@click.option("--since", help="first day of the period (event time), YYYY-MM-DD")
@click.option("--until", help="last day of the period, YYYY-MM-DD")
@click.option("--as", "actor", metavar="EMPLOYEE_ID", help="who simulates (default: system)")
@click.option("--now", "now_text", help="judge absences and record the step as of this time")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@with_config
def rules_simulate(
    config: Config,
    draft_id: int,
    since: str | None,
    until: str | None,
    actor: str | None,
    now_text: str | None,
    fmt: str,
) -> None:
    """Replay draft DRAFT_ID over the store's history against the rules in force: per rule
    the alerts it would add and remove, the confirmed findings it would lose, the false
    positives it would remove, and precision before and after. The result is kept with the
    draft (an approval needs it)."""
    from naebu.commands.directory import stored_directory

    start, end = period_bounds(parse_day(since, "--since"), parse_day(until, "--until"))
    now = _now(now_text)
    engine = store.connect(config.store_url)
    seq = None
    try:
        with engine.connect() as conn:
            draft = rule_drafts.get(conn, draft_id)
        if actor:
            rule_drafts.check_actor(stored_directory(config, engine, "naebu rules"), actor)
        result = rule_simulation.simulate(config, draft, since=start, until=end, now=now)
        if draft.status == "draft":  # what was approved keeps the simulation it was shown
            seq = rule_drafts.attach_simulation(
                engine, draft, result, actor=actor or "system", now=now
            )
    except rule_drafts.DraftError as exc:
        raise _refused(exc) from None
    finally:
        engine.dispose()
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for line in rule_simulation.text(result):
        click.echo(line)
    if seq is None:
        click.echo(
            f"draft #{draft_id} is {draft.status}: the simulation it was approved with is kept"
        )
    else:
        click.echo(f"kept with draft #{draft_id} (audit entry #{seq})")


@rules.command("approve")
@click.argument("draft_id", type=int)
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("-m", "--message", "reason", required=True, help="why the change is approved")
@click.option("--now", "now_text", help="record the step at this time (default: now)")
@with_config
def rules_approve(
    config: Config, draft_id: int, actor: str, reason: str, now_text: str | None
) -> None:
    """Approve draft DRAFT_ID (a 감사자, not its proposer, after a simulation): its files are
    installed in the rule folder and the daemon runs them from its next run."""
    from naebu.commands.directory import stored_directory

    engine = store.connect(config.store_url)
    try:
        directory = stored_directory(config, engine, "naebu rules")
        draft = rule_drafts.approve(
            engine,
            config,
            draft_id,
            actor=actor,
            reason=reason,
            now=_now(now_text),
            directory=directory,
        )
    except rule_drafts.DraftError as exc:
        raise _refused(exc) from None
    finally:
        engine.dispose()
    click.echo(f"rule draft #{draft.id} approved by {actor}; installed in {draft.target}")


@rules.command("drafts")
@with_config
def rules_drafts(config: Config) -> None:
    """List the rule drafts, newest first."""
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            found = rule_drafts.all_drafts(conn)
    finally:
        engine.dispose()
    for d in found:
        simulated = "simulated" if d.simulation else "not simulated"
        click.echo(
            f"#{d.id} {tables.pad(d.status, 9)} {d.target} by {d.proposed_by} ({simulated}): "
            f"{', '.join(d.rules)} - {d.reason}"
        )
    click.echo(f"{len(found)} draft(s)")


# `naebu rules quality`: each rule's alerts, answers and amounts (alerts/quality.py).
from naebu.commands.rules_quality import rules_quality  # noqa: E402

rules.add_command(rules_quality)
