"""The outbox: sending queued digests with apprise, and recording what happened.

The send-and-record stage of the pipeline. Every queued message is an ``outbox`` row; this
module sends those that are due and writes the outcome back to the same row:

- ``sent`` with ``sent_at`` on success;
- ``retrying`` with ``next_attempt_at`` backing off exponentially
  (``retry_base_seconds * 2**(attempts-1)``, at most 6 hours) after a failure that may pass
  (a server down, a timeout);
- after ``max_attempts`` failures (about two hours with the defaults), still ``retrying``, every
  ``slow_retry_minutes`` (60), until the message is ``give_up_hours`` (72) old: a long outage
  of the mail server loses nothing (issue 17). The admins hear of a channel that reaches
  ``max_attempts`` and of every message given up (:func:`deliver_pending`);
- ``failed`` when the message is older than ``give_up_hours`` after ``max_attempts`` failures,
  or at once when retrying cannot help (an apprise URL that does not parse, a recipient without
  an address, a channel no longer configured). ``naebu outbox retry --failed`` re-queues failed
  messages, audited (:func:`retry_failed`).

Each row's outcome commits right after its send, so a crash re-sends at most the message in
flight. One deliverer runs at a time (the scheduler's job); rows are updated only if nobody
else changed them meanwhile. Logs show URLs as ``url(privacy=True)`` and never a body.

When the store cannot be written (SQLite busy past its timeout, a full disk), nothing may be
lost and nothing sent twice (issue 9):

- a row is **claimed** (``sending``) in its own commit before it is sent; if the claim cannot
  be written, the pass stops before sending anything;
- the outcome of a send is written with retries; if it still cannot be written, the outcome
  is kept in memory and written first by the next pass of this process, and the row stays
  ``sending`` - never due again, so never re-sent;
- a ``sending`` row left by a process that died between claim and record is not re-sent
  either (it may have gone out): ``naebu status`` counts it under ``sending``. At most one
  message (the one in flight) can be in that state per crash.

A stuck message needs a person's decision, never an automatic one: only they can check the
mail server's or the webhook's log for whether it arrived. The claim writes who is sending
(``last_error`` of a ``sending`` row reads ``sending since <time> on <host>, pid <pid>``), so
``naebu outbox list --stuck`` shows each stuck row and whether its process still runs, and
``naebu outbox resolve ID --sent`` (it arrived: never send it again) or ``--retry`` (it did
not: send it on the next pass) records the decision, with the operator's name and reason, in
the audit trail (action ``outbox_resolve``). A row whose claiming process still runs on this
host is refused: it may be sending right now (:func:`resolve_stuck`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, Update, bindparam, or_, select, update
from sqlalchemy.exc import OperationalError

from alerts.channels import (
    OUTBOX_FILE_CHANNEL,
    fill_url,
    find_channel,
    privacy_url,
    split_urls,
)
from alerts.digest import NO_ADDRESS
from alerts.directory import Directory
from alerts.trail import Step, append
from naebu.config import NotifyConfig
from naebu.store import outbox

log = logging.getLogger(__name__)

#: The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=6)
#: Outbox statuses that are still to be sent.
DUE_STATUSES = ("pending", "retrying")
#: A row being sent: claimed in the store before the send, so it is never sent twice.
SENDING = "sending"
_MAX_ERROR = 1000
#: Writing an outcome: tries, and the pause between them (on top of SQLite's busy timeout).
RECORD_TRIES = 5
RECORD_PAUSE_SECONDS = 1.0


@dataclass
class DeliveryReport:
    """What one :func:`deliver_pending` call did, by outcome."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    #: Why the pass stopped early (the store could not be written), or None.
    stopped: str | None = None
    #: Channels that reached ``max_attempts`` in this pass, or gave a message up: channel ->
    #: (messages, last error). The admins are told (:func:`_tell_admins`).
    troubled: dict[str, tuple[int, str]] = field(default_factory=dict, compare=False)
    #: Of those, messages given up (``failed`` because too old) in this pass.
    given_up: int = field(default=0, compare=False)

    @property
    def attempted(self) -> int:
        """Messages tried in this call."""
        return self.sent + self.failed + self.retrying


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    error: str | None = None
    permanent: bool = False  # retrying cannot help: fail the row now
    shown_url: str = ""  # the URL as logs may show it


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: ``base * 2**(attempts-1)``, capped."""
    seconds = base_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def retry_wait(attempts: int, notify: NotifyConfig) -> timedelta:
    """The wait after the ``attempts``-th failure: :func:`backoff` up to ``max_attempts``,
    then ``slow_retry_minutes`` (never longer than the back-off cap)."""
    if attempts < notify.max_attempts:
        return backoff(attempts, notify.retry_base_seconds)
    return min(timedelta(minutes=notify.slow_retry_minutes), MAX_BACKOFF)


def past_horizon(row: Row[Any], notify: NotifyConfig, now: datetime) -> bool:
    """True once ``row`` is ``give_up_hours`` old: retrying it longer is no use."""
    created = row.created_at or now
    return bool(now - created >= timedelta(hours=notify.give_up_hours))


def _write_outbox_file(path: Path | None, row: Row[Any]) -> _Outcome:
    if path is None:
        return _Outcome(False, "notify.outbox_file is not set", permanent=True)
    line = {
        "id": row.id,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "recipient": row.recipient,
        "subject": row.subject,
        "body": row.body,
    }
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    except OSError as exc:
        return _Outcome(False, f"cannot write {path}: {exc.strerror or exc}")
    return _Outcome(True, shown_url=str(path))


def _scrub(text: str, urls: list[str]) -> str:
    """``text`` with any full URL replaced by its privacy form (errors can quote URLs)."""
    for url in urls:
        if url in text:
            text = text.replace(url, privacy_url(url))
    return text[:_MAX_ERROR]


def _send_apprise(row: Row[Any], notify: NotifyConfig, directory: Directory) -> _Outcome:
    channel = find_channel(notify, row.channel)
    if channel is None:
        return _Outcome(False, f"channel {row.channel} is not configured", permanent=True)
    url = fill_url(channel.url, directory.get(row.recipient))
    if url is None:
        return _Outcome(False, NO_ADDRESS, permanent=True)
    urls = split_urls(url)
    if not urls:
        return _Outcome(False, f"channel {row.channel}: no apprise URL", permanent=True)
    # apprise is imported when a message goes through it (half a second of start-up that a
    # run telling nobody, or only the outbox file, does not need).
    from apprise import Apprise, NotifyFormat

    for one in urls:
        if Apprise.instantiate(one) is None:
            scheme = one.split("://", 1)[0] if "://" in one else "(no scheme)"
            return _Outcome(
                False,
                f"channel {row.channel}: apprise cannot parse its {scheme}:// URL; "
                "check the scheme and its parameters (apprise --details lists them)",
                permanent=True,
            )
    shown = privacy_url(url)
    # A tag of this message only: an untagged notify() would reach every service added.
    tag = f"naebu-outbox-{row.id}"
    apobj = Apprise()
    for one in urls:
        apobj.add(one, tag=tag)
    try:
        result = apobj.notify(
            body=row.body,
            title=row.subject,
            body_format=NotifyFormat.TEXT,
            tag=tag,
            timeout=notify.timeout_seconds,
        )
    except Exception as exc:  # a plugin bug must not stop the other messages
        return _Outcome(False, _scrub(f"{type(exc).__name__}: {exc}", urls), shown_url=shown)
    if result:
        return _Outcome(True, shown_url=shown)
    messages = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    error = f"{result.status.name}: " + ("; ".join(messages) or "not delivered")
    return _Outcome(False, _scrub(error, urls), shown_url=shown)


def send_one(row: Row[Any], notify: NotifyConfig, directory: Directory) -> _Outcome:
    """Send one outbox row (no database write)."""
    if row.channel == OUTBOX_FILE_CHANNEL:
        return _write_outbox_file(notify.outbox_file, row)
    return _send_apprise(row, notify, directory)


_CLAIM = re.compile(r"^sending since (?P<since>\S+ \S+) on (?P<host>\S+), pid (?P<pid>\d+)$")


def claim_note() -> str:
    """What a claimed row says about its sender: wall-clock time, host and process id."""
    since = datetime.now().replace(microsecond=0).isoformat(sep=" ")
    return f"sending since {since} on {socket.gethostname()}, pid {os.getpid()}"


# The two updates of every message, built once: a pass over a province's thousands of
# messages would otherwise spend more time building statements than writing them.
_CLAIM_UPDATE = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("row_id"),
        outbox.c.status == bindparam("old_status"),
        outbox.c.attempts == bindparam("old_attempts"),
    )
    .values(status=SENDING, last_error=bindparam("note"))
)


@cache
def _record_statement(columns: tuple[str, ...]) -> Update:
    """The update writing ``columns`` of a row still ``sending`` with the attempts it had."""
    return (
        update(outbox)
        .where(
            outbox.c.id == bindparam("row_id"),
            outbox.c.status == SENDING,
            outbox.c.attempts == bindparam("old_attempts"),
        )
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


def _claim(engine: Engine, row: Row[Any]) -> bool:
    """Mark ``row`` as being sent, in its own commit; False if someone else changed it."""
    with engine.begin() as conn:
        return _claim_on(conn, row)


def _claim_on(conn: Connection, row: Row[Any]) -> bool:
    params = {
        "row_id": row.id,
        "old_status": row.status,
        "old_attempts": row.attempts,
        "note": claim_note(),
    }
    return bool(conn.execute(_CLAIM_UPDATE, params).rowcount)


#: Outcomes sent but not yet written (the store refused the write): row -> (row, outcome, now).
_UNRECORDED: dict[int, tuple[Row[Any], _Outcome, datetime]] = {}


def _record_with_retries(
    engine: Engine,
    row: Row[Any],
    outcome: _Outcome,
    notify: NotifyConfig,
    now: datetime,
    claim: Row[Any] | None = None,
) -> tuple[str, bool]:
    """:func:`_record`, tried again while the store is busy or full; raises at the end."""
    for attempt in range(RECORD_TRIES):
        try:
            return _record(engine, row, outcome, notify, now, claim)
        except OperationalError:
            if attempt == RECORD_TRIES - 1:
                raise
            time.sleep(RECORD_PAUSE_SECONDS)
    raise AssertionError("unreachable")


def _record(
    engine: Engine,
    row: Row[Any],
    outcome: _Outcome,
    notify: NotifyConfig,
    now: datetime,
    claim: Row[Any] | None = None,
) -> tuple[str, bool]:
    """Write the outcome of ``row``, and claim ``claim`` (the next row) in the same commit:
    one commit per message, and still one message at most between a claim and its record.
    Returns the row's new status and whether ``claim`` was claimed."""
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    if outcome.ok:
        values.update(status="sent", sent_at=now, next_attempt_at=None, last_error=None)
    elif outcome.permanent or (attempts >= notify.max_attempts and past_horizon(row, notify, now)):
        values.update(status="failed", next_attempt_at=None, last_error=outcome.error)
    else:
        values.update(
            status="retrying",
            next_attempt_at=now + retry_wait(attempts, notify),
            last_error=outcome.error,
        )
    params = {f"new_{name}": value for name, value in values.items()}
    params.update(row_id=row.id, old_attempts=row.attempts)
    with engine.begin() as conn:
        changed = conn.execute(_record_statement(tuple(values)), params).rowcount
        claimed = claim is not None and _claim_on(conn, claim)
    if not changed:
        log.warning("outbox #%d was changed by someone else while being sent", row.id)
    return str(values["status"]), claimed


