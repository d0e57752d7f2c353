"""`naebu check`: validate the configuration, its sources, ``[web]`` and every rule file.

All in one pass: a mistake in the config does not hide the mistakes in the rules, and each
problem is printed at its file and line.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from naebu.commands.common import CONFIG_HELP, UserError, install_anchor, safe_url, shown
from naebu.core.problems import Problem
from naebu.core.tomllines import locate
from naebu.settings.config import Config, find_config, read_config


@click.command()
@click.option(
    "--strict", is_flag=True, help="exit 1 when a rule is not evaluable (no source feeds it)"
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--data",
    is_flag=True,
    help="also read each enabled source (first 10,000 rows): quarantined rows, unmapped values, empty columns",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="also list every rule with its lawful look-alikes (정상 업무와의 구별)",
)
def check(config_path: str | None, strict: bool, data: bool = False, verbose: bool = False) -> None:
    """Check the configuration and every rule file; report all problems at once.

    Then print each rule's coverage: live, not evaluable (missing inputs) or partial, and
    whom alerts could not reach. With --verbose, the rule catalog: each rule, the lawful
    practice that resembles it and how the rule tells them apart.
    """
    config, ruleset = _check_all(find_config(config_path))
    install_anchor(config)
    click.echo(
        f"OK: {len(ruleset.rules)} rule(s) in {len(ruleset.files)} file(s), "
        f"{len(config.sources)} source(s), store {safe_url(config.store_url)}"
    )
    from naebu.commands.check_government import government_lines
    from naebu.engine.params_dated import check_lines

    for line in [*government_lines(config.city, ruleset.rules),
                 *check_lines(ruleset.rules, date.today())]:  # fmt: skip
        click.echo(line)
    _report_coverage(config, ruleset, strict)
    from naebu.commands.reach_check import stored_reach  # whom alerts reach: warnings, exit 0

    for warning in stored_reach(config, [r.meta for r in ruleset.rules]):
        click.echo(f"warning: {warning}")
    if verbose:
        click.echo("\n".join(catalog_lines([r.meta for r in ruleset.rules])))
    if data:
        _data(config, ruleset)


def _check_all(path: Path) -> tuple[Config, Any]:
    """The config and its rules, when the config, its sources, its ``[web]`` and the rules
    hold no problem; else :class:`UserError` listing every problem of all four."""
    from naebu.connectors import check_source
    from naebu.engine.loader import load_rules
    from naebu.settings.web import web_problems

    config, problems = read_config(path)
    if config is None:  # not TOML: nothing further can be read
        raise UserError([*problems, f"{len(problems)} problem(s) found"])
    where, text = shown(config.path), config.path.read_text(encoding="utf-8")
    problems += web_problems(config)
    for source in config.sources.values():
        problems += locate(check_source(source, where), where, text)
    ruleset = load_rules(config.rule_paths, root=config.base_dir, government=config.city)
    problems += ruleset.problems
    problems += _check_examples(ruleset)
    if problems:
        raise UserError([*problems, f"{len(problems)} problem(s) found"])
    from naebu.engine.calendar_settings import apply

    apply(config.calendar)  # deadlines in the checks count the city's holidays, as load_config
    return config, ruleset


def catalog_lines(metas: list[Any]) -> list[str]:
    """The rule catalog as text: each rule's id and title, its basis and why it is a red
    flag, then its lawful look-alikes
    (정상 업무와의 구별), each with how the rule tells them apart and the examples that pin it."""
    lines: list[str] = []
    for meta in sorted(metas, key=lambda m: m.id):
        off = "" if meta.enabled else " (꺼짐)"
        lines.append(f"{meta.id} {meta.title}{off}")
        if meta.basis:
            lines.append(f"  근거: {meta.basis}")
        if meta.why:
            lines.append(f"  왜 문제인가: {meta.why}")
        if not meta.lookalikes:
            lines.append("  정상 업무와의 구별: 적혀 있지 않음")
            continue
        lines.append("  정상 업무와의 구별:")
        fires = {e.note: e.fires for e in meta.examples if e.note}
        for look in meta.lookalikes:
            lines.append(f"  - {look.practice}")
            lines.append(f"    {look.how}")
            if look.examples:
                pinned = ", ".join(
                    f'"{n}" ({"경보함" if fires.get(n) else "경보하지 않음"})'
                    for n in look.examples
                )
                lines.append(f"    확인 예시: {pinned}")
    return lines


def _check_examples(ruleset: Any) -> list[Problem]:
    from naebu.engine.examples import run_examples

    return run_examples(ruleset.rules)


def _data(config: Config, ruleset: Any) -> None:
    from naebu.commands.check_data import check_data

    lines, errors = check_data(config, rules=ruleset.rules)
    click.echo("\n".join(lines))
    if errors:
        raise UserError([*errors, f"{len(errors)} source(s) could not be read"])


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
