"""The records of each alert's case in the store (``alert_members``).

A record that joins a case is looked up here by rule and record key: the alert that already
holds one of a case's records is the case's alert, whatever its fingerprint (an alert raised
per record before cases existed holds its one record, migration 0014).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from naebu.alerts.cases import Case
from naebu.store.tables import alert_members
from naebu.store.tables import alerts as alerts_table

#: Keys per ``IN (...)`` query; well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

MemberKey = tuple[str, str, str]  # rule id, dataset, record key


def holders(conn: Connection, cases: Sequence[Case]) -> dict[MemberKey, int]:
    """For each record of ``cases`` that an alert already holds: the newest such alert."""
    wanted: dict[str, set[str]] = {}
    for case in cases:
        wanted.setdefault(case.rule_id, set()).update(case.record_keys)
    m = alert_members.c
    found: dict[MemberKey, int] = {}
    for rule_id, keys in wanted.items():
        ordered = sorted(keys)
        for i in range(0, len(ordered), CHUNK):
            rows = conn.execute(
                select(m.dataset, m.record_key, m.alert_id).where(
                    m.rule_id == rule_id, m.record_key.in_(ordered[i : i + CHUNK])
                )
            )
            for r in rows:
                key = (rule_id, r.dataset, r.record_key)
                found[key] = max(found.get(key, 0), int(r.alert_id))
    return found


def alert_rows(conn: Connection, ids: Iterable[int]) -> dict[int, Any]:
    """The identity and state of the alerts ``ids``: what deciding a case's fate needs."""
    a = alerts_table.c
    wanted = sorted(set(ids))
    found: dict[int, Any] = {}
    for i in range(0, len(wanted), CHUNK):
        rows = conn.execute(
            select(a.id, a.fingerprint, a.finding_fingerprint, a.status, a.evidence_hash).where(
                a.id.in_(wanted[i : i + CHUNK])
            )
        )
        for r in rows:
            found[int(r.id)] = r
    return found


def add(
    conn: Connection, alert_id: int, case: Case, record_keys: Iterable[str], now: datetime
) -> None:
    """Record ``record_keys`` as members of the alert ``alert_id`` (``case``'s alert)."""
    add_many(conn, [(alert_id, case, record_keys)], now)


def add_many(
    conn: Connection, members: Iterable[tuple[int, Case, Iterable[str]]], now: datetime
) -> None:
    """Record each ``(alert_id, case, record_keys)``'s keys as members of that alert, in one
    statement (a first province run inserts fifteen thousand alerts at once)."""
    rows = [
        {
            "alert_id": alert_id,
            "record_key": key,
            "rule_id": case.rule_id,
            "dataset": case.dataset,
            "added_at": now,
        }
        for alert_id, case, record_keys in members
        for key in dict.fromkeys(record_keys)
    ]
    if rows:
        conn.execute(insert(alert_members), rows)


def records_of(conn: Connection, ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    """The record keys of each alert's case, in the order they joined: of the alerts ``ids``,
    or of every alert (None). An alert the table holds no row for is left out."""
    m = alert_members.c
    query = select(m.alert_id, m.record_key).order_by(m.alert_id, m.added_at, m.record_key)
    parts = [None] if ids is None else [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    found: dict[int, list[str]] = {}
    for part in parts:
        chosen = query if part is None else query.where(m.alert_id.in_(part))
        for alert_id, key in conn.execute(chosen):
            found.setdefault(int(alert_id), []).append(str(key))
    return found
