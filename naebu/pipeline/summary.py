"""What a run did: per source and per rule, for the command line and the ``runs`` ledger.

Every run writes a row of the ``runs`` ledger: start, end, status (``ok``, ``partial`` when a
source or rule failed, ``interrupted`` when asked to stop between two batches, ``failed`` with
the error when the run itself broke), and its summary as JSON (rows per source, findings and
new alerts per rule, errors, the daemon job and node that ran it).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, update

from naebu.connectors.base import UnmappedValues
from naebu.connectors.vocabulary import unmapped_json
from naebu.core.problems import ProblemsError
from naebu.coverage_report import coverage_json
from naebu.engine import coverage
from naebu.pipeline import ledger
from naebu.store import tables as store


@dataclass
class SourceReport:
    """What one source gave in a run."""

    name: str
    dataset: str
    rows_read: int = 0
    quarantined: int = 0
    files: int = 0
    error: str | None = None
    #: Why the source was not pulled this run (backing off after failures, stopping).
    skipped: str | None = None
    #: canonical column -> values no value map covers (read as empty), summed over batches.
    unmapped: dict[str, UnmappedValues] = field(default_factory=dict)


@dataclass
class RunSummary:
    """What a run did, for the command line and the run ledger."""

    run_id: int
    started_at: datetime
    sources: list[SourceReport] = field(default_factory=list)
    findings: Counter[str] = field(default_factory=Counter)
    new_alerts: Counter[str] = field(default_factory=Counter)
    #: Alerts withdrawn per rule: their condition no longer held once late records came
    #: (naebu.alerts.withdrawal).
    withdrawn: Counter[str] = field(default_factory=Counter)
    rule_errors: dict[str, str] = field(default_factory=dict)
    digests_queued: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    unassigned: int = 0
    followups: str = ""
    #: True when the run stopped early because it was asked to (SIGTERM).
    interrupted: bool = False
    #: Anything the caller adds to the ledger (the daemon's job, node, catch-up).
    extra: dict[str, Any] = field(default_factory=dict)
    #: Rules not live under the config (engine/coverage.py): not evaluable ones were not run,
    #: partial ones ran without an optional input (or ran their fallback).
    coverage: dict[str, coverage.Coverage] = field(default_factory=dict)
    #: Wall seconds per phase: ``pull`` (reading and typing source rows), ``evaluate`` (rules),
    #: ``store`` (record history, alerts, quarantine, watermarks) and ``notify`` (digests,
    #: follow-ups, delivery). For the benchmark and for an operator asking where a run went.
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Add the wall time of the block to ``timings[phase]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - start

    @property
    def ok(self) -> bool:
        """True when no source and no rule failed."""
        return not self.rule_errors and all(s.error is None for s in self.sources)

    @property
    def status(self) -> str:
        """The ledger status: ``ok``, ``partial`` or ``interrupted``."""
        if self.interrupted:
            return "interrupted"
        return "ok" if self.ok else "partial"

    def as_json(self) -> dict[str, Any]:
        """JSON-safe form, stored in the run ledger."""
        return {
            "sources": [{**vars(s), "unmapped": unmapped_json(s.unmapped)} for s in self.sources],
            "findings": dict(self.findings),
            "new_alerts": dict(self.new_alerts),
            "withdrawn": dict(self.withdrawn),
            "rule_errors": self.rule_errors,
            "digests_queued": self.digests_queued,
            "sent": self.sent,
            "failed": self.failed,
            "retrying": self.retrying,
            "unassigned": self.unassigned,
            "followups": self.followups,
            "interrupted": self.interrupted,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            **coverage_json(self.coverage),
            **self.extra,
        }


def open_run(
    engine: Engine,
    now: datetime,
    *,
    extra: dict[str, Any],
    rule_coverage: dict[str, coverage.Coverage],
) -> RunSummary:
    """Write the run's ledger row as ``running``; its summary, to be filled by the run.

    ``rule_coverage``: every rule's; the summary keeps the rules not live under the config."""
    with engine.begin() as conn:
        key = conn.execute(
            insert(store.runs).values(started_at=now, status="running", summary=ledger.owner())
        ).inserted_primary_key
        assert key is not None
        run_id = key[0]
    summary = RunSummary(run_id=int(run_id), started_at=now, extra=extra)
    summary.coverage = {i: c for i, c in rule_coverage.items() if not c.live}
    return summary


def close_run(engine: Engine, summary: RunSummary) -> None:
    """The run's ledger row: ended, with its status and summary."""
    with engine.begin() as conn:
        conn.execute(
            update(store.runs)
            .where(store.runs.c.id == summary.run_id)
            .values(
                ended_at=datetime.now().replace(microsecond=0),
                status=summary.status,
                summary=summary.as_json(),
            )
        )


def fail_run(engine: Engine, summary: RunSummary, exc: BaseException) -> None:
    """The run's ledger row: ``failed``, with why. Every batch committed before stays."""
    with engine.begin() as conn:
        conn.execute(
            update(store.runs)
            .where(store.runs.c.id == summary.run_id)
            .values(
                ended_at=datetime.now().replace(microsecond=0),
                status="failed",
                summary=summary.as_json(),
                # a located problem (a cluster out of reach) is words already
                error=(
                    str(exc) if isinstance(exc, ProblemsError) else f"{type(exc).__name__}: {exc}"
                )[:2000],
            )
        )
