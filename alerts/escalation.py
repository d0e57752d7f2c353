"""Reminders, escalations and follow-up notices: what each run tells people besides new alerts.

:func:`remind_and_escalate` runs once per run (after new alerts are queued, before the
outbox is delivered) and, for every alert still waiting for its official (raised,
acknowledged or rejected):

- **reminder** (기한 임박): from ``routing.remind_before_days`` business days before the
  deadline, to the assignee - unless the deadline was set inside that window already;
- **escalation to the manager** (부서관리자 보고): once the deadline has passed, to the
  department's managers (the audit office when the department has none);
- **escalation to the audit office** (감사부서 보고): ``routing.escalate_audit_after_days``
  business days after the deadline.

"The audit office" is that of the alert's organisation (:meth:`Directory.audit_office`).

With ``[workflow] approval`` (passed as ``workflow``), an answer left waiting for the department
manager's approval (an answered status, :mod:`naebu.alerts.approval`) is followed up the same
way, counted in business days from the answer (:mod:`naebu.alerts.workflow_settings`):

- **reminder to the managers** (승인 지연): ``approval_remind_after_days`` after the answer,
  to the department's managers (the audit office when the department has none left);
- **escalation to the audit office** (승인 지연 - 감사부서 보고):
  ``approval_escalate_after_days`` after the answer; an audit-trail entry like the
  escalations of deadlines (``escalate``, ``details.step = "approval"``).

Both belong to the answer (its time is in the key): an answer returned and given again is
followed up afresh.

It also tells people about steps taken since the last run, read from the audit trail: answers
awaiting the department manager's approval go to the managers (``[workflow] approval``),
answers awaiting review (approved ones, with the approval step) to the audit office, the
manager's returns and the review results (accepted or rejected with the
auditor's comment) and reassignments to the official, suppressions added or removed to the
audit office. Whoever took a step is not told about it.

Every digest to an auditor ends with the head of the audit trail (number and hash), and the
head after the run is appended to the heads file (:mod:`naebu.alerts.anchor`): published outside
the store, so a chain rewritten or cut back later no longer holds them.

Each of these goes out once: a ``followups`` row with a unique key (alert, step and the
deadline it belongs to, or the trail entry) is written in the same transaction as the
messages. A rejected alert has a new deadline, so its reminders and escalations start over.
Everything for one recipient in one run is one digest per channel, in the outbox (retried
like any message) with a ``deliveries`` row per alert. Escalations are audit-trail entries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Row, insert, select

from naebu.alerts import anchor
from naebu.alerts.anchor import digest_footer
from naebu.alerts.digest import queue_message
from naebu.alerts.directory import Directory, Official
from naebu.alerts.lifecycle import ANSWERED, OPEN
from naebu.alerts.notices import Notice, render_notices_mail
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.officials import sync_officials
from naebu.alerts.raising import chunks
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.suppressions import get_suppression
from naebu.alerts.trail import SYSTEM, Step, append, current_head
from naebu.alerts.workflow_settings import WorkflowConfig
from naebu.core.workdays import add_business_days, business_days_before
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import audit_trail, followups

log = logging.getLogger(__name__)

#: Trail actions that are told to someone, and the kind of notice they make.
TRAIL_NOTICES = {
    "correct": "answered",
    "explain": "answered",
    "false_positive": "answered",
    "approve": "answered",  # an approved answer: on to the audit office's review
    "return": "review",  # the department manager sent the answer back to the official
    "accept": "review",
    "reject": "review",
    "reassign": "reassigned",
    "suppress_add": "suppression",
    "suppress_remove": "suppression",
    "rule_change": "rule_change",
    "case_update": "case_updated",
    "withdraw": "withdrawn",
}


@dataclass
class FollowupReport:
    """What one :func:`remind_and_escalate` call queued."""

    reminders: int = 0
    escalated_to_manager: int = 0
    escalated_to_audit: int = 0
    #: Answers left waiting for the department manager's approval: reminded, reported.
    approval_reminders: int = 0
    approval_escalated: int = 0
    notices: int = 0
    messages: int = 0
    #: Alerts that were due a reminder or escalation but had nobody to tell.
    nobody_to_tell: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A one-line summary for the run's report."""
        return [
            f"follow-ups: {self.reminders} reminder(s), {self.escalated_to_manager} "
            f"escalated to managers, {self.escalated_to_audit} to the audit office, "
            f"{self.approval_reminders} approval reminder(s), {self.approval_escalated} "
            f"approval(s) overdue reported, "
            f"{self.notices} notice(s); {self.messages} message(s) queued"
        ]


