"""Raising: findings become stored alerts, each finding once.

The first stage of the alert pipeline (dedup -> route -> store). A finding's fingerprint
(rule, dataset, record key) is its identity: a finding already in the ``alerts`` table is not
raised again, so re-running a window or restarting after a crash sends nothing twice.

Dedup is done twice on purpose. A bulk pre-select of the fingerprints already stored keeps
the common case (most findings are old) cheap; the table's unique constraint is the last
guard against a concurrent writer, via ``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and
PostgreSQL and a savepoint per row elsewhere. A plain failed INSERT would abort the caller's
PostgreSQL transaction, losing everything else the run wrote in it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from alerts.calendar import add_business_days
from alerts.directory import Directory
from engine.findings import Finding
from engine.rule import RuleMeta
from naebu.store import alerts as alerts_table

log = logging.getLogger(__name__)

#: Fingerprints per ``IN (...)`` query; well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def existing_fingerprints(conn: Connection, fingerprints: Iterable[str]) -> set[str]:
    """The fingerprints among ``fingerprints`` that the alerts table already holds."""
    wanted = sorted(set(fingerprints))
    found: set[str] = set()
    for part in chunks(wanted):
        rows = conn.execute(
            select(alerts_table.c.fingerprint).where(alerts_table.c.fingerprint.in_(part))
        )
        found.update(r[0] for r in rows)
    return found


def json_safe(value: Any) -> Any:
    """``value`` made storable as JSON: dates as ISO text, NaN/NA as None, numpy scalars unboxed."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    try:
        if pd.isna(value) is True:  # pd.NA, pd.NaT, numpy nan
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return json_safe(value.item())
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value


def _row(
    f: Finding,
    rule: RuleMeta,
    directory: Directory,
    run_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    assignee = directory.assignee_for(f.department, f.official_id)
    department = f.department or (assignee.department if assignee else None)
    if assignee is None:
        log.warning(
            "alert %s on %s %s: no official to route to (department %s, official %s); "
            "stored unassigned",
            f.rule_id,
            f.dataset,
            f.record_key,
            department or "-",
            f.official_id or "-",
        )
    return {
        "fingerprint": f.fingerprint,
        "rule_id": f.rule_id,
        "dataset": f.dataset,
        "record_key": f.record_key,
        "severity": f.severity or rule.severity,
        "status": "raised",
        "department": department,
        "assignee": assignee.employee_id if assignee else None,
        "title": rule.title,
        "message": f.message,
        "evidence": json_safe(dict(f.evidence)),
        "event_time": f.event_time,
        "created_at": now,
        "deadline": add_business_days(now, rule.deadline_days),
        "run_id": run_id,
    }


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert ``rows``; return fingerprint -> id of the rows actually inserted."""
    inserted: dict[str, int] = {}
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = (
            (sqlite_insert if dialect == "sqlite" else pg_insert)(alerts_table)
            .on_conflict_do_nothing(index_elements=["fingerprint"])
            .returning(alerts_table.c.id, alerts_table.c.fingerprint)
        )
        # One statement per row keeps RETURNING exact when some rows are skipped; the rows
        # are few (new findings only) and all in the caller's transaction.
        for row in rows:
            res = conn.execute(stmt, row).first()
            if res is not None:
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


def raise_alerts(
    conn: Connection,
    findings: Sequence[Finding],
    rules: Mapping[str, RuleMeta],
    directory: Directory,
    *,
    run_id: int | None,
    now: datetime,
) -> list[int]:
    """Store one ``raised`` alert per new finding; return the new alerts' ids in finding order.

    A finding whose fingerprint is already stored, or repeats an earlier finding of the same
    call, is skipped. Each alert is routed (:meth:`Directory.assignee_for`) and given a
    deadline of ``rule.deadline_days`` business days from ``now``. An alert with no official
    to route to is stored unassigned and logged as a warning.

    Runs inside the caller's transaction and does not commit.

    Raises ``ValueError`` (before writing anything) when a finding names a rule that is not
    in ``rules``.
    """
    unknown = sorted({f.rule_id for f in findings if f.rule_id not in rules})
    if unknown:
        raise ValueError("findings of unknown rules: " + ", ".join(unknown))

    fresh: dict[str, Finding] = {}
    for f in findings:
        fresh.setdefault(f.fingerprint, f)
    for fp in existing_fingerprints(conn, fresh):
        del fresh[fp]
    if not fresh:
        return []

    rows = [_row(f, rules[f.rule_id], directory, run_id, now) for f in fresh.values()]
    inserted = _insert_ignoring_duplicates(conn, rows)
    skipped = len(rows) - len(inserted)
    if skipped:
        log.info("%d finding(s) were stored by another writer meanwhile; skipped", skipped)
    return [inserted[fp] for fp in fresh if fp in inserted]
