"""`naebu alerts ...`: look at and act on alerts."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from naebu import store
from naebu.commands.common import with_config
from naebu.config import Config


@click.group()
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
