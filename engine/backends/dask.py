"""The Dask backend: each rule split into parts evaluated on a dask.distributed cluster.

Set in ``config.toml`` (docs/dask.md):

```toml
[engine]
backend = "dask"
scheduler = "tcp://10.0.0.5:8786"   # an existing cluster; or local_workers = 2 to start one here
partitions = 8                      # parts per rule (default: twice the cluster's threads)
```

For each rule, :func:`engine.backends.partition.plan` decides the parts; every part's rows,
and the datasets every part needs whole, are scattered to the workers; each worker runs the
rule's own ``evaluate`` on its part (:func:`run_part`); the findings come back in the order a
whole evaluation gives. A rule that cannot be split is evaluated here, in this process, as
the pandas backend does - moving its data to a worker would only add the transfer.

Workers import naebu's rule types to unpickle the rules they are sent: they must run the same
naebu version (and its dependencies, durable_rules included) as this process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from distributed import Client, LocalCluster

from engine.backends import Backend
from engine.backends.partition import Part, evaluate_part, merge, plan
from engine.findings import Finding
from engine.registry import EvalContext, RuleType
from naebu.problems import Problem, ProblemsError

log = logging.getLogger(__name__)

#: How long to wait for a scheduler (and for a local cluster's workers) before giving up.
CONNECT_TIMEOUT = "10s"
#: Data smaller than this travels inside the task (one round trip); larger data is scattered
#: to the workers first, so the scheduler never holds it.
INLINE_BYTES = 2_000_000
#: Datasets given whole to every part, kept on the workers while the same frame is reused by
#: the next rules (a run loads each dataset once for all its rules).
SHARED_KEPT = 8


class DaskBackend(Backend):
    """Rules evaluated on a dask.distributed cluster; see the module docstring."""

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        local_workers: int | None = None,
        partitions: int | None = None,
        min_part_rows: int = 50_000,
    ) -> None:
        self._cluster: LocalCluster | None = None
        self.min_part_rows = min_part_rows
        self._shared: dict[int, tuple[pd.DataFrame, Any]] = {}
        try:
            if scheduler:
                self.client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            else:
                # Worker processes, one thread each: durable_rules (C) is not thread safe, and
                # processes use both cores for pandas. Only this machine's loopback.
                self._cluster = LocalCluster(
                    n_workers=local_workers or 2,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.WARNING,
                )
                self.client = Client(self._cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = scheduler or f"a local cluster of {local_workers or 2} workers"
            raise ProblemsError(
                [
                    Problem(
                        "[engine]",
                        f"cannot reach {where}: {exc}",
                        key="engine.scheduler" if scheduler else "engine.local_workers",
                        hint="start the scheduler and workers first (docs/dask.md), "
                        'or use backend = "pandas"',
                    )
                ]
            ) from None
        threads = sum(self.client.nthreads().values())
        self.partitions = partitions or max(2, 2 * threads)
        #: How each rule was last split (rule id -> "key (department, vendor_id)"...).
        self.plans: dict[str, str] = {}

    def evaluate(
        self, rule: RuleType, frames: Mapping[str, pd.DataFrame], ctx: EvalContext
    ) -> list[Finding]:
        chosen = plan(rule, frames, self.partitions, self.min_part_rows)
        self.plans[rule.meta.id] = chosen.how
        if chosen.whole:
            return rule.evaluate(frames, ctx)
        client = self.client
        shared = {name: self._share(frame) for name, frame in chosen.broadcast.items()}
        futures = [
            client.submit(run_part, rule, self._ship(part), shared, ctx, pure=False)
            for part in chosen.parts
        ]
        results = client.gather(futures)
        merged = merge(results)
        if merged is None:
            # Two parts found something on one record key (keys that differ as values but
            # render alike): whole, so the alert store keeps the same first finding.
            self.plans[rule.meta.id] = "whole: a record key found in two parts"
            return rule.evaluate(frames, ctx)
        log.debug("rule %s: %d parts by %s", rule.meta.id, len(chosen.parts), chosen.how)
        return merged

    def _ship(self, part: Part) -> Any:
        """The part itself when small, else a future of it scattered to a worker."""
        size = sum(_nbytes(f) for f in part.frames.values()) + part.positions.nbytes
        return part if size < INLINE_BYTES else self.client.scatter(part, hash=False)

    def _share(self, frame: pd.DataFrame) -> Any:
        """A dataset every part gets: inline when small, else scattered once per frame."""
        if _nbytes(frame) < INLINE_BYTES:
            return frame
        kept = self._shared.get(id(frame))
        if kept is not None and kept[0] is frame:
            return kept[1]
        if len(self._shared) >= SHARED_KEPT:
            self._shared.pop(next(iter(self._shared)))  # the oldest; its future is released
        future = self.client.scatter(frame, broadcast=True, hash=False)
        self._shared[id(frame)] = (frame, future)  # the frame is held, so its id stays its own
        return future

    def close(self) -> None:
        self._shared.clear()
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _nbytes(frame: pd.DataFrame) -> int:
    return int(frame.memory_usage(index=True, deep=False).sum())


def run_part(
    rule: RuleType, part: Part, shared: Mapping[str, pd.DataFrame], ctx: EvalContext
) -> list[tuple[int, Finding]]:
    """On a worker: one part's findings (see :func:`engine.backends.partition.evaluate_part`)."""
    frames: dict[str, Any] = {**shared, **part.frames}
    return evaluate_part(rule, frames, ctx, part.positions, part.owned)
