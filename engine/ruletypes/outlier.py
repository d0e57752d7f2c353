"""``outlier``: a value beyond its peer group's IQR fences or z-score threshold.

```toml
[[rule]]
id = "CARD-OUTLIER"
type = "outlier"
dataset = "card_transactions"
value = "amount"
peer_group = ["department", "merchant_category"]
method = "iqr"            # or "zscore"
k = 1.5                   # IQR multiplier (a number or "params.NAME"); zscore: threshold = 3
side = "high"             # "high" (default), "low" or "both"
min_group_size = 8        # smaller peer groups are not judged
history = "365d"          # how much history forms the peer groups
message = "{amount:,}원 > 상한 {peer.upper:,}원 (동일 집단 {peer.size}건)"
```

The peer group of a record is every record (chosen by ``when``, within ``history``) with the
same ``peer_group`` values, the record itself included. IQR: quartiles by linear interpolation,
fences ``q1 - k * (q3 - q1)`` and ``q3 + k * (q3 - q1)``; a value strictly beyond a fence is
an outlier. z-score: ``(value - mean) / std`` with the sample standard deviation; strictly
beyond ``threshold``; a group whose values are all equal has no outliers. Records with a null
value or a null group key take no part.
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
from naebu.engine.evidence import findings_from_rows
from naebu.engine.expr import CompiledExpression
from naebu.engine.expr.kinds import NUMERIC
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
    column_list,
    column_types,
    compile_message,
    compile_when,
    expression_lists,
    expression_reads,
    lookup_datasets,
    parse_window,
    unique,
)
from naebu.engine.template import MessageTemplate

METHODS = {"iqr": ("k", 1.5), "zscore": ("threshold", 3.0)}
SIDES = ("high", "low", "both")
PEER_FIELDS = {
    f: "number" for f in ("q1", "median", "q3", "lower", "upper", "mean", "std", "zscore")
} | {"size": "int"}
_PARAM_RE = re.compile(r"^params\.(\w+)$")


def _number(
    value: Any, key: str, params: Mapping[str, Any], problem: ProblemFactory
) -> float | None:
    """A number written in place, or ``"params.NAME"`` naming one."""
    if isinstance(value, str) and (m := _PARAM_RE.match(value.strip())):
        if m.group(1) not in params:
            problem(key, f"unknown parameter {value!r}", did_you_mean(m.group(1), params))
            return None
        value = params[m.group(1)]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problem(key, "must be a positive number or params.NAME", f"{key} = 1.5")
        return None
    return float(value)


@register
class OutlierRule(RuleType):
    """Flags records whose ``value`` lies beyond the IQR fences or the z-score threshold of
    their peer group."""

    name = "outlier"
    keys = {
        "value": KeySpec(str, required=True, help="the numeric column judged, e.g. amount"),
        "peer_group": KeySpec(list, help='columns that form peer groups, e.g. ["department", "category"]; [] for one group'),
        "method": KeySpec(str, help='"iqr" (default) or "zscore"'),
        "k": KeySpec((int, float, str), help="IQR fence multiplier (default 1.5), or params.NAME"),
        "threshold": KeySpec((int, float, str), help="z-score threshold (default 3), or params.NAME"),
        "side": KeySpec(str, help='"high" (default), "low" or "both"'),
        "min_group_size": KeySpec(int, help="peer groups smaller than this are not judged (default 8)"),
        "history": KeySpec(str, help='history the peer groups are formed from (default "365d")'),
        "when": KeySpec(str, help="condition choosing the records that take part (default: all)"),
    }  # fmt: skip

    def __init__(self, meta: RuleMeta, value: str, peer_group: list[str], method: str, cut: float,
                 side: str, min_group_size: int, history: timedelta,
                 when: CompiledExpression | None, template: MessageTemplate | None) -> None:  # fmt: skip
        super().__init__(meta)
        self.dataset = datasets.get(meta.dataset)
        self.value = value
        self.peer_group = peer_group
        self.method = method
        self.cut = cut
        self.side = side
        self.min_group_size = min_group_size
        self.history = history
        self.when = when
        self.template = template

    @classmethod
    def compile(
        cls, meta: RuleMeta, spec: Mapping[str, Any], problem: ProblemFactory
    ) -> OutlierRule | None:
        dataset = datasets.get(meta.dataset)
        ok = True
        value = spec.get("value")
        if isinstance(value, str) and value not in dataset.by_name:
            problem("value", f"unknown column {value!r}", did_you_mean(value, dataset.by_name))
            ok = False
        elif isinstance(value, str) and dataset.by_name[value].type not in NUMERIC:
            problem(
                "value",
                f"column {value!r} is not a number",
                "judge a numeric column such as amount",
            )
            ok = False
        peers = column_list(spec.get("peer_group"), dataset, problem, "peer_group", required=False)
        method = spec.get("method", "iqr")
        if method not in METHODS:
            problem(
                "method",
                f"unknown method {method!r}",
                did_you_mean(str(method), METHODS) or 'use "iqr" or "zscore"',
            )
            return None
        cut_key, default = METHODS[method]
        other_key = "threshold" if cut_key == "k" else "k"
        if other_key in spec:
            problem(other_key, f"{other_key} does not apply to method {method!r}", f"use {cut_key}")
            return None
        cut = _number(spec.get(cut_key, default), cut_key, meta.params, problem)
        side = spec.get("side", "high")
        if side not in SIDES:
            problem(
                "side",
                f"unknown side {side!r}",
                did_you_mean(str(side), SIDES) or 'use "high", "low" or "both"',
            )
            ok = False
        size = spec.get("min_group_size", 8)
        if isinstance(size, int) and size < 2:
            problem("min_group_size", "must be at least 2", "min_group_size = 8")
            ok = False
        history = parse_window(spec.get("history", "365d"), problem, "history")
        if history is not None and history.period is not None:
            problem("history", 'must be a length such as "365d"', 'history = "365d"')
            history = None
        when = None
        if "when" in spec:
            when = compile_when(spec.get("when"), dataset, meta.params, problem)
            ok = ok and when is not None
        template = compile_message(
            meta.message, dataset, meta.params, problem, {"peer": PEER_FIELDS}
        )
        if not ok or peers is None or cut is None or history is None or not isinstance(value, str):
            return None
        if meta.message and template is None:
            return None
        return cls(meta, value, peers, method, cut, side, size, history.length, when, template)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(unique([self.meta.dataset, *lookup_datasets(self.when)]))

    @property
    def columns_read(self) -> frozenset[tuple[str, str]]:
        """The judged ``value``, the ``peer_group`` columns and ``when``'s columns."""
        found = {(self.meta.dataset, c) for c in (self.value, *self.peer_group)}
        return frozenset(found | expression_reads(self.when, self.meta.dataset))

    @property
    def lists_read(self) -> frozenset[str]:
        return expression_lists(self.when)

    @property
    def lookback(self) -> timedelta | None:
        """``history``: the peer groups are formed from this much history."""
        return self.history

    def evaluate(self, frames: Mapping[str, pd.DataFrame], ctx: EvalContext) -> list[Finding]:
        frame = frames.get(self.meta.dataset)
        if frame is None or frame.empty:
            return []
        sub = frame.reset_index(drop=True)
        if self.when is not None:
            sub = sub[self.when.evaluate(sub, frames).to_numpy()].reset_index(drop=True)
        types = column_types(self.dataset)
        codes = windows.group_codes(sub, self.peer_group, types)
        v = to_runtime(sub[self.value], types[self.value]).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        usable = (codes >= 0) & ~np.isnan(v)
        if not usable.any():
            return []
        data = pd.DataFrame({"g": codes[usable], "v": v[usable]})
        by = data.groupby("g")["v"]
        stats = pd.DataFrame({"size": by.size(), "mean": by.mean(), "std": by.std(),
                              "q1": by.quantile(0.25), "median": by.median(), "q3": by.quantile(0.75)})  # fmt: skip
        peer = stats.reindex(data["g"]).reset_index(drop=True)
        values = data["v"].to_numpy()
        iqr = peer["q3"] - peer["q1"]
        peer["lower"], peer["upper"] = peer["q1"] - self.cut * iqr, peer["q3"] + self.cut * iqr
        std = peer["std"].where(peer["std"] > 0)
        peer["zscore"] = (values - peer["mean"]) / std
        if self.method == "iqr":
            high, low = values > peer["upper"].to_numpy(), values < peer["lower"].to_numpy()
        else:
            z = peer["zscore"].to_numpy(dtype=np.float64, na_value=np.nan)
            high, low = z > self.cut, z < -self.cut
        beyond = {"high": high, "low": low, "both": high | low}[self.side]
        hit = beyond & (peer["size"].to_numpy() >= self.min_group_size)
        if not hit.any():
            return []
        rows = sub[usable].reset_index(drop=True)[hit].reset_index(drop=True)
        chosen = peer[hit].reset_index(drop=True)
        for name in PEER_FIELDS:
            rows[f"peer.{name}"] = chosen[name].to_numpy()
        extra = {f"peer.{n}": t for n, t in PEER_FIELDS.items()}
        used = {self.value, *self.peer_group}
        if self.template is not None:
            used |= set(self.template.columns_used)
        ordered = [c for c in self.dataset.column_names if c in used]
        return findings_from_rows(self.meta, self.dataset, rows, self.template, ordered, extra)

    @property
    def partitioning(self) -> Partitioning:
        """A peer group is every record of the history given with the same ``peer_group``
        values: split by those columns only, never by time (no ``peer_group``: never split).
        A record with a null peer group key is in no peer group."""
        return Partitioning(
            keys={self.meta.dataset: tuple(self.peer_group)}, reach=None, nulls_take_part=False
        )
