"""Admin notices: the daemon's own troubles, told to the people who run it.

A broken rule file, a source down for several runs: ``[notify] admins`` hear of it. An admin is
an employee id of the officials directory (reached through the configured channels, or the
outbox file when there is none) or an apprise URL of its own (``mailto://it@city.go.kr``).
Notices go through the outbox like every digest, so they are retried and recorded the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine, insert

from naebu.alerts.channels import channel_names
from naebu.alerts.notify_settings import NotifyConfig
from naebu.store.tables import outbox

log = logging.getLogger(__name__)

SUBJECT_PREFIX = {"ko": "[내부통제 운영]", "en": "[naebu operations]"}
#: The recipient of a notice sent to an admin URL (the URL itself stays in the config).
URL_RECIPIENT = "admin"


def queue_admin_notice(
    engine: Engine, notify: NotifyConfig, subject: str, body: str, *, now: datetime
) -> int:
    """Queue ``subject``/``body`` to every admin; returns the outbox rows written."""
    if not notify.admins:
        log.warning("no [notify] admins to tell: %s", subject)
        return 0
    title = f"{SUBJECT_PREFIX.get(notify.language, SUBJECT_PREFIX['ko'])} {subject}"
    rows = [(admin, channel) for admin in notify.admin_ids() for channel in channel_names(notify)]
    rows += [(URL_RECIPIENT, ch.name) for ch in notify.admin_urls()]
    with engine.begin() as conn:
        for recipient, channel in rows:
            conn.execute(
                insert(outbox).values(
                    run_id=None,
                    recipient=recipient,
                    channel=channel,
                    subject=title,
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    log.info("admin notice queued (%d message(s)): %s", len(rows), subject)
    return len(rows)
