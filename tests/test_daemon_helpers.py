"""Helpers for the daemon tests (test_daemon_*.py): demo city copies, source and store
databases on the local PostgreSQL and MariaDB, ``naebu run`` subprocesses that are always
killed in the end, and polling with a deadline. Holds the daemon's small unit tests too.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import ROOT, run_cli

T = TypeVar("T")
SCALE = "0.3"


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city, generated once for the daemon tests (tests copy it)."""
    folder = tmp_path_factory.mktemp("daemon-demo")
    result = run_cli("demo", "--out", str(folder / "demo-city"), "--scale", SCALE, cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "demo-city"


#: Attendance days that can fire the attendance rules: leave or a trip, and the overtime days of
#: an employee's months over the monthly cap; the other ~60,000 office days only make a test slow.
ATTENDANCE_DAYS = (
    "vctn_knd_nm IS NOT NULL OR bztrp_se_nm IS NOT NULL OR (ovtm_hr > 0 AND "
    "emp_no || substr(atnd_ymd, 1, 6) IN (SELECT emp_no || substr(atnd_ymd, 1, 6) "
    "FROM hr_atnd_dly GROUP BY emp_no, substr(atnd_ymd, 1, 6) HAVING SUM(ovtm_hr) > 57))"
)


def make_workdir(tmp_path: Path, demo_city: Path) -> Path:
    """A folder with the shipped config.toml, rules/ and a copy of the demo city (its
    attendance table trimmed to :data:`ATTENDANCE_DAYS`)."""
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(demo_city, tmp_path / "demo-city")
    with sqlite3.connect(tmp_path / "demo-city" / "city.sqlite") as db:
        db.execute(f"DELETE FROM hr_atnd_dly WHERE NOT ({ATTENDANCE_DAYS})")
    return tmp_path


def configure(
    workdir: Path,
    *,
    store_url: str | None = None,
    interval_seconds: float = 2,
    connections: dict[str, str] | None = None,
    source_connection: dict[str, str] | None = None,
    chunk_size: dict[str, int] | None = None,
    daemon: str = "",
    admins: list[str] | None = None,
) -> None:
    """Edit the workdir's config.toml: store, schedule, extra connections, which connection
    each source reads, chunk size, a [daemon] table and the admins."""
    path = workdir / "config.toml"
    text = path.read_text(encoding="utf-8")
    if store_url:
        text = text.replace('url = "sqlite:///var/naebu.sqlite"', f'url = "{store_url}"', 1)
    text = text.replace("interval_minutes = 15", f"interval_seconds = {interval_seconds}", 1)
    for source, conn in (source_connection or {}).items():
        pattern = rf'(\[sources\.{source}\]\nkind = "sql"\n)connection = "city"'
        text, n = re.subn(pattern, rf'\1connection = "{conn}"', text)
        assert n == 1, source
    for source, size in (chunk_size or {}).items():
        pattern = rf"(\[sources\.{source}\]\n[^\[]*?)chunk_size = 50000"
        text, n = re.subn(pattern, rf"\g<1>chunk_size = {size}", text)
        assert n == 1, source
    if admins is not None:
        quoted = ", ".join(f'"{a}"' for a in admins)
        text = text.replace('language = "ko"\n', f'language = "ko"\nadmins = [{quoted}]\n', 1)
    extra = ""
    for name, url in (connections or {}).items():
        extra += f'\n[connections.{name}]\nurl = "{url}"\n'
    extra += "\n[daemon]\n" + ("" if "http_port" in daemon else "http_port = 0\n") + daemon
    path.write_text(text + extra, encoding="utf-8")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def labels(workdir: Path) -> set[tuple[str, str, str]]:
    """The planted anomalies: (rule, dataset, record key)."""
    with (workdir / "demo-city" / "labels.csv").open(encoding="utf-8") as f:
        return {(r["rule_id"], r["dataset"], r["record_key"]) for r in csv.DictReader(f)}


def query(url: str, sql: str, **params: Any) -> list[Any]:
    """Rows of ``sql`` against the database at ``url``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []  # the daemon has not created the tables yet
    finally:
        engine.dispose()


def alert_keys(store_url: str) -> list[tuple[str, str, str]]:
    """Every record of every stored alert's case as (rule, dataset, record key), duplicates
    kept: a record in two alerts of its rule shows twice."""
    rows = query(
        store_url,
        "SELECT a.rule_id, m.dataset, m.record_key FROM alert_members m "
        "JOIN alerts a ON a.id = m.alert_id",
    )
    return [tuple(r) for r in rows]


def runs(store_url: str) -> list[Any]:
    """The run ledger, oldest first."""
    return query(store_url, "SELECT id, status, summary, error FROM runs ORDER BY id")


def summary_of(run: Any) -> dict[str, Any]:
    """A ledger row's summary as a dict (PostgreSQL gives a dict, SQLite JSON text)."""
    import json

    value = run.summary
    return json.loads(value) if isinstance(value, str) else (value or {})


def wait_for(what: str, check: Callable[[], T], timeout: float, every: float = 0.3) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)


