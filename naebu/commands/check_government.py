"""The government-dependent thresholds in force, as ``naebu check`` prints them.

::

    government type: 한빛시, 시
      PROP-NO-APPRAISAL params.min_value = 10,000,000 (default) - 공유재산 및 물품 관리법 시행령 제27조제4항
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from naebu.core.government import DEFAULT_KEY, FACT_KEYS, Government
from naebu.engine.registry import RuleType


def government_lines(government: Government | None, rules: Iterable[RuleType]) -> list[str]:
    """The city's kind of government and, for each rule with ``params.by_government``, each
    value in force with the key that chose it and its article."""
    if government is None:
        head = "government type: not set ([city] government_type in config.toml): defaults in force"
    else:
        head = f"government type: {government.describe()}"
    lines = [head]
    for rule in sorted(rules, key=lambda r: r.meta.id):
        for p in rule.meta.government_params:
            chosen = FACT_KEYS.get(p.chosen, p.chosen)
            why = "default" if p.chosen == DEFAULT_KEY else chosen
            lines.append(
                f"  {rule.meta.id} params.{p.name} = {_shown(p.value)} ({why}) - {p.basis}"
            )
    return lines


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
