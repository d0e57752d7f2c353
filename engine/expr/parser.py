"""Syntax tree and parser of the expression language (a small Pratt parser).

Precedence, loosest first: ``or``; ``and``; ``not``; comparisons (``== != < <= > >= in, not in``);
``+ -``; ``* / %``; unary ``-``; calls ``f(x)`` and ``params.NAME``. Comparisons do not chain.

The parser knows nothing about columns or types (that is :mod:`naebu.engine.expr.checker`), but it
refuses every piece of Python-like syntax outside the language with a tailored message.
Mistakes after which parsing can go on (a ``__dunder`` name, an attribute on a call) are
collected; the others stop at the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ExprError, ExprProblem
from .lexer import FORBIDDEN, Kind, Token, tokenize

# Nodes compare by identity (eq=False) so the checker can key its type table by node.


@dataclass(frozen=True, eq=False)
class Node:
    """Base of all syntax nodes; ``offset`` is where the node starts in the text."""

    offset: int


@dataclass(frozen=True, eq=False)
class Literal(Node):
    """A fixed value; ``type`` is int, number, str, bool or null."""

    value: Any
    type: str


@dataclass(frozen=True, eq=False)
class ListLiteral(Node):
    """``[a, b, ...]``, only meaningful on the right of ``in``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Name(Node):
    """A bare name: a column of the dataset."""

    name: str


@dataclass(frozen=True, eq=False)
class Dotted(Node):
    """``base.attr``: ``params.NAME``, or later ``alias.column`` of a joined dataset."""

    base: str
    attr: str
    attr_offset: int


@dataclass(frozen=True, eq=False)
class Unary(Node):
    """``not x`` or ``-x``."""

    op: str
    operand: Node


@dataclass(frozen=True, eq=False)
class Binary(Node):
    """Arithmetic (``+ - * / %``) or logic (``and or``); ``op_offset`` locates the operator."""

    op: str
    left: Node
    right: Node
    op_offset: int


@dataclass(frozen=True, eq=False)
class Compare(Node):
    """A comparison, including ``in`` and ``not in``."""

    op: str
    left: Node
    right: Node
    op_offset: int


@dataclass(frozen=True, eq=False)
class Call(Node):
    """``name(args)``; only built-in functions can be called."""

    name: str
    args: tuple[Node, ...]


COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
_BINARY_BP = {"or": 10, "and": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60}
_NOT_BP = 30  # `not` binds looser than comparisons: not a == b is not (a == b)
_COMPARE_BP = 40
_UNARY_MINUS_BP = 70
#: Deepest nesting of parentheses, calls, ``not`` and ``-`` an expression may have, and the
#: longest chain of arithmetic operators: the checker and compiler walk the tree recursively.
MAX_DEPTH = 100
_TOO_DEEP = f"expression nested too deeply (over {MAX_DEPTH} levels)"
_TOO_DEEP_HINT = "split it into simpler parts, or use `x in [...]` for a list of values"

#: Operators of other languages, refused with the spelling we use instead.
_FOREIGN_OPS = {
    "=": ("'=' assigns; it cannot be used in a condition", "use == to compare"),
    "**": ("'**' (power) is not supported", "multiply instead, e.g. x * x"),
    "&&": ("'&&' is not an operator here", "write and"),
    "&": ("'&' is not an operator here", "write and"),
    "||": ("'||' is not an operator here", "write or"),
    "|": ("'|' is not an operator here", "write or"),
    "<>": ("'<>' is not an operator here", "write !="),
    "!": ("'!' is not an operator here", "write not, or != to compare"),
    "^": ("'^' is not supported", "multiply instead, e.g. x * x"),
    "~": ("'~' is not an operator here", "write not"),
    ":": (
        "':' is not allowed here",
        "slices, dictionaries and lambdas are not part of the language",
    ),
    ";": ("';' is not allowed", "a condition is one expression; join parts with and/or"),
    "@": ("'@' is not allowed", None),
    "{": (
        "'{' is not allowed",
        "lists are written [a, b]; sets and dictionaries are not supported",
    ),
    "}": ("'}' is not allowed", None),
}


def parse(text: str) -> Node:
    """Parse ``text`` into a syntax tree, or raise ExprError with every problem found."""
    parser = _Parser(tokenize(text))
    node = parser.expression(0)
    tok = parser.peek()
    if tok.kind is not Kind.EOF:
        parser.fail_at(tok, f"unexpected {_describe(tok)} after the end of the expression",
                       "join conditions with and/or; put text in quotes")  # fmt: skip
    if parser.problems:
        raise ExprError(parser.problems)
    return node


def _balanced(op: str, terms: list[Node], offsets: list[int]) -> Node:
    """``terms`` joined by ``op`` (``offsets[i]`` is the operator after ``terms[i]``)."""
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    left = _balanced(op, terms[:middle], offsets[: middle - 1])
    right = _balanced(op, terms[middle:], offsets[middle:])
    return Binary(left.offset, op, left, right, offsets[middle - 1])


