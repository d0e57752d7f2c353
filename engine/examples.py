"""Rule examples: records in a rule file that must, or must not, fire the rule.

``naebu check`` and the test suite run every example, so a threshold edit that silently breaks
a rule is caught before it goes live; ``naebu check`` also refuses a rule that lacks an example
of either kind. Example records are typed by the same coercion the connectors use, so
``"2025-03-01"`` in an example means what it means in a source.

An example is one ``[[rule.example]]`` table:

- ``fires = true | false`` (required): whether the rule fires on the example's first record.
- ``record = { ... }``: one record of the rule's dataset; or ``records = [ {...}, {...} ]``:
  several (window, duplicate and sequence rules need company). ``fires`` is about the FIRST
  record; the others are its history or its siblings.
- ``expect_keys = ["P-1", "P-2"]`` (optional): the exact record keys of the rule's dataset the
  rule fires on, over all the records; an empty list means it fires on none.
- ``related = { vendors = [ { vendor_id = "V1", account_no = "..." } ] }`` (optional): records
  of the other datasets the rule reads (joins, lookups, sequences), typed the same way.
- ``note = "..."``: why the example is there.

Records without their key get ``EXAMPLE-<n>`` (``EXAMPLE-<n>-<m>`` in ``records``); name the
keys when ``expect_keys`` refers to them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pandas as pd

from naebu.connectors.coerce import coerce
from naebu.core import datasets
from naebu.core.government import GOVERNMENT_TYPES
from naebu.core.problems import Problem, did_you_mean
from naebu.engine.registry import EvalContext, RuleType
from naebu.engine.rule import RuleExample

EXAMPLE_KEYS = ("fires", "record", "records", "related", "expect_keys", "note", "government")


@dataclass(frozen=True)
class Example(RuleExample):
    """A rule example with the optional parts of the general format (see the module doc).

    ``record`` is the first record, so code that knows only one-record examples still works.
    """

    records: tuple[dict[str, Any], ...] = ()
    related: Mapping[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    expect_keys: tuple[str, ...] | None = None
    #: The kind of government the example runs for (``government = "자치구"``); None: the
    #: defaults of the rule's ``params.by_government``.
    government: str | None = None


class ExampleList(list[RuleExample]):
    """A rule's examples, remembering the line of the rule so a missing kind can be located."""

    def __init__(self, items: Iterable[RuleExample] = (), *, rule_line: int | None = None):
        super().__init__(items)
        self.rule_line = rule_line
        #: The line of each example's [[rule.example]] table, in order.
        self.lines: list[int | None] = []

    def line(self, index: int) -> int | None:
        """The line of example ``index``, if known."""
        return self.lines[index] if index < len(self.lines) else None


def parse_example(raw: Any) -> Example | tuple[str, str]:
    """An example from its TOML table, or (message, hint) for a located problem."""
    usage = "[[rule.example]] fires = true, record = { ... } (or records = [ {...}, {...} ])"
    if not isinstance(raw, dict) or not isinstance(raw.get("fires"), bool):
        return "an example needs fires = true|false and a record table", usage
    extra = sorted(set(raw) - set(EXAMPLE_KEYS))
    if extra:
        return f"unknown key {extra[0]!r}", did_you_mean(
            extra[0], EXAMPLE_KEYS
        ) or "keys: " + ", ".join(EXAMPLE_KEYS)
    if ("record" in raw) == ("records" in raw):
        return "an example needs either record = { ... } or records = [ ... ]", usage
    records = [raw["record"]] if "record" in raw else raw["records"]
    if (
        not isinstance(records, list)
        or not records
        or not all(isinstance(r, dict) for r in records)
    ):
        return "records must be a non-empty list of tables", "records = [ { ... }, { ... } ]"
    related: dict[str, tuple[dict[str, Any], ...]] = {}
    raw_related = raw.get("related", {})
    if not isinstance(raw_related, dict):
        return (
            "related must be a table of dataset = [records]",
            'related = { vendors = [ { vendor_id = "V1" } ] }',
        )
    for name, rows in raw_related.items():
        if name not in datasets.DATASETS:
            return f"unknown dataset {name!r} in related", did_you_mean(
                name, datasets.DATASETS
            ) or "datasets: " + ", ".join(datasets.DATASETS)
        rows = [rows] if isinstance(rows, dict) else rows
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return (
                f"related.{name} must be a list of tables",
                f"related = {{ {name} = [ {{ ... }} ] }}",
            )
        related[name] = tuple(dict(r) for r in rows)
    government = raw.get("government")
    if government is not None and government not in GOVERNMENT_TYPES:
        return f"unknown government type {government!r}", did_you_mean(
            str(government), GOVERNMENT_TYPES
        ) or "one of " + ", ".join(GOVERNMENT_TYPES)
    expect = raw.get("expect_keys")
    if expect is not None and (
        not isinstance(expect, list) or not all(isinstance(k, str) for k in expect)
    ):
        return "expect_keys must be a list of record keys (text)", 'expect_keys = ["P-1", "P-2"]'
    return Example(raw["fires"], dict(records[0]), str(raw.get("note", "")),
                   tuple(dict(r) for r in records), related,
                   None if expect is None else tuple(expect), government)  # fmt: skip


def example_frame(
    dataset: datasets.Dataset, example: RuleExample, index: int
) -> tuple[pd.DataFrame, list[str]]:
    """A canonical frame of an example's records, and the reasons they could not be typed."""
    records = list(example.records) if isinstance(example, Example) else [example.record]
    if isinstance(example, Example) and not records:
        records = [example.record]
    return records_frame(dataset, records, f"EXAMPLE-{index + 1}", f"example[{index}]")


