"""Inputs whose absence is the finding, and the data-level coverage they need.

Most rules raise nothing when an input is empty: a condition on an empty value is unknown. A
few report emptiness itself: a sale with no receipt was not paid, a sole-source contract with
no ground written has none. Such a rule cannot tell "nothing happened" from "nothing was
loaded": were the other dataset to hold no record at all (an empty drop folder on day one, a
source failing on every run), or the column to be empty in every record (a source whose table
lacks it, a mapping to a column that is always blank), it would fire on every record.

:func:`absence_inputs` names those inputs of a compiled rule:

- **derived** from a ``sequence`` whose other side's records are what it looks for
  (``expect = "absent"``: the ``then`` side; ``expect = "before"``: the ``first`` side), when
  that side is another dataset than the flagged one and a record with no counterpart record
  fires (``unmatched = "fire"``). This is exact: such a rule flags every record of its own
  dataset whose counterpart is missing, so with no counterpart at all it flags them all.
  With ``unmatched = "skip"`` (the default) such a record is not judged: the other side
  holding nothing raises nothing;
- **declared** with the rule key ``absence_of``: dataset names (``"accounts"``, for
  ``account_no not in accounts.account_no``) and columns (``"sole_source_ground"``,
  ``"vendors.account_changed_on"``) whose emptiness the rule reports. Whether ``is_null(x)``
  in a condition is such a fact depends on where it stands (in a sequence's counterpart
  filter it widens what counts and makes the rule quieter), so columns are always declared.

:func:`with_data` then turns a rule's configuration-level :class:`~naebu.engine.coverage.Coverage`
into ``not_evaluable`` when one of those inputs holds nothing (:class:`DataFacts`): the run
does not evaluate it and says why, in the ``empty`` field of its state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from naebu.core import datasets
from naebu.core.problems import did_you_mean
from naebu.engine.registry import ProblemFactory, RuleType

if TYPE_CHECKING:  # naebu.engine.coverage imports the loader, which imports this module
    from naebu.engine.coverage import Coverage

_HINT = (
    'absence_of = ["receipts"] (datasets) or ["sole_source_ground", "vendors.account_changed_on"]'
)


@dataclass(frozen=True)
class AbsenceInputs:
    """What a rule reads whose emptiness it reports."""

    #: Other datasets whose missing records are the finding.
    datasets: frozenset[str] = frozenset()
    #: ``(dataset, column)`` whose empty value is the finding.
    columns: frozenset[tuple[str, str]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.datasets or self.columns)


def parse_absence_of(raw: Any, dataset: str, problem: ProblemFactory) -> tuple[str, ...]:
    """The ``absence_of`` key as ``"dataset NAME"`` and ``"dataset.column"`` items; problems
    are reported at ``absence_of``."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
        problem("absence_of", "must be a non-empty list of dataset or column names", _HINT)
        return ()
    out: list[str] = []
    for text in raw:
        name, dot, column = text.partition(".")
        if not dot and text in datasets.DATASETS and text not in datasets.get(dataset).by_name:
            out.append(f"dataset {text}")
            continue
        if not dot:
            name, column = dataset, text
        if name not in datasets.DATASETS:
            problem("absence_of", f"unknown dataset {name!r} in {text!r}",
                    did_you_mean(name, datasets.DATASETS))  # fmt: skip
            continue
        known = datasets.get(name).by_name
        if column not in known:
            hint = did_you_mean(column, [*known, *datasets.DATASETS])
            problem("absence_of", f"unknown dataset or column {text!r}",
                    hint or f"columns of {name}: " + ", ".join(known))  # fmt: skip
            continue
        out.append(f"{name}.{column}")
    if len(set(out)) != len(out):
        problem("absence_of", "an input is named twice", "name each input once")
    return tuple(dict.fromkeys(out))


def check_absence_of(rule: RuleType, problem: ProblemFactory) -> None:
    """Every declared input must be one the compiled rule reads: another dataset it reads,
    or a column it reads that is not ``optional`` (an optional one has its fallback)."""
    read = rule.columns_read
    optional = set(rule.meta.optional)
    for item in getattr(rule.meta, "absence_of", ()):
        if item.startswith("dataset "):
            name = item.removeprefix("dataset ")
            if name not in rule.datasets or name == rule.meta.dataset:
                problem("absence_of", f"the rule does not read dataset {name!r}",
                        "absence_of names datasets the rule joins, looks up or correlates")  # fmt: skip
            continue
        name, _, column = item.partition(".")
        shown = column if name == rule.meta.dataset else item
        if (name, column) not in read:
            problem("absence_of", f"the rule does not read {shown!r}",
                    "absence_of names columns the rule's conditions read")  # fmt: skip
        elif (name, column) in optional:
            problem("absence_of", f"{shown!r} is also optional",
                    "an input whose emptiness is the finding cannot be optional")  # fmt: skip


