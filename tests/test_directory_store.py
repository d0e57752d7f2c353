"""The commands act with the officials directory the run stored, never with its source.

A command (`naebu alerts ack`, `naebu suppress add`, `naebu alerts show`, `naebu export`)
must not pull a city's live HR database: after a run it reads the store's officials table,
so it works while that database is down. Before any run it says the directory is not
stored yet. The "database" here is a listening socket that counts who connects: the
commands must leave it untouched, while a run (the control) does connect to it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from minicity import create_payments, make_city, payment, query, run

NOW = ["--now", "2025-07-01T10:00"]


class Trap:
    """A TCP port that accepts, counts and at once closes every connection."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


def _city(folder: Path) -> Path:
    config = make_city(folder)
    create_payments(f"sqlite:///{folder / 'city.sqlite'}", [payment(1, 5_000_000)])
    return config


def _point_directory_at(config: Path, url: str) -> None:
    """Move the employees source (the officials directory) to ``url``."""
    text = config.read_text(encoding="utf-8")
    city = f'url = "sqlite:///{config.parent / "city.sqlite"}"\ndataset = "employees"'
    assert city in text
    config.write_text(text.replace(city, f'url = "{url}"\ndataset = "employees"'), "utf-8")


def _ok(folder: Path, *args: str) -> str:
    result = run_cli(*args, cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_commands_act_with_the_stored_directory_while_its_source_is_down(
    tmp_path: Path, trap: Trap
) -> None:
    config = _city(tmp_path)
    summary = run(config)
    assert sum(summary.new_alerts.values()) == 1
    ((alert_id,),) = query(config, "SELECT id FROM alerts")
    _point_directory_at(config, f"postgresql+psycopg2://naebu@127.0.0.1:{trap.port}/hr")

    out = _ok(tmp_path, "alerts", "ack", str(alert_id), "--as", "E001", *NOW)
    assert f"alert #{alert_id}: raised -> acknowledged" in out
    out = _ok(
        tmp_path,
        "suppress", "add", "--rule", "PAY-BIG", "--record", "P-00002",
        "--reason", "정상 지출", "--until", "2025-12-31", "--as", "E030", *NOW,
    )  # fmt: skip
    assert out.startswith("suppression #1: PAY-BIG record P-00002")
    shown = _ok(tmp_path, "alerts", "show", str(alert_id))
    assert "김담당" in shown  # the assignee by name, from the stored copy
    _ok(tmp_path, "export", "--out", str(tmp_path / "alerts.csv"))
    assert "김담당" in (tmp_path / "alerts.csv").read_text(encoding="utf-8-sig")
    # The roles are still checked against the stored directory.
    refused = run_cli(
        "suppress", "add", "--rule", "PAY-BIG", "--record", "P-00003",
        "--reason", "x", "--until", "2025-12-31", "--as", "E001", *NOW, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 1 and "only an auditor" in refused.stderr
    assert trap.connections == 0, "a command connected to the directory's source"

    # The control: a run does read the source (it fails), and still routes with the
    # directory of the record history.
    again = run(config)
    assert trap.connections >= 1
    assert [s.error is not None for s in again.sources if s.name == "employees"] == [True]
    assert query(config, "SELECT count(*) FROM officials WHERE active = 1") == [(3,)]


def test_a_command_before_any_run_says_the_directory_is_not_stored(
    tmp_path: Path, trap: Trap
) -> None:
    config = _city(tmp_path)
    _point_directory_at(config, f"postgresql+psycopg2://naebu@127.0.0.1:{trap.port}/hr")
    result = run_cli(
        "suppress", "add", "--rule", "PAY-BIG", "--record", "P-00001",
        "--reason", "x", "--until", "2025-12-31", "--as", "E030", *NOW, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "naebu suppress: the officials directory is not in the store yet: run "
        "`naebu run --once` first (it stores what [sources.employees] holds)"
    )
    assert trap.connections == 0
