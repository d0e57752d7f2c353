"""Reference lists: named lists of values kept in their own files, which rules refer to by name.

Restricted merchant categories or the allowed sole-source grounds change by decree, not by
rule; keeping them in one file, with their title and legal basis, lets staff update a list once
for every rule that reads it. A list file sits anywhere under the rule folders, by convention
in a ``lists/`` folder beside the rules that use it (``rules/cards/lists/``: a configuration
loading only ``rules/cards`` gets it too)::

    [list]
    name = "restricted_merchant_categories"
    title = "업무추진비 사용제한 업종"
    description = "..."
    basis = "지방자치단체 업무추진비 집행에 관한 규칙"
    items = ["유흥주점", "단란주점", "골프장"]

(``[[list]]`` tables hold several lists in one file.) Conditions read a list as ``lists.NAME``,
like a parameter: ``merchant_category in lists.restricted_merchant_categories``. The loader
reads every list before it compiles any rule; while it compiles, :func:`current` gives the
lists to the rule types (see :func:`using`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from naebu.core.problems import Problem, did_you_mean
from naebu.engine.expr.kinds import value_type

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
LIST_KEYS = {
    "name": "the name rules use: lists.NAME (lower case, digits, _)",
    "title": "Korean title",
    "description": "what the list holds and why",
    "basis": "legal basis of the list",
    "items": "the values: all text, all numbers or all dates",
}


@dataclass(frozen=True)
class RefList:
    """One reference list as read from its file."""

    name: str
    items: tuple[Any, ...]
    file: str
    title: str = ""
    description: str = ""
    basis: str = ""


def read_lists(
    doc: Mapping[str, Any], shown: str, text: str
) -> tuple[list[RefList], list[Problem]]:
    """The lists of one parsed file (its ``list`` key), and the problems found in them."""
    raw = doc.get("list")
    tables = raw if isinstance(raw, list) else [raw]
    lists: list[RefList] = []
    problems: list[Problem] = []
    for index, table in enumerate(tables):
        where = f"list[{index}]" if isinstance(raw, list) else "list"
        if not isinstance(table, dict):
            problems.append(Problem(shown, "'list' must be a table", key=where,
                                    hint="[list] name = \"...\", items = [...]"))  # fmt: skip
            continue
        name = table.get("name")
        label = f"list {name}" if isinstance(name, str) else where

        def add(key: str | None, message: str, hint: str | None, label: str = label,
                name: Any = name) -> None:  # fmt: skip
            problems.append(Problem(shown, message, None, f"{label}: {key}" if key else label,
                                    hint, _line(text, key or "name", name)))  # fmt: skip

        before = len(problems)
        for key in table:
            if key not in LIST_KEYS:
                add(
                    key,
                    "unknown key",
                    did_you_mean(key, LIST_KEYS) or "keys: " + ", ".join(LIST_KEYS),
                )
        if not isinstance(name, str) or not _NAME_RE.match(name):
            add("name", "missing or invalid list name",
                'name = "restricted_merchant_categories" (lower case, digits, _)')  # fmt: skip
        items = table.get("items")
        if not isinstance(items, list):
            add("items", "missing list of items", 'items = ["유흥주점", "골프장"]')
        elif value_type(items) is None:
            add("items", "items must all be of one kind", "all text, all numbers or all dates")
        for key in ("title", "description", "basis"):
            if key in table and not isinstance(table[key], str):
                add(key, "must be a text", LIST_KEYS[key])
        if len(problems) == before and isinstance(name, str) and isinstance(items, list):
            lists.append(RefList(name, tuple(items), shown, str(table.get("title", "")),
                                 str(table.get("description", "")), str(table.get("basis", ""))))  # fmt: skip
    return lists, problems


def _line(text: str, key: str, name: Any) -> int | None:
    """The line of ``key`` in the list table called ``name`` (or the first such key)."""
    lines = text.splitlines()
    start = 0
    if isinstance(name, str):
        pattern = re.compile(r"^\s*name\s*=\s*[\"']" + re.escape(name) + r"[\"']")
        start = next((n for n, line in enumerate(lines) if pattern.match(line)), 0)
        for n in range(start, -1, -1):
            if lines[n].strip().startswith("[") and "list" in lines[n]:
                start = n
                break
    key_re = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for n in range(start, len(lines)):
        if key_re.match(lines[n]):
            return n + 1
    return start + 1


_CURRENT: ContextVar[Mapping[str, RefList] | None] = ContextVar("reference_lists", default=None)


@contextmanager
def using(lists: Mapping[str, RefList]) -> Iterator[None]:
    """Make ``lists`` the ones :func:`current` gives, while rules are being compiled."""
    token = _CURRENT.set(dict(lists))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> dict[str, list[Any]]:
    """The reference lists in force (name -> items), for ``lists.NAME`` in expressions."""
    return {name: list(ref.items) for name, ref in (_CURRENT.get() or {}).items()}
