"""``aggregate``: group records by keys within a time window, then test the group (split
contracts; overtime hours per month).

```toml
[[rule]]
id = "CONTRACT-SPLIT"
type = "aggregate"
dataset = "contracts"
when = "method == \\"수의\\""                      # optional: which records take part
group_by = ["department", "vendor_id"]
window = "30d"                                    # or "day", "week", "month", "quarter", "year"
having = "count() >= 2 and sum(amount) > params.limit and max(amount) <= params.limit"
params = { limit = 20_000_000 }                   # or values by date: docs/rules.md
message = "{vendor_id}: {group.count}건 합계 {group.sum_amount:,}원"
```

Semantics. A trailing window (``"30d"``, ``"12h"``) of a record at time ``t`` holds the records
of its group with ``t - 30 days <= time <= t`` - both ends included, so two contracts exactly
30 days apart are in one window. A calendar window (``"month"``...) holds the records of the
group in the same calendar span, whole. The rule fires on every record that belongs to at
least one window where ``having`` holds; its evidence shows the first such window: the
aggregates, its first and last time and its records' keys. The records of one group whose
first such window starts at the same time are one case (one alert: an official and a month). Records with a null time or a null
(or blank) group key take no part. Aggregates skip null values as SQL does: ``count()``
counts records, ``sum``/``mean``/``min``/``max`` the non-null values (null when there is
none), ``distinct(col)`` the distinct non-null values. A parameter tied to dates
(``by_date``) has, in ``when``, the value in force on each record's date and, in ``having``,
the one in force on the window's last record.

A ``group_by`` entry is a column name, or an expression over the record that gives the group
key, for keys that need cleaning first: ``group_by = ["department", "normalize(merchant_name)"]``
puts ``"한빛식당"`` and ``" 한빛식당"`` (or full-width forms) in one group. A null or blank result
takes no part, as a null column does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from naebu.core import datasets
from naebu.core.problems import did_you_mean
from naebu.engine import reflists
from naebu.engine.evidence import case_keys, findings_from_rows
from naebu.engine.expr import CompiledExpression
from naebu.engine.expr.kinds import NUMERIC
from naebu.engine.expr.values import to_runtime
from naebu.engine.findings import Finding
from naebu.engine.params_dated import with_values
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
    column_types,
    compile_at,
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

#: Members listed in a finding's evidence (``group.records``) at most.
MAX_LISTED = 50


def group_fields(dataset: datasets.Dataset, time: str) -> dict[str, str]:
    """The ``group.*`` fields a message may name, with their types."""
    fields = {"count": "int", "first": dataset.by_name[time].type,
              "last": dataset.by_name[time].type, "records": "str"}  # fmt: skip
    for c in dataset.columns:
        if c.type in NUMERIC:
            fields |= {f"{a}_{c.name}": "number" for a in ("sum", "mean", "min", "max")}
        fields[f"distinct_{c.name}"] = "int"
    return fields


def field_of(aggregate: str) -> str:
    """``"sum(amount)"`` -> ``"sum_amount"``; ``"count()"`` -> ``"count"``."""
    name, _, rest = aggregate.partition("(")
    column = rest.rstrip(")")
    return f"{name}_{column}" if column else name


def aggregate_of(field: str) -> str:
    """The inverse of :func:`field_of` for the computed fields."""
    if field == "count":
        return "count()"
    name, _, column = field.partition("_")
    return f"{name}({column})"


_NAME = re.compile(r"^\w+$")


def group_keys(
    value: Any, dataset: datasets.Dataset, params: Mapping[str, Any], problem: ProblemFactory
) -> tuple[list[str], dict[str, CompiledExpression]] | None:
    """The ``group_by`` entries, and the compiled expression of each that is not a column.

    A bare word must be a column (a typo gets "did you mean"); anything else is compiled as an
    expression over the record, e.g. ``normalize(merchant_name)``.
    """
    if value is None:
        return [], {}
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problem("group_by", "must be a list of column names or expressions",
                'group_by = ["department", "normalize(merchant_name)"]')  # fmt: skip
        return None
    names = [v.strip() for v in value]
    if len(set(names)) != len(names):
        problem("group_by", "a column is named twice", "name each column once")
        return None
    expressions: dict[str, CompiledExpression] = {}
    for name in names:
        if name in dataset.by_name:
            continue
        if _NAME.match(name):
            hint = did_you_mean(
                name, dataset.by_name
            ) or f"columns of {dataset.name}: " + ", ".join(dataset.column_names)
            problem("group_by", f"unknown column {name!r}", hint)
            return None
        expr = compile_at("group_by", name, column_types(dataset), params, problem, expect=None,
                          lists=reflists.current())  # fmt: skip
        if expr is None:
            return None
        expressions[name] = expr
    return names, expressions


@register
class AggregateRule(RuleType):
    """Groups records by ``group_by`` within a time ``window`` and flags every member of a
    window whose aggregates satisfy ``having``: one case per group and window."""

    name = "aggregate"
    keys = {
        "group_by": KeySpec(list, help='columns (or expressions) that form a group, e.g. ["department", "normalize(merchant_name)"]; [] for one group'),
        "window": KeySpec(str, required=True, help='"30d" trailing days, "12h" hours, or a calendar span: "day", "week", "month", "quarter", "year"'),
        "time": KeySpec(str, help="date column the window runs on (default: the dataset's event time)"),
        "having": KeySpec(str, required=True, help="condition on the group: count(), sum(col), min(col), max(col), mean(col), distinct(col)"),
        "when": KeySpec(str, help="condition choosing the records that take part (default: all)"),
    }  # fmt: skip

    def __init__(self, meta: RuleMeta, group_by: list[str], window: Window, time: str,
                 having: CompiledExpression, when: CompiledExpression | None,
                 template: MessageTemplate | None,
                 key_expressions: Mapping[str, CompiledExpression] | None = None) -> None:  # fmt: skip
        super().__init__(meta)
        self.dataset = datasets.get(meta.dataset)
        self.group_by = group_by
        #: ``group_by`` entries that are expressions, by their text.
        self.key_expressions = dict(key_expressions or {})
        self.window = window
        self.time = time
        self.having = having
        self.when = when
        self.template = template
        used = set(having.aggregates_used)
        if template is not None:
            used |= {aggregate_of(f[6:]) for f in template.columns_used if f.startswith("group.")
                     and f[6:] not in ("count", "first", "last", "records")}  # fmt: skip
        self.aggregates = sorted(used | {"count()"})

    @classmethod
    def compile(
        cls, meta: RuleMeta, spec: Mapping[str, Any], problem: ProblemFactory
    ) -> AggregateRule | None:
        dataset = datasets.get(meta.dataset)
        keys = group_keys(spec.get("group_by"), dataset, meta.params, problem)
        window = parse_window(spec.get("window"), problem)
        time = time_column(spec.get("time"), dataset, problem)
        having = None
        if isinstance(spec.get("having"), str):
            having = compile_at("having", spec["having"], {}, meta.params, problem, expect="bool",
                                aggregates=column_types(dataset))  # fmt: skip
        when = None
        if "when" in spec:
            when = compile_when(spec.get("when"), dataset, meta.params, problem)
            if when is None:
                return None
        template = None
        if time is not None:
            template = compile_message(meta.message, dataset, meta.params, problem,
                                       {"group": group_fields(dataset, time)})  # fmt: skip
        if keys is None or window is None or time is None or having is None:
            return None
        if meta.message and template is None:
            return None
        return cls(meta, keys[0], window, time, having, when, template, keys[1])

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(
            unique([self.meta.dataset,
                    *lookup_datasets(self.when, *self.key_expressions.values())])
        )  # fmt: skip

    @property
    def columns_read(self) -> frozenset[tuple[str, str]]:
        """The ``group_by`` columns (and those of its expressions), the window's ``time``, the
        columns of ``having``'s aggregates and of ``when``."""
        name = self.meta.dataset
        found = {(name, c) for c in self.group_by if c not in self.key_expressions}
        found |= {(name, self.time)} | expression_reads(self.having, name)
        for expr in (self.when, *self.key_expressions.values()):
            found |= expression_reads(expr, name)
        return frozenset(found)

    @property
    def lists_read(self) -> frozenset[str]:
        return expression_lists(self.when, *self.key_expressions.values())

    @property
    def lookback(self) -> timedelta | None:
        """The window (a calendar month: 31 days)."""
        return self.window.lookback

    @property
    def time_columns(self) -> dict[str, str]:
        """The window runs on ``time`` (the event time unless the rule names another)."""
        return {self.meta.dataset: self.time}

    def evaluate(self, frames: Mapping[str, pd.DataFrame], ctx: EvalContext) -> list[Finding]:
        frame = frames.get(self.meta.dataset)
        if frame is None or frame.empty:
            return []
        whole = frame.reset_index(drop=True)
        # The work reads only the rule's own columns (and the record key): the others are
        # taken for the flagged records alone, at the end, instead of copied for every record
        # ``when`` keeps.
        reads = {c for d, c in self.columns_read if d == self.meta.dataset} | {self.dataset.key}
        reads |= {a[a.index("(") + 1 : -1] for a in self.aggregates}  # the message's too
        sub = whole[[c for c in whole.columns if c in reads]]
        kept = None  # positions in ``whole`` of the rows of ``sub``; None: all of them
        if self.when is not None:
            kept = np.flatnonzero(self.when.evaluate(whole, frames).to_numpy())
            sub = sub.take(kept).reset_index(drop=True)
        types = column_types(self.dataset)
        keyed = sub
        if self.key_expressions:
            # the results as they are (Arrow text stays Arrow text, no round trip via objects)
            keyed = sub.assign(**{
                text: _as_column(expr.evaluate(sub, frames))
                for text, expr in self.key_expressions.items()
            })  # fmt: skip
            key_types = types | {t: e.result_type for t, e in self.key_expressions.items()}
            codes = windows.group_codes(keyed, self.group_by, key_types)
        else:
            codes = windows.group_codes(sub, self.group_by, types)
        s = windows.prepare(codes, sub[self.time], self.window.period)
        if not len(s):
            return []
        if self.window.period is None:
            start, end = windows.trailing(s, self.window.length_ns)
        else:
            start, end = windows.blocks(s)
        values = {a: self._aggregate(a, sub, s, start, end) for a in self.aggregates}
        # A having's parameter tied to dates: the value in force on the window's last record.
        dated = list(self.having.dated.values())
        last = s.time[end - 1].astype("datetime64[ns]")
        ok = self.having.evaluate(with_values(pd.DataFrame(values), dated, last)).to_numpy()
        flagged, chosen = windows.members_of_true_windows(ok, start, end)
        if not flagged.any():
            return []
        positions, win = np.flatnonzero(flagged), chosen[flagged]
        order = np.argsort(s.rows[positions], kind="stable")  # findings in the frame's order
        positions, win = positions[order], win[order]
        # The flagged records, every column, with their group keys (an expression key as a
        # column too, after the record's own columns).
        at = s.rows[positions]
        rows = whole.take(at if kept is None else kept[at]).reset_index(drop=True)
        for text in self.key_expressions:
            rows[text] = keyed[text].take(at).reset_index(drop=True)
        extra = {
            "group.count": "int",
            "group.first": types[self.time],
            "group.last": types[self.time],
        }
        times = pd.to_datetime(sub[self.time]).to_numpy()[s.rows]
        rows["group.first"] = times[start[win]]
        rows["group.last"] = times[end[win] - 1]
        for a, arr in values.items():
            name = f"group.{field_of(a)}"
            rows[name] = arr[win]
            extra[name] = "int" if a.startswith(("count", "distinct")) else "number"
        rows["group.records"] = _listed(sub[self.dataset.key], s.rows, start[win], end[win])
        extra["group.records"] = "str"
        used = set(self.when.columns_used) if self.when is not None else set()
        if self.template is not None:
            used |= set(self.template.columns_used)
        for expr in self.key_expressions.values():
            used |= set(expr.columns_used)
        # The aggregated columns too: each record of a case shows its share of the total.
        used |= {a[a.index("(") + 1 : -1] for a in self.aggregates} - {""}
        ordered = [c for c in self.dataset.column_names if c in used or c in self.group_by]
        judged_on = last[win] if dated else None
        if dated:  # the message cites what the having was judged by
            rows = with_values(rows, dated, judged_on)
        # One case per group and window: the group's keys and the window's first time.
        cases = case_keys([*(rows[c] for c in self.group_by), rows["group.first"]])
        return findings_from_rows(self.meta, self.dataset, rows, self.template, ordered, extra,
                                  cases, judged_on)  # fmt: skip

    def _aggregate(self, name: str, sub: pd.DataFrame, s: windows.Sorted, start: np.ndarray,
                   end: np.ndarray) -> np.ndarray:  # fmt: skip
        func, _, rest = name.partition("(")
        column = rest.rstrip(")")
        if func == "count":
            return (end - start).astype(np.float64)
        series = to_runtime(sub[column], self.dataset.by_name[column].type)
        if func == "distinct":
            prev = windows.previous_same(s, series)
            return windows.range_distinct(prev, start, end, shared=self.window.period is not None)
        v = series.to_numpy(dtype=np.float64, na_value=np.nan)[s.rows]
        if func == "sum":
            return windows.range_sum(v, start, end)
        if func == "mean":
            with np.errstate(all="ignore"):
                return windows.range_sum(v, start, end) / windows.range_count_present(v, start, end)
        return windows.range_extreme(v, start, end, high=func == "max")

    @property
    def partitioning(self) -> Partitioning:
        """A window never leaves its group, so the ``group_by`` columns keep each group in one
        part. An expression key (``normalize(merchant_name)``) merges different raw values into
        one group, so only the plain columns split; none: the rule is cut by time, each part
        carrying the window's span of history on either side. A record with a null group key
        takes no part."""
        plain = tuple(c for c in self.group_by if c not in self.key_expressions)
        return Partitioning(
            keys={self.meta.dataset: plain}, reach=self.window.lookback, nulls_take_part=False
        )


def _as_column(values: pd.Series) -> Any:
    """An expression's result as a column of the frame it was computed on (same rows, same
    order): its array, without aligning on the index or converting its values."""
    return values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array


def _listed(keys: pd.Series, order: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[Any]:
    """For each window ``[start, end)`` of sorted rows, the record keys of its first
    :data:`MAX_LISTED` rows as text: only those are converted, not every record's key."""
    lengths = np.minimum(end - start, MAX_LISTED)
    offsets = np.cumsum(lengths) - lengths
    flat = np.repeat(start - offsets, lengths) + np.arange(int(lengths.sum()))
    texts = keys.take(order[flat]).astype(str).tolist()
    return [texts[o : o + n] for o, n in zip(offsets.tolist(), lengths.tolist(), strict=True)]