def due_rows(engine: Engine, now: datetime, limit: int | None = None) -> list[Row[Any]]:
    """The outbox rows to send at ``now``: pending or retrying and due, oldest first."""
    q = (
        select(outbox)
        .where(
            outbox.c.status.in_(DUE_STATUSES),
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
        )
        .order_by(outbox.c.id)
    )
    if limit is not None:
        q = q.limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(q))


def deliver_pending(
    engine: Engine,
    notify: NotifyConfig,
    directory: Directory,
    *,
    now: datetime,
    limit: int | None = None,
) -> DeliveryReport:
    """Send every due outbox row (at most ``limit``) and record each outcome at once.

    Channel URLs are filled from ``directory`` at send time, so a corrected address is used
    on the next attempt. Returns how many rows ended ``sent``, ``failed`` or ``retrying``.
    """
    report = DeliveryReport()
    try:
        _settle_unrecorded(engine, notify, report)
        rows = due_rows(engine, now, limit)
    except OperationalError as exc:
        return _stop(report, exc, "nothing was sent")
    # Each row is claimed in the commit recording the row before it (the first on its own).
    claimed_with_last: bool | None = None
    for n, row in enumerate(rows):
        if claimed_with_last is None:
            try:
                claimed = _claim(engine, row)
            except OperationalError as exc:
                return _stop(report, exc, f"outbox #{row.id} and the rest were not sent")
        else:
            claimed, claimed_with_last = claimed_with_last, None
        if not claimed:
            continue
        outcome = send_one(row, notify, directory)
        following = rows[n + 1] if n + 1 < len(rows) else None
        try:
            status, claimed_next = _record_with_retries(
                engine, row, outcome, notify, now, claim=following
            )
            claimed_with_last = None if following is None else claimed_next
        except OperationalError as exc:
            # Sent (or tried) but not written: remember it, never send it again.
            _UNRECORDED[row.id] = (row, outcome, now)
            return _stop(
                report, exc, f"the outcome of outbox #{row.id} is kept until it can be written"
            )
        _count(report, row, outcome, status)
        _note_trouble(report, row, outcome, status, notify)
    _tell_admins(engine, notify, report, now)
    return report


