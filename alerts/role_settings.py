"""``[routing.roles]``: who is 부서관리자, 감사자 or 담당자 when the directory does not say.

HR exports rarely carry the alert role (``employees.role``). This section derives it from what
they do carry - the position (직위), the grade (직급), the department, the head of each
department in the ``departments`` table (``head_id``) - or from short lists of employee ids::

    [routing.roles]
    managers = { position = ["과장", "국장", "*담당관"], grade = "5급 이상", heads = true }
    auditors = { department = ["*감사담당관"], employees = ["E1001"] }
    officials = ["E2001"]

A role given in the data always wins; the derivation fills only the empty ones (see
:func:`naebu.alerts.roles.derive_roles` for the order). This module holds the parsed, checked
settings; the matching of officials lives in :mod:`naebu.alerts.roles`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from naebu.core.problems import Problem, did_you_mean

#: The role tables of ``[routing.roles]`` and the ``employees.role`` value each derives.
ROLE_KEYS = {"managers": "부서관리자", "auditors": "감사자", "officials": "담당자"}
#: What a ``managers`` or ``auditors`` table may hold.
MATCH_KEYS = ("position", "grade", "department", "heads", "employees")
#: ``officials`` only lists employee ids: everyone left without a role is 담당자 anyway.
OFFICIAL_KEYS = ("employees",)

_GRADE = re.compile(r"^(\d{1,2})\s*급\s*(이상)?$")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """A name as matched: NFKC (full-width letters and digits folded), stripped, inner runs
    of spaces made one."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


@dataclass(frozen=True)
class NamePattern:
    """One position or department name of the config, and how it matches.

    ``"과장"`` matches exactly that name; ``*`` stands for any text (``"*담당관"`` matches
    every name ending in 담당관, ``"*감사*"`` every name holding 감사); ``"re:..."`` is a
    regular expression searched in the name (anchor it with ``^`` and ``$``). Names and
    patterns are compared after :func:`normalise`.
    """

    text: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> NamePattern:
        """The pattern of ``text``; raises ``re.error`` for a bad ``re:`` expression."""
        if text.startswith("re:"):
            return cls(text, re.compile(text[3:]))
        parts = [re.escape(p) for p in normalise(text).split("*")]
        return cls(text, re.compile("^" + ".*".join(parts) + "$"))

    @classmethod
    def exact(cls, text: str) -> NamePattern:
        """The pattern matching ``text`` only (no wildcard, no expression)."""
        return cls(text, re.compile("^" + re.escape(normalise(text)) + "$"))

    def matches(self, name: str | None) -> bool:
        """True when ``name`` (a position or department) fits the pattern."""
        return name is not None and self.regex.search(normalise(name)) is not None


@dataclass(frozen=True)
class GradeSpec:
    """A grade of the config: ``"5급"`` is exactly 5급, ``"5급 이상"`` 5급 or higher (1급 is
    the highest, so 4급, 3급 ... too)."""

    grade: int
    or_above: bool = False

    def matches(self, grade: int | None) -> bool:
        """True when an official's grade number fits."""
        if grade is None:
            return False
        return grade <= self.grade if self.or_above else grade == self.grade


@dataclass(frozen=True)
class RoleMatch:
    """Who one role table of ``[routing.roles]`` takes: an official fitting **any** key.

    ``employees`` lists employee ids outright; ``heads`` (managers only) takes the
    ``head_id`` of each department in the ``departments`` table.
    """

    position: tuple[NamePattern, ...] = ()
    grade: tuple[GradeSpec, ...] = ()
    department: tuple[NamePattern, ...] = ()
    heads: bool = False
    employees: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.position or self.grade or self.department or self.heads or self.employees)


@dataclass(frozen=True)
class RoleRules:
    """The parsed ``[routing.roles]``: one :class:`RoleMatch` per role."""

    managers: RoleMatch = RoleMatch()
    auditors: RoleMatch = RoleMatch()
    officials: RoleMatch = RoleMatch()

    def listed(self, employee_id: str) -> str | None:
        """The role an explicit ``employees`` list gives ``employee_id``, or None."""
        for key, role in ROLE_KEYS.items():
            if employee_id in getattr(self, key).employees:
                return role
        return None


