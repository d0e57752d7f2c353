"""The ``[cluster]`` section: when the daemon tells the admins its Dask cluster is out of reach.

::

    [cluster]
    unreachable_runs_before_notice = 3   # the default

With ``[engine] backend = "dask"``, a daemon run that cannot reach the cluster (the scheduler
does not answer when the run starts, or is lost during it) counts one; after this many such
runs in a row the ``[notify] admins`` are told once, and once more when a run reaches the
cluster again (naebu/daemon/cluster.py, docs/dask.md). The section applies only to the dask
backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naebu.core.problems import Problem, did_you_mean

KEYS = ("unreachable_runs_before_notice",)


@dataclass(frozen=True)
class ClusterConfig:
    """``[cluster]``, checked."""

    #: Runs in a row that could not reach the cluster before the admins are told.
    unreachable_runs_before_notice: int = 3


def parse_cluster(
    raw: dict[str, Any], backend: str, problems: list[Problem], file: str
) -> ClusterConfig:
    """``[cluster]`` as read from the config at ``file``, for ``[engine] backend``; every
    mistake is added to ``problems``."""
    runs = ClusterConfig.unreachable_runs_before_notice
    for key, value in raw.items():
        where = f"cluster.{key}"
        if key not in KEYS:
            hint = did_you_mean(key, KEYS) or "keys: " + ", ".join(KEYS)
            problems.append(Problem(file, "unknown key", key=where, hint=hint))
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(
                Problem(
                    file,
                    f"must be a whole number of runs >= 1, not {value!r}",
                    key=where,
                    hint=f"{key} = 3",
                )
            )
        else:
            runs = value
    if raw and backend != "dask":
        problems.append(
            Problem(
                file,
                "[cluster] applies only to the dask backend",
                key="cluster",
                hint='[engine] backend = "dask", or remove [cluster]',
            )
        )
    return ClusterConfig(unreachable_runs_before_notice=runs)
