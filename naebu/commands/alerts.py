"""`naebu alerts ...`: look at and act on alerts.

``list`` and ``show`` read the store; ``ack``, ``correct``, ``explain``, ``false-positive``,
``approve``, ``return``, ``review`` and ``reassign`` take one step of the lifecycle (:mod:`naebu.alerts.lifecycle`) as the
official named by ``--as``. A refused step (unknown alert, not allowed, missing comment) is
one line in Korean and English and exit code 1. With ``[workflow] approval`` (the default)
an answer goes to the department manager (``approve`` or ``return``) before the audit office
reviews it (조치 -> 승인 -> 확인).
"""

from __future__ import annotations

import json
from datetime import date, datetime

import click
from sqlalchemy import select

from naebu.alerts.case_members import records_of
from naebu.alerts.deadline_text import deadline_text
from naebu.commands.alerts_show import alerts_show
from naebu.commands.common import UserError, parse_now, with_config
from naebu.core import text_tables as tables
from naebu.core.text_tables import Column
from naebu.settings.config import Config
from naebu.store import tables as store

#: ``alerts list``: one alert a row; department and assignee are often Korean (two columns
#: a syllable), which is why the table is padded by display width.
ALERT_COLUMNS = (
    Column("id", 6, ">", number=""),
    Column("rule", 24, before="  "),
    Column("severity", 8),
    Column("status", 10),
    Column("department", 12),
    Column("assignee", 8),
    Column("deadline", 30),
    Column("message", before="  "),
)

NOW_HELP = "pretend the clock says this (tests, backtests)"


@click.group()
def alerts() -> None:
    """Look at alerts and act on them (경보 조회와 처리)."""


@alerts.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--status", help="only alerts in this state (raised, acknowledged, ...)")
@click.option("--rule", "rule_id", help="only alerts of this rule")
@click.option("--limit", type=int, default=0, help="at most this many (0: all)")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def alerts_list(
    config: Config,
    fmt: str,
    status: str | None,
    rule_id: str | None,
    limit: int,
    now_text: str | None,
) -> None:
    """List alerts, newest first; deadlines with the days left or overdue as of today."""
    today = _today(now_text)
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
            if fmt == "json":
                members = records_of(conn, [int(r["id"]) for r in rows])
                for r in rows:  # the records of its case; an alert from before cases: its own
                    r["records"] = members.get(int(r["id"])) or [r["record_key"]]
    finally:
        engine.dispose()
    if fmt == "json":
        for r in rows:
            r.pop("message")
            for k in ("created_at", "deadline"):
                r[k] = r[k].isoformat(sep=" ") if r[k] else None
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    cells = [
        (
            r["id"],
            r["rule_id"],
            r["severity"],
            r["status"],
            r["department"] or "-",
            r["assignee"] or "-",
            deadline_text(r["deadline"], today, "en"),
            r["message"],
        )
        for r in rows
    ]
    for line in tables.render(ALERT_COLUMNS, cells):
        click.echo(line)
    click.echo(f"{len(rows)} alert(s)")


# -- acting on an alert ----------------------------------------------------------------------

AS_HELP = "employee id of the official taking the step (담당자 명부의 직원 번호)"


def _step(
    config: Config,
    alert_id: int,
    action: str,
    actor: str,
    comment: str | None,
    now_text: str | None,
    to: str | None = None,
    reason: str | None = None,
    recovered: float | None = None,
) -> None:
    """Take one lifecycle step and print what changed; a refused step is one line, exit 1."""
    from naebu.alerts.lifecycle import LifecycleError, act
    from naebu.commands.directory import stored_directory

    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    engine = store.connect(config.store_url)
    try:
        directory = stored_directory(config, engine, "naebu alerts")
        with engine.begin() as conn:
            out = act(
                conn,
                alert_id,
                action,
                actor,
                comment,
                now=now,
                to=to,
                directory=directory,
                reason=reason,
                recovered=recovered,
                approval=config.workflow.approval,
            )
    except LifecycleError as exc:
        raise UserError(f"naebu alerts: {exc}") from None
    finally:
        engine.dispose()
    line = f"alert #{out.alert_id}: {out.from_status} -> {out.to_status}"
    if out.action == "reassign":
        line += f", assigned to {out.assignee}"
    if out.to_status == "approved":
        line += ", awaiting the audit office's review"
    elif out.to_status in ("corrected", "explained", "false_positive") and config.workflow.approval:
        line += ", awaiting the department manager's approval"
    if out.action in ("reject", "return") and out.deadline is not None:
        line += f", new deadline {deadline_text(out.deadline, now, 'en')}"
    click.echo(f"{line} (audit entry #{out.trail_seq})")