def absence_inputs(rule: RuleType) -> AbsenceInputs:
    """The derived and declared absence inputs of a compiled rule (or fallback); a declared
    one the rule does not read (a fallback without it) is left out."""
    names: set[str] = set()
    expect = getattr(rule, "expect", None)
    fires = getattr(rule, "unmatched", "fire") == "fire"
    if rule.meta.type == "sequence" and expect in ("absent", "before") and fires:
        other = rule.then if expect == "absent" else rule.first  # type: ignore[attr-defined]
        if other.dataset.name != rule.meta.dataset:
            names.add(other.dataset.name)
    columns: set[tuple[str, str]] = set()
    read = rule.columns_read
    for item in getattr(rule.meta, "absence_of", ()):
        if item.startswith("dataset "):
            name = item.removeprefix("dataset ")
            if name in rule.datasets:
                names.add(name)
            continue
        name, _, column = item.partition(".")
        if (name, column) in read:
            columns.add((name, column))
    return AbsenceInputs(frozenset(names), frozenset(columns))


@dataclass(frozen=True)
class DataFacts:
    """What the stored data holds nothing of: datasets without a record, and columns empty in
    every record of their dataset (only those some rule's absence inputs name are asked)."""

    empty_datasets: frozenset[str] = frozenset()
    empty_columns: frozenset[tuple[str, str]] = frozenset()
    #: How much was looked at, for the reasons: ``""`` (the store) or ``"the first 10,000 rows"``.
    scope: str = ""

    @classmethod
    def from_frames(
        cls, frames: Mapping[str, pd.DataFrame], rules: Iterable[RuleType]
    ) -> DataFacts:
        """The facts of in-memory frames (a missing frame holds no record)."""
        names, columns = needed(rules)
        empty = {n for n in names if n not in frames or frames[n].empty}
        blank = {
            (n, c)
            for n, c in columns
            if n in frames
            and not frames[n].empty
            and (c not in frames[n].columns or not bool(frames[n][c].notna().any()))
        }
        return cls(frozenset(empty), frozenset(blank))


def needed(rules: Iterable[RuleType]) -> tuple[set[str], set[tuple[str, str]]]:
    """The datasets and columns whose data the absence inputs of ``rules`` ask about."""
    names: set[str] = set()
    columns: set[tuple[str, str]] = set()
    for rule in rules:
        inputs = absence_inputs(rule)
        names |= inputs.datasets
        columns |= inputs.columns
    return names, columns


def empty_inputs(rule: RuleType, facts: DataFacts) -> tuple[str, ...]:
    """The absence inputs of ``rule`` that hold nothing: ``"dataset receipts"`` first, then
    ``"contracts.sole_source_ground"``."""
    inputs = absence_inputs(rule)
    found = [f"dataset {n}" for n in sorted(inputs.datasets & facts.empty_datasets)]
    found += [f"{d}.{c}" for d, c in sorted(inputs.columns & facts.empty_columns)]
    return tuple(found)


def with_data(rule: RuleType, state: Coverage, facts: DataFacts) -> Coverage:
    """``state`` (the configuration's view of ``rule``), ``not_evaluable`` when an absence
    input of what would run holds nothing in ``facts``."""
    from naebu.engine.coverage import runnable

    chosen = runnable(rule, state)
    if chosen is None:
        return state
    empty = empty_inputs(chosen, facts)
    return not_evaluable(state, empty, facts.scope) if empty else state


def not_evaluable(state: Coverage, empty: tuple[str, ...], scope: str = "") -> Coverage:
    """``state`` made not evaluable for the empty absence inputs ``empty``; its hint is the
    reason in English (:func:`reason`)."""
    from naebu.engine.coverage import NOT_EVALUABLE

    hint = "; ".join(reason(item, "en", scope) for item in empty)
    return dataclasses.replace(
        state, state=NOT_EVALUABLE, hint=hint, empty=empty, uses_fallback=False
    )


def reason(item: str, lang: str = "ko", scope: str = "") -> str:
    """Why an empty absence input stops a rule, in plain words: ``"dataset receipts holds no
    record yet"`` / ``"세입 수납 자료가 한 건도 없어 판단할 수 없음"``. ``scope`` (``"the first
    10,000 rows"``) says how much data was looked at when it was not the whole store."""
    if item.startswith("dataset "):
        name = item.removeprefix("dataset ")
        if lang == "en":
            where = f" in {scope}" if scope else " yet"
            return f"dataset {name} holds no record{where}"
        title = datasets.DATASETS[name].title if name in datasets.DATASETS else name
        return f"{title} 자료가 한 건도 없어 판단할 수 없음"
    name, _, column = item.partition(".")
    if lang == "en":
        if scope:
            return f"{name}.{column} is empty in every {name} row read ({scope})"
        return f"{name}.{column} is empty in every stored {name} record"
    from naebu.engine.coverage import describe

    return f"{describe(item, 'ko')} 값이 모든 건에서 비어 있어 판단할 수 없음"
