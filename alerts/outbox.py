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
  messages, audited (:func:`naebu.alerts.stuck.retry_failed`).

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
  either (it may have gone out): at most one message (the one in flight) per crash. The
  admins are told, and an operator decides with ``naebu outbox resolve`` (:mod:`naebu.alerts.stuck`).

A hung server (it accepts the connection and never answers) costs one ``timeout_seconds``
per pass and channel, not one per message: after a send times out, the channel's other
messages of the pass are not tried but recorded as a failed attempt each (same back-off and
give-up as if each had timed out), so a flush never holds the daemon's run lock longer than
about one message timeout per hung channel. A pass can be asked to stop (``should_stop``:
no new message starts) and given a time by which to give up (``abandon_at``: a send still
waiting then is abandoned, its row stays ``sending`` with a note saying so, and the next
pass tells the admins). Apprise gives up waiting after ``timeout_seconds``; a server that
answers after that may still deliver the message, which is then sent again (a duplicate).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Row, Update, bindparam, or_, select, update
from sqlalchemy.exc import OperationalError

from naebu.alerts.channel_notice import is_admin_notice, tell_failing_channels
from naebu.alerts.directory import Directory
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.sending import MAX_ERROR, Outcome, send_one
from naebu.alerts.stuck import SENDING, claim_note, note_abandoned
from naebu.alerts.stuck import tell_admins as tell_admins_of_stuck
from naebu.store.tables import outbox

log = logging.getLogger(__name__)

#: The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=6)
#: Outbox statuses that are still to be sent.
DUE_STATUSES = ("pending", "retrying")
#: Writing an outcome: tries, and the pause between them (on top of SQLite's busy timeout).
RECORD_TRIES = 5
RECORD_PAUSE_SECONDS = 1.0


@dataclass
class DeliveryReport:
    """What one :func:`deliver_pending` call did, by outcome."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    #: Why the pass stopped early (the store could not be written, asked to stop), or None.
    stopped: str | None = None
    #: Due messages the pass did not start because it was asked to stop (still due).
    left: int = 0
    #: Messages whose send was abandoned (still ``sending``, noted; see :mod:`naebu.alerts.stuck`).
    abandoned: int = 0
    #: Of ``retrying``, messages not tried because their channel hung in this pass.
    not_tried: int = 0
    #: Channels that reached ``max_attempts`` in this pass, or gave a message up: channel ->
    #: (messages, last error). The admins are told (:mod:`naebu.alerts.channel_notice`).
    troubled: dict[str, tuple[int, str]] = field(default_factory=dict, compare=False)
    #: Of those, messages given up (``failed`` because too old) in this pass.
    given_up: int = field(default=0, compare=False)

    @property
    def attempted(self) -> int:
        """Messages tried in this call."""
        return self.sent + self.failed + self.retrying


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
_UNRECORDED: dict[int, tuple[Row[Any], Outcome, datetime]] = {}


def unrecorded_ids() -> set[int]:
    """Rows this process sent but could not record yet: in flight, never stuck."""
    return set(_UNRECORDED)


def _record_with_retries(
    engine: Engine,
    row: Row[Any],
    outcome: Outcome,
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


def _outcome_values(
    row: Row[Any], outcome: Outcome, notify: NotifyConfig, now: datetime
) -> dict[str, Any]:
    """The columns an attempt with ``outcome`` writes to ``row``."""
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
    return values


def _record(
    engine: Engine,
    row: Row[Any],
    outcome: Outcome,
    notify: NotifyConfig,
    now: datetime,
    claim: Row[Any] | None = None,
) -> tuple[str, bool]:
    """Write the outcome of ``row``, and claim ``claim`` (the next row) in the same commit:
    one commit per message, and still one message at most between a claim and its record.
    Returns the row's new status and whether ``claim`` was claimed."""
    values = _outcome_values(row, outcome, notify, now)
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
    should_stop: Callable[[], bool] | None = None,
    abandon_at: Callable[[], float | None] | None = None,
) -> DeliveryReport:
    """Send every due outbox row (at most ``limit``) and record each outcome at once.

    Channel URLs are filled from ``directory`` at send time, so a corrected address is used
    on the next attempt. Returns how many rows ended ``sent``, ``failed`` or ``retrying``.
    Stuck rows of processes gone are told to the admins first (:mod:`naebu.alerts.stuck`).

    ``should_stop`` (the daemon's shutdown flag): no new message starts once it is true.
    ``abandon_at`` (a :func:`time.monotonic` time, or None while there is none): each send
    runs in a thread of its own, abandoned when that time passes; and no message starts
    that could not end by then (less than ``timeout_seconds`` left).
    """
    report = DeliveryReport()
    try:
        _settle_unrecorded(engine, notify, report)
        tell_admins_of_stuck(engine, notify, directory, now=now)
        rows = due_rows(engine, now, limit)
    except OperationalError as exc:
        return _stop(report, exc, "nothing was sent")

    def must_stop() -> bool:
        # Asked to stop, or too little time left to wait out one send before the deadline.
        if should_stop is not None and should_stop():
            return True
        limit_at = abandon_at() if abandon_at is not None else None
        return limit_at is not None and limit_at - time.monotonic() < notify.timeout_seconds

    hung: dict[str, int] = {}  # channel -> the row that timed out in this pass
    deferred: list[Row[Any]] = []
    # Each row is claimed in the commit recording the row before it (the first on its own).
    claimed_with_last: bool | None = None
    for n, row in enumerate(rows):
        if claimed_with_last is None:
            if row.channel in hung:
                deferred.append(row)
                continue
            if must_stop():
                report.left = len(rows) - n
                why = "asked to stop" if should_stop is not None and should_stop() else "no time"
                report.stopped = f"{why}; {report.left} due message(s) wait for later"
                log.info("outbox delivery stopped: %s", report.stopped)
                break
            try:
                claimed = _claim(engine, row)
            except OperationalError as exc:
                return _stop(report, exc, f"outbox #{row.id} and the rest were not sent")
        else:
            claimed, claimed_with_last = claimed_with_last, None
        if not claimed:
            continue
        started = time.monotonic()
        outcome = send_one(row, notify, directory) if abandon_at is None else None
        if abandon_at is not None:
            outcome = _send_watched(row, notify, directory, abandon_at)
        if outcome is None:
            note_abandoned(engine, row, time.monotonic() - started)
            report.abandoned += 1
            report.stopped = f"gave up waiting for outbox #{row.id}; it stays sending"
            break
        if outcome.timed_out:
            hung.setdefault(row.channel, row.id)
        following = rows[n + 1] if n + 1 < len(rows) else None
        if following is not None and (following.channel in hung or must_stop()):
            following = None  # not claimed: the next turn defers it or stops
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
    if deferred:
        try:
            _defer(engine, deferred, hung, notify, report, now)
        except OperationalError as exc:
            log.error("cannot record the messages of a hung channel (still due): %s", exc.orig)
    tell_failing_channels(engine, notify, report.troubled, report.given_up, now)
    return report


