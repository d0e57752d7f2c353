"""The inbox's read queries: the alert list, one alert, the scorecard and rule statistics.

Everything is computed in SQL over the store (SQLite or PostgreSQL), with the viewer's
visibility condition in every query, so a page never loads more rows than it shows. The
scorecard reads the tallies kept by the alert lifecycle (:mod:`naebu.alerts.tallies`) rather than
every alert. With 100,000 alerts the list and the scorecard answer well under 300 ms at the
95th percentile (``python -m bench.web``), with no cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from naebu.alerts.lifecycle import ANSWERED, APPROVED, OPEN, REVIEWABLE
from naebu.alerts.ranking import Handling, board, named, official_rows
from naebu.inbox.access import Viewer
from naebu.store.tables import alert_tallies, alerts, audit_trail

#: The answers an official gives (the last one counts: a rejected false positive that the
#: official then corrected is a correction).
ANSWERS = ("correct", "explain", "false_positive")
STATUSES = (
    "raised", "acknowledged", "rejected", *ANSWERED, APPROVED, "closed", "suppressed", "withdrawn"
)  # fmt: skip
#: Queues besides the statuses: answered and not yet closed; awaiting the department
#: manager's approval (승인 대기); awaiting the audit office's review (검토 대기).
QUEUES = ("open", "answered", "to_approve", "review")
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass
class Filters:
    """The alert list's filters, as given in the query string (unknown values ignored)."""

    status: str = ""  # a status, one of QUEUES, or "" (all but suppressed)
    rule: str = ""
    severity: str = ""
    due: str = ""  # "overdue", "soon" (open, due within 7 days) or ""
    due_before: date | None = None
    department: str = ""
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        """Filters from request query parameters."""
        f = cls()
        status = query.get("status", "")
        f.status = status if status in (*STATUSES, *QUEUES) else ""
        f.rule = query.get("rule", "").strip()[:100]
        sev = query.get("severity", "")
        f.severity = sev if sev in SEVERITIES else ""
        due = query.get("due", "")
        f.due = due if due in ("overdue", "soon") else ""
        try:
            f.due_before = date.fromisoformat(query.get("due_before", ""))
        except ValueError:
            f.due_before = None
        f.department = query.get("department", "").strip()[:200]
        try:
            f.page = max(1, min(int(query.get("page", "1")), 100_000))
        except ValueError:
            f.page = 1
        return f

    def query_string(self, **override: Any) -> dict[str, str]:
        """The filters as query parameters (for paging links), with ``override`` applied."""
        values = {
            "status": self.status,
            "rule": self.rule,
            "severity": self.severity,
            "due": self.due,
            "due_before": self.due_before.isoformat() if self.due_before else "",
            "department": self.department,
            "page": str(self.page),
        }
        values.update({k: str(v) for k, v in override.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


@dataclass
class AlertPage:
    """One page of the alert list."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def queue_statuses(queue: str, approval: bool) -> tuple[str, ...]:
    """The statuses of a queue of :data:`QUEUES`: with the approval step (``[workflow]
    approval``) the audit office's review queue holds only approved answers, and answers
    wait for the department manager; without it answers go straight to review."""
    if queue == "open":
        return OPEN
    if queue == "answered":
        return REVIEWABLE
    if queue == "to_approve":
        return ANSWERED if approval else ()
    return (APPROVED,) if approval else REVIEWABLE


def _conditions(
    viewer: Viewer, f: Filters, now: datetime, approval: bool
) -> list[ColumnElement[bool]]:
    c = alerts.c
    conds: list[ColumnElement[bool]] = [viewer.alert_filter()]
    if f.status in QUEUES:
        conds.append(c.status.in_(queue_statuses(f.status, approval)))
    elif f.status:
        conds.append(c.status == f.status)
    else:
        conds.append(c.status != "suppressed")
    if f.rule:
        conds.append(c.rule_id == f.rule)
    if f.severity:
        conds.append(c.severity == f.severity)
    if f.due == "overdue":
        conds += [c.status.in_(OPEN), c.deadline < now]
    elif f.due == "soon":
        conds += [c.status.in_(OPEN), c.deadline >= now, c.deadline < now + timedelta(days=7)]
    if f.due_before:
        conds.append(c.deadline < datetime.combine(f.due_before, time()) + timedelta(days=1))
    if f.department and viewer.sees_all:
        conds.append(c.department == f.department)
    return conds


def alert_page(
    conn: Connection,
    viewer: Viewer,
    f: Filters,
    *,
    now: datetime,
    size: int = 50,
    approval: bool = True,
) -> AlertPage:
    """The alerts ``viewer`` may see that match ``f``, newest first, one page of ``size``;
    ``approval``: whether the city has the approval step (:func:`queue_statuses`)."""
    c = alerts.c
    conds = _conditions(viewer, f, now, approval)
    total = int(conn.execute(select(func.count()).select_from(alerts).where(*conds)).scalar_one())
    pages = max(1, -(-total // size))
    page = min(f.page, pages)
    # The page's ids first (from an index where the filters allow), then only those rows:
    # skipping rows to reach a far page never reads the alerts' large columns.
    ids = [
        r.id
        for r in conn.execute(
            select(c.id).where(*conds).order_by(c.id.desc()).limit(size).offset((page - 1) * size)
        )
    ]
    q = (
        select(
            c.id,
            c.rule_id,
            c.severity,
            c.status,
            c.department,
            c.assignee,
            c.title,
            c.created_at,
            c.deadline,
            c.record_key,
        )  # fmt: skip
        .where(c.id.in_(ids))
        .order_by(c.id.desc())
    )
    return AlertPage([dict(r._mapping) for r in conn.execute(q)], total, page, pages)


def get_alert(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    """One alert row as a dict (None when there is none)."""
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    return dict(row._mapping) if row else None


def answered_by(conn: Connection, alert_id: int) -> set[str]:
    """Who recorded an answer on the alert (they may not review it)."""
    q = select(audit_trail.c.actor).where(
        audit_trail.c.alert_id == alert_id, audit_trail.c.action.in_(ANSWERS)
    )
    return {r.actor for r in conn.execute(q)}


# -- months ------------------------------------------------------------------------------------


def last_months(now: datetime, n: int = 12) -> list[str]:
    """The ``n`` months ending with ``now``'s, as ``YYYY-MM``, oldest first."""
    y, m = now.year, now.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def month_start(month: str) -> datetime:
    """The first instant of ``YYYY-MM``."""
    return datetime(int(month[:4]), int(month[5:7]), 1)


def month_of(conn: Connection, column: Any) -> Any:
    """SQL for ``YYYY-MM`` of a datetime column, in the store's dialect."""
    name = conn.dialect.name
    if name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    if name in ("mysql", "mariadb"):
        return func.date_format(column, "%Y-%m")
    # SQLite keeps datetimes as ISO text: the first 7 characters are the month, and slicing
    # is far cheaper than strftime() over 100,000 rows.
    return func.substr(column, 1, 7)


# -- the scorecard -----------------------------------------------------------------------------


#: One department's handling of its alerts over the scorecard's period (rates, shrunk score and
#: rank: :mod:`naebu.alerts.ranking`).
DepartmentScore = Handling


@dataclass
class Scorecard:
    """The departments the viewer may see, ranked fairly among every department the viewer's
    organisation has; the city's totals; per month of raising, the handling of the chosen
    department (or all); and, for a department's manager and the audit office, its officials."""

    since: datetime
    departments: list[Handling]
    months: list[str]
    by_month: list[Handling] = field(default_factory=list)
    city: Handling = field(default_factory=lambda: Handling(""))
    #: How many departments are ranked (the "of N" of a rank).
    ranked: int = 0
    #: Per month: "data" (alerts raised), "none" (no alert raised that month) or "before" (the
    #: store held no alert yet): the trend draws no rate for the last two.
    month_states: list[str] = field(default_factory=list)
    #: Per official (name and employee id) of :attr:`officials_of`; empty when not shown.
    officials: list[Handling] = field(default_factory=list)
    officials_of: str | None = None

    @property
    def raised_by_month(self) -> list[int]:
        """Alerts raised per month."""
        return [m.raised for m in self.by_month]

    @property
    def on_time_by_month(self) -> list[int]:
        """Alerts answered on time per month of raising."""
        return [m.on_time for m in self.by_month]

    @property
    def answered_by_month(self) -> list[int]:
        """조치 per month of raising."""
        return [m.answered for m in self.by_month]

    @property
    def approved_by_month(self) -> list[int]:
        """승인 per month of raising."""
        return [m.approved for m in self.by_month]

    @property
    def confirmed_by_month(self) -> list[int]:
        """확인 per month of raising."""
        return [m.confirmed for m in self.by_month]


def scorecard(
    conn: Connection,
    viewer: Viewer,
    *,
    now: datetime,
    department: str = "",
    approval: bool = True,
) -> Scorecard:
    """The scorecard of the last 12 months, per department the viewer may see.

    Counts come from ``alert_tallies`` (:func:`naebu.alerts.ranking.read_figures`: a few hundred
    rows whatever the number of alerts). Every department of the viewer's organisation is
    ranked (:func:`naebu.alerts.ranking.rank`, ``approval``: whether 승인율 is in the score), and
    the page shows the ones the viewer may see with their rank among all. Nothing is cached:
    every request reads the store as it is.
    """
    months = last_months(now)
    since = month_start(months[0])
    scope = _scope(viewer, department)
    # An auditor's "all departments" are those of their own organisation.
    b = board(
        conn, months, now=now, approval=approval, hidden=viewer.hidden_departments, scope=scope
    )
    card = Scorecard(
        since=since,
        departments=[h for h in b.departments if scope is None or h.name == (scope or "-")],
        months=months,
        by_month=b.by_month,
        city=b.city,
        ranked=b.ranked,
        month_states=b.month_states,
    )
    officials_of = _officials_of(viewer, scope)
    if officials_of is not None:
        card.officials_of = officials_of or "-"
        card.officials = named(
            official_rows(conn, officials_of, since=since, now=now), viewer.directory
        )
    return card


def _scope(viewer: Viewer, department: str) -> str | None:
    """The one department the scorecard is about ("" for alerts without one), or None: all."""
    if not viewer.sees_all:
        return viewer.official.department or ""
    return department or None


def _officials_of(viewer: Viewer, scope: str | None) -> str | None:
    """The department whose officials' rows the viewer may see on this scorecard, or None:
    its 부서관리자 and the audit office (one department chosen); not other officials."""
    if scope is None:
        return None
    if viewer.sees_all or (viewer.is_manager and scope == (viewer.official.department or "")):
        return scope
    return None


# -- rule statistics ---------------------------------------------------------------------------


@dataclass
class RuleStats:
    """A rule's findings per month and the officials' answers to them."""

    by_month: list[int]
    answered: int = 0
    corrected: int = 0
    explained: int = 0
    false_positive: int = 0
    accepted: int = 0

    @property
    def precision(self) -> float | None:
        """Share of answered alerts that were not false positives (None before any answer)."""
        return 1 - self.false_positive / self.answered if self.answered else None


def rule_stats(conn: Connection, *, now: datetime) -> tuple[list[str], dict[str, RuleStats]]:
    """Per rule: findings per month over the last 12 months, and the answers to them."""
    c = alerts.c
    months = last_months(now)
    since = month_start(months[0])
    stats: dict[str, RuleStats] = {}

    def get(rule_id: str) -> RuleStats:
        return stats.setdefault(rule_id, RuleStats([0] * len(months)))

    month = month_of(conn, c.created_at).label("month")
    index = {m: i for i, m in enumerate(months)}
    for r in conn.execute(
        select(c.rule_id, month, func.count().label("n"))
        .where(c.created_at >= since)
        .group_by(c.rule_id, month)
    ):
        if r.month in index:
            get(r.rule_id).by_month[index[r.month]] = int(r.n)
    # Each alert's last answer is kept on it by the lifecycle (alerts.last_answer).
    for r in conn.execute(
        select(c.rule_id, c.last_answer.label("action"), func.count().label("n"))
        .where(c.last_answer.is_not(None))
        .group_by(c.rule_id, c.last_answer)
    ):
        s = get(r.rule_id)
        s.answered += int(r.n)
        if r.action == "correct":
            s.corrected += int(r.n)
        elif r.action == "explain":
            s.explained += int(r.n)
        else:
            s.false_positive += int(r.n)
    for r in conn.execute(
        select(c.rule_id, func.count().label("n")).where(c.status == "closed").group_by(c.rule_id)
    ):
        get(r.rule_id).accepted = int(r.n)
    return months, stats


def departments(conn: Connection) -> list[str]:
    """Every department that has alerts, suppressed ones aside (the filter's choices), from the
    tallies: a few hundred rows rather than every alert."""
    t = alert_tallies.c
    q = select(t.department).where(t.department != "", t.raised > 0).distinct()
    return sorted(r.department for r in conn.execute(q))
