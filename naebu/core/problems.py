"""Located, user-facing problems: what is wrong, where, and how to fix it.

Every mistake a user can make in a rule file or the configuration becomes a :class:`Problem`,
never a traceback. Loaders collect all problems of a run before reporting, so compliance staff
see every error at once.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error in a user's file, printed as a single line.

    ``file: rule RULE_ID: key: message (hint)``; parts that do not apply are left out.
    """

    file: str
    message: str
    rule_id: str | None = None
    key: str | None = None
    hint: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.rule_id:
            parts.append(f"rule {self.rule_id}")
        if self.key:
            parts.append(self.key)
        text = ": ".join(parts) + ": " + self.message
        if self.hint:
            text += f" - {self.hint}"
        return text


class ProblemsError(Exception):
    """Raised when a user's files hold one or more problems; carries all of them."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A "did you mean 'x'?" hint for a misspelt name, or None when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def toml_error(exc: tomllib.TOMLDecodeError) -> tuple[str, int | None]:
    """The message and line of a TOML syntax error (Python 3.11 has them only in the text)."""
    text = str(exc)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    if not m:
        return text, None
    return f"{text[: m.start()]} (column {m.group(2)})", int(m.group(1))
