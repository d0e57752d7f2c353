"""The alert lifecycle (경보 처리 절차): who may take which step, and the record of it.

::

    raised (발생) --acknowledge--> acknowledged (확인)
    raised | acknowledged | rejected --correct--------> corrected (조치 완료)
                                     --explain--------> explained (소명)          comment
                                     --false_positive-> false_positive (오탐)    comment
    corrected | explained | false_positive --accept--> closed (종결)             감사자
                                           --reject--> rejected (반려)            감사자, comment

With ``[workflow] approval`` (the default; :mod:`naebu.alerts.approval`) an answer first goes to
the department manager (조치 -> 승인 -> 확인)::

    corrected | explained | false_positive --approve--> approved (승인)          부서관리자
                                           --return---> rejected (반려)          부서관리자, comment
    approved --accept--> closed (종결)   --reject--> rejected (반려)             감사자

and the audit office reviews only approved answers.

``reassign`` (재배정) hands an open alert to another official; the status stays.

Who may act:

- acknowledge, correct, explain, false_positive: the assignee, or a 부서관리자 of the alert's
  department; nobody from another department (a 담당자 cannot act on another department's
  alert);
- accept, reject: only a 감사자, and never on an alert assigned to them or whose answer they
  recorded (nobody reviews their own alert);
- approve, return: a 부서관리자 of the alert's department who did not record the answer;
- reassign: a 부서관리자 of the alert's department (within it) or a 감사자 (to anyone of
  their organisation).

A 감사자 acts on the alerts of their own organisation only, those their audit office is told
of (:meth:`Directory.oversees`, from the department tree; every alert when there is none).

A rejection gives the official a new deadline as long as the first one (in business days).
Every step is one audit-trail entry written in the same transaction as the status change.
This module is the one place the rules live: the command line and the web inbox both call
:func:`act`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from naebu.alerts import reasons
from naebu.alerts.anchor import alert_digests
from naebu.alerts.approval import approval_check, approval_skipped
from naebu.alerts.directory import Directory, Official
from naebu.alerts.officials import directory_from_store
from naebu.alerts.tallies import record as record_tallies
from naebu.alerts.trail import Step, append
from naebu.core.workdays import add_business_days, business_days_between
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import audit_trail

#: Statuses an official still has to answer.
OPEN = ("raised", "acknowledged", "rejected")
#: Statuses of an official's answer: waiting for the department manager's approval, or for
#: the audit office's review when the city has no approval step.
ANSWERED = ("corrected", "explained", "false_positive")
#: An answer the department manager approved, waiting for the audit office's review.
APPROVED = "approved"
#: Statuses the audit office may review (an approved answer, or one without the approval step).
REVIEWABLE = (*ANSWERED, APPROVED)

STATUS_LABELS = {
    "ko": {
        "raised": "발생",
        "acknowledged": "확인",
        "corrected": "조치 완료",
        "explained": "소명",
        "false_positive": "오탐",
        "rejected": "반려",
        "approved": "승인",
        "closed": "종결",
        "suppressed": "예외 처리",
        "withdrawn": "철회",
    },
    "en": {
        "raised": "raised",
        "acknowledged": "acknowledged",
        "corrected": "corrected",
        "explained": "explained",
        "false_positive": "false positive",
        "rejected": "rejected",
        "approved": "approved",
        "closed": "closed",
        "suppressed": "suppressed",
        "withdrawn": "withdrawn",
    },
}


@dataclass(frozen=True)
class ActionSpec:
    """One step: the statuses it starts from, the status it leads to, who may take it."""

    name: str
    label: str  # Korean, for messages
    from_statuses: tuple[str, ...]
    to_status: str | None  # None: the status stays (reassign)
    who: str  # "handler", "approver", "auditor" or "assigner"
    needs_comment: bool = False


ACTIONS: dict[str, ActionSpec] = {
    a.name: a
    for a in (
        ActionSpec("acknowledge", "확인", ("raised", "rejected"), "acknowledged", "handler"),
        ActionSpec("correct", "조치 완료", OPEN, "corrected", "handler"),
        ActionSpec("explain", "소명", OPEN, "explained", "handler", needs_comment=True),
        ActionSpec("false_positive", "오탐 처리", OPEN, "false_positive", "handler", True),
        ActionSpec("approve", "승인", ANSWERED, APPROVED, "approver"),
        ActionSpec("return", "승인 반려", ANSWERED, "rejected", "approver", needs_comment=True),
        ActionSpec("accept", "검토 승인", REVIEWABLE, "closed", "auditor"),
        ActionSpec("reject", "검토 반려", REVIEWABLE, "rejected", "auditor", needs_comment=True),
        ActionSpec("reassign", "재배정", OPEN, None, "assigner"),
    )
}
_ALIASES = {"ack": "acknowledge", "false-positive": "false_positive", "fp": "false_positive"}


class LifecycleError(Exception):
    """A step that is not allowed, with the reason in Korean and English (one line)."""

    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} ({en})")


@dataclass(frozen=True)
class Outcome:
    """What :func:`act` did."""

    alert_id: int
    action: str
    from_status: str
    to_status: str
    assignee: str | None
    trail_seq: int
    deadline: datetime | None


def _spec(action: str) -> ActionSpec:
    name = _ALIASES.get(action, action).replace("-", "_")
    spec = ACTIONS.get(name)
    if spec is None:
        raise LifecycleError(
            f"알 수 없는 처리 단계 {action!r}",
            f"unknown action {action!r}; one of " + ", ".join(ACTIONS),
        )
    return spec


def _actor(directory: Directory, actor_id: str) -> Official:
    actor = directory.get(actor_id)
    if actor is None:
        raise LifecycleError(
            f"직원 {actor_id}은(는) 담당자 명부에 없습니다",
            f"employee {actor_id} is not in the officials directory",
        )
    if not actor.active:
        raise LifecycleError(
            f"직원 {actor_id}은(는) 재직 중이 아닙니다", f"employee {actor_id} is not active"
        )
    return actor


def _answered_by(conn: Connection, alert_id: int) -> set[str]:
    rows = conn.execute(
        select(audit_trail.c.actor).where(
            audit_trail.c.alert_id == alert_id,
            audit_trail.c.action.in_(("correct", "explain", "false_positive")),
        )
    )
    return {r.actor for r in rows}


def _other_organisation(alert: Row[Any], actor: Official) -> LifecycleError:
    n = alert.id
    return LifecycleError(
        f"다른 기관({alert.department or '-'})의 경보 #{n}은(는) 감사할 수 없습니다",
        f"alert #{n} belongs to another organisation ({alert.department or '-'}) than "
        f"{actor.employee_id}'s audit office oversees",
    )


def _check_allowed(
    conn: Connection,
    spec: ActionSpec,
    alert: Row[Any],
    actor: Official,
    directory: Directory,
    approval: bool,
) -> None:
    n = alert.id
    if spec.who == "approver":
        refused = approval_check(alert, actor, directory, _answered_by(conn, n), enabled=approval)
        if refused is not None:
            raise LifecycleError(*refused)
        return
    if spec.who == "handler":
        if actor.employee_id == alert.assignee or directory.is_manager_of(actor, alert.department):
            return
        if actor.department != alert.department:
            raise LifecycleError(
                f"다른 부서({alert.department or '-'})의 경보 #{n}은(는) 처리할 수 없습니다",
                f"alert #{n} belongs to another department ({alert.department or '-'}); "
                f"{actor.employee_id} of {actor.department or '-'} cannot act on it",
            )
        raise LifecycleError(
            f"경보 #{n}은(는) 담당자 본인 또는 부서관리자만 처리할 수 있습니다",
            f"only the assignee ({alert.assignee or '-'}) or the department manager may act "
            f"on alert #{n}",
        )
    if spec.who == "auditor":
        if actor.employee_id == alert.assignee or actor.employee_id in _answered_by(conn, n):
            raise LifecycleError(
                f"자신이 담당하거나 처리한 경보 #{n}은(는) 검토할 수 없습니다",
                f"nobody reviews their own alert: {actor.employee_id} handled alert #{n}",
            )
        if not directory.is_auditor(actor):
            raise LifecycleError(
                "경보 처리 결과는 감사자만 검토할 수 있습니다",
                f"only an auditor (감사자) may review alert #{n}",
            )
        if not directory.oversees(actor, alert.department):
            raise _other_organisation(alert, actor)
        if approval and alert.status in ANSWERED:
            raise LifecycleError(
                f"경보 #{n}은(는) 부서관리자의 승인을 기다리고 있어 아직 검토할 수 없습니다",
                f"alert #{n} awaits the department manager's approval before the audit office "
                "reviews it",
            )
        return
    # assigner
    if directory.is_auditor(actor) and not directory.oversees(actor, alert.department):
        raise _other_organisation(alert, actor)
    if not (directory.is_manager_of(actor, alert.department) or directory.is_auditor(actor)):
        raise LifecycleError(
            f"경보 #{n}은(는) 해당 부서의 부서관리자 또는 감사자만 재배정할 수 있습니다",
            f"only a manager of {alert.department or '-'} or an auditor may reassign alert #{n}",
        )


def _reassign_target(
    directory: Directory, actor: Official, alert: Row[Any], to: str | None
) -> Official:
    if not to:
        raise LifecycleError("재배정할 직원을 지정하십시오", "name the official to reassign to")
    target = _actor(directory, to)
    if target.employee_id == alert.assignee:
        raise LifecycleError(
            f"경보 #{alert.id}은(는) 이미 {to}에게 배정되어 있습니다",
            f"alert #{alert.id} is already assigned to {to}",
        )
    if not directory.is_auditor(actor) and target.department != alert.department:
        raise LifecycleError(
            "부서관리자는 자기 부서 직원에게만 재배정할 수 있습니다",
            f"a department manager may reassign only within {alert.department or '-'}",
        )
    if directory.is_auditor(actor) and not directory.oversees(actor, target.department):
        # Handing an alert to another organisation would show it to that one's officials.
        raise LifecycleError(
            "감사자는 자기 기관 직원에게만 재배정할 수 있습니다",
            f"{to} of {target.department or '-'} is in another organisation than "
            f"{actor.employee_id}'s audit office oversees",
        )
    return target


def _reason_code(action: str, reason: str | None) -> str | None:
    """The stored reason code of a step: a false positive's (validated), else None."""
    if action != "false_positive":
        if reason:
            raise LifecycleError(
                "사유 코드는 '오탐 처리'에만 적습니다",
                "a reason code goes with a false-positive answer only",
            )
        return None
    try:
        return reasons.parse(reason)
    except reasons.ReasonError as exc:
        raise LifecycleError(exc.ko, exc.en) from None


