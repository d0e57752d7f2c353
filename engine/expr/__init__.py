"""The safe expression language of rule conditions (``when = "..."``).

Rule files are written by compliance staff; nothing in them is ever run as Python. Text goes
through the project's own tokenizer (:mod:`.lexer`), parser (:mod:`.parser`), name and type
checker (:mod:`.checker`) and compiler (:mod:`.compiler`), which builds vectorized pandas
operations from a fixed set of operators and built-in functions (:mod:`.functions`).

>>> cond = compile_expression("amount / attendees > params.max_per_person",
...                           {"amount": "number", "attendees": "int"}, {"max_per_person": 50_000})
>>> cond.evaluate(frame)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from naebu.engine.params_dated import DatedParam, column_name

from .checker import Checker
from .compiler import Env, Evaluator, compile_tree
from .errors import ExprError, ExprProblem, caret
from .functions import FUNCTIONS, Function, register
from .kinds import comparable, describe, is_list
from .parser import parse
from .values import remembered_nulls, truth

__all__ = [
    "FUNCTIONS",
    "CompiledExpression",
    "ExprError",
    "ExprProblem",
    "Function",
    "caret",
    "compile_expression",
    "register",
]


class CompiledExpression:
    """A checked expression, ready to evaluate over frames of its dataset.

    ``result_type`` is the language type of the result (``bool`` for conditions);
    ``columns_used`` names the columns the expression reads (``alias.column`` for joined ones).
    """

    def __init__(self, text: str, result_type: str, columns_used: frozenset[str],
                 columns: Mapping[str, str], evaluator: Evaluator,
                 lookup_types: Mapping[tuple[str, str], str] | None = None,
                 aggregates_used: frozenset[str] = frozenset(),
                 lists_used: frozenset[str] = frozenset(),
                 dated: Mapping[str, DatedParam] | None = None):  # fmt: skip
        self.text = text
        self.result_type = result_type
        self.columns_used = columns_used
        #: ``(dataset, column)`` pairs read by ``x in DATASET.COLUMN``.
        self.lookups_used = frozenset(lookup_types or {})
        #: Aggregate calls of a ``having`` by frame column name: ``"count()"``, ``"sum(amount)"``.
        self.aggregates_used = aggregates_used
        #: Reference lists read as ``lists.NAME``.
        self.lists_used = lists_used
        #: Parameters whose value is the one in force on each record's date, by name; the
        #: frame carries them as ``params.NAME`` or they are chosen by its date column.
        self.dated = dict(dated or {})
        self._columns = dict(columns)
        self._evaluator = evaluator
        self._lookup_types = dict(lookup_types or {})

    @property
    def lookup_datasets(self) -> tuple[str, ...]:
        """The other datasets whose frames :meth:`evaluate` needs as ``lookups``."""
        return tuple(sorted({d for d, _ in self.lookups_used}))

    def evaluate(
        self, frame: pd.DataFrame, lookups: Mapping[str, pd.DataFrame] | None = None
    ) -> pd.Series:
        """Evaluate over every row of ``frame`` at once; the result has ``frame``'s index.

        A condition gives a plain numpy-bool Series (null counted as false). Raises ExprError if
        the frame lacks a column the expression reads. ``lookups`` holds the frames of the
        datasets in :attr:`lookup_datasets` (a missing one counts as empty).
        """
        # a dated parameter the frame does not carry: chosen by the record's date column
        dated = [p for p in self.dated.values() if column_name(p.name) not in frame.columns]
        missing = sorted(c for c in self.columns_used if c not in frame.columns)
        missing += sorted({p.date for p in dated if p.date not in frame.columns})
        if missing:
            raise ExprError([ExprProblem(f"column {c!r} is missing from the data", None, max(0, self.text.find(c)))
                             for c in missing])  # fmt: skip
        with remembered_nulls():
            env = Env(frame, self._columns, lookups, self._lookup_types)
            for p in dated:  # one searchsorted each; the frame itself is not copied
                env.provide(column_name(p.name), p.values_at(frame[p.date], frame.index))
            result = self._evaluator(env)
        if self.result_type == "bool":
            result = truth(result)
        return result

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r}, result_type={self.result_type!r})"


def compile_expression(text: str, columns: Mapping[str, str], params: Mapping[str, Any] | None = None,
                       *, expect: str | None = "bool",
                       aliases: Mapping[str, Mapping[str, str]] | None = None,
                       lists: Mapping[str, list[Any]] | None = None,
                       lookups: Mapping[str, Mapping[str, str]] | None = None,
                       aggregates: Mapping[str, str] | None = None) -> CompiledExpression:  # fmt: skip
    """Parse, check and compile ``text``; raise ExprError listing every problem found.

    ``columns`` maps the dataset's column names to their types (:mod:`naebu.core.datasets`);
    ``params`` are the rule's parameters, bound now. ``expect`` is the type the result must
    have (``"bool"`` for a condition; None for any). ``aliases`` maps the alias of a joined
    dataset to its columns, allowing ``alias.column``; the frame then carries that column under
    the name ``"alias.column"``. ``lists`` are the reference lists (``lists.NAME``);
    ``lookups`` maps other datasets to their columns, allowing ``x in DATASET.COLUMN``;
    ``aggregates`` (for a ``having``) maps the columns that ``sum(col)``, ``count()``... may read,
    and the frame then carries each aggregate as a column named like the call (``"sum(amount)"``).
    """
    if not text.strip():
        raise ExprError(
            [ExprProblem("the expression is empty", "write a condition, e.g. amount > 0", 0)]
        )
    tree = parse(text)
    checker = Checker(columns, params or {}, aliases or {}, lists, lookups, aggregates)
    result_type = checker.check(tree)
    problems = checker.out.problems
    if not problems and is_list(result_type):
        problems.append(ExprProblem("a list can only be used on the right of 'in'", None, 0))
    if not problems and expect is not None and not _fits(result_type, expect):
        if expect == "bool":
            problems.append(ExprProblem(f"the condition must give true or false, but it gives {describe(result_type)}",
                                        "compare it, e.g. amount > 0", 0))  # fmt: skip
        else:
            problems.append(
                ExprProblem(
                    f"the expression must give {describe(expect)}, but it gives {describe(result_type)}",
                    None,
                    0,
                )
            )
    if problems:
        raise ExprError(problems)
    columns_all: dict[str, str] = dict(columns)
    for alias, alias_columns in (aliases or {}).items():
        columns_all.update({f"{alias}.{c}": t for c, t in alias_columns.items()})
    out = checker.out
    for node, key in out.aggregates.items():
        columns_all[key] = out.types[node]
    for name, param in out.dated.items():
        columns_all[column_name(name)] = param.type
    lookup_types = {(d, c): (lookups or {})[d][c] for d, c in out.lookups.values()}
    evaluator = compile_tree(tree, out)
    return CompiledExpression(text, result_type, frozenset(out.columns_used), columns_all,
                              evaluator, lookup_types, frozenset(out.aggregates.values()),
                              frozenset(out.lists_used), out.dated)  # fmt: skip


def _fits(actual: str, expect: str) -> bool:
    if expect == "bool":
        return actual == "bool"
    return actual == expect or (comparable(actual, expect) and expect in ("number", "datetime"))
