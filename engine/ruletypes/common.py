"""What rule types share: compiling conditions and messages, reading windows and columns.

Every condition compiled here may use the rule's params, the reference lists
(``lists.NAME``) and membership in another dataset's column (``x in employees.account_no``);
a rule type adds the datasets of such lookups to its ``datasets`` (:func:`lookup_datasets`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from naebu.core import datasets
from naebu.core.problems import did_you_mean
from naebu.engine import reflists
from naebu.engine.expr import CompiledExpression, ExprError, compile_expression
from naebu.engine.registry import ProblemFactory
from naebu.engine.template import MessageTemplate, compile_template


def column_types(dataset: datasets.Dataset) -> dict[str, str]:
    """Column name -> expression type for a canonical dataset."""
    return {c.name: c.type for c in dataset.columns}


def other_datasets(primary: str) -> dict[str, dict[str, str]]:
    """Every canonical dataset but ``primary``, with its column types: ``in DATASET.COLUMN``."""
    return {n: column_types(d) for n, d in datasets.DATASETS.items() if n != primary}


def compile_when(
    text: Any,
    dataset: datasets.Dataset,
    params: Mapping[str, Any],
    problem: ProblemFactory,
    *,
    key: str = "when",
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> CompiledExpression | None:
    """Compile a condition, reporting every problem at ``key``."""
    if not isinstance(text, str) or not text.strip():
        problem(key, "must be a non-empty text", f'{key} = "amount > 1_000_000"')
        return None
    return compile_at(key, text, column_types(dataset), params, problem, expect="bool",
                      aliases=aliases, lists=reflists.current(),
                      lookups=other_datasets(dataset.name))  # fmt: skip


def compile_at(
    key: str,
    text: str,
    columns: Mapping[str, str],
    params: Mapping[str, Any],
    problem: ProblemFactory,
    **options: Any,
) -> CompiledExpression | None:
    """:func:`compile_expression` with its problems reported at ``key`` (one line each)."""
    try:
        return compile_expression(text, columns, params, **options)
    except ExprError as exc:
        for p in exc.problems:
            problem(key, f"{p.message} (at column {p.offset + 1})", p.hint)
        return None


def compile_message(
    text: str,
    dataset: datasets.Dataset,
    params: Mapping[str, Any],
    problem: ProblemFactory,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> MessageTemplate | None:
    """Compile a rule's message template, reporting problems at the ``message`` key.

    ``aliases`` allows ``{alias.column}`` fields: joined columns, or the values a rule type
    computes (``{group.count}``, ``{peer.upper}``).
    """
    if not text:
        return None
    try:
        return compile_template(text, column_types(dataset), params, aliases)
    except ExprError as exc:
        for p in exc.problems:
            problem("message", f"{p.message} (at column {p.offset + 1})", p.hint)
        return None


def lookup_datasets(*expressions: CompiledExpression | None) -> tuple[str, ...]:
    """The datasets read by ``in DATASET.COLUMN`` in any of ``expressions``."""
    found: set[str] = set()
    for expr in expressions:
        if expr is not None:
            found.update(expr.lookup_datasets)
    return tuple(sorted(found))


# -- windows ------------------------------------------------------------------------------------
#: Calendar windows: name -> (pandas period frequency, lookback that covers the whole span).
CALENDAR = {
    "day": ("D", timedelta(days=1)),
    "week": ("W-SUN", timedelta(days=7)),
    "month": ("M", timedelta(days=31)),
    "quarter": ("Q", timedelta(days=92)),
    "year": ("Y", timedelta(days=366)),
}
_LENGTH_RE = re.compile(r"^(\d+)([dh])$")
WINDOW_HINT = 'write a length like "30d" (days) or "12h" (hours), or a calendar span: ' + ", ".join(
    f'"{c}"' for c in CALENDAR
)


@dataclass(frozen=True)
class Window:
    """A time window: a trailing length, or a calendar span (``period`` set)."""

    text: str
    length: timedelta
    period: str | None = None

    @property
    def lookback(self) -> timedelta:
        """History a record needs to have its whole window."""
        return self.length if self.period is None else CALENDAR[self.text][1]

    @property
    def length_ns(self) -> int:
        """The trailing length in nanoseconds."""
        return int(self.length / timedelta(microseconds=1)) * 1000


def parse_window(value: Any, problem: ProblemFactory, key: str = "window") -> Window | None:
    """Read a window text (``"30d"``, ``"12h"``, ``"month"``...), reporting a bad one."""
    if not isinstance(value, str):
        problem(key, "missing window" if value is None else "must be a text", WINDOW_HINT)
        return None
    text = value.strip().lower()
    if text in CALENDAR:
        return Window(text, CALENDAR[text][1], CALENDAR[text][0])
    m = _LENGTH_RE.match(text)
    if not m:
        problem(key, f"invalid window {value!r}", WINDOW_HINT)
        return None
    amount = int(m.group(1))
    too_long = window_too_long(amount, m.group(2))
    if too_long:
        problem(key, f"window {value!r} {too_long}", WINDOW_HINT)
        return None
    length = timedelta(days=amount) if m.group(2) == "d" else timedelta(hours=amount)
    return Window(text, length)


#: The longest window or delay a rule may give: a hundred years (a longer one is a typo, and
#: past 292 years it no longer fits the nanosecond times the windows are computed in).
MAX_WINDOW_DAYS = 36_525


def window_too_long(amount: int, unit: str) -> str | None:
    """Why ``amount`` days (``unit`` ``"d"``) or hours (``"h"``) is too long, or None."""
    hours = amount * 24 if unit == "d" else amount  # whole numbers: no float overflow
    if hours > MAX_WINDOW_DAYS * 24:
        return f"is longer than {MAX_WINDOW_DAYS:,} days (a hundred years)"
    return None


def time_column(value: Any, dataset: datasets.Dataset, problem: ProblemFactory) -> str | None:
    """The event-time column a window runs on: ``time = "..."`` or the dataset's event time."""
    name = dataset.event_time if value is None else value
    if name is None:
        problem(
            "time", f"dataset {dataset.name} has no event time", 'name a date column: time = "..."'
        )
        return None
    if not isinstance(name, str) or name not in dataset.by_name:
        hint = did_you_mean(str(name), dataset.by_name) or "date columns: " + ", ".join(
            c.name for c in dataset.columns if c.type in ("date", "datetime")
        )
        problem("time", f"unknown column {name!r}", hint)
        return None
    if dataset.by_name[name].type not in ("date", "datetime"):
        problem(
            "time", f"column {name!r} is not a date or date-time", "windows run on a date column"
        )
        return None
    return name


