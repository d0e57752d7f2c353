"""The audit trail anchored outside the store (issue 17 point 10): an insider who can write the
store but holds neither the audit key nor the audit office's mail cannot rewrite the chain,
move its head back, append an entry of their own or edit what an alert says unseen.

Tampering is done as a database administrator would: plain SQL on the store, recomputing
every hash the way naebu.alerts.trail does (the code is public). `naebu audit verify` is run as a
user runs it, in a subprocess, reading the key file the config names.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from minicity import NOW, create_payments, make_city, payment
from servers import directory_with_two_auditors, finding, mysql_engine, pg_engine, sample_rules
from sqlalchemy import Engine, text

from naebu.alerts import raise_alerts
from naebu.alerts.anchor import (
    ALERT_FIELDS,
    Anchor,
    alert_digest,
    install,
    read_heads,
    read_key_file,
)
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import act
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.officials import sync_officials
from naebu.alerts.suppressions import add_suppression
from naebu.alerts.trail import GENESIS, entries, entry_hash, verify
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)  # a Monday
STORE = '[store]\nurl = "sqlite:///store.sqlite"\n'
KEYED = STORE + '\n[audit]\nkey_file = "audit.key"\n'
HEADS = "var/audit-heads.log"


def history(engine: Engine) -> None:
    """Two alerts through answers, a rejection (new deadline), a reassignment, a suppression
    (told to the second auditor, whose digest carries the head) and escalations."""
    directory = directory_with_two_auditors()
    with engine.begin() as conn:
        sync_officials(conn, directory, now=T0)
        raise_alerts(
            conn, [finding("P-1"), finding("P-2")], sample_rules(), directory, run_id=None, now=T0
        )
    steps = [
        (1, "ack", "E001", None, None),
        (1, "explain", "E001", "계약서상 분할 지급 조건", None),
        (1, "reject", "E030", "증빙 부족: 계약서 사본 첨부", None),
        (2, "reassign", "E010", "과장 직접 처리", "E010"),
    ]
    for i, (alert_id, action, actor, comment, to) in enumerate(steps):
        with engine.begin() as conn:
            act(conn, alert_id, action, actor, comment, now=T0 + timedelta(hours=i + 1), to=to)
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
    # Three weeks on: both deadlines long past, escalations to managers and audit office.
    notify = NotifyConfig(outbox_file=None)
    remind_and_escalate(engine, directory, notify, now=T0 + timedelta(days=21))


def _build(folder: Path, config: str, keyed: bool) -> Path:
    write_config(folder, config)
    key = None
    if keyed:
        result = run_cli("audit", "init-key", cwd=folder)
        assert result.returncode == 0, result.stdout + result.stderr
        key = read_key_file(folder / "audit.key")
    # As the daemon does it: the anchor installed from the config, then the steps.
    install(Anchor(key=key, heads_file=folder / HEADS))
    engine = store.connect(f"sqlite:///{folder / 'store.sqlite'}")
    try:
        history(engine)
    finally:
        engine.dispose()
        install(Anchor())
    return folder


@pytest.fixture
def keyed(tmp_path: Path) -> Path:
    return _build(tmp_path, KEYED, keyed=True)


@pytest.fixture
def unkeyed(tmp_path: Path) -> Path:
    return _build(tmp_path, STORE, keyed=False)


def _verify(folder: Path, *args: str) -> tuple[int, str]:
    result = run_cli("audit", "verify", *args, cwd=folder)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def db(request: pytest.FixtureRequest) -> Iterator[sqlite3.Connection]:
    folder = request.getfixturevalue(request.param)
    conn = sqlite3.connect(folder / "store.sqlite")
    conn.row_factory = sqlite3.Row
    yield conn
    conn.commit()
    conn.close()


def _trail(folder: Path, name: str = "store.sqlite") -> list[dict[str, object]]:
    engine = store.connect(f"sqlite:///{folder / name}")
    try:
        with engine.connect() as conn:
            return entries(conn)
    finally:
        engine.dispose()


def _rewrite(folder: Path, edit: dict[int, dict[str, object]], macs: str = "keep") -> None:
    """Apply ``edit`` (seq -> new values) and recompute every hash from #1 and the head, as an
    insider with the code but not the key would; ``macs``: keep the old ones, or clear them."""
    trail = _trail(folder)
    prev = GENESIS
    with sqlite3.connect(folder / "store.sqlite") as db:
        for e in trail:
            e.update(edit.get(int(e["seq"]), {}))  # type: ignore[call-overload]
            e["prev_hash"] = prev
            e["hash"] = prev = entry_hash(prev, e)
            mac = e["mac"] if macs == "keep" else None
            details = json.dumps(e["details"], ensure_ascii=False) if e["details"] else None
            db.execute(
                "update audit_trail set comment = ?, details = ?, prev_hash = ?, hash = ?, "
                "mac = ? where seq = ?",
                (e["comment"], details, e["prev_hash"], e["hash"], mac, e["seq"]),
            )
        mac_sql = "" if macs == "keep" else ", mac = null"
        db.execute(f"update audit_head set seq = ?, hash = ?{mac_sql}", (trail[-1]["seq"], prev))


def _move_head_back(folder: Path, keep: int) -> None:
    """Delete the entries after #``keep`` and point the head at #``keep``."""
    trail = _trail(folder)
    with sqlite3.connect(folder / "store.sqlite") as db:
        db.execute("delete from audit_trail where seq > ?", (keep,))
        db.execute("update audit_head set seq = ?, hash = ?", (keep, trail[keep - 1]["hash"]))


