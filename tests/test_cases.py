"""A finding is a case (issue 18, Done-when 2): one alert per case; a record joining an open
case updates its alert and tells its official once; joining a closed case opens one follow-up
linked to it.

The real ATT-OVERTIME-MONTHLY-CAP rule of the pack, evaluated by the engine on typed frames,
raised into a real SQLite store (and PostgreSQL when reachable); the update notice goes
through the real follow-up pass into the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from conftest import ROOT
from servers import employees_frame, pg_engine
from sqlalchemy import Engine, select

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import act
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.core import datasets
from naebu.engine.examples import records_frame
from naebu.engine.findings import Finding
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType
from naebu.store import tables as store

RULE = "ATT-OVERTIME-MONTHLY-CAP"
NOW = datetime(2025, 4, 7, 9)  # a Monday


@pytest.fixture(scope="module")
def rule() -> RuleType:
    ruleset = load_rules([ROOT / "rules" / "attendance" / "overtime.toml"], root=ROOT)
    return next(r for r in ruleset.rules if r.meta.id == RULE)


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame(), routing=RoutingConfig())


def _days(employee: str, month: str, days: range, hours: float = 5) -> list[dict[str, Any]]:
    return [
        {"record_id": f"{employee}-{month}-{d:02d}", "department": "재무과",
         "employee_id": employee, "work_date": f"{month}-{d:02d}", "overtime_hours": hours}
        for d in days
    ]  # fmt: skip


def _findings(rule: RuleType, records: list[dict[str, Any]]) -> list[Finding]:
    frame, bad = records_frame(datasets.get("attendance"), records, "T", "test")
    assert not bad
    return rule.evaluate({"attendance": frame}, EvalContext(now=NOW))


def _raise(engine: Engine, rule: RuleType, directory: Directory, findings: list[Finding],
           now: datetime = NOW) -> list[int]:  # fmt: skip
    with engine.begin() as conn:
        return raise_alerts(conn, findings, {RULE: rule.meta}, directory, run_id=None, now=now)


def _alerts(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.alerts).order_by(store.alerts.c.id))
        return [dict(r._mapping) for r in rows]


def _members(engine: Engine, alert_id: int) -> set[str]:
    m = store.alert_members.c
    with engine.connect() as conn:
        return set(conn.execute(select(m.record_key).where(m.alert_id == alert_id)).scalars())


def _outbox(engine: Engine) -> list[tuple[str, str, str]]:
    o = store.outbox.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(o.recipient, o.subject, o.body))]


def test_one_alert_per_official_and_month_listing_its_rows(
    engine: Engine, rule: RuleType, directory: Directory
) -> None:
    march = _days("E001", "2025-03", range(3, 15))  # 12 days x 5 h = 60 h > 57
    april = _days("E001", "2025-04", range(1, 13))
    other = _days("E002", "2025-03", range(3, 15))
    findings = _findings(rule, march + april + other)
    assert len(findings) == 36  # the engine still judges records
    ids = _raise(engine, rule, directory, findings)
    assert len(ids) == 3  # E001 March, E001 April, E002 March
    rows = _alerts(engine)
    by_month = {(r["evidence"]["employee_id"], r["evidence"]["group.first"][:7]): r for r in rows}
    assert set(by_month) == {("E001", "2025-03"), ("E001", "2025-04"), ("E002", "2025-03")}
    e001_march = by_month[("E001", "2025-03")]
    assert e001_march["evidence"]["case.count"] == 12
    listed = [m["record_id"] for m in e001_march["evidence"]["case.members"]]
    assert listed == [r["record_id"] for r in march]  # in time order
    assert "group.records" not in e001_march["evidence"]
    assert _members(engine, e001_march["id"]) == set(listed)
    # re-running the same window raises nothing
    assert _raise(engine, rule, directory, findings) == []
    assert len(_alerts(engine)) == 3


def check_open_case_grows(engine: Engine, rule: RuleType, directory: Directory) -> None:
    march = _days("E001", "2025-03", range(3, 15))
    [alert_id] = _raise(engine, rule, directory, _findings(rule, march))
    notify = NotifyConfig(outbox_file=None)
    remind_and_escalate(engine, directory, notify, now=NOW)  # nothing due yet
    before = _outbox(engine)

    later = march + _days("E001", "2025-03", range(17, 19))  # two more days join the month
    later_run = datetime(2025, 4, 8, 9)
    assert _raise(engine, rule, directory, _findings(rule, later), later_run) == []
    [row] = _alerts(engine)
    assert row["id"] == alert_id and row["status"] == "raised"
    assert row["evidence"]["case.count"] == 14
    assert "70시간" in row["message"]  # 14 days x 5 h
    assert {"E001-2025-03-17", "E001-2025-03-18"} <= _members(engine, alert_id)

    remind_and_escalate(engine, directory, notify, now=later_run)
    told = _outbox(engine)[len(before) :]
    assert [(r, s) for r, s, _ in told] == [("E001", "[내부통제] 경보 처리 안내: 기록 추가 1건")]
    body = told[0][2]
    assert "E001-2025-03-17" in body and "기록 수: 14건" in body
    # told once: the next pass and a re-run of the same records tell nothing more
    assert _raise(engine, rule, directory, _findings(rule, later), later_run) == []
    remind_and_escalate(engine, directory, notify, now=later_run)
    assert len(_outbox(engine)) == len(before) + 1


def test_a_record_joining_an_open_case_updates_its_alert_and_tells_once(
    engine: Engine, rule: RuleType, directory: Directory
) -> None:
    check_open_case_grows(engine, rule, directory)


def test_a_record_joining_an_open_case_on_postgresql(rule: RuleType, directory: Directory) -> None:
    with pg_engine() as engine:
        check_open_case_grows(engine, rule, directory)


def test_a_record_joining_a_closed_case_opens_one_follow_up(
    engine: Engine, rule: RuleType, directory: Directory
) -> None:
    march = _days("E001", "2025-03", range(3, 15))
    [first] = _raise(engine, rule, directory, _findings(rule, march))
    with engine.begin() as conn:
        sync_officials(conn, directory, now=NOW)
        act(conn, first, "explain", "E001", "재난 대응 예외 승인", now=datetime(2025, 4, 8, 10))
        act(conn, first, "accept", "E030", "확인", now=datetime(2025, 4, 9, 10))
    later = march + _days("E001", "2025-03", range(24, 26))
    run = datetime(2025, 4, 10, 9)
    ids = _raise(engine, rule, directory, _findings(rule, later), run)
    assert len(ids) == 1
    old, follow = _alerts(engine)
    assert old["status"] == "closed" and old["evidence"]["case.count"] == 12  # kept as answered
    assert follow["reopened_from"] == first and follow["status"] == "raised"
    assert follow["evidence"]["case.count"] == 14
    with engine.connect() as conn:
        t = store.audit_trail.c
        actions = list(
            conn.execute(select(t.action).where(t.alert_id == follow["id"]).order_by(t.seq))
        )
    assert [a for (a,) in actions] == ["follow_up"]
    # the same new records again: no second follow-up
    assert _raise(engine, rule, directory, _findings(rule, later), run) == []
    assert len(_alerts(engine)) == 2


def test_a_case_is_suppressed_only_when_every_record_is(
    engine: Engine, rule: RuleType, directory: Directory
) -> None:
    from naebu.alerts.suppressions import add_suppression

    march = _days("E001", "2025-03", range(3, 15))
    with engine.begin() as conn:
        add_suppression(conn, rule_id=RULE, reason="재난 대응 기간", author="E030",
                        expires_at=datetime(2025, 12, 31), now=NOW,
                        record_key="E001-2025-03-03")  # fmt: skip
    assert len(_raise(engine, rule, directory, _findings(rule, march))) == 1
    assert _alerts(engine)[0]["status"] == "raised"


def test_findings_without_a_case_key_stay_one_alert_each(
    engine: Engine, directory: Directory
) -> None:
    """A match rule's records are cases of their own, fingerprinted as before cases existed."""
    from servers import finding, sample_rules

    with engine.begin() as conn:
        ids = raise_alerts(conn, [finding("P-1"), finding("P-2")], sample_rules(), directory,
                           run_id=None, now=NOW)  # fmt: skip
    assert len(ids) == 2
    rows = _alerts(engine)
    assert [r["fingerprint"] for r in rows] == [finding(k).fingerprint for k in ("P-1", "P-2")]
    assert all("case.members" not in r["evidence"] and r["case_key"] is None for r in rows)
    assert _members(engine, rows[0]["id"]) == {"P-1"}


def test_case_keys_do_not_depend_on_the_frame_order(rule: RuleType) -> None:
    records = _days("E001", "2025-03", range(3, 15))
    forward = {f.record_key: f.case_key for f in _findings(rule, records)}
    backward = {f.record_key: f.case_key for f in _findings(rule, records[::-1])}
    assert forward == backward and len(set(forward.values())) == 1
