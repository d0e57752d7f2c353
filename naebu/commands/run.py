"""`naebu run`: one cycle (`--once`) or the scheduled daemon."""

from __future__ import annotations

import sys

import click

from naebu.commands.common import UserError, parse_now, safe_url, with_config
from naebu.core.problems import ProblemsError
from naebu.settings.config import Config


@click.command()
@click.option("--once", is_flag=True, help="run one pull-evaluate-notify cycle and exit")
@click.option(
    "--now",
    "now_text",
    metavar="YYYY-MM-DD[THH:MM]",
    help="pretend the clock says this (tests, backtests)",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="daemon log format (default: [daemon] log_format, else text)",
)
@with_config
def run(config: Config, once: bool, now_text: str | None, log_format: str | None) -> None:
    """Pull the sources, evaluate the rules, store alerts and notify; repeat on the schedule.

    Without --once, naebu stays up: one process per store leads (a second one waits as a
    standby and takes over when the first dies), and SIGTERM/SIGINT stop it cleanly.
    """
    from naebu.pipeline import load_ruleset, run_once, summary_lines

    now = parse_now(now_text)
    if not once:
        from naebu.daemon.logs import configure_logging
        from naebu.daemon.service import Daemon

        configure_logging(log_format or config.daemon.log_format)
        try:
            load_ruleset(config)
        except ProblemsError as exc:
            # The daemon starts with the rules that load (an unattended restart must not
            # switch every control off) and reports the rest; say so on the way in too.
            for p in exc.problems:
                click.echo(f"warning: {p}", err=True)
        try:
            daemon = Daemon(config)
        except ValueError as exc:  # a store kind without a leader lock
            raise UserError(f"{config.path.name}: store.url: {exc}") from None
        except Exception as exc:  # the store is down: systemd will start us again
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise UserError(
                f"cannot open the store {safe_url(config.store_url)}: {first}"
            ) from None
        code = daemon.serve()
        from naebu.alerts.outbox import sends_hung

        if sends_hung():
            # A send given up at shutdown still blocks a thread on a hung server; the
            # interpreter would wait for it at exit. Everything is recorded: leave now.
            import logging
            import os

            logging.getLogger(__name__).warning("exiting without waiting for a hung send")
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)

    try:
        ruleset = load_ruleset(config)
    except ProblemsError as exc:
        raise UserError(exc.problems) from None
    from naebu.daemon.leader import leader_lock

    # A one-off run beside an active daemon would race with it: take the lock or refuse.
    try:
        lock = leader_lock(config.store_url)
    except ValueError:
        lock = None
    if lock is not None and not lock.try_acquire():
        raise UserError(
            f"another naebu run is active on this store (leader: {lock.holder() or 'unknown'}); "
            "stop it, or let it do the run"
        )
    try:
        summary = run_once(config, now=now, ruleset=ruleset)
    except ProblemsError as exc:  # e.g. [engine]: the Dask scheduler cannot be reached
        raise UserError(exc.problems) from None
    finally:
        if lock is not None:
            lock.release()
    for line in summary_lines(summary, {r.meta.id: r.meta for r in ruleset.rules}):
        click.echo(line)
    if not summary.ok:
        sys.exit(1)
