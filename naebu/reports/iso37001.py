"""The ISO 37001 evidence report (부패방지경영시스템 운영 보고서): what the certification audit
asks for, read from naebu's store for a period of whole months.

Sections, by clause (ISO 37001:2016, and 6.3 of the 2025 edition):

- 4.5 risk register: each rule as a control over a named risk (:mod:`naebu.reports.risks`),
  with its quality figures (:mod:`naebu.alerts.quality`);
- 8.3/8.4 controls operated and their coverage: the runs of the period, what each rule found
  and whether its data is there (engine/coverage.py, naebu/data_coverage.py);
- 9.1 monitoring: the KPIs of handling (answered, on time, false positives, overdue);
- 9.2 internal audit: the audit office's reviews (accepted, sent back) from the audit trail;
- 9.3 management review: a summary with what needs a decision;
- 6.3 planning of changes: rule changes and their approvals (audit trail ``rule_*`` entries);
- 10.1 nonconformity and corrective action: alerts confirmed and corrected.

Alerts count in the month they were raised; reviews, changes and corrections in the month they
happened. Every figure is a :class:`~naebu.reports.figures.Figure` with the records it counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import Connection, select

from naebu.alerts.lifecycle import OPEN, STATUS_LABELS
from naebu.alerts.quality import Period, Quality, rule_quality
from naebu.alerts.reasons import label as reason_label
from naebu.engine.rule import RuleMeta
from naebu.reports.figures import Figure, Sources, days, pct, won
from naebu.reports.risks import risk_of
from naebu.store.tables import alerts, audit_trail, rule_versions, runs

SEVERITY_KO = {"low": "낮음", "medium": "보통", "high": "높음", "critical": "심각"}
COVERAGE_KO = {"live": "정상 운영", "partial": "일부 자료 없이 운영", "not_evaluable": "평가 불가"}
ACTION_KO = {
    "accept": "검토 승인",
    "reject": "검토 반려",
    "rule_change": "규칙 변경",
    "rule_baseline": "규칙 기준 버전 기록",
}
CHANGE_KO = {
    "added": "추가",
    "edited": "수정",
    "disabled": "비활성화",
    "enabled": "활성화",
    "moved": "파일 이동",
    "removed": "삭제",
}
#: A rule whose answers are at least this share of false positives needs its criterion
#: reviewed (9.3), once it has at least :data:`REVIEW_MIN_ANSWERS` answers.
REVIEW_FP_RATE = 0.5
REVIEW_MIN_ANSWERS = 2


@dataclass
class Report:
    """The report's contents, section by section, for the template."""

    city: str
    period: Period
    generated_at: datetime
    sources: Sources
    risks: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, Any] = field(default_factory=dict)
    controls: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[tuple[str, Figure, str]] = field(default_factory=list)
    reviews: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    corrective: dict[str, Any] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    trail_head: tuple[int, str] | None = None


def collect(
    conn: Connection,
    period: Period,
    *,
    rules: Mapping[str, RuleMeta],
    states: Mapping[str, Any],
    names: Mapping[str, str],
    city: str,
    now: datetime,
) -> Report:
    """Read every section of the report for ``period`` from the store ``conn``.

    ``rules`` are the rules configured (their titles, severity, basis), ``states`` their
    coverage (:class:`naebu.engine.coverage.Coverage` by rule id; may be empty), ``names`` the
    officials' names by employee id, ``now`` the moment the report is made (what is overdue).
    """
    report = Report(city=city, period=period, generated_at=now, sources=Sources())
    quality = rule_quality(conn, period)
    _risk_register(report, quality, rules)
    _controls(conn, report, quality, rules, states)
    _kpis(conn, report, quality, now)
    _reviews(conn, report, names)
    _changes(conn, report, names)
    _corrective(conn, report, names)
    _management_review(report, quality, rules)
    head = conn.execute(
        select(audit_trail.c.seq, audit_trail.c.hash).order_by(audit_trail.c.seq.desc()).limit(1)
    ).first()
    report.trail_head = (int(head.seq), str(head.hash)) if head is not None else None
    return report


