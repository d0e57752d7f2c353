"""Digests: one message per official per run per channel, listing that official's new alerts.

The grouping stage of the pipeline (raise -> route -> group -> send -> record). An official
with twelve new alerts gets one mail, not twelve. An alert goes to everyone its
``notify_roles`` name (decided when it was raised): the official in charge, the department's
managers, the audit office; a manager's digest says whose alert each one is. Each digest is
rendered as text and as HTML by :mod:`naebu.alerts.digest_render` (masked, in the Jinja2 sandbox of
:mod:`naebu.alerts.templating`).

Queuing writes ``outbox`` rows (``pending``, sent later by :mod:`naebu.alerts.outbox`; the text in
``body``, the HTML in ``body_html``) and the ``deliveries`` rows linking each alert to the
message that carries it, in the caller's transaction: alerts and their notifications commit
together.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, insert, select

from naebu.alerts.channels import OUTBOX_FILE_CHANNEL, channel_names, fill_url, find_channel
from naebu.alerts.digest_render import (
    digest_templates,
    first_department,
    render_digest,
    render_digest_mail,
    render_ordered,
)
from naebu.alerts.directory import Directory
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.raising import chunks
from naebu.alerts.templating import (
    ROLE_LABELS,
    SEVERITY_LABELS,
    SEVERITY_RANK,
    environment,
    per_rule,
)
from naebu.engine.rule import RuleMeta
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import deliveries, insert_many_sqlite, outbox

log = logging.getLogger(__name__)

__all__ = [
    "DIGEST_COLUMNS",
    "NO_ADDRESS",
    "ROLE_LABELS",
    "SEVERITY_LABELS",
    "SEVERITY_RANK",
    "alert_recipients",
    "environment",
    "insert_deliveries",
    "per_rule",
    "queue_digests",
    "queue_message",
    "render_digest",
    "render_digest_mail",
]

#: ``last_error`` of a message whose recipient lacks the address a channel needs.
NO_ADDRESS = "no address for recipient"


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
    html: str | None = None,
) -> int:
    """Queue one message to ``recipient_id`` on every channel; return the outbox rows written.

    ``ledger`` lists (alert id, kind) pairs the message carries; each becomes a
    ``deliveries`` row per outbox row (the delivery ledger per alert and recipient). A
    recipient lacking the address a channel needs gets a ``failed`` row with ``last_error``
    :data:`NO_ADDRESS`, and a warning. ``html`` is the message's HTML part (``body_html``,
    sent beside the text to email channels). Runs inside the caller's transaction.
    """
    first_kind: dict[int, str] = {}  # one ledger row per alert and message
    for alert_id, kind in ledger:
        first_kind.setdefault(alert_id, kind)
    # The outbox rows of the message, one per channel; their ids.
    rows = _outbox_rows(
        recipient_id,
        subject,
        body,
        len(first_kind),
        directory,
        notify,
        run_id=run_id,
        now=now,
        html=html,
    )
    outbox_ids = _insert_outbox(conn, rows)
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
#: Many outbox rows in one statement, their ids returned in the order of the rows given.
_INSERT_OUTBOXES = insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True)


def _outbox_rows(
    recipient_id: str,
    subject: str,
    body: str,
    alert_count: int,
    directory: Directory,
    notify: NotifyConfig,
    *,
    run_id: int | None,
    now: datetime,
    html: str | None = None,
) -> list[dict[str, Any]]:
    """The values of the outbox rows of one message, one per channel; a recipient lacking a
    channel's address gets a ``failed`` row there (and a warning)."""
    official = directory.get(recipient_id)
    rows = []
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
        rows.append(
            {
                "run_id": run_id,
                "recipient": recipient_id,
                "channel": name,
                "subject": subject,
                "body": body,
                "body_html": html,
                "status": status,
                "attempts": 0,
                "next_attempt_at": now if status == "pending" else None,
                "last_error": error,
                "created_at": now,
            }
        )
    return rows


