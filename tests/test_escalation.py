"""Reminders and escalations on the business-day calendar, the outbox when a channel is down,
and the ``[routing]`` configuration.

A real aiosmtpd server is stopped for a run and started again on the same port: nothing is
lost, every message arrives once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import write_config
from servers import SmtpServer as _Smtp
from servers import _Collector, employees_frame, finding, free_port, pg_engine, sample_rules
from sqlalchemy import Engine, func, select
from test_lifecycle import cycle

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import act
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.core.problems import ProblemsError
from naebu.core.workdays import add_business_days, business_days_before, business_days_between
from naebu.engine.loader import load_rules
from naebu.settings.config import load_config
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)  # Monday; R-PAY-DUP gives 3 business days: due Thu 13th


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame(), routing=RoutingConfig())


def _outbox(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        q = select(store.outbox.c.recipient, store.outbox.c.subject, store.outbox.c.status)
        return [tuple(r) for r in conn.execute(q.order_by(store.outbox.c.id))]


def _followups(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(store.followups.c.key)).scalars())


# -- the calendar ------------------------------------------------------------------------------


def test_business_day_helpers_over_seollal() -> None:
    start = datetime(2025, 1, 24, 9, 30)  # Friday before 설날 (27-30 Jan are holidays)
    due = add_business_days(start, 3)
    assert due == datetime(2025, 2, 4, 23, 59, 59)
    assert business_days_between(start, due) == 3
    assert business_days_before(due, 2).isoformat() == "2025-01-31"
    assert business_days_before(due, 3).isoformat() == "2025-01-24"
    assert business_days_before(due, 0) == due.date()


# -- reminders and escalations -----------------------------------------------------------------


def test_reminder_once_then_manager_then_audit_office(engine: Engine, directory: Directory) -> None:
    check_reminders_and_escalations(engine, directory)


def test_reminders_and_escalations_on_postgresql(directory: Directory) -> None:
    # The clocks are read as the driver gives them: text on SQLite, datetimes here.
    with pg_engine() as engine:
        check_reminders_and_escalations(engine, directory)


def check_reminders_and_escalations(engine: Engine, directory: Directory) -> None:
    notify = NotifyConfig(outbox_file=None)
    rules = sample_rules()
    cycle(engine, directory, notify, rules, [finding("P-1")], T0)
    raised = _outbox(engine)
    # high severity: the official E001, the manager E010 and the audit office E030
    assert sorted(r for r, _, _ in raised) == ["E001", "E010", "E030"]

    for day, hour, expected in [
        (10, 17, []),  # raised today; the reminder window opens Tue 11th
        (11, 9, [("E001", "[내부통제] 경보 처리 안내: 기한 임박 1건")]),
        (12, 9, []),  # reminded already
        (13, 23, []),  # due today, until 23:59:59
        (14, 9, [("E010", "[내부통제] 경보 처리 안내: 기한 경과 1건")]),
        (18, 9, []),  # the audit office after three more business days: 17, 18, 19 March
        (20, 9, [("E030", "[내부통제] 경보 처리 안내: 감사부서 보고 1건")]),
        (21, 9, []),
    ]:
        before = len(_outbox(engine))
        cycle(engine, directory, notify, rules, [], datetime(2025, 3, day, hour))
        assert [(r, s) for r, s, _ in _outbox(engine)[before:]] == expected, day
    assert len(_followups(engine)) == 3

    # a rejection gives a new deadline: reminders and escalations start over
    with engine.begin() as conn:
        act(conn, 1, "explain", "E001", "정상 지급", now=datetime(2025, 3, 21, 10))
        out = act(conn, 1, "reject", "E030", "증빙 필요", now=datetime(2025, 3, 21, 11))
    assert out.deadline == datetime(2025, 3, 26, 23, 59, 59)
    cycle(engine, directory, notify, rules, [], datetime(2025, 3, 25, 9))
    cycle(engine, directory, notify, rules, [], datetime(2025, 3, 27, 9))
    assert [(r, s) for r, s, _ in _outbox(engine)[-2:]] == [
        ("E001", "[내부통제] 경보 처리 안내: 기한 임박 1건, 검토 결과 1건"),
        ("E010", "[내부통제] 경보 처리 안내: 기한 경과 1건"),
    ]


def test_one_digest_per_recipient_groups_reminders_and_escalations(
    engine: Engine, directory: Directory
) -> None:
    notify = NotifyConfig(outbox_file=None)
    rules = sample_rules()
    # Three alerts for E001 raised on different days (no run in between).
    for key, day in (("P-1", 4), ("P-2", 5), ("P-3", 6)):
        with engine.begin() as conn:
            raise_alerts(
                conn, [finding(key)], rules, directory, run_id=None, now=datetime(2025, 3, day, 9)
            )
    remind_and_escalate(engine, directory, notify, now=datetime(2025, 3, 10, 9))
    # P-1 was due Fri 7th: overdue; P-2 (due 10th) and P-3 (due 11th) are in their window.
    assert [(r, s) for r, s, _ in _outbox(engine)] == [
        ("E001", "[내부통제] 경보 처리 안내: 기한 임박 2건"),
        ("E010", "[내부통제] 경보 처리 안내: 기한 경과 1건"),
    ]
    with engine.connect() as conn:
        body = conn.execute(
            select(store.outbox.c.body).where(store.outbox.c.recipient == "E001")
        ).scalar_one()
    assert "경보 번호: #2" in body and "경보 번호: #3" in body and "#1" not in body


def test_no_manager_escalates_to_the_audit_office_and_english(engine: Engine) -> None:
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig(remind_before_days=0))
    notify = NotifyConfig(outbox_file=None, language="en")
    f = finding("P-1", department="세무과", official_id="E040", severity="low")
    cycle(engine, directory, notify, sample_rules(), [f], T0)
    assert [r for r, _, _ in _outbox(engine)] == ["E040"]  # low: official + manager (none)
    cycle(engine, directory, notify, sample_rules(), [], datetime(2025, 3, 14, 9))
    (row,) = _outbox(engine)[1:]
    assert row[0] == "E030"
    assert row[1] == "[Internal control] Alert follow-up: 1 overdue"


# -- the outbox when the mail server is down ---------------------------------------------------


class RestartableSmtp(_Smtp):
    """An aiosmtpd server on a fixed port that can be stopped and started again."""

    def __init__(self) -> None:
        super().__init__(port=free_port())
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(
            _Collector(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def test_smtp_down_for_a_run_loses_nothing_and_sends_nothing_twice(
    engine: Engine, directory: Directory
) -> None:
    smtp = RestartableSmtp()
    notify = NotifyConfig(
        outbox_file=None,
        channels=[ChannelConfig("email", smtp.url("{email}"))],
        retry_base_seconds=60,
    )
    rules = sample_rules()
    try:
        # Run 1 with the server down: three alerts raised and stored, every mail kept.
        cycle(engine, directory, notify, rules, [finding(f"P-{i}") for i in (1, 2, 3)], T0)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(store.alerts)).scalar() == 3
        first = _outbox(engine)
        assert {s for _, _, s in first} == {"retrying"}
        # Run 2, still down, a day after the deadline: an escalation joins the queue.
        cycle(engine, directory, notify, rules, [], datetime(2025, 3, 14, 9))
        waiting = _outbox(engine)
        assert len(waiting) == len(first) + 1 and {s for _, _, s in waiting} == {"retrying"}
        assert smtp.messages == []

        # Run 3 with the server back: everything arrives, in order, once.
        smtp.start()
        cycle(engine, directory, notify, rules, [], datetime(2025, 3, 14, 12))
        sent = _outbox(engine)
        assert {s for _, _, s in sent} == {"sent"}
        got = [
            (rcpts[0], str(m["Subject"]))
            for m, (_, rcpts) in zip(smtp.messages, smtp.envelopes, strict=True)
        ]
        email = {o.employee_id: o.email for o in directory}
        assert got == [(email[r], s) for r, s, _ in sent]
        assert len(got) == 4  # E001, E010, E030 digests of 3 alerts + E010 escalation
        # Runs 4 and 5: nothing is sent again.
        cycle(engine, directory, notify, rules, [], datetime(2025, 3, 14, 13))
        cycle(engine, directory, notify, rules, [finding("P-1")], datetime(2025, 3, 17, 8))
        assert len(smtp.messages) == 4
        with engine.connect() as conn:
            attempts = dict(conn.execute(select(store.outbox.c.id, store.outbox.c.attempts)).all())
        assert attempts == {1: 3, 2: 3, 3: 3, 4: 2}
    finally:
        smtp.stop()


# -- configuration -----------------------------------------------------------------------------


def test_routing_config_keys(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "[routing]\n"
        'audit_department = "감사담당관"\n'
        "remind_before_days = 1\n"
        "escalate_audit_after_days = 5\n"
        "[routing.notify]\n"
        'low = ["official"]\n'
        'critical = ["official", "audit"]\n',
    )
    routing = load_config(path).routing
    assert routing.notify_for("low") == ("official",)
    assert routing.notify_for("critical") == ("official", "audit")
    assert routing.notify_for("high") == ("official", "manager", "audit")  # default kept
    assert (routing.audit_department, routing.remind_before_days) == ("감사담당관", 1)
    assert routing.escalate_audit_after_days == 5


def test_routing_config_problems_are_located(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "[routing]\n"
        "remind_before_day = 1\n"
        "escalate_audit_after_days = -2\n"
        "[routing.notify]\n"
        'hihg = ["official"]\n'
        'low = ["official", "manger"]\n',
    )
    with pytest.raises(ProblemsError) as exc:
        load_config(path)
    text = str(exc.value)
    assert "routing.remind_before_day: unknown key - did you mean 'remind_before_days'?" in text
    assert "routing.escalate_audit_after_days: must be a whole number" in text
    assert "routing.notify.hihg: unknown severity 'hihg' - did you mean 'high'?" in text
    assert "routing.notify.low: unknown target 'manger' - did you mean 'manager'?" in text


def test_rule_notify_key(tmp_path: Path) -> None:
    rule = (
        "[[rule]]\n"
        'id = "PAY-X"\ntitle = "t"\ntitle_en = "t"\ntype = "match"\ndataset = "payments"\n'
        'severity = "low"\nwhen = "amount > 1"\n'
    )
    (tmp_path / "ok.toml").write_text(rule + 'notify = ["official", "audit"]\n', encoding="utf-8")
    assert not load_rules([tmp_path / "ok.toml"], root=tmp_path).problems
    (tmp_path / "bad.toml").write_text(
        rule.replace("PAY-X", "PAY-Y") + 'notify = ["official", "manger"]\n', encoding="utf-8"
    )
    (problem,) = load_rules([tmp_path / "bad.toml"], root=tmp_path).problems
    assert str(problem).startswith("bad.toml:9: rule PAY-Y: notify: must be a list of")
    assert '"official", "manager", "audit"' in str(problem)


def test_rule_notify_overrides_the_severity_default(engine: Engine, directory: Directory) -> None:
    rules = sample_rules()
    rules["R-PAY-DUP"].notify = ("official",)
    cycle(engine, directory, NotifyConfig(outbox_file=None), rules, [finding("P-1")], T0)
    assert [r for r, _, _ in _outbox(engine)] == ["E001"]


def test_without_routing_only_the_assignee_is_told(engine: Engine) -> None:
    # What the pipeline does until it passes [routing] to the directory.
    directory = Directory.from_frame(employees_frame())
    cycle(engine, directory, NotifyConfig(outbox_file=None), sample_rules(), [finding("P-1")], T0)
    assert [r for r, _, _ in _outbox(engine)] == ["E001"]
    remind_and_escalate(
        engine, directory, NotifyConfig(outbox_file=None), now=T0 + timedelta(days=4)
    )
    assert [r for r, _, _ in _outbox(engine)] == ["E001", "E010"]  # escalation still works


def test_a_follow_up_section_lists_digest_max_items_and_counts_the_rest_per_rule(
    engine: Engine, directory: Directory
) -> None:
    # Five overdue alerts of two rules; the manager's follow-up writes out two (the most
    # severe first) and counts the other three per rule.
    notify = NotifyConfig(outbox_file=None, digest_max_items=2)
    rules = sample_rules()
    found = [finding(f"P-{i}") for i in range(3)] + [
        finding(f"C-{i}", rule_id="R-CON-SPLIT", severity="low") for i in range(2)
    ]
    cycle(engine, directory, notify, rules, found, T0)
    overdue = datetime(2025, 3, 31, 9)  # past both rules' deadlines (3 and 10 business days)
    with engine.begin() as conn:
        before = conn.execute(select(func.max(store.outbox.c.id))).scalar_one()
    cycle(engine, directory, notify, rules, [], overdue)
    with engine.connect() as conn:
        rows = conn.execute(
            select(store.outbox.c.recipient, store.outbox.c.subject, store.outbox.c.body).where(
                store.outbox.c.id > before
            )
        ).all()
    body = next(b for r, s, b in rows if r == "E010")
    section = body.split("■ 처리 기한 경과 - 부서관리자 보고")[1]
    assert "(5건)" in section.splitlines()[0]
    assert section.count("] 동일 거래처 중복 지급 의심 (R-PAY-DUP)\n") == 2  # high ones in full
    assert "] 수의계약 분할 의심 (R-CON-SPLIT)\n" not in section  # the low ones are not
    assert "외 3건은 규칙별 건수만 적습니다 (2건까지 자세히 적습니다)" in section
    assert "   - 수의계약 분할 의심 (R-CON-SPLIT): 2건" in section
    assert "   - 동일 거래처 중복 지급 의심 (R-PAY-DUP): 1건" in section
    subject = next(s for r, s, b in rows if r == "E010")
    assert "기한 경과 5건" in subject
