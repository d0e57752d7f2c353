"""The department manager's approval (승인), the middle of the three steps 조치 -> 승인 -> 확인.

With ``[workflow] approval`` (the default, :mod:`naebu.alerts.workflow_settings`) an official's
answer (조치 완료, 소명, 오탐) waits for a 부서관리자 of the alert's department, who approves it
(``approve``: on to the audit office's review) or returns it with a reason (``return``: back to
the official, with a new deadline as after the audit office's rejection). The audit office
reviews only approved answers. Who may do what is decided here; :func:`naebu.alerts.lifecycle.act`
applies it and writes the trail.

An answer goes on without waiting when nobody else could approve it:

- the answer was recorded by a 부서관리자 of the alert's department (the head answered, so
  the head approved): an ``approve`` entry by the same manager follows the answer;
- the department has no active manager who did not answer the alert: an ``approve`` entry
  by the system follows, saying so (``details.auto``), so the alert is not stuck.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from naebu.alerts.directory import Directory, Official
from naebu.alerts.trail import SYSTEM

#: ``details.auto`` of an approval taken without waiting, and what it means.
AUTO_REASONS = {
    "manager_answered": ("부서관리자 본인 조치", "answered by the department manager"),
    "no_manager": ("승인할 부서관리자 없음", "no department manager to approve"),
}


def approval_check(
    alert: Any, actor: Official, directory: Directory, answered_by: Set[str], *, enabled: bool
) -> tuple[str, str] | None:
    """Why ``actor`` may not approve or return the answer on ``alert`` (Korean, English), or
    None when they may."""
    n = alert.id
    if not enabled:
        return (
            "이 기관은 부서관리자 승인 단계를 쓰지 않습니다 ([workflow] approval = false)",
            "this city has no approval step ([workflow] approval = false)",
        )
    if not directory.is_manager_of(actor, alert.department):
        return (
            f"경보 #{n}의 처리 결과는 해당 부서({alert.department or '-'})의 부서관리자만 "
            "승인하거나 반려할 수 있습니다",
            f"only a manager of {alert.department or '-'} may approve or return the answer "
            f"on alert #{n}",
        )
    if actor.employee_id in answered_by:
        return (
            f"자신이 처리한 경보 #{n}은(는) 승인할 수 없습니다",
            f"nobody approves their own answer: {actor.employee_id} answered alert #{n}",
        )
    return None


def approval_skipped(
    actor: Official, department: str | None, directory: Directory, answered_by: Set[str]
) -> tuple[str, str] | None:
    """``(approver, reason)`` when the answer ``actor`` is recording needs nobody's approval
    (see the module doc), else None: it waits for a manager."""
    if directory.is_manager_of(actor, department):
        return actor.employee_id, "manager_answered"
    others = [
        m
        for m in directory.managers(department)
        if m.employee_id not in answered_by and m.employee_id != actor.employee_id
    ]
    if not others:
        return SYSTEM, "no_manager"
    return None
