"""Rule quality (규칙 품질): per rule and month, what its alerts came to.

For every rule and every month of raising (the month an alert was raised, as the scorecard's
tallies count them): the alerts raised (one per case), those answered, those confirmed (closed
after the audit office accepted the answer) and of them corrected, the false positives and
their reasons (:mod:`naebu.alerts.reasons`), the alerts excluded (stored ``suppressed``), the
alerts withdrawn (``withdrawn``, :mod:`naebu.alerts.withdrawal`) and the exclusions added (suppressions, with their reasons), and, where the rule's dataset has an
amount (a ``money`` column, naebu/core/datasets.py), the amount at stake and what corrected answers
say was recovered.

A withdrawn alert was taken back because a late record showed its condition no longer holds:
it is neither a true nor a false positive, so like an excluded one it is counted only in its
own figure (``withdrawn``), never among the alerts, answers, false positives or amounts.

One module computes them from the store, for ``naebu quality``, the inbox's rule catalog and
the reports (naebu/reports): counts by SQL ``GROUP BY``, amounts and alert ids from one
select of the period's alerts (amounts sit in each alert's evidence). Every figure keeps the
ids of the alerts it counts, so a report can say which records it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from naebu.alerts.withdrawal import WITHDRAWN
from naebu.core import datasets
from naebu.store.tables import alerts, suppressions

#: The money column that says what is at stake, where a dataset has several (in order of
#: preference: the first with a value); other datasets: their money columns in order.
AMOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "property_sales": ("sale_price", "planned_price", "appraisal_mean"),
    "levies": ("reduction_amount", "amount"),
}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """A period that is not ``YYYY-MM`` or ``YYYY-MM..YYYY-MM`` (in order)."""


@dataclass(frozen=True)
class Period:
    """Whole months from ``first`` to ``last`` (``YYYY-MM``), both included."""

    first: str
    last: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2025-01..2025-06`` or one month ``2025-03``; raises :class:`PeriodError`."""
        parts = [p.strip() for p in text.split("..")]
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or not all(_MONTH.match(p) for p in parts):
            raise PeriodError(f"period {text!r}: give YYYY-MM or YYYY-MM..YYYY-MM")
        if parts[0] > parts[1]:
            raise PeriodError(f"period {text!r}: the first month is after the last")
        return cls(parts[0], parts[1])

    @classmethod
    def last_months(cls, now: datetime, n: int = 12) -> Period:
        """The ``n`` months ending with ``now``'s."""
        y, m = divmod(now.year * 12 + now.month - 1 - (n - 1), 12)
        return cls(f"{y:04d}-{m + 1:02d}", f"{now.year:04d}-{now.month:02d}")

    @property
    def start(self) -> datetime:
        """The first instant of the period."""
        return datetime(int(self.first[:4]), int(self.first[5:]), 1)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        y, m = int(self.last[:4]), int(self.last[5:])
        return datetime(y + m // 12, m % 12 + 1, 1)

    @property
    def months(self) -> list[str]:
        """Every month of the period, oldest first."""
        out, y, m = [], int(self.first[:4]), int(self.first[5:])
        while f"{y:04d}-{m:02d}" <= self.last:
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y, m + 1) if m < 12 else (y + 1, 1)
        return out

    def __str__(self) -> str:
        return self.first if self.first == self.last else f"{self.first}..{self.last}"


