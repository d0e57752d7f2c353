"""Alert roles derived for a directory that does not carry them (``[routing.roles]``).

An HR export lists positions, grades and departments, rarely who is 부서관리자 or 감사자.
:func:`derive_roles` fills the empty ``role`` of each official from the config
(:class:`naebu.alerts.role_settings.RoleRules`), in this order - the first that applies wins:

1. the ``role`` the directory gives (an explicit value always wins);
2. the ``employees`` lists of ``managers``, ``auditors`` and ``officials``;
3. ``managers``: a matching position or grade, or the head (``head_id``) of a department in
   the ``departments`` table (with ``heads = true``) -> 부서관리자;
4. ``auditors``: a matching department (``[routing] audit_department`` when ``auditors``
   names none), position or grade -> 감사자;
5. everyone else -> 담당자.

Managers come before auditors: the head of the audit office manages that office (its own
records' alerts need a manager), as the demo city's directory has it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from naebu.alerts.role_settings import RoleMatch, RoleRules, normalise

ROLE_OFFICIAL = "담당자"
ROLE_MANAGER = "부서관리자"
ROLE_AUDITOR = "감사자"

_GRADE_NUMBER = re.compile(r"(\d{1,2})\s*급")
#: Grade titles of the 일반직 (행정, 기술...) series, longest first where one holds another
#: (부이사관 / 이사관, 주사보 / 주사, 서기관 / 서기보 / 서기).
_GRADE_TITLES = (
    ("관리관", 1),
    ("부이사관", 3),
    ("이사관", 2),
    ("서기관", 4),
    ("사무관", 5),
    ("주사보", 7),
    ("주사", 6),
    ("서기보", 9),
    ("서기", 8),
)


def grade_number(text: str | None) -> int | None:
    """The grade (1-9) a 직급 names: ``"5급"``, ``"행정6급"``, ``"지방행정사무관"`` (5),
    ``"지방시설주사보"`` (7); None when it names none (``"주무관"``, ``"팀장"``)."""
    if not text:
        return None
    name = normalise(text)
    m = _GRADE_NUMBER.search(name)
    if m is not None:
        return int(m.group(1))
    for title, grade in _GRADE_TITLES:
        if title in name:
            return grade
    return None


class _Official(Protocol):
    """What a role is derived from (an :class:`naebu.alerts.directory.Official`)."""

    @property
    def employee_id(self) -> str: ...
    @property
    def department(self) -> str | None: ...
    @property
    def position(self) -> str | None: ...
    @property
    def grade(self) -> str | None: ...
    @property
    def role(self) -> str | None: ...


T = TypeVar("T", bound=Any)


def _fits(match: RoleMatch, o: _Official, heads: frozenset[str]) -> bool:
    if match.heads and o.employee_id in heads:
        return True
    if any(p.matches(o.position) for p in match.position):
        return True
    if any(p.matches(o.department) for p in match.department):
        return True
    if match.grade:
        grade = grade_number(o.grade) or grade_number(o.position)
        return any(g.matches(grade) for g in match.grade)
    return False


def derived_role(o: _Official, rules: RoleRules, heads: frozenset[str] = frozenset()) -> str:
    """The role of ``o`` by the order in the module doc (its own role when it has one)."""
    if o.role:
        return o.role
    listed = rules.listed(o.employee_id)
    if listed is not None:
        return listed
    if _fits(rules.managers, o, heads):
        return ROLE_MANAGER
    if _fits(rules.auditors, o, heads=frozenset()):
        return ROLE_AUDITOR
    return ROLE_OFFICIAL


def derive_roles(
    officials: Iterable[T], rules: RoleRules | None, heads: Mapping[str, str] | None = None
) -> list[T]:
    """``officials`` with their empty roles derived (the order in the module doc).

    ``heads`` maps a department to the employee id of its head (``departments.head_id``).
    Without ``rules`` the officials come back unchanged.
    """
    people = list(officials)
    if rules is None:
        return people
    head_ids = frozenset((heads or {}).values())
    out = []
    for o in people:
        role = derived_role(o, rules, head_ids)
        if role != o.role:
            o = dataclasses.replace(o, role=role)
        out.append(o)
    return out
