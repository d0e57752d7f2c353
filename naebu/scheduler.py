"""``naebu run`` without ``--once``: repeat the run on the schedule in config.

APScheduler 3.11 with one in-memory job derived from config at start-up (no persistent job
store: the jobs come from config each start, so they cannot multiply across restarts).
``coalesce`` folds missed runs into one and ``max_instances=1`` never lets two runs overlap.
The daemon's hardening (leader lock, catch-up, hot reload) is built on this.
"""

from __future__ import annotations

import logging
import signal
from datetime import datetime
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from naebu.config import Config
from naebu.pipeline import load_ruleset, run_once, summary_lines
from naebu.problems import ProblemsError

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_MINUTES = 15


def trigger_for(schedule: dict[str, Any]) -> CronTrigger | IntervalTrigger:
    """The trigger the ``[schedule]`` table asks for: ``cron = "*/15 * * * *"`` or
    ``interval_minutes = 15`` (the default)."""
    if "cron" in schedule:
        return CronTrigger.from_crontab(str(schedule["cron"]), timezone="Asia/Seoul")
    minutes = float(schedule.get("interval_minutes", DEFAULT_INTERVAL_MINUTES))
    return IntervalTrigger(minutes=minutes, timezone="Asia/Seoul")


def scheduled_run(config: Config) -> None:
    """One scheduled run; rule files are re-read each time so edits apply at the next run."""
    try:
        ruleset = load_ruleset(config)
    except ProblemsError as exc:
        for p in exc.problems:
            log.error("rule problem: %s", p)
        return
    summary = run_once(config, ruleset=ruleset)
    for line in summary_lines(summary, {r.meta.id: r.meta for r in ruleset.rules}):
        log.info(line)


def run_forever(config: Config) -> None:
    """Run now, then on the schedule, until SIGTERM or SIGINT."""
    # A daemon reports each run in its log; the CLI's default level would hide it.
    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    scheduler = BlockingScheduler(timezone="Asia/Seoul")
    scheduler.add_job(
        scheduled_run,
        trigger_for(config.schedule),
        args=[config],
        id="run",
        name="pull-evaluate-notify",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=int(config.schedule.get("misfire_grace_seconds", 3600)),
        next_run_time=datetime.now(),
        replace_existing=True,
    )

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping after the current run", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    log.info("naebu scheduler started")
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=True)
