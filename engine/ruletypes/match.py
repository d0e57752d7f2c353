"""``match``: a condition on each record of one dataset, optionally joined to other datasets.

```toml
[[rule]]
id = "CARD-NIGHT"
type = "match"
dataset = "card_transactions"
when = "not is_null(approved_time) and (hour(approved_time) >= 23 or hour(approved_time) < 6)"
message = "{merchant_name} {approved_time} 승인 {amount:,}원"

[[rule]]
id = "PAY-ACCOUNT-MISMATCH"
type = "match"
dataset = "payments"
join = [{ alias = "vendor", dataset = "vendors", on = { vendor_id = "vendor_id" } }]
when = "not_null(vendor.account_no) and payee_account != vendor.account_no"
message = "{payment_id}: {payee_account} (등록 계좌 {vendor.account_no})"
```

A join is a left join, many-to-one: each record gets at most one record of the other dataset.
When the other dataset holds several records with the same key, the last one counts - the
latest by its event time, else by ``updated_at``, else the last row read. A record with no
match (or a null key) sees nulls in every ``alias.column``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from naebu.core import datasets
from naebu.core.problems import did_you_mean
from naebu.engine.evidence import findings_from_rows
from naebu.engine.expr import CompiledExpression
from naebu.engine.expr.kinds import comparable, describe
from naebu.engine.expr.values import arrow_text, pc, to_runtime
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
from naebu.engine.ruletypes.common import (
    column_types,
    compile_message,
    compile_when,
    expression_lists,
    expression_reads,
    lookup_datasets,
    unique,
)
from naebu.engine.template import MessageTemplate

__all__ = ["Join", "MatchRule", "column_types", "compile_message", "compile_when", "join_frame"]

_ALIAS_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_JOIN_KEYS = ("alias", "dataset", "on")
_JOIN_HINT = 'join = [{ alias = "vendor", dataset = "vendors", on = { vendor_id = "vendor_id" } }]'


@dataclass(frozen=True)
class Join:
    """``alias``: the name conditions use; ``on``: this dataset's column -> the other's."""

    alias: str
    dataset: str
    on: tuple[tuple[str, str], ...]


def parse_joins(raw: Any, primary: datasets.Dataset, problem: ProblemFactory) -> list[Join] | None:
    """Read and check the ``join`` key; None after a reported problem."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        problem("join", "must be a list of tables", _JOIN_HINT)
        return None
    joins: list[Join] = []
    for i, spec in enumerate(raw):
        key = f"join[{i}]"
        if not isinstance(spec, dict):
            problem(key, "must be a table", _JOIN_HINT)
            return None
        extra = sorted(set(spec) - set(_JOIN_KEYS))
        if extra:
            problem(
                key,
                f"unknown key {extra[0]!r}",
                did_you_mean(extra[0], _JOIN_KEYS) or "keys: alias, dataset, on",
            )
            return None
        alias, name, on = spec.get("alias"), spec.get("dataset"), spec.get("on")
        if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
            problem(
                f"{key}.alias",
                "missing or invalid alias",
                'alias = "vendor" (lower case, digits, _)',
            )
            return None
        if (
            alias in ("params", "lists", "group", "peer")
            or alias in datasets.DATASETS
            or alias in primary.by_name
        ):
            problem(f"{key}.alias", f"alias {alias!r} is taken (a column, a dataset or a reserved word)",
                    'use a singular name such as "vendor"')  # fmt: skip
            return None
        if any(j.alias == alias for j in joins):
            problem(
                f"{key}.alias", f"alias {alias!r} is used twice", "give each join its own alias"
            )
            return None
        if not isinstance(name, str) or name not in datasets.DATASETS:
            hint = did_you_mean(str(name), datasets.DATASETS) or "datasets: " + ", ".join(
                datasets.DATASETS
            )
            problem(f"{key}.dataset", f"unknown dataset {name!r}", hint)
            return None
        other = datasets.get(name)
        if not isinstance(on, dict) or not on or not all(isinstance(v, str) for v in on.values()):
            problem(f"{key}.on", "must be a table of this dataset's column = the other dataset's column",
                    'on = { vendor_id = "vendor_id" }')  # fmt: skip
            return None
        for left, right in on.items():
            if left not in primary.by_name:
                hint = did_you_mean(
                    left, primary.by_name
                ) or f"columns of {primary.name}: " + ", ".join(primary.column_names)
                problem(f"{key}.on", f"unknown column {left!r} of {primary.name}", hint)
                return None
            if right not in other.by_name:
                hint = did_you_mean(right, other.by_name) or f"columns of {name}: " + ", ".join(
                    other.column_names
                )
                problem(f"{key}.on", f"join key {right!r} is not a column of {name}", hint)
                return None
            lt, rt = primary.by_name[left].type, other.by_name[right].type
            if not comparable(lt, rt):
                problem(f"{key}.on", f"cannot join {left!r} ({describe(lt)}) with {name}.{right} ({describe(rt)})",
                        "join columns of the same kind")  # fmt: skip
                return None
        joins.append(Join(alias, name, tuple(on.items())))
    return joins


