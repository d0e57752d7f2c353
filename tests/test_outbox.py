"""The outbox: digests delivered for real to a local SMTP server, a webhook and the JSONL file.

Nothing is mocked: apprise talks to aiosmtpd and to an http.server on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servers import (
    body_text,
    employees_frame,
    finding,
    outbox_rows,
    queue,
    smtp_server,
    webhook_server,
)
from sqlalchemy import Engine, update

from naebu.alerts import OUTBOX_FILE_CHANNEL, DeliveryReport, Directory, backoff, deliver_pending
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.store import tables as store

NOW = datetime(2025, 1, 24, 9, 30)


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame())


SENSITIVE = {
    "message": "수취인 주민등록번호 900101-1234567, 연락처 010-1234-5678",
    "evidence": {"payee_account": "110-123-456789", "amount": 1250000},
}


def test_outbox_file_when_no_channel(engine: Engine, directory: Directory, tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "outbox.jsonl"  # parent folders created on demand
    notify = NotifyConfig(outbox_file=path)
    assert queue(engine, directory, notify, [finding("P-1"), finding("P-2", official_id="E002")])
    report = deliver_pending(engine, notify, directory, now=NOW)
    assert report == DeliveryReport(sent=2, failed=0, retrying=0)

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["recipient"] for line in lines] == ["E001", "E010"]
    assert set(lines[0]) == {"id", "created_at", "recipient", "subject", "body"}
    assert lines[0]["subject"] == "[내부통제] 확인이 필요한 경보 1건 (재무과)"
    assert "동일 거래처 중복 지급 의심" in lines[0]["body"]
    assert lines[0]["created_at"] == "2025-01-24T09:30:00"
    rows = outbox_rows(engine)
    assert {(r.channel, r.status, r.attempts) for r in rows} == {(OUTBOX_FILE_CHANNEL, "sent", 1)}
    assert all(r.sent_at == NOW for r in rows)

    # Nothing left to send: a second call sends nothing and the file does not grow.
    assert deliver_pending(engine, notify, directory, now=NOW).attempted == 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_one_message_at_most_between_claim_and_record(
    engine: Engine, directory: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A row is claimed in the commit that records the row before it: while any message is
    # being sent, it is the only row "sending", those before it are recorded, those after
    # untouched; a crash then leaves one message unaccounted for, as with a commit each.
    notify = NotifyConfig(outbox_file=tmp_path / "outbox.jsonl")
    for i in range(5):  # a digest each
        queue(engine, directory, notify, [finding(f"P-{i}")])
    import naebu.alerts.outbox as outbox_module

    real = outbox_module.send_one
    seen: list[list[str]] = []
    third = outbox_rows(engine)[2].id

    def sending(row: Any, *args: Any) -> Any:
        seen.append([r.status for r in outbox_rows(engine)])
        if len(seen) == 1:  # another process changes the third row meanwhile
            with engine.begin() as conn:
                changed = update(store.outbox).where(store.outbox.c.id == third)
                conn.execute(changed.values(attempts=9))
        return real(row, *args)

    monkeypatch.setattr(outbox_module, "send_one", sending)
    rows = outbox_rows(engine)
    assert len(rows) >= 4
    report = deliver_pending(engine, notify, directory, now=NOW)
    assert report.sent == len(rows) - 1  # the third was changed by someone else: skipped
    for statuses in seen:
        assert statuses.count("sending") == 1, statuses
        current = statuses.index("sending")
        assert set(statuses[:current]) <= {"sent", "pending"}, statuses
        assert set(statuses[current + 1 :]) == {"pending"} or current == len(statuses) - 1
    assert [r.status for r in outbox_rows(engine)].count("pending") == 1


def test_smtp_delivery_in_korean_and_masked(
    engine: Engine, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    with smtp_server() as smtp:
        url = (
            f"mailto://127.0.0.1:{smtp.port}?from=naebu@demo.naebu.local&to={{email}}&mode=insecure"
        )
        notify = NotifyConfig(channels=[ChannelConfig("mail", url)], timeout_seconds=10)
        findings = [
            finding("P-1", **SENSITIVE),  # type: ignore[arg-type]
            finding("P-2"),
            finding("P-3", official_id="E002"),  # retired: goes to 최재원 과장
        ]
        assert queue(engine, directory, notify, findings) == 2
        with caplog.at_level(logging.DEBUG):
            report = deliver_pending(engine, notify, directory, now=NOW)
        assert report == DeliveryReport(sent=2, failed=0, retrying=0), outbox_rows(engine)

        (kim,) = smtp.to("kim@demo.naebu.local")
        (choi,) = smtp.to("choi@demo.naebu.local")
    assert len(smtp.messages) == 2
    assert kim["Subject"] == "[내부통제] 확인이 필요한 경보 2건 (재무과)"
    assert choi["Subject"] == "[내부통제] 확인이 필요한 경보 1건 (재무과)"
    body = body_text(kim)
    assert "김민수 주무관 님께" in body
    assert "동일 거래처 중복 지급 의심 (R-PAY-DUP)" in body
    assert "처리 기한: 2025-02-04" in body
    assert "조치 또는 소명은 기한 내에 처리" in body
    assert "900101-1******" in body and "900101-1234567" not in body
    assert "010-****-5678" in body and "1234-5678" not in body
    assert "채주 계좌번호: ***-***-**6789" in body and "123-456789" not in body
    assert "P-3" in body_text(choi)
    # Our logs and apprise's name the channel and never show a body (aiosmtpd's own debug
    # log, the "server side", is left out).
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("naebu.alerts", "apprise"))
    )
    assert "via mail" in ours
    assert "900101" not in ours and "님께" not in ours


def test_webhook_delivery(engine: Engine, directory: Directory) -> None:
    with webhook_server() as hook:
        notify = NotifyConfig(channels=[ChannelConfig("audit", hook.url("/hook"))])
        queue(
            engine,
            directory,
            notify,
            [finding("P-1"), finding("C-1", department="회계과", official_id=None)],
        )
        report = deliver_pending(engine, notify, directory, now=NOW)
    assert report.sent == 2
    assert hook.paths == ["/hook", "/hook"]
    titles = sorted(p["title"] for p in hook.posts)
    assert titles == [
        "[내부통제] 확인이 필요한 경보 1건 (재무과)",
        "[내부통제] 확인이 필요한 경보 1건 (회계과)",
    ]
    assert any("정수진 팀장 님께" in p["message"] for p in hook.posts)


def test_webhook_down_then_back(engine: Engine, directory: Directory) -> None:
    notify = NotifyConfig(retry_base_seconds=60, max_attempts=5, timeout_seconds=10)
    with webhook_server() as hook:
        notify.channels = [ChannelConfig("audit", hook.url())]
        queue(engine, directory, notify, [finding("P-1")])
        hook.fail = True
        assert deliver_pending(engine, notify, directory, now=NOW) == DeliveryReport(retrying=1)
        (row,) = outbox_rows(engine)
        assert (row.status, row.attempts) == ("retrying", 1)
        assert row.next_attempt_at == NOW + timedelta(seconds=60)
        assert row.last_error and row.last_error.startswith("FAILURE")

        # Not due yet: untouched even though the server is back.
        hook.fail = False
        assert (
            deliver_pending(engine, notify, directory, now=NOW + timedelta(seconds=30)).attempted
            == 0
        )
        assert hook.posts == []

        # Down again at the next attempt: the wait doubles.
        hook.fail = True
        later = NOW + timedelta(seconds=60)
        assert deliver_pending(engine, notify, directory, now=later).retrying == 1
        (row,) = outbox_rows(engine)
        assert row.attempts == 2 and row.next_attempt_at == later + timedelta(seconds=120)

        hook.fail = False
        latest = later + timedelta(seconds=120)
        assert deliver_pending(engine, notify, directory, now=latest) == DeliveryReport(sent=1)
        assert (
            deliver_pending(engine, notify, directory, now=latest + timedelta(days=1)).attempted
            == 0
        )
    assert hook.refused == 2
    assert len(hook.posts) == 1  # delivered once, nothing sent twice
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 3, latest, None)


def test_gives_up_after_max_attempts(engine: Engine, directory: Directory) -> None:
    notify = NotifyConfig(retry_base_seconds=1, max_attempts=2)
    with webhook_server() as hook:
        notify.channels = [ChannelConfig("audit", hook.url())]
        queue(engine, directory, notify, [finding("P-1")])
        hook.fail = True
        assert deliver_pending(engine, notify, directory, now=NOW).retrying == 1
        # Within [notify] give_up_hours (72) it is still retried, every slow_retry_minutes.
        report = deliver_pending(engine, notify, directory, now=NOW + timedelta(hours=1))
        assert report == DeliveryReport(retrying=1)
        report = deliver_pending(engine, notify, directory, now=NOW + timedelta(hours=73))
    assert report == DeliveryReport(failed=1)
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)


def test_unparseable_url_fails_naming_the_channel(engine: Engine, directory: Directory) -> None:
    notify = NotifyConfig(channels=[ChannelConfig("messenger", "nosuchscheme://token@somewhere")])
    queue(engine, directory, notify, [finding("P-1")])
    assert deliver_pending(engine, notify, directory, now=NOW) == DeliveryReport(failed=1)
    (row,) = outbox_rows(engine)
    assert row.status == "failed" and row.attempts == 1
    assert "channel messenger" in row.last_error and "nosuchscheme" in row.last_error
    assert "token" not in row.last_error


def test_secrets_stay_out_of_logs_and_store(
    engine: Engine, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    with webhook_server() as hook:
        url = f"json://naebu:s3cretpass@127.0.0.1:{hook.port}/hook"
        notify = NotifyConfig(channels=[ChannelConfig("audit", url)], retry_base_seconds=1)
        queue(engine, directory, notify, [finding("P-1")])
        hook.fail = True
        with caplog.at_level(logging.DEBUG):
            deliver_pending(engine, notify, directory, now=NOW)
            hook.fail = False
            deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=1))
    assert len(hook.posts) == 1
    assert "s3cretpass" not in caplog.text
    # Shown masked (apprise's privacy form: *** or ****, by the line that logs it).
    assert re.search(r"json://naebu:\*{3,}@127\.0\.0\.1", caplog.text), caplog.text
    for row in outbox_rows(engine):
        assert "s3cretpass" not in repr(tuple(row))


def test_address_fixed_in_directory_is_used_on_retry(engine: Engine, directory: Directory) -> None:
    with smtp_server() as smtp:
        url = smtp.url(to="{email}")
        notify = NotifyConfig(channels=[ChannelConfig("mail", url)])
        queue(engine, directory, notify, [finding("T-1", department="세무과", official_id="E040")])
        (row,) = outbox_rows(engine)
        assert row.status == "failed"  # 윤서연 has no address yet
        # The directory is corrected and an operator requeues the message.
        frame = employees_frame()
        frame.loc[frame["employee_id"] == "E040", "email"] = "yoon@demo.naebu.local"
        fixed = Directory.from_frame(frame)
        with engine.begin() as conn:
            conn.execute(update(store.outbox).values(status="pending", next_attempt_at=NOW))
        assert deliver_pending(engine, notify, fixed, now=NOW).sent == 1
    (mail,) = smtp.to("yoon@demo.naebu.local")
    assert mail["Subject"] == "[내부통제] 확인이 필요한 경보 1건 (세무과)"


def test_backoff_is_capped() -> None:
    assert backoff(1, 60) == timedelta(seconds=60)
    assert backoff(3, 60) == timedelta(seconds=240)
    assert backoff(20, 60) == timedelta(hours=6)


# -- a message stuck in "sending": the send went out, the process died before recording it -----


class _HangingHook:
    """A webhook that records each post, then holds its answer until released."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.posts: list[dict[str, Any]] = []
        self.received = threading.Event()
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.posts.append(json.loads(raw.decode("utf-8")))
                hook.received.set()
                hook.release.wait(60)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the sender is gone

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_message_stuck_in_sending_waits_for_an_operator(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from conftest import run_cli
    from minicity import create_payments, make_city, payment, query, run

    from naebu.alerts.trail import verify
    from naebu.settings.config import load_config

    config = make_city(tmp_path / "city")
    create_payments(f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}", [payment(1, 5_000_000)])
    hook = _HangingHook()
    try:
        with config.open("a", encoding="utf-8") as fh:
            fh.write(f'channels = [{{ name = "hook", url = "{hook.url}" }}]\ntimeout_seconds = 5\n')
        # The first run sends its first digest; the webhook gets it and the process is killed
        # before it hears back: the message went out, its outcome was never written.
        child = subprocess.Popen(
            [sys.executable, "-m", "naebu.cli", "run", "--once", "--config", str(config)],
            cwd=config.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert hook.received.wait(120), "the first digest reached the webhook"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        hook.release.set()
        rows = query(config, "SELECT id, status, last_error FROM outbox ORDER BY id")
        assert [r[1] for r in rows] == ["sending", "pending", "pending"]
        stuck_id = rows[0][0]
        assert str(rows[0][2]).endswith(f", pid {child.pid}")

        listed = run_cli("outbox", "list", "--stuck", "--config", str(config), cwd=config.parent)
        assert listed.returncode == 0, listed.stderr
        assert f"#{stuck_id} " in listed.stdout
        assert f"pid {child.pid} (not running)" in listed.stdout
        assert "1 message(s) stuck in sending" in listed.stdout

        # The next run delivers the rest and leaves the stuck one alone: nothing sent twice.
        later = datetime.now().replace(microsecond=0) + timedelta(minutes=1)  # the CLI's clock
        assert run(config, now=later).sent == 2
        assert len(hook.posts) == 3
        greetings = {str(p.get("message", "")).split(" 님께", 1)[0] for p in hook.posts}
        assert greetings == {"김담당", "이과장", "박감사"}  # each recipient's digest once
        statuses = [r[0] for r in query(config, "SELECT status FROM outbox ORDER BY id")]
        assert statuses == ["sending", "sent", "sent"]

        # A decision needs --delivered or --resend and a reason; a message not stuck is refused.
        bad = run_cli(
            "outbox", "resolve", str(stuck_id), "--as", "ops-kim", "--reason", "확인",
            "--config", str(config), cwd=config.parent,
        )  # fmt: skip
        assert bad.returncode == 1 and "--delivered" in bad.stderr and "Traceback" not in bad.stderr

        # The webhook's log shows it arrived: the operator records it as sent.
        done = run_cli(
            "outbox", "resolve", str(stuck_id), "--sent", "--as", "ops-kim",
            "--reason", "웹훅 수신 기록에서 확인", "--config", str(config), cwd=config.parent,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "recorded as sent" in done.stdout
        assert run(config, now=later + timedelta(hours=1)).sent == 0
        assert len(hook.posts) == 3  # never sent again
        trail = query(
            config,
            "SELECT actor, comment, details FROM audit_trail WHERE action = 'outbox_resolve'",
        )
        assert len(trail) == 1 and trail[0][:2] == ("ops-kim", "웹훅 수신 기록에서 확인")
        assert json.loads(str(trail[0][2]))["decision"] == "sent"
        engine = store.connect(load_config(config).store_url)
        with engine.connect() as conn:
            assert verify(conn).ok
        engine.dispose()
    finally:
        hook.close()


def test_resolve_retry_sends_once_more_and_refuses_a_live_sender(
    engine: Engine, directory: Directory
) -> None:
    import subprocess

    from naebu.alerts.stuck import ResolveError, claim_note, resolve_stuck, stuck_rows
    from naebu.alerts.trail import entries, verify

    notify = NotifyConfig(retry_base_seconds=1)
    with webhook_server() as hook:
        notify.channels = [ChannelConfig("hook", hook.url())]
        queue(engine, directory, notify, [finding("P-1")])
        first = outbox_rows(engine)[0]
        # Claimed by this (running) process: it may be sending right now.
        with engine.begin() as conn:
            conn.execute(
                update(store.outbox)
                .where(store.outbox.c.id == first.id)
                .values(status="sending", last_error=claim_note())
            )
        (stuck,) = stuck_rows(engine)
        assert stuck.in_flight and "(still running)" in stuck.sender
        with pytest.raises(ResolveError, match="may be being sent now"):
            resolve_stuck(engine, first.id, sent=False, actor="ops", reason="재발송", now=NOW)
        assert (
            deliver_pending(engine, notify, directory, now=NOW).sent == len(outbox_rows(engine)) - 1
        )
        # The same claim by a process that has ended.
        ended = subprocess.Popen(["true"])
        ended.wait()
        dead = claim_note().rsplit(", pid ", 1)[0] + f", pid {ended.pid}"
        with engine.begin() as conn:
            conn.execute(
                update(store.outbox).where(store.outbox.c.id == first.id).values(last_error=dead)
            )
        with pytest.raises(ResolveError, match="is not stuck in sending"):
            resolve_stuck(engine, first.id + 1, sent=True, actor="ops", reason="확인", now=NOW)
        with pytest.raises(ResolveError, match="a reason is required"):
            resolve_stuck(engine, first.id, sent=False, actor="ops", reason=" ", now=NOW)
        before = len(hook.posts)
        status = resolve_stuck(
            engine, first.id, sent=False, actor="ops", reason="메일 서버 기록에 없음", now=NOW
        )
        assert status == "retrying"
        report = deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=1))
        assert report.sent == 1 and len(hook.posts) == before + 1
        again = deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
        assert again.attempted == 0
    with engine.connect() as conn:
        (entry,) = [e for e in entries(conn) if e["action"] == "outbox_resolve"]
        assert entry["details"]["decision"] == "retry" and entry["actor"] == "ops"
        assert verify(conn).ok
