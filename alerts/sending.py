"""Sending one outbox row: to the outbox file, or through apprise to its channel's services.

No database write here (:mod:`naebu.alerts.outbox` claims, sends and records). A message with an
HTML part (``outbox.body_html``) goes to email services as text and HTML side by side
(:mod:`naebu.alerts.html_mail`); every other service (a ``json://`` webhook, a messenger) gets the
text, as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Row

from naebu.alerts.channels import (
    OUTBOX_FILE_CHANNEL,
    fill_url,
    find_channel,
    privacy_url,
    split_urls,
)
from naebu.alerts.digest import NO_ADDRESS
from naebu.alerts.directory import Directory
from naebu.alerts.html_mail import html_email_service
from naebu.alerts.notify_settings import NotifyConfig

#: The longest error text recorded on a row.
MAX_ERROR = 1000


@dataclass(frozen=True)
class Outcome:
    """What one send did: sent, or why not (see :func:`send_one`)."""

    ok: bool
    error: str | None = None
    permanent: bool = False  # retrying cannot help: fail the row now
    shown_url: str = ""  # the URL as logs may show it
    timed_out: bool = False  # the server did not answer within timeout_seconds


def _write_outbox_file(path: Path | None, row: Row[Any]) -> Outcome:
    """Append ``row`` to the outbox file as one JSON line: the text, like every channel but
    email (the HTML part stays in the outbox row)."""
    if path is None:
        return Outcome(False, "notify.outbox_file is not set", permanent=True)
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
        return Outcome(False, f"cannot write {path}: {exc.strerror or exc}")
    return Outcome(True, shown_url=str(path))


def _scrub(text: str, urls: list[str]) -> str:
    """``text`` with any full URL replaced by its privacy form (errors can quote URLs)."""
    for url in urls:
        if url in text:
            text = text.replace(url, privacy_url(url))
    return text[:MAX_ERROR]


def _send_apprise(row: Row[Any], notify: NotifyConfig, directory: Directory) -> Outcome:
    """Send ``row`` to every apprise URL its channel's URL names for its recipient."""
    channel = find_channel(notify, row.channel)
    if channel is None:
        return Outcome(False, f"channel {row.channel} is not configured", permanent=True)
    url = fill_url(channel.url, directory.get(row.recipient))
    if url is None:
        return Outcome(False, NO_ADDRESS, permanent=True)
    urls = split_urls(url)
    if not urls:
        return Outcome(False, f"channel {row.channel}: no apprise URL", permanent=True)
    # apprise is imported when a message goes through it (half a second of start-up that a
    # run telling nobody, or only the outbox file, does not need).
    from apprise import Apprise, NotifyFormat

    for one in urls:
        if Apprise.instantiate(one) is None:
            scheme = one.split("://", 1)[0] if "://" in one else "(no scheme)"
            return Outcome(
                False,
                f"channel {row.channel}: apprise cannot parse its {scheme}:// URL; "
                "check the scheme and its parameters (apprise --details lists them)",
                permanent=True,
            )
    shown = privacy_url(url)
    # A tag of this message only: an untagged notify() would reach every service added.
    tag = f"naebu-outbox-{row.id}"
    apobj = Apprise()
    html = getattr(row, "body_html", None)
    for one in urls:
        # An email service sends the HTML part beside the text; every other one the text.
        service = html_email_service(one, tag, html) if html else None
        if service is not None:
            apobj.add(service)
        else:
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
        return Outcome(False, _scrub(f"{type(exc).__name__}: {exc}", urls), shown_url=shown)
    if result:
        return Outcome(True, shown_url=shown)
    messages = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    error = f"{result.status.name}: " + ("; ".join(messages) or "not delivered")
    timed_out = result.status.name == "TIMEOUT"
    return Outcome(False, _scrub(error, urls), shown_url=shown, timed_out=timed_out)


def send_one(row: Row[Any], notify: NotifyConfig, directory: Directory) -> Outcome:
    """Send one outbox row (no database write)."""
    if row.channel == OUTBOX_FILE_CHANNEL:
        return _write_outbox_file(notify.outbox_file, row)
    return _send_apprise(row, notify, directory)
