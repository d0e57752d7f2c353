"""Issue 17, points 5, 6 and 11: stuck messages, a hung mail server, a killed run's ledger row.

5. A message left ``sending`` by a crash waited for an operator nobody called: now the admins
   are told once, and ``outbox list --stuck`` / ``resolve --delivered|--resend`` make the
   decision easy (who, what, where to look) and audited.
6. A hung SMTP server (accepts, never answers) cost one timeout per message, the daemon's run
   lock held all along: now one timeout per pass and channel; a pass can stop and give up a
   hung send (the daemon's SIGTERM: tests/test_daemon_shutdown.py).
11. A killed ``run --once`` stayed ``running`` in the ledger for ever: now ``naebu status``
   and the next run mark it ``abandoned``.

Real servers throughout: aiosmtpd, a TCP server that never answers, http.server webhooks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from minicity import create_payments, make_city, payment, query, run
from servers import (
    employees_frame,
    finding,
    hung_smtp_server,
    outbox_rows,
    queue,
    webhook_server,
)
from sqlalchemy import Engine, update
from test_outbox import _HangingHook

from naebu.alerts import Directory, deliver_pending
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.stuck import stuck_rows, where_to_look
from naebu.store import tables as store

NOW = datetime(2025, 1, 24, 9, 30)


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame())


def _findings(n: int) -> list[object]:
    # One digest per official: spread the findings over active officials with an address.
    officials = [("E001", "재무과"), ("E010", "재무과"), ("E020", "회계과"), ("E030", "감사실")]
    return [
        finding(f"P-{i}", official_id=official, department=department)
        for i, (official, department) in ((i, officials[i % len(officials)]) for i in range(n))
    ]


# -- 6. a hung server costs one timeout per pass, not one per message -------------------------


def test_a_hung_smtp_server_costs_one_timeout_per_pass(
    engine: Engine, directory: Directory
) -> None:
    with hung_smtp_server() as hung:
        notify = NotifyConfig(
            channels=[ChannelConfig("mail", hung.url(to="{email}"))], timeout_seconds=2
        )
        queued = queue(engine, directory, notify, _findings(12))
        due = [r for r in outbox_rows(engine) if r.status == "pending"]
        assert queued >= 4 and len(due) >= 4
        import apprise  # noqa: F401 - loaded before the clock starts (a loaded machine is slow)

        started = time.monotonic()
        report = deliver_pending(engine, notify, directory, now=NOW)
        took = time.monotonic() - started
        # Before: one timeout per message (len(due) * 2 s), the run lock held throughout.
        assert took < 2 * notify.timeout_seconds, f"{took:.1f}s for {len(due)} messages"
        assert hung.connections == 1
    assert report.sent == 0 and report.retrying == len(due) and report.not_tried == len(due) - 1
    rows = {r.id: r for r in outbox_rows(engine)}
    first, *rest = sorted(r.id for r in due)
    assert "TIMEOUT" in rows[first].last_error
    for row_id in rest:  # not tried, but an attempt all the same: the same back-off as a timeout
        row = rows[row_id]
        assert row.status == "retrying" and row.attempts == 1
        assert f"did not answer outbox #{first} within 2s" in row.last_error
        assert row.next_attempt_at == NOW + timedelta(seconds=notify.retry_base_seconds)
    assert stuck_rows(engine) == []  # nothing left claimed


def test_a_pass_stops_when_asked_and_gives_up_a_hung_send(
    engine: Engine, directory: Directory
) -> None:
    with hung_smtp_server() as hung:
        # A send waits up to 60 s; the pass must be done 1.5 s from now (a shutdown).
        notify = NotifyConfig(
            channels=[ChannelConfig("mail", hung.url(to="{email}"))], timeout_seconds=60
        )
        queue(engine, directory, notify, _findings(6))
        due = [r for r in outbox_rows(engine) if r.status == "pending"]
        # Asked to stop before it starts: nothing is claimed, nothing sent.
        report = deliver_pending(engine, notify, directory, now=NOW, should_stop=lambda: True)
        assert report.attempted == 0 and report.left == len(due) and hung.connections == 0
        # No message starts that could not end by the deadline (60 s timeout, 30 s left).
        deadline = time.monotonic() + 30
        report = deliver_pending(engine, notify, directory, now=NOW, abandon_at=lambda: deadline)
        assert report.attempted == 0 and report.left == len(due) and hung.connections == 0

        # A deadline set while a send hangs (SIGTERM): the send is given up at the deadline.
        limit: list[float] = []
        started = time.monotonic()

        def abandon_at() -> float | None:
            if not limit and hung.connections:  # the first send is on: the signal comes
                limit.append(time.monotonic() + 1.0)
            return limit[0] if limit else None

        report = deliver_pending(engine, notify, directory, now=NOW, abandon_at=abandon_at)
        took = time.monotonic() - started
    assert took < 4, f"{took:.1f}s"
    assert report.abandoned == 1 and report.attempted == 0 and "sending" in str(report.stopped)
    (stuck,) = stuck_rows(engine)
    assert stuck.id == min(r.id for r in due)
    assert stuck.abandoned and "without an answer" in stuck.abandoned
    assert stuck.in_flight  # this process claimed it and still runs
    where = where_to_look(stuck, notify, directory)
    assert where.startswith("the mail server's log (mailto://127.0.0.1:")
    official = directory.get(stuck.recipient)
    assert official is not None and official.email
    assert f"a message to {official.email} around {stuck.since}" in where
    others = [r for r in outbox_rows(engine) if r.id != stuck.id and r.id in {d.id for d in due}]
    assert {r.status for r in others} == {"pending"}  # untouched, due for the next pass


# -- 5 and 11: a killed run --once: its ledger row, its stuck message, the admins, the decision --


def test_a_killed_run_once_is_marked_abandoned_and_its_stuck_message_told_to_the_admins(
    tmp_path: Path,
) -> None:
    config = make_city(tmp_path / "city")
    create_payments(f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}", [payment(1, 5_000_000)])
    hook = _HangingHook()
    try:
        with webhook_server() as admin_hook:
            with config.open("a", encoding="utf-8") as fh:
                fh.write(
                    f'channels = [{{ name = "hook", url = "{hook.url}" }}]\n'
                    f'timeout_seconds = 5\nadmins = ["{admin_hook.url("/ops")}"]\n'
                )
            child = subprocess.Popen(
                [sys.executable, "-m", "naebu.cli", "run", "--once", "--config", str(config)],
                cwd=config.parent,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            assert hook.received.wait(120), "the first digest reached the webhook"
            os.kill(child.pid, signal.SIGKILL)  # mid-run: sending its first digest
            child.wait(30)
            hook.release.set()
            assert query(config, "SELECT status FROM runs") == [("running",)]

            # 11. naebu status does not show a dead run as running: it marks it.
            status = run_cli("status", "--config", str(config), cwd=config.parent)
            assert status.returncode == 0, status.stderr
            (ledger,) = query(config, "SELECT status, error FROM runs")
            assert ledger[0] == "abandoned" and f"pid {child.pid}" in str(ledger[1])

            rows = query(config, "SELECT id, status, subject FROM outbox ORDER BY id")
            stuck_id, _, digest_subject = rows[0]
            assert rows[0][1] == "sending"

            # 5. The next run tells the admins, once, in Korean without a column name.
            later = datetime.now().replace(microsecond=0) + timedelta(minutes=1)
            run(config, now=later)
            notices = [p for p in admin_hook.posts if "발송 여부 확인" in str(p.get("title"))]
            assert len(notices) == 1, admin_hook.posts
            title, body = str(notices[0]["title"]), str(notices[0]["message"])
            assert title == "[내부통제 운영] 발송 여부 확인 필요 1건"
            assert f"발송 번호 {stuck_id}: 김담당 앞 「{digest_subject}」" in body
            assert f"naebu outbox resolve {stuck_id} --delivered" in body
            assert f"naebu outbox resolve {stuck_id} --resend" in body
            for raw in ("sending", "last_error", "status", "None", "pid"):
                assert raw not in body, raw
            run(config, now=later + timedelta(minutes=5))
            again = [p for p in admin_hook.posts if "발송 여부 확인" in str(p.get("title"))]
            assert len(again) == 1, "told twice"

            # The listing says who, what, when and where to look.
            listed = run_cli(
                "outbox", "list", "--stuck", "--config", str(config), cwd=config.parent
            )
            assert listed.returncode == 0, listed.stderr
            out = listed.stdout
            assert f"#{stuck_id} to 김담당 (E001) via hook: {digest_subject}" in out
            assert f"pid {child.pid} (not running)" in out
            port = hook.url.rsplit(":", 1)[1].split("/")[0]
            assert f"look in the receiving service's log (json://127.0.0.1:{port}" in out
            assert "the admins were told" in out

            # The webhook's log shows nothing: the operator has it sent again, audited.
            before = len(hook.posts)
            done = run_cli(
                "outbox", "resolve", str(stuck_id), "--resend", "--as", "ops-kim",
                "--reason", "웹훅 수신 기록 없음", "--config", str(config), cwd=config.parent,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert "queued to be sent again" in done.stdout
            run(config, now=later + timedelta(minutes=10))
            assert len(hook.posts) == before + 1
            (entry,) = query(
                config, "SELECT details FROM audit_trail WHERE action = 'outbox_resolve'"
            )
            details = json.loads(str(entry[0]))
            assert details["decision"] == "retry" and details["outbox_id"] == stuck_id
    finally:
        hook.close()


def test_the_next_run_marks_a_dead_runs_ledger_row(tmp_path: Path) -> None:
    config = make_city(tmp_path / "city")
    create_payments(f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}", [payment(1, 5_000_000)])
    run(config)
    ended = subprocess.Popen(["true"])
    ended.wait()
    engine = store.connect(f"sqlite:///{tmp_path / 'city' / 'var' / 'naebu.sqlite'}")
    try:
        import socket

        with engine.begin() as conn:
            conn.execute(
                store.runs.insert().values(
                    started_at=datetime(2025, 7, 1, 8, 0),
                    status="running",
                    summary={"host": socket.gethostname(), "pid": ended.pid},
                )
            )
            # Another host's run cannot be checked from here: left alone.
            conn.execute(
                store.runs.insert().values(
                    started_at=datetime(2025, 7, 1, 8, 1),
                    status="running",
                    summary={"host": "elsewhere.example", "pid": ended.pid},
                )
            )
    finally:
        engine.dispose()
    run(config, now=datetime(2025, 7, 1, 10, 0))
    statuses = [r[0] for r in query(config, "SELECT status FROM runs ORDER BY id")]
    assert statuses == ["ok", "abandoned", "running", "ok"]


def test_a_stuck_message_is_told_once_and_not_while_its_sender_runs(
    engine: Engine, directory: Directory
) -> None:
    from naebu.alerts.stuck import claim_note

    notify = NotifyConfig(admins=["E030"], language="en")
    queue(engine, directory, notify, [finding("P-1")])
    first = outbox_rows(engine)[0]
    with engine.begin() as conn:  # claimed by this process: it may be sending right now
        conn.execute(
            update(store.outbox)
            .where(store.outbox.c.id == first.id)
            .values(status="sending", last_error=claim_note())
        )
    deliver_pending(engine, notify, directory, now=NOW)
    assert not [r for r in outbox_rows(engine) if "may not have arrived" in r.subject]
    ended = subprocess.Popen(["true"])
    ended.wait()
    dead = claim_note().rsplit(", pid ", 1)[0] + f", pid {ended.pid}"
    with engine.begin() as conn:
        conn.execute(
            update(store.outbox).where(store.outbox.c.id == first.id).values(last_error=dead)
        )
    deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=1))
    deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=2))
    told = [r for r in outbox_rows(engine) if "may not have arrived" in r.subject]
    assert [r.subject for r in told] == ["[naebu operations] 1 message(s) may not have arrived"]
    assert told[0].recipient == "E030"
    (stuck,) = stuck_rows(engine)
    assert stuck.told and not stuck.in_flight

    # A claim by another host cannot be checked from here: a recent one may be in flight.
    from naebu.alerts.stuck import ResolveError, resolve_stuck

    since = datetime.now().replace(microsecond=0)
    elsewhere = f"sending since {since.isoformat(sep=' ')} on other-host, pid 1"
    with engine.begin() as conn:
        conn.execute(
            update(store.outbox).where(store.outbox.c.id == first.id).values(last_error=elsewhere)
        )
    (stuck,) = stuck_rows(engine)
    assert stuck.in_flight
    with pytest.raises(ResolveError, match="was claimed on other-host .* decide after"):
        resolve_stuck(engine, first.id, sent=True, actor="ops", reason="확인", now=NOW)
    old = elsewhere.replace(
        since.isoformat(sep=" "), (since - timedelta(hours=1)).isoformat(sep=" ")
    )
    with engine.begin() as conn:
        conn.execute(
            update(store.outbox).where(store.outbox.c.id == first.id).values(last_error=old)
        )
    assert resolve_stuck(engine, first.id, sent=True, actor="ops", reason="확인", now=NOW) == "sent"
