"""Who sees what in the web inbox, and which buttons an alert page offers.

- a 담당자 (official) sees the alerts assigned to them;
- a 부서관리자 (department manager) sees every alert of their department;
- a 감사자 (auditor) sees every alert of their own organisation: the departments whose
  alerts their audit office is told of (:meth:`naebu.alerts.directory.Directory.oversees`; every
  department when there is no department tree, or the tree cannot tell);
- compliance staff who are not auditors (listed in ``[web] compliance``) see everything.

Compliance staff (준법감시 담당) are the active 감사자 of ``[routing] audit_department`` (of
any department when it is unset) and the employees listed in ``[web] compliance``; only they
manage suppressions here (the suppression rules of :mod:`naebu.alerts.suppressions` still apply).

Offering a button is a courtesy: every step goes through :func:`naebu.alerts.lifecycle.act`, which
decides again and refuses with its own message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from naebu.alerts.directory import Directory, Official
from naebu.alerts.lifecycle import ACTIONS, ANSWERED
from naebu.store.tables import alerts


@dataclass(frozen=True)
class Viewer:
    """The signed-in official and what they may see."""

    official: Official
    directory: Directory
    compliance: bool

    @property
    def employee_id(self) -> str:
        """The official's employee id."""
        return self.official.employee_id

    @property
    def is_auditor(self) -> bool:
        """An active 감사자."""
        return Directory.is_auditor(self.official)

    @property
    def is_manager(self) -> bool:
        """An active 부서관리자 of their department."""
        return self.directory.is_manager_of(self.official, self.official.department)

    @property
    def sees_all(self) -> bool:
        """Auditors and compliance staff see across departments (an auditor: but for
        :attr:`hidden_departments`)."""
        return self.is_auditor or self.compliance

    @cached_property
    def hidden_departments(self) -> frozenset[str]:
        """Departments of other organisations, whose alerts this auditor may not see; none
        for everyone else (who see their own alerts, or everything as compliance staff)."""
        if not self.is_auditor:
            return frozenset()
        return self.directory.outside_scope(self.official)

    def visible(self, departments: Iterable[str]) -> list[str]:
        """``departments`` without the :attr:`hidden_departments` (a filter's choices)."""
        return [d for d in departments if d not in self.hidden_departments]

    def alert_filter(self) -> ColumnElement[bool]:
        """The SQL condition selecting the alerts this viewer may see."""
        if self.sees_all:
            hidden = self.hidden_departments
            if not hidden:
                return true()
            # An alert without a department, or of one the tree does not know, is every
            # auditor's (as it is told to every auditor).
            column = alerts.c.department
            return or_(column.is_(None), column.not_in(sorted(hidden)))
        if self.is_manager:
            if not self.official.department:
                return false()
            return alerts.c.department == self.official.department
        return and_(alerts.c.assignee == self.employee_id)

    def may_see(self, alert: Mapping[str, Any]) -> bool:
        """True when the alert row is visible to this viewer (the alert page's 403)."""
        if self.sees_all:
            return alert["department"] not in self.hidden_departments
        if self.is_manager:
            return (
                bool(self.official.department) and alert["department"] == self.official.department
            )
        return bool(alert["assignee"]) and alert["assignee"] == self.employee_id

    def may_see_department(self, department: str | None) -> bool:
        """The scorecard: everyone sees their own department; compliance staff all, auditors
        all of their organisation's."""
        if self.sees_all:
            return department not in self.hidden_departments
        return department is not None and department == self.official.department

    def actions_for(
        self, alert: Mapping[str, Any], answered_by: set[str], approval: bool = True
    ) -> list[str]:
        """The lifecycle steps this viewer may take on ``alert`` now (the page's buttons);
        ``approval``: the city has the department manager's approval step."""
        out = []
        mine = alert["assignee"] == self.employee_id
        manager = self.directory.is_manager_of(self.official, alert["department"])
        for spec in ACTIONS.values():
            if alert["status"] not in spec.from_statuses:
                continue
            if spec.who == "handler":
                ok = mine or manager
            elif spec.who == "approver":
                ok = approval and manager and self.employee_id not in answered_by
            elif spec.who == "auditor":
                ok = self.is_auditor and not mine and self.employee_id not in answered_by
                # With the approval step the audit office reviews approved answers only.
                ok = ok and not (approval and alert["status"] in ANSWERED)
            else:
                ok = self.is_auditor or self.directory.is_manager_of(
                    self.official, alert["department"]
                )
            if ok:
                out.append(spec.name)
        return out

    def reassign_targets(self, department: str | None) -> list[Official]:
        """Who this viewer may hand an alert of ``department`` to: a manager within the
        department, an auditor anyone of their organisation."""
        hidden = self.hidden_departments
        return [
            o
            for o in self.directory
            if o.active
            and ((self.is_auditor and o.department not in hidden) or o.department == department)
        ]


def compliance_staff(directory: Directory, listed: tuple[str, ...]) -> set[str]:
    """The employee ids of compliance staff (see the module docstring)."""
    department = directory.routing.audit_department if directory.routing else None
    staff = {
        o.employee_id
        for o in directory
        if Directory.is_auditor(o) and (department is None or o.department == department)
    }
    return staff | {e for e in listed if (o := directory.get(e)) is not None and o.active}
