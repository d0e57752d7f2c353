"""The line of each key in a TOML text, so a problem found in the parsed tables is located.

:mod:`tomllib` gives values without positions. The settings are checked on the parsed tables,
and their problems name a dotted key (``sources.hr.dataset``, ``notify.channels[0].name``);
:class:`KeyLines` reads the text once and finds the line that key, or the nearest table
holding it, stands on. Rule files have their own finder (engine/loader.py), which knows
``[[rule]]`` ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from naebu.core.problems import Problem

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_INLINE_KEY = re.compile(r"""[{,]\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")
_INDEX = re.compile(r"\[(\d+)\]")


def _dotted(text: str) -> str:
    """``a . "b c"`` as ``a.b c``: the parts of a TOML dotted key, unquoted."""
    return ".".join(p.strip("\"'") for p in _PART.findall(text))


class KeyLines:
    """Dotted key -> the 1-based line it is set on (tables: their header's line)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        counts: dict[str, int] = {}
        table = ""
        in_string = False
        for n, line in enumerate(text.splitlines(), start=1):
            quotes = line.count('"""') + line.count("'''")
            if in_string:
                in_string = quotes % 2 == 0
                continue
            if quotes % 2:
                in_string = True
            header = _HEADER.match(line)
            if header:
                name = _dotted(header.group(2))
                if header.group(1) == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                    self._set(name, n)
                    name = f"{name}[{index}]"
                table = name
                self._set(table, n)
                continue
            key = _KEY.match(line)
            if not key:
                continue
            full = ".".join(filter(None, (table, _dotted(key.group(1)))))
            self._set(full, n)
            rest = line[key.end() :]
            if rest.lstrip().startswith("{"):  # an inline table: its keys on this line
                for inner in _INLINE_KEY.findall(rest):
                    self._set(f"{full}.{inner.strip(chr(34) + chr(39))}", n)

    def _set(self, key: str, line: int) -> None:
        # ``[sources.hr]`` also places ``sources``, where no ``[sources]`` line came first.
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            self.lines.setdefault(".".join(parts[:n]), line)

    def __call__(self, key: str | None) -> int | None:
        """The line of ``key``, else of the nearest enclosing key or table; None when the
        text sets none of them (a default, or an environment variable's key)."""
        if not key:
            return None
        key = key.removeprefix("config.")
        parts = key.split(".")
        while parts:
            candidate = ".".join(parts)
            for form in (candidate, _INDEX.sub("", candidate)):
                if form in self.lines:
                    return self.lines[form]
            parts.pop()
        return None


def locate(problems: Iterable[Problem], file: str, text: str) -> list[Problem]:
    """``problems`` with the line of their key in ``text`` filled in, where it names ``file``
    and has no line yet."""
    lines = KeyLines(text)
    out = []
    for p in problems:
        if p.file == file and p.line is None and p.key:
            p = replace(p, line=lines(p.key))
        out.append(p)
    return out
