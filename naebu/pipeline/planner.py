"""The incremental planner: what of the record history each rule must read this run.

A rule not judged batch by batch (windows, joins, sequences, a rule seen for the first time)
looks at the records new since its last evaluation plus its lookback (:meth:`since`), and,
when it declares its groups, only at the groups new records or the clock touched
(:meth:`touched`). Planned together (:meth:`plan`), a history two rules need from different
times on (two lookbacks) is read once, from the earlier time, and cut for the other
(:meth:`frames`). Records this run pulled are read from memory, older ones from the store, so
a first run does not read back what it has just written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from naebu.core import datasets, dtypes
from naebu.engine.registry import RuleType
from naebu.store import history
from naebu.store.history import KeyFilter, NewRecords

#: How a rule's history is cut down to what it must see again.
Narrowing = KeyFilter | NewRecords


@dataclass(frozen=True)
class ReadPlan:
    """What one rule reads: from ``since`` on (``None``: the whole history), cut per dataset
    to ``only`` (a dataset not named: all its records in the window)."""

    since: datetime | None
    only: dict[str, Narrowing]


def time_column(rule: RuleType, name: str) -> str | None:
    """The column a rule's history of dataset ``name`` is cut on by time."""
    return rule.time_columns.get(name) or datasets.get(name).event_time


def start_of(rule: RuleType, name: str, since: datetime | None) -> datetime | None:
    """From what time the rule reads dataset ``name`` when it judges its records from
    ``since`` on. A rule judging each record against its other datasets alone
    (:attr:`RuleType.judged_alone`) reads those one lookback earlier: an older record it
    judges again (its group touched) then sees every counterpart in its window, so it is
    decided as one run over everything decides it, and an alert on it may be withdrawn when
    it is no longer found (:mod:`naebu.alerts.withdrawal`)."""
    if since is None or not rule.judged_alone or name == rule.meta.dataset:
        return since
    return since - (rule.lookback or timedelta(0))


def is_record_rule(rule: RuleType) -> bool:
    """A rule judged record by record on each batch: no lookback, no other dataset."""
    return rule.lookback is None and tuple(rule.datasets) == (rule.meta.dataset,)


