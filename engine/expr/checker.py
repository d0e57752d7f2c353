"""Name and type checking: every column, parameter and function is known and fits.

The checker walks the whole tree and collects every problem instead of stopping at the first,
so a rule author sees all mistakes of an expression at once. It also binds parameter values and
turns text literals compared with dates or times (``received_on >= "2024-01-01"``) into dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from naebu.core.problems import did_you_mean
from naebu.engine.params_dated import DatedParam

from .errors import ExprProblem
from .functions import FUNCTIONS
from .kinds import (
    ANY,
    ERROR,
    NUMERIC,
    SCALAR_TYPES,
    comparable,
    describe,
    element_type,
    family,
    is_list,
    value_type,
)
from .parser import Binary, Call, Compare, Dotted, ListLiteral, Literal, Name, Node, Unary

#: Aggregates of a ``having``: name -> (column types allowed, None for no argument; result type;
#: usage). Null values are skipped, as in SQL; count() counts records.
AGGREGATES: dict[str, tuple[frozenset[str] | None, str, str]] = {
    "count": (None, "int", "count()"),
    "sum": (NUMERIC, "number", "sum(column)"),
    "mean": (NUMERIC, "number", "mean(column)"),
    "min": (NUMERIC, "number", "min(column)"),
    "max": (NUMERIC, "number", "max(column)"),
    "distinct": (SCALAR_TYPES, "int", "distinct(column)"),
}

_BOOL_HINT = "compare it, e.g. amount > 0, or test it with is_null(x)"


@dataclass
class Checked:
    """The outcome of checking: a type for every node and the fixed values bound to some."""

    types: dict[Node, str] = field(default_factory=dict)
    #: Values known at compile time: parameters, lists, dates written as text.
    values: dict[Node, Any] = field(default_factory=dict)
    columns_used: set[str] = field(default_factory=set)
    problems: list[ExprProblem] = field(default_factory=list)
    #: ``in DATASET.COLUMN`` on the right of a membership test: node -> (dataset, column).
    lookups: dict[Node, tuple[str, str]] = field(default_factory=dict)
    #: Aggregate calls of a ``having`` (``sum(amount)``): node -> the frame column holding it.
    aggregates: dict[Node, str] = field(default_factory=dict)
    lists_used: set[str] = field(default_factory=set)
    #: ``column("header text")`` calls: node -> the column they read.
    column_refs: dict[Node, str] = field(default_factory=dict)
    #: Parameters tied to dates (engine/params_dated.py): read as the column ``params.NAME``.
    dated: dict[str, Any] = field(default_factory=dict)


class AnyColumns(Mapping[str, str]):
    """Columns not known yet, every one of type ``type_``: any name is a column.

    For checking a derived column of a source mapping when the configuration is loaded: the
    source's own columns are only known once it is read (every one of them is text there).
    """

    def __init__(self, type_: str = "str") -> None:
        self.type = type_

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __getitem__(self, name: str) -> str:
        return self.type

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class Checker:
    """Checks one syntax tree against the dataset's columns, the rule's params and aliases."""

    def __init__(self, columns: Mapping[str, str], params: Mapping[str, Any],
                 aliases: Mapping[str, Mapping[str, str]],
                 lists: Mapping[str, list[Any]] | None = None,
                 lookups: Mapping[str, Mapping[str, str]] | None = None,
                 aggregates: Mapping[str, str] | None = None):  # fmt: skip
        self.columns = columns
        self.params = params
        self.aliases = aliases
        #: Reference lists by name (``lists.NAME``), see :mod:`naebu.engine.reflists`.
        self.lists = lists or {}
        #: Other datasets' columns usable as ``x in DATASET.COLUMN``.
        self.lookups = lookups or {}
        #: In a ``having``: the columns aggregate calls may read; None elsewhere.
        self.aggregates = aggregates
        self.out = Checked()

    def problem(self, offset: int, message: str, hint: str | None = None) -> str:
        """Record a problem; returns the error type so callers can ``return self.problem(...)``."""
        self.out.problems.append(ExprProblem(message, hint, offset))
        return ERROR

    def check(self, node: Node) -> str:
        """The type of ``node`` (``error`` after a reported problem)."""
        type_ = self._check(node)
        self.out.types[node] = type_
        return type_

    def _check(self, node: Node) -> str:
        if isinstance(node, Literal):
            return node.type
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Dotted):
            return self.dotted(node)
        if isinstance(node, ListLiteral):
            self.list_literal(node)
            return self.problem(node.offset, "a list can only be used on the right of 'in'",
                                'e.g. merchant_category in ["유흥주점", "골프장"]')  # fmt: skip
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"unknown node {node!r}")  # a bug in the parser, not a user's mistake

    # -- names ------------------------------------------------------------------------------
    def name(self, node: Name) -> str:
        if node.name in self.columns:
            self.out.columns_used.add(node.name)
            return self.columns[node.name]
        if node.name == "params":
            return self.problem(node.offset, "'params' needs a parameter name", "write params.NAME")
        if node.name in FUNCTIONS:
            return self.problem(
                node.offset, f"{node.name!r} is a function", f"call it: {node.name}(...)"
            )
        if node.name in self.aliases:
            return self.problem(
                node.offset,
                f"{node.name!r} is a dataset alias",
                f"name one of its columns: {node.name}.COLUMN",
            )
        if self.aggregates is not None and node.name in self.aggregates:
            return self.problem(node.offset, f"{node.name!r} is a column of the records, not of the group",
                                f"use an aggregate such as sum({node.name}) or max({node.name}); "
                                "filter records with when")  # fmt: skip
        hint = (
            did_you_mean(node.name, self.columns)
            or f'to compare with text, put it in quotes: "{node.name}"'
        )
        return self.problem(node.offset, f"unknown column {node.name!r}", hint)

    def dotted(self, node: Dotted) -> str:
        if node.base == "params":
            return self.param(node)
        if node.base == "lists" and "lists" not in self.aliases:
            return self.reference_list(node)
        if node.base in self.lookups and node.base not in self.aliases:
            return self.problem(node.offset, f"'{node.base}.{node.attr}' stands for every record of {node.base}",
                                f"use it on the right of 'in' (x in {node.base}.{node.attr}), "
                                "or join the dataset to compare one record")  # fmt: skip
        if node.base in self.aliases:
            columns = self.aliases[node.base]
            if node.attr in columns:
                self.out.columns_used.add(f"{node.base}.{node.attr}")
                return columns[node.attr]
            return self.problem(node.attr_offset, f"unknown column {node.attr!r} of {node.base!r}",
                                did_you_mean(node.attr, columns))  # fmt: skip
        hint = "only params.NAME may contain a dot"
        if node.base in self.columns and node.attr in FUNCTIONS:
            hint = f"functions are called by name: {node.attr}({node.base})"
        elif node.base in self.columns:
            hint = "a column has no attributes; only params.NAME may contain a dot"
        return self.problem(node.offset, f"'{node.base}.{node.attr}' is not allowed", hint)

    def param(self, node: Dotted) -> str:
        if node.attr not in self.params:
            hint = did_you_mean(node.attr, self.params)
            if hint is None:
                known = ", ".join(sorted(self.params)) or "none"
                hint = f"add it to the rule's [params] table (defined: {known})"
            return self.problem(node.attr_offset, f"unknown parameter 'params.{node.attr}'", hint)
        value = self.params[node.attr]
        if isinstance(value, DatedParam):  # a value per record, chosen by its date
            self.out.dated[node.attr] = value
            return value.type
        type_ = value_type(value)
        if type_ is None:
            return self.problem(node.attr_offset, f"parameter 'params.{node.attr}' has a value of unsupported type",
                                "use a number, text, date, true/false, or a list of one kind of them")  # fmt: skip
        self.out.values[node] = value
        return type_

    def reference_list(self, node: Dotted) -> str:
        if node.attr not in self.lists:
            hint = did_you_mean(node.attr, self.lists)
            if hint is None:
                known = ", ".join(sorted(self.lists)) or "none"
                hint = f"lists are files under rules/lists/ (defined: {known})"
            return self.problem(node.attr_offset, f"unknown list 'lists.{node.attr}'", hint)
        items = list(self.lists[node.attr])
        type_ = value_type(items)
        if type_ is None:
            return self.problem(node.attr_offset, f"list 'lists.{node.attr}' mixes kinds of values",
                                "a list holds all text or all numbers")  # fmt: skip
        self.out.values[node] = items
        self.out.lists_used.add(node.attr)
        return type_

    def lookup(self, node: Dotted) -> str:
        """``DATASET.COLUMN`` on the right of ``in``: every value of that column."""
        columns = self.lookups[node.base]
        if node.attr not in columns:
            hint = did_you_mean(node.attr, columns) or "columns: " + ", ".join(columns)
            return self.problem(
                node.attr_offset, f"unknown column {node.attr!r} of dataset {node.base!r}", hint
            )
        self.out.lookups[node] = (node.base, node.attr)
        return f"list[{columns[node.attr]}]"

    # -- operators --------------------------------------------------------------------------
    def unary(self, node: Unary) -> str:
        type_ = self.check(node.operand)
        if type_ == ERROR:
            return ERROR
        if node.op == "not":
            if type_ != "bool":
                return self.problem(
                    node.offset,
                    f"'not' needs true/false, but this is {describe(type_)}",
                    _BOOL_HINT,
                )
            return "bool"
        if type_ not in NUMERIC:
            return self.problem(node.offset, f"'-' needs a number, but this is {describe(type_)}")
        return type_

    def binary(self, node: Binary) -> str:
        left, right = self.check(node.left), self.check(node.right)
        if node.op in ("and", "or"):
            ok = True
            for side, operand, type_ in (("left", node.left, left), ("right", node.right, right)):
                if type_ not in ("bool", ERROR):
                    self.problem(
                        operand.offset,
                        f"'{node.op}' needs true/false on both sides, but the {side} side is {describe(type_)}",
                        _BOOL_HINT,
                    )
                    ok = False
            return "bool" if ok and ERROR not in (left, right) else ERROR
        if ERROR in (left, right):
            return ERROR
        if left in NUMERIC and right in NUMERIC:
            both_int = left == right == "int" and node.op != "/"
            return "int" if both_int else "number"
        bad = left if left not in NUMERIC else right
        if bad == "str":
            return self.problem(node.op_offset, f"arithmetic '{node.op}' on text is not allowed",
                                "+ - * / % work on numbers; compare text with == or use contains(x, y)")  # fmt: skip
        if family(bad) in ("date", "time"):
            return self.problem(node.op_offset, f"arithmetic '{node.op}' on {describe(bad)} is not supported",
                                "use days_between(a, b) to count days, or hour(x) / minute(x)")  # fmt: skip
        return self.problem(
            node.op_offset, f"'{node.op}' needs numbers, but one side is {describe(bad)}"
        )

    def compare(self, node: Compare) -> str:
        if node.op in ("in", "not in"):
            return self.membership(node)
        left, right = self.check(node.left), self.check(node.right)
        if ERROR in (left, right):
            return ERROR
        if "null" in (left, right):
            return self.problem(node.op_offset, "comparing with null is always false",
                                "use is_null(x) or not_null(x)")  # fmt: skip
        if is_list(left) or is_list(right):
            return self.problem(
                node.op_offset,
                f"a list cannot be compared with '{node.op}'",
                "use 'in' to test membership",
            )
        if not comparable(left, right) and not self.coerce_text(node, left, right):
            hint = None
            if "str" in (left, right) and "number" in (family(left), family(right)):
                hint = 'numbers are written without quotes; text is written in quotes: "카드"'
            return self.problem(
                node.op_offset, f"cannot compare {describe(left)} with {describe(right)}", hint
            )
        if left == "bool" and node.op not in ("==", "!="):
            return self.problem(
                node.op_offset,
                f"true/false values cannot be compared with '{node.op}'",
                "use == or !=",
            )
        return "bool"

    def coerce_text(self, node: Compare, left: str, right: str) -> bool:
        """Accept ``date_column >= "2024-01-01"`` and ``time_column < "06:00"``."""
        for text_side, other in ((node.right, left), (node.left, right)):
            if (
                isinstance(text_side, Literal)
                and text_side.type == "str"
                and family(other) in ("date", "time")
            ):
                self.coerce_literal(text_side, other)  # on failure reported; no type mismatch too
                return True
        return False

    def coerce_literal(self, node: Literal, type_: str) -> str:
        """Read a text literal as a date, datetime or time; the new type, or error."""
        parsed = _parse_temporal(node.value, type_)
        if parsed is None:
            example = '"23:00"' if type_ == "time" else '"2024-01-31"'
            return self.problem(
                node.offset, f"{node.value!r} is not {describe(type_)}", f"write it as {example}"
            )
        self.out.values[node] = parsed
        self.out.types[node] = type_
        return type_

    def membership(self, node: Compare) -> str:
        left = self.check(node.left)
        if isinstance(node.right, ListLiteral):
            right = self.list_literal(node.right)
        elif (
            isinstance(node.right, Dotted)
            and node.right.base in self.lookups
            and node.right.base not in self.aliases
        ):
            right = self.lookup(node.right)
        else:
            right = self.check(node.right)
            if right not in (ERROR,) and not is_list(right):
                hint = 'use a list, e.g. x in ["a", "b"], or a list parameter'
                if right == "str":
                    hint = 'to look for text inside text, use contains(x, "...")'
                return self.problem(
                    node.right.offset,
                    f"'{node.op}' needs a list on the right, but this is {describe(right)}",
                    hint,
                )
        self.out.types[node.right] = right
        if ERROR in (left, right):
            return ERROR
        if is_list(left) or left in ("null", "bool"):
            return self.problem(node.left.offset, f"'{node.op}' cannot test {describe(left)}")
        inner = element_type(right)
        if inner != "any" and not comparable(left, inner):
            return self.problem(
                node.op_offset, f"cannot look for {describe(left)} in {describe(right)}"
            )
        return "bool"

    def list_literal(self, node: ListLiteral) -> str:
        values: list[Any] = []
        ok = True
        for item in node.items:
            value = _fixed_value(item)
            if value is None:
                self.problem(
                    item.offset,
                    "a list may only hold fixed values",
                    'e.g. ["유흥주점", "골프장"] or [1, 2]',
                )
                ok = False
            else:
                values.append(value)
        if not ok:
            return ERROR
        type_ = value_type(values)
        if type_ is None:
            return self.problem(
                node.offset, "a list must hold values of one kind", "all text or all numbers"
            )
        self.out.values[node] = values
        return type_

    # -- functions --------------------------------------------------------------------------
    def call(self, node: Call) -> str:
        if self.aggregates is not None and node.name in AGGREGATES:
            return self.aggregate(node)
        if node.name == "column" and node.name not in FUNCTIONS:
            return self.column_ref(node)
        func = FUNCTIONS.get(node.name)
        if func is None and self.aggregates is not None:
            # one problem for the call; its arguments would only repeat it
            names = [*AGGREGATES, *FUNCTIONS]
            hint = did_you_mean(node.name, names) or "aggregates: " + ", ".join(
                usage for _, _, usage in AGGREGATES.values()
            )
            return self.problem(node.offset, f"unknown aggregate {node.name!r}", hint)
        arg_types = [
            self.list_arg(arg) if func is not None and i in func.lists else self.check(arg)
            for i, arg in enumerate(node.args)
        ]
        if func is None:
            if node.name in self.columns and not isinstance(self.columns, AnyColumns):
                return self.problem(
                    node.offset,
                    f"{node.name!r} is a column, not a function",
                    "drop the parentheses",
                )
            hint = (
                did_you_mean(node.name, FUNCTIONS)
                or f"known functions: {', '.join(sorted(FUNCTIONS))}"
            )
            return self.problem(node.offset, f"unknown function {node.name!r}", hint)
        count = len(node.args)
        if count < func.min_args or (func.max_args is not None and count > func.max_args):
            if func.variadic:
                want = f"{func.min_args} or more"
            elif not func.optional:
                want = str(len(func.params))
            else:
                want = f"{func.min_args} to {len(func.params)}"
            plural = "" if want == "1" else "s"
            return self.problem(
                node.offset,
                f"{node.name}() takes {want} argument{plural}, got {count}",
                f"use {func.signature()}",
            )
        ok = True
        for i, (arg, type_) in enumerate(zip(node.args, arg_types, strict=True)):
            allowed = func.param(i)
            if i in func.constant:
                ok = self.constant_arg(func.name, i, arg, type_, allowed) and ok
                continue
            if i in func.lists:
                ok = self.list_arg_fits(func.name, i, arg, type_, allowed) and ok
                continue
            if (
                type_ == "str"
                and isinstance(arg, Literal)
                and allowed <= {"date", "datetime", "time"}
            ):
                type_ = arg_types[i] = self.coerce_literal(
                    arg, "date" if "date" in allowed else min(allowed)
                )
            if type_ == ERROR:
                ok = False
            elif type_ not in allowed and not (type_ == "null" and allowed == ANY):
                want = " or ".join(describe(t) for t in sorted(allowed))
                self.problem(
                    arg.offset,
                    f"argument {i + 1} of {node.name}() must be {want}, not {describe(type_)}",
                    f"use {func.signature()}",
                )
                ok = False
        if not ok or ERROR in arg_types:
            return ERROR
        if func.check is not None:
            fixed = [self.out.values.get(a) if i in func.constant else None
                     for i, a in enumerate(node.args)]  # fmt: skip
            message = func.check(fixed)
            if message:
                return self.problem(node.args[min(func.constant, default=0)].offset, message)
        try:
            return func.result_type(arg_types)
        except ValueError as exc:
            return self.problem(node.offset, str(exc))

    def list_arg(self, arg: Node) -> str:
        """An argument that takes a list: ``lists.NAME``, ``params.NAME``, ``[...]`` or
        ``DATASET.COLUMN`` (every value of another dataset's column)."""
        if isinstance(arg, Dotted) and arg.base in self.lookups and arg.base not in self.aliases:
            type_ = self.lookup(arg)
        elif isinstance(arg, ListLiteral):
            type_ = self.list_literal(arg)
        else:
            return self.check(arg)
        self.out.types[arg] = type_
        return type_

    def list_arg_fits(
        self, name: str, i: int, arg: Node, type_: str, allowed: frozenset[str]
    ) -> bool:
        """Whether a list argument is a list of the allowed kind, fixed or a lookup."""
        if type_ == ERROR:
            return False
        fixed_or_lookup = arg in self.out.values or arg in self.out.lookups
        if fixed_or_lookup and (type_ in allowed or type_ == "list[any]"):  # [] fits any list
            return True
        want = " or ".join(describe(t) for t in sorted(allowed))
        self.problem(
            arg.offset,
            f"argument {i + 1} of {name}() must be {want}, not {describe(type_)}",
            "give a reference list (lists.NAME), a list parameter (params.NAME), a list "
            '["..."] or every value of another dataset\'s column (accounts.account_no)',
        )
        return False

    def column_ref(self, node: Call) -> str:
        """``column("감정 평가액(1)")``: a column whose name is not a plain word."""
        arg = node.args[0] if len(node.args) == 1 else None
        if not isinstance(arg, Literal) or arg.type != "str":
            return self.problem(node.offset, "column() takes the column's name as one text",
                                'write column("감정 평가액(1)")')  # fmt: skip
        name = str(arg.value)
        if name not in self.columns:
            hint = did_you_mean(name, self.columns) or "columns: " + ", ".join(self.columns)
            return self.problem(arg.offset, f"unknown column {name!r}", hint)
        self.out.columns_used.add(name)
        self.out.column_refs[node] = name
        return self.columns[name]

    def aggregate(self, node: Call) -> str:
        """``count()``, ``sum(col)``... in a ``having``: a value computed over the group's window."""
        allowed, returns, usage = AGGREGATES[node.name]
        columns = self.aggregates or {}
        if allowed is None:
            if node.args:
                return self.problem(
                    node.offset, f"{node.name}() takes no argument", f"write {usage}"
                )
            key = f"{node.name}()"
        else:
            arg = node.args[0] if len(node.args) == 1 else None
            if not isinstance(arg, Name):
                return self.problem(
                    node.offset, f"{node.name}() takes one column name", f"write {usage}"
                )
            if arg.name not in columns:
                hint = did_you_mean(arg.name, columns) or f"write {usage}"
                return self.problem(arg.offset, f"unknown column {arg.name!r}", hint)
            type_ = columns[arg.name]
            if type_ not in allowed:
                want = " or ".join(sorted({describe(t) for t in allowed}))
                return self.problem(
                    arg.offset, f"{node.name}() needs {want}, but {arg.name!r} is {describe(type_)}"
                )
            key = f"{node.name}({arg.name})"
        self.out.aggregates[node] = key
        return returns

    def constant_arg(
        self, name: str, i: int, arg: Node, type_: str, allowed: frozenset[str]
    ) -> bool:
        value = self.out.values.get(arg) if isinstance(arg, Dotted) else _fixed_value(arg)
        if type_ == ERROR:
            return False
        if isinstance(arg, Dotted) and arg.base == "params" and arg.attr in self.out.dated:
            self.problem(arg.offset, f"argument {i + 1} of {name}() must be a fixed value, but "
                         f"params.{arg.attr} changes with the record's date",
                         "give this argument a parameter without by_date")  # fmt: skip
            return False
        whole = isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()  # fmt: skip
        if value is None or (allowed == {"int"} and not whole) or (type_ not in allowed and not whole):  # fmt: skip
            want = "a fixed whole number" if allowed == {"int"} else f"a fixed {describe(min(allowed))}"  # fmt: skip
            self.problem(arg.offset, f"argument {i + 1} of {name}() must be {want}",
                         "write a number such as 2, or a parameter")  # fmt: skip
            return False
        self.out.values[arg] = value
        return True


def _fixed_value(node: Node) -> Any:
    """The value of a literal (or a negated number literal); None if ``node`` is not fixed."""
    if isinstance(node, Literal) and node.type != "null":
        return node.value
    if (
        isinstance(node, Unary)
        and node.op == "-"
        and isinstance(node.operand, Literal)
        and node.operand.type in NUMERIC
    ):
        return -node.operand.value
    return None


def _parse_temporal(text: str, type_: str) -> Any:
    try:
        if type_ == "time":
            return dt.time.fromisoformat(text.strip())
        if type_ == "date":
            return dt.date.fromisoformat(text.strip())
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
