"""Answers left waiting for the department manager's approval: a reminder to the managers,
then a report to the audit office, each once, in business days from the answer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import write_config
from servers import employees_frame, finding, pg_engine, sample_rules
from sqlalchemy import Engine, select

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.digest import queue_digests
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import act
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.trail import entries, verify
from naebu.alerts.workflow_settings import WorkflowConfig
from naebu.settings.config import read_config
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)  # Monday
WORKFLOW = WorkflowConfig(approval_remind_after_days=2, approval_escalate_after_days=5)
SUBJECT = "[내부통제] 경보 처리 안내: "


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame(), routing=RoutingConfig())


def _outbox(engine: Engine) -> list[tuple[str, str, str]]:
    o = store.outbox.c
    with engine.connect() as conn:
        rows = conn.execute(select(o.recipient, o.subject, o.body).order_by(o.id))
        return [(r.recipient, r.subject, r.body) for r in rows]


def _run(
    engine: Engine,
    directory: Directory,
    at: datetime,
    workflow: WorkflowConfig | None = WORKFLOW,
) -> list[tuple[str, str]]:
    """One follow-up run at ``at``: the (recipient, subject) of the messages it queued."""
    before = len(_outbox(engine))
    remind_and_escalate(
        engine, directory, NotifyConfig(outbox_file=None), now=at, workflow=workflow
    )
    return [(r, s) for r, s, _ in _outbox(engine)[before:]]


def _raise_and_answer(engine: Engine, directory: Directory) -> None:
    notify = NotifyConfig(outbox_file=None)
    with engine.begin() as conn:
        ids = raise_alerts(conn, [finding("P-1")], sample_rules(), directory, run_id=None, now=T0)
        queue_digests(conn, ids, directory, notify, run_id=None, now=T0)
    with engine.begin() as conn:
        out = act(
            conn, 1, "explain", "E001", "정상 지급", now=datetime(2025, 3, 11, 10),
            directory=directory, approval=True,
        )  # fmt: skip
    assert out.to_status == "explained"  # waits for the manager E010


def check_approval_followups(engine: Engine, directory: Directory) -> None:
    _raise_and_answer(engine, directory)
    # Answered Tue 11th: reminder after two business days (Fri 14th), the audit office after
    # five (Wed 19th).
    for day, expected in [
        (11, [("E010", SUBJECT + "승인 대기 1건")]),  # the answer's own notice
        (13, []),
        (14, [("E010", SUBJECT + "승인 지연 1건")]),
        (17, []),  # reminded already
        (18, []),
        (19, [("E030", SUBJECT + "승인 지연 보고 1건")]),
        (20, []),
        (24, []),
    ]:
        assert _run(engine, directory, datetime(2025, 3, day, 11)) == expected, day
    reminder = next(b for r, s, b in _outbox(engine) if s.endswith("승인 지연 1건"))
    report = next(b for r, s, b in _outbox(engine) if s.endswith("승인 지연 보고 1건"))
    assert "아직 승인을 기다리고" in reminder and "승인 대기 영업일: 3일" in reminder
    assert "감사부서에 보고된" in report and "승인 대기 영업일: 6일" in report
    for body in (reminder, report):  # words an official reads, no column names
        assert "approval" not in body and "answered_at" not in body and "explained" not in body
    with engine.connect() as conn:
        trail = entries(conn)
        assert verify(conn).ok
    escalations = [e for e in trail if e["action"] == "escalate"]
    assert len(escalations) == 1 and escalations[0]["actor"] == "system"
    assert escalations[0]["details"]["step"] == "approval"
    assert escalations[0]["details"]["recipients"] == ["E030"]

    # Returned and answered again: the new answer is followed up afresh.
    with engine.begin() as conn:
        act(
            conn, 1, "return", "E010", "증빙 보완", now=datetime(2025, 3, 24, 9),
            directory=directory, approval=True,
        )  # fmt: skip
        act(
            conn, 1, "correct", "E001", "반환 받음", now=datetime(2025, 3, 24, 10),
            directory=directory, approval=True,
        )  # fmt: skip
    _run(engine, directory, datetime(2025, 3, 24, 11))  # the return and the answer's notices
    assert _run(engine, directory, datetime(2025, 3, 27, 9)) == [
        ("E010", SUBJECT + "승인 지연 1건")
    ]
    # Approved: nothing more waits on the manager.
    with engine.begin() as conn:
        act(
            conn, 1, "approve", "E010", now=datetime(2025, 3, 27, 10), directory=directory,
            approval=True,
        )  # fmt: skip
    _run(engine, directory, datetime(2025, 3, 27, 11))  # the audit office's 검토 대기
    assert _run(engine, directory, datetime(2025, 4, 10, 9)) == []


def test_an_answer_awaiting_approval_is_reminded_then_reported(
    engine: Engine, directory: Directory
) -> None:
    check_approval_followups(engine, directory)


def test_approval_followups_on_postgresql(directory: Directory) -> None:
    with pg_engine() as engine:
        check_approval_followups(engine, directory)


def test_a_late_first_run_reports_without_reminding_first(
    engine: Engine, directory: Directory
) -> None:
    _raise_and_answer(engine, directory)
    # Nobody ran until well after both were due: the report alone (it tells the managers
    # nothing new to be reminded of), once.
    first = _run(engine, directory, datetime(2025, 3, 24, 9))
    assert ("E030", SUBJECT + "승인 대기 1건") not in first
    assert [s for r, s in first if r == "E030"] == [SUBJECT + "승인 지연 보고 1건"]
    assert [s for r, s in first if r == "E010"] == [SUBJECT + "승인 대기 1건"]
    assert _run(engine, directory, datetime(2025, 3, 25, 9)) == []


def test_no_approval_followups_without_the_approval_step(
    engine: Engine, directory: Directory
) -> None:
    _raise_and_answer(engine, directory)
    off = WorkflowConfig(approval=False)
    assert _run(engine, directory, datetime(2025, 3, 24, 9), workflow=off) == [
        ("E010", SUBJECT + "승인 대기 1건")  # the answer's own notice, recorded with approval
    ]
    assert _run(engine, directory, datetime(2025, 3, 25, 9), workflow=None) == []
    never = WorkflowConfig(approval_remind_after_days=0, approval_escalate_after_days=0)
    assert _run(engine, directory, datetime(2025, 3, 26, 9), workflow=never) == []
    # Turned on later: followed up from the answer as usual.
    later = _run(engine, directory, datetime(2025, 3, 26, 10))
    assert later == [("E030", SUBJECT + "승인 지연 보고 1건")]


def test_approval_followup_settings_are_located(tmp_path: Path) -> None:
    base = '[store]\nurl = "sqlite:///s.sqlite"\n\n[workflow]\n'
    config, problems = read_config(
        write_config(
            tmp_path, base + "approval_remind_after_days = 3\napproval_escalate_after_days = 7\n"
        )
    )
    assert problems == [] and config is not None
    assert (
        config.workflow.approval_remind_after_days,
        config.workflow.approval_escalate_after_days,
    ) == (3, 7)
    config, problems = read_config(write_config(tmp_path, base))
    assert config is not None and config.workflow == WorkflowConfig()
    assert (
        config.workflow.approval_remind_after_days,
        config.workflow.approval_escalate_after_days,
    ) == (2, 5)
    config, problems = read_config(
        write_config(
            tmp_path,
            base + 'approval_remind_after_days = "two"\napproval_escalate_after_days = -1\n',
        )
    )
    lines = sorted(str(p) for p in problems)
    assert len(lines) == 2, lines
    assert lines[0].endswith(
        "config.toml:5: workflow.approval_remind_after_days: must be a whole number of business "
        "days (0 or more), not 'two' - approval_remind_after_days = 2"
    )
    assert (
        "config.toml:6: workflow.approval_escalate_after_days: must be a whole number" in lines[1]
    )
    config, problems = read_config(
        write_config(
            tmp_path, base + "approval_remind_after_days = 4\napproval_escalate_after_days = 4\n"
        )
    )
    assert [str(p).split("config.toml")[1] for p in problems] == [
        ":6: workflow.approval_escalate_after_days: approval_escalate_after_days (4) must be "
        "more than approval_remind_after_days (4) - e.g. approval_remind_after_days = 2, "
        "approval_escalate_after_days = 5"
    ]
    assert config is not None and config.workflow == WorkflowConfig()
