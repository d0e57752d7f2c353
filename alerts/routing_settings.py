"""``[routing]``: how an alert finds its officials, who is told at which severity, and
when reminders and escalations go out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from naebu.alerts.role_settings import RoleRules, parse_roles
from naebu.core import datasets
from naebu.core.problems import Problem, did_you_mean
from naebu.engine.rule import NOTIFY_TARGETS, SEVERITIES


def _default_notify() -> dict[str, tuple[str, ...]]:
    # 청백-e: the official and the department manager at once; the audit office too when
    # the alert is serious.
    return {
        "low": ("official", "manager"),
        "medium": ("official", "manager"),
        "high": ("official", "manager", "audit"),
        "critical": ("official", "manager", "audit"),
    }


@dataclass
class RoutingConfig:
    """How an alert finds its officials, and when reminders and escalations go out.

    ``notify`` maps a severity to who is told when an alert is raised (a rule's own
    ``notify`` key wins). The audit office of an alert is the 감사자 of its organisation
    (from the ``departments`` tree: :meth:`naebu.alerts.directory.Directory.audit_office`);
    ``audit_department``, when set, limits it further to the 감사자 of that department. ``remind_before_days`` business days
    before a deadline the official is reminded (0: never); once overdue the department
    manager is told, and ``escalate_audit_after_days`` business days later the audit office.
    """

    directory: str = "employees"
    fallback_roles: tuple[str, ...] = ("담당자", "부서관리자")
    notify: dict[str, tuple[str, ...]] = field(default_factory=_default_notify)
    audit_department: str | None = None
    remind_before_days: int = 2
    escalate_audit_after_days: int = 3
    #: ``[routing.roles]``: roles derived for officials the directory gives none
    #: (naebu.alerts.role_settings); None: the directory's ``role`` column only.
    roles: RoleRules | None = None

    def notify_for(self, severity: str) -> tuple[str, ...]:
        """Who is told at raise time about an alert of ``severity`` (by default)."""
        return self.notify.get(severity, ("official", "manager"))


ROUTING_KEYS = (
    "directory",
    "fallback_roles",
    "notify",
    "audit_department",
    "remind_before_days",
    "escalate_audit_after_days",
    "roles",
)


def parse_routing(raw: dict[str, Any], problems: list[Problem], file: str) -> RoutingConfig:
    """``[routing]`` (with ``[routing.roles]``) as read from the config at ``file``; every
    mistake goes to ``problems``."""
    cfg = RoutingConfig(
        directory=str(raw.get("directory", "employees")),
        fallback_roles=tuple(raw.get("fallback_roles", ("담당자", "부서관리자"))),
    )
    for key in raw:
        if key not in ROUTING_KEYS:
            problems.append(
                Problem(
                    file,
                    "unknown key",
                    key=f"routing.{key}",
                    hint=did_you_mean(key, ROUTING_KEYS) or "keys: " + ", ".join(ROUTING_KEYS),
                )
            )
    if cfg.directory not in datasets.DATASETS:
        problems.append(
            Problem(
                file,
                f"unknown dataset {cfg.directory!r}",
                key="routing.directory",
                hint=did_you_mean(cfg.directory, datasets.DATASETS),
            )
        )
    notify = raw.get("notify", {})
    if not isinstance(notify, dict):
        problems.append(
            Problem(
                file,
                "must be a table of severity = [targets]",
                key="routing.notify",
                hint='[routing.notify] high = ["official", "manager", "audit"]',
            )
        )
        notify = {}
    for severity, targets in notify.items():
        key = f"routing.notify.{severity}"
        if severity not in SEVERITIES:
            problems.append(
                Problem(
                    file,
                    f"unknown severity {severity!r}",
                    key=key,
                    hint=did_you_mean(severity, SEVERITIES) or "one of " + ", ".join(SEVERITIES),
                )
            )
            continue
        if not isinstance(targets, list) or not targets:
            problems.append(
                Problem(
                    file,
                    "must be a non-empty list",
                    key=key,
                    hint='e.g. ["official", "manager"]; targets: ' + ", ".join(NOTIFY_TARGETS),
                )
            )
            continue
        bad = [t for t in targets if t not in NOTIFY_TARGETS]
        for t in bad:
            problems.append(
                Problem(
                    file,
                    f"unknown target {t!r}",
                    key=key,
                    hint=did_you_mean(str(t), NOTIFY_TARGETS)
                    or "targets: " + ", ".join(NOTIFY_TARGETS),
                )
            )
        if not bad:
            cfg.notify[severity] = tuple(dict.fromkeys(str(t) for t in targets))
    department = raw.get("audit_department")
    if department is not None:
        if not isinstance(department, str) or not department.strip():
            problems.append(
                Problem(
                    file,
                    "must be a department name",
                    key="routing.audit_department",
                    hint='audit_department = "감사담당관"',
                )
            )
        else:
            cfg.audit_department = department.strip()
    for key in ("remind_before_days", "escalate_audit_after_days"):
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(
                Problem(
                    file,
                    f"must be a whole number of business days (0 or more), not {value!r}",
                    key=f"routing.{key}",
                    hint=f"{key} = {getattr(RoutingConfig, key)}",
                )
            )
            continue
        setattr(cfg, key, value)
    if "roles" in raw:
        cfg.roles = parse_roles(raw["roles"], problems, file, cfg.audit_department)
    return cfg
