"""The daemon rides through its Dask cluster's faults (issue 27, docs/dask.md "When the cluster
fails").

A real cluster - a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, started
and killed by PID (tests/dask_cluster.py) - evaluates the payment and contract rules of the
pack over the demo city, every rule split into parts. The daemon (its real job, in this
process) meets:

1. the scheduler killed and restarted on the same address between two runs: the first run
   after it is up connects afresh and is ``ok``;
2. a worker killed while it evaluates a part of a rule: that rule fails in words, naming the
   worker, without a traceback; the next run completes it;
3. the scheduler killed in the middle of a run, then out of reach for the next run: the rules
   it did not evaluate fail in words; past ``[cluster] unreachable_runs_before_notice`` the
   admins get one mail, and one more when the cluster is back (the suite's SMTP server).

Every time, the final alerts are exactly those the pandas backend raises from the same runs.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli
from dask_cluster import (
    Cluster,
    KillSchedulerAt,
    KillWorkerAt,
    require_dask,
    start_cluster,
)
from servers import SmtpServer, free_port, smtp_server

from naebu.daemon.service import Daemon
from naebu.daemon.status import collect_status, status_lines
from naebu.engine.backends import backend_for, close_all
from naebu.engine.loader import load_rules
from naebu.settings.config import load_config

SCALE = "0.2"  # the smallest demo city that plants every rule of the pack
RULES = ("payments", "contracts")  # match, sequence, duplicate and aggregate rules
REFERENCE = ["departments", "employees", "vendors"]
EVERYTHING = [*REFERENCE, "payments", "contracts"]
AGAIN = "evaluated again on the next run"
ADMIN = "ops@hanbit.go.kr"
#: The pandas backend's final alerts after the given daemon jobs (each a list of sources).
PandasAlerts = Callable[..., list[tuple[str, ...]]]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The module's cluster; every process killed by PID at the end, whatever happened."""
    require_dask()
    started = start_cluster(free_port(), tmp_path_factory.mktemp("dask-logs"))
    try:
        yield started
    finally:
        close_all()  # naebu's clients first, then the processes
        started.kill()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    made = run_cli("demo", "--out", str(folder / "demo-city"), "--scale", SCALE, cwd=folder)
    assert made.returncode == 0, made.stderr
    return folder / "demo-city"


@pytest.fixture(scope="module")
def by_pandas(tmp_path_factory: pytest.TempPathFactory, demo: Path) -> PandasAlerts:
    """The pandas backend's final alerts after a sequence of daemon jobs, made once each."""
    made: dict[tuple[tuple[str, ...], ...], list[tuple[str, ...]]] = {}

    def alerts_after(*jobs: list[str]) -> list[tuple[str, ...]]:
        key = tuple(tuple(j) for j in jobs)
        if key not in made:
            folder = _workdir(tmp_path_factory.mktemp("pandas"), demo, "")
            daemon = Daemon(load_config(folder / "config.toml"))
            try:
                for i, sources in enumerate(jobs):
                    daemon.run_job(f"job{i}", sources)
            finally:
                daemon.engine.dispose()
            assert {r[1] for r in _runs(folder)} == {"ok"}
            made[key] = _alerts(folder)
        return made[key]

    return alerts_after


def _workdir(folder: Path, demo: Path, extra: str, admins: str = "") -> Path:
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    for name in RULES:
        shutil.copytree(ROOT / "rules" / name, folder / "rules" / name)
    shutil.copytree(demo, folder / "demo-city")
    text = (folder / "config.toml").read_text(encoding="utf-8")
    if admins:
        text = text.replace('language = "ko"\n', f'language = "ko"\nadmins = ["{admins}"]\n', 1)
    (folder / "config.toml").write_text(text + "\n[daemon]\nhttp_port = 0\n" + extra, "utf-8")
    return folder


def _engine_section(cluster: Cluster) -> str:
    # two parts for two workers; the demo is small, so parts of any size (every rule split)
    return (
        f'[engine]\nbackend = "dask"\nscheduler = "{cluster.address}"\n'
        "partitions = 2\nmin_part_rows = 1\n"
    )


