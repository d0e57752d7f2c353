"""``naebu export``: alerts and their evidence to CSV or XLSX for the audit office."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select

from naebu.commands.common import UserError, parse_now, rule_metas, with_config
from naebu.exporting import write_csv, write_xlsx
from naebu.settings.config import Config
from naebu.store import tables as store


@click.command()
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="file to write: .csv or .xlsx",
)
@click.option("--status", help="only alerts in this state")
@click.option("--rule", "rule_id", help="only alerts of this rule")
@click.option("--department", help="only alerts of this department")
@click.option(
    "--now",
    "now_text",
    metavar="YYYY-MM-DD[THH:MM]",
    help="count the days left to each deadline from this day (default: today)",
)
@with_config
def export(
    config: Config,
    out_path: str,
    status: str | None,
    rule_id: str | None,
    department: str | None,
    now_text: str | None,
) -> None:
    """Export alerts with their evidence and their rule's basis and why (근거, 왜 문제인가);
    cells that a spreadsheet would run as formulas are neutralized. ``deadline_text`` gives
    each deadline with its weekday and days left."""
    path = Path(out_path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(
            f"{out_path}: unknown export format {suffix or '(none)'!r} - use a .csv or .xlsx file name"
        )
    a = store.alerts.c
    query = select(
        a.id, a.rule_id, a.title, a.severity, a.status, a.department, a.assignee,
        a.dataset, a.record_key, a.created_at, a.deadline, a.message, a.evidence,
    ).order_by(a.id)  # fmt: skip
    for column, value in (("status", status), ("rule_id", rule_id), ("department", department)):
        if value:
            query = query.where(a[column] == value)
    from naebu.commands.directory import stored_directory

    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            alerts = [dict(r._mapping) for r in conn.execute(query)]
        # Officials in the evidence by name (by employee id before a run has stored them).
        directory = stored_directory(config, engine, "naebu export", required=False)
    finally:
        engine.dispose()
    today = (parse_now(now_text) or datetime.now()).date()
    writer = write_xlsx if suffix == ".xlsx" else write_csv
    count = writer(
        path,
        alerts,
        today,
        config.notify.language,
        rules=rule_metas(config),
        directory=directory,
    )
    click.echo(f"{count} alert(s) written to {out_path}")
