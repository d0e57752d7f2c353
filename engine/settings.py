"""``[engine]``: where rules are evaluated, pandas in this process or a Dask cluster."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from naebu.core.problems import Problem, did_you_mean

BACKENDS = ("pandas", "dask")
#: Address schemes of a dask.distributed scheduler.
SCHEDULER_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://")


@dataclass
class EngineConfig:
    """``[engine]``: where rules are evaluated (docs/dask.md).

    ``backend = "pandas"`` (the default) evaluates every rule in this process. ``"dask"``
    splits each rule into parts evaluated on a dask.distributed cluster: an existing one at
    ``scheduler`` (``tcp://host:8786``), or ``local_workers`` worker processes started on this
    machine. ``partitions``: parts per rule (default: twice the cluster's worker threads);
    ``min_part_rows``: a rule over fewer rows than this per part is split into fewer parts, or
    evaluated in this process, where moving it would cost more than it saves.
    """

    backend: str = "pandas"
    scheduler: str | None = None
    local_workers: int | None = None
    partitions: int | None = None
    min_part_rows: int = 50_000


def parse_engine(raw: dict[str, Any], problems: list[Problem], file: str) -> EngineConfig:
    """``[engine]`` as read from the config at ``file``; every mistake goes to ``problems``
    (a dask backend without a cluster, or without dask installed, among them)."""
    cfg = EngineConfig()
    known = list(vars(cfg))

    def problem(key: str, message: str, hint: str | None = None) -> None:
        problems.append(Problem(file, message, key=f"engine.{key}", hint=hint))

    for key, value in raw.items():
        if key not in known:
            problem(key, "unknown key", did_you_mean(key, known) or "keys: " + ", ".join(known))
        elif key == "backend":
            if value not in BACKENDS:
                hint = did_you_mean(str(value), BACKENDS) or 'use "pandas" or "dask"'
                problem(key, f"unknown backend {value!r}", hint)
            else:
                cfg.backend = value
        elif key == "scheduler":
            if not isinstance(value, str) or not value.startswith(SCHEDULER_SCHEMES):
                problem(
                    key, f"not a scheduler address: {value!r}", 'scheduler = "tcp://10.0.0.5:8786"'
                )
            else:
                cfg.scheduler = value
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problem(key, f"must be a whole number >= 1, not {value!r}", f"{key} = 2")
        else:
            setattr(cfg, key, value)
    if cfg.backend == "dask":
        if cfg.scheduler and cfg.local_workers:
            problem(
                "local_workers",
                "give either scheduler (an existing cluster) or local_workers (start one here), not both",
            )
        elif "scheduler" not in raw and "local_workers" not in raw:
            problem(
                "backend",
                'backend "dask" needs a cluster',
                'scheduler = "tcp://host:8786", or local_workers = 2 for one on this machine',
            )
        if importlib.util.find_spec("distributed") is None:
            problem("backend", "dask is not installed", "pip install 'naebu[dask]'")
    else:
        for key in ("scheduler", "local_workers", "partitions", "min_part_rows"):
            if key in raw:
                problem(key, f"{key} applies only to the dask backend", 'backend = "dask"')
    return cfg