def column_list(
    value: Any,
    dataset: datasets.Dataset,
    problem: ProblemFactory,
    key: str,
    *,
    required: bool = True,
) -> list[str] | None:
    """A list of column names of ``dataset`` (``group_by``, ``keys``, ``peer_group``)."""
    if value is None and not required:
        return []
    if (
        not isinstance(value, list)
        or not all(isinstance(v, str) for v in value)
        or (required and not value)
    ):
        problem(key, "must be a list of column names", f'{key} = ["department", "vendor_id"]')
        return None
    for name in value:
        if name not in dataset.by_name:
            hint = did_you_mean(
                name, dataset.by_name
            ) or f"columns of {dataset.name}: " + ", ".join(dataset.column_names)
            problem(key, f"unknown column {name!r}", hint)
            return None
    if len(set(value)) != len(value):
        problem(key, "a column is named twice", "name each column once")
        return None
    return list(value)


def unique(names: Iterable[str]) -> list[str]:
    """``names`` without repeats, first occurrence kept."""
    return list(dict.fromkeys(names))


# -- what a rule reads ---------------------------------------------------------------------------
def expression_reads(
    expr: CompiledExpression | None, dataset: str, aliases: Mapping[str, str] | None = None
) -> set[tuple[str, str]]:
    """The ``(dataset, column)`` pairs ``expr`` reads: its own columns (of ``dataset``),
    ``alias.column`` of joined datasets (``aliases``: alias -> dataset), the columns of
    ``x in DATASET.COLUMN`` lookups and the columns of a ``having``'s aggregates."""
    if expr is None:
        return set()
    found: set[tuple[str, str]] = set(expr.lookups_used)
    for name in expr.columns_used:
        alias, dot, column = name.partition(".")
        if dot and aliases and alias in aliases:
            found.add((aliases[alias], column))
        elif name not in expr.aggregates_used:
            found.add((dataset, name))
    for aggregate in expr.aggregates_used:
        column = aggregate.partition("(")[2].rstrip(")")
        if column:
            found.add((dataset, column))
    if not expr.aggregates_used:  # a having's dated values go by the window's time instead
        found |= {(dataset, p.date) for p in expr.dated.values()}
    return found


def expression_lists(*expressions: CompiledExpression | None) -> frozenset[str]:
    """The reference lists read by any of ``expressions``."""
    return frozenset(n for e in expressions if e is not None for n in e.lists_used)
