"""Digests and their delivery ledger, pinned byte for byte on a fixed set of alerts.

What :func:`queue_digests` writes (every outbox row's subject and body, and every
``deliveries`` row) for one directory and one set of findings is compared with the files
in ``tests/fixtures/digests/``, produced by the code as it was before the notify phase was
made fast. Any change to what officials receive, or to the ledger, shows here as a diff.
The same store contents are expected on PostgreSQL and MariaDB.

The fixture covers: officials, managers and auditors told of the same alerts (with an
inactive official acting through a supervisor, an inactive manager standing for their
supervisor, an assignee the directory does not know), digests cut at ``digest_max_items``,
evidence of every value type with numbers to mask, a recipient without an e-mail address,
alerts already queued to some recipients, and suppressed or non-raised alerts left out.

To regenerate after an intended change of the digests: ``NAEBU_UPDATE_GOLDEN=1 pytest
tests/test_digest_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servers import mysql_engine, pg_engine
from sqlalchemy import Engine, insert, select, update

from naebu.alerts import Directory, queue_digests, raise_alerts
from naebu.alerts.directory import Official
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.engine.findings import Finding
from naebu.engine.rule import RuleMeta
from naebu.store import tables as store

GOLDEN = Path(__file__).parent / "fixtures" / "digests"
NOW = datetime(2025, 3, 14, 9, 0)  # a Friday

OFFICIALS = [
    # employee_id, name, department, position, role, supervisor_id, email, active
    ("A001", "강하늘", "감사실", "감사관", "감사자", None, "kang@demo.naebu.local", True),
    ("A002", "문지아", "감사실", "주무관", "감사자", "A001", "moon@demo.naebu.local", True),
    ("A003", "배도윤", "감사실", "주무관", "감사자", "A001", "bae@demo.naebu.local", False),
    ("A010", "서예린", "기획감사과", "주무관", "감사자", None, "seo@demo.naebu.local", True),
    ("E001", "김민수", "재무과", "주무관", "담당자", "E010", "kim@demo.naebu.local", True),
    ("E002", "이영희", "재무과", "주무관", "담당자", "E010", "lee@demo.naebu.local", False),
    ("E003", "박지훈", "재무과", "주무관", "담당자", "E002", "park@demo.naebu.local", True),
    ("E010", "최재원", "재무과", "과장", "부서관리자", None, "choi@demo.naebu.local", True),
    ("E011", "임채원", "재무과", "팀장", "부서관리자", "E010", "lim@demo.naebu.local", False),
    ("E020", "정수진", "회계과", "팀장", "부서관리자", None, "jung@demo.naebu.local", True),
    ("E021", "오세훈", "회계과", "주무관", "담당자", "E020", "oh@demo.naebu.local", True),
    ("E022", "남궁민", "회계과", "주무관", "담당자", "E020", "namgung@demo.naebu.local", True),
    ("E040", "윤서연", "세무과", "주무관", "담당자", None, None, True),
]

DEPARTMENTS = ["재무과", "회계과", "세무과", "재무과", None]
ASSIGNEES = ["E001", "E002", "E003", "E021", "E022", "E040", None, "E999", "E010"]
SEVERITIES = ["low", "medium", "high", "critical", "high"]


def _directory(audit_department: str | None) -> Directory:
    officials = [Official(*row) for row in OFFICIALS]
    return Directory(officials, routing=RoutingConfig(audit_department=audit_department))


def _rules() -> dict[str, RuleMeta]:
    def meta(rule_id: str, title: str, severity: str, **extra: Any) -> RuleMeta:
        return RuleMeta(
            id=rule_id,
            title=title,
            title_en=title,
            type="match",
            dataset="payments",
            severity=severity,
            file=Path(f"rules/{rule_id}.toml"),
            **extra,
        )

    return {
        "PAY-DUP": meta(
            "PAY-DUP",
            "동일 거래처 중복 지급 의심",
            "high",
            deadline_days=3,
            basis="감사 사례 (동일 세금계산서 이중 지급)",
            why="같은 세금계산서로 두 번 지급하면 한 번은 받을 근거가 없는 돈입니다.",
            why_en="Paying one invoice twice means one payment had no basis.",
        ),
        # a basis but no why: the digest writes the basis alone
        "PAY-SPLIT": meta("PAY-SPLIT", "분할 지급 의심", "medium", basis="지방회계법 제29조"),
        "PAY-NIGHT": meta("PAY-NIGHT", "심야 결재", "low", notify=("official", "audit")),
        "PAY-SELF": meta("PAY-SELF", "자기 결재", "critical", notify=("manager", "audit")),
    }


def _evidence(i: int) -> dict[str, Any]:
    kinds: list[dict[str, Any]] = [
        {"amount": 1_250_000 + i, "vendor_id": f"V-{i:03d}"},
        {"payee_account": f"110{i:010d}", "memo": f"계좌 110-123-{i:06d}", "rate": 0.125 * i},
        {"phone": f"010-{1000 + i}-5678", "note": f"주민 900101-1{i:06d}", "paid": i % 2 == 0},
        {"approvers": ["E001", f"E0{i:02d}"], "total": float(i * 1000), "empty": None},
        {"account_no": "1002-345-678901", "count": i, "text": "", "ratio": 1.5 + i},
        {},
    ]
    return kinds[i % len(kinds)]


def _findings() -> list[Finding]:
    rules = list(_rules())
    out = []
    for i in range(60):
        rule_id = rules[i % len(rules)]
        severity = SEVERITIES[i % len(SEVERITIES)]
        key = f"P-{i:04d}"
        out.append(
            Finding(
                rule_id=rule_id,
                dataset="payments",
                record_key=key,
                severity=severity,
                message=f"지출 {key}: 연락처 02-123-{4000 + i}, 계좌번호 {3_000_000_000 + i}",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                official_id=ASSIGNEES[i % len(ASSIGNEES)],
                event_time=NOW - timedelta(days=i),
                evidence=_evidence(i),
            )
        )
    return out


def _scenario(engine: Engine, language: str, max_items: int, audit_department: str | None) -> str:
    """Raise the fixed findings, queue their digests in two calls, and dump what was written."""
    directory = _directory(audit_department)
    rules = _rules()
    notify = NotifyConfig(
        language=language,
        digest_max_items=max_items,
        channels=[
            ChannelConfig("mail", "mailto://127.0.0.1:25?from=naebu@demo.naebu.local&to={email}"),
            ChannelConfig("hook", "json://127.0.0.1:9/naebu/{employee_id}"),
        ],
    )
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(store.runs).values(started_at=NOW, status="running")
        ).inserted_primary_key[0]  # type: ignore[index]
        ids = raise_alerts(conn, _findings(), rules, directory, run_id=run_id, now=NOW)
        # Alerts that are no longer ``raised`` are not queued.
        conn.execute(
            update(store.alerts).where(store.alerts.c.id.in_(ids[50:53])).values(status="closed")
        )
    written = []
    with engine.begin() as conn:
        # A first call for some alerts (a run that queued part of them before it stopped)...
        written.append(
            queue_digests(conn, ids[:17], directory, notify, run_id=run_id, now=NOW, rules=rules)
        )
    with engine.begin() as conn:
        # ...and the whole lot: what was queued already is not queued again.
        later = NOW + timedelta(minutes=5)
        written.append(
            queue_digests(conn, ids, directory, notify, run_id=run_id, now=later, rules=rules)
        )
    with engine.connect() as conn:
        outbox = conn.execute(select(store.outbox).order_by(store.outbox.c.id)).all()
        d = store.deliveries.c
        ledger = conn.execute(
            select(d.outbox_id, d.alert_id, d.recipient, d.kind).order_by(d.outbox_id, d.alert_id)
        ).all()
    lines = [f"queued: {written}", f"alerts: {ids}", ""]
    for r in outbox:
        lines.append(
            f"=== outbox #{r.id} run {r.run_id} to {r.recipient} via {r.channel}: {r.status} "
            f"attempts {r.attempts} next {r.next_attempt_at} error {r.last_error} "
            f"created {r.created_at}"
        )
        lines.append(f"subject: {r.subject}")
        lines.append(r.body)
    lines.append("=== deliveries (outbox, alert, recipient, kind)")
    lines.extend(f"{r.outbox_id} {r.alert_id} {r.recipient} {r.kind}" for r in ledger)
    return "\n".join(lines) + "\n"


CASES = {
    "ko-cut": ("ko", 4, None),
    "en-whole": ("en", 100, None),
    "ko-audit-department": ("ko", 100, "감사실"),
}


def _check(name: str, got: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("NAEBU_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert got == expected, f"digests differ from {path} (see the module docstring)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_digests_are_pinned(engine: Engine, name: str) -> None:
    _check(name, _scenario(engine, *CASES[name]))


def test_digests_are_pinned_on_postgresql() -> None:
    with pg_engine() as engine:
        _check("ko-cut", _scenario(engine, *CASES["ko-cut"]))


def test_digests_are_pinned_on_mysql() -> None:
    with mysql_engine() as engine:
        _check("ko-cut", _scenario(engine, *CASES["ko-cut"]))
