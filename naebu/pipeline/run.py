"""One run: pull every source, evaluate the rules, store alerts, notify.

The order of a run:

1. reference sources (the officials directory, vendors) are read whole, so routing and
   lookups see all of them;
2. each incremental source is pulled chunk by chunk; each chunk's findings become alerts in the
   SAME transaction that stores its quarantined rows, its files and its watermark, so a crash
   loses nothing and a restart raises nothing twice;
3. alerts not yet notified (this run's, and any a crash left behind) are grouped into one
   digest per recipient and queued in the outbox;
4. the outbox is delivered; what fails stays there for the next run.

A source that fails is reported and skipped; the others go on. Its watermark stays where
its last committed batch left it, so the next run resumes exactly there.

Every run writes a row of the ``runs`` ledger: start, end, status (``ok``, ``partial`` when a
source or rule failed, ``interrupted`` when asked to stop between two batches, ``failed`` with
the error when the run itself broke), and its summary as JSON (rows per source, findings and
new alerts per rule, errors, the daemon job and node that ran it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from alerts import Directory, deliver_pending, queue_digests, raise_alerts
from alerts.escalation import remind_and_escalate
from connectors import SourceError, make_connector, worker
from connectors.base import Batch, SourceState, add_unmapped
from engine import coverage
from engine.backends import backend_for
from engine.backends.faults import ClusterError
from engine.findings import Finding
from engine.loader import RuleSet, load_rules
from engine.registry import EvalContext, RuleType
from naebu import data_coverage, datasets, dtypes, history, ledger, merging, rulechanges, store
from naebu.config import Config, SourceConfig
from naebu.history import KeyFilter, NewRecords
from naebu.pipeline.summary import RunSummary, SourceReport
from naebu.problems import ProblemsError
from naebu.progress import progress

log = logging.getLogger(__name__)

#: How a rule's history is cut down to what it must see again.
Narrowing = KeyFilter | NewRecords


def load_ruleset(config: Config) -> RuleSet:
    """The config's rules; raise :class:`ProblemsError` when any rule file has a problem."""
    ruleset = load_rules(config.rule_paths, root=config.base_dir, government=config.city)
    if ruleset.problems:
        raise ProblemsError(ruleset.problems)
    return ruleset


