"""The outbox: digests delivered for real to a local SMTP server, a webhook and the JSONL file.

Nothing is mocked: apprise talks to aiosmtpd and to an http.server on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servers import (
    body_text,
    employees_frame,
    finding,
    sample_rules,
    smtp_server,
    webhook_server,
)
from sqlalchemy import Engine, select, update

from alerts import (
    OUTBOX_FILE_CHANNEL,
    DeliveryReport,
    Directory,
    backoff,
    deliver_pending,
    queue_digests,
    raise_alerts,
)
from naebu import store
from naebu.config import ChannelConfig, NotifyConfig

NOW = datetime(2025, 1, 24, 9, 30)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    yield eng
    eng.dispose()


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame())


def queue(engine: Engine, directory: Directory, notify: NotifyConfig, findings: list[Any]) -> int:
    """Raise ``findings`` and queue their digests, in one transaction like a run does."""
    with engine.begin() as conn:
        run_id = conn.execute(
            store.runs.insert().values(started_at=NOW, status="running").returning(store.runs.c.id)
        ).scalar_one()
        ids = raise_alerts(conn, findings, sample_rules(), directory, run_id=run_id, now=NOW)
        return queue_digests(conn, ids, directory, notify, run_id=run_id, now=NOW)


def outbox_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(store.outbox).order_by(store.outbox.c.id)))


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
    assert "payee_account: ***-***-**6789" in body and "123-456789" not in body
    assert "P-3" in body_text(choi)
    # Our logs and apprise's name the channel and never show a body (aiosmtpd's own debug
    # log, the "server side", is left out).
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("alerts", "apprise")
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
        report = deliver_pending(engine, notify, directory, now=NOW + timedelta(hours=1))
    assert report == DeliveryReport(failed=1)
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 2, None)


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
    assert "json://naebu:****@127.0.0.1" in caplog.text
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
