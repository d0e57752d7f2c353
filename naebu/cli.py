"""The ``naebu`` command line.

Exit codes: 0 success; 1 a problem in the user's files or data (config, rule files, a source
that failed), printed one line each, never a traceback; 2 wrong usage of the command.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from naebu import store
from naebu.config import Config, find_config, load_config
from naebu.problems import Problem, ProblemsError

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
        return func(config=config, **kwargs)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="log progress to stderr")
@click.version_option(package_name="naebu")
def main(verbose: bool) -> None:
    """naebu (내부통제): rules-based internal-control alerts for Korean local governments."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="folder to write the demo city into [default: demo-city beside the config file]",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="random seed (same seed, same city)"
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="multiplies the record volumes",
)
def demo(out: str | None, config_path: str | None, seed: int, scale: float) -> None:
    """Write the synthetic demo city: a SQLite database, a card-company file drop and labels.csv.

    The default config reads the demo from ``demo-city/`` beside itself, so that is where it
    is written unless ``--out`` says otherwise (the config need not exist yet).
    """
    from naebu.demo import generate

    if out is None:
        out = str(find_config(config_path).parent / "demo-city")
    summary = generate(Path(out), seed=seed, scale=scale)
    click.echo(f"demo city written to {out} (seed {seed}, scale {scale:g})")
    for line in summary.lines():
        click.echo(f"  {line}")


@main.command()
@with_config
def check(config: Config) -> None:
    """Check the configuration and every rule file; report all problems at once."""
    from connectors import check_source
    from engine.loader import load_rules

    problems: list[Problem] = []
    shown = _shown(config.path)
    for source in config.sources.values():
        problems += check_source(source, shown)
    ruleset = load_rules(config.rule_paths, root=config.base_dir)
    problems += ruleset.problems
    problems += _check_examples(ruleset)
    if problems:
        raise UserError([*problems, f"{len(problems)} problem(s) found"])
    click.echo(
        f"OK: {len(ruleset.rules)} rule(s) in {len(ruleset.files)} file(s), "
        f"{len(config.sources)} source(s), store {_safe_url(config.store_url)}"
    )


def _check_examples(ruleset: Any) -> list[Problem]:
    from engine.examples import run_examples

    return run_examples(ruleset.rules)


@main.command()
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

    now = _parse_now(now_text)
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


@main.group()
def alerts() -> None:
    """Look at the alerts in the store."""


@alerts.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--status", help="only alerts in this state (raised, acknowledged, ...)")
@click.option("--rule", "rule_id", help="only alerts of this rule")
@click.option("--limit", type=int, default=0, help="at most this many (0: all)")
@with_config
def alerts_list(
    config: Config, fmt: str, status: str | None, rule_id: str | None, limit: int
) -> None:
    """List alerts, newest first."""
    a = store.alerts.c
    query = select(
        a.id,
        a.rule_id,
        a.dataset,
        a.record_key,
        a.severity,
        a.status,
        a.department,
        a.assignee,
        a.created_at,
        a.deadline,
        a.message,
    ).order_by(a.id.desc())
    if status:
        query = query.where(a.status == status)
    if rule_id:
        query = query.where(a.rule_id == rule_id)
    if limit:
        query = query.limit(limit)
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
    finally:
        engine.dispose()
    if fmt == "json":
        for r in rows:
            r.pop("message")
            for k in ("created_at", "deadline"):
                r[k] = r[k].isoformat(sep=" ") if r[k] else None
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{'id':>6}  {'rule':<24} {'severity':<8} {'status':<10} {'department':<12} {'assignee':<8} {'deadline':<10}  message"
    )
    for r in rows:
        deadline = r["deadline"].strftime("%Y-%m-%d") if r["deadline"] else "-"
        click.echo(
            f"{r['id']:>6}  {r['rule_id']:<24} {r['severity']:<8} {r['status']:<10} "
            f"{(r['department'] or '-'):<12} {(r['assignee'] or '-'):<8} {deadline:<10}  {r['message']}"
        )
    click.echo(f"{len(rows)} alert(s)")


def _parse_now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date or date-time", param_hint="--now"
        ) from None


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


if __name__ == "__main__":  # pragma: no cover
    main()
