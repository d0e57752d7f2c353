"""The department scorecard stays exact through every write to the alerts.

The scorecard reads ``alert_tallies`` (kept by :mod:`naebu.alerts.tallies` in the raising and
lifecycle code) instead of every alert. These tests take the steps officials take - answers,
rejections, acceptance, late answers, reopening, suppression and its removal - and after each
one compare the scorecard with a reference counted here from scratch (every alert row and the
audit trail, the way the scorecard was defined before it had tallies), and the stored tallies
with :func:`naebu.alerts.tallies.computed`. A seeded random walk does the same on SQLite and, when
they run, PostgreSQL and MariaDB; the migration that created the tallies is checked on a
store holding alerts from before it.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from servers import directory_with_two_auditors, finding, sample_rules
from services import mysql_url, pg_url, require_service
from sqlalchemy import Connection, Engine, select
from test_daemon_helpers import fresh_database

from naebu.alerts import Directory, raise_alerts, tallies
from naebu.alerts.lifecycle import OPEN, LifecycleError, act
from naebu.alerts.officials import sync_officials
from naebu.alerts.suppressions import add_suppression, remove_suppression
from naebu.inbox.access import Viewer
from naebu.inbox.queries import last_months, month_start, scorecard
from naebu.store import migrations
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)  # a Monday
ANSWERS = ("correct", "explain", "false_positive")


@pytest.fixture
def directory() -> Directory:
    return directory_with_two_auditors()


def reference(conn: Connection, now: datetime) -> dict[str, dict[str, int]]:
    """The scorecard counted from every alert and the audit trail, with no tallies."""
    trail = store.audit_trail.c
    last: dict[int, str] = {}
    for r in conn.execute(
        select(trail.alert_id, trail.action).where(trail.action.in_(ANSWERS)).order_by(trail.seq)
    ):
        last[r.alert_id] = r.action
    since = month_start(last_months(now)[0])
    out: dict[str, dict[str, int]] = {}
    for a in conn.execute(select(store.alerts)):
        if a.status == "suppressed" or a.created_at < since:
            continue
        d = out.setdefault(
            a.department or "-",
            dict.fromkeys(("raised", "answered", "on_time", "overdue", "fp", "repeats"), 0),
        )
        answered = a.answered_at is not None
        d["raised"] += 1
        d["answered"] += answered
        d["on_time"] += answered and a.deadline is not None and a.answered_at <= a.deadline
        d["overdue"] += a.status in OPEN and a.deadline is not None and a.deadline < now
        d["fp"] += answered and last.get(a.id) == "false_positive"
        d["repeats"] += a.reopened_from is not None
    return out


def shown(conn: Connection, directory: Directory, now: datetime) -> dict[str, dict[str, int]]:
    """What the scorecard says to an auditor, in the reference's shape."""
    auditor = directory.get("E030")
    assert auditor is not None
    card = scorecard(conn, Viewer(auditor, directory, False), now=now)
    assert sum(card.raised_by_month) == sum(s.raised for s in card.departments)
    assert sum(card.on_time_by_month) == sum(s.on_time for s in card.departments)
    return {
        s.department: {
            "raised": s.raised,
            "answered": s.answered,
            "on_time": s.on_time,
            "overdue": s.overdue,
            "fp": s.false_positive,
            "repeats": s.repeats,
        }
        for s in card.departments
    }


def check(engine: Engine, directory: Directory, now: datetime) -> dict[str, dict[str, int]]:
    """Scorecard == reference, stored tallies == tallies recomputed; the scorecard's counts."""
    with engine.connect() as conn:
        assert tallies.stored(conn) == tallies.computed(conn)
        card = shown(conn, directory, now)
        assert card == reference(conn, now)
        return card


def step(engine: Engine, alert_id: int, action: str, actor: str, at: datetime) -> None:
    comment = "사유" if action in ("explain", "false_positive", "reject") else None
    with engine.begin() as conn:
        act(conn, alert_id, action, actor, comment, now=at)


