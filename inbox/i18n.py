"""The inbox's words in Korean (the default) and English (``?lang=en``, kept in a cookie)."""

from __future__ import annotations

from collections.abc import Callable

from naebu.alerts.lifecycle import STATUS_LABELS

LANGUAGES = ("ko", "en")

# key: (Korean, English)
_TEXT: dict[str, tuple[str, str]] = {
    "app": ("내부통제 경보함", "Internal-control inbox"),
    "nav.alerts": ("내 경보", "My alerts"),
    "nav.scorecard": ("부서별 처리 현황", "Department scorecard"),
    "nav.to_approve": ("승인 대기", "To approve"),
    "nav.review": ("검토 대기", "To review"),
    "nav.rules": ("점검 규칙", "Rule catalog"),
    "nav.suppressions": ("예외 처리", "Suppressions"),
    "logout": ("로그아웃", "Sign out"),
    "login": ("로그인", "Sign in"),
    "login.title": ("경보함 로그인", "Sign in to the inbox"),
    "login.user": ("직원번호", "Employee id"),
    "login.password": ("비밀번호", "Password"),
    "login.bad": (
        "직원번호 또는 비밀번호가 올바르지 않습니다.",
        "Wrong employee id or password.",
    ),
    "login.locked": (
        "로그인 시도가 너무 많습니다. 잠시 후 다시 시도하십시오.",
        "Too many sign-in attempts. Try again later.",
    ),
    "filter": ("조회", "Filter"),
    "all": ("전체", "All"),
    "status": ("상태", "Status"),
    "status.open": ("미처리 (발생·확인·반려)", "open"),
    "status.answered": (
        "처리 결과 보고 (승인·검토 대기)",
        "answered (awaiting approval or review)",
    ),
    "status.to_approve": ("승인 대기 (부서관리자)", "awaiting the manager's approval"),
    "status.review": ("검토 대기 (감사부서)", "awaiting the audit office's review"),
    "standing": ("처리 현황 요약", "Where the answer stands"),
    "standing.answer": ("담당자 답변", "The official's answer"),
    "standing.approved": ("부서관리자 승인", "Approved by the department manager"),
    "standing.sent_back.return": (
        "부서관리자 반려 - 보완해 다시 처리해 주십시오",
        "Returned by the department manager - please handle it again",
    ),
    "standing.sent_back.reject": (
        "감사부서 반려 - 다시 처리해 주십시오",
        "Rejected by the audit office - please handle it again",
    ),
    "auto.manager_answered": ("부서관리자 본인 조치", "answered by the department manager"),
    "auto.no_manager": ("승인할 부서관리자 없음", "no department manager to approve"),
    "rule": ("규칙", "Rule"),
    "severity": ("위험도", "Severity"),
    "department": ("부서", "Department"),
    "assignee": ("담당자", "Assignee"),
    "title": ("제목", "Title"),
    "created": ("발생일", "Raised"),
    "deadline": ("처리 기한", "Deadline"),
    "due": ("기한", "Due"),
    "due.overdue": ("기한 경과", "overdue"),
    "due.soon": ("7일 이내 만료", "due within 7 days"),
    "due_before": ("기한 ~까지", "Due by"),
    "record": ("대상 기록", "Record"),
    "count": ("건", "alerts"),
    "page": ("쪽", "page"),
    "prev": ("이전", "Previous"),
    "next": ("다음", "Next"),
    "none": ("해당하는 경보가 없습니다.", "No alerts."),
    "alert": ("경보", "Alert"),
    "message": ("내용", "Message"),
    "evidence": ("근거 자료", "Evidence"),
    "field": ("항목", "Field"),
    "value": ("값", "Value"),
    "about_rule": ("점검 규칙 설명", "The rule"),
    "basis": ("근거", "Legal basis"),
    "why": ("왜 문제인가", "Why it is a red flag"),
    "params": ("기준값", "Parameters"),
    "timeline": ("처리 이력 (감사 기록)", "Timeline (audit trail)"),
    "at": ("일시", "When"),
    "actor": ("처리자", "By"),
    "actor.system": ("시스템 (naebu)", "the system (naebu)"),
    "step": ("단계", "Step"),
    "comment": ("의견", "Comment"),
    "actions": ("처리", "Actions"),
    "no_actions": ("지금 할 수 있는 처리가 없습니다.", "No step is open to you now."),
    "comment.help": (
        "소명·오탐·반려에는 의견(사유)이 필요합니다.",
        "Explain, false positive, return and reject need a comment.",
    ),
    "reassign_to": ("재배정 대상", "Reassign to"),
    "done": ("처리되었습니다", "Done"),
    "refused": ("처리할 수 없습니다", "Refused"),
    "scorecard.title": (
        "부서별 경보 처리 현황 (최근 12개월)",
        "Department scorecard (last 12 months)",
    ),
    "raised": ("발생", "Raised"),
    "answered": ("처리", "Answered"),
    "on_time": ("기한 내 처리", "On time"),
    "on_time_rate": ("기한 내 처리율", "On-time rate"),
    "overdue": ("기한 경과", "Overdue"),
    "fp_rate": ("오탐률", "False-positive rate"),
    "repeats": ("재발생", "Repeat findings"),
    "step.acted": ("조치", "Acted"),
    "step.approved": ("승인", "Approved"),
    "step.confirmed": ("확인", "Confirmed"),
    "action_rate": ("조치율", "Action rate"),
    "approval_rate": ("승인율", "Approval rate"),
    "confirmation_rate": ("확인율", "Confirmation rate"),
    "timely_rate": ("적기 처리율", "On-time rate"),
    "rates.title": ("처리율의 정의", "What the rates mean"),
    "rates.action": (
        "조치율 = 담당자의 처리 결과(조치 완료·소명·오탐)가 유효한 경보 ÷ 발생 경보. 반려된 "
        "답변은 다시 처리할 때까지 세지 않습니다.",
        "Action rate = alerts with a standing answer (corrected, explained, false positive) "
        "/ alerts raised. A returned or rejected answer counts again only once re-answered.",
    ),
    "rates.approval": (
        "승인율 = 부서관리자가 승인한 처리 결과 ÷ 처리 결과가 유효한 경보. 부서관리자 본인이 "
        "처리했거나 승인할 부서관리자가 없는 경보는 처리와 함께 승인된 것으로 셉니다.",
        "Approval rate = answers the department manager approved / alerts with a standing "
        "answer. An answer by the manager, or in a department without one, counts as "
        "approved with the answer.",
    ),
    "rates.approval_off": (
        "이 기관은 부서관리자 승인 단계를 쓰지 않습니다 ([workflow] approval = false).",
        "This city has no approval step ([workflow] approval = false).",
    ),
    "rates.confirmation": (
        "확인율 = 감사부서가 확인(검토 승인, 종결)한 경보 ÷ 처리 결과가 유효한 경보.",
        "Confirmation rate = alerts the audit office confirmed (accepted, closed) / alerts "
        "with a standing answer.",
    ),
    "rates.timely": (
        "적기 처리율 = 처리 기한 안에 처리한 경보 ÷ (처리한 경보 + 기한이 지난 미처리 경보).",
        "On-time rate = alerts answered by their deadline / (alerts answered + open alerts "
        "past their deadline).",
    ),
    "rates.period": (
        "모두 최근 12개월 동안 발생한 경보를 발생 월 기준으로 셉니다 (예외 처리된 경보 제외).",
        "All count the alerts raised in the last 12 months, by month raised (suppressed "
        "alerts left out).",
    ),
    "trend": ("월별 추이", "Monthly trend"),
    # -- the fair ranking (issue 22, naebu.alerts.ranking) --
    "rank": ("순위", "Rank"),
    "rank.of": ("{rank}위 / {of}", "{rank} of {of}"),
    "rank.none": ("순위 없음", "not ranked"),
    "score": ("보정 점수", "Fair score"),
    "city_total": ("기관 전체", "City total"),
    "scorecard.fair.title": ("순위는 어떻게 정하나요", "How departments are ranked"),
    "scorecard.fair": (
        "경보가 1건뿐인 부서가 그 1건을 처리해 100%로 1위가 되지 않도록, 순위는 보정 점수로 "
        "정합니다. 각 처리율(조치율·승인율·확인율·적기 처리율)을 기관 전체 처리율 쪽으로 {prior}건"
        "만큼 끌어당긴 값, 곧 (부서의 건수 + {prior} × 기관 전체 처리율) ÷ (부서의 분모 + "
        "{prior})를 구해 평균한 것이 보정 점수입니다. 경보가 적은 부서는 기관 평균에 가깝게, 많은 "
        "부서는 자기 처리율에 가깝게 평가됩니다. 점수가 같으면 같은 순위입니다. 표에는 보정 전 "
        "처리율도 함께 보입니다.",
        "So that a department with a single alert handled does not top the ranking at 100%, "
        "departments are ranked by a fair score: each rate (action, approval, confirmation, "
        "on-time) is pulled toward the city's rate by {prior} alerts, (department's count + "
        "{prior} x city rate) / (department's denominator + {prior}), and the score is their "
        "mean. A department with few alerts scores near the city average; one with many keeps "
        "nearly its own rates. Equal scores share a rank. The table shows the raw rates too.",
    ),
    "scorecard.officials": ("담당자별 처리 현황", "Per official"),
    "scorecard.officials.who": (
        "담당자별 현황은 해당 부서의 부서관리자와 감사부서만 볼 수 있습니다.",
        "Only the department's manager and the audit office see the per-official rows.",
    ),
    "scorecard.xlsx": ("엑셀(XLSX)로 내려받기", "Download as XLSX"),
    "unassigned": ("미배정", "unassigned"),
    "no_department": ("부서 미지정", "no department"),
    "trend.raised": ("월별 발생 건수", "Alerts raised per month"),
    "trend.rates": ("월별 처리율 (발생 월 기준)", "Rates per month raised"),
    "trend.gaps": (
        "경보가 없는 달은 처리율이 없으므로 선을 잇지 않습니다 (회색: 경보 없음 또는 자료 없음).",
        "A month without alerts has no rate, so the lines are not joined across it (grey: no "
        "alerts, or no data yet).",
    ),
    "month.none": ("경보 없음", "no alerts"),
    "month.before": ("자료 없음 (첫 경보 이전)", "no data (before the first alert)"),
    "rules.title": ("점검 규칙 목록", "Rule catalog"),
    "lookalikes": ("정상 업무와의 구별", "Lawful look-alikes"),
    "lookalikes.pinned": ("확인 예시", "Pinned by the examples"),
    "lookalikes.fires": ("경보함", "fires"),
    "lookalikes.quiet": ("경보하지 않음", "does not fire"),
    "coverage.live": ("점검 중", "Live"),
    "coverage.not_evaluable": ("평가 불가", "Not evaluable"),
    "coverage.partial": ("일부 입력 없음", "Partial"),
    "coverage.missing": (
        "연결된 자료에 다음 항목이 없어 이 규칙은 점검하지 않으며 경보도 내지 않습니다",
        "Not run, and raises nothing: no source provides",
    ),
    "coverage.empty": (
        "자료가 없어 이 규칙은 점검하지 않으며 경보도 내지 않습니다",
        "Not run, and raises nothing, for want of data",
    ),
    "coverage.absent": ("다음 항목이 없는 채로 점검합니다", "Checked without"),
    "coverage.fallback": ("대신 적용하는 기준", "Checked instead by"),
    "findings_12m": ("최근 12개월 경보", "Findings, last 12 months"),
    "precision": ("정확도 (오탐 제외 비율)", "Precision (not false positive)"),
    "corrected": ("조치", "corrected"),
    "explained": ("소명", "explained"),
    "false_positive": ("오탐", "false positive"),
    "accepted": ("감사 승인", "accepted by audit"),
    "deadline_days": ("처리 기한 (영업일)", "Deadline (business days)"),
    "quality": (
        "규칙 품질 (최근 12개월, 발생 월 기준)",
        "Rule quality (last 12 months, by month raised)",
    ),
    "q.month": ("월", "Month"),
    "q.alerts": ("경보", "Alerts"),
    "q.answered": ("답변", "Answered"),
    "q.confirmed": ("감사 종결", "Confirmed"),
    "q.fp": ("오탐", "False positives"),
    "q.fp_rate": ("오탐률", "FP rate"),
    "q.reasons": ("오탐 사유", "FP reasons"),
    "q.excluded": ("예외 보류", "Excluded"),
    "q.exclusions": ("예외 등록", "Exclusions"),
    "q.withdrawn": ("철회", "Withdrawn"),
    "q.at_stake": ("대상 금액", "At stake"),
    "q.recovered": ("환수액", "Recovered"),
    "q.total": ("합계", "Total"),
    "q.none": ("최근 12개월에 경보가 없습니다.", "No alerts in the last 12 months."),
    "reason_code": ("오탐 사유 (오탐 처리 시)", "Reason (for a false positive)"),
    "recovered": ("환수액 (조치 완료 시, 원)", "Recovered (with Corrected, KRW)"),
    "recovered.bad": ("환수액은 숫자로 적으십시오", "give the recovered amount as a number"),
    "supp.code": ("사유 코드", "Reason code"),
    "dataset": ("데이터", "Dataset"),
    "supp.title": ("경보 예외 처리", "Suppressions"),
    "supp.add": ("예외 처리 등록", "Add a suppression"),
    "supp.remove": ("해제", "Remove"),
    "supp.target": ("대상", "Target"),
    "supp.record_key": ("기록 키", "Record key"),
    "supp.column": ("컬럼", "Column"),
    "supp.value": ("값", "Value"),
    "supp.reason": ("사유", "Reason"),
    "supp.until": ("만료일", "Expires"),
    "supp.author": ("등록자", "Author"),
    "supp.state": ("상태", "State"),
    "supp.active": ("적용 중", "active"),
    "supp.ended": ("종료", "ended"),
    "supp.unit": ("건", " alert(s)"),
    "supp.remove_reason": ("해제 사유", "Reason for removing"),
    "supp.add.hint": (
        "기록 키 하나, 또는 컬럼과 값을 지정합니다. 등록 전에 숨겨질 처리 중인 경보를 "
        "미리 보여 드립니다.",
        "Give a record key, or a column and its value. Before saving, you see the open "
        "alerts it would hide.",
    ),
    "supp.preview": ("미리 보기", "Preview"),
    "supp.preview.title": (
        "예외 처리 미리 보기 (아직 저장되지 않음)",
        "Suppression preview (not saved yet)",
    ),
    "supp.preview.count": (
        "이 예외 처리를 등록하면 숨겨지는 처리 중인 경보:",
        "Open alerts this suppression would hide:",
    ),
    "supp.preview.none": (
        "지금 숨겨지는 경보는 없고, 앞으로 발견되는 건부터 적용됩니다.",
        "none now; it applies to what is found from now on.",
    ),
    "supp.preview.more": ("목록에 다 싣지 못한 경보", "Alerts not listed here"),
    "supp.preview.elsewhere": (
        "볼 권한이 없는 다른 부서의 경보",
        "Alerts of departments you may not see",
    ),
    "supp.record": ("대상 기록", "Record"),
    "supp.facts": ("근거 자료", "Evidence"),
    "supp.confirm": ("등록 (경보 숨기기)", "Save (hide the alerts)"),
    "supp.edit": ("입력 내용 고치기", "Back to the form"),
    "supp.saved": ("예외 처리를 등록했습니다", "Suppression saved"),
    "supp.hid": ("숨긴 경보", "alerts hidden:"),
    "nav.drafts": ("규칙 변경안", "Rule changes"),
    "drafts.title": ("규칙 변경안 (모의 적용과 승인)", "Rule changes (simulation and approval)"),
    "drafts.status.draft": ("승인 대기", "awaiting approval"),
    "drafts.status.approved": ("승인됨", "approved"),
    "drafts.status.live": ("적용 중", "live"),
    "drafts.status.withdrawn": ("철회", "withdrawn"),
    "drafts.proposed_by": ("제안", "Proposed by"),
    "drafts.approved_by": ("승인", "Approved by"),
    "drafts.alerts": ("경보 수 (현재 → 변경 후)", "Alerts (now → after)"),
    "drafts.added": ("늘어나는 경보", "Added"),
    "drafts.removed": ("줄어드는 경보", "Removed"),
    "drafts.confirmed_lost": ("놓치게 되는 확인된 위반", "Confirmed findings lost"),
    "drafts.fp_removed": ("없어지는 오탐", "False positives removed"),
    "drafts.precision_before": ("정확도 (현재)", "Precision now"),
    "drafts.precision_after": ("정확도 (변경 후)", "Precision after"),
    "drafts.definition": (
        "정확도는 담당자가 답변한 경보 가운데 조치 완료로 답한 경보의 비율입니다 (소명과 오탐은 "
        "확인된 위반이 아님). 괄호 안은 확인된 위반 수와 답변 수, 그리고 95% 윌슨 신뢰구간입니다. "
        "변경 후 새로 생기는 경보는 아직 답변이 없어 정확도에 넣지 않습니다.",
        "Precision = alerts answered as corrected / alerts answered (explained and false "
        "positive are not confirmed findings); in brackets the counts and the 95% Wilson score "
        "interval. Alerts the change adds have no answer yet and are not counted.",
    ),
    "drafts.not_simulated": ("아직 모의 적용하지 않았습니다", "Not simulated yet"),
    "drafts.reason": ("승인 사유", "Why it is approved"),
    "drafts.approve": ("승인", "Approve"),
    "drafts.none": ("규칙 변경안이 없습니다.", "No rule change has been proposed."),
    "forbidden": ("이 경보를 볼 권한이 없습니다.", "You may not see this alert."),
    "forbidden.page": ("이 화면을 볼 권한이 없습니다.", "You may not see this page."),
    "notfound": ("찾을 수 없습니다.", "Not found."),
    "login.expired": (
        "로그인 시간이 만료되었습니다. 다시 로그인하십시오.",
        "Your session has expired. Please sign in again.",
    ),
    "login.expired.draft": (
        "로그인 시간이 만료되었습니다. 작성하던 내용은 보관했습니다. 다시 로그인하면 "
        "경보 화면에 그대로 돌려 드립니다 (처리되지 않았습니다).",
        "Your session has expired. What you typed is kept: sign in again and it is back on "
        "the alert page (nothing was done with it).",
    ),
    "draft.restored": (
        "작성하던 내용을 되살렸습니다. 확인한 뒤 처리 버튼을 다시 누르십시오.",
        "What you typed is back. Check it and press the button again.",
    ),
    "typed.kept": (
        "입력한 내용은 아래에 그대로 남아 있습니다.",
        "What you typed is still below.",
    ),
    "error.404": ("요청하신 화면을 찾을 수 없습니다.", "Page not found."),
    "error.404.detail": (
        "주소가 바뀌었거나 없는 화면입니다. 경보함에서 다시 찾아 주십시오.",
        "The address may have changed or never existed. Find it again from the inbox.",
    ),
    "error.405": (
        "이 방식으로는 열 수 없는 주소입니다.",
        "This address cannot be opened this way.",
    ),
    "error.405.detail": (
        "처리 버튼이 보내는 주소를 직접 열었거나 새로 고쳤을 수 있습니다. 경보 화면에서 "
        "다시 진행하십시오.",
        "You may have opened or reloaded the address a button posts to. Continue from the "
        "alert page.",
    ),
    "error.500": ("일시적인 오류가 발생했습니다.", "Something went wrong."),
    "error.500.detail": (
        "오류는 기록되었습니다. 잠시 후 다시 시도하고, 계속되면 시스템 담당자에게 알려 주십시오.",
        "The error was logged. Try again in a moment; if it persists, tell the system "
        "administrator.",
    ),
    "error.back": ("경보함으로 돌아가기", "Back to the inbox"),
    "csrf": (
        "요청을 확인할 수 없습니다 (CSRF 토큰 누락). 화면을 새로 고친 뒤 다시 시도하십시오.",
        "The request could not be verified (missing CSRF token). Reload the page and retry.",
    ),
    "lang.other": ("English", "한국어"),
    "action.acknowledge": ("확인", "Acknowledge"),
    "action.correct": ("조치 완료", "Corrected"),
    "action.explain": ("소명", "Explain"),
    "action.false_positive": ("오탐", "False positive"),
    "action.approve": ("승인 (감사부서로)", "Approve (on to the audit office)"),
    "action.return": ("반려 (담당자에게)", "Return (to the official)"),
    "action.accept": ("검토 승인 (종결)", "Accept (close)"),
    "action.reject": ("검토 반려", "Reject"),
    "action.reassign": ("재배정", "Reassign"),
    "trail.raise": ("발생", "raised"),
    "trail.suppress": ("예외 처리", "suppressed"),
    "trail.reopen": ("재발생", "reopened"),
    "trail.case_update": ("같은 사안의 기록 추가", "records joined the case"),
    "trail.follow_up": ("종결된 사안의 후속 경보", "follow-up of a closed case"),
    "trail.unsuppress": ("예외 해제 후 발생", "unsuppressed"),
    "trail.escalate": ("기한 경과 보고", "escalated"),
    "trail.escalate_approval": ("승인 지연 보고", "approval delay reported"),
    "trail.withdraw": ("철회 (늦게 입력된 자료 반영)", "withdrawn (late records)"),
    "severity.low": ("낮음", "low"),
    "severity.medium": ("보통", "medium"),
    "severity.high": ("높음", "high"),
    "severity.critical": ("심각", "critical"),
}


def translator(lang: str) -> Callable[[str], str]:
    """``t(key)`` for ``lang``: the word, a status label, or the key itself when unknown."""
    i = 1 if lang == "en" else 0
    statuses = STATUS_LABELS["en" if lang == "en" else "ko"]

    def t(key: str) -> str:
        if key in _TEXT:
            return _TEXT[key][i]
        if key.startswith("status.") and key[7:] in statuses:
            return statuses[key[7:]]
        if key.startswith("trail.") and f"action.{key[6:]}" in _TEXT:
            return _TEXT[f"action.{key[6:]}"][i]
        return key.split(".", 1)[-1]

    return t
