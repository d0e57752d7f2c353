"""The outbox: sending queued digests with apprise, and recording what happened.

The send-and-record stage of the pipeline. Every queued message is an ``outbox`` row; this
module sends those that are due and writes the outcome back to the same row:

- ``sent`` with ``sent_at`` on success;
- ``retrying`` with ``next_attempt_at`` backing off exponentially
  (``retry_base_seconds * 2**(attempts-1)``, at most 6 hours) after a failure that may pass
  (a server down, a timeout);
- ``failed`` after ``max_attempts``, or at once when retrying cannot help (an apprise URL that
  does not parse, a recipient without an address, a channel no longer configured).

Each row's outcome commits right after its send, so a crash re-sends at most the message in
flight. One deliverer runs at a time (the scheduler's job); rows are updated only if nobody
else changed them meanwhile. Logs show URLs as ``url(privacy=True)`` and never a body.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apprise import Apprise, NotifyFormat
from sqlalchemy import Engine, Row, or_, select, update

from alerts.channels import (
    OUTBOX_FILE_CHANNEL,
    fill_url,
    find_channel,
    privacy_url,
    split_urls,
)
from alerts.digest import NO_ADDRESS
from alerts.directory import Directory
from naebu.config import NotifyConfig
from naebu.store import outbox

log = logging.getLogger(__name__)

#: The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=6)
#: Outbox statuses that are still to be sent.
DUE_STATUSES = ("pending", "retrying")
_MAX_ERROR = 1000


@dataclass
class DeliveryReport:
    """What one :func:`deliver_pending` call did, by outcome."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0

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


def _record(
    engine: Engine, row: Row[Any], outcome: _Outcome, notify: NotifyConfig, now: datetime
) -> str:
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    if outcome.ok:
        values.update(status="sent", sent_at=now, next_attempt_at=None, last_error=None)
    elif outcome.permanent or attempts >= notify.max_attempts:
        values.update(status="failed", next_attempt_at=None, last_error=outcome.error)
    else:
        values.update(
            status="retrying",
            next_attempt_at=now + backoff(attempts, notify.retry_base_seconds),
            last_error=outcome.error,
        )
    with engine.begin() as conn:
        changed = conn.execute(
            update(outbox)
            .where(
                outbox.c.id == row.id,
                outbox.c.status == row.status,
                outbox.c.attempts == row.attempts,
            )
            .values(**values)
        ).rowcount
    if not changed:
        log.warning("outbox #%d was changed by someone else while being sent", row.id)
    return str(values["status"])


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
    for row in due_rows(engine, now, limit):
        outcome = send_one(row, notify, directory)
        status = _record(engine, row, outcome, notify, now)
        if status == "sent":
            report.sent += 1
            log.info(
                "outbox #%d sent to %s via %s (%s)",
                row.id,
                row.recipient,
                row.channel,
                outcome.shown_url,
            )
            continue
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
    return report
