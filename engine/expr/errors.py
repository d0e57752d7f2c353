"""Errors of the expression language: located problems, all reported at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ExprProblem:
    """One mistake in an expression or template.

    ``offset`` is the 0-based character position in the expression text where the mistake
    starts, so the rule loader can point at it (see :func:`caret`).
    """

    message: str
    hint: str | None
    offset: int

    def __str__(self) -> str:
        text = f"column {self.offset + 1}: {self.message}"
        return f"{text} - {self.hint}" if self.hint else text


class ExprError(Exception):
    """An expression or template could not be compiled; ``problems`` lists every mistake found."""

    def __init__(self, problems: Iterable[ExprProblem]):
        self.problems = sorted(problems, key=lambda p: p.offset)
        super().__init__("; ".join(str(p) for p in self.problems))


def caret(text: str, problem: ExprProblem) -> str:
    """The expression with a ``^`` under the problem, for messages printed to a terminal."""
    line = text.replace("\n", " ")
    return f"{line}\n{' ' * problem.offset}^"