def _forge_append(folder: Path, details: dict[str, object] | None = None, mac: str | None = None):  # type: ignore[no-untyped-def]
    """Append an entry with a correct hash (and ``mac``), and move the head to it."""
    last = _trail(folder)[-1]
    seq = int(last["seq"]) + 1  # type: ignore[call-overload]
    e = {
        "seq": seq,
        "at": datetime(2025, 4, 1, 9, 0),
        "actor": "E030",
        "action": "note",
        "alert_id": 1 if details else None,
        "suppression_id": None,
        "from_status": None,
        "to_status": None,
        "comment": "분기 점검 완료",
        "details": details,
    }
    h = entry_hash(str(last["hash"]), e)
    with sqlite3.connect(folder / "store.sqlite") as db:
        db.execute(
            "insert into audit_trail (seq, at, actor, action, alert_id, comment, details, "
            "prev_hash, hash, mac) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                "2025-04-01 09:00:00.000000",
                "E030",
                "note",
                e["alert_id"],
                e["comment"],
                json.dumps(details) if details else None,
                last["hash"],
                h,
                mac,
            ),
        )
        db.execute("update audit_head set seq = ?, hash = ?", (seq, h))
    return seq


def _no_published_heads(folder: Path) -> None:
    # Isolates what the key alone catches: the heads file is gone too.
    (folder / HEADS).unlink()


# -- the key -----------------------------------------------------------------------------------


def test_a_signed_trail_verifies_with_its_key_and_published_heads(keyed: Path) -> None:
    code, out = _verify(keyed)
    assert code == 0, out
    trail = _trail(keyed)
    n = len(trail)
    assert n >= 10 and all(e["mac"] for e in trail)
    assert f"audit trail intact: {n} entries" in out
    assert f"{n} signed entries (key " in out and "1 published head(s)" in out
    assert "note:" not in out
    key = (keyed / "audit.key").read_text()
    assert key.strip() not in (keyed / "store.sqlite").read_bytes().decode("utf-8", "replace")


def test_a_full_chain_rewrite_with_recomputed_hashes_is_named_with_the_key(keyed: Path) -> None:
    _no_published_heads(keyed)
    _rewrite(keyed, {5: {"comment": "증빙 확인, 문제 없음"}})
    code, out = _verify(keyed)
    assert code == 1, out
    n = len(_trail(keyed))
    assert f"entry #5 to #{n}: signature does not match: written or rewritten without" in out
    assert "was edited" not in out and "does not follow" not in out  # the chain is consistent


def test_a_rewrite_stripping_every_signature_is_named_with_the_key(keyed: Path) -> None:
    _no_published_heads(keyed)
    _rewrite(keyed, {5: {"comment": "증빙 확인, 문제 없음"}}, macs="clear")
    code, out = _verify(keyed)
    assert code == 1, out
    assert "no entry of the audit trail is signed, though an audit key is configured" in out


def test_a_head_moved_back_is_named_with_the_key(keyed: Path) -> None:
    _no_published_heads(keyed)
    n = len(_trail(keyed))
    assert [e["action"] for e in _trail(keyed)][-2:] == ["escalate", "escalate"]
    _move_head_back(keyed, n - 2)
    code, out = _verify(keyed)
    assert code == 1, out
    assert f"the head of the audit trail (#{n - 2}) does not carry the audit key's" in out