def _alerts(folder: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(folder / "var" / "naebu.sqlite") as db:
        return sorted(
            db.execute(
                "select rule_id, record_key, message, severity, coalesce(department, '') "
                "from alerts"
            ).fetchall()
        )


def _runs(folder: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(folder / "var" / "naebu.sqlite") as db:
        return db.execute("select id, status, summary, error from runs order by id").fetchall()


def _last_summary(daemon: Daemon) -> dict[str, Any]:
    status = collect_status(daemon.config, daemon.engine, None)
    return dict(status["last_run"])


def _rule_order(folder: Path) -> list[str]:
    return [r.meta.id for r in load_rules([folder / "rules"], root=folder).rules]


def _no_traceback_reached_the_user(caplog: pytest.LogCaptureFixture) -> None:
    """Tracebacks only at debug level; naebu's words name no dask exception."""
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG]
    assert [r.getMessage() for r in loud if r.exc_info] == []
    naebu = " ".join(r.getMessage() for r in loud if not r.name.startswith("distributed"))
    for internal in ("Traceback", "CancelledError", "AttributeError", "NoneType", "KilledWorker"):
        assert internal not in naebu


# -- 1. the scheduler restarted under a running daemon ---------------------------------------


def test_the_first_run_after_a_scheduler_restart_is_ok(
    tmp_path: Path,
    cluster: Cluster,
    demo: Path,
    by_pandas: PandasAlerts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = _workdir(tmp_path, demo, _engine_section(cluster))
    config = load_config(folder / "config.toml")
    daemon = Daemon(config)
    caplog.set_level(logging.DEBUG)
    try:
        daemon.run_job("early", [*REFERENCE, "payments"])
        first = backend_for(config.engine)

        cluster.restart()  # killed by PID, started again on the same address, workers joined
        daemon.run_job("run", EVERYTHING)
        again = backend_for(config.engine)
    finally:
        daemon.engine.dispose()

    assert [r[1] for r in _runs(folder)] == ["ok", "ok"]
    _no_traceback_reached_the_user(caplog)
    assert again is not first  # the lost connection was dropped, a new one made
    # the contracts, read only now, were evaluated on the restarted cluster, in parts
    contract_rules = [r for r in _rule_order(folder) if r.startswith("CONTRACT-")]
    from naebu.engine.backends.dask import DaskBackend  # dask is an optional extra

    assert isinstance(again, DaskBackend) and contract_rules
    assert [r for r in contract_rules if again.plans.get(r, "whole").startswith("whole")] == []
    assert _alerts(folder) == by_pandas([*REFERENCE, "payments"], EVERYTHING)


# -- 2. a worker killed while it evaluates a part ----------------------------------------------


def test_a_worker_killed_mid_run_fails_its_rule_in_words_and_the_next_run_completes_it(
    tmp_path: Path,
    cluster: Cluster,
    demo: Path,
    by_pandas: PandasAlerts,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """First a worker dies under a part sent inside its task: dask runs the part again on the
    other worker and the run is ``ok``. Then one dies under a part scattered to it first (a big
    city's parts are): that part is gone, its rule fails. The victim is judged record by record
    on each new batch (a match over contracts, read only by the second run): the batch it
    failed on must not be lost with the worker."""
    folder = _workdir(tmp_path, demo, _engine_section(cluster))
    config = load_config(folder / "config.toml")
    daemon = Daemon(config)
    caplog.set_level(logging.DEBUG)
    retried = tmp_path / "killed-worker-retried"
    marker = tmp_path / "killed-worker"
    victim = "CONTRACT-NEAR-LIMIT"
    try:
        with cluster.client() as client:
            client.register_plugin(KillWorkerAt("PAY-DUPLICATE", str(retried)), name="kill-1")
        daemon.run_job("early", [*REFERENCE, "payments"])
        assert retried.exists(), "the first worker was not killed: the test proved nothing"
        assert _last_summary(daemon)["status"] == "ok"
        cluster.wait_for_workers()  # its nanny restarted it

        # Parts over 2 MB are scattered to a worker before their task runs; these small ones
        # too from now on, so the part dies with its worker, as a big city's would.
        monkeypatch.setattr("naebu.engine.backends.dask.INLINE_BYTES", 0)
        with cluster.client() as client:
            client.register_plugin(KillWorkerAt(victim, str(marker)), name="kill-2")
        daemon.run_job("run", EVERYTHING)
        assert marker.exists(), "the worker was not killed: the test proved nothing"
        worker = marker.read_text()
        last = _last_summary(daemon)
        assert last["status"] == "partial"
        assert last["rule_errors"] == {
            victim: f"Dask worker {worker} left the cluster while evaluating this rule "
            f"(part of its data was there); {AGAIN}"
        }
        _no_traceback_reached_the_user(caplog)
        # naebu status names the rule and why, as an operator reads it
        shown = run_cli("status", cwd=folder)
        assert shown.returncode == 0, shown.stderr
        assert "partial" in shown.stdout
        assert f"    {victim}: Dask worker {worker} left the cluster" in shown.stdout
        assert "Traceback" not in shown.stdout + shown.stderr

        cluster.wait_for_workers()  # its nanny restarted the worker (once: the marker stays)
        daemon.run_job("run", EVERYTHING)
    finally:
        daemon.engine.dispose()
        with cluster.client() as client:
            for name in ("kill-1", "kill-2"):
                with contextlib.suppress(ValueError):  # not registered: the test failed early
                    client.unregister_worker_plugin(name)
    assert [r[1] for r in _runs(folder)] == ["ok", "partial", "ok"]
    assert _alerts(folder) == by_pandas([*REFERENCE, "payments"], EVERYTHING)


# -- 3. the scheduler lost mid-run, out of reach, back: the admins told twice ----------------


def test_a_scheduler_lost_mid_run_and_out_of_reach_is_told_once_and_once_when_back(
    tmp_path: Path,
    cluster: Cluster,
    demo: Path,
    by_pandas: PandasAlerts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with smtp_server() as smtp:
        folder = _workdir(
            tmp_path,
            demo,
            _engine_section(cluster) + "\n[cluster]\nunreachable_runs_before_notice = 2\n",
            admins=smtp.url(ADMIN),
        )
        order = _rule_order(folder)
        victim = order[len(order) // 2]
        with cluster.client() as client:
            client.register_plugin(KillSchedulerAt(victim))
        config = load_config(folder / "config.toml")
        daemon = Daemon(config)
        caplog.set_level(logging.DEBUG)
        try:
            # 1. the scheduler dies as the victim's parts go out; the rules before it are done
            daemon.run_job("run", EVERYTHING)
            last = _last_summary(daemon)
            assert last["status"] == "partial"
            lost = f"the Dask scheduler {cluster.address} was lost during this run; {AGAIN}"
            failed = last["rule_errors"]
            assert set(failed) <= set(order[order.index(victim) :])
            assert victim in failed and set(failed.values()) == {lost}
            assert _mails(smtp) == []  # one run out of reach: below the threshold
            _no_traceback_reached_the_user(caplog)

            # 2. still down: the run does not start (nothing read), the admins are told
            cluster.kill()
            daemon.run_job("run", EVERYTHING)
            runs = _runs(folder)
            assert runs[-1][1] == "failed"
            assert runs[-1][3].startswith(
                f"[engine]: engine.scheduler: cannot reach {cluster.address}"
            )
            assert [s for s, _ in _mails(smtp)] == [
                "[내부통제 운영] Dask 클러스터 연결 불가 2회 연속"
            ]
            body = _mails(smtp)[0][1]
            assert cluster.address in body and "잃은 자료는 없습니다" in body
            status = collect_status(config, daemon.engine, None)
            assert status["cluster"]["unreachable_runs"] == 2
            assert "out of reach for the last 2 run(s)" in "\n".join(status_lines(status))
            _no_traceback_reached_the_user(caplog)

            # 3. back: the first run completes what run 1 left, and says so once
            cluster.start()
            daemon.run_job("run", EVERYTHING)
        finally:
            daemon.engine.dispose()
        assert [r[1] for r in _runs(folder)] == ["partial", "failed", "ok"]
        assert [s for s, _ in _mails(smtp)] == [
            "[내부통제 운영] Dask 클러스터 연결 불가 2회 연속",
            "[내부통제 운영] Dask 클러스터 복구",
        ]
        assert _alerts(folder) == by_pandas(EVERYTHING)


def _mails(smtp: SmtpServer) -> list[tuple[str, str]]:
    from servers import body_text

    return [(str(m["subject"]), body_text(m)) for m in smtp.to(ADMIN)]