def act(
    conn: Connection,
    alert_id: int,
    action: str,
    actor_id: str,
    comment: str | None = None,
    *,
    now: datetime,
    to: str | None = None,
    directory: Directory | None = None,
    reason: str | None = None,
    recovered: float | None = None,
    approval: bool = False,
) -> Outcome:
    """Take one lifecycle step on alert ``alert_id`` as official ``actor_id``.

    ``action`` is one of :data:`ACTIONS` (``ack`` and ``false-positive`` are accepted too);
    ``to`` names the new assignee of ``reassign``. A ``false_positive`` answer carries a
    ``reason`` code (:mod:`naebu.alerts.reasons`; 기타 when none is given); a ``correct`` answer may
    say what was ``recovered`` (KRW). With ``approval`` (``[workflow] approval``, which the
    command line and the inbox pass) an answer waits for the department manager's ``approve``
    or ``return`` before the audit office may review it (:mod:`naebu.alerts.approval`); without
    it, as before, the audit office reviews answers directly. Roles come from ``directory``, by
    default the officials table of the store (the directory as of the last run). The status
    change and its audit-trail entry are written in the caller's transaction (no commit).

    Raises :class:`LifecycleError` (Korean and English) for an unknown alert or action, a
    step the alert's status does not allow, a missing comment, or an actor who may not
    take the step.
    """
    spec = _spec(action)
    alert = conn.execute(select(alerts_table).where(alerts_table.c.id == alert_id)).first()
    if alert is None:
        raise LifecycleError(f"경보 #{alert_id}이(가) 없습니다", f"no alert #{alert_id}")
    if directory is None:
        directory = directory_from_store(conn)
    actor = _actor(directory, actor_id)
    if alert.status not in spec.from_statuses:
        label = STATUS_LABELS["ko"].get(alert.status, alert.status)
        raise LifecycleError(
            f"경보 #{alert_id}은(는) '{label}' 상태라 '{spec.label}'할 수 없습니다",
            f"alert #{alert_id} is {alert.status}: cannot {spec.name} "
            f"(allowed from {', '.join(spec.from_statuses)})",
        )
    comment = comment.strip() if comment else None
    if spec.needs_comment and not comment:
        raise LifecycleError(
            f"'{spec.label}'에는 사유(의견)를 적어야 합니다",
            f"{spec.name} needs a comment saying why",
        )
    code = _reason_code(spec.name, reason)
    if recovered is not None and (spec.name != "correct" or recovered < 0):
        raise LifecycleError(
            "환수액은 '조치 완료'에만 0 이상으로 적을 수 있습니다",
            "a recovered amount goes with a correct answer only, and is not negative",
        )
    _check_allowed(conn, spec, alert, actor, directory, approval)

    to_status = spec.to_status or alert.status
    values: dict[str, Any] = {"status": to_status, "updated_at": now}
    details: dict[str, Any] = {}
    if spec.name == "reassign":
        target = _reassign_target(directory, actor, alert, to)
        values["assignee"] = target.employee_id
        details = {"from_assignee": alert.assignee, "to_assignee": target.employee_id}
    elif to_status in ANSWERED:
        values["answered_at"] = now
        values["last_answer"] = spec.name
        # The reason code of a false positive; another answer replaces the last one's.
        values["reason_code"] = code
        values["recovered_amount"] = recovered
        values["approved_at"] = None  # a new answer is not approved yet
        if code is not None:
            details["reason_code"] = code
        if recovered is not None:
            details["recovered_amount"] = recovered
    elif to_status == "closed":
        values["closed_at"] = now
    elif spec.name == "approve":
        values["approved_at"] = now
    elif spec.name in ("reject", "return"):
        # The official gets as many business days again as the rule first gave.
        start = alert.deadline_set_at or alert.created_at
        span = business_days_between(start, alert.deadline) if alert.deadline else 0
        values["deadline"] = add_business_days(now, max(span, 1))
        values["deadline_set_at"] = now
        values["answered_at"] = None
        values["approved_at"] = None
        details = {"deadline": values["deadline"].isoformat(timespec="seconds")}
    after = {**alert._mapping, **values}
    skip: tuple[str, str] | None = None
    if approval and to_status in ANSWERED:
        # Who approves this answer; none: it goes on to the audit office at once (below).
        skip = approval_skipped(actor, alert.department, directory, _answered_by(conn, alert_id))
        if skip is None:
            details["approval"] = "pending"  # naebu.alerts.escalation tells the managers
    seq = _write(conn, alert._mapping, values, actor.employee_id, spec.name, comment, details, now)
    if approval and to_status in ANSWERED and skip is not None:
        approver, why = skip
        auto = {"status": APPROVED, "updated_at": now, "approved_at": now}
        seq = _write(conn, after, auto, approver, "approve", None, {"auto": why}, now)
        to_status = APPROVED
    return Outcome(
        alert_id=alert_id,
        action=spec.name,
        from_status=alert.status,
        to_status=to_status,
        assignee=values.get("assignee", alert.assignee),
        trail_seq=seq,
        deadline=values.get("deadline", alert.deadline),
    )


