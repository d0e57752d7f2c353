"""The pull stage: every source read in turn, each batch committed whole.

Reference sources (the officials directory, vendors) come first and are read whole, so
routing and lookups see all of them. Each incremental source is pulled batch by batch; a
batch's records, the alerts of its record rules, its quarantined rows, its files and its
watermark commit in ONE transaction, so a crash loses nothing and a restart raises nothing
twice. A source that fails is reported and skipped; the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from naebu.connectors import SourceError, make_connector, worker
from naebu.connectors import merge_settings as merging
from naebu.connectors.base import Batch, SourceState, add_unmapped
from naebu.connectors.source_settings import SourceConfig
from naebu.core import datasets, dtypes
from naebu.core.progress import progress
from naebu.pipeline.alerting import AlertStages, empty
from naebu.pipeline.evaluate import RuleStage
from naebu.pipeline.planner import IncrementalPlanner
from naebu.pipeline.summary import RunSummary, SourceReport
from naebu.settings.config import Config
from naebu.store import history
from naebu.store import tables as store
from naebu.store.history import KeyFilter

log = logging.getLogger(__name__)


class PullStage:
    """Pulls and commits the sources of one run; reports each in the run's summary."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        summary: RunSummary,
        *,
        rules: RuleStage,
        planner: IncrementalPlanner,
        alerts: AlertStages,
        should_stop: Callable[[], bool],
    ) -> None:
        self.config = config
        self.engine = engine
        self.summary = summary
        self.now = summary.started_at
        self.rules = rules
        self.planner = planner
        self.alerts = alerts
        self.should_stop = should_stop
        #: Datasets fed by several sources merged on a key (``merge_on``): each of their
        #: batches is completed from the stored records before the rules see it.
        self.merged = merging.merged_datasets(config.sources)
        #: This run's first pulls, read ahead by a worker process (see :meth:`pull_all`).
        self.reader: worker.Reader | None = None

    def pull_all(self, sources: list[SourceConfig], skip: dict[str, str]) -> None:
        """Pull ``sources`` (reference data first) but those in ``skip`` (name -> why)."""
        # Reference data first: routing needs the whole directory before any alert is raised.
        sources = sorted(sources, key=lambda s: not datasets.get(s.dataset).reference)
        # Sources pulled for the first time (the big reads) are read ahead, in this order, by a
        # worker process while this one stores (naebu.connectors.worker); it starts now, so its own
        # start-up overlaps the reading of the reference data.
        first = [
            (s, state)
            for s in sources
            if not datasets.get(s.dataset).reference
            and s.name not in skip
            and worker.is_first_pull(state := self._state(s.name))
        ]
        self.reader = worker.Reader(first) if first else None
        try:
            self._read(sources, skip)
        finally:
            if self.reader is not None:
                self.reader.close()
                self.reader = None

    def _read(self, sources: list[SourceConfig], skip: dict[str, str]) -> None:
        """Pull every source in turn, reporting (not raising) a source's failure."""
        summary = self.summary
        # A first full run over a year of records takes a while: show it on a terminal.
        for source in progress(sources, "reading sources"):
            if not self.alerts.directory_loaded and not datasets.get(source.dataset).reference:
                self.alerts.load_directory()
            report = SourceReport(source.name, source.dataset)
            summary.sources.append(report)
            if source.name in skip:
                report.skipped = skip[source.name]
                continue
            if self.should_stop():
                summary.interrupted = True
                report.skipped = "stopping"
                continue
            try:
                self._pull(source, report)
            except SourceError as exc:
                report.error = str(exc)
                log.error("%s", exc)
            except Exception as exc:  # a source outage must not stop the other sources
                report.error = f"{type(exc).__name__}: {exc}"
                log.exception("source %s failed", source.name)

    def _pull(self, source: SourceConfig, report: SourceReport) -> None:
        dataset = datasets.get(source.dataset)
        if dataset.reference:
            # Read whole, committed whole: a half-read directory must not replace a good one.
            with self.summary.timed("pull"):
                batches = list(make_connector(source).pull(self._state(source.name)))
            if source.kind == "files" and not any(b.files for b in batches):
                # A drop folder's files are taken once: no new file is no new version of the
                # reference data, not an empty one (the stored records stay).
                return
            frames = [b.frame for b in batches if not b.frame.empty]
            whole = dtypes.joined(frames) if frames else empty(dataset.name)
            self._commit(source, _merge_batches(source, batches, whole), report)
            return
        reader = self.reader
        if reader is not None and reader.has(source.name):
            stream = reader.batches(source.name)  # read ahead (see pull_all)
        else:
            stream = make_connector(source).pull(self._state(source.name))
        # A first load goes into a bare table, its indexes built after it; a load an
        # interruption cut short has them built now.
        with self.summary.timed("store"), self.engine.begin() as conn:
            bare = history.defer_indexes(conn, dataset.name)
            if not bare:
                history.build_indexes(conn, dataset.name)
            else:
                self.planner.first_load(dataset.name)
        try:
            # Closed at once when the run stops early (a half-read worker is then ended).
            with closing(_closable(stream)) as ahead:
                for batch in self._timed_pull(ahead):
                    self._commit(source, batch, report)
                    if self.should_stop():
                        # Between two batches: what is committed is whole, the rest comes
                        # next run.
                        self.summary.interrupted = True
                        return
            if self.planner.batch_count(dataset.name) > 1:
                with self.summary.timed("evaluate"):
                    self.planner.join_pulled(dataset.name)
        finally:
            if bare:
                with self.summary.timed("store"), self.engine.begin() as conn:
                    history.build_indexes(conn, dataset.name)

    def _timed_pull(self, batches: Iterable[Batch]) -> Iterator[Batch]:
        """The connector's batches, the time spent producing each counted as ``pull``."""
        it = iter(batches)
        while True:
            with self.summary.timed("pull"):
                batch = next(it, None)
            if batch is None:
                return
            yield batch

    def _state(self, source: str) -> SourceState:
        with self.engine.connect() as conn:
            wm = conn.execute(
                select(store.watermarks.c.value).where(store.watermarks.c.source == source)
            ).scalar_one_or_none()
            seen = set(
                conn.execute(
                    select(store.files_seen.c.checksum).where(store.files_seen.c.source == source)
                ).scalars()
            )
        return SourceState(watermark=wm, seen_checksums=seen)

    def _commit(self, source: SourceConfig, batch: Batch, report: SourceReport) -> None:
        """Records, alerts, quarantine, files and watermark of one batch, in one transaction."""
        if source.dataset in self.merged and not batch.frame.empty:
            batch.frame = self.complete(source.dataset, batch.frame)
        findings = []
        if not batch.frame.empty:
            findings = self.rules.judge_batch(source.dataset, batch.frame)
        with self.summary.timed("store"), self.engine.begin() as conn:
            if datasets.get(source.dataset).reference:
                history.store_whole(conn, source.dataset, batch.frame, self.summary.run_id)
            else:
                history.store_records(conn, source.dataset, batch.frame, self.summary.run_id)
            self.alerts.raise_findings(conn, findings)
            self._quarantine(conn, source, batch)
            for taken in batch.files:
                conn.execute(
                    insert(store.files_seen).values(
                        source=source.name,
                        checksum=taken.checksum,
                        path=taken.path,
                        rows=taken.rows,
                        taken_at=self.now,
                    )
                )
            if batch.watermark is not None:
                _set_watermark(conn, source.name, batch.watermark, self.now)
        self.rules.stored(source.dataset)
        if not batch.frame.empty:
            self.planner.add_batch(source.dataset, batch.frame)
        report.rows_read += batch.rows_read
        report.quarantined += len(batch.quarantined)
        report.files += len(batch.files)
        add_unmapped(report.unmapped, batch.unmapped)

    def complete(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """A batch of a merged dataset completed from the stored versions of its records
        (:func:`naebu.connectors.merge_settings.complete`), so the record rules and the record history see
        whole rows. The store holds this run's earlier batches too: each is committed before
        the next is read."""
        key = datasets.get(name).key
        keys = tuple(sorted(set(frame[key].dropna().tolist())))
        with self.summary.timed("store"), self.engine.connect() as conn:
            earlier = history.load(conn, name, only=KeyFilter(key, keys))
        return merging.complete(frame, earlier, key)

    def _quarantine(self, conn: Connection, source: SourceConfig, batch: Batch) -> None:
        if not batch.quarantined:
            return
        q = store.quarantine.c
        # An inclusive watermark re-reads the boundary rows; keep one entry per bad row.
        known = set(
            conn.execute(
                select(q.location, q.reason).where(
                    q.source == source.name,
                    q.location.in_([r.location for r in batch.quarantined]),
                )
            ).all()
        )
        rows = [
            {
                "run_id": self.summary.run_id,
                "source": source.name,
                "dataset": source.dataset,
                "location": r.location,
                "raw": r.raw,
                "reason": r.reason,
                "created_at": self.now,
            }
            for r in batch.quarantined
            if (r.location, r.reason) not in known
        ]
        if rows:
            conn.execute(insert(store.quarantine), rows)


def _set_watermark(conn: Connection, source: str, value: str, now: datetime) -> None:
    w = store.watermarks
    done = conn.execute(update(w).where(w.c.source == source).values(value=value, updated_at=now))
    if done.rowcount == 0:
        conn.execute(insert(w).values(source=source, value=value, updated_at=now))


def _closable(batches: Iterable[Batch]) -> Generator[Batch, None, None]:
    """``batches`` as a generator: closing it closes them (``yield from`` passes it on)."""
    yield from batches


def _merge_batches(source: SourceConfig, batches: Iterable[Batch], frame: pd.DataFrame) -> Batch:
    batches = list(batches)
    return Batch(
        source=source.name,
        dataset=source.dataset,
        frame=frame,
        quarantined=[q for b in batches for q in b.quarantined],
        rows_read=sum(b.rows_read for b in batches),
        watermark=next((b.watermark for b in reversed(batches) if b.watermark is not None), None),
        files=[f for b in batches for f in b.files],
        unmapped=add_unmapped({}, *(b.unmapped for b in batches)),
    )