@dataclass
class Quality:
    """One rule's figures over one month (or, summed, over a period)."""

    rule_id: str
    month: str  # YYYY-MM, or the period's text for a total
    alerts: int = 0  # raised, not excluded
    answered: int = 0  # an answer given (조치 완료, 소명, 오탐)
    corrected: int = 0  # last answer 조치 완료
    explained: int = 0  # last answer 소명
    false_positive: int = 0  # last answer 오탐
    confirmed: int = 0  # closed: the audit office accepted the answer
    confirmed_corrected: int = 0  # closed after 조치 완료: a confirmed finding, corrected
    excluded: int = 0  # stored suppressed (예외 처리)
    withdrawn: int = 0  # withdrawn after late data (철회): in no other figure
    exclusions: int = 0  # suppressions added in the month
    fp_reasons: dict[str, int] = field(default_factory=dict)  # reason code (or "") -> count
    exclusion_reasons: dict[str, int] = field(default_factory=dict)
    #: Summed over the alerts whose dataset has an amount; None when it has none.
    at_stake: float | None = None
    recovered: float | None = None
    #: The ids of the alerts counted in ``alerts`` and ``excluded``, for traceability.
    alert_ids: list[int] = field(default_factory=list)
    excluded_ids: list[int] = field(default_factory=list)
    withdrawn_ids: list[int] = field(default_factory=list)
    false_positive_ids: list[int] = field(default_factory=list)
    answered_ids: list[int] = field(default_factory=list)
    recovered_ids: list[int] = field(default_factory=list)
    confirmed_ids: list[int] = field(default_factory=list)
    suppression_ids: list[int] = field(default_factory=list)

    @property
    def fp_rate(self) -> float | None:
        """False positives among the answered alerts; None before any answer."""
        return self.false_positive / self.answered if self.answered else None

    def add(self, other: Quality) -> None:
        """Add ``other``'s figures to these (a period's total)."""
        for name in (
            "alerts",
            "answered",
            "corrected",
            "explained",
            "false_positive",
            "confirmed",
            "confirmed_corrected",
            "excluded",
            "withdrawn",
            "exclusions",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in (
            (self.fp_reasons, other.fp_reasons),
            (self.exclusion_reasons, other.exclusion_reasons),
        ):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        if other.at_stake is not None:
            self.at_stake = (self.at_stake or 0.0) + other.at_stake
        if other.recovered is not None:
            self.recovered = (self.recovered or 0.0) + other.recovered
        for name in (
            "alert_ids",
            "excluded_ids",
            "withdrawn_ids",
            "false_positive_ids",
            "answered_ids",
            "recovered_ids",
            "confirmed_ids",
            "suppression_ids",
        ):
            getattr(self, name).extend(getattr(other, name))

    def as_json(self) -> dict[str, Any]:
        """JSON-safe form (``naebu quality --format json``)."""
        return {
            "rule_id": self.rule_id,
            "month": self.month,
            "alerts": self.alerts,
            "answered": self.answered,
            "corrected": self.corrected,
            "explained": self.explained,
            "false_positive": self.false_positive,
            "false_positive_rate": None if self.fp_rate is None else round(self.fp_rate, 4),
            "false_positive_reasons": dict(sorted(self.fp_reasons.items())),
            "confirmed": self.confirmed,
            "confirmed_corrected": self.confirmed_corrected,
            "excluded": self.excluded,
            "withdrawn": self.withdrawn,
            "exclusions": self.exclusions,
            "exclusion_reasons": dict(sorted(self.exclusion_reasons.items())),
            "amount_at_stake": self.at_stake,
            "amount_recovered": self.recovered,
            "alert_ids": sorted(self.alert_ids),
            "excluded_alert_ids": sorted(self.excluded_ids),
            "withdrawn_alert_ids": sorted(self.withdrawn_ids),
            "suppression_ids": sorted(self.suppression_ids),
        }


@dataclass
class QualityReport:
    """Every rule's figures per month of a period, and their totals."""

    period: Period
    #: (rule id, month) -> figures; only where something happened.
    cells: dict[tuple[str, str], Quality]

    def rules(self) -> list[str]:
        """The rules with figures, sorted."""
        return sorted({r for r, _ in self.cells})

    def total(self, rule_id: str | None = None) -> Quality:
        """The period's total of one rule, or of every rule (``rule_id`` None)."""
        out = Quality(rule_id or "", str(self.period))
        for (r, _), q in sorted(self.cells.items()):
            if rule_id is None or r == rule_id:
                out.add(q)
        return out

    def by_month(self, rule_id: str) -> list[Quality]:
        """One rule's figures for every month of the period (zeros where nothing happened)."""
        return [self.cells.get((rule_id, m)) or Quality(rule_id, m) for m in self.period.months]


def month_of(conn: Connection, column: Any) -> Any:
    """SQL for ``YYYY-MM`` of a datetime column, in the store's dialect."""
    name = conn.dialect.name
    if name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    if name in ("mysql", "mariadb"):
        return func.date_format(column, "%Y-%m")
    return func.substr(column, 1, 7)  # SQLite keeps datetimes as ISO text


def amount_of(dataset: str, evidence: Mapping[str, Any] | None) -> float | None:
    """What an alert puts at stake: its record's amount, or the sum over its case's records
    (``case.members``); None when the dataset has no money column or no record gives one."""
    names = amount_columns(dataset)
    if not names or not isinstance(evidence, Mapping):
        return None
    members = evidence.get("case.members")
    records = members if isinstance(members, list) and members else [evidence]
    total, found = 0.0, False
    for record in records:
        if not isinstance(record, Mapping):
            continue
        for name in names:
            value = record.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                total += float(value)
                found = True
                break
    return total if found else None


def amount_columns(dataset: str) -> tuple[str, ...]:
    """The money columns of ``dataset`` that say what is at stake, in order of preference."""
    if dataset in AMOUNT_COLUMNS:
        return AMOUNT_COLUMNS[dataset]
    if dataset not in datasets.DATASETS:
        return ()
    return tuple(c.name for c in datasets.get(dataset).columns if c.kind == "money")


def has_amount(dataset: str) -> bool:
    """True when alerts of ``dataset`` can say what is at stake."""
    return bool(amount_columns(dataset))


def rule_quality(
    conn: Connection, period: Period, rule_ids: Iterable[str] | None = None
) -> QualityReport:
    """The figures of every rule (or of ``rule_ids``) for each month of ``period``, by the
    month alerts were raised and suppressions added."""
    a, s = alerts.c, suppressions.c
    wanted = sorted(set(rule_ids)) if rule_ids is not None else None
    month = month_of(conn, a.created_at).label("month")
    in_period = (a.created_at >= period.start) & (a.created_at < period.end)
    if wanted is not None:
        in_period = in_period & a.rule_id.in_(wanted)
    cells: dict[tuple[str, str], Quality] = {}

    def cell(rule_id: str, m: str) -> Quality:
        return cells.setdefault((rule_id, m), Quality(rule_id, m))

    counts = (
        select(
            a.rule_id,
            month,
            a.status,
            a.last_answer,
            a.reason_code,
            func.count().label("n"),
            func.sum(a.recovered_amount).label("recovered"),
        )
        .where(in_period)
        .group_by(a.rule_id, month, a.status, a.last_answer, a.reason_code)
    )
    for r in conn.execute(counts):
        q, n = cell(r.rule_id, r.month), int(r.n)
        if r.status == "suppressed":
            q.excluded += n
            continue
        if r.status == WITHDRAWN:
            # Neither a true nor a false positive: out of precision and false-positive rates.
            q.withdrawn += n
            continue
        q.alerts += n
        if r.last_answer is not None:
            q.answered += n
        if r.last_answer == "correct":
            q.corrected += n
        elif r.last_answer == "explain":
            q.explained += n
        elif r.last_answer == "false_positive":
            q.false_positive += n
            q.fp_reasons[r.reason_code or ""] = q.fp_reasons.get(r.reason_code or "", 0) + n
        if r.status == "closed":
            q.confirmed += n
            if r.last_answer == "correct":
                q.confirmed_corrected += n
        if r.recovered is not None:
            q.recovered = (q.recovered or 0.0) + float(r.recovered)
    # The ids make every figure traceable; amounts sit in the evidence, read only for the
    # alerts of datasets that have one (attendance or permits evidence is never parsed).
    rows = select(
        a.id, a.rule_id, month, a.dataset, a.status, a.last_answer, a.recovered_amount
    ).where(in_period)
    money: set[str] = set()  # the datasets with an amount among the period's alerts
    for r in conn.execute(rows):
        q = cell(r.rule_id, r.month)
        if r.status == "suppressed":
            q.excluded_ids.append(int(r.id))
            continue
        if r.status == WITHDRAWN:
            q.withdrawn_ids.append(int(r.id))
            continue
        q.alert_ids.append(int(r.id))
        if r.last_answer is not None:
            q.answered_ids.append(int(r.id))
        if r.recovered_amount is not None:
            q.recovered_ids.append(int(r.id))
        if r.last_answer == "false_positive":
            q.false_positive_ids.append(int(r.id))
        if r.status == "closed":
            q.confirmed_ids.append(int(r.id))
        if has_amount(r.dataset):
            money.add(r.dataset)
            if q.at_stake is None:
                q.at_stake = 0.0
    if money:
        amounts = select(a.id, a.rule_id, month, a.dataset, a.evidence).where(
            in_period,
            a.status.not_in(("suppressed", WITHDRAWN)),
            a.dataset.in_(sorted(money)),
        )
        for r in conn.execute(amounts):
            amount = amount_of(r.dataset, r.evidence)
            if amount is not None:
                q = cell(r.rule_id, r.month)
                q.at_stake = (q.at_stake or 0.0) + amount
    smonth = month_of(conn, s.created_at).label("month")
    excl = select(s.id, s.rule_id, smonth, s.reason_code).where(
        s.created_at >= period.start, s.created_at < period.end
    )
    if wanted is not None:
        excl = excl.where(s.rule_id.in_(wanted))
    for r in conn.execute(excl):
        q = cell(r.rule_id, r.month)
        q.exclusions += 1
        q.suppression_ids.append(int(r.id))
        code = r.reason_code or ""
        q.exclusion_reasons[code] = q.exclusion_reasons.get(code, 0) + 1
    return QualityReport(period, cells)
