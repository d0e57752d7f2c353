"""`naebu outbox ...`: the messages waiting to go out, and the ones stuck in ``sending``.

A message is ``sending`` from the moment it is claimed until its outcome is written. A process
that dies in between (a crash, a kill, a power cut) leaves it there: it may or may not have
gone out, so naebu never sends it again by itself. ``list --stuck`` shows such messages and
whether the process that claimed them still runs; after checking the mail server's or the
webhook's log, an operator records the decision with ``resolve``, which is audited:

    naebu outbox list --stuck
    naebu outbox resolve 42 --sent  --as ops-kim --reason "메일 서버 로그에서 수신 확인"
    naebu outbox resolve 43 --retry --as ops-kim --reason "웹훅 로그에 없음: 재발송"

A message given up (``failed``, e.g. after a mail-server outage longer than
``[notify] give_up_hours``) is re-queued, audited, with ``retry --failed``:

    naebu outbox retry --failed --channel mail --as ops-kim --reason "메일 서버 복구"
"""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import func, select

from naebu import store
from naebu.commands.common import UserError, parse_now, with_config
from naebu.config import Config

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
    from alerts.stuck import stuck_rows

    engine = store.connect(config.store_url)
    try:
        if stuck:
            found = stuck_rows(engine)
            if not found:
                click.echo("no message is stuck in sending")
                return
            for m in found:
                click.echo(f"#{m.id} {m.recipient} via {m.channel}: {m.subject}")
                click.echo(f"    queued {m.created_at:%Y-%m-%d %H:%M}, {m.sender}")
            click.echo(
                f"{len(found)} message(s) stuck in sending: check the channel's log, then "
                "`naebu outbox resolve ID --sent` (it arrived) or `--retry` (it did not)"
            )
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
            f"#{r.id} {r.status:<8} {r.recipient} via {r.channel} "
            f"({r.attempts} attempt(s)): {r.subject}{note}"
        )
    click.echo(", ".join(f"{k} {counts[k]}" for k in STATUSES if k in counts) or "outbox empty")


@outbox.command("resolve")
@click.argument("outbox_id", type=int)
@click.option("--sent", "decision", flag_value="sent", help="it arrived: never send it again")
@click.option("--retry", "decision", flag_value="retry", help="it did not: send it again")
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
    from alerts.stuck import ResolveError, resolve_stuck

    if decision is None:
        raise UserError("naebu outbox resolve: give --sent (it arrived) or --retry (it did not)")
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
    from alerts.stuck import ResolveError, retry_failed

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
