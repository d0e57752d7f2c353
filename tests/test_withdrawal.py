"""Withdrawal (철회) on its own: which alerts a withdrawal touches, its trail entry and
tallies, and a withdrawn finding that holds again being raised afresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from servers import employees_frame, finding, mysql_engine, pg_engine, sample_rules
from sqlalchemy import Engine, event, select

from naebu.alerts import raise_alerts
from naebu.alerts.directory import Directory
from naebu.alerts.lifecycle import OPEN, LifecycleError, act
from naebu.alerts.tallies import computed, stored
from naebu.alerts.trail import verify
from naebu.alerts.withdrawal import withdraw_stale
from naebu.store import tables as store

NOW = datetime(2025, 3, 4, 9, 30)
LATER = datetime(2025, 3, 5, 9, 30)


def _statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        a = store.alerts.c
        return {r.record_key: r.status for r in conn.execute(select(a.record_key, a.status))}


def test_withdraws_only_judged_records_no_longer_found(engine: Engine) -> None:
    check_withdrawal(engine)


def test_withdrawal_on_postgresql_and_mariadb() -> None:
    with pg_engine() as engine:
        check_withdrawal(engine)
    with mysql_engine() as engine:
        check_withdrawal(engine)


def check_withdrawal(engine: Engine) -> None:
    rules = sample_rules()
    directory = Directory.from_frame(employees_frame())
    with engine.begin() as conn:
        raise_alerts(
            conn,
            [finding(k) for k in ("P-1", "P-2", "P-3")] + [finding("C-4", rule_id="R-CON-SPLIT")],
            rules,
            directory,
            run_id=None,
            now=NOW,
        )
    with engine.begin() as conn:
        # P-1 found again, P-2 and C-4 judged and not found (C-4's alert is another rule's),
        # P-3 not judged this time.
        gone = withdraw_stale(
            conn,
            rules["R-PAY-DUP"],
            ["P-1", "P-2", "C-4"],
            ["P-1"],
            ["contracts"],
            now=LATER,
            run_id=None,
        )
    assert len(gone) == 1
    assert _statuses(engine) == {
        "P-1": "raised",
        "P-2": "withdrawn",
        "P-3": "raised",
        "C-4": "raised",
    }
    with engine.connect() as conn:
        t = store.audit_trail.c
        (entry,) = conn.execute(select(store.audit_trail).where(t.action == "withdraw")).all()
        assert entry.alert_id == gone[0] and entry.actor == "system"
        assert (entry.from_status, entry.to_status) == ("raised", "withdrawn")
        assert "계약 자료" in entry.comment and "동일 거래처 중복 지급 의심" in entry.comment
        # The scorecard counts it nowhere, and the tallies kept pace.
        assert stored(conn) == computed(conn)
    with engine.connect() as conn:
        assert verify(conn).ok


def test_an_official_cannot_act_on_a_withdrawn_alert_and_it_comes_back_reopened(
    engine: Engine,
) -> None:
    rules = sample_rules()
    directory = Directory.from_frame(employees_frame())
    with engine.begin() as conn:
        (first,) = raise_alerts(conn, [finding("P-1")], rules, directory, run_id=None, now=NOW)
        withdraw_stale(conn, rules["R-PAY-DUP"], ["P-1"], [], [], now=NOW, run_id=None)
    assert "withdrawn" not in OPEN
    with engine.begin() as conn, pytest.raises(LifecycleError, match="철회"):
        act(conn, first, "ack", "E001", now=LATER, directory=directory)
    # The condition holds again (the late record corrected back): raised afresh.
    with engine.begin() as conn:
        again = raise_alerts(conn, [finding("P-1")], rules, directory, run_id=None, now=LATER)
    assert len(again) == 1 and again[0] != first
    with engine.connect() as conn:
        row = conn.execute(select(store.alerts).where(store.alerts.c.id == again[0])).one()
        assert row.status == "raised" and row.reopened_from == first
        assert verify(conn).ok


def test_a_first_run_judging_many_records_asks_the_store_once(engine: Engine) -> None:
    """A first run judges every record (a million payments at the province) and has found
    again all it raised: one query for the rule's standing alerts, no question per judged key,
    and the judged keys are never read."""
    rules = sample_rules()
    directory = Directory.from_frame(employees_frame())
    statements: list[str] = []
    read: list[int] = []

    def judged() -> Iterator[str]:
        read.append(1)
        yield from (f"P-{i}" for i in range(50_000))

    with engine.begin() as conn:
        raise_alerts(conn, [finding("P-7")], rules, directory, run_id=None, now=NOW)
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        gone = withdraw_stale(
            conn, rules["R-PAY-DUP"], judged(), ["P-7"], [], now=LATER, run_id=None
        )
    assert gone == [] and read == [] and len(statements) == 1


def test_an_alert_raised_before_the_rule_was_edited_is_withdrawn_for_the_edit(
    engine: Engine,
) -> None:
    """The rule changed after the alert was raised: the reason says the criteria changed, not
    that data came late; an alert raised under the current version keeps the late-data one."""
    rules = sample_rules()
    directory = Directory.from_frame(employees_frame())
    edited = datetime(2025, 3, 4, 12, 0)
    with engine.begin() as conn:
        raise_alerts(conn, [finding("P-1")], rules, directory, run_id=None, now=NOW)
        raise_alerts(conn, [finding("P-2")], rules, directory, run_id=None, now=LATER)
        conn.execute(
            store.rule_versions.insert().values(
                rule_id="R-PAY-DUP", file="rules/payments.toml", content_hash="0" * 64,
                content={}, first_seen=edited, last_seen=edited,
            )
        )  # fmt: skip
        withdraw_stale(
            conn, rules["R-PAY-DUP"], ["P-1", "P-2"], [], ["contracts"], now=LATER, run_id=None
        )
    with engine.connect() as conn:
        a, t = store.alerts.c, store.audit_trail.c
        comments = {
            key: comment
            for key, comment in conn.execute(
                select(a.record_key, t.comment)
                .join(store.audit_trail, t.alert_id == a.id)
                .where(t.action == "withdraw")
            )
        }
    assert "기준이 바뀐 뒤" in comments["P-1"] and "나중에 입력된" not in comments["P-1"]
    assert "나중에 입력된 계약 자료" in comments["P-2"]
