"""The ``[workflow]`` section: which steps an answer to an alert goes through.

::

    [workflow]
    approval = true   # the default: 조치 (official) -> 승인 (부서관리자) -> 확인 (감사자)
    # approval = false  # the answer goes straight to the audit office's review
    approval_remind_after_days = 2    # remind the managers of an answer still not approved
    approval_escalate_after_days = 5  # then report it to the audit office

With ``approval`` the department manager of the alert's department approves the official's
answer (or returns it with a reason) before the audit office sees it in its review queue
(:mod:`naebu.alerts.approval`). A city whose managers do not take part turns it off.

An answer the managers leave waiting is followed up like an official's deadline
(:mod:`naebu.alerts.escalation`): ``approval_remind_after_days`` business days after the answer
the managers are reminded, ``approval_escalate_after_days`` business days after it the audit
office is told. 0 turns either off; with both on, the escalation comes after the reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naebu.core.problems import Problem, did_you_mean

KEYS = ("approval", "approval_remind_after_days", "approval_escalate_after_days")
#: The business-day settings, in the order they are checked.
DAY_KEYS = ("approval_remind_after_days", "approval_escalate_after_days")


@dataclass(frozen=True)
class WorkflowConfig:
    """``[workflow]``, checked: whether answers need the department manager's approval, and
    when an answer left waiting for it is followed up (business days after the answer; 0:
    never)."""

    approval: bool = True
    approval_remind_after_days: int = 2
    approval_escalate_after_days: int = 5


def parse_workflow(raw: dict[str, Any], problems: list[Problem], file: str) -> WorkflowConfig:
    """``[workflow]`` as read from the config at ``file``; every mistake is added to
    ``problems`` (the setting then keeps its default)."""
    for key in raw:
        if key not in KEYS:
            hint = did_you_mean(key, KEYS) or "keys: " + ", ".join(KEYS)
            problems.append(Problem(file, "unknown key", key=f"workflow.{key}", hint=hint))
    approval = raw.get("approval", True)
    if not isinstance(approval, bool):
        problems.append(
            Problem(
                file,
                f"must be true or false, not {approval!r}",
                key="workflow.approval",
                hint="approval = true",
            )
        )
        approval = True
    days: dict[str, int] = {}
    for key in DAY_KEYS:
        value = raw.get(key, getattr(WorkflowConfig, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(
                Problem(
                    file,
                    f"must be a whole number of business days (0 or more), not {value!r}",
                    key=f"workflow.{key}",
                    hint=f"{key} = {getattr(WorkflowConfig, key)}",
                )
            )
            value = getattr(WorkflowConfig, key)
        days[key] = value
    remind, escalate = days["approval_remind_after_days"], days["approval_escalate_after_days"]
    if remind and escalate and escalate <= remind:
        # Reminding after escalating tells no one more: reported where it was set, the
        # escalation's key first (both then keep their defaults).
        key = DAY_KEYS[1] if DAY_KEYS[1] in raw else DAY_KEYS[0]
        problems.append(
            Problem(
                file,
                f"approval_escalate_after_days ({escalate}) must be more than "
                f"approval_remind_after_days ({remind})",
                key=f"workflow.{key}",
                hint="e.g. approval_remind_after_days = 2, approval_escalate_after_days = 5",
            )
        )
        days = {k: getattr(WorkflowConfig, k) for k in DAY_KEYS}
    return WorkflowConfig(approval=approval, **days)
