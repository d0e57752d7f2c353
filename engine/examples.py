"""Rule examples: records in a rule file that must, or must not, fire the rule.

``naebu check`` and the test suite run every example, so a threshold edit that silently breaks
a rule is caught before it goes live. Example records are typed by the same coercion the
connectors use, so ``"2025-03-01"`` in an example means what it means in a source.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

import pandas as pd

from connectors.coerce import coerce
from engine.registry import EvalContext, RuleType
from engine.rule import RuleExample
from naebu import datasets
from naebu.problems import Problem


def example_frame(
    dataset: datasets.Dataset, example: RuleExample, index: int
) -> tuple[pd.DataFrame, list[str]]:
    """A one-row canonical frame for an example record, and the reasons it could not be typed."""
    record = {k: _text(v) for k, v in example.record.items()}
    record.setdefault(dataset.key, f"EXAMPLE-{index + 1}")
    raw = pd.DataFrame([record], dtype="object")
    frame, bad = coerce(
        raw, dataset, {c: c for c in record if c in dataset.by_name}, {}, [f"example[{index}]"]
    )
    return frame, [q.reason for q in bad]


#: Examples are judged as of this instant: late enough that every window in an example has closed.
EXAMPLE_NOW = datetime(2100, 1, 1)


def _empty(dataset: str) -> pd.DataFrame:
    frame, _ = coerce(pd.DataFrame(), datasets.get(dataset), {}, {}, [])
    return frame


def run_examples(rules: Iterable[RuleType]) -> list[Problem]:
    """Run every example of every rule; one problem per example that does not behave."""
    problems: list[Problem] = []
    for rule in rules:
        meta = rule.meta
        dataset = datasets.get(meta.dataset)
        for i, example in enumerate(meta.examples):
            key = f"example[{i}]"
            unknown = [c for c in example.record if c not in dataset.by_name]
            if unknown:
                problems.append(
                    Problem(
                        str(meta.file),
                        f"unknown column {unknown[0]!r} in the record",
                        meta.id,
                        key,
                        f"columns of {dataset.name}: " + ", ".join(dataset.column_names),
                    )
                )
                continue
            frame, reasons = example_frame(dataset, example, i)
            if reasons:
                problems.append(
                    Problem(
                        str(meta.file), "record cannot be read: " + "; ".join(reasons), meta.id, key
                    )
                )
                continue
            frames = {d: _empty(d) for d in rule.datasets} | {meta.dataset: frame}
            fired = bool(rule.evaluate(frames, EvalContext(now=EXAMPLE_NOW)))
            if fired != example.fires:
                what = "should fire but does not" if example.fires else "should not fire but does"
                note = f" ({example.note})" if example.note else ""
                problems.append(
                    Problem(
                        str(meta.file),
                        f"example {what}{note}",
                        meta.id,
                        key,
                        "check the condition and params against this record",
                    )
                )
    return problems


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
