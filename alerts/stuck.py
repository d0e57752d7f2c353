"""Messages that need a person: stuck in ``sending`` (who claimed them, telling the admins,
the operator's decision) and given up (``failed``: :func:`retry_failed`).

A row is claimed (``sending``) in its own commit before it is sent and its outcome is written
after (:mod:`naebu.alerts.outbox`). A process that dies in between - a crash, ``kill -9``, a power
cut, a daemon that gave up waiting for a hung server at shutdown - leaves the row there. It
may or may not have gone out, so naebu never sends it again by itself: only a person can check
the mail server's or the webhook's log. This module makes that decision easy and safe:

- the claim says who is sending (:func:`claim_note`: ``sending since <time> on <host>, pid
  <pid>``), and a send given up at shutdown adds how long it waited (:func:`abandon_note`);
- :func:`stuck_rows` lists every ``sending`` row, and whether its process still runs here;
- :func:`tell_admins` queues one admin notice (Korean by default) about rows whose process is
  gone, once per row: it names recipient, subject, when it was claimed, where to look and the
  two commands to run; the row's claim then records that the admins were told;
- :func:`resolve_stuck` records the decision - ``delivered`` (it arrived: mark it sent, never
  send it again) or ``resend`` (it did not: send it on the next pass) - with the operator's
  name and reason in the audit trail (action ``outbox_resolve``). A row whose claiming process
  still runs on this host is refused: it may be sending right now.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, select, update
from sqlalchemy.exc import OperationalError

from naebu.alerts.channels import OUTBOX_FILE_CHANNEL, fill_url, find_channel, privacy_url
from naebu.alerts.directory import Directory
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.trail import Step, append
from naebu.core.processes import process_alive
from naebu.store.tables import outbox

log = logging.getLogger(__name__)

#: A row being sent: claimed in the store before the send, so it is never sent twice.
SENDING = "sending"
#: A row claimed on another host is taken as stuck once its claim is this old (its process
#: cannot be checked from here; no send waits that long).
OTHER_HOST_GRACE = timedelta(minutes=30)

_CLAIM = re.compile(r"^sending since (?P<since>\S+ \S+) on (?P<host>\S+), pid (?P<pid>\d+)\b")
_ABANDONED = re.compile(r"; abandoned ([^;]*)")
_TOLD = "; admins told"


def claim_note() -> str:
    """What a claimed row says about its sender: wall-clock time, host and process id."""
    since = datetime.now().replace(microsecond=0).isoformat(sep=" ")
    return f"sending since {since} on {socket.gethostname()}, pid {os.getpid()}"


def abandon_note(claim: str, waited: float) -> str:
    """``claim`` of a send this process stopped waiting for (at shutdown), saying how long
    it waited: the server never answered, so the message most likely did not arrive."""
    return f"{claim}; abandoned at shutdown after {waited:.0f}s without an answer"


@dataclass(frozen=True)
class StuckMessage:
    """An outbox row left ``sending``: sent or not, nobody recorded it."""

    id: int
    recipient: str
    channel: str
    subject: str
    attempts: int
    created_at: datetime
    #: When, where and by which process it was claimed (None: claimed by an older naebu).
    since: str | None
    host: str | None
    pid: int | None
    #: True while the claiming process still runs on this host (it may be sending now).
    in_flight: bool
    #: How the sender gave it up at shutdown (``at shutdown after 30s without an answer``).
    abandoned: str | None = None
    #: True once the admins were told of it.
    told: bool = False
    #: The claim as stored.
    note: str = ""

    @property
    def when(self) -> str:
        """When sending began (the claim's time), else when the message was queued."""
        return self.since or f"{self.created_at:%Y-%m-%d %H:%M}"

    @property
    def sender(self) -> str:
        """The claim in words, for the command line."""
        if self.pid is None:
            return "claimed by an unknown process"
        state = "still running" if self.in_flight else "not running"
        text = f"since {self.since} on {self.host}, pid {self.pid} ({state})"
        if self.abandoned:
            text += f"; abandoned {self.abandoned}"
        return text


def _alive(host: str | None, pid: int | None, since: str | None, now: datetime) -> bool:
    if pid is None:
        return False
    if host != socket.gethostname():
        # Another host's process cannot be checked from here: trust a recent claim.
        try:
            claimed = datetime.fromisoformat(since or "")
        except ValueError:
            return False
        return now - claimed < OTHER_HOST_GRACE
    return pid == os.getpid() or process_alive(pid)


def stuck_rows(engine: Engine, in_flight: Collection[int] = ()) -> list[StuckMessage]:
    """Every outbox row in ``sending``, oldest first, with who claimed it. ``in_flight``:
    ids this process holds (sent, outcome not yet written), never stuck."""
    if not in_flight:
        from naebu.alerts.outbox import unrecorded_ids  # the deliverer imports this module

        in_flight = unrecorded_ids()
    with engine.connect() as conn:
        rows = list(
            conn.execute(select(outbox).where(outbox.c.status == SENDING).order_by(outbox.c.id))
        )
    now = datetime.now()
    found = []
    for row in rows:
        note = row.last_error or ""
        m = _CLAIM.match(note)
        host, pid = (m["host"], int(m["pid"])) if m else (None, None)
        since = m["since"] if m else None
        abandoned = _ABANDONED.search(note)
        found.append(
            StuckMessage(
                id=row.id,
                recipient=row.recipient,
                channel=row.channel,
                subject=row.subject,
                attempts=row.attempts,
                created_at=row.created_at,
                since=since,
                host=host,
                pid=pid,
                in_flight=row.id in in_flight or _alive(host, pid, since, now),
                abandoned=abandoned[1] if abandoned else None,
                told=note.endswith(_TOLD),
                note=note,
            )
        )
    return found


def where_to_look(m: StuckMessage, notify: NotifyConfig, directory: Directory) -> str:
    """Where the channel's own log would show whether ``m`` arrived, in words (English, for
    the command line): which server, which address, around when."""
    when = m.when
    if m.channel == OUTBOX_FILE_CHANNEL:
        return f"the outbox file {notify.outbox_file}: a line with id {m.id}"
    channel = find_channel(notify, m.channel)
    url = fill_url(channel.url, directory.get(m.recipient)) if channel else None
    if url is None:
        return f"the log of channel {m.channel}, around {when}"
    official = directory.get(m.recipient)
    address = official.address("email") if official is not None else ""
    shown = privacy_url(url)
    if shown.startswith(("mailto", "mailtos")):
        to = f" to {address}" if address else ""
        return f"the mail server's log ({shown}): a message{to} around {when}"
    return f"the receiving service's log ({shown}): a request around {when}"


def _looks_ko(m: StuckMessage, official_name: str) -> list[str]:
    when = m.when
    lines = [
        f"- 발송 번호 {m.id}: {official_name} 앞 「{m.subject}」",
        f"  발송 시작 {when}, 채널 {m.channel}",
    ]
    if m.abandoned:
        lines.append(
            "  종료 중 서버가 응답하지 않아 기다림을 멈췄습니다 (도착하지 않았을 가능성이 큼)"
        )
    else:
        lines.append("  발송하던 프로세스가 결과를 기록하기 전에 종료되었습니다")
    return lines


def _looks_en(m: StuckMessage, official_name: str) -> list[str]:
    when = m.when
    lines = [
        f"- #{m.id} to {official_name}: {m.subject}",
        f"  sending since {when} via {m.channel}",
    ]
    if m.abandoned:
        lines.append("  given up at shutdown: the server never answered (most likely not arrived)")
    else:
        lines.append("  the process sending it ended before writing the outcome")
    return lines


def tell_admins(
    engine: Engine, notify: NotifyConfig, directory: Directory, *, now: datetime
) -> int:
    """Queue one admin notice about stuck rows not told yet; return how many it names.

    Each row is told once: its claim records it (``; admins told``) right after the notice is
    queued (should that fail, it is told again, never not at all). Never raises for a store
    that cannot be written (the next pass tries again).
    """
    if not notify.admins:
        return 0
    new = [m for m in stuck_rows(engine) if not m.in_flight and not m.told]
    if not new:
        return 0
    from naebu.alerts.admin_notices import queue_admin_notice  # naebu.daemon imports alerts

    ko = notify.language != "en"
    lines: list[str] = []
    for m in new:
        official = directory.get(m.recipient)
        name = official.display_name if official is not None else m.recipient
        lines += _looks_ko(m, name) if ko else _looks_en(m, name)
    first = new[0].id
    if ko:
        subject = f"발송 여부 확인 필요 {len(new)}건"
        head = (
            "아래 메시지는 발송 중 처리가 중단되어 실제로 도착했는지 알 수 없습니다. "
            "중복 발송을 막기 위해 자동으로 다시 보내지 않습니다. "
            "메일 서버(또는 수신 시스템)의 기록에서 도착 여부를 확인한 뒤 처리해 주십시오."
        )
        tail = [
            "확인 방법: naebu outbox list --stuck (받는 사람, 확인할 기록 위치 표시)",
            f"도착한 경우: naebu outbox resolve {first} --delivered --as 사번 --reason 확인 내용",
            f"도착하지 않은 경우: naebu outbox resolve {first} --resend --as 사번 --reason 사유",
        ]
    else:
        subject = f"{len(new)} message(s) may not have arrived"
        head = (
            "Sending these messages was interrupted before the outcome was written: nobody "
            "knows whether they arrived, so naebu does not send them again by itself. Check "
            "the mail server's (or receiving service's) log, then decide."
        )
        tail = [
            "Details: naebu outbox list --stuck (recipient, where to look)",
            f"It arrived: naebu outbox resolve {first} --delivered --as EMP --reason TEXT",
            f"It did not: naebu outbox resolve {first} --resend --as EMP --reason TEXT",
        ]
    body = "\n".join([head, "", *lines, "", *tail])
    try:
        # The notice first: if marking the rows fails, they are told twice, never not at all.
        queue_admin_notice(engine, notify, subject, body, now=now)
        with engine.begin() as conn:
            for m in new:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == m.id, outbox.c.last_error == m.note)
                    .values(last_error=m.note + _TOLD)
                )
    except OperationalError as exc:
        log.error("cannot queue the admin notice about stuck messages: %s", exc.orig)
        return 0
    log.warning("%d outbox message(s) stuck in sending; the admins are told", len(new))
    return len(new)