@dataclass
class _Plan:
    now: datetime
    by_recipient: dict[str, list[Notice]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    report: FollowupReport = field(default_factory=FollowupReport)

    def add(
        self,
        key: str,
        notice: Notice,
        recipients: Iterable[Official],
        alert_id: int | None = None,
        trail_seq: int | None = None,
    ) -> list[str]:
        ids = sorted({o.employee_id for o in recipients})
        for eid in ids:
            self.by_recipient.setdefault(eid, []).append(notice)
        self.rows.append(
            {
                "key": key,
                "kind": notice.kind,
                "alert_id": alert_id,
                "trail_seq": trail_seq,
                "recipients": ids,
                "created_at": self.now,
            }
        )
        return ids


def _known_keys(conn: Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(sorted(set(keys))):
        found.update(
            conn.execute(select(followups.c.key).where(followups.c.key.in_(part))).scalars()
        )
    return found


class _Clock(NamedTuple):
    """An open alert's clock columns."""

    id: int
    deadline: datetime
    deadline_set_at: datetime | None
    created_at: datetime


def _instant(value: Any) -> Any:
    """A driver's timestamp as a datetime: SQLite gives ISO text, PostgreSQL a datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _due_steps(alert: Any, routing: RoutingConfig, now: datetime) -> list[tuple[str, str]]:
    """(kind, key) of the reminder or escalations ``alert`` (a row with its id, deadline,
    deadline_set_at and created_at) is due at ``now``."""
    deadline: datetime = alert.deadline
    stamp = f"{alert.id}:{deadline.isoformat(timespec='seconds')}"
    if now > deadline:
        due = [("escalate_manager", f"escalate_manager:{stamp}")]
        if now > add_business_days(deadline, routing.escalate_audit_after_days):
            due.append(("escalate_audit", f"escalate_audit:{stamp}"))
        return due
    if routing.remind_before_days <= 0:
        return []
    start = business_days_before(deadline, routing.remind_before_days)
    set_at: datetime = alert.deadline_set_at or alert.created_at
    if now.date() >= start and set_at.date() < start:
        return [("remind", f"remind:{stamp}")]
    return []


def _deadlines(conn: Connection, directory: Directory, routing: RoutingConfig, plan: _Plan) -> None:
    a = alerts_table.c
    # Calendar days are a generous bound for business days (holidays included).
    horizon = plan.now + timedelta(days=2 * routing.remind_before_days + 14)
    # Every open alert with a deadline is looked at on every run, but only its clock columns:
    # whole rows (evidence JSON) are read for the few that have a step due and not yet taken.
    result = conn.execute(
        select(a.id, a.deadline, a.deadline_set_at, a.created_at)
        .where(a.status.in_(OPEN), a.deadline.is_not(None), a.deadline <= horizon)
        .order_by(a.id)
    )
    # The driver's tuples, their instants parsed in C: SQLAlchemy's rows parse SQLite's
    # text in Python, twice the time of this on the tens of thousands of open alerts of a
    # province, read on every run.
    raw = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    clocks = [_Clock(r[0], _instant(r[1]), _instant(r[2]), _instant(r[3])) for r in raw]
    due = [(r.id, kind, key) for r in clocks for kind, key in _due_steps(r, routing, plan.now)]
    known = _known_keys(conn, [key for _, _, key in due])
    due = [(alert_id, kind, key) for alert_id, kind, key in due if key not in known]
    rows: dict[int, Row[Any]] = {}
    for part in chunks(sorted({alert_id for alert_id, _, _ in due})):
        rows.update((r.id, r) for r in conn.execute(select(alerts_table).where(a.id.in_(part))))
    for alert_id, kind, key in due:
        alert = rows[alert_id]
        if kind == "remind":
            people = [p for p in (directory.resolve(alert.assignee),) if p is not None]
            people = people or directory.managers(alert.department)
        elif kind == "escalate_manager":
            people = directory.managers(alert.department) or directory.audit_office(
                alert.department
            )
        else:
            people = directory.audit_office(alert.department)
        told = _tell(plan, key, kind, alert, people)
        if kind == "remind":
            plan.report.reminders += 1
            continue
        step = "manager" if kind == "escalate_manager" else "audit"
        if step == "manager":
            plan.report.escalated_to_manager += 1
        else:
            plan.report.escalated_to_audit += 1
        deadline = alert.deadline.isoformat(timespec="seconds")
        _escalated(plan, alert, {"step": step, "deadline": deadline, "recipients": told})


def _approval_steps(
    answered_at: datetime, alert_id: int, workflow: WorkflowConfig, now: datetime
) -> list[tuple[str, str]]:
    """(kind, key) of the follow-ups an answer given at ``answered_at`` and still waiting for
    approval is due at ``now``: the escalation supersedes the reminder it would come with."""
    stamp = f"{alert_id}:{answered_at.isoformat(timespec='seconds')}"
    due = []
    for kind, days in (
        ("approval_escalate", workflow.approval_escalate_after_days),
        ("approval_remind", workflow.approval_remind_after_days),
    ):
        if days > 0 and now >= add_business_days(answered_at, days):
            due.append((kind, f"{kind}:{stamp}"))
    return due


def _approvals(
    conn: Connection, directory: Directory, workflow: WorkflowConfig, plan: _Plan
) -> None:
    """Remind the managers of answers they leave waiting, then report them to the audit office
    (see the module docstring)."""
    days = [
        d
        for d in (workflow.approval_remind_after_days, workflow.approval_escalate_after_days)
        if d > 0
    ]
    if not workflow.approval or not days:
        return
    a = alerts_table.c
    # Business days are at least as many calendar days: a bound the index can use.
    first = min(days)
    result = conn.execute(
        select(a.id, a.answered_at)
        .where(
            a.status.in_(ANSWERED),
            a.answered_at.is_not(None),
            a.answered_at <= plan.now - timedelta(days=first),
        )
        .order_by(a.id)
    )
    due = [
        (int(r.id), kind, key)
        for r in result
        for kind, key in _approval_steps(_instant(r.answered_at), int(r.id), workflow, plan.now)
    ]
    known = _known_keys(conn, [key for _, _, key in due])
    # A reminder not sent by the time the escalation is due is not sent: the escalation tells
    # the managers too, once.
    escalating = {alert_id for alert_id, kind, key in due if kind == "approval_escalate"}
    due = [
        (alert_id, kind, key)
        for alert_id, kind, key in due
        if key not in known and not (kind == "approval_remind" and alert_id in escalating)
    ]
    rows: dict[int, Row[Any]] = {}
    for part in chunks(sorted({alert_id for alert_id, _, _ in due})):
        rows.update((r.id, r) for r in conn.execute(select(alerts_table).where(a.id.in_(part))))
    for alert_id, kind, key in due:
        alert = rows[alert_id]
        if kind == "approval_remind":
            people = directory.managers(alert.department)
            people = people or directory.audit_office(alert.department)
        else:
            people = directory.audit_office(alert.department)
        told = _tell(plan, key, kind, alert, people)
        if kind == "approval_remind":
            plan.report.approval_reminders += 1
            continue
        plan.report.approval_escalated += 1
        answered = _instant(alert.answered_at).isoformat(timespec="seconds")
        _escalated(plan, alert, {"step": "approval", "answered_at": answered, "recipients": told})


def _trail_notices(conn: Connection, directory: Directory, plan: _Plan) -> None:
    t = audit_trail.c
    handled = select(followups.c.trail_seq).where(followups.c.trail_seq.is_not(None))
    entries = list(
        conn.execute(
            select(audit_trail)
            .where(t.action.in_(sorted(TRAIL_NOTICES)), ~t.seq.in_(handled))
            .order_by(t.seq)
        )
    )
    alert_ids = sorted({e.alert_id for e in entries if e.alert_id is not None})
    alerts: dict[int, Row[Any]] = {}
    for part in chunks(alert_ids):
        alerts.update(
            (r.id, r) for r in conn.execute(select(alerts_table).where(alerts_table.c.id.in_(part)))
        )
    for e in entries:
        kind = TRAIL_NOTICES[e.action]
        alert = alerts.get(e.alert_id) if e.alert_id is not None else None
        if kind == "answered" and (e.details or {}).get("approval") == "pending":
            # 조치 -> 승인: the answer waits for the department's managers first.
            kind = "to_approve"
            people = directory.managers(alert.department if alert is not None else None)
        elif kind in ("answered", "suppression", "rule_change"):
            # The audit office of the alert's organisation; every auditor for a step that is
            # about no alert (suppressions and rule changes name none).
            people = directory.audit_office(alert.department if alert is not None else None)
        elif kind == "reassigned":
            people = [p for p in (directory.resolve((e.details or {}).get("to_assignee")),) if p]
        else:  # review result or withdrawal (naebu.alerts.withdrawal): to the official
            people = [p for p in (directory.resolve(alert.assignee if alert else None),) if p]
        people = [p for p in people if p.employee_id != e.actor]
        if kind in ("answered", "to_approve") and (alert is None or alert.status != e.to_status):
            people = []  # reviewed (or answered again) since: nothing left to review here
        if kind == "case_updated" and (alert is None or alert.status in ("closed", "suppressed")):
            people = []  # records joined a silenced alert, or it was closed since
        suppression = None
        if e.suppression_id is not None:
            suppression = get_suppression(conn, int(e.suppression_id))
        notice = Notice(
            kind,
            alert=alert._mapping if alert is not None else None,
            entry=e._mapping,
            suppression=suppression,
        )
        plan.add(f"trail:{e.seq}", notice, people, alert_id=e.alert_id, trail_seq=int(e.seq))
        plan.report.notices += 1


def remind_and_escalate(
    engine: Engine,
    directory: Directory,
    notify: NotifyConfig,
    *,
    now: datetime,
    routing: RoutingConfig | None = None,
    run_id: int | None = None,
    workflow: WorkflowConfig | None = None,
) -> FollowupReport:
    """Queue this run's reminders, escalations and notices (see the module docstring).

    ``routing`` defaults to the directory's (``Directory.routing``), else the built-in
    defaults. ``workflow`` is the city's ``[workflow]``: answers waiting for approval are
    followed up only when it is given with ``approval`` on (library callers without it keep
    the two-step review, as :func:`naebu.alerts.lifecycle.act` does). The directory is also stored as the officials table (the command line and the
    web inbox act with it). One transaction: the messages, their ledger rows, the follow-up
    records and the escalations' audit entries commit together. Does not deliver: call
    :func:`~naebu.alerts.outbox.deliver_pending` next.
    """
    routing = routing or directory.routing or RoutingConfig()
    plan = _Plan(now=now)
    with engine.begin() as conn:
        sync_officials(conn, directory, now=now)
        _deadlines(conn, directory, routing, plan)
        if workflow is not None:
            _approvals(conn, directory, workflow, plan)
        _trail_notices(conn, directory, plan)
        # The head as committed before this run's escalations: appending them first would
        # hold the chain's lock (every other writer waits) while the digests are rendered.
        head = current_head(conn)
        for recipient_id in sorted(plan.by_recipient):
            notices = plan.by_recipient[recipient_id]
            official = directory.get(recipient_id)
            # Published outside the store: verify --heads checks the chain still has it.
            footer = ""
            if head is not None and official is not None and directory.is_auditor(official):
                footer = digest_footer(*head, notify.language)
            subject, body, html = render_notices_mail(
                official,
                recipient_id,
                notices,
                directory,
                notify.language,
                now,
                notify.digest_max_items,
                base_url=notify.base_url,
                footer=footer,
            )
            plan.report.messages += queue_message(
                conn,
                recipient_id,
                subject,
                body,
                [(n.alert["id"], n.kind) for n in notices if n.alert is not None],
                directory,
                notify,
                run_id=run_id,
                now=now,
                html=html,
            )
        if plan.rows:
            conn.execute(insert(followups), plan.rows)
        append(conn, plan.steps)
    _publish_head(engine, now)
    return plan.report


def _publish_head(engine: Engine, now: datetime) -> None:
    """Append the committed head of the trail to the heads file (naebu.alerts.anchor), if any."""
    heads_file = anchor.installed().heads_file
    if heads_file is None:
        return
    with engine.connect() as conn:
        head = current_head(conn)
    if head is None:
        return
    try:
        anchor.publish(heads_file, *head, at=now)
    except OSError as exc:  # the run's work is committed; the mails still carry a head
        log.error("audit trail head #%d not written to %s: %s", head[0], heads_file, exc)


def _tell(plan: _Plan, key: str, kind: str, alert: Any, people: Iterable[Official]) -> list[str]:
    """Queue the ``kind`` notice of ``alert`` to ``people``; who was told (a warning when
    nobody could be)."""
    told = plan.add(key, Notice(kind, alert=alert._mapping), people, alert_id=alert.id)
    if not told:
        plan.report.nobody_to_tell.append(alert.id)
        log.warning("alert #%d: %s due but nobody to tell", alert.id, kind)
    return told


def _escalated(plan: _Plan, alert: Any, details: dict[str, Any]) -> None:
    """The escalation's audit-trail entry (the status unchanged), written with the plan."""
    plan.steps.append(
        Step(
            SYSTEM,
            "escalate",
            plan.now,
            alert_id=alert.id,
            from_status=alert.status,
            to_status=alert.status,
            details=details,
        )
    )
