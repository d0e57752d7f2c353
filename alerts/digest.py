"""Digests: one message per official per run per channel, listing that official's new alerts.

The grouping stage of the pipeline (raise -> route -> group -> send -> record). An official
with twelve new alerts gets one mail, not twelve. An alert goes to everyone its
``notify_roles`` name (decided when it was raised): the official in charge, the department's
managers, the audit office; a manager's digest says whose alert each one is. The message is rendered from
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
from engine.rule import SEVERITIES
from naebu.config import NotifyConfig
from naebu.store import alerts as alerts_table
from naebu.store import deliveries, outbox

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"

SEVERITY_LABELS = {
    "ko": {"low": "낮음", "medium": "보통", "high": "높음", "critical": "심각"},
    "en": {"low": "low", "medium": "medium", "high": "high", "critical": "critical"},
}

#: How a recipient is told about an alert that is not theirs to handle.
ROLE_LABELS = {
    "ko": {"official": "처리 담당", "manager": "부서관리자 통보", "audit": "감사부서 통보"},
    "en": {
        "official": "to handle",
        "manager": "for the department manager",
        "audit": "for the audit office",
    },
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
    roles: Mapping[int, Sequence[str]] | None = None,
    directory: Directory | None = None,
    max_items: int | None = None,
) -> tuple[str, str]:
    """The masked ``(subject, body)`` of a digest of ``alerts`` (rows of the alerts table).

    ``roles`` maps an alert id to what the recipient is told as (default: ``official``);
    an alert that is not the recipient's to handle names its assignee (from ``directory``).
    With more than ``max_items`` alerts, the most severe ``max_items`` are written out in
    full and the rest counted per rule: an audit office told of every high-severity alert of
    a province would otherwise get one mail of thousands of pages.
    """
    labels = SEVERITY_LABELS.get(language, SEVERITY_LABELS["ko"])
    role_labels = ROLE_LABELS.get(language, ROLE_LABELS["ko"])
    ordered = sorted(alerts, key=lambda a: (-_SEVERITY_RANK.get(a["severity"], -1), a["id"]))
    shown = ordered if max_items is None else ordered[:max_items]
    rest: dict[tuple[str, str], int] = {}
    for a in ordered[len(shown) :]:
        rest[(a["rule_id"], a["title"])] = rest.get((a["rule_id"], a["title"]), 0) + 1
    items = []
    for a in shown:
        mine = roles is None or "official" in roles.get(a["id"], ("official",))
        told_as = [] if mine or roles is None else list(roles.get(a["id"], ()))
        assignee = directory.get(a["assignee"]) if directory is not None else None
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
                "mine": mine,
                "role": ", ".join(role_labels.get(r, r) for r in told_as),
                "assignee": assignee.display_name if assignee else (a["assignee"] or "-"),
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
            "count": len(alerts),
            "all_mine": all(
                roles is None or "official" in roles.get(a["id"], ("official",)) for a in alerts
            ),
            "more": [
                {"rule_id": rule_id, "title": title, "count": n}
                for (rule_id, title), n in sorted(rest.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "more_count": sum(rest.values()),
        }
    )
    subject = str(getattr(module, "subject", "")).strip()
    return mask_text(subject), mask_text(str(module))


#: Most severe first when a digest is cut (see ``render_digest``).
_SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


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
            deliveries.c.alert_id.in_(part), deliveries.c.kind == "new"
        )
        done.update((r.alert_id, r.recipient) for r in conn.execute(q))
    return done


def alert_recipients(row: Mapping[Any, Any], directory: Directory) -> dict[str, list[str]]:
    """Who is told about a newly raised alert (employee id -> targets), per its notify_roles.

    An assignee the directory does not know is still a recipient (under their id), so the
    gap shows as a failed delivery rather than a silent omission.
    """
    targets = row.get("notify_roles") or ["official"]
    found = directory.recipients(targets, row.get("assignee"), row.get("department"))
    assignee = row.get("assignee")
    if "official" in targets and assignee and not any("official" in r for r in found.values()):
        found = {assignee: ["official"], **found}
    return found


def queue_message(
    conn: Connection,
    recipient_id: str,
    subject: str,
    body: str,
    ledger: Sequence[tuple[int, str]],
    directory: Directory,
    notify: NotifyConfig,
    *,
    run_id: int | None,
    now: datetime,
) -> int:
    """Queue one message to ``recipient_id`` on every channel; return the outbox rows written.

    ``ledger`` lists (alert id, kind) pairs the message carries; each becomes a
    ``deliveries`` row per outbox row (the delivery ledger per alert and recipient). A
    recipient lacking the address a channel needs gets a ``failed`` row with ``last_error``
    :data:`NO_ADDRESS`, and a warning. Runs inside the caller's transaction.
    """
    official = directory.get(recipient_id)
    first_kind: dict[int, str] = {}  # one ledger row per alert and message
    for alert_id, kind in ledger:
        first_kind.setdefault(alert_id, kind)
    written = 0
    for name in channel_names(notify):
        status, error = "pending", None
        channel = find_channel(notify, name)
        if name != OUTBOX_FILE_CHANNEL and (
            channel is None or fill_url(channel.url, official) is None
        ):
            status, error = "failed", NO_ADDRESS
            log.warning(
                "channel %s: recipient %s has no address for it; message about %d alert(s) "
                "recorded as failed",
                name,
                recipient_id,
                len(first_kind),
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
        if first_kind:
            conn.execute(
                insert(deliveries),
                [
                    {
                        "alert_id": alert_id,
                        "outbox_id": outbox_id,
                        "recipient": recipient_id,
                        "kind": kind,
                    }
                    for alert_id, kind in first_kind.items()
                ],
            )
        written += 1
    return written


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

    Recipients are those each alert's ``notify_roles`` name (:func:`alert_recipients`);
    unassigned alerts reach no official (a warning) but still their managers and the audit
    office when named. Only ``raised`` alerts are queued (a suppressed one never is). An
    alert already queued to a recipient (a ``deliveries`` row of kind ``new``) is not queued
    to them again, so a retried run does not mail twice. Channels are ``notify.channels``,
    or the built-in ``outbox-file`` when none is configured (:func:`queue_message`).
    Runs inside the caller's transaction; does not commit.
    """
    rows = _load_alerts(conn, alert_ids)
    done = _already_queued(conn, [r.id for r in rows])
    by_recipient: dict[str, list[Row[Any]]] = {}
    roles: dict[str, dict[int, list[str]]] = {}
    for r in rows:
        if r.status != "raised":
            continue
        if r.assignee is None:
            log.warning(
                "alert #%d (%s %s) has no assignee: no official is told",
                r.id,
                r.rule_id,
                r.record_key,
            )
        for recipient_id, told_as in alert_recipients(r._mapping, directory).items():
            if (r.id, recipient_id) in done:
                continue
            by_recipient.setdefault(recipient_id, []).append(r)
            roles.setdefault(recipient_id, {})[r.id] = told_as

    written = 0
    for recipient_id in sorted(by_recipient):
        items = by_recipient[recipient_id]
        subject, body = render_digest(
            directory.get(recipient_id),
            recipient_id,
            [r._mapping for r in items],
            notify.language,
            roles=roles[recipient_id],
            directory=directory,
            max_items=notify.digest_max_items,
        )
        written += queue_message(
            conn,
            recipient_id,
            subject,
            body,
            [(r.id, "new") for r in items],
            directory,
            notify,
            run_id=run_id,
            now=now,
        )
    return written
