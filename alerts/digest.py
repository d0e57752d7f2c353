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
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Connection, insert, select

from alerts.channels import OUTBOX_FILE_CHANNEL, channel_names, fill_url, find_channel
from alerts.deadline_text import deadline_text
from alerts.digest_summary import digest_summary
from alerts.directory import Directory, Official
from alerts.evidence_text import dataset_title, evidence_lines
from alerts.explain import explain_rules
from alerts.masking import mask_document, mask_text
from alerts.raising import chunks
from engine.rule import SEVERITIES, RuleMeta
from naebu.config import NotifyConfig
from naebu.links import alert_link, inbox_link
from naebu.store import alerts as alerts_table
from naebu.store import deliveries, insert_many_sqlite, outbox

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


def render_digest(
    recipient: Official | None,
    recipient_id: str,
    alerts: Sequence[Mapping[Any, Any]],
    language: str = "ko",
    roles: Mapping[int, Sequence[str]] | None = None,
    directory: Directory | None = None,
    max_items: int | None = None,
    *,
    today: date | None = None,
    base_url: str | None = None,
    rules: Mapping[str, RuleMeta] | None = None,
) -> tuple[str, str]:
    """The masked ``(subject, body)`` of a digest of ``alerts`` (rows of the alerts table).

    ``roles`` maps an alert id to what the recipient is told as (default: ``official``);
    an alert that is not the recipient's to handle names its assignee (from ``directory``).
    With more than ``max_items`` alerts, the most severe ``max_items`` are written out in
    full and the rest counted per rule: an audit office told of every high-severity alert of
    a province would otherwise get one mail of thousands of pages. Deadlines count the days
    left from ``today`` (the run's clock; :mod:`alerts.deadline_text`); with ``base_url``
    (``[web] base_url``) each alert and the inbox are linked (:mod:`naebu.links`).
    ``rules`` (rule id -> :class:`RuleMeta`) gives each rule's basis and why it is a red
    flag, written once per rule.
    """
    department = _first_department(recipient, alerts)
    ordered = sorted(alerts, key=lambda a: (-SEVERITY_RANK.get(a["severity"], -1), a["id"]))
    template = environment().get_template(f"digest_{language}.j2")
    return _render(
        template,
        recipient,
        recipient_id,
        department,
        ordered,
        language,
        roles,
        directory,
        max_items,
        {},
        today,
        base_url,
        rules,
    )


def _first_department(recipient: Official | None, alerts: Iterable[Mapping[Any, Any]]) -> Any:
    """The department a digest names: the recipient's, else the first alert's that has one."""
    if recipient is not None and recipient.department:
        return recipient.department
    return next((a["department"] for a in alerts if a["department"]), None)


