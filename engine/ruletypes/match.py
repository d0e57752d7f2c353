"""``match``: a condition on each record of one dataset.

```toml
[[rule]]
id = "CARD-NIGHT"
type = "match"
dataset = "card_transactions"
when = "not is_null(approved_time) and (hour(approved_time) >= 23 or hour(approved_time) < 6)"
message = "{merchant_name} {approved_time} 승인 {amount:,}원"
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from engine.evidence import findings_from_rows
from engine.expr import CompiledExpression, ExprError, compile_expression
from engine.findings import Finding
from engine.registry import EvalContext, KeySpec, ProblemFactory, RuleType, register
from engine.rule import RuleMeta
from engine.template import MessageTemplate, compile_template
from naebu import datasets


def column_types(dataset: datasets.Dataset) -> dict[str, str]:
    """Column name -> expression type for a canonical dataset."""
    return {c.name: c.type for c in dataset.columns}


def compile_when(
    text: Any, dataset: datasets.Dataset, params: Mapping[str, Any], problem: ProblemFactory
) -> CompiledExpression | None:
    """Compile a ``when`` condition, reporting every problem at the ``when`` key."""
    if not isinstance(text, str) or not text.strip():
        problem("when", "must be a non-empty text", 'when = "amount > 1_000_000"')
        return None
    try:
        return compile_expression(text, column_types(dataset), params, expect="bool")
    except ExprError as exc:
        for p in exc.problems:
            problem("when", f"{p.message} (at column {p.offset + 1})", p.hint)
        return None


def compile_message(
    text: str, dataset: datasets.Dataset, params: Mapping[str, Any], problem: ProblemFactory
) -> MessageTemplate | None:
    """Compile a rule's message template, reporting problems at the ``message`` key."""
    if not text:
        return None
    try:
        return compile_template(text, column_types(dataset), params)
    except ExprError as exc:
        for p in exc.problems:
            problem("message", f"{p.message} (at column {p.offset + 1})", p.hint)
        return None


@register
class MatchRule(RuleType):
    """Flags every record for which ``when`` holds."""

    name = "match"
    keys = {
        "when": KeySpec(str, required=True, help="condition on one record (expression language)"),
    }

    def __init__(
        self, meta: RuleMeta, when: CompiledExpression, template: MessageTemplate | None
    ) -> None:
        super().__init__(meta)
        self.when = when
        self.template = template
        self.dataset = datasets.get(meta.dataset)

    @classmethod
    def compile(
        cls, meta: RuleMeta, spec: Mapping[str, Any], problem: ProblemFactory
    ) -> MatchRule | None:
        dataset = datasets.get(meta.dataset)
        when = compile_when(spec.get("when"), dataset, meta.params, problem)
        template = compile_message(meta.message, dataset, meta.params, problem)
        if when is None or (meta.message and template is None):
            return None
        return cls(meta, when, template)

    def evaluate(self, frames: Mapping[str, pd.DataFrame], ctx: EvalContext) -> list[Finding]:
        frame = frames.get(self.meta.dataset)
        if frame is None or frame.empty:
            return []
        mask = self.when.evaluate(frame)
        used = set(self.when.columns_used)
        if self.template is not None:
            used |= set(self.template.columns_used)
        ordered = [c for c in self.dataset.column_names if c in used]
        return findings_from_rows(self.meta, self.dataset, frame[mask], self.template, ordered)
