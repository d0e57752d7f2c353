"""Faults while delivering: each ends with every message delivered once - none lost, none twice.

Real servers and a real store, nothing mocked but the moment a fault strikes:

- SMTP refuses the connection (nobody listens), or accepts it and never answers (a timeout);
- the webhook answers 500, or hangs past ``notify.timeout_seconds``;
- the store is locked by another writer (SQLite busy) before a send and after a send;
- the disk holding the store is full (a 16 MB tmpfs filled up) before a send and after one.

After each fault clears, the next delivery passes send what was left, and the test counts
what the servers received against the outbox rows.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from servers import finding, free_port, smtp_server, webhook_server
from sqlalchemy import Engine, event
from test_outbox import NOW, outbox_rows, queue

import naebu.alerts.outbox as outbox_module
from naebu.alerts import Directory, deliver_pending
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.store import tables as store

FINDINGS = [finding("P-1"), finding("C-1", department="회계과", official_id=None)]


def _assert_all_sent_once(engine: Engine, received: int) -> None:
    rows = outbox_rows(engine)
    assert rows and all(r.status == "sent" for r in rows), [(r.id, r.status) for r in rows]
    assert received == len(rows), f"{received} received for {len(rows)} messages"


# -- SMTP --------------------------------------------------------------------------------------


def test_smtp_refused_then_back(engine: Engine, directory: Directory) -> None:
    port = free_port()  # nobody listens: connection refused
    notify = NotifyConfig(retry_base_seconds=1, max_attempts=5, timeout_seconds=3)
    notify.channels = [ChannelConfig("mail", f"mailto://127.0.0.1:{port}?from=n@x.kr&to={{email}}&mode=insecure")]  # fmt: skip
    queue(engine, directory, notify, FINDINGS)
    report = deliver_pending(engine, notify, directory, now=NOW)
    assert report.retrying == len(outbox_rows(engine)) and report.sent == 0
    with smtp_server() as smtp:
        # The relay is back (at another address: the channel is re-read at send time).
        notify.channels = [ChannelConfig("mail", smtp.url("{email}"))]
        report = deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=5))
        again = deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
    assert again.attempted == 0
    _assert_all_sent_once(engine, len(smtp.messages))


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (an SMTP relay hanging)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    sock.close()


def test_smtp_timeout_then_back(engine: Engine, directory: Directory, silent_server: int) -> None:
    notify = NotifyConfig(retry_base_seconds=1, max_attempts=5, timeout_seconds=2)
    # cto: apprise's connect/greeting timeout for mail, from notify.timeout_seconds.
    url = f"mailto://127.0.0.1:{silent_server}?from=n@x.kr&to={{email}}&mode=insecure&cto=2"
    notify.channels = [ChannelConfig("mail", url)]
    queue(engine, directory, notify, FINDINGS[:1])
    started = time.monotonic()
    report = deliver_pending(engine, notify, directory, now=NOW)
    assert report.retrying == 1 and time.monotonic() - started < 30
    with smtp_server() as smtp:
        notify.channels = [ChannelConfig("mail", smtp.url("{email}"))]
        deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=5))
        deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
    _assert_all_sent_once(engine, len(smtp.messages))


# -- webhook -----------------------------------------------------------------------------------


def test_webhook_500_then_back(engine: Engine, directory: Directory) -> None:
    notify = NotifyConfig(retry_base_seconds=1, max_attempts=5, timeout_seconds=3)
    with webhook_server() as hook:
        notify.channels = [ChannelConfig("hook", hook.url())]
        queue(engine, directory, notify, FINDINGS)
        hook.fail = True
        assert deliver_pending(engine, notify, directory, now=NOW).sent == 0
        hook.fail = False
        deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=5))
        deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
    assert hook.refused == len(outbox_rows(engine))
    _assert_all_sent_once(engine, len(hook.posts))


def test_webhook_hangs_past_the_timeout_then_back(engine: Engine, directory: Directory) -> None:
    """A hung request is abandoned after ``notify.timeout_seconds`` and retried later. The
    hanging server never processes it, so the retry is the only delivery. (A receiver that
    processes a request it answers too late sees it twice: at-least-once; docs/security.md.)"""
    notify = NotifyConfig(retry_base_seconds=1, max_attempts=5, timeout_seconds=1)
    with hanging_webhook() as hook:
        notify.channels = [ChannelConfig("hook", f"json://127.0.0.1:{hook.port}/hook")]
        queue(engine, directory, notify, FINDINGS[:1])
        hook.hang = True
        started = time.monotonic()
        report = deliver_pending(engine, notify, directory, now=NOW)
        assert report.retrying == 1 and time.monotonic() - started < 15
        hook.hang = False
        deliver_pending(engine, notify, directory, now=NOW + timedelta(minutes=5))
        deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
        assert hook.hung >= 1
    _assert_all_sent_once(engine, len(hook.posts))


class _HangingWebhook:
    """A webhook that, while ``hang`` is set, holds each request and drops it unprocessed."""

    def __init__(self) -> None:
        self.hang = False
        self.hung = 0
        self.posts: list[bytes] = []
        self.port = 0


@contextmanager
def hanging_webhook() -> Iterator[_HangingWebhook]:
    state = _HangingWebhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if state.hang:
                state.hung += 1
                time.sleep(4)  # longer than the client's timeout: it gave up already
                return
            state.posts.append(body)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(httpd.server_address[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- the store locked or full ------------------------------------------------------------------


def _short_busy_timeout(engine: Engine, ms: int = 300) -> None:
    event.listen(engine, "connect", lambda dbapi, _rec: dbapi.execute(f"PRAGMA busy_timeout={ms}"))
    engine.dispose()  # pooled connections were opened with the 30 s default


def test_store_locked_before_sending_sends_nothing_then_everything_once(
    engine: Engine, directory: Directory, tmp_path: Path
) -> None:
    with webhook_server() as hook:
        notify = NotifyConfig(channels=[ChannelConfig("hook", hook.url())])
        queue(engine, directory, notify, FINDINGS)
        _short_busy_timeout(engine)
        other = sqlite3.connect(tmp_path / "store.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the store
        report = deliver_pending(engine, notify, directory, now=NOW)
        assert report.stopped and "locked" in report.stopped and report.attempted == 0
        assert hook.posts == []
        other.execute("COMMIT")
        other.close()
        deliver_pending(engine, notify, directory, now=NOW)
        deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
    _assert_all_sent_once(engine, len(hook.posts))


def test_store_locked_after_a_send_records_it_once(
    engine: Engine, directory: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outcome of a send cannot be written at first: written later, never re-sent."""
    monkeypatch.setattr(outbox_module, "RECORD_TRIES", 2)
    monkeypatch.setattr(outbox_module, "RECORD_PAUSE_SECONDS", 0.1)
    with webhook_server() as hook:
        notify = NotifyConfig(channels=[ChannelConfig("hook", hook.url())])
        queue(engine, directory, notify, FINDINGS)
        _short_busy_timeout(engine)
        other = sqlite3.connect(tmp_path / "store.sqlite", isolation_level=None)
        real_send = outbox_module.send_one

        def send_then_lock(*args: Any) -> Any:
            outcome = real_send(*args)
            if not other.in_transaction:
                other.execute("BEGIN IMMEDIATE")
            return outcome

        monkeypatch.setattr(outbox_module, "send_one", send_then_lock)
        report = deliver_pending(engine, notify, directory, now=NOW)
        assert report.stopped and len(hook.posts) == 1
        # Still locked: the next pass cannot write the outcome and sends nothing more.
        assert deliver_pending(engine, notify, directory, now=NOW).stopped
        assert len(hook.posts) == 1
        other.execute("COMMIT")
        monkeypatch.setattr(outbox_module, "send_one", real_send)
        report = deliver_pending(engine, notify, directory, now=NOW)
        assert report.stopped is None
        deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
        other.close()
    _assert_all_sent_once(engine, len(hook.posts))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs (root can mount one here); skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; returns the filler to delete."""
    filler = disk / f"filler-{len(list(disk.glob('filler-*')))}"
    with filler.open("wb", buffering=0) as f:  # unbuffered: nothing left to flush at close
        for size in (65536, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass
    return filler


def test_disk_full_before_and_after_a_send_loses_nothing_and_sends_once(
    small_disk: Path, directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "RECORD_TRIES", 2)
    monkeypatch.setattr(outbox_module, "RECORD_PAUSE_SECONDS", 0.1)
    engine = store.connect("sqlite:///" + str(small_disk / "store.sqlite"))
    try:
        with webhook_server() as hook:
            notify = NotifyConfig(channels=[ChannelConfig("hook", hook.url())])
            queue(engine, directory, notify, FINDINGS)
            with engine.connect() as conn:  # checkpoint: later writes need new WAL space
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            filler = _fill(small_disk)
            report = deliver_pending(engine, notify, directory, now=NOW)
            # SQLite says "database or disk is full", or "disk I/O error" when the WAL cannot grow.
            assert report.stopped and ("full" in report.stopped or "disk I/O" in report.stopped)
            assert hook.posts == []
            filler.unlink()

            # Full again right after the first send: its outcome waits in memory.
            real_send = outbox_module.send_one
            fillers: list[Path] = []

            def send_then_fill(*args: Any) -> Any:
                outcome = real_send(*args)
                if not fillers:
                    fillers.append(_fill(small_disk))
                return outcome

            monkeypatch.setattr(outbox_module, "send_one", send_then_fill)
            report = deliver_pending(engine, notify, directory, now=NOW)
            assert report.stopped and len(hook.posts) == 1
            fillers[0].unlink()
            monkeypatch.setattr(outbox_module, "send_one", real_send)
            deliver_pending(engine, notify, directory, now=NOW)
            deliver_pending(engine, notify, directory, now=NOW + timedelta(days=1))
            _assert_all_sent_once(engine, len(hook.posts))
    finally:
        engine.dispose()


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def directory() -> Directory:
    from servers import employees_frame

    return Directory.from_frame(employees_frame())
