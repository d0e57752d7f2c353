"""Rule coverage as people read it: the run summary's lines, ``naebu check``'s report and
``naebu status``'s table (the states themselves come from engine/coverage.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import coverage


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