def test_a_forged_append_with_a_correct_hash_is_named_with_the_key(keyed: Path) -> None:
    _no_published_heads(keyed)
    seq = _forge_append(keyed)
    code, out = _verify(keyed)
    assert code == 1, out
    assert f"entry #{seq} not signed, though entry #1 before it is" in out
    assert f"the head of the audit trail (#{seq}) does not carry" in out


def test_a_forged_append_with_a_made_up_signature_is_named(keyed: Path) -> None:
    _no_published_heads(keyed)
    seq = _forge_append(keyed, mac=secrets.token_hex(32))
    code, out = _verify(keyed)
    assert code == 1 and f"entry #{seq}: signature does not match" in out, out


@pytest.mark.parametrize(
    "column, value",
    [
        ("message", "'정상 지출'"),
        ("evidence", "json_set(evidence, '$.amount', 1000)"),
        ("assignee", "'E040'"),
        ("department", "'세무과'"),
        ("deadline", "'2026-01-01 00:00:00.000000'"),
        ("severity", "'low'"),
    ],
)
def test_an_alert_field_edited_in_the_store_is_named(keyed: Path, column: str, value: str) -> None:
    with sqlite3.connect(keyed / "store.sqlite") as db:
        assert db.execute(f"update alerts set {column} = {value} where id = 1").rowcount == 1
    code, out = _verify(keyed)
    assert code == 1, out
    assert "alert #1: its content (message, evidence, assignee" in out
    assert "is not what the audit trail last recorded (entry #" in out
    assert "alert #2" not in out


def test_an_edited_alert_vouched_for_by_a_forged_entry_is_named_with_the_key(keyed: Path) -> None:
    _no_published_heads(keyed)
    with sqlite3.connect(keyed / "store.sqlite") as db:
        db.execute("update alerts set message = '정상 지출' where id = 1")
        db.row_factory = sqlite3.Row
        row = dict(db.execute("select * from alerts where id = 1").fetchone())
    row["evidence"] = json.loads(row["evidence"])
    for k in ("deadline", "event_time", "created_at"):
        if row[k]:
            row[k] = datetime.fromisoformat(row[k])
    seq = _forge_append(keyed, details={"fields": alert_digest([row[k] for k in ALERT_FIELDS])})
    code, out = _verify(keyed)
    assert code == 1, out
    assert "alert #1: its content" not in out  # the forged entry vouches for the edit ...
    assert f"entry #{seq} not signed" in out  # ... and is not signed


def test_an_alert_deleted_from_the_store_is_named(keyed: Path) -> None:
    with sqlite3.connect(keyed / "store.sqlite") as db:
        db.execute("pragma foreign_keys = off")
        db.execute("delete from deliveries where alert_id = 2")
        db.execute("delete from followups where alert_id = 2")
        db.execute("delete from alerts where id = 2")
    code, out = _verify(keyed)
    assert code == 1 and "alert #2 is in the audit trail (entry #" in out, out


# -- published heads, without the key -----------------------------------------------------------


def test_the_audit_office_digest_carries_the_head(unkeyed: Path) -> None:
    trail = _trail(unkeyed)
    # The digest shows the head as committed before that run's escalations; the heads file
    # the head after the run.
    before = [e for e in trail if e["action"] != "escalate"][-1]
    assert trail[-1]["action"] == "escalate" and before["seq"] < trail[-1]["seq"]
    head = f"감사 기록 #{before['seq']} · {str(before['hash'])[:16]}"
    with sqlite3.connect(unkeyed / "store.sqlite") as db:
        bodies = dict(
            db.execute("select recipient, body from outbox where created_at >= '2025-03-31'")
        )
    assert head in bodies["E031"]  # the second auditor, told of E030's suppression
    assert all("감사 기록 #" not in b for r, b in bodies.items() if r not in ("E030", "E031"))
    lines = (unkeyed / HEADS).read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(f" #{trail[-1]['seq']} {trail[-1]['hash']}")


def test_a_head_moved_back_is_named_by_the_heads_file(unkeyed: Path) -> None:
    n = len(_trail(unkeyed))
    _move_head_back(unkeyed, n - 2)
    code, out = _verify(unkeyed)
    assert code == 1, out
    assert f"head #{n} published in {unkeyed / HEADS} line 1 is past the end of the trail" in out


