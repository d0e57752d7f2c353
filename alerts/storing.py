"""Raising, stage 4 - store: the routed cases written to ``alerts``, their members and tallies.

New alerts are inserted (a duplicate another writer stored meanwhile is skipped, see the
module docstring of :mod:`naebu.alerts.raising`), grown alerts take their new records, and
unsuppressed alerts are raised as routed now; the scorecard's tallies
(:mod:`naebu.alerts.tallies`) count what was inserted or unsuppressed. :func:`store` gives
back what it wrote as :class:`Written` entries, which the tell stage turns into the audit
trail and the list of alerts to notify. Runs in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from naebu.alerts import case_members
from naebu.alerts.cases import Case
from naebu.alerts.dedup import Decision, evidence_hash
from naebu.alerts.tallies import COLUMNS as TALLY_COLUMNS
from naebu.alerts.tallies import record as record_tallies
from naebu.core.jsonsafe import json_safe
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import upsert_insert

log = logging.getLogger(__name__)


@dataclass
class Routed:
    """What the route stage gives the store stage, each list in the order of the cases."""

    #: New alert rows to insert, with the decision each comes from (raise, follow-up, reopen).
    inserts: list[tuple[Decision, dict[str, Any]]] = field(default_factory=list)
    #: Open (or suppressed) alerts that new records join.
    grown: list[Decision] = field(default_factory=list)
    #: Suppressed alerts to raise, with the columns routed anew (assignee, deadline ...).
    unsuppress: list[tuple[Decision, dict[str, Any]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.grown or self.unsuppress)


@dataclass(frozen=True)
class Written:
    """One alert the store stage wrote, as its audit-trail entry will say it."""

    action: str
    alert_id: int
    details: dict[str, Any]
    from_status: str | None = None
    to_status: str | None = None
    #: The fingerprint of the case whose alert is notified; None when nobody is told now.
    told: str | None = None


def store(conn: Connection, routed: Routed, run_id: int | None, now: datetime) -> list[Written]:
    """Stage 4. Takes the routed cases; writes them (alerts, members, tallies) and gives
    what was written: the inserted alerts in order, then the grown, then the unsuppressed.

    An insert another writer beat us to, or an unsuppress another writer already did, writes
    nothing and gives nothing.
    """
    rows = [row for _decision, row in routed.inserts]
    inserted = insert_ignoring_duplicates(conn, rows) if rows else {}
    skipped = len(rows) - len(inserted)
    if skipped:
        log.info("%d finding(s) were stored by another writer meanwhile; skipped", skipped)
    written: list[Written] = []
    # The scorecard's tallies count what was inserted or unsuppressed (naebu.alerts.tallies).
    tallied: list[tuple[None, dict[str, Any]]] = []
    members: list[tuple[int, Case, Sequence[str]]] = []
    for decision, row in routed.inserts:
        alert_id = inserted.get(row["fingerprint"])
        if alert_id is None:
            continue
        case = decision.case
        members.append((alert_id, case, case.record_keys))
        tallied.append((None, row))
        written.append(_inserted(decision, row, alert_id))
    case_members.add_many(conn, members, now)
    for decision in routed.grown:
        written.append(_grow(conn, decision, run_id, now))
    for decision, values in routed.unsuppress:
        done = _unsuppress(conn, decision, values, run_id, now)
        if done is not None:
            tallied.append((None, done[0]))
            written.append(done[1])
    record_tallies(conn, tallied)
    return written


def _inserted(decision: Decision, row: dict[str, Any], alert_id: int) -> Written:
    """The trail entry of a newly inserted alert: raised, suppressed, followed up or reopened."""
    told: str | None = decision.fingerprint
    if row["status"] == "suppressed":
        action, details = "suppress", {"suppression_id": row["suppression_id"]}
        told = None
    elif decision.kind == "follow_up":
        action, details = "follow_up", {"reopened_from": row["reopened_from"]}
    elif row.get("reopened_from"):
        action, details = "reopen", {"reopened_from": row["reopened_from"]}
    else:
        action, details = "raise", {}
    details.update(assignee=row["assignee"], notify=row["notify_roles"])
    return Written(action, alert_id, details, to_status=row["status"], told=told)


def insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert ``rows``; return fingerprint -> id of the rows actually inserted."""
    inserted: dict[str, int] = {}
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = (
            upsert_insert(conn, alerts_table)
            .on_conflict_do_nothing(index_elements=["fingerprint"])
            .returning(alerts_table.c.id, alerts_table.c.fingerprint)
        )
        # Executed for all rows at once (SQLAlchemy batches them as multi-row INSERTs with
        # RETURNING): a skipped row returns nothing, and each returned row names its
        # fingerprint, so the mapping stays exact. A first run raises thousands.
        for group in _same_keys(rows):
            for res in conn.execute(stmt, group):
                inserted[res.fingerprint] = res.id
        return inserted
    # Other databases: a savepoint per row, so a duplicate rolls back only itself.
    for row in rows:
        try:
            with conn.begin_nested():
                result = conn.execute(insert(alerts_table), row)
        except IntegrityError:
            continue
        pk = result.inserted_primary_key
        if pk is not None:
            inserted[row["fingerprint"]] = int(pk[0])
    return inserted


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``rows`` grouped by their set of keys (a reopened alert has one more), in order of
    first appearance: an executemany needs the same parameters in every row."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _grow(conn: Connection, decision: Decision, run_id: int | None, now: datetime) -> Written:
    """The new records join the open (or suppressed) alert: its members, message and
    evidence are brought up to date. The trail entry tells its official (not while
    suppressed: :mod:`naebu.alerts.escalation` tells only of open alerts)."""
    case, alert_id, new = decision.case, int(decision.alert.id), decision.new_records
    f = case.as_finding()
    case_members.add(conn, alert_id, case, new, now)
    values = {
        "updated_at": now,
        "message": f.message,
        "evidence": json_safe(dict(f.evidence)),
        "evidence_hash": evidence_hash(f.evidence),
        "case_key": case.key,
    }
    conn.execute(update(alerts_table).where(alerts_table.c.id == alert_id).values(**values))
    details = {"added": list(new), "count": len(case.record_keys), "run_id": run_id}
    return Written("case_update", alert_id, details)


def _unsuppress(
    conn: Connection, decision: Decision, values: dict[str, Any], run_id: int | None, now: datetime
) -> tuple[dict[str, Any], Written] | None:
    """Raise the suppressed alert with ``values``; give its tallied columns and its trail
    entry, or None when it is no longer suppressed (another writer was first)."""
    old = decision.alert
    done = conn.execute(
        update(alerts_table)
        .where(alerts_table.c.id == old.id, alerts_table.c.status == "suppressed")
        .values(status="raised", updated_at=now, run_id=run_id, **values)
    ).rowcount
    if not done:
        return None
    now_row = conn.execute(
        select(*(alerts_table.c[c] for c in TALLY_COLUMNS)).where(alerts_table.c.id == old.id)
    ).one()
    details = {"assignee": values["assignee"], "notify": values["notify_roles"]}
    if decision.changed:
        details["record_changed"] = True
    step = Written(
        "unsuppress",
        old.id,
        details,
        from_status="suppressed",
        to_status="raised",
        told=decision.fingerprint,
    )
    return dict(now_row._mapping), step