def alias_columns(joins: list[Join]) -> dict[str, dict[str, str]]:
    """alias -> the joined dataset's column types, for conditions and messages."""
    return {j.alias: column_types(datasets.get(j.dataset)) for j in joins}


def join_frame(frame: pd.DataFrame, primary: datasets.Dataset, join: Join,
               other: pd.DataFrame | None, wanted: list[str]) -> pd.DataFrame:  # fmt: skip
    """The columns ``wanted`` of the other dataset, as ``alias.column``, on ``frame``'s index."""
    other_ds = datasets.get(join.dataset)
    names = [f"{join.alias}.{c}" for c in wanted]
    if other is None or other.empty or not wanted:
        return pd.DataFrame({n: pd.Series(pd.NA, index=frame.index, dtype="object") for n in names})
    lefts = [left for left, _ in join.on]
    rights = [right for _, right in join.on]
    right_keys = {
        f"_k{i}": to_runtime(other[r], other_ds.by_name[r].type) for i, r in enumerate(rights)
    }
    right = pd.DataFrame(
        {**right_keys, **{n: other[c] for n, c in zip(names, wanted, strict=True)}}
    )
    order_by = other_ds.event_time or ("updated_at" if "updated_at" in other.columns else None)
    if order_by is not None and order_by in other.columns:
        # the latest record of a key wins; a stable sort keeps row order among equal times
        right = right.assign(_t=pd.to_datetime(other[order_by], errors="coerce").to_numpy())
        right = right.sort_values("_t", kind="stable", na_position="first").drop(columns="_t")
    right = right.dropna(subset=list(right_keys)).drop_duplicates(list(right_keys), keep="last")
    left = [to_runtime(frame[c], primary.by_name[c].type) for c in lefts]
    positions = _matching_rows(left, [right[k] for k in right_keys])
    # take() with -1 for "no match": nulls, upcasting only when needed, as a left merge does
    columns = {}
    for n in names:
        values = right[n].to_numpy() if isinstance(right[n].dtype, np.dtype) else right[n].array
        taken = pd.api.extensions.take(values, positions, allow_fill=True)
        columns[n] = pd.Series(taken, index=frame.index, dtype=taken.dtype, copy=False)
    return pd.DataFrame(columns, index=frame.index)


def _matching_rows(left: list[pd.Series], right: list[pd.Series]) -> np.ndarray:
    """For each row of the ``left`` key columns, the position of the row of ``right`` (whose
    keys are unique and never null) with equal keys, or -1."""
    if len(left) == 1:
        left_text, right_text = arrow_text(left[0]), arrow_text(right[0])
        if left_text is not None and right_text is not None:  # hashed by Arrow, in C
            found = pc.index_in(left_text, value_set=right_text.combine_chunks())
            return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.intp)
        if str(left[0].dtype) == str(right[0].dtype) and left[0].dtype != np.dtype(object):
            return pd.Index(right[0]).get_indexer(left[0].to_numpy())
    keys = [f"_k{i}" for i in range(len(left))]
    lhs = pd.DataFrame({k: s.to_numpy() for k, s in zip(keys, left, strict=True)})
    rhs = pd.DataFrame({k: s.to_numpy() for k, s in zip(keys, right, strict=True)})
    rhs["_row"] = np.arange(len(rhs))
    for k in keys:  # one dtype on both sides (e.g. int and number columns)
        if str(lhs[k].dtype) != str(rhs[k].dtype):
            lhs[k] = lhs[k].astype(object)
            rhs[k] = rhs[k].astype(object)
    merged = lhs.merge(rhs, how="left", on=keys, sort=False)
    return merged["_row"].fillna(-1).to_numpy(dtype=np.intp)


