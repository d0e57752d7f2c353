"""`naebu suppress ...`: add, list and remove suppressions (경보 예외 처리).

A suppression stops one rule from notifying about one record (``--record KEY``) or about
every finding whose column has a value (``--where vendor_id=V10023``), until it expires.
Adding and removing are audit-trail steps, and the audit office is told in its next digest.
Adding hides the open alerts the suppression covers (``--dry-run`` lists them, saving
nothing); what is typed is checked as the inbox's form checks it
(:mod:`naebu.alerts.suppression_check`, :mod:`naebu.alerts.suppression_preview`).
"""

from __future__ import annotations

import json
from datetime import datetime

import click

from naebu.commands.common import UserError, parse_now, with_config
from naebu.core import text_tables as tables
from naebu.core.problems import ProblemsError
from naebu.core.text_tables import Column
from naebu.engine.rule import RuleMeta
from naebu.settings.config import Config
from naebu.store import tables as store

#: ``suppress list``: one suppression a row.
SUPPRESSION_COLUMNS = (
    Column("id", 4, ">", before="", number=""),
    Column("rule", 24, before="  "),
    Column("state", 8),
    Column("expires", 10),
    Column("author", 8),
    Column("target / reason"),
)

AS_HELP = "employee id of the 감사자 or 부서관리자 doing it"
NOW_HELP = "pretend the clock says this (tests, backtests)"


@click.group()
def suppress() -> None:
    """Suppress alerts of a rule for a record or a value, with a reason and an expiry."""


def _rules(config: Config) -> dict[str, RuleMeta]:
    """The rules in force, by id (a rule set with problems is the user's to fix first)."""
    from naebu.pipeline import load_ruleset

    try:
        return {r.meta.id: r.meta for r in load_ruleset(config).rules}
    except ProblemsError as exc:
        raise UserError(exc.problems) from None


@suppress.command("add")
@click.option("--rule", "rule_id", required=True, help="the rule id")
@click.option("--record", "record_key", help="suppress this record (its key)")
@click.option("--where", "where", metavar="COLUMN=VALUE", help="suppress findings with this value")
@click.option("--reason", required=True, help="why (사유); shown to the audit office")
@click.option(
    "--code",
    "reason_code",
    metavar="CODE",
    help="reason code (사유 코드): data_error, normal_business, rule_unfit, duplicate, other "
    "(the default), or its Korean label",
)
@click.option("--until", "until", required=True, metavar="YYYY-MM-DD", help="expiry (만료일)")
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option(
    "--dry-run",
    is_flag=True,
    help="check it and list the open alerts it would hide (미리보기); save nothing",
)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def suppress_add(
    config: Config,
    rule_id: str,
    record_key: str | None,
    where: str | None,
    reason: str,
    reason_code: str | None,
    until: str,
    actor: str,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Add a suppression (an expiry date means until the end of that day).

    The open alerts it covers (raised, acknowledged or rejected: nobody has answered them)
    are hidden with it, each with a trail entry; ``--dry-run`` lists them and saves nothing.
    The checks and their messages are those of the inbox's form
    (naebu.alerts.suppression_check).
    """
    from naebu.alerts.suppression_check import SuppressionForm, check
    from naebu.alerts.suppression_preview import describe, save, target_text, would_hide
    from naebu.alerts.suppressions import SuppressionError
    from naebu.commands.directory import stored_directory

    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    form = SuppressionForm.from_where(
        where,
        rule=rule_id,
        record_key=record_key or "",
        reason=reason,
        reason_code=reason_code or "",
        until=until,
    )
    rules = _rules(config)
    engine = store.connect(config.store_url)
    try:
        directory = stored_directory(config, engine, "naebu suppress")
        request = check(form, rules=rules, author=actor, now=now, directory=directory)
        if dry_run:
            with engine.connect() as conn:
                rows = would_hide(conn, request)
            hidden = describe(rows, language="ko", directory=directory, rules=rules, mask=True)
            target = target_text(request, rules[request.rule_id].dataset, "ko")
            click.echo(
                f"{request.rule_id} {target} ({request.target}), "
                f"{request.expires_at:%Y-%m-%d %H:%M}까지: "
                f"처리 중인 경보 {len(hidden)}건을 숨깁니다 (hides {len(hidden)} open alert(s))"
            )
            for item in hidden:
                click.echo("  " + item.line())
            click.echo("저장하지 않았습니다 (--dry-run: nothing saved)")
            return
        with engine.begin() as conn:
            saved = save(conn, request, now=now, directory=directory)
    except SuppressionError as exc:
        raise UserError(f"naebu suppress: {exc}") from None
    finally:
        engine.dispose()
    click.echo(
        f"suppression #{saved.suppression_id}: {request.rule_id} {request.target} "
        f"until {request.expires_at:%Y-%m-%d %H:%M}"
    )
    if saved.hidden:
        ids = ", ".join(f"#{i}" for i in saved.hidden)
        click.echo(f"처리 중인 경보 {len(saved.hidden)}건을 숨겼습니다 (hid {ids})")


@suppress.command("list")
@click.option("--all", "show_all", is_flag=True, help="include removed suppressions")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def suppress_list(config: Config, show_all: bool, fmt: str, now_text: str | None) -> None:
    """List suppressions, newest first, with their state (active, expired, removed)."""
    from naebu.alerts.suppressions import list_suppressions

    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            found = list_suppressions(conn, include_inactive=show_all)
    finally:
        engine.dispose()

    def state(s: object) -> str:
        if getattr(s, "removed_at", None) is not None:
            return "removed"
        return "active" if s.active_at(now) else "expired"  # type: ignore[attr-defined]

    if fmt == "json":
        rows = [
            {
                "id": s.id,
                "rule_id": s.rule_id,
                "target": s.target,
                "reason": s.reason,
                "reason_code": s.reason_code,
                "author": s.author,
                "created_at": s.created_at.isoformat(sep=" "),
                "expires_at": s.expires_at.isoformat(sep=" "),
                "state": state(s),
            }
            for s in found
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    cells = [
        (
            s.id,
            s.rule_id,
            state(s),
            f"{s.expires_at:%Y-%m-%d}",
            s.author,
            f"{s.target} / {s.reason}",
        )
        for s in found
    ]
    for line in tables.render(SUPPRESSION_COLUMNS, cells):
        click.echo(line)
    click.echo(f"{len(found)} suppression(s)")


@suppress.command("remove")
@click.argument("suppression_id", type=int)
@click.option("--reason", required=True, help="why it ends now")
@click.option("--as", "actor", required=True, metavar="EMPLOYEE_ID", help=AS_HELP)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def suppress_remove(
    config: Config, suppression_id: int, reason: str, actor: str, now_text: str | None
) -> None:
    """End a suppression now; findings it hid are raised when next seen."""
    from naebu.alerts.suppressions import SuppressionError, remove_suppression
    from naebu.commands.directory import stored_directory

    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    engine = store.connect(config.store_url)
    try:
        directory = stored_directory(config, engine, "naebu suppress")
        with engine.begin() as conn:
            removed = remove_suppression(
                conn, suppression_id, actor=actor, reason=reason, now=now, directory=directory
            )
    except SuppressionError as exc:
        raise UserError(f"naebu suppress: {exc}") from None
    finally:
        engine.dispose()
    click.echo(f"suppression #{removed.id} removed ({removed.rule_id} {removed.target})")