def _describe(tok: Token) -> str:
    if tok.kind is Kind.EOF:
        return "end of expression"
    if tok.kind is Kind.STRING:
        return f"text {tok.text}"
    return f"{tok.kind.value} {tok.text!r}" if tok.kind is not Kind.OP else repr(tok.text)


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.problems: list[ExprProblem] = []  # recoverable ones; fatal ones raise at once
        self.depth = 0

    # -- helpers ----------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind is not Kind.EOF:
            self.pos += 1
        return tok

    def is_op(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind is Kind.OP and tok.text == text

    def is_keyword(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind is Kind.KEYWORD and tok.text == text

    def fail_at(self, tok: Token, message: str, hint: str | None = None) -> None:
        raise ExprError([*self.problems, ExprProblem(message, hint, tok.offset)])

    def note(self, offset: int, message: str, hint: str | None = None) -> None:
        self.problems.append(ExprProblem(message, hint, offset))

    def refuse_foreign(self, tok: Token) -> None:
        """Stop with a tailored message if ``tok`` is a Python word or a foreign operator."""
        if tok.kind is Kind.FORBIDDEN:
            message, hint = FORBIDDEN[tok.text]
            self.fail_at(tok, message, hint)
        if tok.kind is Kind.OP and tok.text in _FOREIGN_OPS:
            message, foreign_hint = _FOREIGN_OPS[tok.text]
            self.fail_at(tok, message, foreign_hint)

    def expect_op(self, text: str, context: str) -> Token:
        tok = self.peek()
        if tok.kind is Kind.OP and tok.text == text:
            return self.next()
        self.refuse_foreign(tok)
        self.fail_at(tok, f"expected '{text}' {context}, found {_describe(tok)}")
        raise AssertionError("unreachable")

    def check_name(self, tok: Token) -> None:
        if tok.text.startswith("__"):
            self.note(tok.offset, f"names starting with '__' are not allowed: {tok.text!r}",
                      "use a column name, params.NAME or a built-in function")  # fmt: skip

    # -- grammar ----------------------------------------------------------------------------
    def expression(self, min_bp: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail_at(self.peek(), _TOO_DEEP, _TOO_DEEP_HINT)
        left = self.prefix()
        chain = 0  # arithmetic operators chained in this call: each nests the tree one deeper
        while True:
            tok = self.peek()
            self.refuse_foreign(tok)
            op, bp = self.infix_operator()
            if op is None or bp <= min_bp:
                break
            self.next()
            if op == "not in":
                self.next()
            if op in COMPARISONS:
                right = self.expression(_COMPARE_BP)
                left = Compare(left.offset, op, left, right, tok.offset)
                nxt, _ = self.infix_operator()
                if nxt in COMPARISONS:
                    self.fail_at(self.peek(), "comparisons cannot be chained",
                                 "write a < b and b < c instead of a < b < c")  # fmt: skip
            elif op in ("and", "or"):
                left = self.logic_chain(op, bp, left, tok)
            else:
                chain += 1
                if chain > MAX_DEPTH:
                    self.fail_at(tok, _TOO_DEEP, _TOO_DEEP_HINT)
                right = self.expression(bp)
                left = Binary(left.offset, op, left, right, tok.offset)
        self.depth -= 1
        return left

    def logic_chain(self, op: str, bp: int, first: Node, tok: Token) -> Node:
        """``a or b or c ...`` (the operator just read) as a balanced tree, not a left-deep one.

        and/or are associative (also with nulls), so a pasted list of 400 merchants joined by
        ``or`` is as deep as 9 levels instead of 400 and the recursive checker and compiler
        cope with it.
        """
        terms = [first]
        offsets = [tok.offset]
        terms.append(self.expression(bp))
        while True:
            nxt = self.peek()
            if not (nxt.kind is Kind.KEYWORD and nxt.text == op):
                break
            self.next()
            offsets.append(nxt.offset)
            terms.append(self.expression(bp))
        return _balanced(op, terms, offsets)

    def infix_operator(self) -> tuple[str | None, int]:
        tok = self.peek()
        if tok.kind is Kind.OP and tok.text in COMPARISONS:
            return tok.text, _COMPARE_BP
        if tok.kind is Kind.OP and tok.text in _BINARY_BP:
            return tok.text, _BINARY_BP[tok.text]
        if tok.kind is Kind.KEYWORD:
            if tok.text in ("and", "or"):
                return tok.text, _BINARY_BP[tok.text]
            if tok.text == "in":
                return "in", _COMPARE_BP
            if tok.text == "not":
                after = self.tokens[self.pos + 1]
                if after.kind is Kind.KEYWORD and after.text == "in":
                    return "not in", _COMPARE_BP
                self.fail_at(
                    tok, "unexpected 'not' here", "write 'not in', or put 'not' before a condition"
                )
        return None, 0

    def prefix(self) -> Node:
        tok = self.next()
        if tok.kind is Kind.NUMBER:
            return self.postfix(
                Literal(tok.offset, tok.value, "int" if isinstance(tok.value, int) else "number")
            )
        if tok.kind is Kind.STRING:
            return self.postfix(Literal(tok.offset, tok.value, "str"))
        if tok.kind is Kind.KEYWORD:
            if tok.text in ("true", "false"):
                return self.postfix(Literal(tok.offset, tok.text == "true", "bool"))
            if tok.text == "null":
                return self.postfix(Literal(tok.offset, None, "null"))
            if tok.text == "not":
                return Unary(tok.offset, "not", self.expression(_NOT_BP))
            self.fail_at(tok, f"expected a value, found {_describe(tok)}")
        if tok.kind is Kind.NAME:
            self.check_name(tok)
            start = len(self.problems) - (1 if tok.text.startswith("__") else 0)
            return self.postfix(self.name_or_call(tok), start)
        if tok.kind is Kind.OP:
            if tok.text == "-":
                return Unary(tok.offset, "-", self.expression(_UNARY_MINUS_BP))
            if tok.text == "+":
                self.fail_at(tok, "unary '+' is not supported", "write the number without '+'")
            if tok.text == "(":
                if self.is_op(")"):
                    self.fail_at(self.peek(), "empty parentheses '()' are not a value",
                                 "put an expression inside the parentheses")  # fmt: skip
                inner = self.expression(0)
                self.expect_op(")", "to close '('")
                return self.postfix(inner)
            if tok.text == "[":
                return self.postfix(self.list_literal(tok))
        self.refuse_foreign(tok)
        self.fail_at(tok, f"expected a value, found {_describe(tok)}")
        raise AssertionError("unreachable")

    def name_or_call(self, tok: Token) -> Node:
        if self.is_op("("):
            self.next()
            args: list[Node] = []
            if not self.is_op(")"):
                args.append(self.expression(0))
                while self.is_op(","):
                    self.next()
                    args.append(self.expression(0))
            self.expect_op(")", f"to close the call of {tok.text}(")
            return Call(tok.offset, tok.text, tuple(args))
        if self.is_op("."):
            self.next()
            attr = self.next()
            if attr.kind is not Kind.NAME:
                self.fail_at(attr, f"expected a name after '{tok.text}.', found {_describe(attr)}")
            self.check_name(attr)
            node = Dotted(tok.offset, tok.text, attr.text, attr.offset)
            if self.is_op("("):
                self.note(attr.offset, f"'{tok.text}.{attr.text}(...)' is not a function",
                          "only built-in functions can be called, e.g. lower(x)")  # fmt: skip
                self.skip_group("(", ")")
            return node
        return Name(tok.offset, tok.text)

    def list_literal(self, open_tok: Token) -> ListLiteral:
        items: list[Node] = []
        while not self.is_op("]"):
            items.append(self.expression(0))
            if self.is_op(","):
                self.next()
                continue
            tok = self.peek()
            if tok.kind is Kind.FORBIDDEN and tok.text in ("for", "if"):
                self.fail_at(tok, "list comprehensions are not allowed",
                             "a list holds fixed values, e.g. [\"유흥주점\", \"골프장\"]")  # fmt: skip
            if not self.is_op("]"):
                self.refuse_foreign(tok)
                self.fail_at(tok, f"expected ',' or ']' in the list, found {_describe(tok)}")
        self.next()
        return ListLiteral(open_tok.offset, tuple(items))

    def postfix(self, node: Node, start: int | None = None) -> Node:
        """Refuse what may follow a value in Python but not here: .attr, (call), [index].

        One problem per chain: a ``__import__`` call followed by ``.system`` is reported once,
        at its first mistake (problems from ``start`` on belong to this chain).
        """
        start = len(self.problems) if start is None else start
        while True:
            tok = self.peek()
            del self.problems[start + 1 :]
            if tok.kind is not Kind.OP:
                return node
            if tok.text == ".":
                self.next()
                attr = self.peek()
                if attr.kind is Kind.NAME:
                    self.next()
                    self.check_name(attr)
                hint = "only params.NAME may contain a dot"
                if self.is_op("("):
                    # A method call: one problem for it, not a second one for the parentheses.
                    hint = f"functions are called by name, e.g. upper(x), not x.{attr.text}()"
                    self.skip_group("(", ")")
                where = (
                    "only one dot is allowed, as in params.NAME"
                    if isinstance(node, Dotted)
                    else "attribute access is not allowed"
                )
                self.note(tok.offset, f"{where}: '.{attr.text}'", hint)
            elif tok.text == "(":
                self.note(
                    tok.offset,
                    "only built-in functions can be called",
                    "call a function by its name, e.g. lower(x)",
                )
                self.skip_group("(", ")")
            elif tok.text == "[":
                self.fail_at(
                    tok,
                    "indexing with [...] is not allowed",
                    "lists may only appear on the right of 'in'",
                )
            else:
                return node

    def skip_group(self, open_text: str, close_text: str) -> None:
        """Skip a bracketed group after a recoverable mistake, so later problems are found."""
        level = 0
        while True:
            tok = self.next()
            if tok.kind is Kind.EOF:
                self.fail_at(tok, f"'{open_text}' is never closed", f"add '{close_text}'")
            if tok.kind is Kind.OP and tok.text == open_text:
                level += 1
            elif tok.kind is Kind.OP and tok.text == close_text:
                level -= 1
                if level == 0:
                    return