def records_frame(
    dataset: datasets.Dataset, records: list[dict[str, Any]], key_prefix: str, where: str
) -> tuple[pd.DataFrame, list[str]]:
    """Records written in a rule file as a canonical frame, typed as a source's rows would be."""
    rows = []
    for j, record in enumerate(records):
        row = {k: _text(v) for k, v in record.items()}
        row.setdefault(dataset.key, key_prefix if len(records) == 1 else f"{key_prefix}-{j + 1}")
        rows.append(row)
    names = sorted({c for r in rows for c in r if c in dataset.by_name})
    raw = pd.DataFrame(rows, dtype="object")
    places = [where] if len(rows) == 1 else [f"{where}.records[{j}]" for j in range(len(rows))]
    frame, bad = coerce(raw, dataset, {c: c for c in names}, {}, places)
    return frame, [q.reason for q in bad]


#: Examples are judged as of this instant: late enough that every window in an example has closed.
EXAMPLE_NOW = datetime(2100, 1, 1)


def _empty(dataset: str) -> pd.DataFrame:
    """An empty canonical frame of ``dataset`` (a copy: a rule may not change the cached one)."""
    return _empty_cached(dataset).copy()


@functools.cache
def _empty_cached(dataset: str) -> pd.DataFrame:
    # Typing an empty frame costs 4 ms, and `naebu check` needs one per dataset a rule reads
    # for each of the pack's ~270 examples; the dataset model does not change in a process.
    frame, _ = coerce(pd.DataFrame(), datasets.get(dataset), {}, {}, [])
    return frame


def run_examples(rules: Iterable[RuleType]) -> list[Problem]:
    """Run every example of every rule; one problem per example that does not behave, and one
    per rule without an example of each kind."""
    problems: list[Problem] = []
    rules = list(rules)
    # a rule's [rule.fallback] has examples of its own (engine/fallback.py), at fallback.*
    fallbacks = {id(r.fallback) for r in rules if r.fallback is not None}
    rules += [r.fallback for r in rules if r.fallback is not None]
    for rule in rules:
        if id(rule) in fallbacks:
            problems += [dataclasses.replace(p, key=f"fallback.{p.key}")
                         for p in run_examples([rule])]  # fmt: skip
            continue
        meta = rule.meta
        kinds = {e.fires for e in meta.examples}
        if kinds != {True, False}:
            missing = " and ".join(
                f"fires = {str(k).lower()}" for k in (True, False) if k not in kinds
            )
            line = meta.examples.rule_line if isinstance(meta.examples, ExampleList) else None
            problems.append(Problem(str(meta.file), f"no example with {missing}", meta.id, "example",
                                    "add [[rule.example]] tables: one record that must fire and one "
                                    "that must not", line))  # fmt: skip
        for i, example in enumerate(meta.examples):
            problem = _run_one(rule, example, i)
            if problem is not None:
                if isinstance(meta.examples, ExampleList):
                    problem = dataclasses.replace(problem, line=meta.examples.line(i))
                problems.append(problem)
    return problems


def _run_one(rule: RuleType, example: RuleExample, i: int) -> Problem | None:
    # An example runs with the values of the government it names (the defaults if none),
    # whatever city's values the rule was compiled with.
    rule = rule.example_variants.get(getattr(example, "government", None), rule)
    meta = rule.meta
    key = f"example[{i}]"
    file = str(meta.file)
    related = example.related if isinstance(example, Example) else {}
    frames = {d: _empty(d) for d in rule.datasets}
    for name, records in [(meta.dataset, None), *related.items()]:
        if name != meta.dataset and name not in rule.datasets:
            return Problem(file, f"related dataset {name!r} is not read by this rule", meta.id, key,
                           "datasets read: " + ", ".join(rule.datasets))  # fmt: skip
        dataset = datasets.get(name)
        rows = list(records) if records is not None else None
        all_rows = rows if rows is not None else _records_of(example)
        unknown = [c for r in all_rows for c in r if c not in dataset.by_name]
        if unknown:
            where = "the record" if rows is None else f"related.{name}"
            return Problem(file, f"unknown column {unknown[0]!r} in {where}", meta.id, key,
                           f"columns of {dataset.name}: " + ", ".join(dataset.column_names))  # fmt: skip
        if rows is None:
            frame, reasons = example_frame(dataset, example, i)
        else:
            frame, reasons = records_frame(dataset, rows, f"RELATED-{i + 1}", key)
        if reasons:
            return Problem(file, "record cannot be read: " + "; ".join(reasons), meta.id, key)
        frames[name] = frame
    primary = frames[meta.dataset]
    first_key = str(primary[datasets.get(meta.dataset).key].iloc[0])
    findings = rule.evaluate(frames, EvalContext(now=EXAMPLE_NOW))
    fired_keys = {f.record_key for f in findings if f.dataset == meta.dataset}
    note = f" ({example.note})" if example.note else ""
    if (first_key in fired_keys) != example.fires:
        what = "should fire but does not" if example.fires else "should not fire but does"
        return Problem(file, f"example {what}{note}", meta.id, key,
                       "check the condition and params against this record")  # fmt: skip
    expect = example.expect_keys if isinstance(example, Example) else None
    if expect is not None and fired_keys != set(expect):
        got = ", ".join(sorted(fired_keys)) or "none"
        return Problem(file, f"example fires on {got}, expected {', '.join(sorted(expect)) or 'none'}{note}",
                       meta.id, key, "check expect_keys, the condition and params")  # fmt: skip
    return None


def _records_of(example: RuleExample) -> list[dict[str, Any]]:
    if isinstance(example, Example) and example.records:
        return list(example.records)
    return [example.record]


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    return str(value)
