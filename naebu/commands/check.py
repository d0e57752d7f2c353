"""`naebu check`: validate the configuration and every rule file."""

from __future__ import annotations

from typing import Any

import click

from naebu.commands.common import UserError, safe_url, shown, with_config
from naebu.config import Config
from naebu.problems import Problem


@click.command()
@click.option(
    "--strict", is_flag=True, help="exit 1 when a rule is not evaluable (no source feeds it)"
)
@with_config
def check(config: Config, strict: bool) -> None:
    """Check the configuration and every rule file; report all problems at once.

    Then print each rule's coverage: live, not evaluable (missing inputs) or partial.
    """
    from connectors import check_source
    from engine.loader import load_rules

    problems: list[Problem] = []
    where = shown(config.path)
    for source in config.sources.values():
        problems += check_source(source, where)
    ruleset = load_rules(config.rule_paths, root=config.base_dir)
    problems += ruleset.problems
    problems += _check_examples(ruleset)
    if problems:
        raise UserError([*problems, f"{len(problems)} problem(s) found"])
    click.echo(
        f"OK: {len(ruleset.rules)} rule(s) in {len(ruleset.files)} file(s), "
        f"{len(config.sources)} source(s), store {safe_url(config.store_url)}"
    )
    _report_coverage(config, ruleset, strict)


def _check_examples(ruleset: Any) -> list[Problem]:
    from engine.examples import run_examples

    return run_examples(ruleset.rules)


def _report_coverage(config: Config, ruleset: Any, strict: bool) -> None:
    from naebu import coverage_report

    states = coverage_report.rule_states(config, ruleset.rules)
    for line in coverage_report.report_lines(states):
        click.echo(line)
    warning = coverage_report.warning_line(states)
    if warning and strict:
        raise UserError(warning.replace("warning: ", "", 1).split(" (--strict")[0] + " (--strict)")
    if warning:
        click.echo(warning)
