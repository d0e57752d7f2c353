"""Follow-up digests: reminders, escalations, review results and other notices, in one
message per recipient per run.

Rendered from ``templates/followup_<language>.j2`` (text) and ``followup_<language>.html.j2``
(HTML: each section a table of its alerts) in the same Jinja2 sandbox as the digest of new
alerts (:mod:`naebu.alerts.templating`), and masked as a whole (comments officials write may quote an
account number). The templates only lay out sections; the wording of each line is chosen here,
per language, so Korean and English say the same things.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from naebu.alerts.deadline_text import deadline_text
from naebu.alerts.digest_summary import NO_DEPARTMENT
from naebu.alerts.directory import Directory, Official
from naebu.alerts.evidence_text import dataset_title
from naebu.alerts.lifecycle import STATUS_LABELS
from naebu.alerts.suppressions import Suppression
from naebu.alerts.templating import (
    SEVERITY_LABELS,
    SEVERITY_RANK,
    MailParts,
    environment,
    html_environment,
    per_rule,
)
from naebu.core.links import alert_link, inbox_link
from naebu.core.masking import mask_document, mask_text
from naebu.core.workdays import business_days_between

#: Section order, with (title, note, short label for the subject) per language.
SECTIONS: dict[str, dict[str, tuple[str, str, str]]] = {
    "ko": {
        "escalate_audit": (
            "처리 기한 경과 - 감사부서 보고",
            "기한이 지나도록 처리되지 않아 감사부서에 보고된 경보입니다.",
            "감사부서 보고",
        ),
        "escalate_manager": (
            "처리 기한 경과 - 부서관리자 보고",
            "기한이 지나도록 처리되지 않은 부서 경보입니다. 담당자의 처리를 독려해 주십시오.",
            "기한 경과",
        ),
        "remind": (
            "처리 기한 임박",
            "처리 기한이 다가온 경보입니다. 기한 내에 조치하시거나 소명해 주십시오.",
            "기한 임박",
        ),
        "approval_escalate": (
            "승인 지연 - 감사부서 보고",
            "담당자가 처리 결과를 보고했으나 부서관리자가 오랫동안 승인하거나 반려하지 않아 "
            "감사부서에 보고된 경보입니다. 부서관리자의 승인을 독려해 주십시오.",
            "승인 지연 보고",
        ),
        "approval_remind": (
            "승인 대기 중인 처리 결과",
            "담당자가 보고한 처리 결과가 아직 승인을 기다리고 있습니다. 승인하거나 사유를 "
            "적어 반려해 주십시오. 더 늦어지면 감사부서에 보고됩니다.",
            "승인 지연",
        ),
        "review": ("검토 결과", "감사부서의 검토 결과입니다.", "검토 결과"),
        "reassigned": ("재배정된 경보", "다음 경보가 새로 배정되었습니다.", "재배정"),
        "case_updated": (
            "처리 중인 경보에 기록 추가",
            "처리 중인 경보에 같은 사안의 기록이 새로 더해졌습니다. 더해진 기록까지 확인해 "
            "조치하거나 소명해 주십시오.",
            "기록 추가",
        ),
        "withdrawn": (
            "철회된 경보",
            "늦게 입력된 자료를 반영해 다시 점검한 결과 더 이상 해당하지 않아 자동으로 철회된 "
            "경보입니다. 따로 조치하거나 소명할 필요는 없습니다.",
            "경보 철회",
        ),
        "answered": (
            "검토 대기",
            "담당 부서가 처리 결과를 보고한 경보입니다. 검토해 주십시오.",
            "검토 대기",
        ),
        "to_approve": (
            "승인 대기",
            "담당자가 처리 결과를 보고한 부서 경보입니다. 승인하거나 사유를 적어 반려해 "
            "주십시오. 승인한 결과만 감사부서가 검토합니다.",
            "승인 대기",
        ),
        "suppression": (
            "경보 예외 처리 등록·해제",
            "경보 예외 처리(억제)가 등록되거나 해제되었습니다.",
            "예외 처리",
        ),
        "rule_change": (
            "규칙 변경",
            "점검 규칙 파일이 변경되었습니다. 승인된 변경인지 확인해 주십시오.",
            "규칙 변경",
        ),
    },
    "en": {
        "escalate_audit": (
            "Overdue - reported to the audit office",
            "These alerts are past their deadline and were reported to the audit office.",
            "reported to audit",
        ),
        "escalate_manager": (
            "Overdue - reported to the department manager",
            "These alerts of your department are past their deadline; please follow up.",
            "overdue",
        ),
        "remind": (
            "Deadline approaching",
            "Please act on or explain these alerts before their deadline.",
            "due soon",
        ),
        "approval_escalate": (
            "Approval overdue - reported to the audit office",
            "The department manager has left these answers without approving or returning "
            "them for too long, so they were reported to the audit office; please follow up.",
            "approval overdue",
        ),
        "approval_remind": (
            "Answers still awaiting your approval",
            "These answers are still waiting for your approval; please approve each or return "
            "it with a reason. If they wait much longer they are reported to the audit office.",
            "approval pending",
        ),
        "review": ("Review results", "The audit office reviewed these alerts.", "reviewed"),
        "reassigned": ("Reassigned to you", "These alerts are now yours.", "reassigned"),
        "case_updated": (
            "New records in open alerts",
            "New records of the same case joined these open alerts; please look at them too "
            "when you act on or explain the alert.",
            "records added",
        ),
        "withdrawn": (
            "Withdrawn alerts",
            "Judged again with records that came late, these alerts no longer hold and were "
            "withdrawn; nothing is left to do.",
            "withdrawn",
        ),
        "answered": (
            "Awaiting your review",
            "The department reported how these alerts were handled; please review them.",
            "to review",
        ),
        "to_approve": (
            "Awaiting your approval",
            "Officials of your department reported how these alerts were handled; please "
            "approve each answer or return it with a reason. The audit office reviews only "
            "approved answers.",
            "to approve",
        ),
        "suppression": (
            "Suppressions added or removed",
            "Alert suppressions were added or removed.",
            "suppressions",
        ),
        "rule_change": (
            "Rule changes",
            "Rule files changed. Please check that each change was approved.",
            "rule changes",
        ),
    },
}

_LABELS = {
    "ko": {
        "alert": "경보 번호",
        "record": "대상",
        "assignee": "담당자",
        "status": "상태",
        "deadline": "처리 기한",
        "overdue": "경과 영업일",
        "result": "검토 결과",
        "accept": "승인 (종결)",
        "reject": "반려 - 다시 처리해 주십시오",
        "return": "부서관리자 반려 - 보완해 다시 처리해 주십시오",
        "new_deadline": "새 처리 기한",
        "link": "바로 가기",
        "comment": "의견",
        "by": "처리자",
        "answer": "처리 내용",
        "rule": "규칙",
        "target": "대상",
        "reason": "사유",
        "expires": "만료일",
        "added": "등록",
        "removed": "해제",
        "from": "이전 담당자",
        "file": "파일",
        "old_hash": "이전 해시",
        "new_hash": "새 해시",
        "changed": "변경 내용",
        "seen": "적용 시각",
        "grew": "추가된 기록",
        "records": "기록 수",
        "waiting": "승인 대기 영업일",
    },
    "en": {
        "alert": "Alert",
        "record": "Record",
        "assignee": "Assigned to",
        "status": "Status",
        "deadline": "Deadline",
        "overdue": "Business days overdue",
        "result": "Result",
        "accept": "accepted (closed)",
        "reject": "rejected - please handle it again",
        "return": "returned by the department manager - please handle it again",
        "new_deadline": "New deadline",
        "link": "Open",
        "comment": "Comment",
        "by": "By",
        "answer": "Answer",
        "rule": "Rule",
        "target": "Target",
        "reason": "Reason",
        "expires": "Expires",
        "added": "added",
        "removed": "removed",
        "from": "Previously",
        "file": "File",
        "old_hash": "Old hash",
        "new_hash": "New hash",
        "changed": "Changed",
        "seen": "Taken into use",
        "grew": "Records added",
        "records": "Records in the case",
        "waiting": "Business days awaiting approval",
    },
}

#: The kinds of rule change (naebu.rulechanges), as the audit office reads them.
RULE_CHANGES = {
    "ko": {
        "added": "추가",
        "edited": "수정",
        "disabled": "비활성화",
        "enabled": "다시 활성화",
        "moved": "파일 이동",
        "removed": "삭제",
    },
    "en": {
        "added": "added",
        "edited": "edited",
        "disabled": "disabled",
        "enabled": "enabled again",
        "moved": "moved to another file",
        "removed": "removed",
    },
}


@dataclass(frozen=True)
class Notice:
    """One thing to tell one or more people: about an alert, a trail entry, a suppression."""

    kind: str
    alert: Mapping[Any, Any] | None = None
    entry: Mapping[Any, Any] | None = None
    suppression: Suppression | None = None


def _name(directory: Directory, employee_id: str | None) -> str:
    official = directory.get(employee_id)
    if official is None:
        return employee_id or "-"
    return f"{official.display_name} ({official.department or '-'})"


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str) and value:
        return value[:10]
    return "-"


def _item(
    n: Notice, directory: Directory, language: str, now: datetime, base_url: str | None = None
) -> dict[str, Any]:
    lab = _LABELS[language]
    today = now.date()
    lines: list[tuple[str, str]] = []
    if n.kind == "suppression" and n.suppression is not None:
        s, e = n.suppression, n.entry or {}
        added = e.get("action") == "suppress_add"
        heading = f"#{s.id} {s.rule_id}: {s.target} ({lab['added'] if added else lab['removed']})"
        lines += [
            (lab["reason"], str(e.get("comment") or "-")),
            (lab["by"], _name(directory, e.get("actor"))),
        ]
        if added:
            lines.append((lab["expires"], _day(s.expires_at)))
        return {"heading": heading, "lines": lines}
    if n.kind == "rule_change":
        return _rule_change_item(n.entry or {}, lab, RULE_CHANGES[language])
    a = n.alert or {}
    severity = SEVERITY_LABELS[language].get(a.get("severity", ""), a.get("severity", ""))
    heading = f"[{severity}] {a.get('title', '')} ({a.get('rule_id', '')})"
    lines += [
        (lab["alert"], f"#{a.get('id')}"),
        (
            lab["record"],
            f"{dataset_title(a.get('dataset', ''), language)} {a.get('record_key', '')}",
        ),
    ]
    if n.kind != "reassigned":
        lines.append((lab["assignee"], _name(directory, a.get("assignee"))))
    status = a.get("status", "")
    lines.append((lab["status"], STATUS_LABELS[language].get(status, status)))
    deadline = a.get("deadline")
    e = n.entry or {}
    if n.kind in ("remind", "escalate_manager", "escalate_audit"):
        lines.append((lab["deadline"], deadline_text(deadline, today, language)))
        if n.kind != "remind" and isinstance(deadline, datetime):
            late = max(business_days_between(deadline, now), 1)
            lines.append((lab["overdue"], f"{late}일" if language == "ko" else str(late)))
    elif n.kind == "review":
        action = e.get("action")
        result = (
            lab["accept"]
            if action == "accept"
            else lab["return" if action == "return" else "reject"]
        )
        lines.append((lab["result"], result))
        if action in ("reject", "return"):
            new_deadline = (e.get("details") or {}).get("deadline")
            lines.append((lab["new_deadline"], deadline_text(new_deadline, today, language)))
        lines.append((lab["by"], _name(directory, e.get("actor"))))
    elif n.kind in ("approval_remind", "approval_escalate"):
        # An answer left waiting for the department manager (naebu.alerts.escalation); the
        # status line above already says what the answer was.
        answered = a.get("answered_at")
        if isinstance(answered, str):
            answered = datetime.fromisoformat(answered)
        if isinstance(answered, datetime):
            waited = max(business_days_between(answered, now), 1)
            lines.append((lab["waiting"], f"{waited}일" if language == "ko" else str(waited)))
    elif n.kind in ("answered", "to_approve"):
        answer = e.get("to_status", "")
        lines.append((lab["answer"], STATUS_LABELS[language].get(answer, answer)))
        lines.append((lab["by"], _name(directory, e.get("actor"))))
    elif n.kind == "case_updated":
        details = e.get("details") or {}
        added = [str(k) for k in details.get("added") or []]
        shown = ", ".join(added[:10]) + (f" 외 {len(added) - 10}건" if len(added) > 10 else "")
        if language == "en" and len(added) > 10:
            shown = ", ".join(added[:10]) + f" and {len(added) - 10} more"
        lines.append((lab["grew"], shown or "-"))
        count = details.get("count")
        if isinstance(count, int):
            lines.append((lab["records"], f"{count:,}건" if language == "ko" else f"{count:,}"))
        lines.append((lab["deadline"], deadline_text(deadline, today, language)))
    elif n.kind == "reassigned":
        lines.append((lab["from"], _name(directory, (e.get("details") or {}).get("from_assignee"))))
        lines.append((lab["deadline"], deadline_text(deadline, today, language)))
    if n.kind == "withdrawn":  # the reason naebu withdrew it (naebu.alerts.withdrawal)
        lines.append((lab["reason"], str(e.get("comment") or "-")))
    elif e.get("comment"):
        lines.append((lab["comment"], str(e["comment"])))
    link = alert_link(base_url, a["id"]) if a.get("id") is not None else None
    if link:
        lines.append((lab["link"], link))
    return {"heading": heading, "lines": lines}


def render_notices(
    recipient: Official | None,
    recipient_id: str,
    notices: Sequence[Notice],
    directory: Directory,
    language: str,
    now: datetime,
    max_items: int | None = None,
    *,
    base_url: str | None = None,
) -> tuple[str, str]:
    """The masked ``(subject, body)`` of one recipient's follow-up digest.

    Deadlines count the days left as of ``now`` (:mod:`naebu.alerts.deadline_text`); with
    ``base_url`` (``[web] base_url``) each alert and the inbox are linked (:mod:`naebu.core.links`).

    A section of more than ``max_items`` notices (``[notify] digest_max_items``, as for the
    digest of new alerts) writes out the first ``max_items`` in full - notices about no alert
    first, then the most severe alerts - and counts the rest per rule: when a run's thousands
    of alerts fall due together, an audit office would otherwise get a mail of thousands of
    entries (and the run would spend seconds writing it).
    """
    parts = render_notices_mail(
        recipient, recipient_id, notices, directory, language, now, max_items, base_url=base_url
    )
    return parts.subject, parts.body


def render_notices_mail(
    recipient: Official | None,
    recipient_id: str,
    notices: Sequence[Notice],
    directory: Directory,
    language: str,
    now: datetime,
    max_items: int | None = None,
    *,
    base_url: str | None = None,
    footer: str = "",
) -> MailParts:
    """:func:`render_notices` with the HTML part too (each section's alerts in a table):
    masked subject, text and HTML. ``footer`` (text: the audit trail's head for an auditor,
    :func:`naebu.alerts.anchor.digest_footer`) ends both parts, unmasked."""
    language = language if language in SECTIONS else "ko"
    context = _context(
        recipient, recipient_id, notices, directory, language, now, max_items, base_url
    )
    module = environment().get_template(f"followup_{language}.j2").make_module(context)
    subject = str(getattr(module, "subject", "")).strip()
    html = mask_document(
        html_environment().get_template(f"followup_{language}.html.j2").render(context)
    )
    if footer:
        # After masking, as the text's: the head's hash must reach the auditor as it is.
        html = html.replace("</body>", f"<pre>{escape(footer.strip())}</pre>\n</body>", 1)
    return MailParts(mask_text(subject), mask_document(str(module)) + footer, html)


def _context(
    recipient: Official | None,
    recipient_id: str,
    notices: Sequence[Notice],
    directory: Directory,
    language: str,
    now: datetime,
    max_items: int | None,
    base_url: str | None,
) -> dict[str, Any]:
    """What the follow-up templates (text and HTML) are rendered from."""
    sections = []
    summary = []
    for kind, (title, note, short) in SECTIONS[language].items():
        mine = [n for n in notices if n.kind == kind]
        if not mine:
            continue
        listed, rest = _listed(mine, max_items)
        sections.append(
            {
                "title": title,
                "note": note,
                "count": len(mine),
                "entries": [
                    {
                        **_item(n, directory, language, now, base_url),
                        "row": _row(n, language, now, base_url),
                    }
                    for n in listed
                ],
                "more": _per_rule(rest),
                "more_count": len(rest),
            }
        )
        summary.append(f"{short} {len(mine)}건" if language == "ko" else f"{len(mine)} {short}")
    return {
        "recipient": recipient.display_name if recipient else recipient_id,
        "sections": sections,
        "summary": ", ".join(summary),
        "inbox_link": inbox_link(base_url),
    }


def _row(n: Notice, language: str, now: datetime, base_url: str | None) -> dict[str, Any] | None:
    """The table row of a notice about an alert in the HTML part (None for one about no
    alert: a suppression or a rule change is shown by its heading and lines only)."""
    if n.alert is None or n.alert.get("id") is None:
        return None
    a = n.alert
    severity = a.get("severity") or ""
    return {
        "id": a["id"],
        "severity": SEVERITY_LABELS[language].get(severity, severity),
        "title": a.get("title") or "",
        "rule_id": a.get("rule_id") or "",
        "message": a.get("message") or "",
        "department": a.get("department") or NO_DEPARTMENT[language],
        "deadline": deadline_text(a.get("deadline"), now.date(), language),
        "link": alert_link(base_url, a["id"]),
    }


def _listed(notices: list[Notice], max_items: int | None) -> tuple[list[Notice], list[Notice]]:
    """The notices a section writes out in full, and the rest (see :func:`render_notices`)."""
    if max_items is None or len(notices) <= max_items:
        return notices, []
    ranked = sorted(
        notices,
        key=lambda n: (
            n.alert is not None,
            -SEVERITY_RANK.get((n.alert or {}).get("severity", ""), -1),
            (n.alert or {}).get("id") or 0,
        ),
    )
    return ranked[:max_items], ranked[max_items:]


def _per_rule(notices: list[Notice]) -> list[dict[str, Any]]:
    """How many of ``notices`` each rule has (:func:`naebu.alerts.digest.per_rule`)."""

    def rule_of(n: Notice) -> tuple[str, str]:
        a = n.alert or {}
        rule_id = str(a.get("rule_id") or (n.suppression.rule_id if n.suppression else "-"))
        return rule_id, str(a.get("title") or rule_id)

    return per_rule(map(rule_of, notices))


def _rule_change_item(
    entry: Mapping[Any, Any], lab: Mapping[str, str], kinds: Mapping[str, str]
) -> dict[str, Any]:
    """A rule-change trail entry (:mod:`naebu.rulechanges`) as the audit office reads it."""
    d = entry.get("details") or {}
    change = str(d.get("change", ""))
    lines = [
        (lab["file"], str(d.get("file") or "-")),
        (lab["old_hash"], str(d.get("old_hash") or "-")),
        (lab["new_hash"], str(d.get("new_hash") or "-")),
        (lab["seen"], _minute(entry.get("at"))),
    ]
    for key, values in list((d.get("changes") or {}).items())[:10]:
        old, new = (list(values) + [None, None])[:2]
        lines.append((f"{lab['changed']} ({key})", f"{_value(old)} → {_value(new)}"))
    return {"heading": f"{d.get('rule_id', '-')}: {kinds.get(change, change)}", "lines": lines}


def _value(value: Any) -> str:
    text = "-" if value is None else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _minute(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return _day(value)
