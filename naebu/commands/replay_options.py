"""Options and helpers shared by ``naebu test-rule`` and ``naebu backtest``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from naebu.commands.common import UserError, parse_now
from naebu.engine.loader import RuleSet, load_rules
from naebu.settings.config import Config


def parse_day(text: str | None, option: str) -> datetime | None:
    """``--since`` / ``--until`` text (a date or date-time) as a datetime."""
    try:
        return parse_now(text)
    except click.BadParameter:
        raise click.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def load_ruleset(config: Config, rules_dir: str | None, *, strict: bool) -> RuleSet:
    """The config's rules, or those under ``rules_dir``; with ``strict``, any problem stops."""
    paths = [Path(rules_dir).resolve()] if rules_dir else config.rule_paths
    ruleset = load_rules(paths, root=config.base_dir, government=config.city)
    if strict and ruleset.problems:
        raise UserError([*ruleset.problems, f"{len(ruleset.problems)} problem(s) found"])
    return ruleset