class ResolveError(ValueError):
    """A stuck message that cannot be resolved; Korean and English in one line."""

    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} ({en})")


def check_decider(actor: str, reason: str) -> None:
    """Refuse a decision without a reason or without a name (:class:`ResolveError`)."""
    if not reason or not reason.strip():
        raise ResolveError("처리 사유를 적어 주십시오", "a reason is required")
    if not actor or not actor.strip():
        raise ResolveError("처리자를 적어 주십시오", "say who decides (--as)")


def resolve_stuck(
    engine: Engine,
    outbox_id: int,
    *,
    sent: bool,
    actor: str,
    reason: str,
    now: datetime,
) -> str:
    """Record an operator's decision on a stuck message; return its new status. Commits.

    ``sent=True`` (delivered): it arrived; it becomes ``sent`` and is never sent again.
    ``sent=False`` (resend): it did not; it becomes ``retrying``, due at once, and the next
    delivery pass sends it. The decision is an ``outbox_resolve`` entry of the audit trail, in
    the same transaction. Refused (:class:`ResolveError`) without a reason, for a row that is
    not ``sending``, while the process that claimed it still runs on this host, and for
    :data:`OTHER_HOST_GRACE` after a claim on another host (its process cannot be checked).
    """
    check_decider(actor, reason)
    stuck = {m.id: m for m in stuck_rows(engine)}.get(outbox_id)
    if stuck is None:
        raise ResolveError(
            f"발송 메시지 #{outbox_id}은(는) 발송 중(sending) 상태가 아닙니다",
            f"outbox #{outbox_id} is not stuck in sending",
        )
    if stuck.in_flight and stuck.host != socket.gethostname() and stuck.since:
        until = datetime.fromisoformat(stuck.since) + OTHER_HOST_GRACE
        raise ResolveError(
            f"발송 메시지 #{outbox_id}은(는) 다른 서버({stuck.host})에서 방금 발송을 시작했습니다. "
            f"{until:%H:%M} 이후에 다시 처리해 주십시오",
            f"outbox #{outbox_id} was claimed on {stuck.host} at {stuck.since} and may be being "
            f"sent now (its process cannot be checked from here); decide after {until:%H:%M}",
        )
    if stuck.in_flight:
        raise ResolveError(
            f"발송 메시지 #{outbox_id}을(를) 보내는 프로세스(pid {stuck.pid})가 아직 실행 중입니다",
            f"outbox #{outbox_id} may be being sent now: pid {stuck.pid} still runs; "
            "wait for it or stop it first",
        )
    values: dict[str, Any]
    if sent:
        values = {"status": "sent", "sent_at": now, "next_attempt_at": None, "last_error": None}
    else:
        values = {
            "status": "retrying",
            "next_attempt_at": now,
            "last_error": f"resend decided by {actor.strip()}",
        }
    with engine.begin() as conn:
        changed = conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.status == SENDING)
            .values(**values)
        ).rowcount
        if not changed:
            raise ResolveError(
                f"발송 메시지 #{outbox_id}의 상태가 방금 바뀌었습니다",
                f"outbox #{outbox_id} changed meanwhile",
            )
        append(
            conn,
            [
                Step(
                    actor=actor.strip(),
                    action="outbox_resolve",
                    at=now,
                    comment=reason.strip(),
                    details={
                        "outbox_id": outbox_id,
                        "decision": "sent" if sent else "retry",
                        "recipient": stuck.recipient,
                        "channel": stuck.channel,
                        "subject": stuck.subject,
                        "claimed": stuck.sender,
                    },
                )
            ],
        )
    log.warning(
        "outbox #%d resolved by %s: %s (%s)",
        outbox_id,
        actor.strip(),
        "delivered" if sent else "resend",
        reason.strip(),
    )
    return str(values["status"])


