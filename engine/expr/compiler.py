"""Turn a checked syntax tree into nested closures that evaluate a whole DataFrame at once.

Each closure takes an :class:`Env` and returns a Series on the frame's index in the canonical
dtype of its type (see :mod:`naebu.engine.expr.values`). There is no per-row Python: every operator
is one pandas/numpy (or, for Arrow-backed text, Arrow) operation over all rows. What one
evaluation computes once: each column's conversion, each Series' null mask, each distinct
function call; arithmetic on fixed numbers is done at compile time.

Null semantics, SQL-like but two-valued so that conditions stay plain true/false:

* a comparison (``== != < <= > >= in``) with a null side is false, and so is ``not in``;
* ``not c`` is the exact opposite of ``c``: a comparison that was false because of a null
  becomes true under ``not``. (``not (amount > 10)`` is true for a missing amount; write
  ``not_null(amount) and amount <= 10`` to exclude it.)
* arithmetic with a null gives null; division or ``%`` by zero gives null, never inf;
* a bool column used as a condition counts null as false.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .checker import Checked
from .functions import FUNCTIONS
from .kinds import NUMERIC, element_type
from .parser import Binary, Call, Compare, Dotted, ListLiteral, Literal, Name, Node, Unary
from .values import (
    arrow_bools,
    arrow_text,
    boolean,
    constant,
    finite,
    nulls,
    pa,
    pc,
    scalar,
    to_runtime,
    truth,
)


class Env:
    """One evaluation: the frame, and columns already converted to their runtime dtype."""

    def __init__(self, frame: pd.DataFrame, columns: Mapping[str, str],
                 lookups: Mapping[str, pd.DataFrame] | None = None,
                 lookup_types: Mapping[tuple[str, str], str] | None = None):  # fmt: skip
        self.frame = frame
        self.index = frame.index
        self.columns = columns
        self.lookups = lookups or {}
        self.lookup_types = lookup_types or {}
        self._cache: dict[str, pd.Series] = {}
        self._values: dict[tuple[str, str], np.ndarray] = {}
        #: Results of function calls by what they compute (see Compiler.call).
        self.calls: dict[tuple[Any, ...], pd.Series] = {}

    def column(self, name: str) -> pd.Series:
        """A column in its canonical dtype, converted once per evaluation."""
        if name not in self._cache:
            self._cache[name] = to_runtime(self.frame[name], self.columns[name])
        return self._cache[name]

    def provide(self, name: str, values: pd.Series) -> None:
        """Give the evaluation a column the frame lacks, already in its runtime dtype (a
        parameter's value per record, engine/params_dated.py)."""
        self._cache[name] = to_runtime(values, self.columns[name])

    def lookup(self, dataset: str, column: str) -> np.ndarray:
        """The distinct non-null values of another dataset's column (``x in DATASET.COLUMN``).

        A dataset without a frame counts as empty: nothing is in it.
        """
        key = (dataset, column)
        if key not in self._values:
            frame = self.lookups.get(dataset)
            if frame is None or column not in frame.columns:
                self._values[key] = np.array([], dtype=object)
            else:
                values = to_runtime(frame[column], self.lookup_types[key]).dropna()
                self._values[key] = values.unique()
        return self._values[key]


Evaluator = Callable[[Env], pd.Series]


class Fixed:
    """The evaluator of a fixed value (a literal or a parameter).

    Called, it broadcasts the value to the frame's index like any evaluator; comparisons
    instead read :attr:`value` (the runtime scalar) and compare each row with it directly.
    """

    def __init__(self, value: Any, type_: str):
        self.raw = value
        self.type = type_
        self.value = scalar(value, type_)
        #: A null literal or parameter, NaN, or blank text: nothing compares with it.
        self.is_null = (
            type_ == "null"
            or value is None
            or (isinstance(self.value, float) and np.isnan(self.value))
            or (type_ == "str" and isinstance(value, str) and not value.strip())
        )

    def __call__(self, env: Env) -> pd.Series:
        return constant(self.raw, self.type, env.index)


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARROW_COMPARE: dict[str, Callable[[Any, Any], Any]] = (
    {
        "==": pc.equal,
        "!=": pc.not_equal,
        "<": pc.less,
        "<=": pc.less_equal,
        ">": pc.greater,
        ">=": pc.greater_equal,
    }
    if pc is not None
    else {}
)
#: ``a OP b`` is ``b FLIPPED a``.
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class Compiler:
    """Compiles nodes using the types and bound values found by the checker."""

    def __init__(self, checked: Checked):
        self.types = checked.types
        self.values = checked.values
        self.lookups = checked.lookups
        self.aggregates = checked.aggregates
        self.column_refs = checked.column_refs

    def compile(self, node: Node) -> Evaluator:
        """The evaluator of ``node``."""
        if node in self.aggregates:  # sum(amount) in a having: computed beforehand, a column
            key = self.aggregates[node]
            return lambda env: env.column(key)
        if node in self.column_refs:  # column("감정 평가액(1)")
            ref = self.column_refs[node]
            return lambda env: env.column(ref)
        if node in self.values and not isinstance(node, ListLiteral):
            return self.fixed(self.values[node], self.types[node])
        if isinstance(node, Literal):
            return self.fixed(node.value, node.type)
        if isinstance(node, Name):
            name = node.name
            return lambda env: env.column(name)
        if isinstance(node, Dotted):  # alias.column of a joined dataset: a column of the frame
            key = f"{node.base}.{node.attr}"
            return lambda env: env.column(key)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"cannot compile {node!r}")  # the checker refuses everything else

    def fixed(self, value: Any, type_: str) -> Evaluator:
        return Fixed(value, type_)

    def unary(self, node: Unary) -> Evaluator:
        operand = self.compile(node.operand)
        if node.op == "not":
            return lambda env: ~truth(operand(env))
        return self.folded(node, lambda env: -operand(env), operand)

    def binary(self, node: Binary) -> Evaluator:
        left, right = self.compile(node.left), self.compile(node.right)
        if node.op == "and":
            return lambda env: truth(left(env)) & truth(right(env))
        if node.op == "or":
            return lambda env: truth(left(env)) | truth(right(env))
        op = node.op
        return self.folded(node, lambda env: _arithmetic(op, left(env), right(env)), left, right)

    def folded(self, node: Node, evaluator: Evaluator, *operands: Evaluator) -> Evaluator:
        """Arithmetic on fixed numbers (``params.limit * params.band``) done once, now, by the
        same code on one row: a fixed value again, which comparisons use as it is."""
        fixed = [o for o in operands if isinstance(o, Fixed)]
        if len(fixed) < len(operands) or self.types[node] not in NUMERIC:
            return evaluator
        if any(o.type not in NUMERIC and o.type != "null" for o in fixed):
            return evaluator
        value = evaluator(Env(pd.DataFrame(index=pd.RangeIndex(1)), {})).iloc[0]
        return Fixed(None if pd.isna(value) else float(value), self.types[node])

    def compare(self, node: Compare) -> Evaluator:
        left = self.compile(node.left)
        if node.op in ("in", "not in") and node.right in self.lookups:
            dataset, column = self.lookups[node.right]
            negate_lookup = node.op == "not in"
            return lambda env: _membership(left(env), env.lookup(dataset, column), negate_lookup)
        if node.op in ("in", "not in"):
            right_type = self.types[node.right]
            values = [scalar(v, element_type(right_type)) for v in self.values[node.right]]
            negate = node.op == "not in"
            return lambda env: _membership(left(env), values, negate)
        right = self.compile(node.right)
        op = node.op
        # A fixed side is compared as one value, not broadcast to a column first.
        if isinstance(right, Fixed) and not isinstance(left, Fixed):
            return lambda env: _compare_fixed(op, left(env), right)
        if isinstance(left, Fixed) and not isinstance(right, Fixed):
            flipped = _FLIPPED[op]
            return lambda env: _compare_fixed(flipped, right(env), left)
        return lambda env: _compare(op, left(env), right(env))

    def call(self, node: Call) -> Evaluator:
        func = FUNCTIONS[node.name]
        args: list[Evaluator | Any] = []
        for i, arg in enumerate(node.args):
            if i in func.lists and arg in self.lookups:  # every value of another dataset's column
                args.append(_lookup_values(*self.lookups[arg]))
            elif i in func.constant or i in func.lists:
                args.append(self.values[arg])
            else:
                args.append(self.compile(arg))
        constant_positions = func.constant | {
            i for i in func.lists if node.args[i] not in self.lookups
        }

        def evaluate(env: Env) -> pd.Series:
            given = [a if i in constant_positions else a(env) for i, a in enumerate(args)]
            return func.impl(*given)

        key = self.signature(node)
        if key is None:
            return evaluate

        def once(env: Env) -> pd.Series:
            # hour(approved_time) written twice in a condition is computed once
            if key not in env.calls:
                env.calls[key] = evaluate(env)
            return env.calls[key]

        return once

    def signature(self, node: Node) -> tuple[Any, ...] | None:
        """What ``node`` computes, equal for equal sub-expressions wherever they are written;
        None for a node this does not describe (lists, lookups, aggregates)."""
        if node in self.aggregates or node in self.lookups or isinstance(node, ListLiteral):
            return None
        if node in self.values:
            return ("value", self.types[node], repr(self.values[node]))
        if isinstance(node, Literal):
            return ("value", node.type, repr(node.value))
        if isinstance(node, Name):
            return ("column", node.name)
        if node in self.column_refs:
            return ("column", self.column_refs[node])
        if isinstance(node, Dotted):
            return ("column", f"{node.base}.{node.attr}")
        parts: list[Any]
        if isinstance(node, Call):
            parts = ["call", node.name]
            children: tuple[Node, ...] = tuple(node.args)
        elif isinstance(node, Unary):
            parts, children = ["unary", node.op], (node.operand,)
        elif isinstance(node, Binary | Compare):
            parts, children = [type(node).__name__, node.op], (node.left, node.right)
        else:
            return None
        for child in children:
            sub = self.signature(child)
            if sub is None:
                return None
            parts.append(sub)
        return tuple(parts)


