"""Insider threats: rule changes and suppressions are audited and told to the audit office, an
alert cannot be closed without an auditor's review, and the trail stays verifiable.

Each test runs the real pipeline on a small city (tests/minicity.py) with a SQLite store and
edits its rule file as compliance staff (or someone who should not) would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from minicity import NOW, create_payments, make_city, payment, query, run, store_of
from sqlalchemy import select

from naebu.alerts.lifecycle import ACTIONS, ANSWERED, LifecycleError, act
from naebu.alerts.trail import entries, verify
from naebu.daemon.rules import RuleKeeper
from naebu.pipeline import run_once
from naebu.rulechanges import content_hash
from naebu.settings.config import load_config
from naebu.store import tables as store

LIST = """
[list]
name = "watched_vendors"
title = "감시 대상 거래처"
items = ["V-1", "V-2"]
"""

SECOND_RULE = """
[[rule]]
id = "PAY-ROUND"
title = "천만원 단위 지출"
title_en = "Round-sum payment"
type = "match"
dataset = "payments"
when = "amount >= 10000000"
severity = "medium"

[[rule.example]]
fires = true
record = { payment_id = "P-1", amount = 10_000_000, paid_on = "2025-06-02" }

[[rule.example]]
fires = false
record = { payment_id = "P-2", amount = 5_000, paid_on = "2025-06-02" }
"""


@pytest.fixture
def city(tmp_path: Path) -> Path:
    config = make_city(tmp_path / "city")
    create_payments(
        f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}",
        [payment(1, 5_000_000), payment(2, 1_500_000), payment(3, 10)],
    )
    return config


def _rule_file(city: Path) -> Path:
    return city.parent / "rules" / "pay.toml"


def _edit(city: Path, old: str, new: str) -> None:
    path = _rule_file(city)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _trail(city: Path, action: str) -> list[dict[str, Any]]:
    engine = store_of(city)
    try:
        with engine.connect() as conn:
            return [e for e in entries(conn) if e["action"] == action]
    finally:
        engine.dispose()


def _notices(city: Path) -> list[tuple[str, str, str]]:
    rows = query(city, "SELECT recipient, subject, body FROM outbox ORDER BY id")
    return [(str(r), str(s), str(b)) for r, s, b in rows if "경보 처리 안내" in str(s)]


def _later(hours: int) -> Any:
    from datetime import timedelta

    return NOW + timedelta(hours=hours)


def test_editing_a_threshold_is_audited_and_told_to_the_audit_office(city: Path) -> None:
    run(city)
    # The first run records a baseline: one entry with every hash, no notice.
    (baseline,) = _trail(city, "rule_baseline")
    first_hash = baseline["details"]["rules"]["PAY-BIG"]["hash"]
    assert _trail(city, "rule_change") == [] and _notices(city) == []

    _edit(city, "limit = 1000000", "limit = 2000000")  # now P-00002 (1.5M) is not flagged
    run(city, now=_later(1))
    (change,) = _trail(city, "rule_change")
    details = change["details"]
    assert details["rule_id"] == "PAY-BIG" and details["change"] == "edited"
    assert details["old_hash"] == first_hash != details["new_hash"]
    assert details["changes"] == {"params.limit": [1000000, 2000000]}
    assert change["actor"] == "system" and "params.limit: 1000000 → 2000000" in change["comment"]

    # The versions table holds both versions; the new hash is that of the rule as edited.
    versions = query(
        city,
        "SELECT content_hash, retired_at FROM rule_versions WHERE rule_id = 'PAY-BIG' ORDER BY id",
    )
    assert [v[0] for v in versions] == [details["old_hash"], details["new_hash"]]
    assert versions[0][1] is not None and versions[1][1] is None
    engine = store_of(city)
    with engine.connect() as conn:
        content = conn.execute(
            select(store.rule_versions.c.content).where(store.rule_versions.c.retired_at.is_(None))
        ).scalar_one()
    engine.dispose()
    assert content["params"] == {"limit": 2000000}
    assert content_hash(content) == details["new_hash"]

    # The audit office (E030) gets one notice with the old and new hash and the change.
    ((recipient, subject, body),) = _notices(city)
    assert recipient == "E030" and "규칙 변경 1건" in subject
    assert details["old_hash"] in body and details["new_hash"] in body
    assert "params.limit" in body and "1000000 → 2000000" in body

    # Nothing changed: nothing recorded, nobody told again.
    run(city, now=_later(2))
    assert len(_trail(city, "rule_change")) == 1 and len(_notices(city)) == 1

    # The chain, with the new kinds of entry, still verifies (the command an auditor runs).
    done = run_cli("audit", "verify", "--config", str(city), cwd=city.parent)
    assert done.returncode == 0, done.stderr
    assert "audit trail intact" in done.stdout


def test_disabling_adding_removing_and_list_edits_are_each_recorded(city: Path) -> None:
    run(city)
    # A comment and spacing only: the rule means the same, nothing is recorded.
    _edit(city, 'severity = "high"', 'severity   =   "high"   # 검토 중')
    run(city, now=_later(1))
    assert _trail(city, "rule_change") == []

    _edit(city, 'severity   =   "high"', 'enabled = false\nseverity = "high"')
    path = _rule_file(city)
    path.write_text(path.read_text(encoding="utf-8") + SECOND_RULE + LIST, encoding="utf-8")
    run(city, now=_later(2))
    changes = {e["details"]["rule_id"]: e["details"] for e in _trail(city, "rule_change")}
    assert {k: v["change"] for k, v in changes.items()} == {
        "PAY-BIG": "disabled",
        "PAY-ROUND": "added",
        "list:watched_vendors": "added",
    }
    assert changes["PAY-BIG"]["changes"] == {"enabled": [None, False]}
    assert changes["PAY-ROUND"]["old_hash"] is None

    # A vendor taken off the watch list, the new rule removed, the first enabled again.
    text = path.read_text(encoding="utf-8")
    text = text.replace(SECOND_RULE, "").replace('"V-1", "V-2"', '"V-1"')
    path.write_text(text.replace("enabled = false\n", ""), encoding="utf-8")
    run(city, now=_later(3))
    later = [e["details"] for e in _trail(city, "rule_change")][3:]
    assert {d["rule_id"]: d["change"] for d in later} == {
        "PAY-BIG": "enabled",
        "PAY-ROUND": "removed",
        "list:watched_vendors": "edited",
    }
    listed = next(d for d in later if d["rule_id"] == "list:watched_vendors")
    assert listed["changes"] == {"items": [["V-1", "V-2"], ["V-1"]]}
    removed = next(d for d in later if d["rule_id"] == "PAY-ROUND")
    assert removed["new_hash"] is None
    assert query(
        city,
        "SELECT count(*) FROM rule_versions WHERE rule_id = 'PAY-ROUND' AND retired_at IS NULL",
    ) == [(0,)]
    # Each run's changes reach the audit office in one notice.
    subjects = [s for r, s, _ in _notices(city) if r == "E030"]
    assert subjects == ["[내부통제] 경보 처리 안내: 규칙 변경 3건"] * 2


def test_the_daemon_records_what_runs_not_a_broken_edit(city: Path) -> None:
    """Hot reload keeps a broken rule in its last good version: that version is what runs,
    so no change is recorded until the edit loads."""
    config = load_config(city)
    keeper = RuleKeeper(config)
    engine = store.connect(config.store_url)

    def daemon_run(hours: int) -> list[str]:
        reload = keeper.refresh()
        extra = {"rules_last_good": reload.kept} if reload.kept else {}
        run_once(config, now=_later(hours), ruleset=reload.ruleset, engine=engine, extra=extra)
        return reload.kept

    try:
        assert daemon_run(0) == []
        # A new threshold and a typo in the condition: the rule does not load.
        _edit(city, "limit = 1000000", "limit = 4000000")  # its examples still pass
        _edit(city, "amount >= params.limit", "amount >= params.limit and amout > 0")
        assert daemon_run(1) == ["PAY-BIG"]
        assert _trail(city, "rule_change") == []
        # Fixed: the edit now runs, and is recorded once.
        _edit(city, " and amout > 0", "")
        assert daemon_run(2) == []
        assert daemon_run(3) == []
        (change,) = _trail(city, "rule_change")
        assert change["details"]["changes"] == {"params.limit": [1000000, 4000000]}
    finally:
        engine.dispose()


def test_a_suppression_is_audited_and_told_to_the_audit_office(city: Path) -> None:
    run(city)
    done = run_cli(
        "suppress", "add", "--config", str(city), "--rule", "PAY-BIG", "--record", "P-00002",
        "--reason", "연간 단가계약 분할 지급", "--until", "2025-12-31", "--as", "E010",
        "--now", "2025-07-01T10:00",
        cwd=city.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run(city, now=_later(2))
    (entry,) = _trail(city, "suppress_add")
    assert entry["actor"] == "E010" and entry["comment"] == "연간 단가계약 분할 지급"
    assert entry["details"]["record_key"] == "P-00002"
    told = [(r, s) for r, s, _ in _notices(city)]
    assert told == [("E030", "[내부통제] 경보 처리 안내: 예외 처리 1건")]
    engine = store_of(city)
    with engine.connect() as conn:
        assert verify(conn).ok
    engine.dispose()


def test_an_alert_cannot_be_closed_without_review(city: Path) -> None:
    # By design: only "accept" closes, only from an answered status (or an approved answer,
    # with the department manager's approval step), only by an auditor.
    closing = [a for a in ACTIONS.values() if a.to_status == "closed"]
    assert [(a.name, a.from_statuses, a.who) for a in closing] == [
        ("accept", (*ANSWERED, "approved"), "auditor")
    ]
    run(city)
    alert_id = query(city, "SELECT id FROM alerts WHERE record_key = 'P-00001'")[0][0]
    engine = store_of(city)

    def step(action: str, actor: str, comment: str | None = "사유") -> str | None:
        with engine.begin() as conn:
            return act(conn, int(alert_id), action, actor, comment, now=_later(1)).to_status

    try:
        # A raised alert: nobody can close it, whatever their role.
        for actor in ("E001", "E010", "E030"):
            with pytest.raises(LifecycleError):
                step("accept", actor)
        assert step("explain", "E001", "정상 지급입니다") == "explained"
        # The official who answered and their manager cannot review the answer.
        with pytest.raises(LifecycleError, match="only an auditor"):
            step("accept", "E010")
        with pytest.raises(LifecycleError, match="own alert|only an auditor"):
            step("accept", "E001")
        assert step("accept", "E030") == "closed"
        with engine.connect() as conn:
            trail = [(e["action"], e["actor"]) for e in entries(conn, int(alert_id))]
            assert trail == [("raise", "system"), ("explain", "E001"), ("accept", "E030")]
            assert verify(conn).ok
    finally:
        engine.dispose()


def test_a_version_rewritten_in_the_store_to_hide_an_edit_is_named_by_verify(city: Path) -> None:
    """rule_versions is not chained; the trail is. Someone with write access to the store who
    rewrites the current version to the edited rule's hash (so the edit is not recorded as a
    change) is named by `naebu audit verify`."""
    from naebu.pipeline import load_ruleset
    from naebu.rulechanges import current_versions

    run(city)
    _edit(city, "limit = 1000000", "limit = 9000000")
    config = load_config(city)
    edited = current_versions(load_ruleset(config), root=config.base_dir)["PAY-BIG"]
    engine = store_of(city)
    try:
        with engine.begin() as conn:
            t = store.rule_versions
            conn.execute(
                t.update()
                .where(t.c.rule_id == "PAY-BIG", t.c.retired_at.is_(None))
                .values(content_hash=edited.content_hash, content=edited.content)
            )
        run(city, now=_later(1))
        assert _trail(city, "rule_change") == []  # the edit went unrecorded ...
        with engine.connect() as conn:
            problems = verify(conn).problems
    finally:
        engine.dispose()
    # ... but the chained trail still holds the baseline's hash, and verify says so.
    assert problems == [
        f"rule PAY-BIG: version {edited.content_hash[:12]} in rule_versions but "
        f"{_trail(city, 'rule_baseline')[0]['details']['rules']['PAY-BIG']['hash'][:12]} in the "
        "audit trail (entry #1) (규칙 PAY-BIG 버전 기록 불일치)"
    ]
    done = run_cli("audit", "verify", "--config", str(city), cwd=city.parent)
    assert done.returncode == 1 and "rule PAY-BIG" in done.stderr