class IncrementalPlanner:
    """Plans and reads each rule's history for one run.

    During the pulls it is told of this run's records: :meth:`first_load` (a dataset whose
    history was empty when the run began), :meth:`add_batch` (a committed batch) and
    :meth:`join_pulled` (a source read whole). After the pulls, when the record history no
    longer changes, per rule: :meth:`since` and :meth:`touched`, then :meth:`plan`; once every
    rule is planned, :meth:`frames` gives each its frames, reading a shared history once.
    ``state`` is the rule's row of ``history.rule_state`` (``None``: never evaluated).
    """

    def __init__(self, run_id: int, now: datetime) -> None:
        self.run_id = run_id
        self.now = now
        #: This run's committed batches per dataset.
        self.pulled: dict[str, list[pd.DataFrame]] = {}
        #: Datasets whose batches :meth:`history` has joined into one frame, one version per key.
        self.joined: set[str] = set()
        #: Datasets whose history was empty when this run began pulling them: every record
        #: of theirs is in :attr:`pulled`, so rules need not read the store for older ones.
        self.first_loads: set[str] = set()
        #: ``history.new_since`` per (dataset, last run id).
        self._new_since: dict[tuple[str, int], tuple[int, datetime | None]] = {}
        #: Per (dataset, time column, narrowing): the earliest time a planned rule reads from.
        self._earliest: dict[tuple[str, str | None, Narrowing | None], datetime | None] = {}
        self._cache: dict[tuple[str, str | None, datetime | None, Narrowing | None], pd.DataFrame]
        self._cache = {}

    # -- fed by the pulls -------------------------------------------------------------------

    def first_load(self, name: str) -> None:
        """Dataset ``name`` held no records when this run began pulling it."""
        self.first_loads.add(name)

    def add_batch(self, name: str, frame: pd.DataFrame) -> None:
        """A batch of dataset ``name`` this run has committed."""
        self.pulled.setdefault(name, []).append(frame)

    def batch_count(self, name: str) -> int:
        """How many frames of this run's records of dataset ``name`` are held."""
        return len(self.pulled.get(name, ()))

    def join_pulled(self, name: str) -> None:
        """This run's batches of dataset ``name`` joined into one frame, now that a source of
        it has been read whole (see :func:`naebu.core.dtypes.joined`). Now rather than when a rule
        first needs them: the batches' memory is then free for the next source's, instead
        of staying with the process (a million payments: about 0.3 GB more at the peak)."""
        batches = self.pulled.get(name)
        if batches and len(batches) > 1:
            batches[:] = [dtypes.joined(batches)]

    # -- planning ---------------------------------------------------------------------------

    def new_since(
        self, conn: Connection, name: str, last_run_id: int
    ) -> tuple[int, datetime | None]:
        """``history.new_since``, asked once per dataset and run id: the record history does not
        change while the rules that need it are evaluated (every pull has committed)."""
        at = (name, last_run_id)
        if at not in self._new_since:
            self._new_since[at] = history.new_since(conn, name, last_run_id)
        return self._new_since[at]

    def since(self, conn: Connection, rule: RuleType, state: Any) -> tuple[datetime | None, bool]:
        """From what event time the rule must look, and whether it must run at all."""
        if state is None:
            return None, True  # first evaluation: the whole history
        timed = [d for d in rule.datasets if datasets.get(d).event_time]
        if not timed:
            return None, True  # reference data only: small, judged whole
        starts = []
        for name in timed:
            count, earliest = self.new_since(conn, name, state.last_run_id)
            if count and earliest is not None:
                starts.append(earliest)
        lookback = rule.lookback or timedelta(0)
        if rule.clock_driven:
            # An absence becomes provable as the clock passes a window's end, new data or not.
            starts.append(state.evaluated_at)
            closing = rule.closing
            if closing is not None:
                # Records whose moment (time + delay, a settling period included) passed
                # since then, with a day of slack: the delay may exceed the lookback.
                starts.append(state.evaluated_at - closing[2] - timedelta(days=1) + lookback)
        if not starts:
            return None, False
        return min(starts) - lookback, True

    def touched(self, conn: Connection, rule: RuleType, state: Any) -> dict[str, Narrowing]:
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
        (:attr:`~naebu.engine.registry.Partitioning.nulls_take_part`).
        """
        closing = rule.closing if rule.clock_driven else None
        if state is None or (rule.clock_driven and closing is None):
            return {}
        keys = rule.partitioning.keys
        lookups = [n for n in rule.datasets if n != rule.meta.dataset]
        if rule.meta.dataset not in keys and not rule.clock_driven:
            # Judged record by record (a match with a join): against unchanged lookups, the
            # older records were judged already; only the new ones can give new findings.
            if any(self.new_since(conn, n, state.last_run_id)[0] for n in lookups):
                return {}
            return {rule.meta.dataset: NewRecords(state.last_run_id)}
        named = {n: cols for n, cols in keys.items() if n in rule.datasets}
        if rule.meta.dataset not in named or not all(named.values()):
            return {}
        for name in rule.datasets:
            if name not in named and self.new_since(conn, name, state.last_run_id)[0]:
                return {}
        if closing is not None and closing[0] not in named:
            return {}  # the records that close are in no named group: no cut keeps them whole
        best = self._best_column(conn, rule, state, named)
        if best is None:
            return {}
        return self._narrowing(rule, state, named, *best)

    def _best_column(
        self, conn: Connection, rule: RuleType, state: Any, named: dict[str, tuple[str, ...]]
    ) -> tuple[int, set[str | None], set[str | None]] | None:
        """Of the rule's text key columns (by position), the one that splits its history
        finest, with every touched value and those not from the rule's own new records (the
        other datasets' new records, the records whose moment passed); None when none is text.
        """
        closing = rule.closing if rule.clock_driven else None
        width = min(len(cols) for cols in named.values())
        alone = rule.judged_alone
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
                name, time_col, delay = closing
                # Records whose moment (time + delay) lies in (last clock, now], with a day
                # of slack on each side: more groups than needed is still exact.
                timed = history.keys_timed_between(
                    conn,
                    name,
                    named[name][i],
                    time_col,
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
        return best

    @staticmethod
    def _narrowing(
        rule: RuleType,
        state: Any,
        named: dict[str, tuple[str, ...]],
        i: int,
        values: set[str | None],
        outside: set[str | None],
    ) -> dict[str, Narrowing]:
        """Per dataset, the key filter on column ``i`` that keeps the touched groups."""
        # Records with a null key are a group of their own, unless they take no part at all.
        nulls = rule.partitioning.nulls_take_part
        present = tuple(sorted(v for v in values if v is not None))
        narrowed: dict[str, Narrowing] = {
            n: KeyFilter(cols[i], present, nulls and None in values) for n, cols in named.items()
        }
        if rule.judged_alone:
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

    def plan(self, rule: RuleType, since: datetime | None, only: dict[str, Narrowing]) -> ReadPlan:
        """Record what ``rule`` will read, so :meth:`frames` reads each shared history once,
        from the earliest time any planned rule needs it."""
        for name in rule.datasets:
            group = (name, time_column(rule, name), only.get(name))
            start = start_of(rule, name, since)
            if group not in self._earliest:
                self._earliest[group] = start
            elif (known := self._earliest[group]) is not None:
                self._earliest[group] = None if start is None else min(start, known)
        return ReadPlan(since, only)

    # -- reading ----------------------------------------------------------------------------

    def frames(self, conn: Connection, rule: RuleType, plan: ReadPlan) -> dict[str, pd.DataFrame]:
        """The frames ``rule`` evaluates on, per dataset, as ``plan`` (from :meth:`plan`) says."""
        frames = {}
        for name in rule.datasets:
            column = time_column(rule, name)
            only = plan.only.get(name)
            start = start_of(rule, name, plan.since)
            at = (name, column, start, only)
            if at not in self._cache:
                wide = self._earliest[(name, column, only)]
                first = (name, column, wide, only)
                if first not in self._cache:
                    self._cache[first] = self.history(conn, name, column, wide, only)
                self._cache[at] = history.in_window(
                    self._cache[first], name, since=start, time_column=column
                )
            frames[name] = self._cache[at]
        return frames

    def history(
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
                before_run=self.run_id,
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