def _lookup_values(dataset: str, column: str) -> Callable[[Env], np.ndarray]:
    """The evaluator of ``DATASET.COLUMN`` given to a function: that column's values."""
    return lambda env: env.lookup(dataset, column)


def _compare(op: str, a: pd.Series, b: pd.Series) -> pd.Series:
    present = ~(nulls(a) | nulls(b))
    return boolean(_holds(op, a, b) & present, a.index)


def _compare_fixed(op: str, a: pd.Series, b: Fixed) -> pd.Series:
    """``a OP b`` for a fixed ``b``: false everywhere when ``b`` is null."""
    if b.is_null:
        return boolean(np.zeros(len(a), dtype=bool), a.index)
    return boolean(_holds(op, a, b.value) & ~nulls(a), a.index)


def _holds(op: str, a: pd.Series, b: pd.Series | Any) -> np.ndarray:
    """Where ``a OP b`` is true, as a numpy bool array (null sides give false or anything:
    the caller masks them)."""
    left = arrow_text(a)
    right = arrow_text(b) if isinstance(b, pd.Series) else b if isinstance(b, str) else None
    if left is not None and right is not None:
        # Arrow compares text in C; pandas would do the same and then rebuild the result.
        return arrow_bools(_ARROW_COMPARE[op](left, right))
    return _COMPARE[op](a, b).to_numpy(dtype=bool, na_value=False)