def period_words(period: Period) -> str:
    """``2025년 1월 ~ 2025년 6월`` (one month: ``2025년 3월``)."""

    def month(m: str) -> str:
        return f"{int(m[:4])}년 {int(m[5:])}월"

    if period.first == period.last:
        return month(period.first)
    return f"{month(period.first)} ~ {month(period.last)}"


def _in_period(column: Any, period: Period) -> Any:
    return (column >= period.start) & (column < period.end)


def _rule_title(rules: Mapping[str, RuleMeta], rule_id: str) -> str:
    meta = rules.get(rule_id)
    return meta.title if meta is not None else "설정에서 제외된 규칙"


def _risk_register(report: Report, quality: Any, rules: Mapping[str, RuleMeta]) -> None:
    s, p = report.sources, report.period
    for rule_id in sorted(set(rules) | set(quality.rules())):
        meta = rules.get(rule_id)
        q: Quality = quality.total(rule_id)
        risk, what = risk_of(meta.dataset if meta else "")
        where = f"규칙 {rule_id}, {p} 발생"
        report.risks.append(
            {
                "rule_id": rule_id,
                "title": _rule_title(rules, rule_id),
                "risk": risk,
                "what": what,
                "severity": SEVERITY_KO.get(meta.severity, meta.severity) if meta else "-",
                "basis": (meta.basis if meta else "") or "규칙 파일에 근거 미기재",
                "enabled": bool(meta and meta.enabled),
                "alerts": s.count(q.alert_ids, f"경보 ({where}, 예외 처리 제외)"),
                "answered": s.count(q.answered_ids, f"답변된 경보 ({where})"),
                "confirmed": s.count(q.confirmed_ids, f"감사 검토로 종결된 경보 ({where})"),
                "fp_rate": s.rate(
                    q.false_positive, q.answered, q.false_positive_ids, f"오탐 답변 ({where})"
                ),
                "fp_reasons": _reasons(q.fp_reasons),
                "excluded": s.count(q.excluded_ids, f"예외 처리로 보류된 경보 ({where})"),
                "exclusions": s.count(
                    q.suppression_ids, f"추가된 예외 처리 ({where})", kind="suppression"
                ),
                "exclusion_reasons": _reasons(q.exclusion_reasons),
                "at_stake": s.amount(q.at_stake, q.alert_ids, f"경보 대상 금액 ({where})")
                if q.at_stake is not None
                else Figure(None, "해당 없음"),
                "recovered": s.note(
                    Figure(
                        q.recovered,
                        won(q.recovered),
                        f"조치 완료 답변의 환수액 ({where})",
                        [("alert", sorted(q.recovered_ids))],
                    )
                )
                if q.recovered is not None
                else Figure(None, won(None)),
            }
        )


def _reasons(counts: Mapping[str, int]) -> str:
    if not counts:
        return "없음"
    return ", ".join(f"{reason_label(k or None)} {v}건" for k, v in sorted(counts.items()))


def _controls(
    conn: Connection,
    report: Report,
    quality: Any,
    rules: Mapping[str, RuleMeta],
    states: Mapping[str, Any],
) -> None:
    s, p, r = report.sources, report.period, runs.c
    rows = list(
        conn.execute(
            select(r.id, r.status, r.started_at, r.summary)
            .where(_in_period(r.started_at, p))
            .order_by(r.id)
        )
    )
    ok = [x for x in rows if x.status == "ok"]
    report.runs = {
        "all": s.count([x.id for x in rows], f"점검 실행 ({p} 시작)", kind="run", unit="회"),
        "ok": s.count([x.id for x in ok], f"정상 종료된 점검 실행 ({p})", kind="run", unit="회"),
        "failed": s.count(
            [x.id for x in rows if x.status != "ok"],
            f"실패·중단된 점검 실행 ({p})",
            kind="run",
            unit="회",
        ),
        "first": min((x.started_at for x in rows), default=None),
        "last": max((x.started_at for x in rows), default=None),
    }
    found: Counter[str] = Counter()
    evaluated: dict[str, list[int]] = {}
    for x in ok:
        summary = x.summary if isinstance(x.summary, dict) else {}
        blocked = set(summary.get("not_evaluable") or {})
        for rule_id, n in (summary.get("findings") or {}).items():
            found[rule_id] += int(n)
        for rule_id in rules:
            if rule_id not in blocked:
                evaluated.setdefault(rule_id, []).append(int(x.id))
    for rule_id in sorted(set(rules) | set(quality.rules())):
        meta = rules.get(rule_id)
        state = states.get(rule_id)
        if meta is not None and not meta.enabled:
            coverage = "비활성화"
        elif state is None:
            coverage = "설정에 없음" if meta is None else "정상 운영"
        else:
            coverage = COVERAGE_KO.get(state.state, state.state)
        q = quality.total(rule_id)
        report.controls.append(
            {
                "rule_id": rule_id,
                "title": _rule_title(rules, rule_id),
                "coverage": coverage,
                "runs": s.count(
                    evaluated.get(rule_id, []),
                    f"규칙 {rule_id}이(가) 평가된 점검 실행 ({p})",
                    kind="run",
                    unit="회",
                ),
                "findings": s.note(
                    Figure(
                        found[rule_id],
                        f"{found[rule_id]:,}건",
                        f"규칙 {rule_id}이(가) 찾은 기록 수: 점검 실행 요약의 합계 ({p})",
                        [("run", sorted(int(x.id) for x in ok))],
                    )
                ),
                "alerts": s.count(q.alert_ids, f"경보 (규칙 {rule_id}, {p} 발생)"),
            }
        )


