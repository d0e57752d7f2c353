"""Data-level coverage from the store: which inputs whose emptiness is a finding hold nothing.

engine/coverage.py judges a rule by the configuration alone; engine/absence.py names the few
inputs whose emptiness a rule reports (a sale with no receipt, a contract with no ground).
Configured is not enough for those: a dataset a source is configured for may hold no record
yet, a mapped column may be empty in every record. This module asks the record history, with
one ``SELECT 1 ... LIMIT 1`` per dataset (does it hold a record?) and per fact column (does
any record hold a value?), each asked once per run and remembered
(:class:`StoreFacts`), never reading records.

A run asks twice: batch by batch for the rules judged record by record (the batch in hand
counts as data), and once after its pulls for every other rule (:func:`blocked`). A rule
blocked either way is not run, raises nothing, forgets its state (so once its data comes it
looks at the whole history) and shows in the run summary as not evaluable, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from naebu.core import datasets
from naebu.engine import absence, coverage
from naebu.engine.absence import DataFacts
from naebu.engine.registry import RuleType
from naebu.store import history


def holds_records(conn: Connection, name: str) -> bool:
    """Whether the history of dataset ``name`` holds any record (one row read at most)."""
    return history.holds_records(conn, name)


def column_filled(conn: Connection, name: str, column: str) -> bool:
    """Whether any stored record of dataset ``name`` has a value in ``column``: stops at the
    first one, so it reads a whole table only when the column is empty everywhere."""
    return history.column_filled(conn, name, column)


class StoreFacts:
    """The store's :class:`~naebu.engine.absence.DataFacts` for one run, each question asked once.

    A "yes" stays true while the run stores more records; a "no" is asked again once a batch
    of its dataset has been stored (:meth:`changed`). A reference dataset is replaced whole,
    so both are forgotten for it.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._records: dict[str, bool] = {}
        self._filled: dict[tuple[str, str], bool] = {}

    def changed(self, name: str) -> None:
        """A batch of dataset ``name`` has been stored: ask its "no" answers again."""
        whole = datasets.get(name).reference
        if whole or not self._records.get(name, True):
            self._records.pop(name, None)
        for key in [k for k, v in self._filled.items() if k[0] == name and (whole or not v)]:
            del self._filled[key]

    def facts(
        self, rules: Iterable[RuleType], batch: tuple[str, pd.DataFrame] | None = None
    ) -> DataFacts:
        """What the absence inputs of ``rules`` hold; ``batch`` (dataset, frame) is data not
        stored yet that counts as well."""
        names, columns = absence.needed(rules)
        in_hand = batch[1] if batch is not None else None
        of = batch[0] if batch is not None else None
        empty: set[str] = set()
        blank: set[tuple[str, str]] = set()
        todo_names = [n for n in names if n not in self._records]
        todo_columns = [
            k
            for k in columns
            if k not in self._filled and not (k[0] == of and _any_value(in_hand, k[1]))
        ]
        if todo_names or todo_columns:
            with self.engine.connect() as conn:
                for name in todo_names:
                    self._records[name] = holds_records(conn, name)
                for name, column in todo_columns:
                    self._filled[(name, column)] = column_filled(conn, name, column)
        for name in names:
            has_batch = name == of and in_hand is not None and not in_hand.empty
            if not has_batch and not self._records[name]:
                empty.add(name)
        for key in columns:
            in_batch = key[0] == of and _any_value(in_hand, key[1])
            if not in_batch and not self._filled.get(key, False):
                blank.add(key)
        return DataFacts(frozenset(empty), frozenset(blank))


def _any_value(frame: pd.DataFrame | None, column: str) -> bool:
    return frame is not None and column in frame.columns and bool(frame[column].notna().any())


def blocked(
    rules: Iterable[RuleType], states: Mapping[str, coverage.Coverage], facts: DataFacts
) -> dict[str, coverage.Coverage]:
    """The rules of ``rules`` (what runs: a fallback in place of its rule) that ``facts`` make
    not evaluable, by id, with their new state."""
    out = {}
    for rule in rules:
        empty = absence.empty_inputs(rule, facts)
        if empty:
            state = states.get(rule.meta.id) or coverage.Coverage(rule.meta.id, coverage.LIVE)
            out[rule.meta.id] = absence.not_evaluable(state, empty, facts.scope)
    return out


def store_states(
    engine: Engine, rules: Iterable[RuleType], states: Mapping[str, coverage.Coverage]
) -> dict[str, coverage.Coverage]:
    """``states`` (by the configuration) with the data-level ones of the stored data laid over
    (``naebu status``): a rule not run for want of data shows so."""
    rules = list(rules)
    chosen = []
    for rule in rules:
        state = states.get(rule.meta.id)
        run = rule if state is None else coverage.runnable(rule, state)
        if run is not None:
            chosen.append(run)
    facts = StoreFacts(engine).facts(chosen)
    return {**states, **blocked(chosen, states, facts)}


def drop_blocked(
    rules: Iterable[RuleType],
    states: Mapping[str, coverage.Coverage],
    frames: Mapping[str, pd.DataFrame],
) -> tuple[list[RuleType], dict[str, coverage.Coverage]]:
    """For the commands that evaluate rules on frames in memory (``backtest``, ``evaluate
    --replay``): ``rules`` less those the frames leave nothing to judge on, and ``states``
    with theirs added."""
    rules = list(rules)
    gone = blocked(rules, states, DataFacts.from_frames(frames, rules))
    return [r for r in rules if r.meta.id not in gone], {**states, **gone}
