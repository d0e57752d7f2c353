"""The bribery and fraud risks naebu's rules control, for the risk register (ISO 37001 4.5).

Each rule is a control over the risk of the ledger it reads: a rule on payments watches over
wrongful payments, one on property sales over favouritism in disposing of public property.
Named in the words of 지방자치단체 자체감사 (self-audit) practice.
"""

from __future__ import annotations

#: Dataset -> (risk, what could happen), Korean.
RISKS: dict[str, tuple[str, str]] = {
    "payments": ("부정 지급·횡령", "허위·중복 지급, 계좌 변경을 통한 지급금 유용"),
    "contracts": ("계약 비리", "분할·수의계약을 통한 특정 업체 특혜, 금품 수수"),
    "card_transactions": ("업무추진비 부정 사용", "사적 사용, 분할 결제, 제한 업종 결제"),
    "property_sales": ("공유재산 처분 비리", "감정가 미만 매각, 특혜 수의계약, 대금 미납 이전"),
    "receipts": ("세입금 횡령", "세입금의 타 계좌 수납·유용"),
    "attendance": ("초과근무수당 부정 수령", "허위 초과근무 기록, 휴가 중 초과근무"),
    "payroll": ("급여 부정 지급", "퇴직자·유령 직원에 대한 급여 지급"),
    "payroll_transfers": ("급여 이체 부정", "지급 총액을 넘는 이체, 이체금 유용"),
    "permits": ("인허가 지연·특혜", "처리 기한 초과, 선택적 처리를 통한 금품 요구"),
    "levies": ("부과·감면 특혜", "근거 없는 감면, 반복 감면, 부과 누락"),
    "subsidies": ("보조금 부정 수급", "중복 교부, 부정 수급"),
    "accounts": ("계좌 관리 소홀", "휴면·미승인 계좌를 통한 자금 유용"),
}
OTHER = ("기타 내부통제 위험", "규칙이 정의한 이상 거래")


def risk_of(dataset: str) -> tuple[str, str]:
    """The risk a rule reading ``dataset`` controls, and what could happen."""
    return RISKS.get(dataset, OTHER)
