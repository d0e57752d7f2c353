"""The department scorecard's figures and its fair ranking (issue 22: a ranking that is fair).

The national evaluation looks at 조치율, 승인율, 확인율 and 적기 처리율 (:data:`RATES`, defined
once here; the inbox page, its XLSX export and ``naebu report scorecard`` all read them from
:class:`Handling`). Ranking departments by a raw rate rewards a department with a single alert
handled: 1 of 1 is 100%. Departments are therefore ranked by a *shrunk* score: each rate is
pulled toward the city's rate as if the department had :data:`PRIOR` more alerts handled at the
city's rate,

    shrunk = (department's count + PRIOR x city rate) / (department's denominator + PRIOR)

(the mean of a beta prior centred on the city's rate, worth PRIOR alerts: the usual
empirical-Bayes estimate of a rate from few cases). A department with 1 alert moves only 1/11
of the way from the city's rate toward its own; one with 200 alerts keeps almost its own rate.
The score is the mean of the shrunk rates in use (승인율 only when the city has the approval
step); departments are ranked by it, ties sharing a rank. The page shows the raw rates beside
the score, and explains the formula (``scorecard.fair`` in :mod:`naebu.inbox.i18n`).

The counts come from ``alert_tallies`` (:mod:`naebu.alerts.tallies`), per department and month,
so reading them costs a few hundred rows; overdue is the tallied open alerts with a deadline
less those not yet due. An official's row (for their 부서관리자 and the audit office) is counted
from the department's alerts by the same conditions, in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from naebu.alerts.directory import Directory
from naebu.alerts.tallies import OPEN
from naebu.store.tables import alert_tallies, alerts

#: How many alerts' worth of the city's rate a department's rates are pulled toward.
PRIOR = 10
#: The rates: key, numerator count, denominator (a count, or "due": answered + overdue).
RATES = (
    ("action", "answered", "raised"),
    ("approval", "approved", "answered"),
    ("confirmation", "confirmed", "answered"),
    ("timely", "on_time", "due"),
)
#: The counts a :class:`Handling` keeps, as read from the tallies (overdue aside).
COUNTS = ("raised", "answered", "on_time", "false_positive", "repeats", "approved", "confirmed")


@dataclass
class Handling:
    """How a department (an official, the city, a month) handled its alerts: counts and
    rates, and once ranked its shrunk score and rank."""

    name: str
    raised: int = 0
    answered: int = 0
    on_time: int = 0
    overdue: int = 0
    false_positive: int = 0
    repeats: int = 0
    approved: int = 0
    confirmed: int = 0
    score: float | None = None
    rank: int | None = None

    @property
    def department(self) -> str:
        """The department's name (the scorecard's rows are departments)."""
        return self.name

    def count(self, name: str) -> int:
        """A count by name; ``due`` is answered + overdue (적기 처리율's denominator)."""
        return self.answered + self.overdue if name == "due" else int(getattr(self, name))

    def rate(self, key: str) -> float | None:
        """The rate ``key`` of :data:`RATES`; None when its denominator is 0."""
        _, num, den = next(r for r in RATES if r[0] == key)
        d = self.count(den)
        return self.count(num) / d if d else None

    @property
    def action_rate(self) -> float | None:
        """조치율: alerts whose answer stands (조치 완료, 소명 or 오탐, not returned or
        rejected) among the alerts raised."""
        return self.rate("action")

    @property
    def approval_rate(self) -> float | None:
        """승인율: answered alerts whose answer the department manager approved."""
        return self.rate("approval")

    @property
    def confirmation_rate(self) -> float | None:
        """확인율: answered alerts the audit office confirmed (closed)."""
        return self.rate("confirmation")

    @property
    def on_time_rate(self) -> float | None:
        """적기 처리율 (기한 내 처리율): answered on time among alerts answered or overdue."""
        return self.rate("timely")

    @property
    def false_positive_rate(self) -> float | None:
        """Share of answered alerts whose (last) answer was 오탐."""
        return self.false_positive / self.answered if self.answered else None

    def add(self, other: Handling) -> None:
        """Add ``other``'s counts to these."""
        for name in (*COUNTS, "overdue"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def rate_keys(approval: bool) -> tuple[str, ...]:
    """The rates the score averages: 승인율 only with the approval step."""
    return tuple(k for k, _, _ in RATES if approval or k != "approval")


def shrunk(count: int, total: int, city_rate: float | None, prior: int = PRIOR) -> float | None:
    """``count / total`` pulled toward ``city_rate`` by ``prior`` alerts (None without a city
    rate)."""
    if city_rate is None:
        return None
    return (count + prior * city_rate) / (total + prior)


def score(h: Handling, city: Handling, approval: bool, prior: int = PRIOR) -> float | None:
    """The mean of ``h``'s shrunk rates (those the city has); None when the city has none."""
    values = []
    for key, num, den in RATES:
        if key not in rate_keys(approval):
            continue
        s = shrunk(h.count(num), h.count(den), city.rate(key), prior)
        if s is not None:
            values.append(s)
    return sum(values) / len(values) if values else None


def total(rows: Iterable[Handling], name: str) -> Handling:
    """The sum of ``rows`` (the city's totals)."""
    out = Handling(name)
    for h in rows:
        out.add(h)
    return out


def rank(rows: Sequence[Handling], city: Handling, approval: bool) -> list[Handling]:
    """``rows`` with their score and rank set, best first (ties share a rank, then by name;
    a department without a score comes last, unranked)."""
    for h in rows:
        h.score = score(h, city, approval)
    # Rounded for ties: two departments with the same counts must share a rank whatever the
    # floating-point order of the sum.
    ordered = sorted(rows, key=lambda h: (h.score is None, -round(h.score or 0, 9), h.name))
    previous: float | None = None
    for i, h in enumerate(ordered, 1):
        if h.score is None:
            h.rank = None
            continue
        key = round(h.score, 9)
        h.rank = ordered[i - 2].rank if i > 1 and previous == key else i
        previous = key
    return ordered


# -- reading the store -------------------------------------------------------------------------


@dataclass
class Figures:
    """Per department and per month of the period, from the tallies."""

    departments: dict[str, Handling]
    months: list[str]
    by_month: list[Handling]
    #: The first month any alert was raised in the store ("" for none): months before it had
    #: no data at all, not zero alerts.
    first_month: str = ""


@dataclass
class Board:
    """The ranking: every department ranked, best first; the city's totals; per month the
    handling of the chosen department (or all) and whether the month had data."""

    months: list[str]
    departments: list[Handling]
    city: Handling
    by_month: list[Handling]
    #: Per month: "data" (alerts raised), "none" (no alert raised that month) or "before"
    #: (the store held no alert yet). Neither of the last two has a rate, not even 0%.
    month_states: list[str]

    @property
    def ranked(self) -> int:
        """How many departments have a rank (the "of N")."""
        return sum(1 for h in self.departments if h.rank is not None)


def board(
    conn: Connection,
    months: Sequence[str],
    *,
    now: datetime,
    approval: bool,
    hidden: Set[str] = frozenset(),
    scope: str | None = None,
) -> Board:
    """Every department but the ``hidden`` ones ranked over ``months``, with the city's
    totals; ``by_month`` for ``scope`` (None: all). ``approval``: 승인율 is in the score."""
    figures = read_figures(conn, months, now=now, hidden=hidden, scope=scope)
    everyone = list(figures.departments.values())
    city = total(everyone, "")
    first = figures.first_month
    states = [
        "data" if m.raised else ("before" if not first or month < first else "none")
        for month, m in zip(figures.months, figures.by_month, strict=True)
    ]
    return Board(figures.months, rank(everyone, city, approval), city, figures.by_month, states)


def read_figures(
    conn: Connection,
    months: Sequence[str],
    *,
    now: datetime,
    hidden: Set[str] = frozenset(),
    scope: str | None = None,
) -> Figures:
    """Every department's handling over ``months`` (``YYYY-MM``, oldest first) but the
    ``hidden`` ones; ``by_month`` counts only ``scope``'s (None: all those departments)."""
    t = alert_tallies.c
    q = select(alert_tallies).where(t.month >= months[0])
    if hidden:
        q = q.where(t.department.not_in(sorted(hidden)))
    index = {m: i for i, m in enumerate(months)}
    departments: dict[str, Handling] = {}
    by_month = [Handling(m) for m in months]

    def dept(name: str | None) -> Handling:
        key = name or "-"
        return departments.setdefault(key, Handling(key))

    for r in conn.execute(q):
        counts = Handling(r.department or "-", overdue=int(r.open_due))
        for name in COUNTS:
            setattr(counts, name, int(getattr(r, name)))
        dept(r.department).add(counts)
        if scope is None or (r.department or "") == scope:
            # A month after the last one (a clock set back) counts in the last, as it is newest.
            by_month[index.get(r.month, len(months) - 1)].add(counts)
    since = datetime(int(months[0][:4]), int(months[0][5:7]), 1)
    # Counted here, not with GROUP BY: grouping makes SQLite prefer an index in department
    # order and read every alert, where the deadline range reads only those not yet due.
    for department, created in conn.execute(_not_yet_due(since=since, now=now)):
        if department in hidden:
            continue
        dept(department).overdue -= 1
        if scope is None or (department or "") == scope:
            by_month[
                index.get(f"{created.year:04d}-{created.month:02d}", len(months) - 1)
            ].overdue -= 1
    first = conn.execute(select(func.min(t.month)).where(t.raised > 0)).scalar()
    return Figures(departments, list(months), by_month, first_month=first or "")


def _not_yet_due(*, since: datetime, now: datetime) -> Any:
    """The department and raising time of each open alert raised since ``since`` whose
    deadline has not passed."""
    c = alerts.c
    conds: list[ColumnElement[bool]] = [
        c.status.in_(OPEN),
        c.deadline >= now,
        c.created_at >= since,
    ]
    return select(c.department, c.created_at).where(*conds)


def official_rows(
    conn: Connection, department: str, *, since: datetime, now: datetime
) -> list[Handling]:
    """Per assignee (employee id), the handling of ``department``'s alerts raised since
    ``since`` ("" or "-": the alerts without a department).

    Counted in SQL, grouped by assignee (a department of thousands of alerts answers in a few
    milliseconds), with the conditions of :func:`naebu.alerts.tallies.contribution`; the tests
    compare both with a recount from the audit trail.
    """
    c = alerts.c
    where: list[ColumnElement[bool]] = [
        c.created_at >= since,
        c.status.not_in(("suppressed", "withdrawn")),
    ]
    if department in ("", "-"):
        where.append(or_(c.department.is_(None), c.department == ""))
    else:
        where.append(c.department == department)
    answered = c.answered_at.is_not(None)

    def n(*conds: ColumnElement[bool]) -> Any:
        return func.sum(case((and_(*conds), 1), else_=0))

    q = (
        select(
            c.assignee,
            func.count().label("raised"),
            n(answered).label("answered"),
            n(answered, c.deadline.is_not(None), c.answered_at <= c.deadline).label("on_time"),
            n(answered, c.last_answer == "false_positive").label("false_positive"),
            n(c.reopened_from.is_not(None)).label("repeats"),
            n(answered, c.approved_at.is_not(None)).label("approved"),
            n(answered, c.status == "closed").label("confirmed"),
            n(c.status.in_(OPEN), c.deadline.is_not(None), c.deadline < now).label("overdue"),
        )
        .where(*where)
        .group_by(c.assignee)
    )
    rows: dict[str, Handling] = {}
    for r in conn.execute(q).mappings():
        h = rows.setdefault(r["assignee"] or "", Handling(r["assignee"] or ""))
        for name in (*COUNTS, "overdue"):
            setattr(h, name, getattr(h, name) + int(r[name] or 0))
    return [rows[k] for k in sorted(rows)]


def named(rows: list[Handling], directory: Directory) -> list[Handling]:
    """``rows`` of :func:`official_rows` named "name (employee id)" from ``directory``."""
    for h in rows:
        o = directory.get(h.name) if h.name else None
        if o is not None:
            h.name = f"{o.name} ({o.employee_id})"
    return rows
