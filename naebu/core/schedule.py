"""Schedules in the config: ``[schedule]``, a source's ``schedule`` and the daemon's
reminder time, each cron text or a table of ``cron`` or an interval."""

from __future__ import annotations

from typing import Any

from naebu.core.problems import Problem, did_you_mean

SCHEDULE_KEYS = ("cron", "interval_minutes", "interval_seconds", "misfire_grace_seconds")


def check_schedule(
    value: Any, key: str, problems: list[Problem], file: str
) -> dict[str, Any] | None:
    """A schedule as a table: ``"*/5 * * * *"`` (cron text) or ``{ cron = ... }`` or
    ``{ interval_minutes = 5 }``; appends a Problem per mistake."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"cron": value}
    if not isinstance(value, dict):
        problems.append(
            Problem(file, "must be cron text or a table", key=key, hint='"*/15 * * * *"')
        )
        return None
    for k in value:
        if k not in SCHEDULE_KEYS:
            problems.append(
                Problem(
                    file,
                    "unknown key",
                    key=f"{key}.{k}",
                    hint=did_you_mean(k, SCHEDULE_KEYS) or "keys: " + ", ".join(SCHEDULE_KEYS),
                )
            )
    if "cron" in value:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(str(value["cron"]))
        except ValueError as exc:
            problems.append(
                Problem(
                    file,
                    f"not a cron expression: {exc}",
                    key=f"{key}.cron",
                    hint='five fields: minute hour day month weekday, e.g. "*/15 * * * *"',
                )
            )
    for k in ("interval_minutes", "interval_seconds", "misfire_grace_seconds"):
        v = value.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            problems.append(
                Problem(file, f"must be a positive number, not {v!r}", key=f"{key}.{k}")
            )
    return value
