"""Evidence as people read it (alerts/evidence_text.py): labels, 원, weekdays and holidays,
officials by name, missing values as a word, a case's member records. The scan of the whole
demo's renderings is tests/test_demo_scan.py."""

from __future__ import annotations

import re

from naebu.alerts.directory import Directory, Official
from naebu.alerts.evidence_text import case_members, evidence_lines
from naebu.core.dataset_model import COLUMN_KINDS
from naebu.core.datasets import DATASETS

HANGUL = re.compile(r"[가-힣]")
ALL_COLUMNS = {c.name for d in DATASETS.values() for c in d.columns}


def test_every_column_has_a_korean_label_an_english_description_and_a_kind() -> None:
    for d in DATASETS.values():
        for c in d.columns:
            assert HANGUL.search(c.label), (d.name, c.name)
            assert c.description, (d.name, c.name)
            assert c.kind in COLUMN_KINDS, (d.name, c.name, c.kind)


def test_kinds_follow_type_and_name() -> None:
    payments = DATASETS["payments"].by_name
    assert payments["amount"].kind == "money"
    assert payments["paid_on"].kind == "date"
    assert payments["official_id"].kind == "person"
    assert payments["payment_id"].kind == "code"
    assert payments["payee_account"].kind == "code"  # declared: not a text to read
    assert payments["updated_at"].kind == "instant"
    assert DATASETS["attendance"].by_name["overtime_hours"].kind == "hours"
    assert DATASETS["property_sales"].by_name["tender_round"].unit == "회"
    assert DATASETS["payroll"].by_name["pay_month"].kind == "month"
    assert (
        dict(evidence_lines({"pay_month": "2025-12-01"}, "payroll"))["귀속 연월"] == "2025년 12월"
    )


PAYMENT = {
    "payment_id": "P2025-0007506",
    "department": "회계과",
    "official_id": "E69651",
    "paid_on": "2025-11-12",
    "payee_name": "(주)삼정컨설팅",
    "payee_account": "110-2345-6775-79",
    "amount": 12954000,
    "purpose": None,
    "holder.employee_id": "E97400",
    "holder.name": "노재훈",
    "vendors.account_changed_on": "2025-10-03",
    "group.count": 3,
    "group.sum_amount": 30000000,
}


def test_payment_evidence_in_korean() -> None:
    directory = Directory([Official("E69651", "김민수", "회계과", "주무관")])
    lines = dict(evidence_lines(PAYMENT, "payments", "ko", directory))
    assert lines["지출결의번호"] == "P2025-0007506"
    assert lines["지출 부서"] == "회계과"
    assert lines["기안자"] == "김민수 주무관"
    assert lines["지급일"] == "2025-11-12(수)"
    assert lines["지급액"] == "12,954,000원"
    assert lines["적요"] == "없음"
    assert lines["채주 계좌번호"].endswith("75-79") and "2345" not in lines["채주 계좌번호"]
    assert lines["계좌 주인 직원 공무원번호"] == "E97400"
    assert lines["계좌 주인 직원 성명"] == "노재훈"
    assert lines["거래처 계좌 변경일"] == "2025-10-03(금, 개천절)"
    assert lines["건수"] == "3건"
    assert lines["합계 지급액"] == "30,000,000원"


def test_unknown_official_and_units_and_english() -> None:
    lines = dict(evidence_lines(PAYMENT, "payments", "ko"))
    assert lines["기안자"] == "E69651"  # no directory: the id
    permit = {"legal_days": 3, "legal_unit": "시간", "decided_at": "2025-10-06 16:57:00"}
    lines = dict(evidence_lines(permit, "permits", "ko"))
    assert lines["법정 처리기간"] == "3시간"
    assert lines["처리일시"] == "2025-10-06(월, 추석) 16:57"
    assert dict(evidence_lines({"legal_days": 20}, "permits", "ko"))["법정 처리기간"] == "20일"
    english = dict(evidence_lines(PAYMENT, "payments", "en"))
    assert english["amount paid"] == "KRW 12,954,000"
    assert english["day paid"].startswith("2025-11-12 (Wed)")


