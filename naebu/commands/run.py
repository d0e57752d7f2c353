"""`naebu run`: one cycle (`--once`) or the scheduled daemon."""

from __future__ import annotations

import sys

import click

from naebu.commands.common import UserError, parse_now, with_config
from naebu.config import Config
from naebu.problems import ProblemsError


@click.command()
@click.option("--once", is_flag=True, help="run one pull-evaluate-notify cycle and exit")
@click.option(
    "--now",
    "now_text",
    metavar="YYYY-MM-DD[THH:MM]",
    help="pretend the clock says this (tests, backtests)",
)
@with_config
def run(config: Config, once: bool, now_text: str | None) -> None:
    """Pull the sources, evaluate the rules, store alerts and notify; repeat on the schedule."""
    from naebu.pipeline import load_ruleset, run_once, summary_lines

    now = parse_now(now_text)
    try:
        ruleset = load_ruleset(config)
    except ProblemsError as exc:
        raise UserError(exc.problems) from None
    if once:
        summary = run_once(config, now=now, ruleset=ruleset)
        for line in summary_lines(summary, {r.meta.id: r.meta for r in ruleset.rules}):
            click.echo(line)
        if not summary.ok:
            sys.exit(1)
        return
    from naebu.scheduler import run_forever

    run_forever(config)