def note_abandoned(engine: Engine, row: Row[Any], waited: float) -> None:
    """Say on the claim of ``row`` that its send was given up after ``waited`` seconds; it
    stays ``sending`` (the server may yet have taken it) and the next pass tells the admins."""
    log.warning(
        "outbox #%d to %s via %s: no answer after %.0fs; stopped waiting (shutdown). It stays "
        "sending: check the channel's log, then naebu outbox resolve",
        row.id,
        row.recipient,
        row.channel,
        waited,
    )
    try:
        with engine.begin() as conn:
            note = conn.execute(
                select(outbox.c.last_error).where(outbox.c.id == row.id, outbox.c.status == SENDING)
            ).scalar_one_or_none()
            if note is not None:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id, outbox.c.status == SENDING)
                    .values(last_error=abandon_note(note, waited))
                )
    except OperationalError as exc:
        log.error("cannot note outbox #%d as abandoned: %s", row.id, exc.orig)


# -- messages given up --------------------------------------------------------------------------


def retry_failed(
    engine: Engine,
    *,
    channel: str | None,
    actor: str,
    reason: str,
    now: datetime,
) -> list[int]:
    """Queue every ``failed`` outbox row (of ``channel`` if given) to be sent again; commits.

    Each becomes ``retrying``, due at once, with its attempts counted from 0: it gets the fast
    back-off again, and is given up after ``max_attempts`` more failures if it is older than
    ``give_up_hours`` by then. The decision is an ``outbox_retry`` entry of the audit trail,
    in the same transaction. Returns the ids re-queued (none: nothing written).
    """
    check_decider(actor, reason)
    q = select(outbox.c.id).where(outbox.c.status == "failed").order_by(outbox.c.id)
    if channel is not None:
        q = q.where(outbox.c.channel == channel)
    with engine.begin() as conn:
        ids = [int(i) for i in conn.execute(q).scalars()]
        if not ids:
            return []
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.status == "failed")
            .values(
                status="retrying",
                attempts=0,
                next_attempt_at=now,
                last_error=f"re-queued by {actor.strip()}",
            )
        )
        append(
            conn,
            [
                Step(
                    actor=actor.strip(),
                    action="outbox_retry",
                    at=now,
                    comment=reason.strip(),
                    details={"channel": channel, "count": len(ids), "outbox_ids": ids},
                )
            ],
        )
    log.warning(
        "%d failed outbox message(s) re-queued by %s (%s)", len(ids), actor.strip(), reason.strip()
    )
    return ids
