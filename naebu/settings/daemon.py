"""``[daemon]``: how ``naebu run`` behaves when it stays up."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from naebu.core.problems import Problem, did_you_mean
from naebu.core.schedule import check_schedule


@dataclass
class DaemonConfig:
    """``[daemon]``: how ``naebu run`` behaves when it stays up."""

    #: How often a standby tries to take the leader lock (takeover within this time).
    lock_poll_seconds: float = 10.0
    #: The health and metrics endpoint (``/healthz``, ``/metrics``); port 0 turns it off.
    http_host: str = "127.0.0.1"
    http_port: int = 9640
    #: ``text`` or ``json`` (one JSON object a line, for a log shipper).
    log_format: str = "text"
    #: How often the outbox is flushed between runs.
    outbox_interval_seconds: float = 60.0
    #: When reminders and escalations are sent (cron, Asia/Seoul).
    reminders_cron: str = "0 9 * * 1-5"
    #: A failed source is retried after base * 2**(failures-1) seconds, at most max.
    source_retry_base_seconds: float = 30.0
    source_retry_max_seconds: float = 900.0
    #: Admins are told after this many consecutive failures of a source.
    source_failures_before_notice: int = 3
    #: On SIGTERM: how long the outbox may be flushed before the daemon exits anyway.
    shutdown_timeout_seconds: float = 30.0


_DAEMON_NUMBERS = (
    "lock_poll_seconds",
    "outbox_interval_seconds",
    "source_retry_base_seconds",
    "source_retry_max_seconds",
    "shutdown_timeout_seconds",
)


def parse_daemon(raw: dict[str, Any], problems: list[Problem], file: str) -> DaemonConfig:
    """``[daemon]`` as read from the config at ``file``; every mistake goes to ``problems``."""
    cfg = DaemonConfig()
    known = list(vars(cfg))
    for key, value in raw.items():
        where = f"daemon.{key}"
        if key not in known:
            problems.append(
                Problem(
                    file,
                    "unknown key",
                    key=where,
                    hint=did_you_mean(key, known) or "keys: " + ", ".join(known),
                )
            )
        elif key in _DAEMON_NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                problems.append(
                    Problem(file, f"must be a positive number, not {value!r}", key=where)
                )
            else:
                setattr(cfg, key, float(value))
        elif key in ("http_port", "source_failures_before_notice"):
            low = 0 if key == "http_port" else 1
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
                problems.append(
                    Problem(file, f"must be a whole number >= {low}, not {value!r}", key=where)
                )
            else:
                setattr(cfg, key, value)
        elif key == "log_format":
            if value not in ("text", "json"):
                problems.append(
                    Problem(
                        file, f"unknown log format {value!r}", key=where, hint='"text" or "json"'
                    )
                )
            else:
                cfg.log_format = value
        elif key == "reminders_cron":
            found: list[Problem] = []
            check_schedule({"cron": value}, where, found, file)
            problems += [replace(p, key=where) for p in found]  # the key as the user wrote it
            cfg.reminders_cron = str(value)
        elif not isinstance(value, str) or not value:
            problems.append(Problem(file, "must be text", key=where))
        else:
            setattr(cfg, key, value)
    return cfg