def run_once(
    config: Config,
    *,
    now: datetime | None = None,
    ruleset: RuleSet | None = None,
    engine: Engine | None = None,
    sources: Collection[str] | None = None,
    skip: Mapping[str, str] | None = None,
    should_stop: Callable[[], bool] | None = None,
    deliver: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> RunSummary:
    """Pull, evaluate, store and notify once. See the module docstring for the order.

    The daemon narrows a run to ``sources`` (a schedule group), passes ``skip`` (source ->
    reason, e.g. backing off after failures), ``should_stop`` (checked between batches: the
    run ends early, every committed batch stays committed, nothing is half-written),
    ``deliver=False`` when it flushes the outbox itself, and ``extra`` for the ledger.
    """
    now = now or datetime.now().replace(microsecond=0)
    ruleset = ruleset or load_ruleset(config)
    own = engine is None
    engine = engine or store.connect(config.store_url)
    try:
        # Rule-change auditing: what is about to run, against what ran before (the daemon's
        # rules kept in their last good version are what runs, so they count as unchanged).
        rulechanges.record(
            engine,
            ruleset,
            now=now,
            root=config.base_dir,
            skip=(extra or {}).get("rules_last_good", ()),
        )
        # A run a killed process left "running" is marked before this one starts.
        ledger.abandon_dead_runs(engine)
        run = _Run(config, ruleset, engine, now)
        run.only = set(sources) if sources is not None else None
        run.skip = dict(skip or {})
        run.should_stop = should_stop or (lambda: False)
        run.deliver = deliver
        run.extra = dict(extra or {})
        return run.execute()
    finally:
        if own:
            engine.dispose()


class _Run:
    def __init__(self, config: Config, ruleset: RuleSet, engine: Engine, now: datetime) -> None:
        self.config = config
        self.ruleset = ruleset
        self.engine = engine
        self.now = now
        self.only: set[str] | None = None
        self.skip: dict[str, str] = {}
        self.should_stop: Callable[[], bool] = lambda: False
        self.deliver = True
        self.extra: dict[str, Any] = {}
        self.ctx = EvalContext(now=now)
        #: This run's committed batches per dataset: rules needing history read older records
        #: from the store and these from memory, so a first run does not read back what it
        #: has just written.
        self.pulled: dict[str, list[pd.DataFrame]] = {}
        #: Datasets whose batches _history has joined into one frame, one version per key.
        self.joined: set[str] = set()
        #: Datasets whose history was empty when this run began pulling them: every record
        #: of theirs is in :attr:`pulled`, so rules need not read the store for older ones.
        self.first_loads: set[str] = set()
        #: This run's first pulls, read ahead by a worker process (see _steps).
        self.reader: worker.Reader | None = None
        #: Whether this run has read the officials directory (before its first non-reference
        #: source, else after the last source).
        self.directory_loaded = False
        #: ``history.new_since`` per (dataset, last run id), filled once the pulls are done.
        self.new_since: dict[tuple[str, int], tuple[int, datetime | None]] = {}
        self.metas = {r.meta.id: r.meta for r in ruleset.rules}
        #: Datasets fed by several sources merged on a key (``merge_on``): each of their
        #: batches is completed from the stored records before the rules see it.
        self.merged = merging.merged_datasets(config.sources)
        self.directory = self._directory(_empty(config.routing.directory))
        with engine.connect() as conn:
            self.rule_state = {
                row.rule_id: row for row in conn.execute(select(history.rule_state)).all()
            }
        self._cover(ruleset)
        #: What the absence inputs hold in the store (naebu/data_coverage.py), and the rules
        #: not evaluable for want of data after the pulls.
        self.facts = data_coverage.StoreFacts(engine)
        self.blocked: set[str] = set()

    def _cover(self, ruleset: RuleSet) -> None:
        """Run only what the sources can feed (engine/coverage.py): a not-evaluable rule is
        left out and forgets its state, so once it can be judged it looks at the whole
        history; a partial rule with a fallback runs the fallback."""
        given = coverage.provided(self.config)
        self.coverage = coverage.plan(ruleset.rules, given,
                                      sources=coverage.sources_by_dataset(self.config))  # fmt: skip
        self.ruleset = coverage.runnable_set(ruleset, self.coverage)
        self._forget([i for i, c in self.coverage.items() if not c.evaluable])

    def _forget(self, rule_ids: list[str]) -> None:
        """Drop the state of rules not run, so once they can be judged they see everything."""
        gone = [i for i in rule_ids if i in self.rule_state]
        if gone:
            with self.engine.begin() as conn:
                conn.execute(
                    history.rule_state.delete().where(history.rule_state.c.rule_id.in_(gone))
                )
            for rule_id in gone:
                del self.rule_state[rule_id]

    def _directory(self, frame: pd.DataFrame, departments: pd.DataFrame | None = None) -> Directory:
        # ``departments``: the department tree, which keeps each audit office to the alerts of
        # its own organisation (alerts.directory.Directory.audit_office).
        return Directory.from_frame(
            frame,
            fallback_roles=self.config.routing.fallback_roles,
            routing=self.config.routing,
            departments=departments,
        )

    def execute(self) -> RunSummary:
        with self.engine.begin() as conn:
            key = conn.execute(
                insert(store.runs).values(
                    started_at=self.now, status="running", summary=ledger.owner()
                )
            ).inserted_primary_key
            assert key is not None
            run_id = key[0]
        summary = RunSummary(run_id=int(run_id), started_at=self.now, extra=self.extra)
        summary.coverage = {i: c for i, c in self.coverage.items() if not c.live}
        self.summary = summary
        try:
            # pandas in this process, or a Dask cluster ([engine], docs/dask.md): kept for the
            # life of the process (reached afresh once lost), so the daemon reaches its cluster
            # once, not every run. A cluster out of reach fails the run here, before any read.
            self.backend = backend_for(self.config.engine)
            self._steps()
        except BaseException as exc:
            # The ledger says why the run broke; every batch committed before stays committed.
            with self.engine.begin() as conn:
                conn.execute(
                    update(store.runs)
                    .where(store.runs.c.id == summary.run_id)
                    .values(
                        ended_at=datetime.now().replace(microsecond=0),
                        status="failed",
                        summary=summary.as_json(),
                        # a located problem (a cluster out of reach) is words already
                        error=(
                            str(exc)
                            if isinstance(exc, ProblemsError)
                            else f"{type(exc).__name__}: {exc}"
                        )[:2000],
                    )
                )
            raise
        with self.engine.begin() as conn:
            conn.execute(
                update(store.runs)
                .where(store.runs.c.id == summary.run_id)
                .values(
                    ended_at=datetime.now().replace(microsecond=0),
                    status=summary.status,
                    summary=summary.as_json(),
                )
            )
        return summary

    def _steps(self) -> None:
        summary = self.summary
        sources = [
            s
            for s in self.config.sources.values()
            if s.enabled and (self.only is None or s.name in self.only)
        ]
        # Reference data first: routing needs the whole directory before any alert is raised.
        sources.sort(key=lambda s: not datasets.get(s.dataset).reference)
        # Sources pulled for the first time (the big reads) are read ahead, in this order, by a
        # worker process while this one stores (connectors.worker); it starts now, so its own
        # start-up overlaps the reading of the reference data.
        first = [
            (s, state)
            for s in sources
            if not datasets.get(s.dataset).reference
            and s.name not in self.skip
            and worker.is_first_pull(state := self._state(s.name))
        ]
        self.reader = worker.Reader(first) if first else None
        try:
            self._read(sources)
        finally:
            if self.reader is not None:
                self.reader.close()
                self.reader = None
        if not self.directory_loaded:
            self._load_directory()
        if not summary.interrupted:
            # Stopping skips the rules that need history; their state is not advanced, so
            # the next run evaluates everything this one stored.
            self._evaluate_with_history()
        with summary.timed("notify"):
            self._notify()

    def _read(self, sources: list[SourceConfig]) -> None:
        """Pull every source in turn, reporting (not raising) a source's failure."""
        summary = self.summary
        # A first full run over a year of records takes a while: show it on a terminal.
        for source in progress(sources, "reading sources"):
            if not self.directory_loaded and not datasets.get(source.dataset).reference:
                self._load_directory()
            report = SourceReport(source.name, source.dataset)
            summary.sources.append(report)
            if source.name in self.skip:
                report.skipped = self.skip[source.name]
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

    def _load_directory(self) -> None:
        # From the record history, not this run's pull: a directory source that is down
        # today still routes with yesterday's directory.
        with self.engine.connect() as conn:
            self.directory = self._directory(
                history.load(conn, self.config.routing.directory),
                history.load(conn, "departments"),
            )
        self.directory_loaded = True

    # -- pulling ---------------------------------------------------------------------------

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
            whole = dtypes.joined(frames) if frames else _empty(dataset.name)
            self._commit(source, _merge_batches(source, batches, whole), report)
        else:
            reader = self.reader
            if reader is not None and reader.has(source.name):
                stream = reader.batches(source.name)  # read ahead (see _steps)
            else:
                stream = make_connector(source).pull(self._state(source.name))
            # A first load goes into a bare table, its indexes built after it; a load an
            # interruption cut short has them built now.
            with self.summary.timed("store"), self.engine.begin() as conn:
                bare = history.defer_indexes(conn, dataset.name)
                if not bare:
                    history.build_indexes(conn, dataset.name)
                else:
                    self.first_loads.add(dataset.name)
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
                self._join_pulled(dataset.name)
            finally:
                if bare:
                    with self.summary.timed("store"), self.engine.begin() as conn:
                        history.build_indexes(conn, dataset.name)

    def _join_pulled(self, name: str) -> None:
        """This run's batches of dataset ``name`` joined into one frame, now that a source of
        it has been read whole (see :func:`naebu.dtypes.joined`). Now rather than when a rule
        first needs them: the batches' memory is then free for the next source's, instead
        of staying with the process (a million payments: about 0.3 GB more at the peak)."""
        batches = self.pulled.get(name)
        if batches and len(batches) > 1:
            with self.summary.timed("evaluate"):
                batches[:] = [dtypes.joined(batches)]

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

    def _record_rules(self, dataset: str) -> list[RuleType]:
        """Rules judged record by record on each new batch: no history, no other dataset,
        and already evaluated once over the history (a new rule first looks back)."""
        return [
            r
            for r in self.ruleset.for_dataset(dataset)
            if _is_record_rule(r) and r.meta.id in self.rule_state
        ]

    def _run_rules(
        self, rules: list[RuleType], frames: Mapping[str, pd.DataFrame]
    ) -> list[Finding]:
        findings: list[Finding] = []
        for rule in rules:
            try:
                with self.summary.timed("evaluate"):
                    found = self.backend.evaluate(rule, frames, self.ctx)
            except ClusterError as exc:  # the cluster failed, not the rule: words, no traceback
                self.summary.rule_errors[rule.meta.id] = str(exc)
                exc.note(self.summary.extra)
                log.warning("rule %s not evaluated: %s", rule.meta.id, exc)
                log.debug("rule %s: the cluster's error", rule.meta.id, exc_info=True)
                continue
            except Exception as exc:  # one broken rule must not stop the others
                self.summary.rule_errors[rule.meta.id] = f"{type(exc).__name__}: {exc}"
                log.exception("rule %s failed", rule.meta.id)
                continue
            self.summary.findings[rule.meta.id] += len(found)
            findings.extend(found)
        return findings

    def _commit(self, source: SourceConfig, batch: Batch, report: SourceReport) -> None:
        """Records, alerts, quarantine, files and watermark of one batch, in one transaction."""
        if source.dataset in self.merged and not batch.frame.empty:
            batch.frame = self._complete(source.dataset, batch.frame)
        findings = []
        if not batch.frame.empty:
            rules = self._with_data(self._record_rules(source.dataset), source.dataset, batch.frame)
            findings = self._run_rules(rules, {source.dataset: batch.frame})
            # A rule that failed on this batch forgets its state: the next run judges it over
            # the whole history (batch by batch, it would never see this batch again).
            self._forget([r.meta.id for r in rules if r.meta.id in self.summary.rule_errors])
        with self.summary.timed("store"), self.engine.begin() as conn:
            if datasets.get(source.dataset).reference:
                history.store_whole(conn, source.dataset, batch.frame, self.summary.run_id)
            else:
                history.store_records(conn, source.dataset, batch.frame, self.summary.run_id)
            self._raise(conn, findings)
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
        self.facts.changed(source.dataset)
        if not batch.frame.empty:
            self.pulled.setdefault(source.dataset, []).append(batch.frame)
        report.rows_read += batch.rows_read
        report.quarantined += len(batch.quarantined)
        report.files += len(batch.files)
        add_unmapped(report.unmapped, batch.unmapped)

    def _with_data(self, rules: list[RuleType], name: str, frame: pd.DataFrame) -> list[RuleType]:
        """The record rules the stored data and this batch let judge; the others are judged
        over the whole history after the pulls, if their data has come by then."""
        if not rules:
            return rules
        facts = self.facts.facts(rules, (name, frame))
        gone = data_coverage.blocked(rules, self.coverage, facts)
        self._forget(list(gone))
        return [r for r in rules if r.meta.id not in gone]

    def _complete(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """A batch of a merged dataset completed from the stored versions of its records
        (:func:`naebu.merging.complete`), so the record rules and the record history see
        whole rows. The store holds this run's earlier batches too: each is committed before
        the next is read."""
        key = datasets.get(name).key
        keys = tuple(sorted(set(frame[key].dropna().tolist())))
        with self.summary.timed("store"), self.engine.connect() as conn:
            earlier = history.load(conn, name, only=KeyFilter(key, keys))
        return merging.complete(frame, earlier, key)

    def _raise(self, conn: Connection, findings: list[Finding]) -> None:
        new_ids = raise_alerts(
            conn, findings, self.metas, self.directory, run_id=self.summary.run_id, now=self.now
        )
        if new_ids:
            self._count_new(conn, new_ids)

    # -- rules that need history -----------------------------------------------------------

    def _evaluate_with_history(self) -> None:
        """Every rule not judged batch by batch: windows, joins, sequences, and rules seen for
        the first time. Each looks at the records new since its last evaluation plus its
        lookback; its alerts and its new state commit together."""
        # First what each rule must read (the record history does not change while the rules
        # are evaluated: every pull has committed), so a history two rules need from different
        # times on (two lookbacks) is read once, from the earlier time, and cut for the other.
        plans: dict[str, tuple[datetime | None, dict[str, Narrowing]] | None] = {}
        earliest: dict[tuple[str, str | None, Narrowing | None], datetime | None] = {}
        self._cover_data()
        for rule in self.ruleset.rules:
            state = self.rule_state.get(rule.meta.id)
            # (a rule that failed on a batch waits for the next run, as its error says)
            if rule.meta.id in self.blocked or rule.meta.id in self.summary.rule_errors:
                continue
            if not rule.meta.enabled or (state is not None and _is_record_rule(rule)):
                continue
            with self.engine.connect() as conn:
                since, due = self._since(conn, rule, state)
            if not due:
                plans[rule.meta.id] = None
                continue
            with self.summary.timed("store"), self.engine.connect() as conn:
                only = self._touched(conn, rule, state)
            plans[rule.meta.id] = (since, only)
            for name in rule.datasets:
                group = (name, self._time_column(rule, name), only.get(name))
                if group not in earliest:
                    earliest[group] = since
                elif (known := earliest[group]) is not None:
                    earliest[group] = None if since is None else min(since, known)
        cache: dict[tuple[str, str | None, datetime | None, Narrowing | None], pd.DataFrame] = {}
        for rule in self.ruleset.rules:
            if not rule.meta.enabled or rule.meta.id in self.blocked:
                continue
            if rule.meta.id in self.summary.rule_errors:
                continue  # failed on a batch: state forgotten, whole history next run
            plan = plans.get(rule.meta.id)
            if plan is None:
                # Judged batch by batch, or nothing new: its state moves on all the same.
                self._save_rule_state(rule.meta.id)
                continue
            since, only = plan
            frames = {}
            with self.summary.timed("store"), self.engine.connect() as conn:
                for name in rule.datasets:
                    column = self._time_column(rule, name)
                    at = (name, column, since, only.get(name))
                    if at not in cache:
                        wide = earliest[(name, column, only.get(name))]
                        first = (name, column, wide, only.get(name))
                        if first not in cache:
                            cache[first] = self._history(conn, name, column, wide, only.get(name))
                        cache[at] = history.in_window(
                            cache[first], name, since=since, time_column=column
                        )
                    frames[name] = cache[at]
            findings = self._run_rules([rule], frames)
            with self.summary.timed("store"), self.engine.begin() as conn:
                self._raise(conn, findings)
                if rule.meta.id not in self.summary.rule_errors:
                    self._save_rule_state(rule.meta.id, conn)

    def _cover_data(self) -> None:
        """After the pulls: the rules an absence input of which holds nothing in the store
        (naebu/data_coverage.py) are not run this time, and the summary says why."""
        with self.summary.timed("store"):
            facts = self.facts.facts(r for r in self.ruleset.rules if r.meta.enabled)
        gone = data_coverage.blocked(
            (r for r in self.ruleset.rules if r.meta.enabled), self.coverage, facts
        )
        self.blocked = set(gone)
        self.summary.coverage.update(gone)
        self._forget(list(gone))

    @staticmethod
    def _time_column(rule: RuleType, name: str) -> str | None:
        """The column a rule's history of dataset ``name`` is cut on by time."""
        return rule.time_columns.get(name) or datasets.get(name).event_time

    def _touched(self, conn: Connection, rule: RuleType, state: Any) -> dict[str, Narrowing]:
        """Per dataset, the groups a rule must look at again: those new records fall in.

        A rule that declares its groups (the partitioning the Dask backend uses: window
        groups, peer groups, sequence keys) finds nothing new in a group no new record joined,
        so an incremental run reads only the touched groups' history. Filtering on one of the
        key columns keeps whole groups (a superset of the touched ones), which is all that
        exactness needs. A clock-driven rule's findings also appear as time passes: it reads,
        besides, the groups of records whose moment (:attr:`RuleType.closing`) passed since
        its last evaluation. Not for a first evaluation, a clock-driven rule that cannot say
        when its records close, or when a dataset given whole (a lookup) has changed.

        A rule that judges each record on its own (its dataset not named in its partitioning:
        a match with a join) reads only the new records while its lookups are unchanged. One
        that judges each record against its other datasets alone (:attr:`RuleType.judged_alone`,
        a sequence between two datasets) reads its own new records and, of its older ones, only
        those in the groups its other datasets' new records or the clock touched. Records with
        a null key are left out when they take no part
        (:attr:`~engine.registry.Partitioning.nulls_take_part`).
        """
        closing = rule.closing if rule.clock_driven else None
        if state is None or (rule.clock_driven and closing is None):
            return {}
        keys = rule.partitioning.keys
        lookups = [n for n in rule.datasets if n != rule.meta.dataset]
        if rule.meta.dataset not in keys and not rule.clock_driven:
            # Judged record by record (a match with a join): against unchanged lookups, the
            # older records were judged already; only the new ones can give new findings.
            if any(self._new_since(conn, n, state.last_run_id)[0] for n in lookups):
                return {}
            return {rule.meta.dataset: NewRecords(state.last_run_id)}
        named = {n: cols for n, cols in keys.items() if n in rule.datasets}
        if rule.meta.dataset not in named or not all(named.values()):
            return {}
        for name in rule.datasets:
            if name not in named and self._new_since(conn, name, state.last_run_id)[0]:
                return {}
        width = min(len(cols) for cols in named.values())
        alone = rule.judged_alone
        # Per candidate column: every touched value, and those not from the rule's own new
        # records (the other datasets' new records, the records whose moment passed).
        best: tuple[int, set[str | None], set[str | None]] | None = None
        for i in range(width):
            if any(datasets.get(n).by_name[cols[i]].type != "str" for n, cols in named.items()):
                continue
            values: set[str | None] = set()
            outside: set[str | None] = set()
            for n, cols in named.items():
                found = history.touched_keys(conn, n, cols[i], state.last_run_id)
                values |= found
                if n != rule.meta.dataset:
                    outside |= found
            if closing is not None:
                name, time_column, delay = closing
                if name not in named:
                    return {}
                # Records whose moment (time + delay) lies in (last clock, now], with a day
                # of slack on each side: more groups than needed is still exact.
                timed = history.keys_timed_between(
                    conn,
                    name,
                    named[name][i],
                    time_column,
                    state.evaluated_at - delay - timedelta(days=1),
                    self.now - delay + timedelta(days=1),
                )
                values |= timed
                outside |= timed
            # The column with the most distinct touched values splits the history finest (for
            # a rule judging its records alone: the fewest of its own older records read).
            if best is None or (
                len(outside) < len(best[2]) if alone else len(values) > len(best[1])
            ):
                best = (i, values, outside)
        if best is None:
            return {}
        i, values, outside = best
        # Records with a null key are a group of their own, unless they take no part at all.
        nulls = rule.partitioning.nulls_take_part
        present = tuple(sorted(v for v in values if v is not None))
        narrowed: dict[str, Narrowing] = {
            n: KeyFilter(cols[i], present, nulls and None in values) for n, cols in named.items()
        }
        if alone:
            # Each record is judged against the other datasets alone: of the rule's own older
            # records, only those whose counterparts changed or whose moment passed can give
            # new findings; besides them, every new record.
            last = state.last_run_id
            if not outside:
                narrowed[rule.meta.dataset] = NewRecords(last)
            else:
                column = named[rule.meta.dataset][i]
                mine = tuple(sorted(v for v in outside if v is not None))
                with_null = nulls and None in outside
                narrowed[rule.meta.dataset] = KeyFilter(column, mine, with_null, or_after_run=last)
        return narrowed

    def _history(
        self,
        conn: Connection,
        name: str,
        column: str | None,
        since: datetime | None,
        only: Narrowing | None = None,
    ) -> pd.DataFrame:
        """What ``history.load`` would give after this run's writes: earlier runs' records
        from the store, this run's from memory, the newest version of each key."""
        if name in self.first_loads:
            older = history.empty(name)  # the store held none before this run: all in memory
        else:
            older = history.load(
                conn,
                name,
                since=since,
                time_column=column,
                before_run=self.summary.run_id,
                only=only,
            )
        batches = self.pulled.get(name)
        if not batches:
            return older
        key = datasets.get(name).key
        if name not in self.joined:
            # Once per dataset, and later reads find them so: this run's batches joined, the
            # last version of a key kept, as the store's upsert keeps it.
            batches[:] = [history.last_versions(dtypes.joined(batches), key)]
            self.joined.add(name)
        recent = history.in_window(batches[0], name, since=since, time_column=column, only=only)
        if older.empty:
            return recent
        # A key in both: a reference record this run read unchanged (store_whole leaves it
        # as an earlier run wrote it). This run's version wins, as in the store.
        both = dtypes.joined([older, recent])
        return both.drop_duplicates(subset=[key], keep="last", ignore_index=True)

    def _new_since(
        self, conn: Connection, name: str, last_run_id: int
    ) -> tuple[int, datetime | None]:
        """``history.new_since``, asked once per dataset and run id: the record history does not
        change while the rules that need it are evaluated (every pull has committed)."""
        at = (name, last_run_id)
        if at not in self.new_since:
            self.new_since[at] = history.new_since(conn, name, last_run_id)
        return self.new_since[at]

    def _since(self, conn: Connection, rule: RuleType, state: Any) -> tuple[datetime | None, bool]:
        """From what event time the rule must look, and whether it must run at all."""
        if state is None:
            return None, True  # first evaluation: the whole history
        timed = [d for d in rule.datasets if datasets.get(d).event_time]
        if not timed:
            return None, True  # reference data only: small, judged whole
        starts = []
        for name in timed:
            count, earliest = self._new_since(conn, name, state.last_run_id)
            if count and earliest is not None:
                starts.append(earliest)
        if rule.clock_driven:
            # An absence becomes provable as the clock passes a window's end, new data or not.
            starts.append(state.evaluated_at)
        if not starts:
            return None, False
        lookback = rule.lookback or timedelta(0)
        return min(starts) - lookback, True

    def _save_rule_state(self, rule_id: str, conn: Connection | None = None) -> None:
        if conn is None:
            with self.engine.begin() as own:
                self._save_rule_state(rule_id, own)
            return
        t = history.rule_state
        values = {"last_run_id": self.summary.run_id, "evaluated_at": self.now}
        done = conn.execute(update(t).where(t.c.rule_id == rule_id).values(**values))
        if done.rowcount == 0:
            conn.execute(insert(t).values(rule_id=rule_id, **values))

    def _count_new(self, conn: Connection, ids: list[int]) -> None:
        rows = conn.execute(
            select(store.alerts.c.rule_id, store.alerts.c.assignee).where(
                store.alerts.c.id.in_(ids)
            )
        ).all()
        for rule_id, assignee in rows:
            self.summary.new_alerts[rule_id] += 1
            if assignee is None:
                self.summary.unassigned += 1

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

    # -- notifying -------------------------------------------------------------------------

    def _notify(self) -> None:
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
                    rules=self.metas,
                )
        if self.summary.interrupted:
            return
        # Reminders before deadlines and escalations of overdue alerts, as of this run's clock;
        # each is written once (the daemon's reminder job calls the same, harmlessly).
        followups = remind_and_escalate(
            self.engine,
            self.directory,
            self.config.notify,
            now=self.now,
            routing=self.config.routing,
            run_id=self.summary.run_id,
        )
        self.summary.followups = followups.lines()[0]
        if not self.deliver:
            return  # the daemon flushes the outbox itself (on shutdown: within a timeout)
        report = deliver_pending(
            self.engine, self.config.notify.for_delivery(), self.directory, now=self.now
        )
        self.summary.sent = report.sent
        self.summary.failed = report.failed
        self.summary.retrying = report.retrying


def _set_watermark(conn: Connection, source: str, value: str, now: datetime) -> None:
    w = store.watermarks
    done = conn.execute(update(w).where(w.c.source == source).values(value=value, updated_at=now))
    if done.rowcount == 0:
        conn.execute(insert(w).values(source=source, value=value, updated_at=now))


def _closable(batches: Iterable[Batch]) -> Generator[Batch, None, None]:
    """``batches`` as a generator: closing it closes them (``yield from`` passes it on)."""
    yield from batches


def _is_record_rule(rule: RuleType) -> bool:
    return rule.lookback is None and tuple(rule.datasets) == (rule.meta.dataset,)


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


def _empty(dataset: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in datasets.get(dataset).column_names})
