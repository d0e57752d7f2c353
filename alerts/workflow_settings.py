"""The ``[workflow]`` section: which steps an answer to an alert goes through.

::

    [workflow]
    approval = true   # the default: 조치 (official) -> 승인 (부서관리자) -> 확인 (감사자)
    # approval = false  # the answer goes straight to the audit office's review

With ``approval`` the department manager of the alert's department approves the official's
answer (or returns it with a reason) before the audit office sees it in its review queue
(:mod:`naebu.alerts.approval`). A city whose managers do not take part turns it off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naebu.core.problems import Problem, did_you_mean

KEYS = ("approval",)


@dataclass(frozen=True)
class WorkflowConfig:
    """``[workflow]``, checked: whether answers need the department manager's approval."""

    approval: bool = True


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
    return WorkflowConfig(approval=approval)
