"""The Dask backend: each rule split into parts evaluated on a dask.distributed cluster.

Set in ``config.toml`` (docs/dask.md):

```toml
[engine]
backend = "dask"
scheduler = "tcp://10.0.0.5:8786"   # an existing cluster; or local_workers = 2 to start one here
partitions = 8                      # parts per rule (default: twice the cluster's threads)
```

For each rule, :func:`naebu.engine.backends.partition.plan` decides the parts; every part's rows,
and the datasets every part needs whole, are scattered to the workers; each worker runs the
rule's own ``evaluate`` on its part (:func:`run_part`); the findings come back in the order a
whole evaluation gives. A rule that cannot be split is evaluated here, in this process, as
the pandas backend does - moving its data to a worker would only add the transfer.

Workers import naebu's rule types to unpickle the rules they are sent: they must run the same
naebu version (and its dependencies, durable_rules included) as this process.

When the cluster fails under a rule - a worker lost with part of its data, the scheduler or
every worker gone - the rule fails with a :class:`~naebu.engine.backends.faults.ClusterError` in
words, and once the cluster as a whole is lost every later rule of the run fails at once and
:meth:`DaskBackend.usable` says the next run must connect afresh (docs/dask.md, "When the
cluster fails").
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import CancelledError
from typing import Any

import pandas as pd
from distributed import Client, Future, LocalCluster, wait
from distributed.scheduler import KilledWorker

from naebu.engine.backends import Backend
from naebu.engine.backends.faults import ClusterError, ClusterUnreachable
from naebu.engine.backends.partition import Part, evaluate_part, merge, plan
from naebu.engine.findings import Finding
from naebu.engine.registry import EvalContext, RuleType

log = logging.getLogger(__name__)

#: How long to wait for a scheduler, and for a first worker to join it (also: for a worker
#: to come back while a rule waits on a cluster that has none left), before giving up.
CONNECT_SECONDS = 10
CONNECT_TIMEOUT = f"{CONNECT_SECONDS}s"
#: While a rule's parts are out, how often the cluster is asked whether it still has workers.
WAIT_STEP = 2.0
#: Data smaller than this travels inside the task (one round trip); larger data is scattered
#: to the workers first, so the scheduler never holds it.
INLINE_BYTES = 2_000_000
#: Datasets given whole to every part, kept on the workers while the same frame is reused by
#: the next rules (a run loads each dataset once for all its rules).
SHARED_KEPT = 8


class _ReconnectCancelled(logging.Filter):
    """distributed logs at ERROR, with a traceback, the cancelling of a client's reconnect
    loop when the client is closed - which is how a lost connection is dropped here (see
    :meth:`DaskBackend.close`). Expected, so a debug matter: kept, at debug level, only when
    that logger is set to debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return _CLIENT_LOG.isEnabledFor(logging.DEBUG)
        return True


_CLIENT_LOG = logging.getLogger("distributed.client")
_CLIENT_LOG.addFilter(_ReconnectCancelled())