def test_unknown_keys_are_readable_and_the_inbox_may_see_them_unmasked() -> None:
    lines = evidence_lines({"sum_total": 5, "memo_text": "x"}, "payments", "ko")
    assert [label for label, _ in lines] == ["합계 total", "memo text"]
    full = dict(evidence_lines(PAYMENT, "payments", "ko", mask=False))
    assert full["채주 계좌번호"] == "110-2345-6775-79"


CASE = {
    "record_id": "A-3",
    "employee_id": "E69651",
    "work_date": "2026-03-04",
    "overtime_hours": 4.0,
    "group.sum_overtime_hours": 10.5,
    "case.members": [
        {"record_id": "A-1", "employee_id": "E69651", "work_date": "2026-03-01", "overtime_hours": 4.0},
        {"record_id": "A-2", "employee_id": "E69651", "work_date": "2026-03-02", "overtime_hours": 2.5},
        {"record_id": "A-3", "employee_id": "E69651", "work_date": "2026-03-04", "overtime_hours": None},
    ],
    "case.count": 60,
}  # fmt: skip


def test_a_case_lists_its_member_records_by_the_same_labels_and_kinds() -> None:
    directory = Directory([Official("E69651", "김민수", "회계과", "주무관")])
    members = case_members(CASE, "attendance", "ko", directory)
    assert members is not None and members.count == 60
    assert members.heading == "대상 기록 60건"
    # the official is the same in every record and shown above: not repeated on each line
    assert members.lines() == [
        "근태 기록번호 A-1: 근무일 2026-03-01(일, 삼일절) · 초과근무시간 4시간",
        "근태 기록번호 A-2: 근무일 2026-03-02(월, 삼일절 대체 휴일) · 초과근무시간 2.5시간",
        "근태 기록번호 A-3: 근무일 2026-03-04(수) · 초과근무시간 없음",
        "외 57건",
    ]
    assert members.compact().splitlines()[0] == "대상 기록 60건"
    english = case_members(CASE, "attendance", "en", directory)
    assert english is not None and english.heading == "60 records"
    assert english.lines()[0].startswith("daily attendance record A-1: day 2026-03-01 (Sun")
    assert english.more == "and 57 more"
    # the case keys are a section of their own, never an evidence line
    labels = [label for label, _ in evidence_lines(CASE, "attendance", "ko", directory)]
    assert labels == ["근태 기록번호", "공무원번호", "근무일", "초과근무시간", "합계 초과근무시간"]
    assert dict(evidence_lines(CASE, "attendance", "ko"))["합계 초과근무시간"] == "10.5시간"


def test_case_members_are_masked_and_a_single_record_has_none() -> None:
    pay = {
        "payment_id": "P-1",
        "case.members": [
            {"payment_id": "P-1", "payee_account": "110-2345-6775-79", "amount": 30806000},
            {"payment_id": "P-2", "payee_account": "110-2345-6775-79", "amount": 3081000},
        ],
    }
    members = case_members(pay, "payments", "ko")
    assert members is not None and members.count == 2 and members.more == ""
    assert (
        members.lines()[1]
        == "지출결의번호 P-2: 채주 계좌번호 ***-****-**75-79 · 지급액 3,081,000원"
    )
    unmasked = case_members(pay, "payments", "ko", mask=False)
    assert unmasked is not None and "110-2345-6775-79" in unmasked.lines()[0]
    assert case_members(PAYMENT, "payments", "ko") is None


def test_a_duplicate_shows_every_records_amount_but_not_its_shared_vendor() -> None:
    """Amounts and dates are on every line however alike (a duplicate's amounts are the
    point); who and what the case is about (the vendor, the invoice) only above."""
    shared = {"vendor_id": "V-1", "invoice_no": "INV-7", "amount": 3208000}
    pair = {
        "payment_id": "P-1",
        **shared,
        "case.members": [
            {"payment_id": "P-1", "paid_on": "2025-04-08", **shared},
            {"payment_id": "P-2", "paid_on": "2025-04-17", **shared},
        ],
        "case.count": 2,
    }
    members = case_members(pair, "payments", "ko")
    assert members is not None
    assert members.lines() == [
        "지출결의번호 P-1: 지급일 2025-04-08(화) · 지급액 3,208,000원",
        "지출결의번호 P-2: 지급일 2025-04-17(목) · 지급액 3,208,000원",
    ]
