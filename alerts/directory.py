"""The officials directory: who an alert goes to.

Built from the canonical ``employees`` dataset (the 담당자 명부). Routing follows what a
department expects in practice: the official named on the record handles it; if that
official has left or is on long leave, their supervisor does (up the chain until someone is
active); a record without a known official goes to the department's 담당자, else its
부서관리자. When nothing fits, the alert is still stored, unassigned, and reported.

Besides the assignee, an alert may be sent to the department's managers (부서관리자) and to
the audit office (the active 감사자, of ``routing.audit_department`` when set): see
:meth:`Directory.recipients`. When one naebu serves several organisations (a province's
시·군 in one directory), the department tree (:class:`~naebu.alerts.orgchart.OrgChart`, from the
``departments`` dataset) keeps each audit office to its own organisation's alerts: see
:meth:`Directory.audit_office`. A directory built with a :class:`RoutingConfig` applies the
configured ``[routing]``; one built without it tells the assignee only (the behaviour before
routing existed, kept for callers that have not passed the config yet). With
``[routing.roles]`` the directory derives the roles its export leaves empty
(:mod:`naebu.alerts.roles`); a role the data gives always wins.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from naebu.alerts.orgchart import OrgChart
from naebu.alerts.roles import ROLE_AUDITOR, ROLE_MANAGER, ROLE_OFFICIAL, derive_roles
from naebu.alerts.routing_settings import RoutingConfig

log = logging.getLogger(__name__)

#: Placeholders a channel URL may hold, filled from the official's record.
ADDRESS_FIELDS = ("email", "employee_id", "name", "notify_url")

#: The roles of the ``employees.role`` column (담당자 명부의 경보 역할), from naebu.alerts.roles.
__all__ = ["ROLE_AUDITOR", "ROLE_MANAGER", "ROLE_OFFICIAL", "Directory", "Official"]


@dataclass(frozen=True)
class Official:
    """One official of the directory (a row of ``employees``)."""

    employee_id: str
    name: str = ""
    department: str | None = None
    position: str | None = None
    role: str | None = None
    supervisor_id: str | None = None
    email: str | None = None
    notify_url: str | None = None
    active: bool = True
    #: The grade (직급), read by ``[routing.roles]`` only; not kept in the stored copy,
    #: which holds the role derived from it.
    grade: str | None = None

    @property
    def display_name(self) -> str:
        """Name with position, as officials are addressed (``김민수 주무관``)."""
        parts = [p for p in (self.name, self.position) if p]
        return " ".join(parts) or self.employee_id

    def address(self, field: str) -> str:
        """The value a channel URL placeholder ``{field}`` is filled with ("" when unknown)."""
        if field not in ADDRESS_FIELDS:
            raise KeyError(field)
        value = getattr(self, field)
        return "" if value is None else str(value)


def _text(value: Any) -> str | None:
    """A directory cell as stripped text, None for missing or blank values."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # list-like cells: not a scalar NA
        pass
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool:
    """The ``active`` cell: a missing value counts as active (the directory did not say)."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is None:
        return True
    if hasattr(value, "item") and not isinstance(value, str):  # numpy bool_ and friends
        return bool(value.item())
    return text.lower() not in ("false", "0", "n", "no", "f", "아니오", "퇴직", "휴직")


#: The employees columns a directory is built from (an :class:`Official`'s fields).
OFFICIAL_FIELDS = (
    "employee_id",
    "name",
    "department",
    "position",
    "role",
    "supervisor_id",
    "email",
    "notify_url",
    "active",
)


class Directory:
    """The officials, by employee id, with the routing rules.

    ``fallback_roles`` is the order of roles tried in a department when the record names
    no usable official (``RoutingConfig.fallback_roles``). ``departments`` is the department
    tree (an :class:`~naebu.alerts.orgchart.OrgChart`, a ``{department: parent}`` mapping or a
    ``departments`` frame); without it every audit office is told of every alert, as before
    the tree was used. A directory is not changed once built (a new directory export makes a
    new one): who manages a department and who is in the audit office are worked out on
    first use and kept.
    """

    def __init__(
        self,
        officials: Iterable[Official],
        fallback_roles: Iterable[str] | None = None,
        routing: RoutingConfig | None = None,
        departments: OrgChart | Mapping[str, str | None] | pd.DataFrame | None = None,
    ) -> None:
        #: The ``[routing]`` config; None: notify the assignee only (see the module doc).
        self.routing = routing
        #: The department tree: which audit office oversees which department.
        self.orgchart = OrgChart.of(departments)
        if routing is not None and routing.roles is not None:
            # An HR export without roles: derived from the config (an explicit role wins).
            officials = derive_roles(officials, routing.roles, self.orgchart.heads)
        if fallback_roles is None:
            fallback_roles = (routing or RoutingConfig()).fallback_roles
        self._by_id: dict[str, Official] = {}
        for o in officials:
            if o.employee_id in self._by_id:
                # A directory export with a repeated row: the later row wins, like an update.
                log.warning("officials directory: employee_id %s appears twice", o.employee_id)
            self._by_id[o.employee_id] = o
        self.fallback_roles = tuple(fallback_roles)
        # In employee-id order, so iteration and the fallback choice are stable.
        self._ordered = tuple(sorted(self._by_id.values(), key=lambda o: o.employee_id))
        self._by_department: dict[str, list[Official]] = {}
        for o in self._ordered:
            if o.department is not None:
                self._by_department.setdefault(o.department, []).append(o)
        # Who is told, worked out once: a province run asks for the audit office and a
        # department's managers once per alert (tens of thousands of times). The officials do
        # not change once the directory is built; the audit office is kept per
        # ``audit_department``, so a routing set later is still honoured.
        self._managers: dict[str, tuple[Official, ...]] = {}
        self._audit_office: dict[str | None, tuple[Official, ...]] = {}
        # ... and per (audit_department, alert department): the office narrowed to the
        # auditors whose organisation the department belongs to.
        self._audit_scoped: dict[tuple[str | None, str], tuple[Official, ...]] = {}

    @classmethod
    def from_frame(
        cls,
        employees: pd.DataFrame,
        fallback_roles: Iterable[str] | None = None,
        routing: RoutingConfig | None = None,
        departments: OrgChart | Mapping[str, str | None] | pd.DataFrame | None = None,
    ) -> Directory:
        """Build the directory from an ``employees`` frame (canonical column names).

        Only ``employee_id`` is required; other columns may be missing. Rows without an
        employee id are skipped. ``departments``: the department tree (see the class).
        """
        if "employee_id" not in employees.columns:
            raise ValueError("employees frame has no employee_id column")
        officials = []
        # Only the columns read below: the others (dates above all) cost more to turn into
        # Python objects than the whole directory is worth.
        wanted = [c for c in (*OFFICIAL_FIELDS, "grade") if c in employees.columns]
        for row in employees[wanted].to_dict("records"):
            eid = _text(row.get("employee_id"))
            if eid is None:
                continue
            officials.append(
                Official(
                    employee_id=eid,
                    name=_text(row.get("name")) or "",
                    department=_text(row.get("department")),
                    position=_text(row.get("position")),
                    role=_text(row.get("role")),
                    supervisor_id=_text(row.get("supervisor_id")),
                    email=_text(row.get("email")),
                    notify_url=_text(row.get("notify_url")),
                    active=_flag(row.get("active")),
                    grade=_text(row.get("grade")),
                )
            )
        return cls(officials, fallback_roles, routing, departments)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, employee_id: object) -> bool:
        return employee_id in self._by_id

    def __iter__(self) -> Iterator[Official]:
        return iter(self._ordered)

    def get(self, employee_id: str | None) -> Official | None:
        """The official with this id, active or not; None when unknown."""
        if employee_id is None:
            return None
        return self._by_id.get(str(employee_id).strip())

    @property
    def by_id(self) -> Mapping[str, Official]:
        """All officials by employee id (read-only view)."""
        return self._by_id

    def assignee_for(self, department: str | None, official_id: str | None) -> Official | None:
        """The official an alert on a record of ``department`` handled by ``official_id`` goes to.

        1. the record's official, when in the directory and active;
        2. an inactive official's nearest active supervisor (following the chain);
        3. the department's first active official of each ``fallback_roles`` role in turn
           (담당자, then 부서관리자), in employee-id order so the choice is stable;
        4. None: the caller stores the alert unassigned and reports it.
        """
        official = self.get(official_id)
        if official is not None:
            if official.active:
                return official
            supervisor = self._active_supervisor(official)
            if supervisor is not None:
                return supervisor
        dept = _text(department) or (official.department if official else None)
        if dept is None:
            return None
        return self.department_contact(dept)

    def department_contact(self, department: str) -> Official | None:
        """The first active official of ``department`` by fallback role, or None."""
        members = [o for o in self._by_department.get(department, ()) if o.active]
        for role in self.fallback_roles:
            for o in members:
                if o.role == role:
                    return o
        return None

    def resolve(self, employee_id: str | None) -> Official | None:
        """The official who acts for ``employee_id`` now: themselves when active, else their
        nearest active supervisor; None when unknown or nobody up the chain is active."""
        official = self.get(employee_id)
        if official is None:
            return None
        return official if official.active else self._active_supervisor(official)

    def managers(self, department: str | None) -> list[Official]:
        """The department's active 부서관리자 (an inactive one stands for their supervisor)."""
        key = department or ""
        cached = self._managers.get(key)
        if cached is None:
            found: dict[str, Official] = {}
            for o in self._by_department.get(key, ()):
                if o.role != ROLE_MANAGER:
                    continue
                acting = o if o.active else self._active_supervisor(o)
                if acting is not None:
                    found.setdefault(acting.employee_id, acting)
            cached = self._managers[key] = tuple(found.values())
        return list(cached)

    def is_manager_of(self, official: Official, department: str | None) -> bool:
        """True when ``official`` is an active 부서관리자 of ``department``."""
        return (
            official.active
            and official.role == ROLE_MANAGER
            and department is not None
            and official.department == department
        )

    @staticmethod
    def is_auditor(official: Official) -> bool:
        """True when ``official`` is an active 감사자 (may review alerts)."""
        return official.active and official.role == ROLE_AUDITOR

    def audit_office(self, department: str | None = None) -> list[Official]:
        """The active 감사자 told about an alert of ``department``, in employee-id order.

        With ``routing.audit_department`` set, only the 감사자 of that department. An
        auditor oversees their own organisation: every department under the parent of the
        auditor's department (:meth:`audit_scope`). The alert goes to the auditors whose
        scope holds its department; when none does, to the auditors of no known scope; when
        there are none either, to all. ``department`` None (a notice about no one
        department: a suppression, a rule change), no department tree, or a department the
        tree does not know (or whose parents loop): all, as before the tree was used.
        """
        audit_department = self.routing.audit_department if self.routing else None
        return list(self._scoped(audit_department, department))

    def audit_scope(self, official: Official) -> str | None:
        """The top of what auditor ``official`` oversees: the parent of their department
        (``가람시 감사담당관`` -> ``가람시 부시장``); None when the tree does not know it."""
        return self.orgchart.parent(official.department)

    def oversees(self, official: Official, department: str | None) -> bool:
        """True when ``official`` is an active 감사자 who may see an alert of ``department``:
        one the audit office would be told of, ``routing.audit_department`` aside (the web
        inbox shows each auditor what their organisation's audit office hears of)."""
        return self.is_auditor(official) and official in self._scoped(None, department)

    def outside_scope(self, official: Official) -> frozenset[str]:
        """The departments of the tree whose alerts ``official`` may not see (:meth:`oversees`):
        the other organisations' (a query's exclusion list)."""
        return frozenset(d for d in self.orgchart if not self.oversees(official, d))

    def _office(self, audit_department: str | None) -> tuple[Official, ...]:
        """Every active 감사자 (of ``audit_department`` when given), in employee-id order."""
        cached = self._audit_office.get(audit_department)
        if cached is None:
            cached = self._audit_office[audit_department] = tuple(
                o
                for o in self._ordered
                if self.is_auditor(o)
                and (audit_department is None or o.department == audit_department)
            )
        return cached

    def _scoped(self, audit_department: str | None, department: str | None) -> tuple[Official, ...]:
        """The auditors (of ``audit_department`` when given) told about an alert of
        ``department`` (:meth:`audit_office`), worked out once per pair."""
        office = self._office(audit_department)
        if department is None or not self.orgchart:
            return office
        key = (audit_department, department)
        cached = self._audit_scoped.get(key)
        if cached is None:
            cached = self._audit_scoped[key] = self._in_scope(office, department)
        return cached

    def _in_scope(self, office: tuple[Official, ...], department: str) -> tuple[Official, ...]:
        """The auditors of ``office`` told about an alert of ``department`` (see
        :meth:`audit_office`): never nobody while the office has someone."""
        line = self.orgchart.line(department)
        if line is None:
            return office
        scoped = tuple(o for o in office if self.audit_scope(o) in line)
        if scoped:
            return scoped
        # Nobody's organisation holds it (an auditor placed under a bureau, not the head):
        # those whose scope the tree cannot tell, else everyone, rather than nobody.
        unscoped = tuple(o for o in office if self.audit_scope(o) is None)
        return unscoped or office

    def notify_targets(self, severity: str, rule_targets: Iterable[str] = ()) -> tuple[str, ...]:
        """Who is told when an alert is raised: the rule's ``notify``, else the severity's
        ``[routing.notify]`` entry; only the official without a routing config."""
        if self.routing is None:
            return ("official",)
        return tuple(rule_targets) or self.routing.notify_for(severity)

    def recipients(
        self, targets: Iterable[str], assignee_id: str | None, department: str | None
    ) -> dict[str, list[str]]:
        """Employee id -> the targets they are told as, for one alert.

        ``official`` is the assignee (or whoever acts for them now, :meth:`resolve`),
        ``manager`` the department's :meth:`managers`, ``audit`` the :meth:`audit_office`
        of the department.
        Someone who is both (a manager assigned their own alert) is told once.
        """
        out: dict[str, list[str]] = {}
        for target in targets:
            if target == "official":
                people = [p for p in (self.resolve(assignee_id),) if p is not None]
            elif target == "manager":
                people = self.managers(department)
            elif target == "audit":
                people = self.audit_office(department)
            else:
                raise ValueError(f"unknown notify target {target!r}")
            for p in people:
                told = out.get(p.employee_id)
                if told is None:
                    out[p.employee_id] = [target]
                elif target not in told:
                    told.append(target)
        return out

    def _active_supervisor(self, official: Official) -> Official | None:
        seen = {official.employee_id}
        current = official
        while current.supervisor_id is not None:
            nxt = self.get(current.supervisor_id)
            if nxt is None or nxt.employee_id in seen:
                # Unknown supervisor or a loop in the directory: stop, fall back to the department.
                return None
            if nxt.active:
                return nxt
            seen.add(nxt.employee_id)
            current = nxt
        return None