def parse_roles(
    raw: Any, problems: list[Problem], file: str, audit_department: str | None = None
) -> RoleRules:
    """``[routing.roles]`` checked; each mistake appended to ``problems`` as a located Problem.

    ``audit_department`` (``[routing] audit_department``) makes that department's members
    감사자 when ``auditors`` names no department of its own.
    """
    where = "routing.roles"
    if not isinstance(raw, dict):
        problems.append(
            Problem(file, "must be a table", key=where, hint='[routing.roles] auditors = ["E1001"]')
        )
        return RoleRules()
    tables: dict[str, RoleMatch] = {}
    for key, value in raw.items():
        if key not in ROLE_KEYS:
            problems.append(
                Problem(
                    file,
                    "unknown role table",
                    key=f"{where}.{key}",
                    hint=did_you_mean(key, ROLE_KEYS) or "one of " + ", ".join(ROLE_KEYS),
                )
            )
            continue
        tables[key] = _role(key, value, problems, file)
    auditors = tables.get("auditors", RoleMatch())
    if audit_department and not auditors.department:
        pattern = NamePattern.exact(audit_department)
        auditors = RoleMatch(
            auditors.position, auditors.grade, (pattern,), auditors.heads, auditors.employees
        )
        tables["auditors"] = auditors
    seen: dict[str, str] = {}
    for key, match in tables.items():
        for eid in sorted(match.employees):
            if eid in seen:
                problems.append(
                    Problem(
                        file,
                        f"employee {eid} is listed for two roles ({seen[eid]} and {key})",
                        key=f"{where}.{key}.employees",
                        hint="an official has one alert role: keep one list",
                    )
                )
            seen.setdefault(eid, key)
    return RoleRules(**tables)


def _role(key: str, value: Any, problems: list[Problem], file: str) -> RoleMatch:
    where = f"routing.roles.{key}"
    if isinstance(value, list):  # shorthand: a list of employee ids
        value = {"employees": value}
    if not isinstance(value, dict):
        problems.append(
            Problem(
                file,
                "must be a table or a list of employee ids",
                key=where,
                hint=f'{key} = {{ position = ["과장"] }}' if key != "officials" else '["E1001"]',
            )
        )
        return RoleMatch()
    allowed: tuple[str, ...] = OFFICIAL_KEYS if key == "officials" else MATCH_KEYS
    if key == "auditors":
        allowed = tuple(k for k in MATCH_KEYS if k != "heads")
    for k in value:
        if k not in allowed:
            problems.append(
                Problem(
                    file,
                    "unknown key",
                    key=f"{where}.{k}",
                    hint=did_you_mean(k, allowed) or "keys: " + ", ".join(allowed),
                )
            )
    heads = value.get("heads", False)
    if not isinstance(heads, bool):
        problems.append(
            Problem(file, "must be true or false", key=f"{where}.heads", hint="heads = true")
        )
        heads = False
    return RoleMatch(
        position=_patterns(value.get("position"), f"{where}.position", problems, file),
        grade=_grades(value.get("grade"), f"{where}.grade", problems, file),
        department=_patterns(value.get("department"), f"{where}.department", problems, file),
        heads=heads and "heads" in allowed,
        employees=frozenset(_texts(value.get("employees"), f"{where}.employees", problems, file)),
    )


def _texts(value: Any, key: str, problems: list[Problem], file: str) -> list[str]:
    """A string or a list of non-empty strings (numbers, e.g. employee ids, taken as text)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
            problems.append(
                Problem(
                    file, f"must be text or a list of texts, not {item!r}", key=key, hint='["..."]'
                )
            )
            continue
        out.append(str(item).strip())
    return out


def _patterns(value: Any, key: str, problems: list[Problem], file: str) -> tuple[NamePattern, ...]:
    out = []
    for text in _texts(value, key, problems, file):
        try:
            out.append(NamePattern.parse(text))
        except re.error as exc:
            problems.append(
                Problem(
                    file,
                    f"bad regular expression {text[3:]!r}: {exc}",
                    key=key,
                    hint='e.g. "re:(과|소)장$"; or a name with * for any text ("*담당관")',
                )
            )
    return tuple(out)


def _grades(value: Any, key: str, problems: list[Problem], file: str) -> tuple[GradeSpec, ...]:
    out = []
    for text in _texts(value, key, problems, file):
        m = _GRADE.match(normalise(text))
        if m is None or not 1 <= int(m.group(1)) <= 9:
            problems.append(
                Problem(
                    file,
                    f"not a grade: {text!r}",
                    key=key,
                    hint='"5급" (exactly) or "5급 이상" (5급 and higher: 4급, 3급 ...)',
                )
            )
            continue
        out.append(GradeSpec(int(m.group(1)), m.group(2) is not None))
    return tuple(out)