def _mail(folder: Path, recipient: str) -> Path:
    with sqlite3.connect(folder / "store.sqlite") as db:
        (body,) = db.execute(
            "select body from outbox where recipient = ? order by id desc limit 1", (recipient,)
        ).fetchone()
    path = folder / "saved-mail.txt"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_head_moved_back_is_named_by_a_saved_digest(unkeyed: Path) -> None:
    mail = _mail(unkeyed, "E031")
    (published,) = read_heads(mail)
    _no_published_heads(unkeyed)  # the insider removed the local file too
    _move_head_back(unkeyed, published.seq - 1)
    code, out = _verify(unkeyed, "--heads", str(mail))
    assert code == 1, out
    assert f"head #{published.seq} published in {mail} line {published.line} is past the end" in out


def test_a_full_chain_rewrite_is_named_by_published_heads(unkeyed: Path) -> None:
    mail = _mail(unkeyed, "E031")
    (published,) = read_heads(mail)
    _rewrite(unkeyed, {5: {"comment": "증빙 확인, 문제 없음"}})
    n = len(_trail(unkeyed))
    code, out = _verify(unkeyed, "--heads", str(mail))
    assert code == 1, out
    assert f"entry #{published.seq} is not the one published in {mail}" in out
    assert f"entry #{n} is not the one published in {unkeyed / HEADS} line 1" in out


def test_without_a_key_verify_says_what_it_cannot_detect(unkeyed: Path) -> None:
    _no_published_heads(unkeyed)
    code, out = _verify(unkeyed)
    assert code == 0, out
    assert "note: no audit key configured ([audit] key_file): without it a rewrite of the" in out
    assert "note: no published heads checked" in out


# -- setting the key up ------------------------------------------------------------------------