def _kpis(conn: Connection, report: Report, quality: Any, now: datetime) -> None:
    s, p, a = report.sources, report.period, alerts.c
    total = quality.total()
    rows = list(
        conn.execute(
            select(a.id, a.status, a.last_answer, a.deadline, a.answered_at, a.created_at).where(
                _in_period(a.created_at, p), a.status != "suppressed"
            )
        )
    )
    answered = [x for x in rows if x.last_answer is not None]  # as naebu.alerts.quality counts
    on_time = [
        x for x in rows if x.answered_at is not None and x.deadline and x.answered_at <= x.deadline
    ]
    overdue = [x for x in rows if x.status in OPEN and x.deadline and x.deadline < now]
    waits = [(x.answered_at - x.created_at).total_seconds() / 86400 for x in rows if x.answered_at]
    ids = [x.id for x in rows]
    report.kpis = [
        ("발생 경보", s.count(ids, f"경보 ({p} 발생, 예외 처리 제외)"), "사안당 1건"),
        (
            "답변율",
            s.rate(len(answered), len(rows), [x.id for x in answered], f"답변된 경보 ({p} 발생)"),
            "조치 완료·소명·오탐 답변이 있는 경보의 비율",
        ),
        (
            "기한 내 답변율",
            s.rate(len(on_time), len(rows), [x.id for x in on_time], f"기한 내 답변 ({p} 발생)"),
            "처리 기한 안에 답변된 경보의 비율",
        ),
        (
            "답변까지 걸린 기간(중앙값)",
            s.note(
                Figure(
                    median(waits) if waits else None,
                    days(median(waits) if waits else None),
                    f"답변 시각이 있는 경보 ({p} 발생)",
                    [("alert", sorted(x.id for x in rows if x.answered_at))],
                )
            ),
            "경보 발생부터 답변까지",
        ),
        (
            "기한 초과 미답변",
            s.count(
                [x.id for x in overdue], f"보고서 작성 시점 기한이 지난 미답변 경보 ({p} 발생)"
            ),
            f"{now:%Y-%m-%d} 기준",
        ),
        (
            "오탐률",
            s.rate(
                total.false_positive,
                total.answered,
                total.false_positive_ids,
                f"오탐 답변 ({p} 발생)",
            ),
            "답변 중 오탐의 비율; 사유: " + _reasons(total.fp_reasons),
        ),
        (
            "감사 검토 종결",
            s.count(total.confirmed_ids, f"감사 검토로 종결된 경보 ({p} 발생)"),
            "감사부서가 답변을 승인한 경보",
        ),
        (
            "예외 처리",
            s.count(total.suppression_ids, f"추가된 예외 처리 ({p})", kind="suppression"),
            "사유: " + _reasons(total.exclusion_reasons),
        ),
        (
            "경보 대상 금액",
            s.amount(total.at_stake, total.alert_ids, f"금액이 있는 경보의 대상 금액 ({p} 발생)"),
            "금액 항목이 있는 자료의 경보만",
        ),
        (
            "환수액",
            s.note(
                Figure(
                    total.recovered,
                    won(total.recovered),
                    f"환수액이 기록된 경보 ({p} 발생)",
                    [("alert", sorted(total.recovered_ids))],
                )
            ),
            "조치 완료 답변에 기록된 환수액",
        ),
    ]