def _membership(a: pd.Series, values: list[Any] | np.ndarray, negate: bool) -> pd.Series:
    found = _arrow_isin(a, values)
    if found is None:
        found = a.isin(values).to_numpy(dtype=bool, na_value=False)
    if negate:
        found = ~found
    return boolean(found & ~nulls(a), a.index)


def _arrow_isin(a: pd.Series, values: Any) -> np.ndarray | None:
    """``a.isin(values)`` for Arrow text and a set of texts, without the Python loop pandas
    runs over the set (a lookup's set holds thousands of account numbers); None otherwise."""
    left = arrow_text(a)
    if left is None:
        return None
    if isinstance(values, pd.api.extensions.ExtensionArray):
        if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
            return None
        value_set = pa.chunked_array(values.__arrow_array__()).combine_chunks()
    elif all(isinstance(v, str) for v in values):
        value_set = pa.array(list(values), type=left.type)
    else:
        return None
    if len(value_set) == 0:
        return np.zeros(len(a), dtype=bool)
    return arrow_bools(pc.is_in(left, value_set=value_set.cast(left.type)))


def _arithmetic(op: str, a: pd.Series, b: pd.Series) -> pd.Series:
    with np.errstate(all="ignore"):
        if op == "+":
            result = a + b
        elif op == "-":
            result = a - b
        elif op == "*":
            result = a * b
        else:
            divisor = b.where(b != 0)  # x / 0 and x % 0 are null, not inf or an error
            result = a / divisor if op == "/" else a % divisor
    return finite(result)


def compile_tree(node: Node, checked: Checked) -> Evaluator:
    """The evaluator of a checked tree."""
    return Compiler(checked).compile(node)
