"""The schedule of ``naebu run``: which jobs exist and when they fire (APScheduler 3.11).

Jobs are derived from config at every start-up and kept in memory: no persistent job store,
so they cannot multiply across restarts, and no job store is ever shared between processes
(APScheduler cannot do that safely; the leader lock in :mod:`naebu.daemon.leader` makes sure
only one process schedules at all). The jobs:

- ``run``: pull-evaluate-notify for every source without a schedule of its own, on
  ``[schedule]`` (``interval_minutes`` or ``cron``; default every 15 minutes);
- ``source:NAME``: the same for a source with ``schedule = "..."`` in its ``[sources.NAME]``
  (each batch still commits with its alerts and watermark in one transaction: a group is just
  a narrower run);
- ``retry:NAME``: a one-off retry of a failed source after its back-off (added when it fails);
- ``outbox``: flush the outbox every ``[daemon] outbox_interval_seconds``;
- ``reminders``: reminders and escalation on ``[daemon] reminders_cron``.

Every job has ``coalesce=True`` (a backlog of missed fires runs once), ``max_instances=1`` and
a misfire grace time (``[schedule] misfire_grace_seconds``, default one hour).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from naebu.settings.config import Config

if TYPE_CHECKING:
    from naebu.daemon.service import Daemon

TIMEZONE = "Asia/Seoul"
DEFAULT_INTERVAL_MINUTES = 15
DEFAULT_MISFIRE_GRACE_SECONDS = 3600


def trigger_for(schedule: dict[str, Any]) -> CronTrigger | IntervalTrigger:
    """The trigger a schedule table asks for: ``cron = "*/15 * * * *"``, ``interval_minutes``
    or ``interval_seconds`` (default every 15 minutes)."""
    if "cron" in schedule:
        return CronTrigger.from_crontab(str(schedule["cron"]), timezone=TIMEZONE)
    return IntervalTrigger(seconds=interval_seconds(schedule), timezone=TIMEZONE)


def interval_seconds(schedule: dict[str, Any]) -> float:
    """The interval of a schedule without ``cron``, in seconds."""
    if "interval_seconds" in schedule:
        return float(schedule["interval_seconds"])
    return float(schedule.get("interval_minutes", DEFAULT_INTERVAL_MINUTES)) * 60


def job_groups(config: Config) -> list[tuple[str, list[str] | None, dict[str, Any]]]:
    """``(job id, source names or None for all, schedule)`` of each pull-evaluate-notify job."""
    own = {n: s.schedule for n, s in config.sources.items() if s.schedule and s.enabled}
    rest = [n for n in config.sources if n not in own]
    groups: list[tuple[str, list[str] | None, dict[str, Any]]] = [
        ("run", rest if own else None, config.schedule)
    ]
    for name, schedule in own.items():
        groups.append((f"source:{name}", [name], schedule))
    return groups


def count_fires(config: Config, job_id: str, since: datetime, now: datetime) -> int:
    """How many times ``job_id`` should have fired after ``since`` up to ``now``."""
    schedule = next((s for j, _, s in job_groups(config) if j == job_id), None)
    if schedule is None:
        return 0
    if "cron" not in schedule:
        return max(0, math.floor((now - since).total_seconds() / interval_seconds(schedule)))
    trigger = CronTrigger.from_crontab(str(schedule["cron"]), timezone=TIMEZONE)
    start, end = since.astimezone(), now.astimezone()  # naive ledger times are local
    count, fire = 0, trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end and count < 10_000:
        if fire > start:
            count += 1
        fire = trigger.get_next_fire_time(fire, fire)  # the one after `fire`
    return count


def build_scheduler(daemon: Daemon) -> BackgroundScheduler:
    """The leader's scheduler with every job of :func:`job_groups` plus outbox and reminders."""
    config = daemon.config
    grace = int(config.schedule.get("misfire_grace_seconds", DEFAULT_MISFIRE_GRACE_SECONDS))
    groups = job_groups(config)
    scheduler = BackgroundScheduler(
        timezone=TIMEZONE,
        # Jobs wait for one another on the daemon's run lock; a thread each keeps a waiting
        # job from blocking the outbox flush's quick "busy, skip" check.
        executors={"default": ThreadPoolExecutor(len(groups) + 3)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
    )
    now = datetime.now().astimezone()
    for job_id, sources, schedule in groups:
        scheduler.add_job(
            daemon.run_job,
            trigger_for(schedule),
            args=[job_id, sources],
            id=job_id,
            name="pull-evaluate-notify" + (f" {sources}" if sources is not None else ""),
            next_run_time=now,  # at start: catch up on whatever the downtime missed
            replace_existing=True,
        )
    scheduler.add_job(
        daemon.flush_job,
        IntervalTrigger(seconds=config.daemon.outbox_interval_seconds, timezone=TIMEZONE),
        id="outbox",
        name="flush the outbox",
        replace_existing=True,
    )
    scheduler.add_job(
        daemon.reminders_job,
        CronTrigger.from_crontab(config.daemon.reminders_cron, timezone=TIMEZONE),
        id="reminders",
        name="reminders and escalation",
        replace_existing=True,
    )
    return scheduler
