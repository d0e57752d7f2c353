"""The audit trail: hash-chained, and `naebu audit verify` names any edited or deleted entry.

Tampering is done the way someone with database access would: plain SQL on the store. Checked
on SQLite through the command line, and on PostgreSQL through the library.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from servers import employees_frame, finding, pg_engine, sample_rules
from sqlalchemy import Engine, text

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.lifecycle import act
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.suppressions import add_suppression
from naebu.alerts.trail import GENESIS, Step, append, canonical, entries, entry_hash, verify
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)


def history(engine: Engine) -> None:
    """Two alerts taken through a few steps and a suppression: 8 trail entries."""
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    with engine.begin() as conn:
        sync_officials(conn, directory, now=T0)
        raise_alerts(
            conn, [finding("P-1"), finding("P-2")], sample_rules(), directory, run_id=None, now=T0
        )  # entries 1, 2
    steps = [
        (1, "ack", "E001", None),
        (1, "explain", "E001", "계약서상 분할 지급 조건"),
        (1, "reject", "E030", "증빙 부족: 계약서 사본 첨부"),
        (2, "correct", "E010", "환수 완료"),
        (2, "accept", "E030", None),
    ]
    for i, (alert_id, action, actor, comment) in enumerate(steps):
        with engine.begin() as conn:
            act(conn, alert_id, action, actor, comment, now=T0 + timedelta(hours=i + 1))
    with engine.begin() as conn:
        add_suppression(
            conn,
            rule_id="R-PAY-DUP",
            column="vendor_id",
            value="V-77",
            reason="정기 분할 납품 계약",
            author="E030",
            expires_at=T0 + timedelta(days=90),
            now=T0 + timedelta(hours=8),
        )


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    write_config(tmp_path, '[store]\nurl = "sqlite:///store.sqlite"\n')
    engine = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    history(engine)
    engine.dispose()
    yield tmp_path


def _sql(workdir: Path, statement: str) -> None:
    with sqlite3.connect(workdir / "store.sqlite") as db:
        db.execute(statement)


def _verify(workdir: Path) -> tuple[int, str]:
    result = run_cli("audit", "verify", cwd=workdir)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout + result.stderr


def test_intact_trail_verifies(workdir: Path) -> None:
    code, out = _verify(workdir)
    assert code == 0, out
    assert "audit trail intact: 8 entries" in out


def test_the_chain_covers_previous_hash_and_own_content(workdir: Path) -> None:
    engine = store.connect("sqlite:///" + str(workdir / "store.sqlite"))
    with engine.connect() as conn:
        trail = entries(conn)
    engine.dispose()
    assert [e["seq"] for e in trail] == list(range(1, 9))
    assert [e["action"] for e in trail] == [
        "raise",
        "raise",
        "acknowledge",
        "explain",
        "reject",
        "correct",
        "accept",
        "suppress_add",
    ]
    prev = GENESIS
    for e in trail:
        assert e["prev_hash"] == prev and e["hash"] == entry_hash(prev, e)
        prev = e["hash"]
    reject = trail[4]
    assert (reject["actor"], reject["from_status"], reject["to_status"]) == (
        "E030",
        "explained",
        "rejected",
    )
    assert reject["comment"] == "증빙 부족: 계약서 사본 첨부"
    assert '"comment":"증빙 부족: 계약서 사본 첨부"' in canonical(reject)


def test_an_edited_entry_is_named(workdir: Path) -> None:
    _sql(workdir, "update audit_trail set comment = '문제 없음' where seq = 5")
    code, out = _verify(workdir)
    assert code == 1
    assert "entry #5 was edited" in out
    assert out.count("naebu audit:") == 2  # that problem and the count line: one entry named


def test_an_edited_actor_or_time_is_named(workdir: Path) -> None:
    _sql(workdir, "update audit_trail set actor = 'E010' where seq = 7")
    _sql(workdir, "update audit_trail set at = '2025-03-09 09:00:00' where seq = 3")
    code, out = _verify(workdir)
    assert code == 1 and "entry #3 was edited" in out and "entry #7 was edited" in out


def test_a_deleted_entry_is_named(workdir: Path) -> None:
    _sql(workdir, "delete from audit_trail where seq = 4")
    code, out = _verify(workdir)
    assert code == 1
    assert "entry #4 missing: deleted" in out


def test_the_newest_entry_deleted_is_named(workdir: Path) -> None:
    _sql(workdir, "delete from audit_trail where seq = 8")
    code, out = _verify(workdir)
    assert code == 1
    assert "entry #8 missing: the newest entries were deleted" in out


def test_a_rewritten_entry_with_a_recomputed_hash_is_named(workdir: Path) -> None:
    engine = store.connect("sqlite:///" + str(workdir / "store.sqlite"))
    with engine.begin() as conn:
        e = entries(conn)[4]
        e["comment"] = "정상"
        forged = entry_hash(e["prev_hash"], e)
        conn.execute(
            text("update audit_trail set comment = '정상', hash = :h where seq = 5"), {"h": forged}
        )
    engine.dispose()
    code, out = _verify(workdir)
    assert code == 1 and "entry #6 does not follow entry #5: #5 was rewritten" in out


def test_an_alert_status_changed_behind_the_trail_is_named(workdir: Path) -> None:
    _sql(workdir, "update alerts set status = 'closed' where id = 1")
    code, out = _verify(workdir)
    assert code == 1
    assert "alert #1: status 'closed' in the alerts table but 'rejected' in its audit trail" in out


def test_appending_continues_the_chain(workdir: Path) -> None:
    engine = store.connect("sqlite:///" + str(workdir / "store.sqlite"))
    with engine.begin() as conn:
        (seq,) = append(conn, [Step("E030", "note", T0, comment="분기 점검")])
        assert seq == 9
    with engine.connect() as conn:
        assert verify(conn).ok
    engine.dispose()


def test_audit_chain_on_postgresql() -> None:
    with pg_engine() as engine:
        history(engine)
        with engine.connect() as conn:
            result = verify(conn)
        assert result.ok, result.problems
        assert result.entries == 8
        with engine.begin() as conn:
            conn.execute(text("update audit_trail set comment = 'x' where seq = 4"))
            conn.execute(text("delete from audit_trail where seq = 6"))
        with engine.connect() as conn:
            problems = verify(conn).problems
        assert any(p.startswith("entry #4 was edited") for p in problems)
        assert any(p.startswith("entry #6 missing") for p in problems)
