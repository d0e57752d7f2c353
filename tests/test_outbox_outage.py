"""A long outage of the mail server loses nothing (issue 17, point 1).

Before: after ``max_attempts`` (8, the last about two hours after the first) a message was
``failed``, never retried, nobody told; a mail server down for two hours lost every digest.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from servers import (
    body_text,
    employees_frame,
    finding,
    free_port,
    outbox_rows,
    queue,
    smtp_server,
)
from sqlalchemy import Engine

from naebu.alerts import Directory, deliver_pending
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.stuck import ResolveError, retry_failed
from naebu.alerts.trail import entries, verify
from naebu.settings.config import load_config
from naebu.store import tables as store

NOW = datetime(2025, 1, 24, 9, 30)


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame())


def mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=naebu@demo.naebu.local&to={{email}}&mode=insecure"


def test_a_24_hour_smtp_outage_delivers_everything_exactly_once(
    engine: Engine, directory: Directory
) -> None:
    _outage_of_24_hours(engine, directory)


def test_a_24_hour_smtp_outage_on_postgresql(directory: Directory) -> None:
    from servers import pg_engine

    with pg_engine() as engine:
        _outage_of_24_hours(engine, directory)


def _outage_of_24_hours(engine: Engine, directory: Directory) -> None:
    port = free_port()  # nobody listens: connection refused, as when the mail server is down
    notify = NotifyConfig(channels=[ChannelConfig("mail", mail_url(port))], admins=["E030"])
    queued = queue(
        engine,
        directory,
        notify,
        [finding("P-1"), finding("P-2", department="회계과", official_id="E020")],
    )
    assert queued >= 2
    # The daemon flushes every few minutes; the clock is stepped through 24 hours.
    at = NOW
    while at < NOW + timedelta(hours=24):
        if at == NOW + timedelta(hours=1):  # a later run queues more during the outage
            queued += queue(engine, directory, notify, [finding("P-3")])
        report = deliver_pending(engine, notify, directory, now=at)
        assert report.sent == 0 and report.failed == 0
        at += timedelta(minutes=10)
    rows = outbox_rows(engine)
    assert {r.status for r in rows} == {"retrying"}, [(r.id, r.status) for r in rows]
    # The admins heard of the failing channel, once for both batches (their notice waits for
    # the same server).
    notices = [r for r in rows if r.subject.startswith("[내부통제 운영]")]
    assert len(notices) == 1 and "mail" in notices[0].subject
    assert "naebu outbox retry --failed" in notices[0].body
    # The mail server is back: within the slow retry interval everything goes, once.
    with smtp_server(port=port) as smtp:
        for _ in range(7):
            deliver_pending(engine, notify, directory, now=at)
            at += timedelta(minutes=10)
        rows = outbox_rows(engine)
        assert {r.status for r in rows} == {"sent"}
        assert len(smtp.messages) == len(rows) == queued + 1
        received = [(str(m["Subject"]), " ".join(body_text(m).split())) for m in smtp.messages]
        for row in rows:  # each message arrived exactly once
            count = received.count((row.subject, " ".join(row.body.split())))
            assert count == 1, (row.id, row.subject, count)


def test_given_up_after_the_horizon_then_requeued_by_command(
    engine: Engine, directory: Directory
) -> None:
    port = free_port()
    notify = NotifyConfig(
        channels=[ChannelConfig("mail", mail_url(port))], give_up_hours=6, slow_retry_minutes=30
    )
    queued = queue(engine, directory, notify, [finding("P-1")])
    at = NOW
    while at < NOW + timedelta(hours=8):
        deliver_pending(engine, notify, directory, now=at)
        at += timedelta(minutes=15)
    rows = outbox_rows(engine)
    assert [r.status for r in rows] == ["failed"] * queued
    with pytest.raises(ResolveError, match="reason"):
        retry_failed(engine, channel=None, actor="ops-kim", reason=" ", now=at)
    assert retry_failed(engine, channel="webhook", actor="ops-kim", reason="x", now=at) == []
    ids = retry_failed(engine, channel="mail", actor="ops-kim", reason="메일 서버 복구", now=at)
    assert ids == [r.id for r in rows]
    with smtp_server(port=port) as smtp:
        assert deliver_pending(engine, notify, directory, now=at).sent == queued
        assert deliver_pending(engine, notify, directory, now=at + timedelta(hours=1)).sent == 0
        assert len(smtp.messages) == queued
    with engine.connect() as conn:
        (entry,) = [e for e in entries(conn) if e["action"] == "outbox_retry"]
        assert (entry["actor"], entry["comment"]) == ("ops-kim", "메일 서버 복구")
        details = entry["details"]
        details = details if isinstance(details, dict) else json.loads(details)
        assert details["outbox_ids"] == ids and details["channel"] == "mail"
        assert verify(conn).ok


def test_outbox_retry_command(tmp_path: Path) -> None:
    from conftest import run_cli
    from minicity import make_city, query

    config = make_city(tmp_path / "city")
    cwd = config.parent
    engine = store.connect(load_config(config).store_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                store.outbox.insert().values(
                    recipient="E001", channel="mail", subject="s", body="b", status="failed",
                    attempts=8, created_at=NOW, last_error="ConnectionRefusedError",
                )
            )  # fmt: skip
    finally:
        engine.dispose()
    no_flag = run_cli("outbox", "retry", "--as", "ops-kim", "--reason", "r", cwd=cwd)
    assert no_flag.returncode == 1 and "--failed" in no_flag.stderr
    assert "Traceback" not in no_flag.stderr
    none = run_cli(
        "outbox", "retry", "--failed", "--channel", "hook", "--as", "ops-kim", "--reason", "r",
        cwd=cwd,
    )  # fmt: skip
    assert none.returncode == 0 and "nothing re-queued" in none.stdout
    done = run_cli(
        "outbox", "retry", "--failed", "--as", "ops-kim", "--reason", "메일 서버 복구", cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    assert "1 failed message(s) queued" in done.stdout
    assert query(config, "SELECT status, attempts FROM outbox") == [("retrying", 0)]
    trail = query(config, "SELECT actor, comment FROM audit_trail WHERE action = 'outbox_retry'")
    assert trail == [("ops-kim", "메일 서버 복구")]


def test_the_retry_horizon_is_checked(tmp_path: Path) -> None:
    from conftest import write_config

    from naebu.core.problems import ProblemsError

    path = write_config(tmp_path, '[notify]\ngive_up_hours = "3 days"\nslow_retry_minutes = 0\n')
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    assert "notify.give_up_hours" in str(caught.value)
    assert "notify.slow_retry_minutes" in str(caught.value)
    good = write_config(tmp_path, "[notify]\ngive_up_hours = 24\nslow_retry_minutes = 15\n")
    notify = load_config(good).notify
    assert (notify.give_up_hours, notify.slow_retry_minutes) == (24.0, 15.0)
    assert NotifyConfig().give_up_hours == 72.0