@register
class MatchRule(RuleType):
    """Flags every record for which ``when`` holds; ``join`` brings in another dataset's record.

    Conditions may also test membership in another dataset's column
    (``payee_account in employees.account_no``) and reference lists (``lists.NAME``).
    """

    name = "match"
    keys = {
        "when": KeySpec(str, required=True, help="condition on one record (expression language)"),
        "join": KeySpec(
            list,
            help="other datasets looked up by key: [{ alias, dataset, on = { column = other_column } }]",
        ),
    }

    def __init__(self, meta: RuleMeta, when: CompiledExpression, template: MessageTemplate | None,
                 joins: list[Join] | None = None) -> None:  # fmt: skip
        super().__init__(meta)
        self.when = when
        self.template = template
        self.joins = joins or []
        self.dataset = datasets.get(meta.dataset)

    @classmethod
    def compile(
        cls, meta: RuleMeta, spec: Mapping[str, Any], problem: ProblemFactory
    ) -> MatchRule | None:
        dataset = datasets.get(meta.dataset)
        joins = parse_joins(spec.get("join"), dataset, problem)
        if joins is None:
            return None
        aliases = alias_columns(joins)
        when = compile_when(spec.get("when"), dataset, meta.params, problem, aliases=aliases)
        template = compile_message(meta.message, dataset, meta.params, problem, aliases)
        if when is None or (meta.message and template is None):
            return None
        return cls(meta, when, template, joins)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The rule's dataset, the joined ones, then those read by ``in DATASET.COLUMN``."""
        return tuple(
            unique(
                [self.meta.dataset, *(j.dataset for j in self.joins), *lookup_datasets(self.when)]
            )
        )

    @property
    def columns_read(self) -> frozenset[tuple[str, str]]:
        """The condition's columns (joined ``alias.column`` ones of their dataset), lookups and
        the join keys on both sides."""
        aliases = {j.alias: j.dataset for j in self.joins}
        found = expression_reads(self.when, self.meta.dataset, aliases)
        for join in self.joins:
            for left, right in join.on:
                found |= {(self.meta.dataset, left), (join.dataset, right)}
        return frozenset(found)

    @property
    def lists_read(self) -> frozenset[str]:
        return expression_lists(self.when)

    def evaluate(self, frames: Mapping[str, pd.DataFrame], ctx: EvalContext) -> list[Finding]:
        frame = frames.get(self.meta.dataset)
        if frame is None or frame.empty:
            return []
        used = set(self.when.columns_used)
        if self.template is not None:
            used |= set(self.template.columns_used)
        extra: dict[str, str] = {}
        if self.joins:
            parts = [frame]
            for join in self.joins:
                types = column_types(datasets.get(join.dataset))
                wanted = [c for c in types if f"{join.alias}.{c}" in used]
                parts.append(
                    join_frame(frame, self.dataset, join, frames.get(join.dataset), wanted)
                )
                extra |= {f"{join.alias}.{c}": types[c] for c in wanted}
            frame = pd.concat(parts, axis=1)
        mask = self.when.evaluate(frame, frames)
        ordered = [c for c in self.dataset.column_names if c in used]
        return findings_from_rows(
            self.meta, self.dataset, frame[mask], self.template, ordered, extra
        )

    @property
    def partitioning(self) -> Partitioning:
        """Each record is judged on its own (joined and looked-up datasets are given whole to
        every part): any split works, by organization, by time or by key."""
        return Partitioning(keys={}, reach=timedelta(0))
