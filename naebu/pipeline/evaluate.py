"""The evaluate stage: which rules a run may judge, and judging them.

Two ways, as :mod:`naebu.pipeline.run` calls them: record rules are judged on each batch
as it is pulled (:meth:`RuleStage.judge_batch`), their alerts committed with the batch; every
other rule is judged after the pulls (:meth:`RuleStage.judge_with_history`) on what the
incremental planner (:mod:`naebu.pipeline.planner`) says it must read, its alerts and its new
state committed together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from naebu import data_coverage
from naebu.alerts.withdrawal import withdraw_stale
from naebu.core import datasets
from naebu.engine import coverage
from naebu.engine.backends import Backend
from naebu.engine.backends.faults import ClusterError
from naebu.engine.evidence import json_column
from naebu.engine.findings import Finding
from naebu.engine.loader import RuleSet
from naebu.engine.registry import EvalContext, RuleType
from naebu.pipeline.alerting import AlertStages
from naebu.pipeline.planner import IncrementalPlanner, ReadPlan, is_record_rule
from naebu.pipeline.summary import RunSummary
from naebu.settings.config import Config
from naebu.store import history

log = logging.getLogger(__name__)


@dataclass
class RuleSelection:
    """The rules a run may judge under the config (engine/coverage.py), and their states."""

    #: The runnable rules: a not-evaluable rule left out, a partial one with its fallback.
    ruleset: RuleSet
    #: Every rule's coverage.
    coverage: dict[str, coverage.Coverage]
    #: Each rule's row of ``history.rule_state`` (its last evaluation), by rule id.
    rule_state: dict[str, Any]


def select_rules(config: Config, ruleset: RuleSet, engine: Engine) -> RuleSelection:
    """Run only what the sources can feed (engine/coverage.py): a not-evaluable rule is left
    out and forgets its state, so once it can be judged it looks at the whole history; a
    partial rule with a fallback runs the fallback."""
    with engine.connect() as conn:
        rule_state = {row.rule_id: row for row in conn.execute(select(history.rule_state)).all()}
    plan = coverage.plan(
        ruleset.rules,
        coverage.provided(config.sources),
        sources=coverage.sources_by_dataset(config.sources),
    )
    forget(engine, rule_state, [i for i, c in plan.items() if not c.evaluable])
    return RuleSelection(coverage.runnable_set(ruleset, plan), plan, rule_state)


def forget(engine: Engine, rule_state: dict[str, Any], rule_ids: list[str]) -> None:
    """Drop the state of rules not run, so once they can be judged they see everything."""
    gone = [i for i in rule_ids if i in rule_state]
    if gone:
        with engine.begin() as conn:
            conn.execute(history.rule_state.delete().where(history.rule_state.c.rule_id.in_(gone)))
        for rule_id in gone:
            del rule_state[rule_id]


class RuleStage:
    """Judges the selected rules for one run; counts findings and errors in its summary."""

    def __init__(
        self,
        selection: RuleSelection,
        engine: Engine,
        summary: RunSummary,
        backend: Backend,
        planner: IncrementalPlanner,
        alerts: AlertStages,
    ) -> None:
        self.ruleset = selection.ruleset
        self.coverage = selection.coverage
        self.rule_state = selection.rule_state
        self.engine = engine
        self.summary = summary
        self.now = summary.started_at
        self.backend = backend
        self.planner = planner
        self.alerts = alerts
        self.ctx = EvalContext(now=self.now)
        #: What the absence inputs hold in the store (naebu/data_coverage.py), and the rules
        #: not evaluable for want of data after the pulls.
        self.facts = data_coverage.StoreFacts(engine)
        self.blocked: set[str] = set()

    def _forget(self, rule_ids: list[str]) -> None:
        forget(self.engine, self.rule_state, rule_ids)

    # -- batch by batch ---------------------------------------------------------------------

    def judge_batch(self, name: str, frame: pd.DataFrame) -> list[Finding]:
        """The findings of the record rules on one batch of dataset ``name``, not stored yet."""
        rules = self._with_data(self._record_rules(name), name, frame)
        findings = self._run_rules(rules, {name: frame})
        # A rule that failed on this batch forgets its state: the next run judges it over
        # the whole history (batch by batch, it would never see this batch again).
        self._forget([r.meta.id for r in rules if r.meta.id in self.summary.rule_errors])
        return findings

    def stored(self, name: str) -> None:
        """A batch of dataset ``name`` has been stored (the data facts may have changed)."""
        self.facts.changed(name)

    def _record_rules(self, dataset: str) -> list[RuleType]:
        """Rules judged record by record on each new batch: no history, no other dataset,
        and already evaluated once over the history (a new rule first looks back)."""
        return [
            r
            for r in self.ruleset.for_dataset(dataset)
            if is_record_rule(r) and r.meta.id in self.rule_state
        ]

    def _with_data(self, rules: list[RuleType], name: str, frame: pd.DataFrame) -> list[RuleType]:
        """The record rules the stored data and this batch let judge; the others are judged
        over the whole history after the pulls, if their data has come by then."""
        if not rules:
            return rules
        facts = self.facts.facts(rules, (name, frame))
        gone = data_coverage.blocked(rules, self.coverage, facts)
        self._forget(list(gone))
        return [r for r in rules if r.meta.id not in gone]

    def _run_rules(self, rules: list[RuleType], frames: dict[str, pd.DataFrame]) -> list[Finding]:
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

    # -- rules that need history ------------------------------------------------------------

    def judge_with_history(self) -> None:
        """Every rule not judged batch by batch: windows, joins, sequences, and rules seen for
        the first time. Each looks at the records new since its last evaluation plus its
        lookback; its alerts and its new state commit together."""
        # First what each rule must read (the record history does not change while the rules
        # are evaluated: every pull has committed), then each rule on its frames.
        self._cover_data()
        plans = self._plan()
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
            with self.summary.timed("store"), self.engine.connect() as conn:
                frames = self.planner.frames(conn, rule, plan)
            findings = self._run_rules([rule], frames)
            with self.summary.timed("store"), self.engine.begin() as conn:
                self.alerts.raise_findings(conn, findings)
                if rule.meta.id not in self.summary.rule_errors:
                    self._withdraw(conn, rule, frames, findings)
                    self._save_rule_state(rule.meta.id, conn)

    def _withdraw(
        self,
        conn: Connection,
        rule: RuleType,
        frames: dict[str, pd.DataFrame],
        findings: list[Finding],
    ) -> None:
        """Withdraw the rule's standing alerts on the records it has just judged again and no
        longer found (a late record took the condition away; see docs/incremental.md).

        Only for a rule judging each record of its dataset against its other datasets alone
        (:attr:`RuleType.judged_alone`): every record of its frame was decided in full (the
        planner reads the other datasets a lookback earlier), as one run over everything
        decides it. Committed with the rule's alerts and state."""
        frame = frames.get(rule.meta.dataset)
        if not rule.judged_alone or frame is None or frame.empty:
            return
        dataset = datasets.get(rule.meta.dataset)
        column = dataset.key
        judged = _keys(frame[column], dataset.by_name[column].type)
        found = [f.record_key for f in findings if f.dataset == rule.meta.dataset]
        others = [n for n in rule.datasets if n != rule.meta.dataset]
        gone = withdraw_stale(
            conn,
            rule.meta,
            judged,
            found,
            others,
            now=self.now,
            run_id=self.summary.run_id,
        )
        if gone:
            self.summary.withdrawn[rule.meta.id] += len(gone)

    def _plan(self) -> dict[str, ReadPlan | None]:
        """Per rule to judge now, what it reads (``None``: nothing new, its state moves on)."""
        plans: dict[str, ReadPlan | None] = {}
        for rule in self.ruleset.rules:
            state = self.rule_state.get(rule.meta.id)
            # (a rule that failed on a batch waits for the next run, as its error says)
            if rule.meta.id in self.blocked or rule.meta.id in self.summary.rule_errors:
                continue
            if not rule.meta.enabled or (state is not None and is_record_rule(rule)):
                continue
            with self.engine.connect() as conn:
                since, due = self.planner.since(conn, rule, state)
            if not due:
                plans[rule.meta.id] = None
                continue
            with self.summary.timed("store"), self.engine.connect() as conn:
                only = self.planner.touched(conn, rule, state)
            plans[rule.meta.id] = self.planner.plan(rule, since, only)
        return plans

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


def _keys(column: pd.Series, kind: str) -> Iterator[str]:
    """The record keys of ``column`` as the alerts store them, worked out only when read
    (withdrawal reads them only when a standing alert was not found again)."""
    for key in json_column(column, kind):
        yield str(key)
