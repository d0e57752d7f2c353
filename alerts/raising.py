"""Raising: findings become stored alerts, each case once.

The first stage of the alert pipeline. Findings are grouped into
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

:func:`raise_alerts` runs five stages in order, each a function that takes what the one
before gave:

1. **dedup** (:func:`naebu.alerts.dedup.dedup`): which cases are new, and what a known case
   still asks for (a :class:`~naebu.alerts.dedup.Decision` each);
2. **suppress** (:func:`suppress`): the suppression covering each case; a suppressed alert
   whose suppression still holds stays as it is;
3. **route** (:func:`route`): who is responsible (the directory), the deadline and who is
   told, as the rows and values to write;
4. **store** (:func:`naebu.alerts.storing.store`): alerts, case members and tallies written;
5. **tell** (:func:`tell`): each write's audit-trail entry (a ``case_update`` entry is what
   tells an official of new records) and the alerts to notify now.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from naebu.alerts.anchor import alert_digests
from naebu.alerts.cases import Case, follow_up_fingerprint, group_cases
from naebu.alerts.dedup import Decision, dedup, evidence_hash, reopened_fingerprint
from naebu.alerts.dedup import chunks as chunks
from naebu.alerts.directory import Directory
from naebu.alerts.storing import Routed, Written, store
from naebu.alerts.suppressions import Suppression, active_suppressions, matching
from naebu.alerts.trail import SYSTEM, Step, append
from naebu.core.jsonsafe import json_safe
from naebu.core.workdays import add_business_days
from naebu.engine.findings import Finding
from naebu.engine.rule import RuleMeta
from naebu.store.tables import alerts as alerts_table

log = logging.getLogger(__name__)


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
    cases: dict[str, Case] = {}
    for case in group_cases(findings):
        cases.setdefault(case.fingerprint, case)
    if not cases:
        return []
    decisions = suppress(conn, dedup(conn, cases), now)
    routed = route(decisions, rules, directory, run_id, now)
    if not routed:
        return []
    written = store(conn, routed, run_id, now)
    return tell(conn, written, cases, now)


def suppress(conn: Connection, decisions: Sequence[Decision], now: datetime) -> list[Decision]:
    """Stage 2. Takes dedup's decisions; gives them with the suppression in force covering
    each case (:func:`_suppression_of`), in the same order.

    A case's alert that is ``suppressed`` is raised again (``unsuppress``) when no
    suppression covers the case any more, or when its record changed (an exclusion covers
    the record as it was when excluded); otherwise it stays suppressed and is left out.
    """
    if not decisions:
        return []
    suppressions = active_suppressions(conn, now, {d.case.rule_id for d in decisions})
    out: list[Decision] = []
    for d in decisions:
        suppression = _suppression_of(suppressions, d.case)
        if d.kind == "suppressed":
            if suppression is None or d.changed:
                out.append(Decision("unsuppress", d.case, d.alert, changed=d.changed))
            continue
        out.append(replace(d, suppression=suppression))
    return out


def _suppression_of(suppressions: Sequence[Suppression], case: Case) -> Suppression | None:
    """The suppression that covers ``case``: one matching every record of it (the first
    record's), else none - a case is not silenced by an exception for a part of it."""
    found = [matching(suppressions, f) for f in case.members]
    return found[0] if all(s is not None for s in found) else None


#: The columns an unsuppressed alert takes from routing it now (its record's too if changed).
ROUTED = ("assignee", "department", "deadline", "deadline_set_at", "notify_roles")
RECORD = ("message", "evidence", "evidence_hash")


def route(
    decisions: Sequence[Decision],
    rules: Mapping[str, RuleMeta],
    directory: Directory,
    run_id: int | None,
    now: datetime,
) -> Routed:
    """Stage 3. Takes the decisions after suppress; gives what to write: a full alert row
    for each case raised, followed up or reopened (:func:`_row`: the official responsible
    and their department, the deadline, who is told), the grown alerts as they are, and the
    routed columns of each alert to unsuppress. Warns of new alerts with nobody to route to.
    """
    routed = Routed()
    for d in decisions:
        if d.kind == "grow":
            routed.grown.append(d)
            continue
        f = d.case.as_finding()
        rule = rules[f.rule_id]
        if d.kind == "unsuppress":
            fresh = _row(f, rule, directory, run_id, now)
            kept = ROUTED + RECORD if d.changed else ROUTED  # the alert says what the record says
            routed.unsuppress.append((d, {k: fresh[k] for k in kept}))
            continue
        row = _row(f, rule, directory, run_id, now, d.suppression, d.fingerprint)
        if d.kind == "follow_up":
            row["fingerprint"] = follow_up_fingerprint(d.fingerprint, d.new_records)
            row["reopened_from"] = d.alert.id
        elif d.kind == "reopen":
            row["fingerprint"] = reopened_fingerprint(d.fingerprint, d.generations)
            row["reopened_from"] = d.alert.id
        routed.inserts.append((d, row))
    _warn_unassigned([row for _d, row in routed.inserts])
    return routed


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


def tell(
    conn: Connection, written: Sequence[Written], cases: Iterable[str], now: datetime
) -> list[int]:
    """Stage 5. Takes what the store stage wrote and the cases' fingerprints in finding
    order; appends each write's audit-trail entry (actor ``system``) and gives the ids of
    the alerts to notify now, in that order.

    The entries are what tells officials later too: a ``case_update`` entry is the notice
    of new records that :mod:`naebu.alerts.escalation` sends once.
    """
    steps = [
        Step(SYSTEM, w.action, now, alert_id=w.alert_id, from_status=w.from_status,
             to_status=w.to_status, details=w.details)
        for w in written
    ]  # fmt: skip
    # Each entry vouches for what its alert now says (naebu.alerts.anchor): read back, so the
    # digest is of what the database keeps.
    digests = alert_digests(conn, [s.alert_id for s in steps if s.alert_id is not None])
    for step in steps:
        if step.details is not None and step.alert_id in digests:
            step.details["fields"] = digests[step.alert_id]
    append(conn, steps)
    notify = {w.told: w.alert_id for w in written if w.told is not None}
    return [notify[fp] for fp in cases if fp in notify]
