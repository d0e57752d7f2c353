"""`naebu status`: what the daemon is doing, read from the store."""

from __future__ import annotations

import json

import click

from naebu.commands.common import with_config
from naebu.settings.config import Config


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="output format"
)
@with_config
def status(config: Config, fmt: str) -> None:
    """The leader, the last run (and, when it was partial, each rule it could not evaluate
    and why), the Dask cluster's reach, the last run per source and its lag, the outbox and
    alerts by state, and each rule's coverage: live, not evaluable or partial."""
    from naebu import coverage_report
    from naebu.daemon.leader import leader_lock
    from naebu.daemon.status import collect_status, status_lines
    from naebu.store import tables as store

    engine = store.connect(config.store_url)
    try:
        try:
            leader = leader_lock(config.store_url).holder()
        except ValueError:
            leader = None
        from naebu.pipeline.ledger import abandon_dead_runs

        # A run whose process is gone is not shown as running (the ledger is corrected).
        abandon_dead_runs(engine, holding_lock=False)
        info = collect_status(config, engine, leader)
        from naebu.commands.reach_check import stored_reach  # whom alerts reach (docs/alerts.md)

        info["reach_warnings"] = stored_reach(config, engine=engine)
        info["rules"] = coverage_report.status_json(config, engine)
    finally:
        engine.dispose()
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    for line in status_lines(info) + coverage_report.status_lines(info["rules"]):
        click.echo(line)