def _insert_outbox(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Write outbox ``rows``; their ids, in the order of ``rows``.

    Where the database returns the ids of a many-row insert in order (SQLite, PostgreSQL,
    MariaDB: SQLAlchemy's "insertmanyvalues"), one statement writes them all; elsewhere (MySQL)
    one statement each.
    """
    if len(rows) > 1 and conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        found = conn.execute(_INSERT_OUTBOXES, list(rows)).scalars().all()
        return [int(outbox_id) for outbox_id in found]
    return [int(conn.execute(_INSERT_OUTBOX, row).scalar_one()) for row in rows]


#: The columns of a ``deliveries`` row, in the order :func:`insert_deliveries` takes them.
DELIVERY_COLUMNS = ("alert_id", "outbox_id", "recipient", "kind")
#: Rows per multi-row INSERT on PostgreSQL.
_PG_PAGE = 5_000


def insert_deliveries(conn: Connection, rows: Sequence[tuple[int, int, str, str]]) -> None:
    """Write ``deliveries`` rows given as (alert id, outbox id, recipient, kind) tuples.

    A province run writes hundreds of thousands of them. SQLite gets the driver's own
    ``executemany`` and psycopg2 ``execute_values`` (one prepared statement, no per-row
    SQLAlchemy work, as ``naebu.store.history`` writes records); other databases an ordinary
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
    # A province's first run renders thousands of digests: millions of short-lived dicts and
    # lists, next to no reference cycles. The cyclic garbage collector's passes over them
    # cost about a tenth of the queueing and free next to nothing; it runs again afterwards.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _queue(conn, alert_ids, directory, notify, run_id=run_id, now=now, rules=rules)
    finally:
        if was_enabled:
            gc.enable()


def _queue(
    conn: Connection,
    alert_ids: Iterable[int],
    directory: Directory,
    notify: NotifyConfig,
    *,
    run_id: int | None,
    now: datetime,
    rules: Mapping[str, RuleMeta] | None,
) -> int:
    """:func:`queue_digests` with the collector paused."""
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
    templates = digest_templates(notify.language)
    written = 0
    # Outbox rows not yet written, and the alerts (indexes in ``rows``) each carries.
    batch: list[dict[str, Any]] = []
    carried: list[list[int]] = []
    held = 0
    shared: dict[int, dict[str, Any]] = {}
    masked: dict[str, str] = {}  # the masked lines of every digest of this call
    fragments: dict[Any, Any] = {}  # the items' parts rendered once (digest_fragments)
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
        subject, body, html = render_ordered(
            templates,
            official,
            recipient_id,
            first_department(official, items),
            list(map(in_order.__getitem__, sorted(map(position.__getitem__, told)))),
            notify.language,
            roles,
            directory,
            notify.digest_max_items,
            shared,
            now.date(),
            notify.base_url,
            rules,
            masked,
            fragments,
        )
        message_rows = _outbox_rows(
            recipient_id,
            subject,
            body,
            len(items),
            directory,
            notify,
            run_id=run_id,
            now=now,
            html=html,
        )
        batch.extend(message_rows)
        carried.extend(repeat(told, len(message_rows)))
        held += len(message_rows) * (len(body) + len(html))
        if held >= _OUTBOX_BATCH_CHARS:
            written += _write_batch(conn, batch, carried, rows_of=rows)
            batch, carried, held = [], [], 0
    written += _write_batch(conn, batch, carried, rows_of=rows)
    return written


#: Text (characters of bodies) of the outbox rows kept before they are written in one
#: statement: a province's thousands of digests are written in a few statements, and only a
#: few megabytes of them are held at a time.
_OUTBOX_BATCH_CHARS = 4_000_000


def _write_batch(
    conn: Connection,
    batch: list[dict[str, Any]],
    carried: list[list[int]],
    *,
    rows_of: Sequence[Mapping[str, Any]],
) -> int:
    """Write the outbox rows of ``batch`` and, for each, the ``deliveries`` rows of the alerts
    it carries (``carried``: their indexes in ``rows_of``); the rows written."""
    if not batch:
        return 0
    outbox_ids = _insert_outbox(conn, batch)
    ledger: list[tuple[int, int, str, str]] = []
    for outbox_id, row, told in zip(outbox_ids, batch, carried, strict=True):
        ids = [rows_of[n]["id"] for n in told]
        ledger.extend(zip(ids, repeat(outbox_id), repeat(row["recipient"]), repeat("new")))
    insert_deliveries(conn, ledger)
    return len(outbox_ids)
