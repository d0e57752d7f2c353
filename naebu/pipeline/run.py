"""One run: pull every source, evaluate the rules, store alerts, notify.

The order of a run, each step in its own module:

1. the rules the config can feed are selected (:mod:`.evaluate`) and the run's ledger row is
   written (:mod:`.summary`);
2. reference sources (the officials directory, vendors) are read whole, so routing and
   lookups see all of them; each incremental source is pulled chunk by chunk, each chunk's
   findings becoming alerts in the SAME transaction that stores its records, quarantined rows,
   files and watermark, so a crash loses nothing and a restart raises nothing twice
   (:mod:`.pull`);
3. the rules that need history are judged on what the incremental planner says they must
   read (:mod:`.evaluate`, :mod:`.planner`);
4. alerts not yet notified (this run's, and any a crash left behind) are grouped into one
   digest per recipient and queued in the outbox, follow-ups are written, and the outbox is
   delivered; what fails stays there for the next run (:mod:`.alerting`).

A source that fails is reported and skipped; the others go on. Its watermark stays where
its last committed batch left it, so the next run resumes exactly there. The run ends with
its ledger row: ``ok``, ``partial``, ``interrupted`` or ``failed`` (:mod:`.summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from naebu import rulechanges
from naebu.core.problems import ProblemsError
from naebu.engine.backends import Backend, backend_for
from naebu.engine.loader import RuleSet, load_rules
from naebu.pipeline import ledger
from naebu.pipeline.alerting import AlertStages
from naebu.pipeline.evaluate import RuleSelection, RuleStage, select_rules
from naebu.pipeline.planner import IncrementalPlanner
from naebu.pipeline.pull import PullStage
from naebu.pipeline.summary import RunSummary, close_run, fail_run, open_run
from naebu.settings.config import Config
from naebu.store import history
from naebu.store import tables as store


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
        selection = select_rules(config, ruleset, engine)
        summary = open_run(engine, now, extra=dict(extra or {}), rule_coverage=selection.coverage)
        try:
            # pandas in this process, or a Dask cluster ([engine], docs/dask.md): kept for the
            # life of the process (reached afresh once lost), so the daemon reaches its cluster
            # once, not every run. A cluster out of reach fails the run here, before any read.
            backend = backend_for(config.engine)
            _stages(
                config,
                ruleset,
                selection,
                engine,
                summary,
                backend,
                sources=set(sources) if sources is not None else None,
                skip=dict(skip or {}),
                should_stop=should_stop or (lambda: False),
                deliver=deliver,
            )
        except BaseException as exc:
            # The ledger says why the run broke; every batch committed before stays committed.
            fail_run(engine, summary, exc)
            raise
        # A daemon adds a history segment per dataset each run: merged once there are many,
        # and replaced files deleted (naebu.store.segments).
        with summary.timed("store"):
            history.tidy(engine)
        close_run(engine, summary)
        return summary
    finally:
        if own:
            engine.dispose()


def _stages(
    config: Config,
    ruleset: RuleSet,
    selection: RuleSelection,
    engine: Engine,
    summary: RunSummary,
    backend: Backend,
    *,
    sources: set[str] | None,
    skip: dict[str, str],
    should_stop: Callable[[], bool],
    deliver: bool,
) -> None:
    """Pull, judge, then the alert stages, as the module docstring says."""
    planner = IncrementalPlanner(summary.run_id, summary.started_at)
    # Every rule's metadata (not only the runnable ones'): alerts name their rule.
    alerts = AlertStages(config, engine, summary, {r.meta.id: r.meta for r in ruleset.rules})
    rules = RuleStage(selection, engine, summary, backend, planner, alerts)
    pulls = PullStage(
        config, engine, summary, rules=rules, planner=planner, alerts=alerts,
        should_stop=should_stop,
    )  # fmt: skip

    enabled = [
        s for s in config.sources.values() if s.enabled and (sources is None or s.name in sources)
    ]
    pulls.pull_all(enabled, skip)
    if not alerts.directory_loaded:
        alerts.load_directory()

    if not summary.interrupted:
        # Stopping skips the rules that need history; their state is not advanced, so
        # the next run evaluates everything this one stored.
        rules.judge_with_history()

    with summary.timed("notify"):
        alerts.queue()
        if summary.interrupted:
            return
        alerts.follow_up()
        if deliver:  # else the daemon flushes the outbox itself (on shutdown: in a timeout)
            alerts.deliver()
