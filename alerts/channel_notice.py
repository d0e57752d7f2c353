"""Telling the admins of a failing channel: one notice when messages through a channel reach
``max_attempts``, or are given up, in a delivery pass (:func:`naebu.alerts.outbox.deliver_pending`).

The same notice about the same channels is not queued again within :data:`NOTICE_QUIET`: in a
long outage, messages queued in every run reach ``max_attempts`` in every later pass.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, select
from sqlalchemy.exc import OperationalError

from naebu.alerts.notify_settings import NotifyConfig
from naebu.store.tables import outbox

log = logging.getLogger(__name__)


def is_admin_notice(row: Row[Any]) -> bool:
    """True for an outbox row that is an admin notice (a notice about it would never end)."""
    from naebu.alerts.admin_notices import SUBJECT_PREFIX  # naebu.daemon imports alerts

    return any(str(row.subject).startswith(p) for p in SUBJECT_PREFIX.values())


def tell_failing_channels(
    engine: Engine,
    notify: NotifyConfig,
    troubled: dict[str, tuple[int, str]],
    given_up: int,
    now: datetime,
) -> None:
    """Queue one admin notice about the channels in ``troubled`` (channel -> messages, last
    error) and the ``given_up`` messages of a delivery pass; never raises."""
    if not troubled:
        return
    from naebu.alerts.admin_notices import queue_admin_notice

    lines = [
        f"- {channel}: {count} message(s); last error: {error}"
        for channel, (count, error) in sorted(troubled.items())
    ]
    ko = notify.language != "en"
    if ko:
        subject = f"발송 채널 장애: {', '.join(sorted(troubled))}"
        head = (
            f"아래 채널로 {notify.max_attempts}회 이상 발송하지 못했습니다. "
            f"{notify.slow_retry_minutes:g}분마다 다시 보내며, "
            f"{notify.give_up_hours:g}시간이 지난 메시지는 실패(failed) 처리합니다."
        )
        tail = "실패한 메시지 재발송: naebu outbox retry --failed --as 사번 --reason 사유"
    else:
        subject = f"channel failing: {', '.join(sorted(troubled))}"
        head = (
            f"Messages through these channels failed {notify.max_attempts} times. They are "
            f"retried every {notify.slow_retry_minutes:g} minutes and given up (failed) once "
            f"{notify.give_up_hours:g} hours old."
        )
        tail = "Re-queue failed messages: naebu outbox retry --failed --as EMP --reason TEXT"
    if given_up:  # a notice of its own, never held back as a repeat
        subject += f" ({given_up} given up)" if not ko else f" (실패 {given_up}건)"
        lines.append(
            f"{given_up} message(s) given up (failed)"
            if not ko
            else f"실패 처리된 메시지 {given_up}건"
        )
    body = "\n".join([head, "", *lines, "", tail])
    try:
        if _told_lately(engine, notify, subject, now):
            return
        queue_admin_notice(engine, notify, subject, body, now=now)
    except OperationalError as exc:
        log.error("cannot queue the admin notice about failing channels: %s", exc.orig)


#: The same notice about the same channels is not queued again within this time (messages
#: queued in every run reach ``max_attempts`` in every later pass of a long outage).
NOTICE_QUIET = timedelta(hours=6)


def _told_lately(engine: Engine, notify: NotifyConfig, subject: str, now: datetime) -> bool:
    from naebu.alerts.admin_notices import SUBJECT_PREFIX

    title = f"{SUBJECT_PREFIX.get(notify.language, SUBJECT_PREFIX['ko'])} {subject}"
    q = (
        select(outbox.c.id)
        .where(outbox.c.subject == title, outbox.c.created_at > now - NOTICE_QUIET)
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(q).first() is not None
