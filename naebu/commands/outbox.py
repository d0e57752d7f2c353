"""`naebu outbox ...`: the messages waiting to go out, and the ones stuck in ``sending``.

A message is ``sending`` from the moment it is claimed until its outcome is written. A process
that dies in between (a crash, a kill, a power cut) leaves it there: it may or may not have
gone out, so naebu never sends it again by itself; the admins are told once (an admin notice).
``list --stuck`` shows such messages: recipient, subject, when and by which process it was
claimed (and whether that process still runs), and where the channel's own log would show
whether it arrived. After checking that log, an operator records the decision with
``resolve``, which is audited:

    naebu outbox list --stuck
    naebu outbox resolve 42 --delivered --as ops-kim --reason "메일 서버 로그에서 수신 확인"
    naebu outbox resolve 43 --resend    --as ops-kim --reason "웹훅 로그에 없음: 재발송"

(``--sent`` and ``--retry`` are the older names of ``--delivered`` and ``--resend``.)

A message given up (``failed``, e.g. after a mail-server outage longer than
``[notify] give_up_hours``) is re-queued, audited, with ``retry --failed``:

    naebu outbox retry --failed --channel mail --as ops-kim --reason "메일 서버 복구"
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click
from sqlalchemy import Engine, func, select

from naebu.commands.common import UserError, parse_now, with_config
from naebu.core import text_tables as tables
from naebu.settings.config import Config
from naebu.store import tables as store

if TYPE_CHECKING:
    from naebu.alerts import Directory

STATUSES = ("pending", "retrying", "sending", "sent", "failed")


@click.group()
def outbox() -> None:
    """Messages waiting to go out (발송 대기열), and the ones stuck while being sent."""


@outbox.command("list")
@click.option("--stuck", is_flag=True, help="only messages left in sending (need a decision)")
@click.option("--status", "status", type=click.Choice(STATUSES), help="only this status")
@click.option("--limit", type=int, default=50, show_default=True, help="at most this many")
@with_config
def outbox_list(config: Config, stuck: bool, status: str | None, limit: int) -> None:
    """Outbox messages, newest first, with their status, attempts and last error."""
    engine = store.connect(config.store_url)
    try:
        if stuck:
            _list_stuck(config, engine)
            return
        t = store.outbox.c
        q = select(store.outbox).order_by(t.id.desc()).limit(limit)
        if status:
            q = q.where(t.status == status)
        with engine.connect() as conn:
            rows = list(conn.execute(q))
            counts: dict[str, int] = dict(
                conn.execute(select(t.status, func.count()).group_by(t.status)).all()  # type: ignore[arg-type]
            )
    finally:
        engine.dispose()
    for r in rows:
        note = f" - {r.last_error}" if r.last_error else ""
        click.echo(
            f"#{r.id} {tables.pad(r.status, 8)} {r.recipient} via {r.channel} "
            f"({r.attempts} attempt(s)): {r.subject}{note}"
        )
    click.echo(", ".join(f"{k} {counts[k]}" for k in STATUSES if k in counts) or "outbox empty")


def _list_stuck(config: Config, engine: Engine) -> None:
    """``list --stuck``: each stuck message with what an operator needs to decide."""
    from naebu.alerts.stuck import stuck_rows, where_to_look

    found = stuck_rows(engine)
    if not found:
        click.echo("no message is stuck in sending")
        return
    directory = _directory(config, engine)
    for m in found:
        official = directory.get(m.recipient)
        name = f"{official.display_name} ({m.recipient})" if official else m.recipient
        click.echo(f"#{m.id} to {name} via {m.channel}: {m.subject}")
        click.echo(f"    queued {m.created_at:%Y-%m-%d %H:%M}, claimed {m.sender}")
        click.echo(f"    look in {where_to_look(m, config.notify.for_delivery(), directory)}")
        if m.told:
            click.echo("    the admins were told")
    click.echo(
        f"{len(found)} message(s) stuck in sending: check the channel's log, then "
        "`naebu outbox resolve ID --delivered` (it arrived) or `--resend` (it did not)"
    )


def _directory(config: Config, engine: Engine) -> Directory:
    """The officials directory as of the last pull (names and addresses for the listing)."""
    from naebu.alerts import Directory
    from naebu.store import history

    with engine.connect() as conn:
        frame = history.load(conn, config.routing.directory)
    return Directory.from_frame(
        frame, fallback_roles=config.routing.fallback_roles, routing=config.routing
    )


@outbox.command("resolve")
@click.argument("outbox_id", type=int)
@click.option(
    "--delivered", "decision", flag_value="sent", help="it arrived: mark it sent, never resend"
)
@click.option("--resend", "decision", flag_value="retry", help="it did not: send it again")
@click.option("--sent", "decision", flag_value="sent", hidden=True)
@click.option("--retry", "decision", flag_value="retry", hidden=True)
@click.option("--as", "actor", required=True, metavar="NAME", help="who decides (audited)")
@click.option("--reason", required=True, help="what the channel's log showed (audited)")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help="pretend the clock says this")
@with_config
def outbox_resolve(
    config: Config,
    outbox_id: int,
    decision: str | None,
    actor: str,
    reason: str,
    now_text: str | None,
) -> None:
    """Decide what happened to a message stuck in sending (audited)."""
    from naebu.alerts.stuck import ResolveError, resolve_stuck

    if decision is None:
        raise UserError(
            "naebu outbox resolve: give --delivered (it arrived) or --resend (it did not)"
        )
    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    engine = store.connect(config.store_url)
    try:
        status = resolve_stuck(
            engine, outbox_id, sent=decision == "sent", actor=actor, reason=reason, now=now
        )
    except ResolveError as exc:
        raise UserError(f"naebu outbox: {exc}") from None
    finally:
        engine.dispose()
    what = "recorded as sent" if status == "sent" else "queued to be sent again"
    click.echo(f"outbox #{outbox_id} {what}; the decision is in the audit trail")


@outbox.command("retry")
@click.option("--failed", "failed", is_flag=True, help="re-queue the failed messages (required)")
@click.option("--channel", metavar="NAME", help="only the messages of this channel")
@click.option("--as", "actor", required=True, metavar="NAME", help="who decides (audited)")
@click.option("--reason", required=True, help="why they can go now (audited)")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help="pretend the clock says this")
@with_config
def outbox_retry(
    config: Config,
    failed: bool,
    channel: str | None,
    actor: str,
    reason: str,
    now_text: str | None,
) -> None:
    """Send failed messages again (재발송), e.g. after a long mail-server outage (audited)."""
    from naebu.alerts.stuck import ResolveError, retry_failed

    if not failed:
        raise UserError("naebu outbox retry: give --failed (the messages given up)")
    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    engine = store.connect(config.store_url)
    try:
        ids = retry_failed(engine, channel=channel, actor=actor, reason=reason, now=now)
    except ResolveError as exc:
        raise UserError(f"naebu outbox: {exc}") from None
    finally:
        engine.dispose()
    if not ids:
        where = f" via {channel}" if channel else ""
        click.echo(f"no failed message{where}; nothing re-queued")
        return
    click.echo(
        f"{len(ids)} failed message(s) queued to be sent again on the next pass; "
        "the decision is in the audit trail"
    )
