"""The parts of a rule every rule type shares, as read from a rule file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class RuleExample:
    """A record that must (``fires = true``) or must not fire the rule."""

    fires: bool
    record: dict[str, Any]
    note: str = ""


@dataclass
class RuleMeta:
    """What a rule file says about a rule, apart from the logic its type compiles.

    ``deadline_days`` counts business days (weekends and Korean public holidays excluded).
    """

    id: str
    title: str
    title_en: str
    type: str
    dataset: str
    severity: str
    file: Path
    description: str = ""
    description_en: str = ""
    basis: str = ""
    owner: str = "department"
    deadline_days: int = 10
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    examples: list[RuleExample] = field(default_factory=list)
    enabled: bool = True
