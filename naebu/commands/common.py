"""What every command shares: ``--config``, user errors without tracebacks, small parsers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from naebu.core.problems import Problem, ProblemsError
from naebu.settings.config import Config, find_config, load_config

if TYPE_CHECKING:
    from naebu.engine.rule import RuleMeta

CONFIG_HELP = "configuration file (default: $NAEBU_CONFIG or ./config.toml)"


class UserError(click.ClickException):
    """A user's mistake: printed as located lines, exit code 1, no traceback."""

    exit_code = 1

    def __init__(self, problems: Iterable[Problem | str] | str) -> None:
        lines = [problems] if isinstance(problems, str) else [str(p) for p in problems]
        super().__init__("\n".join(lines))

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


def with_config(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--config PATH`` to a command and pass the loaded :class:`Config` as ``config``."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
    @functools.wraps(func)
    def wrapper(config_path: str | None, **kwargs: Any) -> Any:
        try:
            config = load_config(find_config(config_path))
        except ProblemsError as exc:
            raise UserError(exc.problems) from None
        install_anchor(config)
        return func(config=config, **kwargs)

    return wrapper


def install_anchor(config: Config) -> None:
    """Sign what this process appends to the audit trail with the configured key, and
    publish heads to the configured file (alerts/anchor.py); a key that cannot be read is the
    user's error, before anything is written unsigned."""
    from naebu.alerts.anchor import AnchorError, install

    try:
        install(config.audit.anchor())
    except AnchorError as exc:
        raise UserError(f"{config.path.name}: audit: {exc}") from None


def parse_now(text: str | None) -> datetime | None:
    """``--now`` text as a datetime (None when not given)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date or date-time", param_hint="--now"
        ) from None


def shown(path: Path) -> str:
    """A path as the user should see it: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def safe_url(url: str) -> str:
    """A database URL with its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


def rule_metas(config: Config) -> dict[str, RuleMeta]:
    """Rule id -> :class:`naebu.engine.rule.RuleMeta` of the configured rules that load, to explain
    alerts (basis, why). A rule file with a problem hides only its own rules here: ``naebu
    check`` reports it; an alert of a rule that does not load is shown without explanation."""
    from naebu.engine.loader import load_rules

    ruleset = load_rules(config.rule_paths, root=config.base_dir, government=config.city)
    return {r.meta.id: r.meta for r in ruleset.rules}