def _acting(name: str, action: str, summary: str) -> None:
    @alerts.command(name, help=summary)
    @click.argument("alert_id", type=int)
    @click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
    @click.option("--comment", "-m", help="what was done or why (required for some steps)")
    @click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
    @with_config
    def command(
        config: Config, alert_id: int, actor: str, comment: str | None, now_text: str | None
    ) -> None:
        _step(config, alert_id, action, actor, comment, now_text)


_acting("ack", "acknowledge", "Acknowledge an alert (확인): you have seen it and will handle it.")
_acting("explain", "explain", "Explain why the item is in order (소명); needs --comment.")


@alerts.command("correct")
@click.argument("alert_id", type=int)
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("--comment", "-m", help="what was done")
@click.option(
    "--recovered", type=float, metavar="KRW", help="the amount recovered (환수액), if any"
)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def alerts_correct(
    config: Config,
    alert_id: int,
    actor: str,
    comment: str | None,
    recovered: float | None,
    now_text: str | None,
) -> None:
    """Report the item corrected (조치 완료), with the amount recovered if any."""
    _step(config, alert_id, "correct", actor, comment, now_text, recovered=recovered)


@alerts.command("false-positive")
@click.argument("alert_id", type=int)
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("--comment", "-m", help="why it is not a problem (required)")
@click.option(
    "--reason",
    metavar="CODE",
    help="reason code (사유 코드): data_error (자료 오류), normal_business (정상 업무), "
    "rule_unfit (규칙 기준 부적합), duplicate (중복 경보), other (기타, the default); "
    "the Korean label works too",
)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def alerts_false_positive(
    config: Config,
    alert_id: int,
    actor: str,
    comment: str | None,
    reason: str | None,
    now_text: str | None,
) -> None:
    """Report a false positive (오탐) with a reason code; needs --comment."""
    _step(config, alert_id, "false_positive", actor, comment, now_text, reason=reason)


@alerts.command("review")
@click.argument("alert_id", type=int)
@click.option("--accept/--reject", "accept", default=None, help="close the alert or send it back")
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("--comment", "-m", help="the review's comment (required to reject)")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def alerts_review(
    config: Config,
    alert_id: int,
    accept: bool | None,
    actor: str,
    comment: str | None,
    now_text: str | None,
) -> None:
    """Review how an alert was handled (감사 검토): --accept closes it, --reject sends it back."""
    if accept is None:
        raise UserError("naebu alerts review: give --accept or --reject (승인 또는 반려를 지정)")
    _step(config, alert_id, "accept" if accept else "reject", actor, comment, now_text)


@alerts.command("approve")
@click.argument("alert_id", type=int)
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("--comment", "-m", help="a note for the audit office (optional)")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def alerts_approve(
    config: Config, alert_id: int, actor: str, comment: str | None, now_text: str | None
) -> None:
    """Approve an official's answer as department manager (승인): on to the audit office."""
    _step(config, alert_id, "approve", actor, comment, now_text)


@alerts.command("return")
@click.argument("alert_id", type=int)
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("--comment", "-m", help="why the answer goes back (required)")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def alerts_return(
    config: Config, alert_id: int, actor: str, comment: str | None, now_text: str | None
) -> None:
    """Return an official's answer as department manager (승인 반려), with the reason; the
    official gets a new deadline."""
    _step(config, alert_id, "return", actor, comment, now_text)


@alerts.command("reassign")
@click.argument("alert_id", type=int)
@click.option("--to", "to", required=True, metavar="EMPLOYEE_ID", help="the new assignee")
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("--comment", "-m", help="why")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def alerts_reassign(
    config: Config, alert_id: int, to: str, actor: str, comment: str | None, now_text: str | None
) -> None:
    """Hand an open alert to another official (재배정)."""
    _step(config, alert_id, "reassign", actor, comment, now_text, to=to)


alerts.add_command(alerts_show)


def _today(now_text: str | None) -> date:
    """The day deadlines are counted from: ``--now``'s, else today's."""
    return (parse_now(now_text) or datetime.now()).date()
