"""The run's alert stages, in the order the pipeline calls them.

1. :meth:`AlertStages.raise_findings`: findings become alerts (deduplicated, suppressed,
   routed and stored by :func:`alerts.raise_alerts`), in the transaction of the batch or rule
   that found them;
2. :meth:`AlertStages.queue`: alerts not yet notified (this run's, and any a crash left
   behind) are grouped into one digest per recipient and queued in the outbox;
3. :meth:`AlertStages.follow_up`: reminders before deadlines, escalations of overdue alerts;
4. :meth:`AlertStages.deliver`: the outbox is delivered; what fails stays for the next run.

Routing needs the officials directory: :meth:`AlertStages.load_directory` reads it from the
record history once the reference sources are stored, and keeps it as the officials table
(:func:`naebu.alerts.officials.refresh_directory`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from sqlalchemy import Connection, Engine, select

from naebu.alerts import Directory, deliver_pending, queue_digests, raise_alerts
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.officials import refresh_directory
from naebu.core import datasets
from naebu.engine.findings import Finding
from naebu.engine.rule import RuleMeta
from naebu.pipeline.summary import RunSummary
from naebu.settings.config import Config
from naebu.store import tables as store


class AlertStages:
    """The alert side of one run; it counts what it does in the run's summary."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        summary: RunSummary,
        rules: Mapping[str, RuleMeta],
    ) -> None:
        self.config = config
        self.engine = engine
        self.summary = summary
        self.now = summary.started_at
        self.rules = rules
        # Empty until :meth:`load_directory`: nothing is routed before it is read.
        self.directory = Directory([], routing=config.routing)
        #: Whether this run has read the officials directory (before its first non-reference
        #: source, else after the last source).
        self.directory_loaded = False

    def load_directory(self) -> None:
        """Read the officials directory for routing, and store it as the officials table."""
        # From the record history, not this run's pull (naebu.alerts.officials): a directory
        # source that is down today still routes with yesterday's directory. Stored now, not
        # only at the follow-up stage, so a run that stops early still leaves the commands
        # and the inbox the directory it routed with.
        self.directory = refresh_directory(self.engine, self.config.routing, now=self.now)
        self.directory_loaded = True

    def raise_findings(self, conn: Connection, findings: list[Finding]) -> None:
        """Stage 1: ``findings`` as alerts, in the caller's transaction; count the new ones."""
        new_ids = raise_alerts(
            conn,
            findings,
            self.rules,
            self.directory,
            run_id=self.summary.run_id,
            now=self.now,
        )
        if not new_ids:
            return
        a = store.alerts.c
        rows = conn.execute(select(a.rule_id, a.assignee).where(a.id.in_(new_ids))).all()
        for rule_id, assignee in rows:
            self.summary.new_alerts[rule_id] += 1
            if assignee is None:
                self.summary.unassigned += 1

    def queue(self) -> None:
        """Stage 2: one digest per recipient of the assigned alerts not yet notified."""
        a, d = store.alerts.c, store.deliveries.c
        with self.engine.begin() as conn:
            pending = list(
                conn.execute(
                    select(a.id)
                    .where(a.status == "raised", a.assignee.is_not(None))
                    .where(~a.id.in_(select(d.alert_id)))
                    .order_by(a.id)
                ).scalars()
            )
            if pending:
                self.summary.digests_queued = queue_digests(
                    conn,
                    pending,
                    self.directory,
                    self.config.notify,
                    run_id=self.summary.run_id,
                    now=self.now,
                    rules=self.rules,
                )

    def follow_up(self) -> None:
        """Stage 3: reminders before deadlines and escalations of overdue alerts."""
        # As of this run's clock; each is written once (the daemon's reminder job calls the
        # same, harmlessly).
        followups = remind_and_escalate(
            self.engine,
            self.directory,
            self.config.notify,
            now=self.now,
            routing=self.config.routing,
            run_id=self.summary.run_id,
            workflow=self.config.workflow,
        )
        self.summary.followups = followups.lines()[0]

    def deliver(self) -> None:
        """Stage 4: send what the outbox holds; what fails stays there for the next run."""
        report = deliver_pending(
            self.engine, self.config.notify.for_delivery(), self.directory, now=self.now
        )
        self.summary.sent = report.sent
        self.summary.failed = report.failed
        self.summary.retrying = report.retrying


def empty(dataset: str) -> pd.DataFrame:
    """An empty frame of the canonical columns of ``dataset``."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in datasets.get(dataset).column_names})
