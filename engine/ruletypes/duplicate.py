"""``duplicate``: records with the same keys within a time window (duplicate payments).

```toml
[[rule]]
id = "PAY-DUPLICATE"
type = "duplicate"
dataset = "payments"
keys = ["vendor_id", "amount", "invoice_no"]
window = "30d"
distinct = "payment_id"        # optional: siblings must differ in this column (other vouchers)
when = "amount > 0"            # optional
message = "{payment_id}: 같은 거래처·금액 지급 {group.siblings}"
```

Two records are duplicates of each other when every key is equal and not null, their times
are at most ``window`` apart (both ends included: 30 days apart is within ``"30d"``), and -
with ``distinct`` - their values of that column differ (a null there counts as different).
With a calendar window (``"day"``, ``"month"``...) they must fall in the same calendar span.
Every member of a group is flagged; its evidence lists its siblings' record keys and times.
The records sharing the keys are one case (one alert listing them all).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from naebu.core import datasets
from naebu.core.problems import did_you_mean
from naebu.engine.evidence import case_keys, findings_from_rows
from naebu.engine.expr import CompiledExpression
from naebu.engine.expr.values import to_runtime
from naebu.engine.findings import Finding
from naebu.engine.registry import (
    EvalContext,
    KeySpec,
    Partitioning,
    ProblemFactory,
    RuleType,
    register,
)
from naebu.engine.rule import RuleMeta
from naebu.engine.ruletypes import windows
from naebu.engine.ruletypes.common import (
    Window,
    column_list,
    column_types,
    compile_message,
    compile_when,
    expression_lists,
    expression_reads,
    lookup_datasets,
    parse_window,
    time_column,
    unique,
)
from naebu.engine.template import MessageTemplate

#: Siblings listed in a finding's evidence at most (``group.count`` has the full number).
MAX_SIBLINGS = 20


@register
class DuplicateRule(RuleType):
    """Flags every record that has a sibling with the same ``keys`` within ``window``."""

    name = "duplicate"
    keys = {
        "keys": KeySpec(list, required=True, help='columns that must all be equal, e.g. ["vendor_id", "amount"]'),
        "window": KeySpec(str, required=True, help='how far apart siblings may be: "30d", "12h", or the same "day", "week", "month"...'),
        "time": KeySpec(str, help="date column the window runs on (default: the dataset's event time)"),
        "distinct": KeySpec(str, help="column that must differ between siblings, e.g. the voucher number"),
        "when": KeySpec(str, help="condition choosing the records that take part (default: all)"),
    }  # fmt: skip

    def __init__(self, meta: RuleMeta, keys: list[str], window: Window, time: str,
                 distinct: str | None, when: CompiledExpression | None,
                 template: MessageTemplate | None) -> None:  # fmt: skip
        super().__init__(meta)
        self.dataset = datasets.get(meta.dataset)
        self.key_columns = keys
        self.window = window
        self.time = time
        self.distinct = distinct
        self.when = when
        self.template = template

    @classmethod
    def compile(
        cls, meta: RuleMeta, spec: Mapping[str, Any], problem: ProblemFactory
    ) -> DuplicateRule | None:
        dataset = datasets.get(meta.dataset)
        keys = column_list(spec.get("keys"), dataset, problem, "keys")
        window = parse_window(spec.get("window"), problem)
        time = time_column(spec.get("time"), dataset, problem)
        distinct = spec.get("distinct")
        if isinstance(distinct, str) and distinct not in dataset.by_name:
            problem(
                "distinct", f"unknown column {distinct!r}", did_you_mean(distinct, dataset.by_name)
            )
            return None
        when = None
        if "when" in spec:
            when = compile_when(spec.get("when"), dataset, meta.params, problem)
            if when is None:
                return None
        time_type = dataset.by_name[time].type if time else "date"
        fields = {"count": "int", "siblings": "str", "sibling_times": time_type}
        template = compile_message(meta.message, dataset, meta.params, problem, {"group": fields})
        if keys is None or window is None or time is None or (meta.message and template is None):
            return None
        return cls(meta, keys, window, time, distinct, when, template)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(unique([self.meta.dataset, *lookup_datasets(self.when)]))

    @property
    def columns_read(self) -> frozenset[tuple[str, str]]:
        """``keys``, the window's ``time``, ``distinct`` and the ``when`` condition's columns."""
        own = [*self.key_columns, self.time, *([self.distinct] if self.distinct else [])]
        found = {(self.meta.dataset, c) for c in own}
        return frozenset(found | expression_reads(self.when, self.meta.dataset))

    @property
    def lists_read(self) -> frozenset[str]:
        return expression_lists(self.when)

    @property
    def lookback(self) -> timedelta | None:
        """The window: an older sibling of a new record is at most this far back."""
        return self.window.lookback

    @property
    def time_columns(self) -> dict[str, str]:
        """The window runs on ``time`` (the event time unless the rule names another)."""
        return {self.meta.dataset: self.time}

    def _ranges(
        self, codes: np.ndarray, times: pd.Series
    ) -> tuple[windows.Sorted, np.ndarray, np.ndarray]:
        s = windows.prepare(codes, times, self.window.period)
        if self.window.period is not None:
            return (s, *windows.blocks(s))
        return (s, *windows.around(s, self.window.length_ns))

    def evaluate(self, frames: Mapping[str, pd.DataFrame], ctx: EvalContext) -> list[Finding]:
        frame = frames.get(self.meta.dataset)
        if frame is None or frame.empty:
            return []
        sub = frame.reset_index(drop=True)
        if self.when is not None:
            sub = sub[self.when.evaluate(sub, frames).to_numpy()].reset_index(drop=True)
        types = column_types(self.dataset)
        # A record no other record shares its keys with has no sibling in any window: only
        # the others are looked at further (the same findings, from far fewer rows).
        shared, codes = windows.shared_codes(sub, self.key_columns, types)
        if len(shared) < len(sub):
            sub = sub.take(shared).reset_index(drop=True)
        s, start, end = self._ranges(codes, sub[self.time])
        if not len(s):
            return []
        siblings = end - start - 1
        marks = np.zeros(len(sub), dtype=np.int64)  # distinct-column value per row; nulls unique
        if self.distinct is not None:
            values = to_runtime(sub[self.distinct], types[self.distinct])
            marks, _ = pd.factorize(values.to_numpy(dtype=object))
            nulls = marks < 0
            marks[nulls] = marks.max(initial=-1) + 1 + np.arange(int(nulls.sum()))
            # the same group and the same distinct value: those are not siblings of each other
            both = pd.DataFrame({"g": codes, "m": marks}).groupby(["g", "m"], sort=False).ngroup()
            both_codes = np.where(codes >= 0, both.to_numpy(), -1)
            s2, start2, end2 = self._ranges(both_codes, sub[self.time])
            same = np.zeros(len(sub), dtype=np.int64)
            same[s2.rows] = end2 - start2
            siblings = end - start - same[s.rows]
        flagged = np.flatnonzero(siblings > 0)
        if not len(flagged):
            return []
        flagged = flagged[np.argsort(s.rows[flagged], kind="stable")]
        keys = sub[self.dataset.key].astype(str).to_numpy()[s.rows]
        times = pd.to_datetime(sub[self.time]).to_numpy()[s.rows]
        sorted_marks = marks[s.rows]
        found_keys, found_times = [], []
        for p in flagged:  # only the flagged rows: few, and each needs its own list
            span = np.arange(start[p], end[p])
            span = span[span != p]
            if self.distinct is not None:
                span = span[sorted_marks[span] != sorted_marks[p]]
            span = span[:MAX_SIBLINGS]
            found_keys.append(keys[span].tolist())
            found_times.append([pd.Timestamp(t) for t in times[span]])
        rows = sub.iloc[s.rows[flagged]].reset_index(drop=True)
        rows["group.count"] = siblings[flagged] + 1
        rows["group.siblings"] = found_keys
        rows["group.sibling_times"] = found_times
        extra = {
            "group.count": "int",
            "group.siblings": "str",
            "group.sibling_times": types[self.time],
        }
        used = set(self.key_columns) | {self.time} | ({self.distinct} if self.distinct else set())
        if self.template is not None:
            used |= set(self.template.columns_used)
        ordered = [c for c in self.dataset.column_names if c in used]
        # One case per set of duplicates: the keys they share.
        cases = case_keys([rows[c] for c in self.key_columns])
        return findings_from_rows(self.meta, self.dataset, rows, self.template, ordered, extra,
                                  cases)  # fmt: skip

    @property
    def partitioning(self) -> Partitioning:
        """Siblings share every key: the ``keys`` keep them in one part; cut by time, a part
        needs the window on either side. A record with a null key has no siblings."""
        return Partitioning(keys={self.meta.dataset: tuple(self.key_columns)},
                            reach=self.window.lookback, nulls_take_part=False)  # fmt: skip