def _is_admin_notice(row: Row[Any]) -> bool:
    from naebu.daemon.notices import SUBJECT_PREFIX  # naebu.daemon imports alerts

    return any(str(row.subject).startswith(p) for p in SUBJECT_PREFIX.values())


def _note_trouble(
    report: DeliveryReport, row: Row[Any], outcome: _Outcome, status: str, notify: NotifyConfig
) -> None:
    """Remember a channel that just reached ``max_attempts`` or gave a message up (not for
    the admins' own notices: a notice about a notice would never end)."""
    if outcome.ok or outcome.permanent or _is_admin_notice(row):
        return
    if status == "failed":
        report.given_up += 1
    elif row.attempts + 1 != notify.max_attempts:
        return
    count, _ = report.troubled.get(row.channel, (0, ""))
    report.troubled[row.channel] = (count + 1, outcome.error or "")


def _tell_admins(
    engine: Engine, notify: NotifyConfig, report: DeliveryReport, now: datetime
) -> None:
    """Queue one admin notice about the channels in ``report.troubled``; never raises."""
    if not report.troubled:
        return
    from naebu.daemon.notices import queue_admin_notice

    lines = [
        f"- {channel}: {count} message(s); last error: {error}"
        for channel, (count, error) in sorted(report.troubled.items())
    ]
    ko = notify.language != "en"
    if ko:
        subject = f"발송 채널 장애: {', '.join(sorted(report.troubled))}"
        head = (
            f"아래 채널로 {notify.max_attempts}회 이상 발송하지 못했습니다. "
            f"{notify.slow_retry_minutes:g}분마다 다시 보내며, "
            f"{notify.give_up_hours:g}시간이 지난 메시지는 실패(failed) 처리합니다."
        )
        tail = "실패한 메시지 재발송: naebu outbox retry --failed --as 사번 --reason 사유"
    else:
        subject = f"channel failing: {', '.join(sorted(report.troubled))}"
        head = (
            f"Messages through these channels failed {notify.max_attempts} times. They are "
            f"retried every {notify.slow_retry_minutes:g} minutes and given up (failed) once "
            f"{notify.give_up_hours:g} hours old."
        )
        tail = "Re-queue failed messages: naebu outbox retry --failed --as EMP --reason TEXT"
    if report.given_up:  # a notice of its own, never held back as a repeat
        subject += f" ({report.given_up} given up)" if not ko else f" (실패 {report.given_up}건)"
        lines.append(
            f"{report.given_up} message(s) given up (failed)"
            if not ko
            else f"실패 처리된 메시지 {report.given_up}건"
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
    from naebu.daemon.notices import SUBJECT_PREFIX

    title = f"{SUBJECT_PREFIX.get(notify.language, SUBJECT_PREFIX['ko'])} {subject}"
    q = (
        select(outbox.c.id)
        .where(outbox.c.subject == title, outbox.c.created_at > now - NOTICE_QUIET)
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(q).first() is not None


def _settle_unrecorded(engine: Engine, notify: NotifyConfig, report: DeliveryReport) -> None:
    """Write the outcomes an earlier pass could not write (raises while it still cannot)."""
    for row_id, (row, outcome, at) in sorted(_UNRECORDED.items()):
        status, _ = _record(engine, row, outcome, notify, at)
        del _UNRECORDED[row_id]
        _count(report, row, outcome, status)


def _stop(report: DeliveryReport, exc: OperationalError, what: str) -> DeliveryReport:
    report.stopped = f"the store cannot be written ({exc.orig}); {what}"
    log.error("outbox delivery stopped: %s", report.stopped)
    return report


def _count(report: DeliveryReport, row: Row[Any], outcome: _Outcome, status: str) -> None:
    """Add one outcome to ``report`` and log it."""
    if status == "sent":
        report.sent += 1
        log.info(
            "outbox #%d sent to %s via %s (%s)",
            row.id,
            row.recipient,
            row.channel,
            outcome.shown_url,
        )
        return
    if status == "failed":
        report.failed += 1
    else:
        report.retrying += 1
    log.warning(
        "outbox #%d to %s via %s (%s): %s; %s",
        row.id,
        row.recipient,
        row.channel,
        outcome.shown_url or "-",
        outcome.error,
        "given up" if status == "failed" else f"will retry (attempt {row.attempts + 1})",
    )


# -- messages stuck in "sending" ----------------------------------------------------------------


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

    @property
    def sender(self) -> str:
        """The claim in words, for the command line."""
        if self.pid is None:
            return "claimed by an unknown process"
        state = "still running" if self.in_flight else "not running"
        return f"since {self.since} on {self.host}, pid {self.pid} ({state})"


def _alive(host: str | None, pid: int | None) -> bool:
    if pid is None or host != socket.gethostname():
        return False  # another host's process cannot be checked from here
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def stuck_rows(engine: Engine) -> list[StuckMessage]:
    """Every outbox row in ``sending``, oldest first, with who claimed it."""
    with engine.connect() as conn:
        rows = list(
            conn.execute(select(outbox).where(outbox.c.status == SENDING).order_by(outbox.c.id))
        )
    found = []
    for row in rows:
        m = _CLAIM.match(row.last_error or "")
        host, pid = (m["host"], int(m["pid"])) if m else (None, None)
        found.append(
            StuckMessage(
                id=row.id,
                recipient=row.recipient,
                channel=row.channel,
                subject=row.subject,
                attempts=row.attempts,
                created_at=row.created_at,
                since=m["since"] if m else None,
                host=host,
                pid=pid,
                in_flight=row.id in _UNRECORDED or _alive(host, pid),
            )
        )
    return found


class ResolveError(ValueError):
    """A stuck message that cannot be resolved; Korean and English in one line."""

    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} ({en})")


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

    ``sent=True``: it arrived; it becomes ``sent`` and is never sent again. ``sent=False``:
    it did not; it becomes ``retrying``, due at once, and the next delivery pass sends it.
    The decision is an ``outbox_resolve`` entry of the audit trail, in the same transaction.
    Refused (:class:`ResolveError`) without a reason, for a row that is not ``sending``, and
    while the process that claimed it still runs on this host.
    """
    if not reason or not reason.strip():
        raise ResolveError("처리 사유를 적어 주십시오", "a reason is required")
    if not actor or not actor.strip():
        raise ResolveError("처리자를 적어 주십시오", "say who decides (--as)")
    stuck = {m.id: m for m in stuck_rows(engine)}.get(outbox_id)
    if stuck is None:
        raise ResolveError(
            f"발송 메시지 #{outbox_id}은(는) 발송 중(sending) 상태가 아닙니다",
            f"outbox #{outbox_id} is not stuck in sending",
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
        "sent" if sent else "retry",
        reason.strip(),
    )
    return str(values["status"])


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
    if not reason or not reason.strip():
        raise ResolveError("처리 사유를 적어 주십시오", "a reason is required")
    if not actor or not actor.strip():
        raise ResolveError("처리자를 적어 주십시오", "say who decides (--as)")
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