def test_the_scorecard_follows_every_lifecycle_step(engine: Engine, directory: Directory) -> None:
    rules = sample_rules()

    def raise_(*findings: Any, at: datetime = T0) -> list[int]:
        with engine.begin() as conn:
            sync_officials(conn, directory, now=at)
            return raise_alerts(conn, list(findings), rules, directory, run_id=None, now=at)

    a1, a2, a3, b1 = raise_(
        finding("P-1"),
        finding("P-2"),
        finding("P-3", evidence={"amount": 4000000, "vendor_id": "V-3"}),
        finding("T-1", department="세무과", official_id="E040"),
    )
    now = T0 + timedelta(hours=2)
    card = check(engine, directory, now)
    assert card["재무과"] == {"raised": 3, "answered": 0, "on_time": 0, "overdue": 0, "fp": 0,
                            "repeats": 0}  # fmt: skip
    assert card["세무과"]["raised"] == 1

    def dept(at: datetime) -> dict[str, int]:
        return check(engine, directory, at)["재무과"]

    hour = timedelta(hours=1)
    step(engine, a1, "explain", "E001", T0 + hour)
    assert (dept(now)["answered"], dept(now)["on_time"]) == (1, 1)
    step(engine, a1, "reject", "E030", T0 + 2 * hour)  # the answer no longer stands
    assert (dept(now)["answered"], dept(now)["on_time"]) == (0, 0)
    step(engine, a1, "false_positive", "E001", T0 + 3 * hour)
    now = T0 + 4 * hour
    assert (dept(now)["answered"], dept(now)["fp"]) == (1, 1)
    step(engine, a1, "reject", "E030", T0 + 4 * hour)  # a rejected 오탐 is not counted
    assert (dept(now)["answered"], dept(now)["fp"]) == (0, 0)
    step(engine, a1, "correct", "E001", T0 + 5 * hour)
    step(engine, a1, "accept", "E030", T0 + 6 * hour)
    now = T0 + 7 * hour
    assert dept(now) == {"raised": 3, "answered": 1, "on_time": 1, "overdue": 0, "fp": 0,
                         "repeats": 0}  # fmt: skip
    step(engine, a3, "acknowledge", "E001", now)
    with engine.begin() as conn:  # reassigning changes no count
        act(conn, a3, "reassign", "E010", now=now, to="E010")
    assert dept(now)["raised"] == 3

    # Past the 3-business-day deadline the open ones are overdue; a late answer is not on time.
    late = T0 + timedelta(days=7)
    assert dept(late)["overdue"] == 2
    step(engine, a2, "correct", "E001", late)
    assert dept(late) == {"raised": 3, "answered": 2, "on_time": 1, "overdue": 1, "fp": 0,
                          "repeats": 0}  # fmt: skip

    # The closed alert's record changes: a new alert reopens it (a repeat finding).
    raise_(finding("P-1", evidence={"amount": 9900000, "vendor_id": "V-77"}), at=late)
    assert (dept(late)["raised"], dept(late)["repeats"]) == (4, 1)

    # A suppressed finding is not counted; when the suppression ends it is raised and counted.
    with engine.begin() as conn:
        sid = add_suppression(
            conn, rule_id="R-PAY-DUP", record_key="P-9", reason="정기 분할 지급 계약",
            author="E030", expires_at=late + timedelta(days=30), now=late, directory=directory,
        )  # fmt: skip
    raise_(finding("P-9"), at=late)
    assert dept(late)["raised"] == 4
    with engine.begin() as conn:
        remove_suppression(conn, sid, actor="E030", reason="계약 종료", now=late,
                           directory=directory)  # fmt: skip
    raise_(finding("P-9"), at=late)
    assert dept(late)["raised"] == 5
    assert check(engine, directory, late)["세무과"]["raised"] == 1
    del b1


def test_a_department_official_sees_only_their_department(
    engine: Engine, directory: Directory
) -> None:
    with engine.begin() as conn:
        sync_officials(conn, directory, now=T0)
        raise_alerts(
            conn,
            [finding("P-1"), finding("T-1", department="세무과", official_id="E040")],
            sample_rules(),
            directory,
            run_id=None,
            now=T0,
        )
    official = directory.get("E040")
    assert official is not None
    with engine.connect() as conn:
        card = scorecard(conn, Viewer(official, directory, False), now=T0 + timedelta(days=9))
    assert [(s.department, s.raised, s.overdue) for s in card.departments] == [("세무과", 1, 1)]


def random_walk(engine: Engine, directory: Directory, seed: int, steps: int) -> None:
    """Random findings and steps by random people over three months; check after each."""
    rnd = random.Random(seed)
    rules = sample_rules()
    people = ["E001", "E010", "E020", "E030", "E031", "E040"]
    actions = ["acknowledge", "correct", "explain", "false_positive", "accept", "reject",
               "reassign"]  # fmt: skip
    keys = [f"P-{i}" for i in range(12)]
    at = T0
    with engine.begin() as conn:
        sync_officials(conn, directory, now=at)
    ids: list[int] = []
    done: Counter[str] = Counter()
    for _ in range(steps):
        at += timedelta(hours=rnd.randrange(1, 60))
        if rnd.random() < 0.3 or not ids:
            key = rnd.choice(keys)
            dept, who = rnd.choice([("재무과", "E001"), ("세무과", "E040"), (None, None)])
            f = finding(key, department=dept, official_id=who,
                        evidence={"amount": rnd.choice([1, 2]) * 1000000, "vendor_id": "V"})  # fmt: skip
            with engine.begin() as conn:
                ids += raise_alerts(conn, [f], rules, directory, run_id=None, now=at)
        else:
            # A random step on a random alert, by the first of the people (in random order)
            # who may take it; most steps are refused by some of them.
            alert_id, action = rnd.choice(ids), rnd.choice(actions)
            for actor in rnd.sample(people, len(people)):
                try:
                    with engine.begin() as conn:
                        act(conn, alert_id, action, actor, "사유", now=at,
                            to=rnd.choice(people))  # fmt: skip
                except LifecycleError:
                    continue
                done[action] += 1
                break
        check(engine, directory, at)
    # The walk did take every kind of step, not only refused ones.
    assert set(done) == set(actions), done


