"""Files shaped like real Korean exports, for tests/test_suggest.py: what each system writes
(Korean headers, CP949, title lines above the header, 20250312 or 2025.03.12 dates, amounts with
commas, values in the system's words) and what a right suggestion maps."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Export:
    """A file as a city system exports it, and what a right suggestion maps."""

    name: str
    dataset: str
    preamble: list[list[str]]
    header: list[str]
    rows: list[list[str]]
    expected: dict[str, str]  # canonical column -> header
    encoding: str = "cp949"


def title(text: str, width: int) -> list[list[str]]:
    return [[text] + [""] * (width - 1), [""] * width, ["(단위: 원)"] + [""] * (width - 1)]


def rows(n: int, make) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [make(i) for i in range(n)]


EXPORTS = [
    Export(
        "지출결의내역_202503.csv",
        "payments",
        title("2025년 3월 지출결의 내역 (e-호조)", 11),
        [
            "지출결의번호",
            "회계연도",
            "지출부서",
            "기안자",
            "채주명",
            "계좌번호",
            "지급액(원)",
            "지급일자",
            "계약번호",
            "적요",
            "세금계산서번호",
        ],  # fmt: skip
        rows(
            40,
            lambda i: [
                f"2025-지출-{1000 + i}",
                "2025",
                "회계과",
                f"E10{i % 7}",
                f"(주)한빛상사{i % 5}",
                f"110-{i:03d}-55{i:04d}",
                f"{(i + 1) * 12345:,}",
                f"202503{i % 28 + 1:02d}",
                f"C-2025-{i % 9}",
                "사무용품 구입",
                f"TX{i:05d}",
            ],
        ),  # fmt: skip
        {
            "payment_id": "지출결의번호",
            "department": "지출부서",
            "official_id": "기안자",
            "payee_name": "채주명",
            "payee_account": "계좌번호",
            "amount": "지급액(원)",
            "paid_on": "지급일자",
            "contract_id": "계약번호",
            "purpose": "적요",
            "invoice_no": "세금계산서번호",
        },  # fmt: skip
    ),
    Export(
        "카드승인내역.csv",
        "card_transactions",
        [
            ["법인카드 승인내역 조회", "", "", "", "", "", "", "", ""],
            ["조회기간: 2025.03.01 ~ 2025.03.31", "", "", "", "", "", "", "", ""],
        ],
        [
            "승인번호",
            "승인일자",
            "승인시간",
            "카드번호",
            "가맹점명",
            "업종",
            "이용금액",
            "부서명",
            "카드구분",
            "결제구분",  # last: a test drops it
        ],  # fmt: skip
        rows(
            60,
            lambda i: [
                f"{30000000 + i * 17}",
                f"2025.03.{i % 28 + 1:02d}",
                f"{(i * 5) % 24:02d}:{i % 60:02d}:00",
                f"9410-****-****-{1000 + i % 4}",
                ["한우마을", "스타벅스 시청점", "노래타운", "김밥천국"][i % 4],
                ["일반음식점", "커피전문점", "유흥주점", "분식"][i % 4],
                f"{(i + 3) * 7100:,}",
                "총무과",
                ["업무추진비", "업무추진비", "일반구매"][i % 3],
                ["신용카드", "체크카드"][i % 2],
            ],
        ),  # fmt: skip
        {
            "approval_id": "승인번호",
            "approved_date": "승인일자",
            "approved_time": "승인시간",
            "card_no": "카드번호",
            "merchant_name": "가맹점명",
            "merchant_category": "업종",
            "amount": "이용금액",
            "department": "부서명",
            "payment_method": "결제구분",
            "card_kind": "카드구분",
        },  # fmt: skip
    ),
    Export(
        "계약대장.csv",
        "contracts",
        title("계약 대장", 9),
        [
            "계약번호",
            "계약명",
            "계약구분",
            "계약방법",
            "계약금액",
            "계약일자",
            "계약부서",
            "업체명",
            "검수일자",
        ],  # fmt: skip
        rows(
            30,
            lambda i: [
                f"C-2025-{i:03d}",
                f"청사 {i}층 보수공사",
                ["물품구매", "일반용역", "시설공사"][i % 3],
                ["수의계약", "일반경쟁입찰", "2인 이상 견적", "제한경쟁"][i % 4],
                f"{(i + 1) * 990000:,}",
                f"2025{i % 12 + 1:02d}15",
                "회계과",
                f"한빛건설{i % 3}",
                f"2025{i % 12 + 1:02d}28",
            ],
        ),  # fmt: skip
        {
            "contract_id": "계약번호",
            "title": "계약명",
            "category": "계약구분",
            "method": "계약방법",
            "amount": "계약금액",
            "contract_date": "계약일자",
            "department": "계약부서",
            "inspection_date": "검수일자",
        },  # fmt: skip
    ),
    Export(
        "근태현황.csv",
        "attendance",
        [["복무 관리 - 근태 현황", "", "", "", "", ""], ["", "", "", "", "", ""]],
        ["공무원번호", "소속", "근무일자", "휴가종류", "출장구분", "초과근무시간"],
        rows(
            50,
            lambda i: [
                f"E10{i % 9}",
                "세무과",
                f"2025-03-{i % 28 + 1:02d}",
                ["", "연가", "병가", ""][i % 4],
                ["", "", "관내", "관외"][i % 4],
                str(i % 4),
            ],
        ),  # fmt: skip
        {
            "employee_id": "공무원번호",
            "department": "소속",
            "work_date": "근무일자",
            "leave_type": "휴가종류",
            "trip_type": "출장구분",
            "overtime_hours": "초과근무시간",
        },  # fmt: skip
    ),
    Export(
        "민원처리대장.csv",
        "permits",
        title("새올 민원 처리 대장", 8),
        [
            "접수번호",
            "민원사무명",
            "민원인",
            "접수일",
            "처리기한",
            "처리일",
            "처리상태",
            "처리부서",
        ],
        rows(
            30,
            lambda i: [
                f"2025-{i:05d}",
                ["도로점용허가", "옥외광고물 표시허가"][i % 2],
                f"홍길동{i}",
                f"2025-02-{i % 27 + 1:02d}",
                f"2025-03-{i % 27 + 1:02d}",
                ["", f"2025-03-{i % 27 + 1:02d}"][i % 2],
                ["처리중", "처리완료", "반려"][i % 3],
                "건설과",
            ],
        ),  # fmt: skip
        {
            "permit_id": "접수번호",
            "permit_type": "민원사무명",
            "applicant": "민원인",
            "received_on": "접수일",
            "due_on": "처리기한",
            "decided_on": "처리일",
            "status": "처리상태",
            "department": "처리부서",
        },  # fmt: skip
    ),
    Export(
        "세외수입부과.csv",
        "levies",
        title("세외수입 부과 내역", 8),
        ["부과번호", "세목명", "납부자", "부과금액", "감면액", "감면사유", "부과일자", "납기일자"],
        rows(
            30,
            lambda i: [
                f"L{i:06d}",
                "도로점용료",
                f"주식회사{i}",
                f"{(i + 1) * 50000:,}",
                f"{(i % 3) * 10000:,}",
                ["", "국가기관", "장애인"][i % 3],
                f"202503{i % 28 + 1:02d}",
                f"202504{i % 28 + 1:02d}",
            ],
        ),  # fmt: skip
        {
            "levy_id": "부과번호",
            "levy_type": "세목명",
            "payer_name": "납부자",
            "amount": "부과금액",
            "reduction_amount": "감면액",
            "reduction_code": "감면사유",
            "levied_on": "부과일자",
            "due_date": "납기일자",
        },  # fmt: skip
    ),
    Export(
        "공유재산매각.csv",
        "property_sales",
        title("공유재산 매각 현황", 9),
        [
            "매각번호",
            "소재지번",
            "매수인",
            "매각방법",
            "감정평가액",
            "예정가격",
            "낙찰가",
            "계약일",
            "입찰회차",
        ],  # fmt: skip
        rows(
            20,
            lambda i: [
                f"S-{i:04d}",
                f"한빛동 {100 + i}-{i % 5}",
                f"김철수{i}",
                ["일반경쟁입찰", "수의계약"][i % 2],
                f"{(i + 5) * 10_000_000:,}",
                f"{(i + 5) * 10_000_000:,}",
                f"{(i + 5) * 9_500_000:,}",
                f"2025.0{i % 9 + 1}.10",
                str(i % 3 + 1),
            ],
        ),  # fmt: skip
        {
            "sale_id": "매각번호",
            "parcel_id": "소재지번",
            "buyer_name": "매수인",
            "method": "매각방법",
            "appraisal_mean": "감정평가액",
            "planned_price": "예정가격",
            "sale_price": "낙찰가",
            "contract_date": "계약일",
            "tender_round": "입찰회차",
        },  # fmt: skip
    ),
    Export(
        "직원명부.csv",
        "employees",
        [["인사 현원 명부", "", "", "", "", "", ""]],
        ["공무원번호", "성명", "부서명", "직급", "이메일", "재직여부", "임용일자"],
        rows(
            20,
            lambda i: [
                f"E10{i:02d}",
                f"이영희{i}",
                "총무과",
                ["주무관", "팀장", "과장"][i % 3],
                f"e{i}@city.go.kr",
                "Y",
                f"20{10 + i % 10}0301",
            ],
        ),  # fmt: skip
        {
            "employee_id": "공무원번호",
            "name": "성명",
            "department": "부서명",
            "position": "직급",
            "email": "이메일",
            "active": "재직여부",
            "hired_on": "임용일자",
        },  # fmt: skip
    ),
    Export(
        "급여지급명세.csv",
        "payroll",
        title("2025년 3월 급여 지급 명세", 7),
        ["명세번호", "공무원번호", "귀속연월", "지급일자", "실지급액", "급여계좌", "이체번호"],
        rows(
            20,
            lambda i: [
                f"P{i:05d}",
                f"E10{i:02d}",
                "2025-03-01",
                "20250320",
                f"{3_000_000 + i * 1000:,}",
                f"1002-{i:03d}-1234",
                "T-202503",
            ],
        ),  # fmt: skip
        {
            "pay_line_id": "명세번호",
            "employee_id": "공무원번호",
            "pay_month": "귀속연월",
            "paid_on": "지급일자",
            "amount": "실지급액",
            "account_no": "급여계좌",
            "transfer_id": "이체번호",
        },  # fmt: skip
    ),
    Export(
        "세입수납.csv",
        "receipts",
        title("세입 수납 내역", 6),
        ["수납번호", "수납구분", "부과번호", "납부자명", "수납금액", "수납일자"],
        rows(
            20,
            lambda i: [
                f"R{i:05d}",
                ["재산매각", "세외수입"][i % 2],
                f"L{i:06d}",
                f"박민수{i}",
                f"{(i + 1) * 30000:,}",
                f"2025.03.{i % 28 + 1:02d}",
            ],
        ),  # fmt: skip
        {
            "receipt_id": "수납번호",
            "ref_type": "수납구분",
            "ref_id": "부과번호",
            "payer_name": "납부자명",
            "amount": "수납금액",
            "received_on": "수납일자",
        },  # fmt: skip
    ),
    Export(
        "보조금교부.csv",
        "subsidies",
        title("지방보조금 교부 결정 내역", 6),
        ["교부결정번호", "보조사업명", "보조사업자", "사업자등록번호", "교부결정액", "교부결정일"],
        rows(
            20,
            lambda i: [
                f"G{i:04d}",
                "청년창업지원",
                f"협동조합{i}",
                f"123-45-{i:05d}",
                f"{(i + 1) * 1_000_000:,}",
                f"202503{i % 28 + 1:02d}",
            ],
        ),  # fmt: skip
        {
            "grant_id": "교부결정번호",
            "program": "보조사업명",
            "recipient_name": "보조사업자",
            "recipient_id": "사업자등록번호",
            "amount": "교부결정액",
            "decided_on": "교부결정일",
        },  # fmt: skip
    ),
    Export(
        "공금계좌현황.csv",
        "accounts",
        title("공금 계좌 현황", 7),
        ["계좌번호", "은행명", "관리부서", "계좌용도", "개설일자", "최종거래일", "상태"],
        rows(
            15,
            lambda i: [
                f"100-{i:03d}-000{i}",
                "농협은행",
                "회계과",
                ["세입", "세출", "보조금"][i % 3],
                f"2019010{i % 9 + 1}",
                f"2025020{i % 9 + 1}",
                ["정상", "해지"][i % 2],
            ],
        ),  # fmt: skip
        {
            "account_no": "계좌번호",
            "bank": "은행명",
            "department": "관리부서",
            "purpose": "계좌용도",
            "opened_on": "개설일자",
            "last_activity_on": "최종거래일",
            "status": "상태",
        },  # fmt: skip
    ),
    Export(
        "거래처목록.csv",
        "vendors",
        [["거래처 관리", "", "", "", "", ""]],
        ["거래처코드", "거래처명", "사업자등록번호", "기업구분", "등록계좌번호", "계좌변경일자"],
        rows(
            15,
            lambda i: [
                f"V{i:04d}",
                f"(주)한빛{i}",
                f"220-81-{i:05d}",
                ["일반", "여성기업"][i % 2],
                f"301-{i:04d}-11",
                f"2024-1{i % 3}-01",
            ],
        ),  # fmt: skip
        {
            "vendor_id": "거래처코드",
            "name": "거래처명",
            "business_no": "사업자등록번호",
            "owner_type": "기업구분",
            "account_no": "등록계좌번호",
            "account_changed_on": "계좌변경일자",
        },  # fmt: skip
    ),
]


def write(folder: Path, export: Export) -> Path:
    path = folder / export.name
    with path.open("w", encoding=export.encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows([*export.preamble, export.header, *export.rows])
    return path
