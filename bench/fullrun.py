"""A whole ``naebu run --once`` in a subprocess: its wall time, the run's own split into pull /
evaluate / store / notify (from the ``runs`` ledger), the process's peak RSS, and its alerts
against the demo's labels.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.city import City
from bench.evaluate import difference

#: The phases of :attr:`naebu.pipeline.RunSummary.timings`, in run order.
PHASES = ("pull", "evaluate", "store", "notify")


@dataclass
class RunResult:
    """One ``naebu run --once``."""

    wall_seconds: float
    peak_rss_mb: float
    exit_code: int
    timings: dict[str, float]
    status: str | None
    new_alerts: int
    rows_read: int
    output_tail: str

    def as_json(self) -> dict[str, Any]:
        """JSON-safe form for results.json."""
        other = self.wall_seconds - sum(self.timings.get(p, 0.0) for p in PHASES)
        return {
            "wall_seconds": round(self.wall_seconds, 3),
            "timings": {p: round(self.timings.get(p, 0.0), 3) for p in PHASES},
            # start-up (imports, rule loading), the directory, the ledger: outside the phases
            "other_seconds": round(other, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "exit_code": self.exit_code,
            "status": self.status,
            "new_alerts": self.new_alerts,
            "rows_read": self.rows_read,
        }


def measure(
    command: list[str],
    cwd: Path,
    log: Path,
    *,
    timeout: float = 3600,
    env: dict[str, str] | None = None,
) -> tuple[float, float, int]:
    """Run ``command`` in ``cwd`` (its output into ``log``): wall seconds, peak RSS in MB and
    exit code.

    Peak RSS is read from /proc while the process lives, every 0.1 s: the largest of its own
    high-water mark (``VmHWM``) and of the resident memory of it and its children (the worker
    reading first pulls, ``naebu.connectors.worker``) summed, so the memory it needs at once.
    Not ``wait4``'s ``ru_maxrss``: Linux carries the high-water mark of the process that
    forked it across ``exec``, so it reported the benchmark's own size (about 1.9 GB holding
    every frame) for every run.
    """
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        tree = TreeRss(proc.pid)
        tree.start()
        try:
            _, status = os.waitpid(proc.pid, 0)
        finally:
            killer.cancel()
            tree.done.set()
            tree.join()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return wall, tree.peak_kib / 1024, proc.returncode


def run_once(city: City, *, timeout: float = 3600) -> RunResult:
    """Run ``naebu run --once`` in the city's work folder and measure it (:func:`measure`)."""
    log = city.workdir / "run.log"
    wall, peak_mb, code = measure(
        [sys.executable, "-m", "naebu.cli", "run", "--once", "--config", str(city.config_path)],
        city.workdir, log, timeout=timeout,
    )  # fmt: skip
    ledger = _last_run(city.store_path)
    summary = ledger.get("summary") or {}
    return RunResult(
        wall_seconds=wall,
        peak_rss_mb=peak_mb,
        exit_code=code,
        timings={k: float(v) for k, v in (summary.get("timings") or {}).items()},
        status=ledger.get("status"),
        new_alerts=sum((summary.get("new_alerts") or {}).values()),
        rows_read=sum(s.get("rows_read", 0) for s in summary.get("sources") or []),
        output_tail="\n".join(log.read_text(encoding="utf-8").splitlines()[-8:]),
    )


class TreeRss(threading.Thread):
    """Samples a process's memory (see :func:`run_once`) until ``done``."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            together = sum(_status_kib(p, "VmRSS") for p in _tree(self.pid))
            self.peak_kib = max(self.peak_kib, together, _status_kib(self.pid, "VmHWM"))


def _tree(pid: int) -> list[int]:
    """``pid`` and its direct children (from /proc; empty where /proc is not there)."""
    children = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return [pid, *children]


def _status_kib(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/PID/status (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _last_run(store: Path) -> dict[str, Any]:
    if not store.exists():
        return {}
    with sqlite3.connect(store) as db:
        row = db.execute("select status, summary from runs order by id desc limit 1").fetchone()
    if row is None:
        return {}
    summary = row[1]
    return {
        "status": row[0],
        "summary": json.loads(summary) if isinstance(summary, str) else summary,
    }


def alerts_vs_labels(city: City) -> dict[str, Any]:
    """The records of the store's alerts (rule, dataset, record key; an alert holds its case's
    records) against ``labels.csv``."""
    with sqlite3.connect(city.store_path) as db:
        found = set(
            db.execute(
                "select a.rule_id, m.dataset, m.record_key from alert_members m "
                "join alerts a on a.id = m.alert_id"
            ).fetchall()
        )
    return difference({(str(a), str(b), str(c)) for a, b, c in found}, city.labels())
