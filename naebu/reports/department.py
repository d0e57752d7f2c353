"""The monthly internal-control report of a department (부서별 월간 내부통제 보고서).

For one month and each department with alerts: the alerts raised that month (one per case)
and how they stand, answered on time, false positives with their reasons, closed after the
audit office's review, what is overdue at the end of the month (or now, for the current
month), the figures per rule, and the list of the month's alerts. Counts by the month alerts
were raised, as the scorecard's; every figure lists its alert ids (:mod:`naebu.reports.figures`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from naebu.alerts.lifecycle import OPEN, STATUS_LABELS
from naebu.alerts.quality import Period, amount_of
from naebu.alerts.reasons import label as reason_label
from naebu.engine.rule import RuleMeta
from naebu.reports.figures import Figure, Sources, won
from naebu.store.tables import alerts

NO_DEPARTMENT = "부서 미지정"


@dataclass
class DepartmentReport:
    """One department's month."""

    department: str
    month: str
    as_of: datetime
    sources: Sources
    figures: list[tuple[str, Figure]] = field(default_factory=list)
    by_rule: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)


def departments(conn: Connection, month: str) -> list[str]:
    """The departments with alerts raised in ``month`` (excluded ones aside), sorted."""
    p, a = Period.parse(month), alerts.c
    q = select(a.department).where(
        a.created_at >= p.start, a.created_at < p.end, a.status != "suppressed"
    )
    return sorted({r or NO_DEPARTMENT for r in conn.execute(q).scalars()})


def collect(
    conn: Connection,
    month: str,
    department: str,
    *,
    rules: Mapping[str, RuleMeta],
    names: Mapping[str, str],
    now: datetime,
) -> DepartmentReport:
    """``department``'s report for ``month`` (``YYYY-MM``); overdue is judged at the month's
    end, or at ``now`` when that is earlier."""
    p, a = Period.parse(month), alerts.c
    as_of = min(now, p.end)
    where = [a.created_at >= p.start, a.created_at < p.end, a.status != "suppressed"]
    where.append(
        a.department.is_(None) if department == NO_DEPARTMENT else a.department == department
    )
    rows = list(
        conn.execute(
            select(
                a.id,
                a.rule_id,
                a.title,
                a.dataset,
                a.status,
                a.last_answer,
                a.reason_code,
                a.assignee,
                a.deadline,
                a.answered_at,
                a.evidence,
            )
            .where(*where)
            .order_by(a.id)
        )
    )
    s = Sources()
    report = DepartmentReport(department, month, as_of, s)
    of = f"{department}, {month} 발생"

    def ids(test: Any) -> list[int]:
        return [int(x.id) for x in rows if test(x)]

    fp = [x for x in rows if x.last_answer == "false_positive"]
    reasons: dict[str, int] = {}
    for x in fp:
        reasons[x.reason_code or ""] = reasons.get(x.reason_code or "", 0) + 1
    answered = ids(lambda x: x.last_answer is not None)
    amounts = [amount_of(x.dataset, x.evidence) for x in rows]
    at_stake = sum(v for v in amounts if v is not None) if any(amounts) else None
    report.figures = [
        ("발생 경보", s.count(ids(lambda x: True), f"경보 ({of})")),
        ("답변", s.count(answered, f"답변된 경보 ({of})")),
        (
            "기한 내 답변",
            s.count(
                ids(lambda x: x.answered_at and x.deadline and x.answered_at <= x.deadline),
                f"기한 내 답변된 경보 ({of})",
            ),
        ),
        (
            "기한 초과 미답변",
            s.count(
                ids(lambda x: x.status in OPEN and x.deadline and x.deadline < as_of),
                f"{as_of:%Y-%m-%d} 기준 기한이 지난 미답변 경보 ({of})",
            ),
        ),
        ("오탐 답변", s.count([int(x.id) for x in fp], f"오탐 답변 ({of})")),
        ("감사 검토 종결", s.count(ids(lambda x: x.status == "closed"), f"종결된 경보 ({of})")),
        (
            "경보 대상 금액",
            s.amount(at_stake, ids(lambda x: True), f"경보 대상 금액 ({of})")
            if at_stake is not None
            else Figure(None, "해당 없음"),
        ),
    ]
    why = ", ".join(f"{reason_label(k or None)} {v}건" for k, v in sorted(reasons.items()))
    report.figures.insert(
        5,
        (
            "오탐 사유",
            s.note(
                Figure(
                    len(fp),
                    why or "없음",
                    f"오탐 답변 ({of})",
                    [("alert", [int(x.id) for x in fp])],
                )
            )
            if fp
            else Figure(0, "없음"),
        ),
    )
    for rule_id in sorted({x.rule_id for x in rows}):
        mine = [x for x in rows if x.rule_id == rule_id]
        meta = rules.get(rule_id)
        report.by_rule.append(
            {
                "rule_id": rule_id,
                "title": meta.title if meta else mine[0].title,
                "alerts": s.count([int(x.id) for x in mine], f"경보 (규칙 {rule_id}, {of})"),
                "answered": s.count(
                    [int(x.id) for x in mine if x.last_answer is not None],
                    f"답변된 경보 (규칙 {rule_id}, {of})",
                ),
                "open": s.count(
                    [int(x.id) for x in mine if x.status in OPEN],
                    f"미답변 경보 (규칙 {rule_id}, {of})",
                ),
            }
        )
    for x, amount in zip(rows, amounts, strict=True):
        report.items.append(
            {
                "id": int(x.id),
                "title": x.title,
                "status": STATUS_LABELS["ko"].get(x.status, x.status),
                "assignee": names.get(x.assignee, x.assignee) if x.assignee else "담당자 미지정",
                "deadline": f"{x.deadline:%Y-%m-%d}" if x.deadline else "기한 없음",
                "amount": won(amount),
                "overdue": bool(x.status in OPEN and x.deadline and x.deadline < as_of),
            }
        )
    return report
