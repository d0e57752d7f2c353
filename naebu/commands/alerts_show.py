"""`naebu alerts show ID [--lang en]`: one alert as the official and the auditor read it.

The same sections in Korean (the default) and English: what was found, on which record, who
handles it (officials by name and position from the directory, never a bare employee
number), the deadline with its weekday and days left, the rule's basis and why the pattern
is a red flag, the evidence (근거 자료, masked) with a case's member records, the audit trail
and who was told when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy import Connection, select

from naebu.alerts.deadline_text import deadline_text
from naebu.alerts.directory import Directory
from naebu.alerts.evidence_text import case_members, dataset_title, evidence_lines
from naebu.alerts.lifecycle import ACTIONS, OPEN, STATUS_LABELS
from naebu.commands.common import UserError, parse_now, rule_metas, with_config
from naebu.core.masking import mask_text
from naebu.engine.rule import RuleMeta
from naebu.settings.config import Config
from naebu.store import tables as store

LANGUAGES = ("ko", "en")

# key: (Korean, English); the Korean labels are those of the inbox and the digest.
_WORDS: dict[str, tuple[str, str]] = {
    "alert": ("경보", "alert"),
    "title": ("제목", "title"),
    "message": ("내용", "message"),
    "record": ("대상", "record"),
    "department": ("부서", "department"),
    "managers": ("부서장", "head"),
    "assignee": ("담당자", "assignee"),
    "raised": ("발생", "raised"),
    "deadline": ("처리 기한", "deadline"),
    "reopened_from": ("재발생: 이전 경보 #{n}", "reopened from alert #{n}"),
    "follows": ("후속 경보: 종결된 경보 #{n}의 사안", "follow-up of the closed alert #{n}"),
    "reopened_as": ("재발생 경보: #{n}", "reopened as alert #{n}"),
    "suppression": ("예외 처리", "suppression"),
    "basis": ("근거", "basis"),
    "why": ("왜 문제인가", "why it is a red flag"),
    "evidence": ("근거 자료", "evidence"),
    "trail": ("처리 이력", "audit trail"),
    "notifications": ("알림 내역", "notifications"),
    "none": ("없음", "none"),
    "system": ("시스템", "system"),
    "via": ("경로", "via"),
    "sent": ("발송", "sent"),
}

_SEVERITY = {
    "low": ("낮음", "low"),
    "medium": ("보통", "medium"),
    "high": ("높음", "high"),
    "critical": ("심각", "critical"),
}

#: Trail actions that are no lifecycle step (those read from :data:`ACTIONS`).
_TRAIL = {
    "raise": ("발생", "raise"),
    "suppress": ("예외 처리", "suppress"),
    "reopen": ("재발생", "reopen"),
    "case_update": ("같은 사안의 기록 추가", "records joined the case"),
    "follow_up": ("종결된 사안의 후속 경보", "follow-up of a closed case"),
    "unsuppress": ("예외 해제 후 발생", "unsuppress"),
    "escalate": ("기한 경과 보고", "escalate"),
    "escalate_approval": ("승인 지연 보고", "approval delay reported"),
    "withdraw": ("철회 (늦게 입력된 자료 반영)", "withdrawn (late records)"),
}

#: Why a message about the alert was sent (``deliveries.kind``).
_DELIVERY = {
    "new": ("새 경보", "new"),
    "remind": ("기한 알림", "reminder"),
    "escalate_manager": ("부서관리자 보고", "escalated to the manager"),
    "escalate_audit": ("감사부서 보고", "escalated to the audit office"),
    "review": ("검토 요청", "review"),
    "answered": ("처리 결과", "answered"),
    "reassigned": ("재배정", "reassigned"),
    "case_updated": ("같은 사안의 기록 추가", "records joined the case"),
    "withdrawn": ("철회 안내", "withdrawn"),
    "to_approve": ("승인 요청", "approval requested"),
    "approval_remind": ("승인 대기 알림", "approval reminder"),
    "approval_escalate": ("승인 지연 보고", "approval delay reported"),
    "suppression": ("예외 처리 안내", "suppression"),
    "rule_change": ("규칙 변경 안내", "rule change"),
}

#: The state of one message in the outbox.
_OUTBOX = {
    "pending": ("대기", "pending"),
    "claimed": ("발송 중", "claimed"),
    "sending": ("발송 중", "sending"),
    "sent": ("발송 완료", "sent"),
    "retry": ("재시도 대기", "retry"),
    "failed": ("실패", "failed"),
}


def _pick(table: Mapping[str, tuple[str, str]], key: str, language: str) -> str:
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if language == "en" else pair[0]


def _word(key: str, language: str) -> str:
    return _pick(_WORDS, key, language)


def _person(directory: Directory, employee_id: str | None, language: str) -> str:
    """An official by name and position (and department), the id only when unknown."""
    if not employee_id:
        return _word("none", language)
    if employee_id == "system":
        return _word("system", language)
    official = directory.get(employee_id)
    if official is None:
        return employee_id
    if official.department:
        return f"{official.display_name} ({official.department})"
    return official.display_name


def _action(action: str, language: str) -> str:
    spec = ACTIONS.get(action)
    if spec is not None and language != "en":
        return spec.label
    return _pick(_TRAIL, action, language) if spec is None else action.replace("_", " ")


def _trail_action(entry: Mapping[str, Any]) -> str:
    """The entry's action, an escalation of an unapproved answer told apart from a deadline's."""
    details = entry.get("details")
    approval = isinstance(details, Mapping) and details.get("step") == "approval"
    if entry["action"] == "escalate" and approval:
        return "escalate_approval"
    return str(entry["action"])


def _status(status: str | None, language: str) -> str:
    if not status:
        return "-"
    return STATUS_LABELS["en" if language == "en" else "ko"].get(status, status)


def _field(label: str, value: str) -> str:
    return f"  {label}: {value}"


def show_lines(
    alert: Mapping[str, Any],
    *,
    trail: Sequence[Mapping[str, Any]],
    ledger: Sequence[Mapping[str, Any]],
    reopened_as: Sequence[int],
    meta: RuleMeta | None,
    directory: Directory,
    today: date,
    language: str = "ko",
) -> list[str]:
    """The lines ``naebu alerts show`` prints for ``alert`` (a row of ``alerts``) in
    ``language``; the evidence masked, officials by name from ``directory``."""
    en = language == "en"
    w = lambda key: _word(key, language)  # noqa: E731 - a short alias reads best here
    a = alert
    lines = [
        f"{w('alert')} #{a['id']}  {a['rule_id']}  [{_pick(_SEVERITY, a['severity'], language)}]"
        f"  {_status(a['status'], language)}",
        _field(w("title"), (meta.title_en or a["title"]) if en and meta else a["title"]),
        _field(w("message"), mask_text(a["message"])),
        _field(w("record"), f"{dataset_title(a['dataset'], language)} {a['record_key']}"),
    ]
    department = a["department"] or w("none")
    managers = directory.managers(a["department"]) if a["department"] else []
    if managers:
        heads = ", ".join(m.display_name for m in managers)
        department += f" ({w('managers')}: {heads})"
    lines.append(_field(w("department"), department))
    lines.append(_field(w("assignee"), _person(directory, a["assignee"], language)))
    lines.append(_field(w("raised"), f"{a['created_at']:%Y-%m-%d %H:%M}"))
    counted = today if a["status"] in OPEN else None
    lines.append(_field(w("deadline"), deadline_text(a["deadline"], counted, language)))
    if a["reopened_from"]:
        follows = any(e["action"] == "follow_up" for e in trail)
        lines.append(
            "  " + w("follows" if follows else "reopened_from").format(n=a["reopened_from"])
        )
    lines += ["  " + w("reopened_as").format(n=n) for n in reopened_as]
    if a["suppression_id"]:
        lines.append(_field(w("suppression"), f"#{a['suppression_id']}"))
    if meta is not None and meta.basis:
        lines.append(_field(w("basis"), meta.basis))
    why = (meta.why_en or meta.why) if meta is not None and en else (meta.why if meta else "")
    if why:
        lines.append(_field(w("why"), why))
    lines.append(f"  {w('evidence')}:")
    evidence = a["evidence"] if isinstance(a["evidence"], Mapping) else {}
    for label, text in evidence_lines(evidence, a["dataset"], language, directory):
        lines.append(f"    {label}: {text}")
    members = case_members(evidence, a["dataset"], language, directory)
    if members is not None:
        lines.append(f"  {members.heading}:")
        lines += [f"    - {line}" for line in members.lines()]
    lines.append(f"  {w('trail')}:")
    for e in trail:
        step = f"{_status(e['from_status'], language)} -> {_status(e['to_status'], language)}"
        note = f"  {mask_text(e['comment'])}" if e["comment"] else ""
        note += _answer_facts(e.get("details"), language)
        who = _person(directory, e["actor"], language)
        lines.append(
            f"    #{e['seq']} {e['at']:%Y-%m-%d %H:%M} {who} {_action(_trail_action(e), language)}"
            f" {step}{note}"
        )
    lines.append(f"  {w('notifications')}:")
    for r in ledger:
        sent = f" ({w('sent')} {r['sent_at']:%Y-%m-%d %H:%M})" if r["sent_at"] else ""
        lines.append(
            f"    {r['created_at']:%Y-%m-%d %H:%M} {_pick(_DELIVERY, r['kind'], language)}: "
            f"{_person(directory, r['recipient'], language)}, {w('via')} {r['channel']}, "
            f"{_pick(_OUTBOX, r['status'], language)}{sent}"
        )
    return lines


def gather(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    """What :func:`show_lines` renders of alert ``alert_id``, read from the store: the alert
    row, its audit trail, its notifications ledger and the alerts it was reopened as; None
    when there is no such alert."""
    from naebu.alerts.trail import entries

    alert = conn.execute(select(store.alerts).where(store.alerts.c.id == alert_id)).first()
    if alert is None:
        return None
    d, o = store.deliveries.c, store.outbox.c
    ledger = conn.execute(
        select(d.recipient, d.kind, o.channel, o.status, o.created_at, o.sent_at)
        .join(store.outbox, o.id == d.outbox_id)
        .where(d.alert_id == alert_id)
        .order_by(o.id)
    ).all()
    reopened = select(store.alerts.c.id).where(store.alerts.c.reopened_from == alert_id)
    return {
        "alert": dict(alert._mapping),
        "trail": entries(conn, alert_id),
        "ledger": [dict(r._mapping) for r in ledger],
        "reopened_as": list(conn.execute(reopened).scalars()),
    }


@click.command("show")
@click.argument("alert_id", type=int)
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default="ko",
    show_default=True,
    help="language of the labels and evidence (ko: Korean, en: English)",
)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help="pretend the clock says this")
@with_config
def alerts_show(config: Config, alert_id: int, language: str, now_text: str | None) -> None:
    """Show one alert: its rule's basis and why it is a red flag, its evidence (masked) with
    a case's member records, its audit trail and who was told when; officials by name."""
    from naebu.commands.directory import stored_directory

    today = (parse_now(now_text) or datetime.now()).date()
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            shown = gather(conn, alert_id)
        directory = stored_directory(config, engine, "naebu alerts", required=False)
    finally:
        engine.dispose()
    if shown is None:
        raise UserError(f"naebu alerts: 경보 #{alert_id}이(가) 없습니다 (no alert #{alert_id})")
    meta = rule_metas(config).get(shown["alert"]["rule_id"])
    lines = show_lines(**shown, meta=meta, directory=directory, today=today, language=language)
    click.echo("\n".join(lines))


def _answer_facts(details: object, language: str) -> str:
    """A false positive's reason and a correction's recovered amount, as a trail line ends."""
    if not isinstance(details, Mapping):
        return ""
    from naebu.alerts.reasons import label

    en = language == "en"
    out = ""
    if details.get("reason_code"):
        out += f" [{'reason' if en else '사유'}: {label(details['reason_code'], language)}]"
    amount = details.get("recovered_amount")
    if isinstance(amount, (int, float)):
        out += f" [{'recovered KRW' if en else '환수액'} {amount:,.0f}{'' if en else '원'}]"
    return out
