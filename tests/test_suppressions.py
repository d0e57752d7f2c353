"""Suppressions: by rule and record or value, with reason, author and expiry; recorded, never
notified, audited, and told to the audit office.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from servers import employees_frame, finding, sample_rules
from sqlalchemy import Engine, select
from test_lifecycle import cycle

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import LifecycleError, act
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.suppressions import (
    SuppressionError,
    add_suppression,
    list_suppressions,
    remove_suppression,
)
from naebu.alerts.trail import entries, verify
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)
NOTIFY = NotifyConfig(outbox_file=None)


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame(), routing=RoutingConfig())


def _suppress(engine: Engine, directory: Directory, days: int = 30, **target: str) -> int:
    with engine.begin() as conn:
        return add_suppression(
            conn,
            rule_id="R-PAY-DUP",
            reason="정기 분할 납품 (연간 단가계약)",
            author="E030",
            expires_at=T0 + timedelta(days=days),
            now=T0,
            directory=directory,
            **target,
        )


def _alerts(engine: Engine) -> dict[str, tuple[int, str, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.alerts).order_by(store.alerts.c.id))
        return {r.record_key: (r.id, r.status, r.suppression_id) for r in rows}


def _recipients(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        q = select(store.outbox.c.recipient, store.outbox.c.subject).order_by(store.outbox.c.id)
        return [tuple(r) for r in conn.execute(q)]


def test_suppressed_findings_are_recorded_not_notified(
    engine: Engine, directory: Directory
) -> None:
    vendor = _suppress(engine, directory, column="vendor_id", value="V-77")
    record = _suppress(engine, directory, record_key="P-9")
    other = {"amount": 5, "vendor_id": "V-88"}
    findings = [
        finding("P-1"),  # vendor V-77
        finding("P-2", evidence=other),
        finding("P-9", evidence=other),  # the suppressed record
        finding("K-1", rule_id="R-CON-SPLIT"),  # another rule: not suppressed
    ]
    with engine.begin() as conn:
        ids = raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=T0)
    alerts = _alerts(engine)
    assert alerts["P-1"][1:] == ("suppressed", vendor)
    assert alerts["P-9"][1:] == ("suppressed", record)
    assert alerts["P-2"][1] == alerts["K-1"][1] == "raised"
    assert ids == [alerts["P-2"][0], alerts["K-1"][0]]  # only these are to be notified

    cycle(engine, directory, NOTIFY, sample_rules(), [], T0)
    told = _recipients(engine)
    # The audit office hears of the two suppressions added by E030 - except E030 itself.
    assert all("예외 처리" not in s for r, s in told if r == "E030")
    with engine.connect() as conn:
        ledger = set(conn.execute(select(store.deliveries.c.alert_id)).scalars())
        assert alerts["P-1"][0] not in ledger and alerts["P-9"][0] not in ledger
        trail = entries(conn, alerts["P-1"][0])
        assert verify(conn).ok
    assert [(e["action"], e["to_status"]) for e in trail] == [("suppress", "suppressed")]
    # a suppressed alert takes no lifecycle step
    with engine.begin() as conn, pytest.raises(LifecycleError, match="suppressed"):
        act(conn, alerts["P-1"][0], "ack", "E001", now=T0)


def test_expired_suppression_lets_the_finding_through(engine: Engine, directory: Directory) -> None:
    _suppress(engine, directory, days=7, column="vendor_id", value="V-77")
    with engine.begin() as conn:
        assert (
            raise_alerts(conn, [finding("P-1")], sample_rules(), directory, run_id=None, now=T0)
            == []
        )
    later = T0 + timedelta(days=8)
    with engine.begin() as conn:
        # the same record seen again after expiry is raised; a new one of the vendor too
        ids = raise_alerts(
            conn,
            [finding("P-1"), finding("P-3")],
            sample_rules(),
            directory,
            run_id=None,
            now=later,
        )
    alerts = _alerts(engine)
    assert ids == [alerts["P-1"][0], alerts["P-3"][0]]
    assert alerts["P-1"][1] == alerts["P-3"][1] == "raised"
    with engine.connect() as conn:
        trail = entries(conn, alerts["P-1"][0])
        deadline = conn.execute(
            select(store.alerts.c.deadline).where(store.alerts.c.id == alerts["P-1"][0])
        ).scalar_one()
    assert [e["action"] for e in trail] == ["suppress", "unsuppress"]
    assert deadline is not None and deadline > later  # counted from when it was raised


def test_removed_suppression_is_audited_and_told_to_the_audit_office(
    engine: Engine, directory: Directory
) -> None:
    sid = _suppress(engine, directory, record_key="P-1")
    with engine.begin() as conn:
        raise_alerts(conn, [finding("P-1")], sample_rules(), directory, run_id=None, now=T0)
        removed = remove_suppression(
            conn,
            sid,
            actor="E010",
            reason="계약 종료",
            now=T0 + timedelta(hours=1),
            directory=directory,
        )
    assert removed.removed_by == "E010" and removed.removed_at is not None
    with engine.connect() as conn:
        assert [s.id for s in list_suppressions(conn)] == []
        assert [s.id for s in list_suppressions(conn, include_inactive=True)] == [sid]
        actions = [(e["action"], e["actor"]) for e in entries(conn) if e["suppression_id"]]
    assert actions == [("suppress_add", "E030"), ("suppress_remove", "E010")]

    remind_and_escalate(engine, directory, NOTIFY, now=T0 + timedelta(hours=2))
    told = _recipients(engine)
    # E030 added it (not told of its own step); the removal by E010 is news to the audit office.
    assert told == [("E030", "[내부통제] 경보 처리 안내: 예외 처리 1건")]
    with engine.connect() as conn:
        body = conn.execute(select(store.outbox.c.body)).scalar_one()
    assert "R-PAY-DUP: record P-1 (해제)" in body and "계약 종료" in body
    # the next sighting raises it
    with engine.begin() as conn:
        assert raise_alerts(
            conn,
            [finding("P-1")],
            sample_rules(),
            directory,
            run_id=None,
            now=T0 + timedelta(hours=3),
        )


def test_the_audit_office_gets_a_digest_when_a_manager_suppresses(
    engine: Engine, directory: Directory
) -> None:
    with engine.begin() as conn:
        add_suppression(
            conn,
            rule_id="R-PAY-DUP",
            record_key="P-1",
            reason="이중 지급 아님: 선금과 잔금",
            author="E010",
            expires_at=T0 + timedelta(days=30),
            now=T0,
            directory=directory,
        )
    remind_and_escalate(engine, directory, NOTIFY, now=T0)
    remind_and_escalate(engine, directory, NOTIFY, now=T0 + timedelta(days=1))  # once
    assert _recipients(engine) == [("E030", "[내부통제] 경보 처리 안내: 예외 처리 1건")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": " "}, "needs a reason"),
        ({"expires_at": T0}, "expiry must be in the future"),
        ({"record_key": "P-1", "column": "vendor_id", "value": "V"}, "either a record key"),
        ({"record_key": None, "column": "vendor_id"}, "either a record key"),
        ({"author": "E001"}, "only an auditor"),
        ({"author": "E002"}, "not active"),
        ({"author": "E999"}, "not in the officials directory"),
    ],
)
def test_bad_suppressions_are_refused(
    engine: Engine, directory: Directory, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "rule_id": "R-PAY-DUP",
        "reason": "사유",
        "author": "E030",
        "expires_at": T0 + timedelta(days=1),
        "now": T0,
        "record_key": "P-1",
        "directory": directory,
    }
    args.update(kwargs)
    with engine.begin() as conn, pytest.raises(SuppressionError, match=message):
        add_suppression(conn, **args)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert list_suppressions(conn, include_inactive=True) == []