def test_a_random_walk_keeps_the_scorecard_exact(engine: Engine, directory: Directory) -> None:
    random_walk(engine, directory, seed=11, steps=150)


def test_a_random_walk_keeps_the_scorecard_exact_on_postgresql(directory: Directory) -> None:
    require_service("PostgreSQL", pg_url())
    with fresh_database(pg_url(), "naebu_tally") as url:
        engine = store.connect(url)
        try:
            random_walk(engine, directory, seed=5, steps=80)
        finally:
            engine.dispose()


def test_a_random_walk_keeps_the_scorecard_exact_on_mariadb(directory: Directory) -> None:
    # MariaDB takes the ON DUPLICATE KEY UPDATE path of naebu.alerts.tallies.
    require_service("MariaDB", mysql_url())
    with fresh_database(mysql_url(), "naebu_tally") as url:
        engine = store.connect(url)
        try:
            random_walk(engine, directory, seed=5, steps=60)
        finally:
            engine.dispose()


def test_the_migration_counts_the_alerts_stored_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = sa.create_engine(url)
    with old.begin() as conn:
        command.upgrade(migrations.alembic_config(conn), "0005")
    # Alerts as revision 0005 stored them: no last answer, no tallies.
    cols = ("id", "fingerprint", "rule_id", "dataset", "record_key", "severity", "status",
            "department", "title", "message", "evidence", "created_at", "deadline",
            "answered_at")  # fmt: skip
    a = sa.table("alerts", *(sa.column(c) for c in cols))
    t = sa.table("audit_trail", *(sa.column(c) for c in
                 ("seq", "at", "actor", "action", "alert_id", "prev_hash", "hash")))  # fmt: skip
    deadline = T0 + timedelta(days=3)
    rows = [  # id, status, department, answered_at, answers in order
        (1, "false_positive", "재무과", T0 + timedelta(days=1), ["explain", "false_positive"]),
        (2, "closed", "재무과", T0 + timedelta(days=5), ["false_positive", "correct"]),
        (3, "raised", "세무과", None, []),
        (4, "suppressed", "세무과", None, []),
    ]
    seq = 0
    with old.begin() as conn:
        for i, status, dept, answered_at, answers in rows:
            conn.execute(sa.insert(a).values(
                id=i, fingerprint=f"fp{i}", rule_id="R-PAY-DUP", dataset="payments",
                record_key=f"P-{i}", severity="high", status=status, department=dept,
                title="t", message="m", evidence=sa.literal("{}"), created_at=T0,
                deadline=deadline, answered_at=answered_at,
            ))  # fmt: skip
            for action in ["raise", *answers]:
                seq += 1
                conn.execute(sa.insert(t).values(seq=seq, at=T0, actor="E001", action=action,
                                                 alert_id=i, prev_hash="0", hash="0"))  # fmt: skip
    old.dispose()
    engine = store.connect(url)  # upgrades to the newest revision
    try:
        with engine.connect() as conn:
            last = dict(conn.execute(select(store.alerts.c.id, store.alerts.c.last_answer)).all())
            assert last == {1: "false_positive", 2: "correct", 3: None, 4: None}
            month = T0.strftime("%Y-%m")
            # raised, answered, on time, 오탐, repeats, open with a deadline, approved and
            # confirmed (migration 0018: the closed alert #2 was confirmed, none approved)
            assert tallies.stored(conn) == {
                ("재무과", month): (2, 2, 1, 1, 0, 0, 0, 1),
                ("세무과", month): (1, 0, 0, 0, 0, 1, 0, 0),
            }
            assert tallies.stored(conn) == tallies.computed(conn)
    finally:
        engine.dispose()


def test_rebuild_restores_tallies_that_were_tampered_with(
    engine: Engine, directory: Directory
) -> None:
    with engine.begin() as conn:
        sync_officials(conn, directory, now=T0)
        raise_alerts(conn, [finding("P-1"), finding("P-2")], sample_rules(), directory,
                     run_id=None, now=T0)  # fmt: skip
        conn.execute(sa.update(store.alert_tallies).values(raised=99))
        assert tallies.stored(conn) != tallies.computed(conn)
        assert tallies.rebuild(conn) == 1
        assert tallies.stored(conn) == {("재무과", "2025-03"): (2, 0, 0, 0, 0, 2, 0, 0)}


def test_the_tallies_know_the_lifecycles_open_statuses() -> None:
    assert tallies.OPEN == OPEN