def _trail_rows(conn: Connection, period: Period, where: Any) -> list[Any]:
    t = audit_trail.c
    q = select(audit_trail).where(_in_period(t.at, period), where).order_by(t.seq)
    return list(conn.execute(q))


def _reviews(conn: Connection, report: Report, names: Mapping[str, str]) -> None:
    s, p, t = report.sources, report.period, audit_trail.c
    rows = _trail_rows(conn, p, t.action.in_(("accept", "reject")))
    by_actor: dict[str, dict[str, list[int]]] = {}
    for x in rows:
        by_actor.setdefault(x.actor, {"accept": [], "reject": []})[x.action].append(int(x.seq))
    report.reviews = {
        "accepted": s.count(
            [x.seq for x in rows if x.action == "accept"], f"검토 승인 기록 ({p})", kind="trail"
        ),
        "rejected": s.count(
            [x.seq for x in rows if x.action == "reject"], f"검토 반려 기록 ({p})", kind="trail"
        ),
        "by_auditor": [
            {
                "name": names.get(actor, actor),
                "accepted": s.count(
                    v["accept"], f"{names.get(actor, actor)} 검토 승인 ({p})", "trail"
                ),
                "rejected": s.count(
                    v["reject"], f"{names.get(actor, actor)} 검토 반려 ({p})", "trail"
                ),
            }
            for actor, v in sorted(by_actor.items())
        ],
        "entries": [
            {
                "seq": int(x.seq),
                "at": x.at,
                "alert_id": x.alert_id,
                "who": names.get(x.actor, x.actor),
                "what": ACTION_KO[x.action],
                "answer": STATUS_LABELS["ko"].get(x.from_status or "", "-"),
                "comment": x.comment or "의견 없음",
            }
            for x in rows
        ],
    }


def _changes(conn: Connection, report: Report, names: Mapping[str, str]) -> None:
    s, p, t, v = report.sources, report.period, audit_trail.c, rule_versions.c
    rows = _trail_rows(conn, p, t.action.like("rule%"))
    entries = []
    for x in rows:
        details = x.details if isinstance(x.details, dict) else {}
        approved = "approv" in x.action
        if x.action == "rule_baseline":
            what = f"기준 버전 {len(details.get('rules') or {}):,}개 기록"
        else:
            kind = details.get("change") or ""
            what = f"{details.get('rule_id') or '-'} {CHANGE_KO.get(kind, kind)}".strip()
        entries.append(
            {
                "seq": int(x.seq),
                "at": x.at,
                "what": what,
                "action": ACTION_KO.get(x.action, x.action),
                "who": "내부통제 시스템" if x.actor == "system" else names.get(x.actor, x.actor),
                "approval": approved,
                "comment": x.comment or "",
            }
        )
    approvals = [e["seq"] for e in entries if e["approval"]]
    changed = [x.seq for x in rows if x.action == "rule_change"]
    versions = list(conn.execute(select(v.id).where(_in_period(v.first_seen, p))).scalars())
    report.changes = {
        "entries": entries,
        "changes": s.count(changed, f"규칙 변경 기록 ({p})", kind="trail"),
        "approvals": s.count(approvals, f"규칙 변경 승인 기록 ({p})", kind="trail"),
        "versions": s.count(versions, f"새로 적용된 규칙 버전 ({p})", kind="version", unit="개"),
    }