class DaemonProcess:
    """``naebu run`` as a subprocess, its stderr in a file."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.log = workdir / f"{name}.log"
        env = {**os.environ}
        env.pop("NAEBU_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "naebu.cli", "run"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w", encoding="utf-8"),
            text=True,
        )
        self.pid = self.proc.pid

    @property
    def node_suffix(self) -> str:
        """The end of this process's node name in the ledger (``host:pid``)."""
        return f":{self.pid}"

    def stderr(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


@contextlib.contextmanager
def daemons() -> Iterator[list[DaemonProcess]]:
    """A list to put started daemons in; every one still alive is killed on the way out."""
    started: list[DaemonProcess] = []
    try:
        yield started
    finally:
        for d in started:
            d.kill()


@contextlib.contextmanager
def fresh_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url`` (PostgreSQL or MariaDB), dropped
    afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(server_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if url.get_backend_name() == "postgresql":
                for db in (name, f"{name}_away"):
                    conn.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :d AND pid <> pg_backend_pid()"
                        ),
                        {"d": db},
                    )
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS {db}"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def copy_tables(
    city: Path, url: str, tables: list[str], where: dict[str, str] | None = None
) -> None:
    """Load demo-city tables into the database at ``url`` with pandas ``to_sql``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with sqlite3.connect(city / "city.sqlite") as src:
            for table in tables:
                sql = f"SELECT * FROM {table}"
                if where and table in where:
                    sql += f" WHERE {where[table]}"
                frame = pd.read_sql_query(sql, src)
                frame.to_sql(table, engine, index=False, chunksize=5000, if_exists="append")
    finally:
        engine.dispose()


# -- unit tests of the daemon's parts ---------------------------------------------------------


def test_file_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    from naebu.daemon.leader import leader_lock

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    first, second = leader_lock(url, "host-a:1"), leader_lock(url, "host-b:2")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert second.holder() == "host-a:1"
    first.release()
    assert second.holder() is None
    assert second.try_acquire()
    second.release()


def test_daemon_config_keys_are_checked(tmp_path: Path) -> None:
    from naebu.core.problems import ProblemsError
    from naebu.settings.config import load_config

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[daemon]\nhttp_prot = 1\nlog_format = "xml"\nlock_poll_seconds = -1\n'
        '[notify]\nadmins = ["E1", "nosuchscheme://x", 3]\n'
        '[schedule]\ncron = "61 * * * *"\n',
        encoding="utf-8",
    )
    with pytest.raises(ProblemsError) as err:
        load_config(cfg)
    text = str(err.value)
    assert "daemon.http_prot: unknown key - did you mean 'http_port'?" in text
    assert "daemon.log_format: unknown log format 'xml'" in text
    assert "daemon.lock_poll_seconds: must be a positive number" in text
    assert "notify.admins[1]: apprise cannot parse the nosuchscheme:// URL" in text
    assert "notify.admins[2]: an admin is an employee id or an apprise URL" in text
    assert "schedule.cron: not a cron expression" in text