def _write(
    conn: Connection,
    before: Mapping[Any, Any],
    values: dict[str, Any],
    actor: str,
    action: str,
    comment: str | None,
    details: dict[str, Any],
    now: datetime,
) -> int:
    """Change the alert from ``before`` by ``values`` if nobody changed it meanwhile, with its
    tallies and its audit-trail entry; return the entry's number."""
    alert_id = int(before["id"])
    changed = conn.execute(
        update(alerts_table)
        .where(alerts_table.c.id == alert_id, alerts_table.c.status == before["status"])
        .values(**values)
    ).rowcount
    if not changed:
        raise LifecycleError(
            f"경보 #{alert_id}이(가) 방금 다른 사람에 의해 변경되었습니다. 다시 시도하십시오",
            f"alert #{alert_id} was changed by someone else meanwhile; try again",
        )
    # The scorecard's tallies follow the step in the same transaction (naebu.alerts.tallies).
    record_tallies(conn, [(before, {**before, **values})])
    # What the alert says after the step, as the store keeps it (naebu.alerts.anchor).
    details["fields"] = alert_digests(conn, [alert_id])[alert_id]
    (seq,) = append(
        conn,
        [
            Step(
                actor=actor,
                action=action,
                at=now,
                alert_id=alert_id,
                from_status=str(before["status"]),
                to_status=str(values.get("status", before["status"])),
                comment=comment,
                details=details,
            )
        ],
    )
    return seq
