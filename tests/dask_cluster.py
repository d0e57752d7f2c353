"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1,
started and stopped by the test, by process id - and the faults tests give it.

:class:`Cluster` starts one scheduler on a fixed port and worker processes (each under its
nanny, as an operator runs them), kills them by PID (each in a session of its own, so its
process group goes with it: the nanny's worker too) and starts them again on the same address.

:class:`KillWorkerAt` and :class:`KillSchedulerAt` are dask plug-ins the test registers on the
running cluster: the first kills the worker process in which a part of a given rule starts to
execute (once), the second kills the scheduler when a part of a given rule is handed to a
worker. Real processes die mid-run, at a moment the test chooses, with no sleep to race.
The processes import this module to unpickle them: their ``PYTHONPATH`` holds ``tests/``.

When dask cannot be imported or the cluster does not start, :func:`require_dask` skips, or
fails when ``CI`` is set (a CI run must not pass by skipping what it was meant to test).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: How long a scheduler and its workers may take to come up on a loaded machine.
START_SECONDS = 60

try:
    from distributed import Client
    from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin
except ImportError as exc:  # the module stays importable; require_dask says what is missing
    _MISSING: str | None = f"dask.distributed cannot be imported ({exc})"
    SchedulerPlugin = WorkerPlugin = object  # type: ignore[assignment,misc]
else:
    _MISSING = None


def require_dask(reason: str | None = None) -> None:
    """Skip (or fail under ``CI``) when dask is missing or ``reason`` says the cluster failed."""
    message = reason or _MISSING
    if message is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI requires a Dask cluster", pytrace=False)
    pytest.skip(message)


class Cluster:
    """A scheduler on ``address`` and ``workers`` worker processes, all on 127.0.0.1."""

    def __init__(self, port: int, logs: Path, workers: int = 2) -> None:
        self.port = port
        self.address = f"tcp://127.0.0.1:{port}"
        self.logs = logs
        self.workers = workers
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.worker_procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
        }
        with (self.logs / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                cwd=self.logs,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed with its children
            )

    def start(self) -> None:
        """Start the scheduler and the workers; return once every worker has joined."""
        self.scheduler = self._spawn(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-dashboard",
        )
        self.worker_procs = [
            self._spawn(
                f"worker-{i}",
                "worker",
                self.address,
                "--nthreads",
                "1",  # durable_rules (C) is not thread safe: one thread per process
                "--host",
                "127.0.0.1",
                "--no-dashboard",
            )
            for i in range(self.workers)
        ]
        self.wait_for_workers()

    def wait_for_workers(self) -> None:
        """Return once ``workers`` workers are joined (a killed one restarted by its nanny)."""
        with self.client() as client:
            client.wait_for_workers(self.workers, timeout=START_SECONDS)

    def client(self) -> Client:
        """A client of the test's own (close it: ``with cluster.client() as c``)."""
        return Client(self.address, timeout=f"{START_SECONDS}s", set_as_default=False)

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler; return once it is gone."""
        if self.scheduler is not None:
            _kill(self.scheduler)
            self.scheduler = None

    def kill(self) -> None:
        """SIGKILL the scheduler and every worker (and their nannies' children)."""
        self.kill_scheduler()
        for proc in self.worker_procs:
            _kill(proc)
        self.worker_procs = []

    def restart(self) -> None:
        """Everything killed, then started again on the same address."""
        self.kill()
        self.start()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    # gone already, perhaps: a worker closes itself when its scheduler goes
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def start_cluster(port: int, logs: Path, workers: int = 2) -> Cluster:
    """A started :class:`Cluster`; skips (fails under CI) when it cannot start."""
    require_dask()
    cluster = Cluster(port, logs, workers)
    try:
        cluster.start()
    except Exception as exc:  # any failure to start is the same: no cluster for the test
        cluster.kill()
        tail = "".join(p.read_text(errors="replace")[-400:] for p in sorted(logs.glob("*.log")))
        require_dask(f"the Dask cluster did not start: {exc}\n{tail}")
    return cluster


class KillWorkerAt(WorkerPlugin):  # type: ignore[misc]
    """Kills its worker process when a part of ``rule`` starts executing there - once on the
    whole cluster: the first worker to create ``marker`` dies, and writes its address there."""

    def __init__(self, rule: str, marker: str) -> None:
        self.rule = rule
        self.marker = marker
        self.address = ""

    def setup(self, worker: Any) -> None:
        self.address = worker.address

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or not str(key).startswith(f"run_part-{self.rule}-"):
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, self.address.encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


class KillSchedulerAt(SchedulerPlugin):  # type: ignore[misc]
    """Kills the scheduler process when a part of ``rule`` is handed to a worker."""

    def __init__(self, rule: str) -> None:
        self.rule = rule

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if finish == "processing" and str(key).startswith(f"run_part-{self.rule}-"):
            os.kill(os.getpid(), signal.SIGKILL)
