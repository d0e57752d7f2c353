"""The options of a ``sequence`` rule, read and checked: its sides, ``match``, ``flag``,
``within`` and ``complete`` (see :mod:`naebu.engine.ruletypes.sequence`). Every problem is reported
located at its key, and a helper returns None after reporting one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from naebu.core import datasets
from naebu.core.problems import did_you_mean
from naebu.engine.expr import CompiledExpression, ExprError, compile_expression
from naebu.engine.registry import ProblemFactory
from naebu.engine.ruletypes.common import window_too_long
from naebu.engine.ruletypes.match import column_types

EXPECTS = ("absent", "present", "before")
_SIDE_KEYS = ("dataset", "time", "when")
_WITHIN_RE = re.compile(r"^\s*(\d+)\s*(d|h)\s*$")
_TIME_TYPES = ("date", "datetime")


@dataclass(frozen=True)
class Side:
    """One side of a sequence: a dataset, the column that times its events, a filter."""

    role: str
    dataset: datasets.Dataset
    time: str
    when: CompiledExpression | None


@dataclass(frozen=True)
class Complete:
    """Counterparts count only when their ``sum`` column reaches ``at_least`` together."""

    sum: str
    at_least: CompiledExpression


def read_side(
    role: str, raw: Any, params: Mapping[str, Any], problem: ProblemFactory
) -> Side | None:
    """One side (``first`` or ``then``): its dataset, time column and ``when``."""
    if not isinstance(raw, dict):
        return None  # the loader already said it must be a table
    ok = True
    for key in raw:
        if key not in _SIDE_KEYS:
            problem(
                f"{role}.{key}",
                "unknown key",
                did_you_mean(key, _SIDE_KEYS) or "keys: " + ", ".join(_SIDE_KEYS),
            )
            ok = False
    name = raw.get("dataset")
    if not isinstance(name, str) or name not in datasets.DATASETS:
        hint = did_you_mean(str(name), datasets.DATASETS) if isinstance(name, str) else None
        problem(
            f"{role}.dataset",
            f"unknown dataset {name!r}" if name else "missing dataset",
            hint or "datasets: " + ", ".join(datasets.DATASETS),
        )
        return None
    dataset = datasets.get(name)
    time = raw.get("time", dataset.event_time)
    column = dataset.by_name.get(time) if isinstance(time, str) else None
    if column is None or column.type not in _TIME_TYPES:
        times = [c.name for c in dataset.columns if c.type in _TIME_TYPES]
        what = "missing" if time is None else f"{time!r} is not a date or datetime column of {name}"
        problem(
            f"{role}.time",
            what,
            (did_you_mean(str(time), times) if time else None)
            or "time columns: " + ", ".join(times),
        )
        return None
    when = None
    if "when" in raw:
        text = raw["when"]
        if not isinstance(text, str) or not text.strip():
            problem(f"{role}.when", "must be a non-empty text", 'when = "amount > 0"')
            return None
        try:
            when = compile_expression(text, column_types(dataset), params, expect="bool")
        except ExprError as exc:
            for p in exc.problems:
                problem(f"{role}.when", f"{p.message} (at column {p.offset + 1})", p.hint)
            return None
    return Side(role, dataset, column.name, when) if ok else None


def read_match(
    raw: Any, first: Side | None, then: Side | None, problem: ProblemFactory
) -> list[tuple[str, str]] | None:
    """The ``match`` pairs (first column, then column), both present and of one type."""
    if not isinstance(raw, dict):
        return None
    if not raw:
        problem(
            "match",
            "needs at least one pair",
            "{ sale_id = \"ref_id\" }: first's column = then's column",
        )
        return None
    if first is None or then is None:
        return None
    pairs, ok = [], True
    for a, b in raw.items():
        key = f"match.{a}"
        ca = first.dataset.by_name.get(a)
        cb = then.dataset.by_name.get(b) if isinstance(b, str) else None
        if ca is None:
            problem(
                key,
                f"column {a!r} is not in {first.dataset.name} (first)",
                did_you_mean(a, first.dataset.by_name)
                or "columns: " + ", ".join(first.dataset.column_names),
            )
            ok = False
        elif not isinstance(b, str):
            problem(key, f"must name a column of {then.dataset.name} (then)", f'{a} = "column"')
            ok = False
        elif cb is None:
            problem(
                key,
                f"column {b!r} is not in {then.dataset.name} (then)",
                did_you_mean(b, then.dataset.by_name)
                or "columns: " + ", ".join(then.dataset.column_names),
            )
            ok = False
        elif ca.type != cb.type:
            problem(
                key,
                f"{first.dataset.name}.{a} is {ca.type} but {then.dataset.name}.{b} is {cb.type}",
                "match columns of the same type",
            )
            ok = False
        else:
            pairs.append((a, b))
    return pairs if ok else None


def read_flag(
    raw: Any,
    expect: str | None,
    first: Side | None,
    then: Side | None,
    dataset: str,
    problem: ProblemFactory,
) -> str | None:
    """The side findings are on: the one ``expect`` allows, in the rule's own dataset."""
    if expect is None:
        return None
    allowed = {"absent": ("first",), "before": ("then",), "present": ("then", "first")}[expect]
    flag = allowed[0] if raw is None else raw
    if flag not in allowed:
        problem(
            "flag",
            f"expect = {expect!r} flags {' or '.join(allowed)}, not {flag!r}",
            "leave flag out for the default",
        )
        return None
    side = first if flag == "first" else then
    if side is not None and side.dataset.name != dataset:
        problem(
            "dataset",
            f"findings are on the {flag} side, which reads {side.dataset.name}, not {dataset}",
            f'dataset = "{side.dataset.name}"',
        )
        return None
    return str(flag)


