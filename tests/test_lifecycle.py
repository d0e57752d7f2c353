"""The alert lifecycle, as 청백-e officials work it: raised, acknowledged, answered, reviewed.

The first test walks one alert of the demo city (한빛시) through every step with an injected
clock - raise, acknowledge, reminder, escalation to the manager and then the audit office,
explanation (소명), rejection, correction, acceptance - and checks every message a real SMTP
server (aiosmtpd) and a local webhook received. The others check who may take which step and
how a closed alert reopens. Real SQLite stores and real servers; no mocks.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import ROOT
from servers import (
    SmtpServer,
    WebhookServer,
    body_text,
    directory_with_two_auditors,
    finding,
    sample_rules,
    smtp_server,
    webhook_server,
)
from sqlalchemy import Engine, select

from naebu import demo
from naebu.alerts import Directory, deliver_pending, queue_digests, raise_alerts
from naebu.alerts.directory import Official
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import LifecycleError, act
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.officials import directory_from_history, sync_officials
from naebu.alerts.trail import entries, verify
from naebu.connectors import make_connector
from naebu.connectors.base import SourceState
from naebu.core.workdays import add_business_days, business_days_before
from naebu.engine.findings import Finding
from naebu.engine.registry import EvalContext
from naebu.pipeline import load_ruleset, run_once
from naebu.settings.config import Config, load_config
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)  # a Monday


# -- a run, as the pipeline does it ------------------------------------------------------------


def cycle(
    engine: Engine,
    directory: Directory,
    notify: NotifyConfig,
    rules: dict[str, Any],
    findings: list[Finding],
    now: datetime,
) -> None:
    """One run: raise and queue new alerts, queue follow-ups, deliver the outbox."""
    with engine.begin() as conn:
        ids = raise_alerts(conn, findings, rules, directory, run_id=None, now=now)
        queue_digests(conn, ids, directory, notify, run_id=None, now=now)
    remind_and_escalate(engine, directory, notify, now=now)
    deliver_pending(engine, notify, directory, now=now)


# -- the demo city -----------------------------------------------------------------------------


@dataclass
class DemoCity:
    config: Config
    directory: Directory
    rules: dict[str, Any]
    finding: Finding


def _demo(workdir: Path, extra: str) -> DemoCity:
    demo.generate(workdir / "demo-city", 42, scale=0.3)
    shutil.copy(ROOT / "config.toml", workdir / "config.toml")
    shutil.copytree(ROOT / "rules", workdir / "rules")
    with (workdir / "config.toml").open("a", encoding="utf-8") as f:
        f.write("\n" + extra)
    config = load_config(workdir / "config.toml")
    ruleset = load_ruleset(config)
    rule = ruleset.by_id()["PROP-BELOW-APPRAISAL"]
    batches = make_connector(config.sources["property_sales"]).pull(SourceState())
    frame = pd.concat([b.frame for b in batches], ignore_index=True)
    found = rule.evaluate({"property_sales": frame}, EvalContext(now=T0))
    assert found, "the demo city plants sales below the appraisal"
    # The directory as a run stores it: its sources read through the sql connector (only
    # those: no other source, so the run raises nothing of its own).
    run_once(config, now=T0, sources={"employees", "departments"}, deliver=False)
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            directory = directory_from_history(conn, config.routing)
    finally:
        engine.dispose()
    assert len(directory) > 0
    return DemoCity(config, directory, {r.meta.id: r.meta for r in ruleset.rules}, found[0])


def _emails(smtp: SmtpServer) -> list[tuple[str, str, str]]:
    """(recipient address, subject, body) of every mail received, in order."""
    out = []
    for msg, (_, rcpts) in zip(smtp.messages, smtp.envelopes, strict=True):
        for rcpt in rcpts:
            out.append((rcpt, str(msg["Subject"]), body_text(msg)))
    return out


def test_demo_alert_walks_the_whole_lifecycle(tmp_path: Path) -> None:
    with smtp_server() as smtp, webhook_server() as hook:
        channels = (
            "[[notify.channels]]\n"
            'name = "email"\n'
            f'url = "{smtp.url("{email}")}"\n'
            "[[notify.channels]]\n"
            'name = "audit-webhook"\n'
            f'url = "{hook.url("/naebu")}"\n'
        )
        city = _demo(tmp_path, channels)
        walk(city, smtp, hook)


def walk(city: DemoCity, smtp: SmtpServer, hook: WebhookServer) -> None:
    config, directory, f = city.config, city.directory, city.finding
    engine = store.connect(config.store_url)
    notify = config.notify
    seen = 0

    def run(now: datetime) -> list[tuple[str, str, str]]:
        nonlocal seen
        cycle(engine, directory, notify, city.rules, [f], now)
        new = _emails(smtp)[seen:]
        seen += len(new)
        # the webhook (one shared URL) gets every message the mail channel got
        assert len(hook.posts) == seen
        assert [p["title"] for p in hook.posts[-len(new) :]] == [s for _, s, _ in new] or not new
        return new

    def addr(official: Official) -> str:
        return f"{official.employee_id}@demo.naebu.local"

    try:
        # 1. raised: at once to the official, the department manager and the audit office
        new = run(T0)
        with engine.connect() as conn:
            (alert,) = conn.execute(select(store.alerts)).all()
        official = directory.get(alert.assignee)
        assert official is not None and official.role == "담당자"
        (manager,) = directory.managers(alert.department)
        auditors = directory.audit_office()
        assert len(auditors) >= 2 and all(a.department == "감사담당관" for a in auditors)
        assert sorted(r for r, _, _ in new) == sorted(
            [addr(official), addr(manager), *(addr(a) for a in auditors)]
        )
        assert all(s.startswith("[내부통제] 확인이 필요한 경보 1건") for _, s, _ in new)
        mail = {r: b for r, _, b in new}
        assert f"경보 번호: #{alert.id}" in mail[addr(official)]
        assert "배정되었습니다" in mail[addr(official)]
        assert "(부서관리자 통보)" in mail[addr(manager)]
        assert official.display_name in mail[addr(manager)]
        assert "(감사부서 통보)" in mail[addr(auditors[0])]
        assert alert.notify_roles == ["official", "manager", "audit"]  # high severity
        deadline = alert.deadline
        assert deadline == add_business_days(T0, 7)

        # 2. the official acknowledges; nobody is told
        with engine.begin() as conn:
            act(conn, alert.id, "ack", official.employee_id, now=T0 + timedelta(hours=1))
        assert run(T0 + timedelta(hours=2)) == []

        # 3. two business days before the deadline: a reminder to the official only
        remind_at = datetime.combine(business_days_before(deadline, 2), time(9))
        new = run(remind_at)
        assert [(r, s) for r, s, _ in new] == [
            (addr(official), "[내부통제] 경보 처리 안내: 기한 임박 1건")
        ]
        assert "처리 기한 임박" in new[0][2] and f"#{alert.id}" in new[0][2]
        assert run(remind_at + timedelta(hours=3)) == []  # once

        # 4. overdue: the department manager
        overdue_at = deadline + timedelta(hours=9)
        new = run(overdue_at)
        assert [(r, s) for r, s, _ in new] == [
            (addr(manager), "[내부통제] 경보 처리 안내: 기한 경과 1건")
        ]
        assert "부서관리자 보고" in new[0][2] and official.display_name in new[0][2]

        # 5. three business days later still unanswered: the audit office
        audit_at = add_business_days(deadline, 3) + timedelta(hours=9)
        assert run(audit_at - timedelta(days=1)) == []  # not yet
        new = run(audit_at)
        assert sorted(r for r, _, _ in new) == sorted(addr(a) for a in auditors)
        assert {s for _, s, _ in new} == {"[내부통제] 경보 처리 안내: 감사부서 보고 1건"}
        assert "경과 영업일: " in new[0][2] and "#" + str(alert.id) in new[0][2]
        assert run(audit_at + timedelta(days=1)) == []  # never the same step twice

        # 6. the official explains (소명): the audit office is asked to review
        t = audit_at + timedelta(days=1)
        with engine.begin() as conn:
            act(conn, alert.id, "explain", official.employee_id, "감정평가 후 시세 하락", now=t)
        new = run(t + timedelta(hours=1))
        assert sorted(r for r, _, _ in new) == sorted(addr(a) for a in auditors)
        assert "검토 대기" in new[0][1] and "감정평가 후 시세 하락" in new[0][2]

        # 7. an auditor rejects with a comment: back to the official with a new deadline
        reviewer = auditors[0]
        t += timedelta(days=1)
        with engine.begin() as conn:
            out = act(conn, alert.id, "reject", reviewer.employee_id, "시세 자료 첨부 필요", now=t)
        assert out.to_status == "rejected" and out.deadline == add_business_days(t, 7)
        new = run(t + timedelta(hours=1))
        assert [(r, s) for r, s, _ in new] == [
            (addr(official), "[내부통제] 경보 처리 안내: 검토 결과 1건")
        ]
        assert "반려" in new[0][2] and "시세 자료 첨부 필요" in new[0][2]

        # 8. the official corrects; the audit office reviews and accepts: closed
        t += timedelta(days=1)
        with engine.begin() as conn:
            act(conn, alert.id, "correct", official.employee_id, "재감정 후 매각가 조정", now=t)
        new = run(t + timedelta(hours=1))
        assert sorted(r for r, _, _ in new) == sorted(addr(a) for a in auditors)
        t += timedelta(days=1)
        with engine.begin() as conn:
            act(conn, alert.id, "accept", reviewer.employee_id, now=t)
        new = run(t + timedelta(hours=1))
        assert [(r, s) for r, s, _ in new] == [
            (addr(official), "[내부통제] 경보 처리 안내: 검토 결과 1건")
        ]
        assert "승인 (종결)" in new[0][2]
        assert run(t + timedelta(days=30)) == []  # closed: no more reminders or escalations

        with engine.connect() as conn:
            final = conn.execute(select(store.alerts)).one()
            trail = entries(conn, alert.id)
            assert verify(conn).ok
            ledger = conn.execute(
                select(store.deliveries.c.recipient, store.deliveries.c.kind).where(
                    store.deliveries.c.alert_id == alert.id
                )
            ).all()
        assert final.status == "closed" and final.closed_at == t
        assert [e["action"] for e in trail] == [
            "raise",
            "acknowledge",
            "escalate",
            "escalate",
            "explain",
            "reject",
            "correct",
            "accept",
        ]
        assert [e["details"]["step"] for e in trail if e["action"] == "escalate"] == [
            "manager",
            "audit",
        ]
        # the delivery ledger names every kind of message about the alert, per recipient
        kinds = {(r, k) for r, k in ledger}
        assert (official.employee_id, "remind") in kinds
        assert (manager.employee_id, "escalate_manager") in kinds
        assert (reviewer.employee_id, "escalate_audit") in kinds
        assert (official.employee_id, "review") in kinds
        with engine.connect() as conn:
            statuses = set(conn.execute(select(store.outbox.c.status)).scalars())
        assert statuses == {"sent"}
    finally:
        engine.dispose()


# -- who may do what ---------------------------------------------------------------------------


@pytest.fixture
def directory() -> Directory:
    return directory_with_two_auditors()


def _raise(engine: Engine, directory: Directory, *findings: Finding) -> list[int]:
    with engine.begin() as conn:
        sync_officials(conn, directory, now=T0)
        return raise_alerts(conn, list(findings), sample_rules(), directory, run_id=None, now=T0)


def _act(engine: Engine, alert_id: int, action: str, actor: str, comment: str | None = None) -> Any:
    with engine.begin() as conn:
        return act(conn, alert_id, action, actor, comment, now=T0 + timedelta(hours=1))


def test_a_damdangja_cannot_act_on_another_departments_alert(
    engine: Engine, directory: Directory
) -> None:
    (mine,) = _raise(engine, directory, finding("P-1"))  # 재무과, E001
    (other,) = _raise(engine, directory, finding("P-2", department="세무과", official_id="E040"))
    with pytest.raises(LifecycleError, match="다른 부서.*another department"):
        _act(engine, other, "ack", "E001")
    with pytest.raises(LifecycleError, match="another department"):
        _act(engine, other, "explain", "E001", "우리 부서 건 아님")
    # nor can a colleague of the same department who is not the assignee
    (colleague,) = _raise(engine, directory, finding("P-3", official_id="E010"))  # the 과장's
    with pytest.raises(LifecycleError, match="only the assignee"):
        _act(engine, colleague, "correct", "E001")
    # the assignee and the department's manager may
    assert _act(engine, mine, "ack", "E001").to_status == "acknowledged"
    assert _act(engine, mine, "correct", "E010").to_status == "corrected"
    # nothing changed by the refused steps
    with engine.connect() as conn:
        status = dict(conn.execute(select(store.alerts.c.id, store.alerts.c.status)).all())
    assert status[other] == "raised" and status[colleague] == "raised"


def test_nobody_reviews_their_own_alert(engine: Engine, directory: Directory) -> None:
    # An alert of the audit office itself, assigned to the 감사자 E030.
    (own,) = _raise(engine, directory, finding("P-7", department="감사실", official_id="E030"))
    _act(engine, own, "explain", "E030", "감사실 운영비 정상 집행")
    with pytest.raises(LifecycleError, match="자신이.*검토할 수 없습니다.*own alert"):
        _act(engine, own, "accept", "E030")
    # an official who is not an auditor cannot review at all; another auditor can
    (alert,) = _raise(engine, directory, finding("P-8"))
    _act(engine, alert, "explain", "E001", "정상 지급")
    with pytest.raises(LifecycleError, match="own alert"):
        _act(engine, alert, "reject", "E001", "스스로 반려")
    with pytest.raises(LifecycleError, match="only an auditor"):
        _act(engine, alert, "accept", "E010")
    assert _act(engine, own, "accept", "E031").to_status == "closed"
    # whoever recorded the answer cannot review it either (a manager who is also 감사자)
    assert _act(engine, alert, "reject", "E030", "근거 부족").to_status == "rejected"


def test_steps_need_the_right_status_and_comments(engine: Engine, directory: Directory) -> None:
    (a,) = _raise(engine, directory, finding("P-1"))
    with pytest.raises(LifecycleError, match="needs a comment"):
        _act(engine, a, "explain", "E001")
    with pytest.raises(LifecycleError, match="needs a comment"):
        _act(engine, a, "false-positive", "E001", "   ")
    with pytest.raises(LifecycleError, match="is raised: cannot accept"):
        _act(engine, a, "accept", "E030")
    with pytest.raises(LifecycleError, match="no alert #999"):
        _act(engine, 999, "ack", "E001")
    with pytest.raises(LifecycleError, match="unknown action"):
        _act(engine, a, "bless", "E030")  # "approve" is a step now (issue 22)
    with pytest.raises(LifecycleError, match="not in the officials directory"):
        _act(engine, a, "ack", "E777")
    with pytest.raises(LifecycleError, match="not active"):
        _act(engine, a, "ack", "E002")  # retired
    _act(engine, a, "false_positive", "E001", "동일 건 분할 지급")
    with pytest.raises(LifecycleError, match="needs a comment"):
        _act(engine, a, "reject", "E030")
    with engine.connect() as conn:
        assert [e["action"] for e in entries(conn, a)] == ["raise", "false_positive"]


def test_reassign(engine: Engine, directory: Directory) -> None:
    (a,) = _raise(engine, directory, finding("P-1"))
    with pytest.raises(LifecycleError, match="only a manager"):
        _act(engine, a, "reassign", "E001")
    with engine.begin() as conn, pytest.raises(LifecycleError, match="only within"):
        act(conn, a, "reassign", "E010", now=T0, to="E040")  # another department
    with engine.begin() as conn:
        out = act(conn, a, "reassign", "E010", "휴가 중", now=T0, to="E010")
    assert out.assignee == "E010" and out.to_status == "raised"
    with engine.begin() as conn:  # an auditor may reassign anywhere
        assert act(conn, a, "reassign", "E030", now=T0, to="E040").assignee == "E040"
    # the new assignee is told in the next run
    notify = NotifyConfig(outbox_file=None)
    remind_and_escalate(engine, directory, notify, now=T0 + timedelta(hours=2))
    with engine.connect() as conn:
        told = conn.execute(select(store.outbox.c.recipient, store.outbox.c.subject)).all()
    assert ("E040", "[내부통제] 경보 처리 안내: 재배정 1건") in told


# -- reopen ------------------------------------------------------------------------------------


def _close(engine: Engine, alert_id: int) -> None:
    _act(engine, alert_id, "correct", "E001", "환수 조치")
    _act(engine, alert_id, "accept", "E030")


def test_closed_alert_reopens_when_its_record_changes(engine: Engine, directory: Directory) -> None:
    evidence = {"amount": 1250000, "vendor_id": "V-77"}
    (first,) = _raise(engine, directory, finding("P-1", evidence=evidence))
    # the same record seen again unchanged while open, or after closing: nothing new
    assert _raise(engine, directory, finding("P-1", evidence=evidence)) == []
    _close(engine, first)
    assert _raise(engine, directory, finding("P-1", evidence=evidence)) == []

    # the record changed and still matches: a new alert, linked to the closed one
    changed = {"amount": 1300000, "vendor_id": "V-77"}
    (second,) = _raise(engine, directory, finding("P-1", evidence=changed))
    assert _raise(engine, directory, finding("P-1", evidence=changed)) == []  # once
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(store.alerts))}
        reopen = entries(conn, second)
    old, new = rows[first], rows[second]
    assert new.reopened_from == first and new.status == "raised"
    assert old.status == "closed"
    assert new.finding_fingerprint == old.finding_fingerprint == old.fingerprint
    assert new.fingerprint != old.fingerprint  # the unique column stays unique
    assert new.evidence == changed and new.deadline is not None
    assert [e["action"] for e in reopen] == ["reopen"]
    assert reopen[0]["details"]["reopened_from"] == first

    # reopened alerts go through the lifecycle again, and reopen again after a new change
    _close(engine, second)
    (third,) = _raise(engine, directory, finding("P-1", evidence={"amount": 1, "vendor_id": "V"}))
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(store.alerts.c.reopened_from).where(store.alerts.c.id == third)
            ).scalar_one()
            == second
        )
        assert verify(conn).ok


def test_an_open_alert_does_not_reopen(engine: Engine, directory: Directory) -> None:
    (a,) = _raise(engine, directory, finding("P-1"))
    _act(engine, a, "explain", "E001", "정상")
    assert _raise(engine, directory, finding("P-1", evidence={"amount": 5, "vendor_id": "X"})) == []
