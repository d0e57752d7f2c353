"""Raising: findings become stored alerts, each case once.

The first stage of the alert pipeline (dedup -> route -> store). Findings are grouped into
cases (:mod:`naebu.alerts.cases`: an official and a month, a set of duplicates, a record); a case's
fingerprint (rule, dataset, case key - a one-record case's is its finding's) is its identity,
and the records it holds are its members (``alert_members``): a case already in the
``alerts`` table is not raised again, so re-running a window or restarting after a crash sends
nothing twice. A new record joining a case updates its open alert, or opens a follow-up of
its closed one (:func:`raise_alerts`).

Dedup is done twice on purpose. A bulk pre-select of the fingerprints already stored keeps
the common case (most findings are old) cheap; the table's unique constraint is the last
guard against a concurrent writer, via ``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and
PostgreSQL and a savepoint per row elsewhere. A plain failed INSERT would abort the caller's
PostgreSQL transaction, losing everything else the run wrote in it.

A known finding raises nothing, with two exceptions:

- **reopen**: the finding's last alert is ``closed`` and the hash of its evidence changed
  (the record was edited and still matches): a NEW alert row is raised, ``reopened_from``
  the closed one. Its ``fingerprint`` is derived from the finding's and the generation
  (``sha256(fp, "reopen", n)``), so the column stays unique; ``finding_fingerprint`` keeps
  the finding's own fingerprint on every generation.
- **unsuppress**: the finding's alert is ``suppressed`` and no suppression matches any more
  (expired or removed), or its record changed (the hash of its evidence differs: an exclusion
  covers the record as it was): that alert is raised as usual, with the record as it now is.

Suppressed findings (:mod:`naebu.alerts.suppressions`) are stored with status ``suppressed`` and
not returned, so nobody is notified. Every alert raised, suppressed, reopened or unsuppressed
gets its first audit-trail entry (actor ``system``) in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from naebu.alerts import case_members
from naebu.alerts.anchor import alert_digests
from naebu.alerts.cases import Case, follow_up_fingerprint, group_cases
from naebu.alerts.directory import Directory
from naebu.alerts.suppressions import Suppression, active_suppressions, matching
from naebu.alerts.tallies import COLUMNS as TALLY_COLUMNS
from naebu.alerts.tallies import record as record_tallies
from naebu.alerts.trail import SYSTEM, Step, append
from naebu.core.jsonsafe import json_safe
from naebu.core.workdays import add_business_days
from naebu.engine.findings import Finding
from naebu.engine.rule import RuleMeta
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import upsert_insert

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


def evidence_hash(evidence: Mapping[str, Any]) -> str:
    """sha256 of the evidence's canonical JSON: changes when the record's values change."""
    canonical = json.dumps(
        json_safe(dict(evidence)), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def reopened_fingerprint(fingerprint: str, generation: int) -> str:
    """The unique fingerprint of the ``generation``-th alert (1, 2 ...) of a reopened finding."""
    raw = "\x1f".join((fingerprint, "reopen", str(generation))).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def _row(
    f: Finding,
    rule: RuleMeta,
    directory: Directory,
    run_id: int | None,
    now: datetime,
    suppression: Suppression | None = None,
    case_fingerprint: str | None = None,
) -> dict[str, Any]:
    assignee = directory.assignee_for(f.department, f.official_id)
    department = f.department or (assignee.department if assignee else None)
    severity = f.severity or rule.severity
    return {
        "fingerprint": case_fingerprint or f.fingerprint,
        "finding_fingerprint": case_fingerprint or f.fingerprint,
        "rule_id": f.rule_id,
        "dataset": f.dataset,
        "record_key": f.record_key,
        "severity": severity,
        "status": "suppressed" if suppression else "raised",
        "department": department,
        "assignee": assignee.employee_id if assignee else None,
        "title": rule.title,
        "message": f.message,
        "evidence": json_safe(dict(f.evidence)),
        "evidence_hash": evidence_hash(f.evidence),
        "event_time": f.event_time,
        "created_at": now,
        "updated_at": now,
        "deadline": None if suppression else add_business_days(now, rule.deadline_days),
        "deadline_set_at": None if suppression else now,
        "suppression_id": suppression.id if suppression else None,
        "notify_roles": list(directory.notify_targets(severity, rule.notify)),
        "run_id": run_id,
        "case_key": f.case_key or None,
    }


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
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


def _latest(conn: Connection, fingerprints: Iterable[str]) -> dict[str, tuple[Any, int]]:
    """Finding fingerprint -> (its newest alert row, how many alerts it has had)."""
    a = alerts_table.c
    found: dict[str, tuple[Any, int]] = {}
    for part in chunks(sorted(set(fingerprints))):
        rows = conn.execute(
            select(a.id, a.fingerprint, a.finding_fingerprint, a.status, a.evidence_hash)
            .where(or_(a.finding_fingerprint.in_(part), a.fingerprint.in_(part)))
            .order_by(a.id)
        )
        for r in rows:
            key = r.finding_fingerprint or r.fingerprint
            found[key] = (r, found[key][1] + 1 if key in found else 1)
    return found


def raise_alerts(
    conn: Connection,
    findings: Sequence[Finding],
    rules: Mapping[str, RuleMeta],
    directory: Directory,
    *,
    run_id: int | None,
    now: datetime,
) -> list[int]:
    """Store one alert per new case; return the ids to notify, in finding order.

    The findings are grouped into cases (:mod:`naebu.alerts.cases`). A case none of whose records an
    alert holds is raised: routed (:meth:`Directory.assignee_for`), given a deadline of
    ``rule.deadline_days`` business days from ``now`` and the list of who is told
    (:meth:`Directory.notify_targets`). A case matching an active suppression (every record
    of it) is stored ``suppressed`` and not returned. An alert with no official to route to is
    stored unassigned and logged as a warning.

    A case some of whose records an alert already holds belongs to that alert (the newest):

    - no new record: nothing, unless it reopens its closed alert or its suppression ended
      (see the module docstring);
    - new records, the alert open (or suppressed): the records join it, its message and
      evidence are brought up to date, and a ``case_update`` trail entry tells its official
      once (:mod:`naebu.alerts.escalation`); not returned;
    - new records, the alert closed: a follow-up alert is raised, ``reopened_from`` the closed
      one (trail action ``follow_up``).

    Runs inside the caller's transaction and does not commit.

    Raises ``ValueError`` (before writing anything) when a finding names a rule that is not
    in ``rules``.
    """
    unknown = sorted({f.rule_id for f in findings if f.rule_id not in rules})
    if unknown:
        raise ValueError("findings of unknown rules: " + ", ".join(unknown))

    fresh: dict[str, Case] = {}
    for case in group_cases(findings):
        fresh.setdefault(case.fingerprint, case)
    if not fresh:
        return []
    latest = _latest(conn, fresh)
    held = case_members.holders(conn, list(fresh.values()))
    holder_rows = case_members.alert_rows(conn, set(held.values()))
    suppressions = active_suppressions(conn, now, {c.rule_id for c in fresh.values()})

    rows: list[dict[str, Any]] = []
    unsuppress: list[tuple[Row[Any], Finding, str, bool]] = []
    grown: list[tuple[Row[Any], Case, list[str]]] = []
    for fp, case in fresh.items():
        f = case.as_finding()
        suppression = _suppression_of(suppressions, case)
        prior = latest.get(fp)
        keys = case.record_keys
        new = [k for k in keys if (case.rule_id, case.dataset, k) not in held]
        if prior is not None and not case.grouped:
            new = []  # its own alert holds it (one stored before members were, too)
        candidates = [holder_rows[i] for k in keys
                      if (i := held.get((case.rule_id, case.dataset, k))) in holder_rows]  # fmt: skip
        if prior is not None:
            candidates.append(prior[0])
        if not candidates:
            rows.append(_row(f, rules[f.rule_id], directory, run_id, now, suppression, fp))
            continue
        current = max(candidates, key=lambda r: int(r.id))
        if new:
            if current.status == "closed":
                row = _row(f, rules[f.rule_id], directory, run_id, now, suppression, fp)
                row["fingerprint"] = follow_up_fingerprint(fp, new)
                row["reopened_from"] = current.id
                row["follows"] = True
                rows.append(row)
            else:
                grown.append((current, case, new))
            continue
        if prior is None or current.id != prior[0].id:
            continue  # every record is in an older alert (one per record, before cases)
        old, generations = prior
        if (
            old.status == "closed"
            and old.evidence_hash is not None
            and old.evidence_hash != evidence_hash(f.evidence)
        ):
            row = _row(f, rules[f.rule_id], directory, run_id, now, suppression, fp)
            row["fingerprint"] = reopened_fingerprint(fp, generations)
            row["reopened_from"] = old.id
            rows.append(row)
        elif old.status == "suppressed":
            # An exclusion covers the record as it was when excluded: an edited record
            # (its evidence changed) is raised again though the suppression still matches.
            changed = old.evidence_hash is not None and old.evidence_hash != evidence_hash(
                f.evidence
            )
            if suppression is None or changed:
                unsuppress.append((old, f, fp, changed))
    if not rows and not unsuppress and not grown:
        return []

    _warn_unassigned(rows)
    follows = {r["fingerprint"] for r in rows if r.pop("follows", False)}
    inserted = _insert_ignoring_duplicates(conn, rows) if rows else {}
    skipped = len(rows) - len(inserted)
    if skipped:
        log.info("%d finding(s) were stored by another writer meanwhile; skipped", skipped)
    steps: list[Step] = []
    notify: dict[str, int] = {}
    # The scorecard's tallies count what was inserted or unsuppressed (naebu.alerts.tallies).
    tallied: list[tuple[None, dict[str, Any]]] = []
    for row in rows:
        alert_id = inserted.get(row["fingerprint"])
        if alert_id is None:
            continue
        case = fresh[row["finding_fingerprint"]]
        case_members.add(conn, alert_id, case, case.record_keys, now)
        tallied.append((None, row))
        if row["status"] == "suppressed":
            action, details = "suppress", {"suppression_id": row["suppression_id"]}
        elif row["fingerprint"] in follows:
            action, details = "follow_up", {"reopened_from": row["reopened_from"]}
            notify[row["finding_fingerprint"]] = alert_id
        elif row.get("reopened_from"):
            action, details = "reopen", {"reopened_from": row["reopened_from"]}
            notify[row["finding_fingerprint"]] = alert_id
        else:
            action, details = "raise", {}
            notify[row["finding_fingerprint"]] = alert_id
        details.update(assignee=row["assignee"], notify=row["notify_roles"])
        steps.append(
            Step(SYSTEM, action, now, alert_id=alert_id, to_status=row["status"], details=details)
        )
    for current, case, new in grown:
        steps.append(_grow(conn, current, case, new, run_id, now))
    for old, f, fp, changed in unsuppress:
        fresh_row = _row(f, rules[f.rule_id], directory, run_id, now)
        kept: tuple[str, ...] = (
            "assignee",
            "department",
            "deadline",
            "deadline_set_at",
            "notify_roles",
        )
        if changed:  # the alert says what the record now says
            kept += ("message", "evidence", "evidence_hash")
        values = {k: fresh_row[k] for k in kept}
        done = conn.execute(
            update(alerts_table)
            .where(alerts_table.c.id == old.id, alerts_table.c.status == "suppressed")
            .values(status="raised", updated_at=now, run_id=run_id, **values)
        ).rowcount
        if done:
            notify[fp] = old.id
            now_row = conn.execute(
                select(*(alerts_table.c[c] for c in TALLY_COLUMNS)).where(
                    alerts_table.c.id == old.id
                )
            ).one()
            tallied.append((None, dict(now_row._mapping)))
            details = {"assignee": values["assignee"], "notify": values["notify_roles"]}
            if changed:
                details["record_changed"] = True
            steps.append(
                Step(
                    SYSTEM,
                    "unsuppress",
                    now,
                    alert_id=old.id,
                    from_status="suppressed",
                    to_status="raised",
                    details=details,
                )
            )
    record_tallies(conn, tallied)
    # Each entry vouches for what its alert now says (naebu.alerts.anchor): read back, so the
    # digest is of what the database keeps.
    digests = alert_digests(conn, [s.alert_id for s in steps if s.alert_id is not None])
    for step in steps:
        if step.details is not None and step.alert_id in digests:
            step.details["fields"] = digests[step.alert_id]
    append(conn, steps)
    return [notify[fp] for fp in fresh if fp in notify]


#: Unassigned alerts named one by one in the log per call; the rest are counted.
NAMED_UNASSIGNED = 3


def _warn_unassigned(rows: Sequence[Mapping[str, Any]]) -> None:
    """Warn of alerts stored with no official to route to: the first few by name, then how
    many more and in which departments (a city without a directory would log every alert)."""
    lost = [r for r in rows if r["assignee"] is None and r["status"] != "suppressed"]
    for r in lost[:NAMED_UNASSIGNED]:
        log.warning(
            "alert %s on %s %s: no official to route to (department %s); stored unassigned",
            r["rule_id"], r["dataset"], r["record_key"], r["department"] or "-",
        )  # fmt: skip
    if len(lost) > NAMED_UNASSIGNED:
        departments = sorted({str(r["department"] or "-") for r in lost[NAMED_UNASSIGNED:]})
        shown = ", ".join(departments[:5]) + (
            f" and {len(departments) - 5} more" if len(departments) > 5 else ""
        )
        log.warning(
            "%d more alert(s) stored unassigned, no official to route to (departments: %s); "
            "load the officials directory (docs/alerts.md)",
            len(lost) - NAMED_UNASSIGNED, shown,
        )  # fmt: skip


def _suppression_of(suppressions: Sequence[Suppression], case: Case) -> Suppression | None:
    """The suppression that covers ``case``: one matching every record of it (the first
    record's), else none - a case is not silenced by an exception for a part of it."""
    found = [matching(suppressions, f) for f in case.members]
    return found[0] if all(s is not None for s in found) else None


def _grow(
    conn: Connection,
    current: Row[Any],
    case: Case,
    new: list[str],
    run_id: int | None,
    now: datetime,
) -> Step:
    """``new`` records join the open (or suppressed) alert ``current``: its members, message
    and evidence are brought up to date. The trail entry tells its official (not while
    suppressed: :mod:`naebu.alerts.escalation` tells only of open alerts)."""
    f = case.as_finding()
    case_members.add(conn, int(current.id), case, new, now)
    values = {
        "updated_at": now,
        "message": f.message,
        "evidence": json_safe(dict(f.evidence)),
        "evidence_hash": evidence_hash(f.evidence),
        "case_key": case.key,
    }
    conn.execute(update(alerts_table).where(alerts_table.c.id == current.id).values(**values))
    details = {"added": list(new), "count": len(case.record_keys), "run_id": run_id}
    return Step(SYSTEM, "case_update", now, alert_id=int(current.id), details=details)