#: How often a send waiting in its own thread checks ``abandon_at``.
WATCH_SECONDS = 0.2
#: Sends abandoned (their threads may still be blocked on a server): see :func:`sends_hung`.
_ABANDONED: list[threading.Thread] = []


def _send_watched(
    row: Row[Any],
    notify: NotifyConfig,
    directory: Directory,
    abandon_at: Callable[[], float | None],
) -> Outcome | None:
    """:func:`send_one` in a thread of its own, waited for until it ends or ``abandon_at()``
    passes; None when abandoned (the thread goes on, a daemon thread, unrecorded)."""
    box: list[Outcome] = []

    def work() -> None:
        try:
            box.append(send_one(row, notify, directory))
        except Exception as exc:  # a plugin bug must not stop the other messages
            box.append(Outcome(False, f"{type(exc).__name__}: {exc}"[:MAX_ERROR]))

    thread = threading.Thread(target=work, name=f"naebu-send-{row.id}", daemon=True)
    thread.start()
    while True:
        thread.join(WATCH_SECONDS)
        if not thread.is_alive():
            return box[0] if box else Outcome(False, "the send ended without an outcome")
        limit_at = abandon_at()
        if limit_at is not None and time.monotonic() >= limit_at:
            _ABANDONED.append(thread)
            return None


def sends_hung() -> int:
    """Sends still blocked on a server after being given up: this process's abandoned sends,
    and apprise's own calls it stopped waiting for. A process exiting with such threads
    would wait for them (the interpreter joins worker threads); the daemon exits at once."""
    ours = sum(1 for t in _ABANDONED if t.is_alive())
    try:
        from apprise.apprise import any_abandoned_calls_still_running
    except ImportError:  # an apprise without call timeouts abandons nothing
        return ours
    return ours + int(any_abandoned_calls_still_running())


def _defer(
    engine: Engine,
    rows: list[Row[Any]],
    hung: dict[str, int],
    notify: NotifyConfig,
    report: DeliveryReport,
    now: datetime,
) -> None:
    """Record one failed attempt for each of ``rows``, not tried because their channel hung
    in this pass: the back-off, the channel notice and the give-up run as if each had timed
    out, in one commit, without one more ``timeout_seconds`` each."""
    written = []
    with engine.begin() as conn:
        for row in rows:
            outcome = Outcome(
                False,
                f"not tried: channel {row.channel} did not answer outbox #{hung[row.channel]} "
                f"within {notify.timeout_seconds:g}s in this pass",
            )
            values = _outcome_values(row, outcome, notify, now)
            changed = conn.execute(
                update(outbox)
                .where(
                    outbox.c.id == row.id,
                    outbox.c.status == row.status,
                    outbox.c.attempts == row.attempts,
                )
                .values(**values)
            ).rowcount
            if changed:
                written.append((row, outcome, str(values["status"])))
    for row, outcome, status in written:
        report.not_tried += 1
        _count(report, row, outcome, status)
        _note_trouble(report, row, outcome, status, notify)


def _note_trouble(
    report: DeliveryReport, row: Row[Any], outcome: Outcome, status: str, notify: NotifyConfig
) -> None:
    """Remember a channel that just reached ``max_attempts`` or gave a message up (not for
    the admins' own notices: a notice about a notice would never end)."""
    if outcome.ok or outcome.permanent or is_admin_notice(row):
        return
    if status == "failed":
        report.given_up += 1
    elif row.attempts + 1 != notify.max_attempts:
        return
    count, _ = report.troubled.get(row.channel, (0, ""))
    report.troubled[row.channel] = (count + 1, outcome.error or "")


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


def _count(report: DeliveryReport, row: Row[Any], outcome: Outcome, status: str) -> None:
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
