"""The whole rule pack evaluated on frames in memory: seconds, rows/s and findings per rule and
per rule type.

Each rule gets exactly what the pipeline would give it on a first run: every dataset it reads
(``rule.datasets``), whole. "Rows in" is the length of the rule's own dataset (where its
findings live); "rows read" adds the datasets it joins or looks up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from naebu.engine.findings import Finding
from naebu.engine.loader import RuleSet
from naebu.engine.registry import EvalContext, RuleType


@dataclass
class RuleTiming:
    """One rule's evaluation."""

    rule_id: str
    type: str
    dataset: str
    rows_in: int
    rows_read: int
    seconds: float
    findings: int
    error: str | None = None

    @property
    def rows_per_second(self) -> float | None:
        """Rows of the rule's dataset per second (None when too fast to time)."""
        return self.rows_in / self.seconds if self.seconds > 0 else None


@dataclass
class PackTiming:
    """The whole pack: per rule, and the findings themselves for the correctness checks."""

    rules: list[RuleTiming] = field(default_factory=list)
    findings: dict[str, list[Finding]] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Wall seconds of every rule's evaluation, summed."""
        return sum(r.seconds for r in self.rules)

    def by_type(self) -> list[dict[str, Any]]:
        """Per rule type: rules, rows in, seconds, rows/s and findings."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.rules:
            t = out.setdefault(
                r.type, {"type": r.type, "rules": 0, "rows_in": 0, "seconds": 0.0, "findings": 0}
            )
            t["rules"] += 1
            t["rows_in"] += r.rows_in
            t["seconds"] += r.seconds
            t["findings"] += r.findings
        for t in out.values():
            t["rows_per_second"] = t["rows_in"] / t["seconds"] if t["seconds"] > 0 else None
        return sorted(out.values(), key=lambda t: -t["seconds"])

    def keys(self, rule_id: str) -> set[str]:
        """The record keys a rule flagged."""
        return {f.record_key for f in self.findings.get(rule_id, [])}


def frames_for(rule: RuleType, frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames a rule reads, as the pipeline hands them over."""
    return {name: frames[name] for name in rule.datasets}


def time_rule(
    rule: RuleType, frames: Mapping[str, pd.DataFrame], ctx: EvalContext
) -> tuple[float, list[Finding]]:
    """Wall seconds of one ``rule.evaluate`` and its findings."""
    given = frames_for(rule, frames)
    start = time.perf_counter()
    found = rule.evaluate(given, ctx)
    return time.perf_counter() - start, found


def evaluate_pack(
    ruleset: RuleSet, frames: Mapping[str, pd.DataFrame], now: datetime
) -> PackTiming:
    """Evaluate every enabled rule once on ``frames``; a rule that raises is reported, not
    fatal (as in a run)."""
    ctx = EvalContext(now=now)
    result = PackTiming()
    for rule in ruleset.rules:
        if not rule.meta.enabled:
            continue
        rows_in = len(frames[rule.meta.dataset])
        rows_read = sum(len(frames[d]) for d in rule.datasets)
        error = None
        try:
            seconds, found = time_rule(rule, frames, ctx)
        except Exception as exc:  # one broken rule must not hide the others' figures
            seconds, found, error = 0.0, [], f"{type(exc).__name__}: {exc}"
        result.findings[rule.meta.id] = found
        result.rules.append(
            RuleTiming(rule.meta.id, rule.name, rule.meta.dataset, rows_in, rows_read,
                       seconds, len(found), error)
        )  # fmt: skip
    return result


def compare_labels(
    findings: Mapping[str, list[Finding]], labels: set[tuple[str, str, str]]
) -> dict[str, Any]:
    """Findings against the demo's answer key (see :func:`difference`)."""
    return difference(
        {(f.rule_id, f.dataset, f.record_key) for fs in findings.values() for f in fs}, labels
    )


def difference(
    found: set[tuple[str, str, str]], labels: set[tuple[str, str, str]]
) -> dict[str, Any]:
    """(rule, dataset, key) triples against the labels: equal, and what is missing or extra,
    in total and by rule."""
    missing, extra = labels - found, found - labels
    by_rule: dict[str, dict[str, int]] = {}
    for rule_id, _, _ in missing:
        by_rule.setdefault(rule_id, {"missing": 0, "extra": 0})["missing"] += 1
    for rule_id, _, _ in extra:
        by_rule.setdefault(rule_id, {"missing": 0, "extra": 0})["extra"] += 1
    return {
        "equal": not missing and not extra,
        "labels": len(labels),
        "found": len(found),
        "missing": len(missing),
        "extra": len(extra),
        "by_rule": dict(sorted(by_rule.items())),
    }
