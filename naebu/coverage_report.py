"""Rule coverage as people read it: the run summary's lines, ``naebu check``'s report and
``naebu status``'s table (the states themselves come from engine/coverage.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from naebu.core import text_tables as tables
from naebu.engine import coverage
from naebu.engine.registry import RuleType


def coverage_json(states: Mapping[str, coverage.Coverage]) -> dict[str, Any]:
    """The run ledger's ``not_evaluable`` and ``partial`` rules, with what they lack."""
    return {
        name: {i: c.as_json() for i, c in sorted(states.items()) if c.state == state}
        for name, state in (
            ("not_evaluable", coverage.NOT_EVALUABLE),
            ("partial", coverage.PARTIAL),
        )
    }


def coverage_note(state: coverage.Coverage | None, title: str) -> str:
    """A rule's title in the summary, or why it was not run (or ran without an input)."""
    if state is None or state.live:
        return title
    if state.empty:
        return "NOT EVALUABLE (평가 불가), not run: " + state.hint
    if not state.evaluable:
        return "NOT EVALUABLE (평가 불가), not run: missing " + ", ".join(state.missing)
    how = "fallback ran" if state.uses_fallback else "ran without it"
    return f"{title} [partial: {', '.join(state.absent_optional)} absent, {how}]"


def coverage_hints(states: Mapping[str, coverage.Coverage]) -> list[str]:
    """One line per rule not live: what to add to config.toml."""
    lines = [f"  {i}: {c.hint}" for i, c in sorted(states.items()) if c.hint]
    if not lines:
        return []
    blocked = sum(1 for c in states.values() if not c.evaluable)
    return [
        f"rules not evaluable: {blocked}, partial: {len(states) - blocked} - to feed them:",
        *lines,
    ]


def rule_states(config: Any, rules: Iterable[RuleType]) -> dict[str, coverage.Coverage]:
    """:func:`naebu.engine.coverage.plan` of ``rules`` under ``config``, hints naming its sources."""
    return coverage.plan(
        rules,
        coverage.provided(config.sources),
        sources=coverage.sources_by_dataset(config.sources),
    )


def state_text(state: coverage.Coverage) -> str:
    """``live``, ``not evaluable (missing X)`` or ``partial (optional Y absent; ...)``."""
    if state.live:
        return "live"
    if state.empty:
        return f"not evaluable (no data: {state.hint})"
    if not state.evaluable:
        return f"not evaluable (missing {', '.join(state.missing)})"
    how = "the fallback runs" if state.uses_fallback else "the rule runs without it"
    return f"partial (optional {', '.join(state.absent_optional)} absent; {how})"


def counts_line(states: Mapping[str, coverage.Coverage]) -> str:
    """``coverage: 33 live, 1 partial, 1 not evaluable``."""
    n = Counter(c.state for c in states.values())
    return (
        f"coverage: {n[coverage.LIVE]} live, {n[coverage.PARTIAL]} partial, "
        f"{n[coverage.NOT_EVALUABLE]} not evaluable"
    )


def report_lines(states: Mapping[str, coverage.Coverage]) -> list[str]:
    """Every rule's state, one line each, and a hint line under each rule that is not live."""
    lines = [counts_line(states)]
    width = max((tables.width(i) for i in states), default=0) + 2
    for rule_id, state in sorted(states.items()):
        lines.append(f"  {tables.pad(rule_id, width)}{state_text(state)}")
        if state.hint and not state.empty:
            lines.append(f"  {' ' * width}hint: {state.hint}")
    return lines


def warning_line(states: Mapping[str, coverage.Coverage]) -> str | None:
    """The warning ``naebu check`` ends with when some rule is not evaluable."""
    blocked = sorted(i for i, c in states.items() if not c.evaluable)
    if not blocked:
        return None
    return (
        f"warning: {len(blocked)} rule(s) not evaluable (평가 불가): they are not run and raise "
        "nothing until a source provides their inputs (--strict makes this an error)"
    )


def status_json(config: Any, engine: Any = None) -> dict[str, Any]:
    """Per rule its state for ``naebu status`` (``{"error": ...}`` when the rule files have
    problems); with the store's ``engine``, rules whose data holds nothing they can be judged
    on are not evaluable too (naebu/data_coverage.py)."""
    from naebu.engine.loader import load_rules

    ruleset = load_rules(config.rule_paths, root=config.base_dir, government=config.city)
    if ruleset.problems:
        return {"error": f"{len(ruleset.problems)} problem(s) in the rule files - run naebu check"}
    states = rule_states(config, ruleset.rules)
    if engine is not None:
        from naebu.data_coverage import store_states

        states = store_states(engine, [r for r in ruleset.rules if r.meta.enabled], states)
    return {i: c.as_json() for i, c in sorted(states.items())}


def status_lines(rules: Mapping[str, Any]) -> list[str]:
    """``status_json`` as text lines."""
    if "error" in rules:
        return ["", f"rules: {rules['error']}"]
    states = {i: coverage.Coverage(i, **_fields(v)) for i, v in rules.items()}
    return ["", *report_lines(states)]


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "state": data["state"],
        "missing": tuple(data["missing"]),
        "absent_optional": tuple(data["absent_optional"]),
        "hint": data["hint"],
        "uses_fallback": data["fallback"],
        "empty": tuple(data.get("empty", ())),
    }


def runnable_rules(
    config: Any, rules: Iterable[RuleType]
) -> tuple[list[RuleType], dict[str, coverage.Coverage]]:
    """What runs of ``rules`` under ``config`` (a fallback in place of its rule, no
    not-evaluable rule), and the states of the rules that are not live - for the commands
    that evaluate rules outside a run (``backtest``, ``test-rule``)."""
    rules = list(rules)
    states = rule_states(config, rules)
    chosen = []
    for rule in rules:
        state = states.get(rule.meta.id)
        run = rule if state is None else coverage.runnable(rule, state)
        if run is not None:
            chosen.append(run)
    return chosen, {i: c for i, c in states.items() if not c.live}


def empty_inputs(rule: RuleType, frames: Mapping[str, pd.DataFrame]) -> list[str]:
    """Why a rule may have found nothing in data it read: each dataset it compares with that has
    no record, and each required column empty in every record (``naebu test-rule``)."""
    inputs = coverage.rule_inputs(rule)
    reasons = []
    for name in sorted(inputs.datasets - {rule.meta.dataset}):
        frame = frames.get(name)
        if frame is None or frame.empty:
            reasons.append(f"there is no {name} record")
    for name, column in sorted(inputs.required):
        frame = frames.get(name)
        if frame is None or frame.empty or column not in frame.columns:
            continue
        if bool(frame[column].isna().all()):
            of = "" if name == rule.meta.dataset else f" {name}"
            reasons.append(f"{column} is empty in every one of {len(frame):,}{of} records")
    return reasons
