"""What a hand-written baseline query reads from the loaded rule: its thresholds, its lists,
its window, the run's day. The queries read these, so they follow the pack's values; their
*logic* is written out by hand, rule by rule, and checked against naebu's findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from naebu.engine.registry import RuleType


@dataclass(frozen=True)
class Spec:
    """One rule as the baselines see it."""

    rule: RuleType
    lists: Mapping[str, tuple[Any, ...]]
    #: The run's calendar day (absences are decided once their window has passed).
    today: date

    @property
    def p(self) -> dict[str, Any]:
        """The rule's parameters."""
        return dict(self.rule.meta.params)

    def items(self, name: str) -> list[str]:
        """A reference list's items as text."""
        return [str(i) for i in self.lists[name]]

    @property
    def days(self) -> int:
        """A trailing window (aggregate, duplicate) in whole days."""
        window = getattr(self.rule, "window", None)
        if window is None or window.period is not None or window.length.seconds:
            raise ValueError(f"{self.rule.meta.id}: expected a trailing window of whole days")
        return int(window.length.days)

    @property
    def period(self) -> str | None:
        """A calendar window's unit (``day``, ``month``, ``year``) or None for a trailing one."""
        window = getattr(self.rule, "window", None)
        names = {"D": "day", "M": "month", "Y": "year"}
        return None if window is None or window.period is None else names[window.period]

    @property
    def within_days(self) -> int:
        """A sequence rule's window in whole days."""
        ticks = self.rule.within_ticks  # type: ignore[attr-defined]
        if not getattr(self.rule, "by_day", False):
            raise ValueError(f"{self.rule.meta.id}: expected a window of whole days")
        return int(ticks)


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: list[str]) -> str:
    """``('a', 'b')`` for ``IN``."""
    return "(" + ", ".join(sql_text(v) for v in values) + ")"


def sql_like_any(column: str, phrases: list[str]) -> str:
    """SQL: ``column`` contains one of ``phrases`` (FALSE for none)."""
    likes = [f"contains({column}, {sql_text(p)})" for p in phrases]
    return "(" + (" OR ".join(likes) or "FALSE") + ")"
