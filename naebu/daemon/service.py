"""The daemon: leader election, the scheduled jobs, source back-off, graceful shutdown.

Life of a ``naebu run`` process::

    start: HTTP endpoint up, then wait as a standby until the leader lock is ours
    leader: mark runs a dead leader left "running" as abandoned; start APScheduler with
            one pull-evaluate-notify job per schedule group (the [schedule] default, and each
            source that has a schedule of its own), the outbox flush and the reminders job
    every few seconds: check the lock is still held; if not, stop at once (exit 1, so
            systemd restarts the process as a standby) - never run jobs without the lock
    SIGTERM/SIGINT: the current run stops after the batch in hand (every committed batch is
            whole), the outbox is flushed until ``shutdown_timeout_seconds`` after the signal,
            the lock is released; exit 0 - within that timeout (plus a second or two) even
            when a send hangs: a send still waiting then is abandoned, its message stays
            ``sending`` with a note, and the next pass tells the admins (alerts/stuck.py)

Jobs never overlap: they share one run lock, because two runs at once would race on rule
state and on the outbox (the outbox has one deliverer). A flush holds the run lock for about
one message timeout per hung channel at most (alerts/outbox.py), so a hung mail server delays
a run by that much, not by one timeout per message. APScheduler's ``max_instances=1`` and
``coalesce`` fold a backlog of fires into one run, and a catch-up run after downtime reads
every missed window in watermark order, committing window by window; its alerts go out as one
digest per official, not one message per missed run.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, select

from naebu.alerts import Directory, deliver_pending
from naebu.alerts.admin_notices import queue_admin_notice
from naebu.daemon import http
from naebu.daemon.cluster import ClusterWatch
from naebu.daemon.leader import LeaderLock, leader_lock, node_name
from naebu.daemon.rules import RuleKeeper
from naebu.daemon.scheduler import TIMEZONE, build_scheduler, count_fires
from naebu.daemon.status import collect_status
from naebu.engine.backends.faults import ClusterUnreachable
from naebu.pipeline import RunSummary, ledger, run_once
from naebu.settings.config import Config
from naebu.store import history
from naebu.store import tables as store

log = logging.getLogger(__name__)


@dataclass
class SourceHealth:
    """Consecutive failures of one source, and when it may be tried again."""

    failures: int = 0
    next_attempt: datetime | None = None
    last_error: str | None = None
    noticed: bool = False


class Daemon:
    """One ``naebu run`` process: standby until it holds the leader lock, then the scheduler."""

    def __init__(self, config: Config, *, node: str | None = None) -> None:
        self.config = config
        self.node = node or node_name()
        self.engine: Engine = store.connect(config.store_url)
        self.lock: LeaderLock = leader_lock(config.store_url, self.node)
        self.keeper = RuleKeeper(config, self.engine)
        self.stopping = threading.Event()
        self.run_lock = threading.Lock()
        self.health: dict[str, SourceHealth] = {}
        #: Runs in a row that could not reach the Dask cluster ([engine] backend = "dask").
        self.cluster = ClusterWatch(config, self.engine)
        self.role = "standby"
        self.exit_code = 0
        self.scheduler: BackgroundScheduler | None = None
        self.rule_problems = 0
        self._caught_up: set[str] = set()
        self.metrics = http.Metrics(self._store_status)
        self._signals = 0
        #: time.monotonic() by which the daemon must be done stopping (set on the first signal).
        self.shutdown_deadline: float | None = None

    # -- life cycle ------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until stopped; the exit code (0 stopped by a signal, 1 the lock was lost)."""
        self._install_signals()
        server = None
        if self.config.daemon.http_port:
            server = http.serve(
                self.config.daemon.http_host,
                self.config.daemon.http_port,
                self.metrics,
                self._health,
            )
        try:
            if self._wait_for_leadership():
                self._lead()
        finally:
            self._shutdown()
            if server is not None:
                server.shutdown()
        return self.exit_code

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            self._signals += 1
            if self._signals > 1:
                log.warning("second signal %s: exiting now; the database rolls back", signum)
                os._exit(130)
            log.info("signal %s: stopping after the batch in hand", signum)
            self._begin_stopping()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def _begin_stopping(self) -> None:
        if self.shutdown_deadline is None:
            timeout = self.config.daemon.shutdown_timeout_seconds
            self.shutdown_deadline = time.monotonic() + timeout
        self.stopping.set()

    def _wait_for_leadership(self) -> bool:
        poll = self.config.daemon.lock_poll_seconds
        announced = False
        while not self.stopping.is_set():
            try:
                if self.lock.try_acquire():
                    log.info("%s is the leader: running the schedule", self.node)
                    return True
            except Exception as exc:  # store down: keep waiting, it may come back
                log.error("cannot reach the store for the leader lock: %s", exc)
            if not announced:
                log.info(
                    "standby: another naebu run leads (%s); trying every %gs",
                    self._holder_or_unknown(),
                    poll,
                )
                announced = True
            self.stopping.wait(poll)
        return False

    def _holder_or_unknown(self) -> str:
        try:
            return self.lock.holder() or "unknown"
        except Exception:
            return "unknown"

    def _lead(self) -> None:
        self.role = "leader"
        self.metrics.leader.set(1)
        self._abandon_dead_runs()
        self.scheduler = build_scheduler(self)
        self.scheduler.start()
        check_every = min(5.0, self.config.daemon.lock_poll_seconds)
        while not self.stopping.wait(check_every):
            if not self.lock.alive():
                log.critical("the leader lock is lost: stopping so that no two daemons run jobs")
                self.exit_code = 1
                self._begin_stopping()

    def _shutdown(self) -> None:
        if self.scheduler is not None:
            self._begin_stopping()
            # The run in hand sees `stopping` between two batches and ends; a flush in hand
            # starts no new message and gives up a hung send at the deadline; wait for them.
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
            self._flush(final=True)
        self.lock.release()
        self.metrics.leader.set(0)
        self.engine.dispose()
        log.info("naebu run stopped (%s)", self.role)

    def _abandon_dead_runs(self) -> None:
        # Only the leader runs jobs, so a run still "running" now belongs to a dead leader.
        n = ledger.abandon_dead_runs(self.engine, holding_lock=True)
        if n:
            log.warning("%d run(s) of a previous leader never ended; marked abandoned", n)

    # -- jobs ------------------------------------------------------------------------------

    def run_job(self, job_id: str, sources: list[str] | None) -> None:
        """A pull-evaluate-notify job (the scheduler calls it; jobs never overlap)."""
        with self.run_lock:
            if self.stopping.is_set():
                return
            try:
                self._run(job_id, sources)
            except Exception:  # a job must never kill the scheduler thread
                log.exception("job %s failed", job_id)
                self.metrics.runs.labels(job_id, "failed").inc()

    def retry_job(self, source: str) -> None:
        """Try a failed source again once its back-off has passed."""
        self.run_job(f"retry:{source}", [source])

    def flush_job(self) -> None:
        """Send what the outbox holds (skipped while a run is on: the run sends at its end)."""
        if not self.run_lock.acquire(blocking=False):
            return
        try:
            if not self.stopping.is_set():
                self._flush()
        finally:
            self.run_lock.release()

    def reminders_job(self) -> None:
        """Reminders before deadlines and escalation of overdue alerts (logic in alerts/)."""
        from naebu.alerts.escalation import remind_and_escalate

        with self.run_lock:
            if self.stopping.is_set():
                return
            try:
                report = remind_and_escalate(
                    self.engine,
                    self._directory(),
                    self.config.notify,
                    now=datetime.now().replace(microsecond=0),
                    routing=self.config.routing,
                    workflow=self.config.workflow,
                )
                log.info("reminders and escalation: %s", report)
            except Exception:
                log.exception("reminders and escalation failed")
            self._flush()

    def _directory(self) -> Directory:
        # From the record history: the directory as of the last successful pull.
        # The department tree too: each audit office hears of its own organisation's alerts.
        with self.engine.connect() as conn:
            frame = history.load(conn, self.config.routing.directory)
            departments = history.load(conn, "departments")
        return Directory.from_frame(
            frame,
            fallback_roles=self.config.routing.fallback_roles,
            routing=self.config.routing,
            departments=departments,
        )

    def _run(self, job_id: str, sources: list[str] | None) -> None:
        reload = self.keeper.refresh()
        self.rule_problems = len(reload.problems)
        self.metrics.rule_problems.set(len(reload.problems))
        self.metrics.rules_kept.set(len(reload.kept))
        now = datetime.now().replace(microsecond=0)
        if reload.new_problems:
            self._notice_rule_problems(reload.new_problems, reload.kept, now)
        if not reload.ruleset.rules:
            log.error("no rule loads: nothing to evaluate (fix the rule files; naebu check)")
            return
        extra: dict[str, Any] = {"job": job_id, "node": self.node}
        catch_up = self._catch_up(job_id, now)
        if catch_up:
            extra["catch_up"] = catch_up
        if reload.kept or reload.held:
            # held back for approval (naebu/rule_drafts.py): what runs is the previous version
            extra["rules_last_good"] = sorted({*reload.kept, *reload.held})
        started = time.monotonic()
        try:
            summary = run_once(
                self.config,
                now=now,
                ruleset=reload.ruleset,
                engine=self.engine,
                sources=sources,
                skip=self._backing_off(sources),
                should_stop=self.stopping.is_set,
                deliver=False,
                extra=extra,
            )
        except ClusterUnreachable as exc:
            # Said in words, without a traceback: the run read and evaluated nothing (its
            # ledger row says why); the next run connects again.
            self.metrics.runs.labels(job_id, "failed").inc()
            self.cluster.not_reached(exc, now)
            if not self.stopping.is_set():
                self._flush()
            return
        self.metrics.run_seconds.labels(job_id).observe(time.monotonic() - started)
        self.metrics.runs.labels(job_id, summary.status).inc()
        self._log_summary(summary)
        self._after_run(summary, now)
        self.cluster.after_run(summary, now)
        if not self.stopping.is_set():
            self._flush()

    def _log_summary(self, summary: RunSummary) -> None:
        data = summary.as_json()
        errors = [f"{s.name}: {s.error}" for s in summary.sources if s.error]
        if summary.rule_errors:
            errors.append(
                f"{len(summary.rule_errors)} rule(s) failed: " + ", ".join(summary.rule_errors)
            )
        lost = (summary.extra.get("cluster") or {}).get("lost")
        if lost:
            errors.append("the Dask cluster lost " + ", ".join(lost))
        log.info(
            "run #%d %s (%s): %d row(s) read, %d new alert(s), %d digest(s)%s",
            summary.run_id,
            summary.status,
            summary.extra.get("job"),
            sum(s.rows_read for s in summary.sources),
            sum(summary.new_alerts.values()),
            summary.digests_queued,
            ("; errors: " + "; ".join(errors)) if errors else "",
            extra={"run_id": summary.run_id, "run": data},
        )

    def _catch_up(self, job_id: str, now: datetime) -> dict[str, Any] | None:
        """On a job's first run as leader: how many runs the downtime missed."""
        if job_id in self._caught_up or job_id.startswith("retry:"):
            return None
        self._caught_up.add(job_id)
        r = store.runs.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.started_at, r.summary).order_by(r.id.desc()).limit(200)
            ).all()
        last = next(
            (row.started_at for row in rows if (row.summary or {}).get("job", "run") == job_id),
            None,
        )
        if last is None:
            return None
        missed = count_fires(self.config, job_id, last, now) - 1
        if missed < 1:
            return None
        log.warning(
            "catch-up: %s missed %d run(s) since %s; reading every missed window in order, "
            "one digest per official",
            job_id,
            missed,
            last,
        )
        return {"since": last.isoformat(sep=" "), "missed_runs": missed}

    # -- sources down ----------------------------------------------------------------------

    def _backing_off(self, sources: list[str] | None) -> dict[str, str]:
        now = datetime.now() + timedelta(seconds=1)  # a retry fired on time is due
        skip = {}
        for name, h in self.health.items():
            if sources is not None and name not in sources:
                continue
            if h.next_attempt is not None and h.next_attempt > now:
                skip[name] = (
                    f"backing off after {h.failures} failure(s) until {h.next_attempt:%H:%M:%S}"
                )
        return skip

    def _after_run(self, summary: RunSummary, now: datetime) -> None:
        d = self.config.daemon
        for rep in summary.sources:
            if rep.skipped:
                continue
            h = self.health.setdefault(rep.name, SourceHealth())
            if rep.error:
                h.failures += 1
                h.last_error = rep.error
                delay = min(
                    d.source_retry_base_seconds * 2 ** (h.failures - 1), d.source_retry_max_seconds
                )
                h.next_attempt = datetime.now() + timedelta(seconds=delay)
                log.warning(
                    "source %s failed %d time(s) in a row; its watermark stays; retry in %gs",
                    rep.name,
                    h.failures,
                    delay,
                    extra={"source": rep.name, "failures": h.failures},
                )
                if self.scheduler is not None and not self.stopping.is_set():
                    self.scheduler.add_job(
                        self.retry_job,
                        DateTrigger(run_date=h.next_attempt, timezone=TIMEZONE),
                        args=[rep.name],
                        id=f"retry:{rep.name}",
                        name=f"retry source {rep.name}",
                        replace_existing=True,
                        misfire_grace_time=None,
                    )
                if h.failures == d.source_failures_before_notice:
                    h.noticed = True
                    queue_admin_notice(
                        self.engine,
                        self.config.notify,
                        f"원천 {rep.name} 연결 실패 {h.failures}회 연속",
                        f"source {rep.name} ({rep.dataset}) failed {h.failures} runs in a row.\n"
                        f"last error: {rep.error}\n"
                        "Its watermark stays where it was: nothing is lost, the missed rows are "
                        "read when it answers again. Other sources go on.",
                        now=now,
                    )
            else:
                if h.noticed:
                    queue_admin_notice(
                        self.engine,
                        self.config.notify,
                        f"원천 {rep.name} 복구",
                        f"source {rep.name} answers again after {h.failures} failed run(s); "
                        f"{rep.rows_read} row(s) read.",
                        now=now,
                    )
                    log.info("source %s is back after %d failure(s)", rep.name, h.failures)
                self.health[rep.name] = SourceHealth()
            self.metrics.source_failures.labels(rep.name).set(self.health[rep.name].failures)

    def _notice_rule_problems(self, problems: list[Any], kept: list[str], now: datetime) -> None:
        body = "\n".join(str(p) for p in problems)
        if kept:
            body += "\n\nrunning in their last good version: " + ", ".join(kept)
        body += "\n\nFix the file(s) and check with `naebu check`; the next run picks them up."
        queue_admin_notice(
            self.engine, self.config.notify, f"규칙 파일 오류 {len(problems)}건", body, now=now
        )

    # -- outbox ----------------------------------------------------------------------------

    def _flush(self, final: bool = False) -> None:
        """Deliver the due outbox. While stopping, no new message starts and a send still
        waiting at the shutdown deadline is abandoned; ``final`` (the flush at shutdown) sends
        what can be sent by then, and waits no longer whatever happens (a store that hangs)."""

        def deliver() -> None:
            try:
                report = deliver_pending(
                    self.engine,
                    self.config.notify.for_delivery(),
                    self._directory(),
                    now=datetime.now().replace(microsecond=0),
                    should_stop=None if final else self.stopping.is_set,
                    abandon_at=lambda: self.shutdown_deadline,
                )
                if report.attempted or report.abandoned:
                    log.info(
                        "outbox: %d sent, %d to retry, %d failed%s%s",
                        report.sent,
                        report.retrying,
                        report.failed,
                        f" ({report.not_tried} not tried: channel hung)"
                        if report.not_tried
                        else "",
                        f", {report.abandoned} abandoned" if report.abandoned else "",
                    )
            except Exception:
                log.exception("outbox flush failed")

        if not final:
            deliver()
            return
        worker = threading.Thread(target=deliver, name="naebu-flush", daemon=True)
        worker.start()
        left = (self.shutdown_deadline or time.monotonic()) - time.monotonic()
        worker.join(max(left, 0.0) + 1.0)
        if worker.is_alive():
            log.warning("outbox flush still busy at the shutdown deadline: leaving it")

    # -- observability ---------------------------------------------------------------------

    def _store_status(self) -> dict[str, Any] | None:
        try:
            return collect_status(
                self.config, self.engine, self.node if self.role == "leader" else None
            )
        except Exception as exc:
            log.warning("status query failed: %s", exc)
            return None

    def _health(self) -> tuple[bool, dict[str, Any]]:
        ok = self.role == "standby" or self.lock.alive()
        body = {
            "status": "ok" if ok else "lock lost",
            "role": self.role,
            "node": self.node,
            "rule_problems": self.rule_problems,
            "sources_failing": sorted(n for n, h in self.health.items() if h.failures),
            "cluster_unreachable_runs": self.cluster.down_runs,
        }
        return ok, body


def run_forever(config: Config) -> int:
    """``naebu run`` without ``--once``: serve until SIGTERM/SIGINT; returns the exit code."""
    return Daemon(config).serve()
