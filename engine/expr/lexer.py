"""Tokenizer of the expression language.

Hand-written on purpose: rule files are written by compliance staff and must never reach
Python's own parser (``eval``, ``compile`` or ``ast``), so the language is exactly what this
module and :mod:`naebu.engine.expr.parser` accept and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import ExprError, ExprProblem


class Kind(Enum):
    """Token kinds."""

    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    KEYWORD = "keyword"  # a word of our language: and, or, not, in, true, false, null
    FORBIDDEN = "forbidden"  # a Python word we refuse with a tailored message (lambda, for...)
    OP = "op"
    EOF = "end"


@dataclass(frozen=True)
class Token:
    """One token; ``offset`` is its start in the text, ``text`` its spelling."""

    kind: Kind
    text: str
    offset: int
    value: object = None


KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})

#: Words of Python (and habits from other languages) that people may try; each gets a message
#: and a hint instead of a generic "unexpected name".
FORBIDDEN: dict[str, tuple[str, str]] = {
    "lambda": (
        "'lambda' is not allowed",
        "a condition is a single expression; no functions can be defined",
    ),
    "for": (
        "loops and comprehensions ('for') are not allowed",
        "test each record with a plain condition; lists may only hold fixed values",
    ),
    "if": ("'if' expressions are not allowed", "write the condition itself, combined with and/or"),
    "else": ("'else' is not allowed", "write the condition itself, combined with and/or"),
    "elif": ("'elif' is not allowed", "write the condition itself, combined with and/or"),
    "import": ("'import' is not allowed", "only the built-in functions can be used"),
    "from": ("'from' is not allowed", "only the built-in functions can be used"),
    "is": ("'is' is not supported", "use == to compare, or is_null(x) to test for an empty value"),
    "None": ("'None' is not a value here", "write null, or use is_null(x)"),
    "True": ("'True' is not a value here", "write true in lower case"),
    "False": ("'False' is not a value here", "write false in lower case"),
    "AND": ("'AND' is not an operator here", "write and in lower case"),
    "OR": ("'OR' is not an operator here", "write or in lower case"),
    "NOT": ("'NOT' is not an operator here", "write not in lower case"),
}
for _word in ("def", "class", "while", "return", "yield", "await", "async", "with", "del",
              "global", "nonlocal", "assert", "pass", "raise", "try", "except", "finally",
              "break", "continue", "match", "case"):  # fmt: skip
    FORBIDDEN[_word] = (
        f"'{_word}' is not allowed",
        "a condition is a single expression, not Python code",
    )

#: Operators, longest first so that '<=' wins over '<'.
OPERATORS = ("**", "==", "!=", "<=", ">=", "<>", "&&", "||", "<", ">", "+", "-", "*", "/", "%",
             "=", "(", ")", "[", "]", ",", ".", ":", "!", "&", "|", "{", "}", ";", "@", "^", "~")  # fmt: skip

_DIGITS = "0123456789"
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}


def _is_name_start(ch: str) -> bool:
    # str.isalpha accepts Hangul syllables, so Korean column names work.
    return ch == "_" or ch.isalpha()


def _is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch in _DIGITS


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens ending with an EOF token; raise ExprError on a bad character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _DIGITS:
            tok = _number(text, i)
            tokens.append(tok)
            i += len(tok.text)
        elif ch in "\"'":
            tok = _string(text, i)
            tokens.append(tok)
            i += len(tok.text)
        elif _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_char(text[j]):
                j += 1
            word = text[i:j]
            if word in KEYWORDS:
                kind = Kind.KEYWORD
            elif word in FORBIDDEN:
                kind = Kind.FORBIDDEN
            else:
                kind = Kind.NAME
            tokens.append(Token(kind, word, i))
            i = j
        else:
            op = next((o for o in OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise ExprError([_unexpected_char(ch, i)])
            tokens.append(Token(Kind.OP, op, i))
            i += len(op)
    tokens.append(Token(Kind.EOF, "", n))
    return tokens


def _unexpected_char(ch: str, offset: int) -> ExprProblem:
    if ch in "“”‘’":
        return ExprProblem(f"unexpected character {ch!r}", "use straight quotes \" or '", offset)
    if ch == "`":
        return ExprProblem("unexpected character '`'", "text values go in double quotes", offset)
    return ExprProblem(f"unexpected character {ch!r}", None, offset)


#: Most digits a number in an expression may have (int() refuses over 4,300 with a ValueError).
MAX_DIGITS = 30


def _number(text: str, start: int) -> Token:
    i, n = start, len(text)
    while i < n and (text[i] in _DIGITS or text[i] == "_"):
        i += 1
    is_decimal = i + 1 < n and text[i] == "." and text[i + 1] in _DIGITS
    if is_decimal:
        i += 1
        while i < n and (text[i] in _DIGITS or text[i] == "_"):
            i += 1
    # A letter glued to a number (1e6, 10원, 0x1f) is a typo, not a number followed by a name.
    j = i
    while j < n and _is_name_char(text[j]):
        j += 1
    spelling = text[start:j]
    if j > i:
        raise ExprError(
            [
                ExprProblem(
                    f"invalid number {spelling!r}",
                    "write plain digits, e.g. 1_000_000 or 0.95",
                    start,
                )
            ]
        )
    digits = spelling.replace("_", "")
    if spelling.endswith("_") or "__" in spelling or "_." in spelling or "._" in spelling:
        raise ExprError(
            [
                ExprProblem(
                    f"invalid number {spelling!r}",
                    "'_' may only separate digits, e.g. 20_000_000",
                    start,
                )
            ]
        )
    if sum(c in _DIGITS for c in digits) > MAX_DIGITS:
        raise ExprError(
            [
                ExprProblem(
                    f"number with more than {MAX_DIGITS} digits",
                    "write a shorter number; no amount or count needs that many digits",
                    start,
                )
            ]
        )
    value: int | float = float(digits) if is_decimal else int(digits)
    return Token(Kind.NUMBER, spelling, start, value)


def _string(text: str, start: int) -> Token:
    quote = text[start]
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == quote:
            return Token(Kind.STRING, text[start : i + 1], start, "".join(out))
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = text[i + 1]
            if esc not in _ESCAPES:
                raise ExprError(
                    [
                        ExprProblem(
                            f"unknown escape '\\{esc}' in text",
                            "only \\\" \\' \\\\ \\n and \\t are known; write \\\\ for a backslash",
                            i,
                        )
                    ]
                )
            out.append(_ESCAPES[esc])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise ExprError([ExprProblem("unterminated text value", f"close it with {quote}", start)])
