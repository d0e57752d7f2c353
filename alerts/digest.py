"""Digests: one message per official per run per channel, listing that official's new alerts.

The grouping stage of the pipeline (raise -> route -> group -> send -> record). An official
with twelve new alerts gets one mail, not twelve. The message is rendered from
``templates/digest_<language>.j2`` in a Jinja2 sandbox (templates are configuration an
operator may edit) and masked by :mod:`alerts.masking` as a whole, so nothing a rule put in
its message or evidence leaves unmasked.

Queuing writes ``outbox`` rows (``pending``, sent later by :mod:`alerts.outbox`) and the
``deliveries`` rows linking each alert to the message that carries it, in the caller's
transaction: alerts and their notifications commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Connection, Row, insert, select

from alerts.channels import OUTBOX_FILE_CHANNEL, channel_names, fill_url, find_channel
from alerts.directory import Directory, Official
from alerts.masking import mask_mapping, mask_text
from alerts.raising import chunks
from naebu.config import NotifyConfig
from naebu.store import alerts as alerts_table
from naebu.store import deliveries, outbox

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"

SEVERITY_LABELS = {
    "ko": {"low": "낮음", "medium": "보통", "high": "높음", "critical": "심각"},
    "en": {"low": "low", "medium": "medium", "high": "high", "critical": "critical"},
}

#: ``last_error`` of a message whose recipient lacks the address a channel needs.
NO_ADDRESS = "no address for recipient"

_env: SandboxedEnvironment | None = None


def environment() -> SandboxedEnvironment:
    """The sandboxed Jinja2 environment of the digest templates (plain text, no autoescape)."""
    global _env
    if _env is None:
        _env = SandboxedEnvironment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=StrictUndefined,
        )
    return _env


def format_value(value: Any, language: str = "ko") -> str:
    """An evidence value as officials read it: amounts with thousands separators, ``-`` for none."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        if language == "ko":
            return "예" if value else "아니오"
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(format_value(v, language) for v in value)
    return str(value)


def render_digest(
    recipient: Official | None,
    recipient_id: str,
    alerts: Sequence[Mapping[Any, Any]],
    language: str = "ko",
) -> tuple[str, str]:
    """The masked ``(subject, body)`` of a digest of ``alerts`` (rows of the alerts table)."""
    labels = SEVERITY_LABELS.get(language, SEVERITY_LABELS["ko"])
    items = []
    for a in alerts:
        evidence = a["evidence"] if isinstance(a["evidence"], Mapping) else {}
        deadline = a["deadline"]
        items.append(
            {
                "id": a["id"],
                "rule_id": a["rule_id"],
                "title": a["title"],
                "message": a["message"],
                "dataset": a["dataset"],
                "record_key": a["record_key"],
                "severity": labels.get(a["severity"], a["severity"]),
                "deadline": deadline.strftime("%Y-%m-%d") if deadline else "-",
                "evidence": [
                    (str(k), format_value(v, language)) for k, v in mask_mapping(evidence).items()
                ],
            }
        )
    departments = [a["department"] for a in alerts if a["department"]]
    department = (recipient.department if recipient else None) or (
        departments[0] if departments else None
    )
    template = environment().get_template(f"digest_{language}.j2")
    module = template.make_module(
        {
            "recipient": recipient.display_name if recipient else recipient_id,
            "department": department,
            "alerts": items,
            "count": len(items),
        }
    )
    subject = str(getattr(module, "subject", "")).strip()
    return mask_text(subject), mask_text(str(module))


def _load_alerts(conn: Connection, alert_ids: Iterable[int]) -> list[Row[Any]]:
    ids = sorted(set(alert_ids))
    rows: list[Row[Any]] = []
    for part in chunks(ids):
        rows.extend(conn.execute(select(alerts_table).where(alerts_table.c.id.in_(part))))
    return sorted(rows, key=lambda r: r.id)


def _already_queued(conn: Connection, alert_ids: Sequence[int]) -> set[tuple[int, str]]:
    done: set[tuple[int, str]] = set()
    for part in chunks(alert_ids):
        q = select(deliveries.c.alert_id, deliveries.c.recipient).where(
            deliveries.c.alert_id.in_(part)
        )
        done.update((r.alert_id, r.recipient) for r in conn.execute(q))
    return done


def queue_digests(
    conn: Connection,
    alert_ids: Iterable[int],
    directory: Directory,
    notify: NotifyConfig,
    *,
    run_id: int | None,
    now: datetime,
) -> int:
    """Queue one digest per recipient and channel for ``alert_ids``; return the rows written.

    Recipients are the alerts' assignees; unassigned alerts are skipped with a warning.
    An alert already queued to its assignee (a ``deliveries`` row) is not queued again, so a
    retried run does not mail twice. Channels are ``notify.channels``, or the built-in
    ``outbox-file`` when none is configured. A recipient lacking the address a channel needs
    gets a ``failed`` row with ``last_error`` :data:`NO_ADDRESS` (so the gap is visible in
    the store), and a warning. Runs inside the caller's transaction; does not commit.
    """
    rows = _load_alerts(conn, alert_ids)
    done = _already_queued(conn, [r.id for r in rows])
    by_recipient: dict[str, list[Row[Any]]] = {}
    for r in rows:
        if r.assignee is None:
            log.warning(
                "alert #%d (%s %s) has no assignee: not in any digest",
                r.id,
                r.rule_id,
                r.record_key,
            )
            continue
        if (r.id, r.assignee) in done:
            continue
        by_recipient.setdefault(r.assignee, []).append(r)

    written = 0
    for recipient_id in sorted(by_recipient):
        items = by_recipient[recipient_id]
        official = directory.get(recipient_id)
        subject, body = render_digest(
            official, recipient_id, [r._mapping for r in items], notify.language
        )
        for name in channel_names(notify):
            status, error = "pending", None
            channel = find_channel(notify, name)
            if name != OUTBOX_FILE_CHANNEL and (
                channel is None or fill_url(channel.url, official) is None
            ):
                status, error = "failed", NO_ADDRESS
                log.warning(
                    "channel %s: recipient %s has no address for it; digest of %d alert(s) "
                    "recorded as failed",
                    name,
                    recipient_id,
                    len(items),
                )
            outbox_id = conn.execute(
                insert(outbox).returning(outbox.c.id),
                {
                    "run_id": run_id,
                    "recipient": recipient_id,
                    "channel": name,
                    "subject": subject,
                    "body": body,
                    "status": status,
                    "attempts": 0,
                    "next_attempt_at": now if status == "pending" else None,
                    "last_error": error,
                    "created_at": now,
                },
            ).scalar_one()
            conn.execute(
                insert(deliveries),
                [
                    {"alert_id": r.id, "outbox_id": outbox_id, "recipient": recipient_id}
                    for r in items
                ],
            )
            written += 1
    return written
