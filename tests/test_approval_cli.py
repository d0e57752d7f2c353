"""조치 -> 승인 -> 확인 on the command line (issue 22): the official answers, the department
manager approves or returns the answer, the audit office reviews only approved answers; each
step in the hash-chained trail and told to the next person. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from approval_city import BACKENDS, build_city, store_url
from conftest import run_cli, write_config
from servers import employees_frame
from sqlalchemy import select

from naebu.alerts import Directory
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.tallies import computed, stored
from naebu.alerts.trail import entries, verify
from naebu.settings.config import read_config
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)  # a Monday
AT = ["--now", "2025-03-10T10:00"]


def ok(folder: Path, *args: str) -> str:
    result = run_cli(*args, cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def refused(folder: Path, *args: str) -> str:
    result = run_cli(*args, cwd=folder)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


def _told(url: str, now: datetime) -> dict[str, str]:
    """Run the follow-ups as a run does; return each recipient's new message body."""
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect(url)
    try:
        with engine.connect() as conn:
            before = conn.execute(select(store.outbox.c.id)).scalars().all()
        remind_and_escalate(engine, directory, NotifyConfig(outbox_file=None), now=now)
        with engine.connect() as conn:
            q = select(store.outbox.c.recipient, store.outbox.c.body).where(
                store.outbox.c.id.not_in(before or [0])
            )
            return {r.recipient: r.body for r in conn.execute(q)}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_three_steps_through_the_command_line(tmp_path: Path, backend: str) -> None:
    with store_url(backend, tmp_path) as url:
        city = build_city(tmp_path, url, now=T0)  # no [workflow]: approval is on by default
        a = str(city.alerts["P-1"])
        out = ok(tmp_path, "alerts", "explain", a, "--as", "E001", "-m", "분할 지급", *AT)
        assert "raised -> explained, awaiting the department manager's approval" in out
        told = _told(url, T0 + timedelta(hours=2))
        assert "승인 대기" in told["E010"] and "분할 지급" in told["E010"]  # the manager
        assert "E030" not in told  # nothing for the audit office yet

        line = refused(tmp_path, "alerts", "review", a, "--accept", "--as", "E030", *AT)
        assert "awaits the department manager's approval" in line
        line = refused(tmp_path, "alerts", "approve", a, "--as", "E001", *AT)
        assert "only a manager of 재무과" in line
        line = refused(tmp_path, "alerts", "approve", a, "--as", "E020", *AT)
        assert "only a manager of 재무과" in line  # a manager of another department
        line = refused(tmp_path, "alerts", "return", a, "--as", "E010", *AT)
        assert "return needs a comment" in line

        out = ok(tmp_path, "alerts", "return", a, "--as", "E010", "-m", "계약서 첨부 바람", *AT)
        assert "explained -> rejected, new deadline Thu 2025-03-13" in out
        told = _told(url, T0 + timedelta(hours=3))
        assert "부서관리자 반려" in told["E001"] and "계약서 첨부 바람" in told["E001"]

        ok(tmp_path, "alerts", "correct", a, "--as", "E001", "-m", "환수 완료", *AT)
        out = ok(tmp_path, "alerts", "approve", a, "--as", "E010", *AT)
        assert "corrected -> approved, awaiting the audit office's review" in out
        told = _told(url, T0 + timedelta(hours=4))
        assert "검토 대기" in told["E030"]
        assert "E010" not in told  # whoever took the step is not told of it

        out = ok(tmp_path, "alerts", "review", a, "--accept", "--as", "E030", *AT)
        assert "approved -> closed" in out

        engine = store.connect(url)
        try:
            with engine.connect() as conn:
                trail = entries(conn, int(a))
                steps = [(e["actor"], e["action"], e["to_status"]) for e in trail]
                assert steps == [
                    ("system", "raise", "raised"),
                    ("E001", "explain", "explained"),
                    ("E010", "return", "rejected"),
                    ("E001", "correct", "corrected"),
                    ("E010", "approve", "approved"),
                    ("E030", "accept", "closed"),
                ]
                assert trail[2]["comment"] == "계약서 첨부 바람"
                assert verify(conn).ok
                assert stored(conn) == computed(conn)
                row = conn.execute(select(store.alerts).where(store.alerts.c.id == int(a))).one()
                assert row.approved_at is not None and row.status == "closed"
        finally:
            engine.dispose()
        shown = ok(tmp_path, "alerts", "show", a, "--lang", "en")
        assert " approve " in shown and " return " in shown


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_one_else_to_approve_goes_straight_to_review(tmp_path: Path, backend: str) -> None:
    """The manager's own answer, and an answer in a department without a manager, are
    approved at once (the trail says by whom and why), so nothing waits for nobody."""
    with store_url(backend, tmp_path) as url:
        city = build_city(tmp_path, url, now=T0, approval=True)
        accounting, tax = str(city.alerts["P-3"]), str(city.alerts["P-4"])
        out = ok(tmp_path, "alerts", "correct", accounting, "--as", "E020", *AT)
        assert "raised -> approved, awaiting the audit office's review" in out
        out = ok(tmp_path, "alerts", "explain", tax, "--as", "E040", "-m", "정상", *AT)
        assert "raised -> approved" in out
        engine = store.connect(url)
        try:
            with engine.connect() as conn:
                for alert_id, actor, why in (
                    (accounting, "E020", "manager_answered"),
                    (tax, "system", "no_manager"),
                ):
                    last = entries(conn, int(alert_id))[-1]
                    assert (last["actor"], last["action"]) == (actor, "approve")
                    assert last["details"]["auto"] == why
                assert verify(conn).ok
        finally:
            engine.dispose()
        told = _told(url, T0 + timedelta(hours=2))
        assert told["E030"].count("검토 대기") >= 1
        assert "#" + accounting in told["E030"] and "#" + tax in told["E030"]
        ok(tmp_path, "alerts", "review", tax, "--accept", "--as", "E030", *AT)


def test_a_city_without_the_approval_step(tmp_path: Path) -> None:
    with store_url("sqlite", tmp_path) as url:
        city = build_city(tmp_path, url, now=T0, approval=False)
        a = str(city.alerts["P-1"])
        out = ok(tmp_path, "alerts", "explain", a, "--as", "E001", "-m", "분할 지급", *AT)
        assert out.startswith(f"alert #{a}: raised -> explained (audit entry #")
        line = refused(tmp_path, "alerts", "approve", a, "--as", "E010", *AT)
        assert "no approval step" in line
        told = _told(url, T0 + timedelta(hours=2))
        assert "검토 대기" in told["E030"] and "E010" not in told
        out = ok(tmp_path, "alerts", "review", a, "--accept", "--as", "E030", *AT)
        assert "explained -> closed" in out


def test_workflow_mistakes_are_located(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[store]\nurl = "sqlite:///s.sqlite"\n\n[workflow]\napproval = "yes"\naproval = 1\n',
    )
    config, problems = read_config(path)
    assert config is not None and config.workflow.approval  # the default stands
    lines = sorted(str(p) for p in problems)
    assert len(lines) == 2, lines
    assert lines[0].endswith(
        "config.toml:5: workflow.approval: must be true or false, not 'yes' - approval = true"
    )
    assert "config.toml:6: workflow.aproval: unknown key - did you mean 'approval'?" in lines[1]
    path = write_config(
        tmp_path, '[store]\nurl = "sqlite:///s.sqlite"\n[workflow]\napproval = false\n'
    )
    config, problems = read_config(path)
    assert problems == [] and config is not None and config.workflow.approval is False