def _render(
    template: Template,
    recipient: Official | None,
    recipient_id: str,
    department: Any,
    ordered: Sequence[Mapping[Any, Any]],
    language: str,
    roles: Mapping[int, Sequence[str]] | None,
    directory: Directory | None,
    max_items: int | None,
    shared: dict[int, tuple[Any, ...]],
    today: date | None = None,
    base_url: str | None = None,
    rules: Mapping[str, RuleMeta] | None = None,
) -> tuple[str, str]:
    """:func:`render_digest` of alerts already in digest order (most severe first, then by id).

    ``shared`` keeps, by alert id, the parts of an item that do not depend on the recipient
    (the masked evidence above all): a province's alert is written out in the digests of its
    official, their managers and every auditor, and is worked out once for all of them.
    """
    labels = SEVERITY_LABELS.get(language, SEVERITY_LABELS["ko"])
    role_labels = ROLE_LABELS.get(language, ROLE_LABELS["ko"])
    shown = ordered if max_items is None else ordered[:max_items]
    hidden = ordered[len(shown) :]
    rest = per_rule(map(itemgetter("rule_id", "title"), hidden))
    items = []
    for a in shown:
        mine = roles is None or "official" in roles.get(a["id"], ("official",))
        told_as = [] if mine or roles is None else list(roles.get(a["id"], ()))
        parts = shared.get(a["id"])
        if parts is None:
            parts = shared[a["id"]] = _shared_parts(a, labels, language, directory, today)
        items.append(
            {
                "id": parts[0],
                "rule_id": parts[1],
                "title": parts[2],
                "message": parts[3],
                "dataset": parts[4],
                "record_key": parts[5],
                "severity": parts[6],
                "deadline": parts[7],
                "evidence": parts[8],
                "mine": mine,
                "role": ", ".join(role_labels.get(r, r) for r in told_as),
                "assignee": parts[9],
                "link": alert_link(base_url, a["id"]),
            }
        )
    all_mine = roles is None or all(
        "official" in roles.get(a["id"], ("official",)) for a in ordered
    )
    module = template.make_module(
        {
            "recipient": recipient.display_name if recipient else recipient_id,
            "department": department,
            "alerts": items,
            "count": len(ordered),
            "all_mine": all_mine,
            # A manager or auditor is told of others' alerts: they also see them per department.
            "summary": digest_summary(ordered, labels, language, today, by_department=not all_mine),
            "more": rest,
            "more_count": len(hidden),
            "inbox_link": inbox_link(base_url),
            "rules": explain_rules(map(itemgetter("rule_id"), ordered), rules, language),
        }
    )
    subject = str(getattr(module, "subject", "")).strip()
    return mask_text(subject), mask_document(str(module))


def _shared_parts(
    a: Mapping[Any, Any],
    labels: Mapping[str, str],
    language: str,
    directory: Directory | None,
    today: date | None,
) -> tuple[Any, ...]:
    """The recipient-independent fields of a digest item, in the order ``_render`` reads them."""
    assignee = directory.get(a["assignee"]) if directory is not None else None
    evidence = a["evidence"] if isinstance(a["evidence"], Mapping) else {}
    deadline = a["deadline"]
    return (
        a["id"],
        a["rule_id"],
        a["title"],
        a["message"],
        dataset_title(a["dataset"], language),
        a["record_key"],
        labels.get(a["severity"], a["severity"]),
        deadline_text(deadline, today, language),
        evidence_lines(evidence, a["dataset"], language, directory),
        assignee.display_name if assignee else (a["assignee"] or "-"),
    )


