"""`naebu quality`: each rule's quality per month (규칙 품질), from the store.

Per rule and month of raising: alerts, answered, confirmed (closed after the audit office's
review), false positives with their rate and reasons, exclusions, alerts withdrawn after late
data (counted only there, not as raised or answered), and the amount at stake and
recovered where the rule's dataset has an amount (:mod:`naebu.alerts.quality`). ``--format json``
gives the same figures with the ids of the alerts they count.

Registered as ``naebu quality``; when a ``naebu rules`` group exists it belongs there as
``rules quality`` (the command object is :data:`rules_quality`).
"""

from __future__ import annotations

import json
from datetime import datetime

import click

from naebu.commands.common import UserError, parse_now, with_config
from naebu.core import text_tables as tables
from naebu.core.text_tables import Column
from naebu.settings.config import Config

#: Per rule and month; counts are printed as they are, amounts with separators (``_krw``).
QUALITY_COLUMNS = (
    Column("rule", 30),
    Column("month", 16),
    Column("alerts", 6, ">", number=""),
    Column("answered", 8, ">", number=""),
    Column("confirmed", 9, ">", number=""),
    Column("fp", 4, ">", number=""),
    Column("fp rate", 7, ">"),
    Column("excluded", 8, ">", number=""),
    Column("withdrawn", 9, ">", number=""),
    Column("exclusions", 10, ">", number=""),
    Column("at stake", 16, ">"),
    Column("recovered", 14, ">"),
    Column("fp reasons", before="  "),
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _krw(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _reasons(counts: dict[str, int]) -> str:
    from naebu.alerts.reasons import label

    return ", ".join(f"{label(k or None, 'en')} {v}" for k, v in sorted(counts.items())) or "-"


@click.command("quality")
@click.option(
    "--period",
    metavar="YYYY-MM[..YYYY-MM]",
    help="months of raising to count (default: the last 12 months)",
)
@click.option("--rule", "rule_ids", multiple=True, help="only this rule (repeatable)")
@click.option("--monthly/--totals", default=True, show_default=True, help="a row per month")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help="pretend the clock says this")
@with_config
def rules_quality(
    config: Config,
    period: str | None,
    rule_ids: tuple[str, ...],
    monthly: bool,
    fmt: str,
    now_text: str | None,
) -> None:
    """Rule quality per rule and month: alerts, answered, confirmed, false positives and
    their reasons, exclusions, amounts at stake and recovered."""
    from naebu.alerts.quality import Period, PeriodError, rule_quality
    from naebu.store import tables as store

    now = parse_now(now_text) or datetime.now()
    try:
        span = Period.parse(period) if period else Period.last_months(now)
    except PeriodError as exc:
        raise UserError(f"naebu quality: {exc}") from None
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            report = rule_quality(conn, span, rule_ids or None)
    finally:
        engine.dispose()
    rows = []
    for rule_id in report.rules():
        if monthly:
            rows += [
                q
                for q in report.by_month(rule_id)
                if q.alerts or q.excluded or q.withdrawn or q.exclusions
            ]
        rows.append(report.total(rule_id))
    if fmt == "json":
        out = {
            "period": str(span),
            "rows": [q.as_json() for q in rows],
            "total": report.total().as_json(),
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    cells = [
        (
            q.rule_id or "all rules",
            q.month,
            q.alerts,
            q.answered,
            q.confirmed,
            q.false_positive,
            _pct(q.fp_rate),
            q.excluded,
            q.withdrawn,
            q.exclusions,
            _krw(q.at_stake),
            _krw(q.recovered),
            _reasons(q.fp_reasons),
        )
        for q in [*rows, report.total()]
    ]
    for line in tables.render(QUALITY_COLUMNS, cells):
        click.echo(line)
