"""Where rules are evaluated: in this process with pandas (the default), or on a Dask cluster.

A backend turns one rule and its frames into findings, exactly as ``rule.evaluate`` does: the
pipeline calls :meth:`Backend.evaluate` and never needs to know which backend it has. The Dask
backend (:mod:`naebu.engine.backends.dask`, docs/dask.md) splits the rule into parts with
:mod:`naebu.engine.backends.partition` and gives the same findings in the same order.

:func:`backend_for` keeps one backend per ``[engine]`` setting for the life of the process, so
a daemon connects to its cluster (or starts its local one) once, not on every run - and afresh
at the next run once that connection is lost (a scheduler restarted, a network cut): see
:meth:`Backend.usable` and docs/dask.md, "When the cluster fails".
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Mapping

import pandas as pd

from naebu.engine.findings import Finding
from naebu.engine.registry import EvalContext, RuleType
from naebu.engine.settings import EngineConfig

__all__ = ["Backend", "PandasBackend", "backend_for", "close_all"]

log = logging.getLogger(__name__)


class Backend:
    """Evaluates rules; see the module docstring."""

    #: Shown in logs and the docs: "pandas", "dask".
    name = "backend"

    def evaluate(
        self, rule: RuleType, frames: Mapping[str, pd.DataFrame], ctx: EvalContext
    ) -> list[Finding]:
        """The rule's findings over ``frames`` (what ``rule.evaluate(frames, ctx)`` gives)."""
        raise NotImplementedError

    def usable(self) -> bool:
        """Whether the next run may use this backend (a lost cluster connection is not)."""
        return True

    def close(self) -> None:
        """Let go of what the backend holds (a cluster connection, local workers)."""


class PandasBackend(Backend):
    """Every rule in this process, with pandas: today's behaviour and the default."""

    name = "pandas"

    def evaluate(
        self, rule: RuleType, frames: Mapping[str, pd.DataFrame], ctx: EvalContext
    ) -> list[Finding]:
        return rule.evaluate(frames, ctx)


_LOCK = threading.Lock()
_OPEN: dict[tuple[object, ...], Backend] = {}


def backend_for(config: EngineConfig) -> Backend:
    """The backend ``[engine]`` asks for, created on first use and kept for the process.

    A kept backend whose cluster connection was lost is closed and replaced: the new one
    connects afresh (waiting as the first did). Raises
    :class:`~naebu.engine.backends.faults.ClusterUnreachable` (a :class:`~naebu.core.problems.ProblemsError`)
    when the Dask cluster cannot be reached or started, with the address and the reason.
    """
    if config.backend == "pandas":
        return PandasBackend()
    key = (
        config.backend,
        config.scheduler,
        config.local_workers,
        config.partitions,
        config.min_part_rows,
    )
    with _LOCK:
        backend = _OPEN.get(key)
        if backend is not None and not backend.usable():
            del _OPEN[key]
            log.info(
                "the %s backend's cluster connection was lost: connecting again", config.backend
            )
            backend.close()
            backend = None
        if backend is None:
            from naebu.engine.backends.dask import DaskBackend  # dask is an optional extra

            backend = DaskBackend(
                scheduler=config.scheduler,
                local_workers=config.local_workers,
                partitions=config.partitions,
                min_part_rows=config.min_part_rows,
            )
            _OPEN[key] = backend
        return backend


def close_all() -> None:
    """Close every backend :func:`backend_for` opened (at exit, and in tests)."""
    with _LOCK:
        backends = list(_OPEN.values())
        _OPEN.clear()
    for backend in backends:
        backend.close()


atexit.register(close_all)