def _corrective(conn: Connection, report: Report, names: Mapping[str, str]) -> None:
    s, p, a, t = report.sources, report.period, alerts.c, audit_trail.c
    closed = list(
        conn.execute(
            select(a.id, a.rule_id, a.title, a.department, a.closed_at, a.recovered_amount)
            .where(a.status == "closed", a.last_answer == "correct", _in_period(a.closed_at, p))
            .order_by(a.closed_at, a.id)
        )
    )
    pending = list(
        conn.execute(
            # A correction awaiting the audit office: just answered, or approved by the
            # department manager (the three-step handling) and not yet confirmed.
            select(a.id).where(
                (a.status == "corrected")
                | ((a.status == "approved") & (a.last_answer == "correct")),
                _in_period(a.answered_at, p),
            )
        ).scalars()
    )
    ids = [int(x.id) for x in closed]
    notes: dict[int, dict[str, Any]] = {}
    if ids:
        steps = conn.execute(
            select(t.alert_id, t.action, t.actor, t.comment)
            .where(t.alert_id.in_(ids), t.action.in_(("correct", "accept")))
            .order_by(t.seq)
        )
        for step in steps:
            notes.setdefault(int(step.alert_id), {})[step.action] = step
    items = []
    for x in closed:
        n = notes.get(int(x.id), {})
        correct, accept = n.get("correct"), n.get("accept")
        items.append(
            {
                "id": int(x.id),
                "rule_id": x.rule_id,
                "title": x.title,
                "department": x.department or "부서 미지정",
                "action": (correct.comment if correct is not None else None) or "조치 내용 미기재",
                "by": names.get(correct.actor, correct.actor) if correct is not None else "-",
                "reviewer": names.get(accept.actor, accept.actor) if accept is not None else "-",
                "closed_at": x.closed_at,
                "recovered": won(x.recovered_amount),
            }
        )
    recovered = sum(float(x.recovered_amount or 0) for x in closed)
    report.corrective = {
        "items": items,
        "closed": s.count(ids, f"조치 완료 후 감사 검토로 종결된 경보 ({p} 종결)"),
        "pending": s.count(pending, f"조치 완료 답변 후 검토를 기다리는 경보 ({p} 답변)"),
        "recovered": s.note(
            Figure(recovered, won(recovered), f"종결된 시정 조치의 환수액 ({p})", [("alert", ids)])
        ),
    }


def _management_review(report: Report, quality: Any, rules: Mapping[str, RuleMeta]) -> None:
    total = quality.total()
    k = {label: fig for label, fig, _ in report.kpis}
    report.summary = [
        f"{period_words(report.period)}에 규칙 {len(quality.rules()):,}개가 경보 {total.alerts:,}건을 "
        f"발생시켰고, 그중 {total.answered:,}건이 답변되었습니다(답변율 {k['답변율'].text}, "
        f"기한 내 답변율 {k['기한 내 답변율'].text}).",
        f"감사부서는 검토 {report.reviews['accepted'].text}을 승인하고 "
        f"{report.reviews['rejected'].text}을 반려했습니다.",
        f"확인된 부적합에 대한 시정 조치 {report.corrective['closed'].text}이 종결되었고, "
        f"환수액은 {report.corrective['recovered'].text}입니다.",
        f"오탐률은 {k['오탐률'].text}이며 예외 처리는 {k['예외 처리'].text}가 추가되었습니다.",
        f"규칙 변경 {report.changes['changes'].text}, 변경 승인 {report.changes['approvals'].text}이 "
        "기록되었습니다.",
    ]
    for rule_id in quality.rules():
        q = quality.total(rule_id)
        if q.answered >= REVIEW_MIN_ANSWERS and (q.fp_rate or 0) >= REVIEW_FP_RATE:
            report.actions.append(
                f"규칙 {rule_id}({_rule_title(rules, rule_id)})의 오탐률이 {pct(q.fp_rate)}입니다"
                f"(사유: {_reasons(q.fp_reasons)}): 규칙 기준의 재검토가 필요합니다."
            )
    overdue = k["기한 초과 미답변"]
    if overdue.value:
        report.actions.append(
            f"기한이 지난 미답변 경보가 {overdue.text} 있습니다: 해당 부서에 처리를 독려하십시오."
        )
    blocked = [c["rule_id"] for c in report.controls if c["coverage"] == "평가 불가"]
    if blocked:
        report.actions.append(
            f"자료가 없어 평가되지 않는 규칙이 {len(blocked)}개 있습니다({', '.join(blocked)}): "
            "자료 연계를 보완하십시오."
        )
    if not report.actions:
        report.actions.append("이번 기간에는 별도 조치가 필요한 사항이 없습니다.")