def test_entries_before_the_key_are_reported_not_signed_once(tmp_path: Path) -> None:
    _build(tmp_path, STORE, keyed=False)
    before = len(_trail(tmp_path))
    write_config(tmp_path, KEYED)
    result = run_cli("audit", "init-key", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"audit trail signed from entry #{before + 1} with key " in result.stdout
    assert stat.S_IMODE((tmp_path / "audit.key").stat().st_mode) == 0o600
    key = (tmp_path / "audit.key").read_text()
    again = run_cli("audit", "init-key", cwd=tmp_path)
    assert "already signed" in again.stdout and (tmp_path / "audit.key").read_text() == key
    # The daemon goes on with the key: reviews, and another escalation run.
    install(Anchor(key=read_key_file(tmp_path / "audit.key"), heads_file=tmp_path / HEADS))
    engine = store.connect(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        with engine.begin() as conn:
            act(conn, 1, "explain", "E001", "재소명", now=T0 + timedelta(days=22))
        with engine.begin() as conn:
            act(conn, 1, "accept", "E031", None, now=T0 + timedelta(days=22, hours=1))
    finally:
        engine.dispose()
        install(Anchor())
    code, out = _verify(tmp_path)
    assert code == 0, out
    note = f"note: entries #1 to #{before} were written before the audit key was set up"
    assert out.count(note) == 1 and out.count("note:") == 1, out
    # ... and an unsigned entry after the signed ones is not "written before the key".
    seq = _forge_append(tmp_path)
    code, out = _verify(tmp_path)
    assert code == 1 and f"entry #{seq} not signed, though entry #{before + 1}" in out, out


def test_the_key_may_come_from_an_environment_variable(tmp_path: Path) -> None:
    write_config(tmp_path, STORE + '\n[audit]\nkey_env = "NAEBU_TEST_AUDIT_KEY"\n')
    printed = run_cli("audit", "init-key", "--print", cwd=tmp_path)
    key = printed.stdout.strip()
    assert printed.returncode == 0 and len(key) == 64 and not (tmp_path / "audit.key").exists()
    install(Anchor(key=bytes.fromhex(key)))
    engine = store.connect(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        history(engine)
    finally:
        engine.dispose()
        install(Anchor())
    env = {"NAEBU_TEST_AUDIT_KEY": key}
    result = run_cli("audit", "verify", cwd=tmp_path, env=env)
    assert result.returncode == 0 and "signed entries (key " in result.stdout, result.stderr
    other = run_cli("audit", "verify", cwd=tmp_path, env={"NAEBU_TEST_AUDIT_KEY": "ab" * 32})
    assert other.returncode == 1 and "signature does not match" in other.stderr
    unset = run_cli("audit", "verify", cwd=tmp_path)
    assert unset.returncode == 1 and "NAEBU_TEST_AUDIT_KEY ([audit] key_env) is not set" in (
        unset.stderr
    )


def test_a_missing_key_file_is_a_located_error(tmp_path: Path) -> None:
    write_config(tmp_path, KEYED)
    code, out = _verify(tmp_path)
    assert code == 1
    assert "audit.key: audit key file not found; create it with `naebu audit init-key`" in out


def test_a_key_file_every_user_can_read_is_refused(keyed: Path) -> None:
    (keyed / "audit.key").chmod(0o644)
    code, out = _verify(keyed)
    assert code == 1 and "the audit key is readable by every user of this host" in out, out


def test_an_unknown_audit_key_is_named(tmp_path: Path) -> None:
    write_config(tmp_path, STORE + '\n[audit]\nkey_fil = "audit.key"\n')
    code, out = _verify(tmp_path)
    assert code == 1 and "audit.key_fil: unknown key - did you mean 'key_file'?" in out, out


# -- a whole city, through the command line -------------------------------------------------------


def test_no_false_alarm_after_runs_lifecycle_steps_and_escalation(tmp_path: Path) -> None:
    config = make_city(tmp_path / "city")
    create_payments(
        f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}",
        [payment(1, 5_000_000), payment(2, 1_500_000), payment(3, 10)],
    )
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[audit]\nkey_file = "audit.key"\n')
    city = config.parent

    def cli(*args: str) -> str:
        result = run_cli(*args, cwd=city)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    cli("audit", "init-key")
    cli("run", "--once", "--now", NOW.isoformat(timespec="minutes"))
    day = NOW + timedelta(days=1)
    cli("alerts", "ack", "1", "--as", "E001", "--now", day.isoformat(timespec="minutes"))
    cli(
        "alerts",
        "explain",
        "1",
        "--as",
        "E001",
        "-m",
        "정상 계약",
        "--now",
        f"{day:%Y-%m-%d}T11:00",
    )
    cli("alerts", "approve", "1", "--as", "E010")  # the department manager (조치 -> 승인)
    cli("alerts", "review", "1", "--reject", "--as", "E030", "-m", "증빙 부족")
    cli("alerts", "reassign", "2", "--to", "E010", "--as", "E010", "-m", "직접 처리")
    later = NOW + timedelta(days=30)  # past every deadline: escalations
    cli("run", "--once", "--now", later.isoformat(timespec="minutes"))
    trail = _trail(city, "var/naebu.sqlite")
    actions = [e["action"] for e in trail]
    assert {"raise", "acknowledge", "explain", "reject", "reassign", "escalate"} <= set(actions)
    out = cli("audit", "verify")
    assert f"audit trail intact: {len(trail)} entries" in out and "signed entries (key " in out
    assert "published head(s)" in out and "note:" not in out, out


# -- PostgreSQL and MariaDB ---------------------------------------------------------------------------------


@pytest.mark.parametrize("server", [pg_engine, mysql_engine], ids=["postgresql", "mariadb"])
def test_anchors_on_server_databases(server: Callable[[], ContextManager[Engine]]) -> None:
    key = secrets.token_bytes(32)
    with server() as engine:
        install(Anchor(key=key))
        try:
            history(engine)
        finally:
            install(Anchor())
        with engine.connect() as conn:
            result = verify(conn, key=key)
            n = len(entries(conn))
        assert result.ok and result.signed == n, result.problems
        with engine.begin() as conn:
            conn.execute(text("update alerts set message = '정상' where id = 2"))
            # a forged append with a correct hash, and the head moved to it
            last = entries(conn)[-1]
            forged = {
                "seq": n + 1,
                "at": datetime(2025, 4, 1, 9),
                "actor": "E030",
                "action": "note",
                "alert_id": None,
                "suppression_id": None,
                "from_status": None,
                "to_status": None,
                "comment": "점검",
                "details": None,
            }
            h = entry_hash(last["hash"], forged)
            conn.execute(
                text(
                    "insert into audit_trail (seq, at, actor, action, comment, prev_hash, hash) "
                    "values (:seq, :at, :actor, :action, :comment, :p, :h)"
                ),
                {**forged, "p": last["hash"], "h": h},
            )
            conn.execute(text("update audit_head set seq = :s, hash = :h"), {"s": n + 1, "h": h})
        with engine.connect() as conn:
            problems = verify(conn, key=key).problems
        assert any(p.startswith("alert #2: its content") for p in problems), problems
        assert any(p.startswith(f"entry #{n + 1} not signed") for p in problems), problems
        assert any("does not carry the audit key's signature" in p for p in problems), problems
