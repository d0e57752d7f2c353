"""A Dask cluster's faults, in the words an operator reads (docs/dask.md, "When the cluster
fails").

Two kinds, both without dask's internals in their text:

- :class:`ClusterError`: a rule could not be evaluated because the cluster lost a worker or
  its scheduler while the run was on. The pipeline records the words as the rule's error (the
  run is ``partial``) and does not advance the rule's state, so the next run evaluates it again
  over the same records.
- :class:`ClusterUnreachable`: the cluster cannot be reached when a run starts; the run reads
  and evaluates nothing (a :class:`~naebu.core.problems.ProblemsError`, located at ``[engine]``).

This module imports nothing of dask: the pipeline and the daemon recognise the faults whatever
the backend.
"""

from __future__ import annotations

from typing import Any

from naebu.core.problems import Problem, ProblemsError

__all__ = ["AGAIN", "ClusterError", "ClusterUnreachable", "note_fault", "unreachable"]

#: What becomes of a rule the cluster failed: said at the end of every such message.
AGAIN = "evaluated again on the next run"


class ClusterError(Exception):
    """A rule not evaluated because the cluster failed under it; ``str()`` is plain words.

    ``lost`` names what was lost ("worker tcp://10.0.0.7:40211", "the scheduler
    tcp://10.0.0.5:8786"); ``whole`` is True when the cluster as a whole was lost - its
    scheduler, or every worker - so the run could not reach it any more (every later rule of
    the run fails at once; the daemon counts the run, see naebu/daemon/cluster.py).
    """

    def __init__(self, what: str, lost: str, *, whole: bool = False) -> None:
        self.what = what
        self.lost = lost
        self.whole = whole
        super().__init__(f"{what}; {AGAIN}")

    def note(self, extra: dict[str, Any]) -> None:
        """Record this fault in a run summary's ``extra`` (see :func:`note_fault`)."""
        note_fault(extra, self)


def note_fault(extra: dict[str, Any], fault: ClusterError) -> None:
    """Add ``fault`` to ``extra["cluster"]`` of a run summary: ``lost`` (what the run lost,
    each once) and ``unreachable`` (True once the cluster as a whole was lost)."""
    cluster = extra.setdefault("cluster", {"lost": [], "unreachable": False})
    if fault.lost not in cluster["lost"]:
        cluster["lost"].append(fault.lost)
    cluster["unreachable"] = cluster["unreachable"] or fault.whole


class ClusterUnreachable(ProblemsError):
    """The cluster cannot be reached (or has no worker) when a run starts.

    One located problem (``[engine]: engine.scheduler: cannot reach ...``) for the command
    line; ``address`` and ``reason`` for the daemon's log and its notice to the admins.
    """

    def __init__(self, address: str, reason: str, *, key: str = "engine.scheduler") -> None:
        self.address = address
        self.reason = reason
        super().__init__(
            [
                Problem(
                    "[engine]",
                    f"cannot reach {address}: {reason}",
                    key=key,
                    hint="start the scheduler and workers first (docs/dask.md), "
                    'or use backend = "pandas"',
                )
            ]
        )


def unreachable(error: str | None) -> bool:
    """Whether a run ledger's ``error`` is a :class:`ClusterUnreachable` (the run did not
    start: its cluster could not be reached)."""
    return (
        bool(error)
        and str(error).startswith("[engine]: engine.")
        and " cannot reach " in str(error)
    )