#: Most severe first when a digest is cut (see ``render_digest``).
def per_rule(rules: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """How many items each rule has, from one ``(rule_id, title)`` per item, most first: the
    part of a digest counted, not written out (``more`` in the templates)."""
    counts = Counter(rules)  # in C: an auditor's digest of a province counts thousands
    return [
        {"rule_id": rule_id, "title": title, "count": n}
        for (rule_id, title), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


#: Severity -> rank, higher is more severe (digests write the most severe alerts first).
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


#: The columns of ``alerts`` a digest is routed and written from (see ``render_digest``).
DIGEST_COLUMNS = (
    "id",
    "status",
    "rule_id",
    "title",
    "message",
    "dataset",
    "record_key",
    "severity",
    "department",
    "assignee",
    "deadline",
    "evidence",
    "notify_roles",
)


def _load_alerts(conn: Connection, alert_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The alerts of ``alert_ids`` in id order, as dicts of :data:`DIGEST_COLUMNS`."""
    ids = sorted(set(alert_ids))
    columns = [alerts_table.c[name] for name in DIGEST_COLUMNS]
    rows: list[dict[str, Any]] = []
    for part in chunks(ids):
        # Plain dicts: a province run reads each of these hundreds of thousands of times.
        found = conn.execute(select(*columns).where(alerts_table.c.id.in_(part)))
        rows.extend(dict(zip(DIGEST_COLUMNS, r, strict=True)) for r in found)
    rows.sort(key=itemgetter("id"))
    return rows


def _already_queued(conn: Connection, alert_ids: Sequence[int]) -> set[tuple[int, str]]:
    done: set[tuple[int, str]] = set()
    for part in chunks(alert_ids):
        q = select(deliveries.c.alert_id, deliveries.c.recipient).where(
            deliveries.c.alert_id.in_(part), deliveries.c.kind == "new"
        )
        done.update((alert_id, recipient) for alert_id, recipient in conn.execute(q))
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
    first_kind: dict[int, str] = {}  # one ledger row per alert and message
    for alert_id, kind in ledger:
        first_kind.setdefault(alert_id, kind)
    outbox_ids = _queue_outbox(
        conn,
        recipient_id,
        subject,
        body,
        len(first_kind),
        directory,
        notify,
        run_id=run_id,
        now=now,
    )
    insert_deliveries(
        conn,
        [
            (alert_id, outbox_id, recipient_id, kind)
            for outbox_id in outbox_ids
            for alert_id, kind in first_kind.items()
        ],
    )
    return len(outbox_ids)


#: One outbox row; built once, so each message costs no statement building.
_INSERT_OUTBOX = insert(outbox).returning(outbox.c.id)


def _queue_outbox(
    conn: Connection,
    recipient_id: str,
    subject: str,
    body: str,
    alert_count: int,
    directory: Directory,
    notify: NotifyConfig,
    *,
    run_id: int | None,
    now: datetime,
) -> list[int]:
    """The outbox rows of one message, one per channel (see :func:`queue_message`); their ids."""
    official = directory.get(recipient_id)
    outbox_ids = []
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
                alert_count,
            )
        outbox_id = conn.execute(
            _INSERT_OUTBOX,
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
        outbox_ids.append(int(outbox_id))
    return outbox_ids


#: The columns of a ``deliveries`` row, in the order :func:`insert_deliveries` takes them.
DELIVERY_COLUMNS = ("alert_id", "outbox_id", "recipient", "kind")
#: Rows per multi-row INSERT on PostgreSQL.
_PG_PAGE = 5_000


def insert_deliveries(conn: Connection, rows: Sequence[tuple[int, int, str, str]]) -> None:
    """Write ``deliveries`` rows given as (alert id, outbox id, recipient, kind) tuples.

    A province run writes hundreds of thousands of them. SQLite gets the driver's own
    ``executemany`` and psycopg2 ``execute_values`` (one prepared statement, no per-row
    SQLAlchemy work, as ``naebu.history`` writes records); other databases an ordinary
    SQLAlchemy ``insert`` with a list of parameters.
    """
    if not rows:
        return
    dialect = conn.dialect
    prep = dialect.identifier_preparer
    table = prep.format_table(deliveries)
    names = ", ".join(prep.quote(c) for c in DELIVERY_COLUMNS)
    if dialect.name == "sqlite":
        flat = [value for row in rows for value in row]
        insert_many_sqlite(conn, f"INSERT INTO {table} ({names}) VALUES {{}}".format, flat, 4)
    elif dialect.name == "postgresql" and dialect.driver == "psycopg2":
        from psycopg2.extras import execute_values

        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            sql = f"INSERT INTO {table} ({names}) VALUES %s"
            execute_values(cursor, sql, rows, page_size=_PG_PAGE)
        finally:
            cursor.close()
    else:
        conn.execute(
            insert(deliveries), [dict(zip(DELIVERY_COLUMNS, r, strict=True)) for r in rows]
        )


def queue_digests(
    conn: Connection,
    alert_ids: Iterable[int],
    directory: Directory,
    notify: NotifyConfig,
    *,
    run_id: int | None,
    now: datetime,
    rules: Mapping[str, RuleMeta] | None = None,
) -> int:
    """Queue one digest per recipient and channel for ``alert_ids``; return the rows written.

    Recipients are those each alert's ``notify_roles`` name (:func:`alert_recipients`);
    unassigned alerts reach no official (a warning) but still their managers and the audit
    office when named. Only ``raised`` alerts are queued (a suppressed one never is). An
    alert already queued to a recipient (a ``deliveries`` row of kind ``new``) is not queued
    to them again, so a retried run does not mail twice. Channels are ``notify.channels``,
    or the built-in ``outbox-file`` when none is configured (:func:`queue_message`).
    ``rules`` (rule id -> :class:`RuleMeta`) adds each rule's basis and why once per digest.
    Runs inside the caller's transaction; does not commit.
    """
    rows = _load_alerts(conn, alert_ids)
    done = _already_queued(conn, [r["id"] for r in rows])
    # Alerts told to the same people (same notify_roles, assignee and department) are routed
    # together: a province run has tens of thousands of alerts but a few thousand such groups.
    # Alerts are handled by their index in ``rows`` (id order): sorting numbers is done in C.
    groups: dict[tuple[tuple[str, ...], str | None, str | None], list[int]] = {}
    for n, r in enumerate(rows):
        if r["status"] != "raised":
            continue
        if r["assignee"] is None:
            log.warning(
                "alert #%d (%s %s) has no assignee: no official is told",
                r["id"],
                r["rule_id"],
                r["record_key"],
            )
        key = (tuple(r["notify_roles"] or ()), r["assignee"], r["department"])
        groups.setdefault(key, []).append(n)
    # Per recipient, the groups they are told of and as what; joined per recipient below.
    parts: dict[str, list[tuple[list[int], list[int], list[str]]]] = {}
    for members in groups.values():
        ids = [rows[n]["id"] for n in members]
        for recipient_id, told_as in alert_recipients(rows[members[0]], directory).items():
            if done:
                told = [n for n in members if (rows[n]["id"], recipient_id) not in done]
                parts.setdefault(recipient_id, []).append(
                    (told, [rows[n]["id"] for n in told], told_as)
                )
            else:
                parts.setdefault(recipient_id, []).append((members, ids, told_as))

    if not parts:
        return 0
    # The digest order (most severe first, then by id: see render_digest), worked out once.
    order = sorted(
        range(len(rows)),
        key=lambda n: (-SEVERITY_RANK.get(rows[n]["severity"], -1), rows[n]["id"]),
    )
    in_order = [rows[n] for n in order]
    position = [0] * len(rows)
    for place, n in enumerate(order):
        position[n] = place
    template = environment().get_template(f"digest_{notify.language}.j2")
    written = 0
    ledger: list[tuple[int, int, str, str]] = []
    shared: dict[int, tuple[Any, ...]] = {}
    for recipient_id in sorted(parts):
        told = list(chain.from_iterable(members for members, _, _ in parts[recipient_id]))
        if not told:
            continue
        told.sort()  # each alert once per recipient, in id order
        roles = dict(
            chain.from_iterable(zip(ids, repeat(as_)) for _, ids, as_ in parts[recipient_id])
        )
        items = list(map(rows.__getitem__, told))
        official = directory.get(recipient_id)
        subject, body = _render(
            template,
            official,
            recipient_id,
            _first_department(official, items),
            list(map(in_order.__getitem__, sorted(map(position.__getitem__, told)))),
            notify.language,
            roles,
            directory,
            notify.digest_max_items,
            shared,
            now.date(),
            notify.base_url,
            rules,
        )
        outbox_ids = _queue_outbox(
            conn,
            recipient_id,
            subject,
            body,
            len(items),
            directory,
            notify,
            run_id=run_id,
            now=now,
        )
        ids = list(map(itemgetter("id"), items))
        for outbox_id in outbox_ids:
            ledger.extend(zip(ids, repeat(outbox_id), repeat(recipient_id), repeat("new")))
        written += len(outbox_ids)
        if len(ledger) >= _LEDGER_BATCH:
            insert_deliveries(conn, ledger)
            ledger = []
    insert_deliveries(conn, ledger)
    return written


#: Ledger rows kept before they are written (bounds the memory of a province run).
_LEDGER_BATCH = 50_000
