"""A hung mail server and the daemon (issue 17, point 6): ``naebu run`` as a subprocess, its
mail channel pointed at a server that accepts connections and never answers.

Before: each message waited ``timeout_seconds`` while the flush held the run lock (one run in
150 s instead of seven), and SIGTERM waited for the whole flush (> 240 s against a documented
30 s). Now a hung channel costs one timeout per pass, and SIGTERM ends the daemon within
``shutdown_timeout_seconds`` (+ 5 s), the send in flight given up and noted for the operator.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from minicity import create_payments, insert_payments, make_city, query
from servers import HungSmtpServer, hung_smtp_server
from test_daemon_helpers import DaemonProcess, daemons, wait_for


def _city(tmp_path: Path, hung: HungSmtpServer, *, timeout: float, extra: str = "") -> Path:
    """The mini city, its payments due to all three officials (three digests), its mail
    channel on the hung server; one run at start, then every ``interval`` seconds."""
    config = make_city(tmp_path / "city")
    url = f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}"
    create_payments(url, [])
    insert_payments(
        url,
        [
            (f"P-{n:05d}", dept, emp, 5_000_000, "2025-06-02", "2025-06-10 10:00:00")
            for n, (dept, emp) in enumerate(
                [("재무과", "E001"), ("재무과", "E010"), ("감사실", "E030")], start=1
            )
        ],
    )
    with config.open("a", encoding="utf-8") as fh:
        fh.write(
            f'channels = [{{ name = "mail", url = "{hung.url(to="{email}")}" }}]\n'
            f"timeout_seconds = {timeout}\n"
            f"{extra}"
        )
    return config


@pytest.fixture
def hung() -> Iterator[HungSmtpServer]:
    with hung_smtp_server() as server:
        yield server


def _digests(config: Path) -> list[tuple[object, ...]]:
    return query(config, "SELECT id, status, last_error FROM outbox ORDER BY id")


def test_sigterm_during_a_flush_to_a_hung_server_exits_within_the_shutdown_timeout(
    tmp_path: Path, hung: HungSmtpServer
) -> None:
    shutdown = 3.0
    # A send waits up to 30 s for the server; the daemon may take 3 s to stop.
    config = _city(
        tmp_path,
        hung,
        timeout=30,
        extra=f"\n[schedule]\ninterval_seconds = 3600\n\n[daemon]\nhttp_port = 0\n"
        f"shutdown_timeout_seconds = {shutdown}\n",
    )
    with daemons() as started:
        daemon = DaemonProcess(config.parent, "daemon")
        started.append(daemon)
        wait_for("the first send to reach the hung server", lambda: hung.connections, 90)
        assert len(_digests(config)) == 3
        time.sleep(0.5)  # well inside the send
        sent_at = time.monotonic()
        daemon.proc.send_signal(signal.SIGTERM)
        try:
            code = daemon.proc.wait(timeout=shutdown + 5 + 30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {shutdown + 35:g}s after SIGTERM")
        took = time.monotonic() - sent_at
    log = daemon.stderr()
    assert code == 0, log[-3000:]
    assert took <= shutdown + 5, f"exited {took:.1f}s after SIGTERM\n{log[-3000:]}"
    # The send in flight was given up and says so; the other digests wait, untouched.
    rows = _digests(config)
    assert [r[1] for r in rows] == ["sending", "pending", "pending"], rows
    assert "; abandoned at shutdown after" in str(rows[0][2])
    assert "without an answer" in str(rows[0][2])
    assert "stopped waiting (shutdown)" in log
    # The run's ledger row is whole: the run ended before the flush.
    assert [r[0] for r in query(config, "SELECT status FROM runs")] == ["ok"]


def test_a_hung_server_delays_the_next_run_by_one_timeout_at_most(
    tmp_path: Path, hung: HungSmtpServer
) -> None:
    timeout = 5.0
    config = _city(
        tmp_path,
        hung,
        timeout=timeout,
        extra="\n[schedule]\ninterval_seconds = 1\n\n[daemon]\nhttp_port = 0\n",
    )
    with daemons() as started:
        daemon = DaemonProcess(config.parent, "daemon")
        started.append(daemon)
        ledger = wait_for(
            "three runs",
            lambda: (
                (rows := query(config, "SELECT started_at, ended_at FROM runs ORDER BY id"))
                and len(rows) >= 3
                and rows
            ),
            timeout=60,
        )
        assert daemon.stop() == 0, daemon.stderr()[-3000:]
    # The first run's flush met the hung server: one timeout, the other digests not tried.
    # Before, it held the run lock for three timeouts (15 s) before the second run could start.
    # (Less than two timeouts: one, plus loading the directory, on a busy machine.)
    gap = _seconds(ledger[1][0]) - _seconds(ledger[0][1])
    assert gap < 2 * timeout, f"the second run started {gap:.0f}s after the first ended"
    assert hung.connections == 1
    rows = _digests(config)
    assert [r[1] for r in rows] == ["retrying"] * 3
    assert sum("not tried" in str(r[2]) for r in rows) == 2


def _seconds(value: object) -> float:
    from datetime import datetime

    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.timestamp()
