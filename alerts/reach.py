"""Whom alerts can reach: warnings for ``naebu check`` and ``naebu status``.

청백-e sends an alert to the official in charge, the department's manager (부서관리자) and,
when it is serious, the audit office (감사자). A directory without roles, or with a department
nobody manages, quietly drops the last two: the alert then reaches only the official - who may
be the very person the alert is about. That is a control failure, not a routing detail, so it
is reported before the first alert goes out.

:func:`reach_warnings` reads a built :class:`~naebu.alerts.directory.Directory` and the rules; it
returns plain lines (no prefix), most serious first. The commands check the directory the
pipeline routes with (:func:`naebu.alerts.officials.directory_from_history`): see
:mod:`naebu.commands.reach_check`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from naebu.alerts.directory import Directory, Official
from naebu.alerts.routing_settings import RoutingConfig

if TYPE_CHECKING:
    from naebu.engine.rule import RuleMeta

#: Severities whose alerts must reach someone besides their official.
SERIOUS = ("critical", "high")
#: How a control-failure warning starts (``naebu check --strict`` may refuse on these).
CONTROL_FAILURE = "control failure: "
#: Names listed in one warning before "and N more".
SHOWN = 5

_HINT_MANAGERS = (
    "give the directory a role column, or derive it: [routing.roles] managers = "
    '{ position = ["과장"] } (docs/alerts.md)'
)
_HINT_AUDITORS = (
    '[routing.roles] auditors = { department = ["감사담당관"] } or a list of employee ids '
    "(docs/alerts.md)"
)


def _some(names: Sequence[str], shown: int = SHOWN) -> str:
    """``A, B, C`` or ``A, B, C and 4 more``."""
    head = ", ".join(names[:shown])
    return head if len(names) <= shown else f"{head} and {len(names) - shown} more"


def _targets(meta: RuleMeta, routing: RoutingConfig) -> tuple[str, ...]:
    """Who a rule's alerts are sent to when raised (its ``notify``, else the severity's)."""
    return tuple(meta.notify) or routing.notify_for(meta.severity)


def reach_warnings(
    directory: Directory, rules: Iterable[RuleMeta], routing: RoutingConfig
) -> list[str]:
    """Where alerts of ``rules`` could reach no manager or no audit office, as plain lines.

    - a critical or high rule whose alert could reach only its official (the control
      failure): it notifies neither manager nor audit office, or, where it counts on them,
      the department has no 부서관리자 and there is no 감사자;
    - departments with active officials but no active 부서관리자, when some rule notifies
      ``manager``;
    - no active 감사자 at all (of ``[routing] audit_department`` when set);
    - departments that belong to no audit office's organisation (the department tree);
    - ``[routing.roles]`` naming people or heads the directory does not have.
    """
    metas = [m for m in rules if m.enabled]
    departments = sorted({o.department for o in directory if o.active and o.department})
    office = directory.audit_office(None)
    unmanaged = [d for d in departments if not directory.managers(d)]
    out = _control_failures(metas, routing, unmanaged, bool(office))
    if unmanaged and any("manager" in _targets(m, routing) for m in metas):
        out.append(
            f"{len(unmanaged)} of {len(departments)} department(s) with officials have no "
            f"active 부서관리자, so their alerts reach no manager: {_some(unmanaged)} - "
            + _HINT_MANAGERS
        )
    if not office:
        where = f" in {routing.audit_department}" if routing.audit_department else ""
        audit = [m.id for m in metas if "audit" in _targets(m, routing)]
        told = f"; {len(audit)} rule(s) notify the audit office ({_some(audit)})" if audit else ""
        out.append(
            f"no active 감사자{where}: alerts reach no audit office and nobody can review "
            f"answers{told} - " + _HINT_AUDITORS
        )
    else:
        out += _uncovered(directory, departments, office)
    out += _roles_config(directory, routing)
    return out


def _control_failures(
    metas: list[RuleMeta], routing: RoutingConfig, unmanaged: list[str], auditors: bool
) -> list[str]:
    """The serious rules whose alerts could reach only their official, grouped by why."""
    alone: list[str] = []  # notify = ["official"]
    no_audit: list[str] = []  # a manager's own record reaches only the manager
    everywhere: list[str] = []  # counts on the audit office alone, and there is none
    unmanaged_only: list[str] = []  # counts on the audit office, none; and on absent managers
    for m in metas:
        if m.severity not in SERIOUS:
            continue
        targets = _targets(m, routing)
        manager, audit = "manager" in targets, "audit" in targets
        if not manager and not audit:
            alone.append(f"{m.id} ({m.severity})")
        elif not audit:
            no_audit.append(f"{m.id} ({m.severity})")
        elif not auditors and not manager:
            everywhere.append(m.id)
        elif not auditors and unmanaged:
            unmanaged_only.append(m.id)
    out = []
    if alone:
        out.append(
            CONTROL_FAILURE + f"{len(alone)} critical/high rule(s) notify only the official, "
            f"who may be the subject of the alert: {_some(alone)} - "
            'notify = ["official", "manager", "audit"] (or drop notify for the default)'
        )
    if no_audit:
        also = (
            f", and in {_some(unmanaged)} (no 부서관리자) every alert reaches only its official"
            if unmanaged
            else ""
        )
        out.append(
            CONTROL_FAILURE + f"{len(no_audit)} critical/high rule(s) do not notify the audit "
            f"office, so an alert on a 부서관리자's own record reaches only them{also}: "
            f'{_some(no_audit)} - add "audit" to notify'
        )
    if everywhere:
        out.append(
            CONTROL_FAILURE + f"there is no 감사자 and {len(everywhere)} critical/high rule(s) "
            f"notify no manager, so their alerts reach only the official who may be their "
            f"subject: {_some(everywhere)} - " + _HINT_AUDITORS
        )
    if unmanaged_only:
        out.append(
            CONTROL_FAILURE + f"there is no 감사자, so in {len(unmanaged)} department(s) "
            f"without a 부서관리자 ({_some(unmanaged)}) the alerts of {len(unmanaged_only)} "
            f"critical/high rule(s) reach only the official who may be their subject "
            f"({_some(unmanaged_only)}) - " + _HINT_AUDITORS
        )
    return out


def _uncovered(directory: Directory, departments: list[str], office: list[Official]) -> list[str]:
    """Departments the tree places in no auditor's organisation (told to others instead)."""
    chart = directory.orgchart
    if not chart:
        return []
    scopes = {directory.audit_scope(o) for o in office}
    if scopes == {None}:
        return []  # the tree places no auditor: every one is told of everything, as before
    uncovered = []
    for d in departments:
        line = chart.line(d)
        if line is not None and not scopes & line:
            uncovered.append(d)
    if not uncovered:
        return []
    told = (
        "the auditors of unknown scope" if None in scopes else "every auditor of every organisation"
    )
    return [
        f"{len(uncovered)} department(s) belong to no audit office's organisation, so their "
        f"alerts go to {told}: {_some(uncovered)} - put each organisation's audit office "
        "directly under its head (departments.parent), or derive its 감사자 "
        "(docs/alerts.md, Which audit office)"
    ]


def _roles_config(directory: Directory, routing: RoutingConfig) -> list[str]:
    """``[routing.roles]`` pointing at people or department heads the directory lacks."""
    roles = routing.roles
    if roles is None:
        return []
    out = []
    for key in ("managers", "auditors", "officials"):
        missing = sorted(e for e in getattr(roles, key).employees if e not in directory)
        if missing:
            out.append(
                f"routing.roles.{key}.employees: not in the directory: {_some(missing)} "
                "(a typo, or someone who left)"
            )
    if roles.managers.heads:
        heads = directory.orgchart.heads
        if not heads:
            out.append(
                "routing.roles.managers.heads = true, but the departments data gives no "
                "head_id: map it in the departments source (부서장 사번)"
            )
        for department, head_id in sorted(heads.items()):
            head = directory.get(head_id)
            if head is None:
                out.append(
                    f"departments: head_id {head_id} of {department} is not in the directory"
                )
            elif head.department != department:
                out.append(
                    f"departments: the head of {department} ({head_id}) is listed in "
                    f"{head.department or 'no department'}, and manages that department's alerts"
                )
    return out