def read_within(
    raw: Any,
    params: Mapping[str, Any],
    first: Side | None,
    then: Side | None,
    problem: ProblemFactory,
) -> timedelta | None:
    """The window length: ``"<N>d"``, ``"<N>h"`` or ``"params.NAME"`` (days)."""
    if not isinstance(raw, str):
        return None
    text = raw
    if raw.strip().startswith("params."):
        value = params.get(raw.strip()[len("params.") :])
        if isinstance(value, int) and not isinstance(value, bool):
            text = f"{value}d"
        elif isinstance(value, str):
            text = value
        else:
            problem(
                "within",
                f"{raw} is not a parameter holding days",
                'params = { days = 60 }, within = "params.days"',
            )
            return None
    found = _WITHIN_RE.match(text)
    if not found:
        problem("within", f"cannot read {raw!r} as a window", 'write "60d" (days) or "12h" (hours)')
        return None
    n, unit = int(found.group(1)), found.group(2)
    too_long = window_too_long(n, unit)
    if too_long:
        problem("within", f"{raw!r} {too_long}", 'write "60d" (days) or "12h" (hours)')
        return None
    within = timedelta(days=n) if unit == "d" else timedelta(hours=n)
    by_day = any(s is not None and s.dataset.by_name[s.time].type == "date" for s in (first, then))
    if by_day and within % timedelta(days=1):
        problem(
            "within",
            f"{raw!r} is not whole days, but the times are calendar dates",
            'write days, e.g. "2d"',
        )
        return None
    return within


def read_complete(
    raw: Any, flagged: Side, other: Side, params: Mapping[str, Any], problem: ProblemFactory
) -> Complete | None:
    """``complete``: a number column of the other side, an expression on the flagged."""
    if not isinstance(raw, dict) or set(raw) != {"sum", "at_least"}:
        problem(
            "complete",
            "needs exactly sum and at_least",
            f'{{ sum = "<number column of {other.dataset.name}>", at_least = "<expression on {flagged.dataset.name}>" }}',
        )
        return None
    column = other.dataset.by_name.get(raw["sum"]) if isinstance(raw["sum"], str) else None
    if column is None or column.type not in ("number", "int"):
        numbers = [c.name for c in other.dataset.columns if c.type in ("number", "int")]
        problem(
            "complete",
            f"sum: {raw['sum']!r} is not a number column of {other.dataset.name}",
            "number columns: " + ", ".join(numbers),
        )
        return None
    if not isinstance(raw["at_least"], str):
        problem("complete", "at_least must be a text", 'at_least = "sale_price"')
        return None
    try:
        at_least = compile_expression(
            raw["at_least"], column_types(flagged.dataset), params, expect="number"
        )
    except ExprError as exc:
        for p in exc.problems:
            problem("complete", f"at_least: {p.message} (at column {p.offset + 1})", p.hint)
        return None
    return Complete(column.name, at_least)