class DaskBackend(Backend):
    """Rules evaluated on a dask.distributed cluster; see the module docstring.

    Raises :class:`~naebu.engine.backends.faults.ClusterUnreachable` when the scheduler cannot be
    reached, or no worker joins it, within :data:`CONNECT_SECONDS`.
    """

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
        #: Set once the scheduler is lost: every later rule of the run fails at once with it,
        #: and :func:`naebu.engine.backends.backend_for` connects afresh at the next run.
        self.lost: ClusterError | None = None
        #: The scheduler's address, in messages ("a local cluster" until it has one).
        self.address = scheduler or f"a local cluster of {local_workers or 2} workers"
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
                self.address = self._cluster.scheduler_address
            # Workers join a scheduler a few seconds after it starts (after a restart too).
            try:
                self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
            except TimeoutError:
                raise TimeoutError(
                    f"no worker joined it within {CONNECT_SECONDS} seconds"
                ) from None
            self._scheduler_id = self._identity()
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ClusterUnreachable(
                self.address,
                _first_line(exc),
                key="engine.scheduler" if scheduler else "engine.local_workers",
            ) from None
        threads = sum(self.client.nthreads().values())
        self.partitions = partitions or max(2, 2 * threads)
        #: How each rule was last split (rule id -> "key (department, vendor_id)"...).
        self.plans: dict[str, str] = {}

    def usable(self) -> bool:
        """Whether the next run may use this backend: False once the scheduler was lost, the
        client closed, or the scheduler answering is another one (restarted meanwhile: the
        data the workers held for this backend is gone)."""
        if self.lost is not None or self.client.status != "running":
            return False
        if self._cluster is not None:
            return True
        try:
            return self._identity() == self._scheduler_id
        except Exception:  # any failure to ask means the connection is not usable
            return False

    def evaluate(
        self, rule: RuleType, frames: Mapping[str, pd.DataFrame], ctx: EvalContext
    ) -> list[Finding]:
        chosen = plan(rule, frames, self.partitions, self.min_part_rows)
        self.plans[rule.meta.id] = chosen.how
        if chosen.whole:
            return rule.evaluate(frames, ctx)
        if self.lost is not None:
            raise ClusterError(self.lost.what, self.lost.lost, whole=True)
        before = self._workers()
        futures: list[Future] = []
        try:
            client = self.client
            shared = {name: self._share(frame) for name, frame in chosen.broadcast.items()}
            # The rule in the key: the dashboard and the scheduler's log name it.
            futures = [
                client.submit(
                    run_part,
                    rule,
                    self._ship(part),
                    shared,
                    ctx,
                    key=f"run_part-{rule.meta.id}-{uuid.uuid4().hex}",
                )
                for part in chosen.parts
            ]
            results = self._gather(futures)
        except ClusterError:
            raise
        except Exception as exc:
            fault = self._fault(exc, futures, before)
            if fault is None:
                raise  # the rule's own error, raised on a worker: the rule failed
            raise fault from exc
        merged = merge(results)
        if merged is None:
            # Two parts found something on one record key (keys that differ as values but
            # render alike): whole, so the alert store keeps the same first finding.
            self.plans[rule.meta.id] = "whole: a record key found in two parts"
            return rule.evaluate(frames, ctx)
        log.debug("rule %s: %d parts by %s", rule.meta.id, len(chosen.parts), chosen.how)
        return merged

    # -- the cluster's state ---------------------------------------------------------------

    def _identity(self) -> str:
        return str(self.client.scheduler_info(n_workers=0).get("id"))

    def _workers(self) -> set[str]:
        """The workers the scheduler knows now; the scheduler lost when it cannot say."""
        if self.client.status != "running":
            raise self._scheduler_lost()
        try:
            return set(self.client.scheduler_info(n_workers=-1)["workers"])
        except Exception as exc:  # no answer: the connection is gone
            raise self._scheduler_lost() from exc

    def _gather(self, futures: list[Future]) -> list[Any]:
        """The parts' results. A rule may take long; a cluster left with no worker at all
        would hold it for ever, so after :data:`CONNECT_SECONDS` without one it fails."""
        alone_since: float | None = None
        while True:
            try:
                with self.client.as_current():  # wait() asks for "the current client"
                    wait(futures, timeout=WAIT_STEP)
                break
            except TimeoutError:
                pass
            if self._workers():
                alone_since = None
                continue
            alone_since = alone_since or time.monotonic()
            if time.monotonic() - alone_since > CONNECT_SECONDS:
                raise self._whole_lost(
                    f"every Dask worker of {self.address} left during this run",
                    f"every worker of {self.address}",
                )
        return list(self.client.gather(futures))

    def _fault(
        self, exc: Exception, futures: list[Future], before: set[str]
    ) -> ClusterError | None:
        """What ``exc`` says of the cluster, in words; None when it is the rule's own error."""
        reason = str(getattr(exc, "reason", "") or "")
        if self.client.status != "running" or reason == "scheduler-connection-lost":
            return self._scheduler_lost()
        if isinstance(exc, KilledWorker):
            self._shared.clear()
            worker = exc.last_worker.address
            tries = exc.allowed_failures + 1
            return ClusterError(
                f"Dask worker {worker} died while evaluating this rule "
                f"({tries} worker(s) tried it, each died)",
                f"worker {worker}",
            )
        cancelled = isinstance(exc, CancelledError) or any(f.status == "cancelled" for f in futures)
        if not cancelled and not isinstance(exc, OSError):
            return None
        self._shared.clear()  # what the workers held may be gone with one of them
        gone = sorted(before - self._workers())
        if gone:
            names = ", ".join(gone)
            return ClusterError(
                f"Dask worker {names} left the cluster while evaluating this rule "
                "(part of its data was there)",
                f"worker {names}",
            )
        if cancelled:
            return ClusterError(
                f"the Dask cluster {self.address} gave up part of this rule "
                f"({reason or 'cancelled'})",
                f"part of the work on {self.address}",
            )
        return None

    def _scheduler_lost(self) -> ClusterError:
        return self._whole_lost(
            f"the Dask scheduler {self.address} was lost during this run",
            f"the scheduler {self.address}",
        )

    def _whole_lost(self, what: str, lost: str) -> ClusterError:
        """Remember the cluster is gone (its scheduler, or every worker): every later rule of
        this run fails at once with the same words, and the next run connects afresh."""
        if self.lost is None:
            self.lost = ClusterError(what, lost, whole=True)
            self._shared.clear()
            log.warning("%s; the next run connects again", what)
        return ClusterError(self.lost.what, self.lost.lost, whole=True)

    # -- moving data -----------------------------------------------------------------------

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
            try:
                # A client still trying to reach a lost scheduler: do not wait on it long.
                client.close(timeout=CONNECT_SECONDS)
            except Exception as exc:  # closing what is already broken must not stop a run
                log.debug("closing the Dask client: %s", exc)
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _nbytes(frame: pd.DataFrame) -> int:
    return int(frame.memory_usage(index=True, deep=False).sum())


def run_part(
    rule: RuleType, part: Part, shared: Mapping[str, pd.DataFrame], ctx: EvalContext
) -> list[tuple[int, Finding]]:
    """On a worker: one part's findings (see :func:`naebu.engine.backends.partition.evaluate_part`)."""
    frames: dict[str, Any] = {**shared, **part.frames}
    return evaluate_part(rule, frames, ctx, part.positions, part.owned)
