"""Canonical datasets: the fixed column names and types that rules speak of.

Connectors map each source onto one of these datasets (``config.toml``); rules name a dataset
and its columns; the checker refuses a column that is not declared here. Column types are the
small set the expression language knows:

- ``str``       text (pandas string dtype)
- ``int``       whole number (pandas ``Int64``, nullable)
- ``number``    amount or quantity (``float64``; KRW amounts are exact up to 2**53)
- ``date``      calendar day (``datetime64[ns]`` at midnight)
- ``datetime``  instant (``datetime64[ns]``, naive local time, Asia/Seoul)
- ``time``      time of day (``timedelta64[ns]`` since midnight); kept apart from the date because
                card companies and disclosures often give a date without a time
- ``bool``      flag (pandas ``boolean``, nullable)

Each dataset names its record key (unique per record), the column that carries its event time,
the department in charge and, where the record has one, the official in charge. Routing and
deadlines read those roles instead of guessing column names.

Each column has a Korean label (``Column.label``: 지출결의번호, 채주 계좌번호, 초과근무시간), the
term officials use, besides its English description: what officials and auditors read (the rule
catalog's missing inputs, engine/coverage.py ``describe``) names a column by its label, never by
its name; English text uses the description.
"""

from __future__ import annotations

from naebu.core.dataset_model import COLUMN_TYPES as COLUMN_TYPES
from naebu.core.dataset_model import Column as Column
from naebu.core.dataset_model import Dataset as Dataset
from naebu.core.dataset_model import coded as _coded
from naebu.core.dataset_model import columns_of as _cols

#: Kinds of card (카드 구분) and of leave (휴가 종류), the codes rules compare against.
CARD_KINDS = ("업무추진비", "일반구매", "여비", "기타")
LEAVE_KINDS = ("연가", "병가", "공가", "특별휴가", "반일연가", "시간연가")

_UPDATED = (
    "updated_at",
    "datetime",
    "최종 수정일시",
    "last change in the source system (watermark)",
)

_PAY_MONTH = Column(
    "pay_month", "date", "first day of the month the pay is for", label="귀속 연월", kind="month"
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "departments",
            "부서",
            _cols(
                ("department", "str", "부서명", "department name", True),
                ("code", "str", "기관코드", "organisation code"),
                (
                    "parent",
                    "str",
                    "상위 부서",
                    "bureau or head the department reports to (실·국, 부시장)",
                ),
                (
                    "head_id",
                    "str",
                    "부서장",
                    "the head of the department (employee_id): a 부서관리자 when roles are derived",
                ),
            ),
            key="department",
            department="department",
            reference=True,
        ),
        Dataset(
            "employees",
            "직원 (담당자 명부)",
            _cols(
                ("employee_id", "str", "공무원번호", "employee number", True),
                ("name", "str", "성명", "full name"),
                ("department", "str", "소속 부서", "department name"),
                ("position", "str", "직위", "rank or title (주무관, 팀장, 과장...)"),
                ("grade", "str", "직급", "grade (6급, 지방행정사무관...), for derived roles"),
                _coded("role", "알림 역할", "alert role", "담당자", "부서관리자", "감사자"),
                ("supervisor_id", "str", "상급자", "the supervisor (employee_id)"),
                ("email", "str", "전자우편 주소", "mail address"),
                (
                    "notify_url",
                    "str",
                    "알림 주소",
                    "apprise URL(s) of this official, space separated",
                ),
                ("account_no", "str", "급여 계좌번호", "salary bank account"),
                ("active", "bool", "재직 여부", "false once retired or on long leave"),
                ("hired_on", "date", "임용일", "first day of service"),
                ("retired_on", "date", "퇴직일", "last day of service"),
            ),
            key="employee_id",
            department="department",
            official="employee_id",
            reference=True,
        ),
        Dataset(
            "vendors",
            "거래처",
            _cols(
                ("vendor_id", "str", "거래처 코드", "vendor code", True),
                ("name", "str", "상호", "trade name"),
                (
                    "business_no",
                    "str",
                    "사업자등록번호",
                    "business registration number",
                ),
                _coded(
                    "owner_type",
                    "기업 유형",
                    "kind of owner",
                    "일반",
                    "여성기업",
                    "장애인기업",
                    "사회적기업",
                ),
                ("account_no", "str", "등록 계좌번호", "registered bank account"),
                (
                    "account_changed_on",
                    "date",
                    "계좌 변경일",
                    "day the registered account last changed",
                ),
                _UPDATED,
            ),
            key="vendor_id",
            reference=True,
        ),
        Dataset(
            "contracts",
            "계약",
            _cols(
                ("contract_id", "str", "계약번호", "contract number", True),
                ("department", "str", "계약 부서", "contracting department"),
                ("official_id", "str", "계약 담당자", "official in charge"),
                ("vendor_id", "str", "거래처 코드", "vendor code"),
                ("title", "str", "계약명", "object of the contract"),
                _coded("category", "계약 종류", "what is bought", "물품", "용역", "공사"),
                _coded(
                    "method",
                    "계약방법",
                    "contracting method (계약 방법)",
                    "일반경쟁",
                    "제한경쟁",
                    "지명경쟁",
                    "수의",
                ),
                (
                    "sole_source_ground",
                    "str",
                    "수의계약 사유",
                    "legal ground of a sole-source contract",
                ),
                ("amount", "number", "계약금액", "contract amount, KRW", True),
                ("contract_date", "date", "계약일", "day signed", True),
                ("inspection_date", "date", "검수일", "day inspected and accepted (검수)"),
                _UPDATED,
            ),
            key="contract_id",
            event_time="contract_date",
            department="department",
            official="official_id",
        ),
        Dataset(
            "payments",
            "지출",
            _cols(
                ("payment_id", "str", "지출결의번호", "voucher number", True),
                ("department", "str", "지출 부서", "paying department"),
                ("official_id", "str", "기안자", "drafter"),
                ("approver_id", "str", "결재자", "approver"),
                ("vendor_id", "str", "거래처 코드", "payee vendor code"),
                ("contract_id", "str", "계약번호", "contract paid against"),
                ("payee_name", "str", "채주명", "payee name"),
                Column(
                    "payee_account", "str", "account paid into", label="채주 계좌번호", kind="code"
                ),
                ("amount", "number", "지급액", "amount paid, KRW", True),
                ("paid_on", "date", "지급일", "day paid", True),
                ("invoice_no", "str", "세금계산서 승인번호", "invoice number"),
                ("purpose", "str", "적요", "purpose of the payment"),
                _UPDATED,
            ),
            key="payment_id",
            event_time="paid_on",
            department="department",
            official="official_id",
            # payments before their contract's inspection; payments of a duplicated invoice
            lookups=("contract_id", "invoice_no"),
        ),
        Dataset(
            "property_sales",
            "공유재산 매각",
            _cols(
                ("sale_id", "str", "매각 관리번호", "sale number", True),
                ("department", "str", "재산관리 부서", "managing department"),
                ("official_id", "str", "재산관리 담당자", "official in charge"),
                ("parcel_id", "str", "지번", "parcel number"),
                ("parent_parcel_id", "str", "분할 전 지번", "lot the parcel was split from"),
                ("buyer_name", "str", "매수인", "buyer"),
                _coded("method", "매각방법", "sale method (매각 방법)", "일반입찰", "수의"),
                (
                    "ground_code",
                    "str",
                    "수의매각 사유 코드",
                    "sole-source ground (공유재산법 시행령 §38)",
                ),
                Column(
                    "appraisal_count",
                    "int",
                    "number of appraisals",
                    label="감정평가 건수",
                    unit="건",
                ),
                ("appraisal_mean", "number", "감정평가액 평균", "mean of the appraisals, KRW"),
                ("appraisal_date", "date", "감정평가일", "date of the oldest appraisal used"),
                (
                    "planned_price",
                    "number",
                    "예정가격",
                    "planned price of the round sold in, KRW",
                ),
                (
                    "initial_planned_price",
                    "number",
                    "최초 입찰 예정가격",
                    "planned price of the first tender round, KRW",
                ),
                (
                    "previous_planned_price",
                    "number",
                    "직전 회차 예정가격",
                    "planned price of the round before, KRW",
                ),
                Column(
                    "tender_round",
                    "int",
                    "tender round the sale was made in",
                    label="입찰 회차",
                    unit="회",
                ),
                ("sale_price", "number", "매각금액", "contracted price, KRW", True),
                ("contract_date", "date", "매각 계약일", "day the sale was contracted", True),
                ("due_date", "date", "잔금 납부기한", "day full payment is due"),
                ("title_transfer_date", "date", "소유권 이전일", "day title passed to the buyer"),
                _UPDATED,
            ),
            key="sale_id",
            event_time="contract_date",
            department="department",
            official="official_id",
        ),
        Dataset(
            "receipts",
            "세입 수납",
            _cols(
                ("receipt_id", "str", "수납번호", "receipt number", True),
                ("department", "str", "세입 부서", "department of the revenue"),
                ("official_id", "str", "수납 담당자", "official who recorded it"),
                _coded(
                    "ref_type",
                    "수납 대상 구분",
                    "what was paid: a property sale or a levy",
                    "property_sale",
                    "levy",
                ),
                ("ref_id", "str", "매각·부과 번호", "the sale or levy paid (sale_id or levy_id)"),
                ("payer_name", "str", "납부자", "payer"),
                ("amount", "number", "수납액", "amount received, KRW", True),
                ("received_on", "date", "수납일", "day received", True),
                ("account_no", "str", "입금 계좌번호", "account the money reached"),
                _UPDATED,
            ),
            key="receipt_id",
            event_time="received_on",
            department="department",
            official="official_id",
        ),
        Dataset(
            "card_transactions",
            "업무추진비 카드 승인",
            _cols(
                ("approval_id", "str", "승인번호", "approval number", True),
                ("department", "str", "카드 사용 부서", "card holder's department"),
                ("holder_id", "str", "카드 사용자", "card holder (employee_id)"),
                ("card_no", "str", "카드번호", "card number (masked)"),
                ("approved_date", "date", "승인일", "approval day", True),
                ("approved_time", "time", "승인시각", "approval time of day; empty when unknown"),
                ("merchant_name", "str", "가맹점명", "merchant"),
                ("merchant_category", "str", "가맹점 업종", "merchant category (업종)"),
                ("merchant_address", "str", "가맹점 주소", "merchant address"),
                ("amount", "number", "승인금액", "amount, KRW", True),
                Column(
                    "attendees", "int", "number of people served", label="대상인원 수", unit="명"
                ),
                (
                    "attendees_text",
                    "str",
                    "대상인원 기재 내용",
                    "attendees as written (대상인원), e.g. 행정팀장 등 3명",
                ),
                _coded(
                    "payment_method",
                    "결제방법",
                    "how it was paid (결제 방법)",
                    "카드",
                    "현금",
                    "계좌이체",
                    "기타",
                ),
                ("purpose", "str", "집행목적", "purpose"),
                # A card company's download holds every card: rules choose by params.card_kinds.
                _coded(
                    "card_kind", "카드 구분", "kind of card (일반구매: fuel, supplies)", *CARD_KINDS
                ),
            ),
            key="approval_id",
            event_time="approved_date",
            department="department",
            official="holder_id",
        ),
        Dataset(
            "attendance",
            "근태 (휴가·출장·초과근무)",
            _cols(
                ("record_id", "str", "근태 기록번호", "daily attendance record", True),
                ("employee_id", "str", "공무원번호", "employee", True),
                ("department", "str", "소속 부서", "department"),
                ("work_date", "date", "근무일", "day", True),
                _coded(
                    "leave_type",
                    "휴가 종류",
                    "kind of leave; empty if at work (반일연가: half a day, 시간연가: by the hour)",
                    *LEAVE_KINDS,
                ),
                ("leave_hours", "number", "휴가 시간", "hours of leave that day: 8 a day, 4 half"),
                _coded(
                    "trip_type",
                    "출장 구분",
                    "business trip (출장); empty if none",
                    "관내출장",
                    "관외출장",
                ),
                ("trip_hours", "number", "출장 시간", "hours of the business trip that day"),
                ("overtime_hours", "number", "초과근무시간", "overtime claimed that day, hours"),
                _UPDATED,
            ),
            key="record_id",
            event_time="work_date",
            department="department",
            official="employee_id",
        ),
        Dataset(
            "permits",
            "인허가",
            _cols(
                ("permit_id", "str", "인허가 접수번호", "permit case number", True),
                ("department", "str", "처리 부서", "handling department"),
                ("official_id", "str", "처리 담당자", "official in charge"),
                (
                    "permit_type",
                    "str",
                    "인허가 종류",
                    "kind of permit: 도로점용, 옥외광고물, 건축신고...",
                ),
                ("applicant", "str", "신청인", "applicant"),
                ("received_on", "date", "접수일", "day the application arrived", True),
                (
                    "received_at",
                    "datetime",
                    "접수일시",
                    "time of receipt: periods of 5 days or less run from it, in working hours",
                ),
                ("decided_on", "date", "처리일", "day decided; empty while open"),
                ("decided_at", "datetime", "처리일시", "time of the decision; empty while open"),
                Column(
                    "legal_days",
                    "int",
                    "statutory handling period; in days unless its unit says otherwise",
                    label="법정 처리기간",
                    unit="일",
                    unit_from="legal_unit",
                ),
                _coded(
                    "legal_unit",
                    "처리기간 단위",
                    "unit of the statutory period; empty means days",
                    "시간",
                    "일",
                    "주",
                    "월",
                    "년",
                ),
                (
                    "due_on",
                    "date",
                    "처리기한",
                    "statutory deadline: as 새올 computes it (민원처리법 제19조, working days "
                    "and hours), or derived with civil_deadline()",
                ),
                _coded(
                    "status",
                    "처리 상태",
                    "state of the case",
                    "접수",
                    "처리중",
                    "허가",
                    "불허",
                ),
                _UPDATED,
            ),
            key="permit_id",
            event_time="received_on",
            department="department",
            official="official_id",
        ),
        Dataset(
            "levies",
            "세외수입 부과",
            _cols(
                ("levy_id", "str", "부과번호", "levy number", True),
                ("department", "str", "부과 부서", "levying department"),
                ("official_id", "str", "부과 담당자", "official who levied"),
                ("permit_id", "str", "인허가 접수번호", "permit the levy belongs to"),
                ("levy_type", "str", "부과 종류", "kind of levy: 점용료, 과태료, 사용료..."),
                ("payer_name", "str", "납부자", "payer"),
                ("amount", "number", "부과금액", "levied amount before reductions, KRW", True),
                ("reduction_amount", "number", "감면액", "reduction (감면), KRW"),
                ("reduction_code", "str", "감면사유 코드", "legal ground code of the reduction"),
                (
                    "reduction_reason",
                    "str",
                    "감면 사유",
                    "the reduction's reason as written (감면사유명), e.g. 의견제출기한 내 자진납부 감경",
                ),
                ("levied_on", "date", "부과일", "day levied", True),
                ("due_date", "date", "납부기한", "payment due"),
                _UPDATED,
            ),
            key="levy_id",
            event_time="levied_on",
            department="department",
            official="official_id",
        ),
        Dataset(
            "payroll",
            "급여 지급 명세",
            _cols(
                ("pay_line_id", "str", "지급 명세 번호", "pay line number", True),
                (
                    "transfer_id",
                    "str",
                    "일괄이체 번호",
                    "bulk transfer (이체 파일) the line was paid in",
                ),
                ("department", "str", "급여 담당 부서", "department that ran the payroll"),
                ("official_id", "str", "급여 담당자", "payroll official who prepared the line"),
                ("employee_id", "str", "지급 대상 공무원번호", "employee paid", True),
                _PAY_MONTH,
                ("paid_on", "date", "지급일", "day paid", True),
                ("amount", "number", "실지급액", "net pay, KRW", True),
                ("account_no", "str", "입금 계좌번호", "account paid into"),
                _UPDATED,
            ),
            key="pay_line_id",
            event_time="paid_on",
            department="department",
            official="official_id",
        ),
        Dataset(
            "payroll_transfers",
            "급여 일괄이체",
            _cols(
                ("transfer_id", "str", "일괄이체 번호", "transfer file number", True),
                ("department", "str", "급여 담당 부서", "department that ran the payroll"),
                ("official_id", "str", "이체 담당자", "official who sent the file to the bank"),
                _PAY_MONTH,
                ("paid_on", "date", "이체일", "day transferred", True),
                (
                    "total_amount",
                    "number",
                    "이체 총액",
                    "total the bank was told to transfer, KRW",
                    True,
                ),
                Column(
                    "line_count",
                    "int",
                    "number of payees in the file",
                    label="지급 인원",
                    unit="명",
                ),
                _UPDATED,
            ),
            key="transfer_id",
            event_time="paid_on",
            department="department",
            official="official_id",
        ),
        Dataset(
            "subsidies",
            "보조금 교부",
            _cols(
                ("grant_id", "str", "교부결정 번호", "grant decision number", True),
                ("department", "str", "교부 부서", "granting department"),
                ("official_id", "str", "보조금 담당자", "official in charge"),
                ("program", "str", "보조사업명", "subsidy programme"),
                (
                    "recipient_id",
                    "str",
                    "보조사업자 등록번호",
                    "recipient's business or registration number",
                ),
                ("recipient_name", "str", "보조사업자", "recipient"),
                ("amount", "number", "교부액", "amount granted, KRW", True),
                (
                    "decided_on",
                    "date",
                    "교부결정일",
                    "day the grant was decided",
                    True,
                ),
                _UPDATED,
            ),
            key="grant_id",
            event_time="decided_on",
            department="department",
            official="official_id",
        ),
        Dataset(
            "accounts",
            "공금 계좌",
            _cols(
                ("account_no", "str", "계좌번호", "bank account number", True),
                ("department", "str", "관리 부서", "department holding the account"),
                ("official_id", "str", "계좌 관리 담당자", "official in charge of the account"),
                ("bank", "str", "은행", "bank"),
                _coded(
                    "purpose",
                    "계좌 용도",
                    "what the account is for",
                    "세입",
                    "세출",
                    "보조금",
                    "기금",
                    "보관금",
                ),
                ("opened_on", "date", "개설일", "day opened"),
                (
                    "last_activity_on",
                    "date",
                    "최종 거래일",
                    "day of the last deposit or withdrawal",
                ),
                _coded("status", "계좌 상태", "in use or closed", "사용", "해지"),
                (
                    "virtual_accounts",
                    "str",
                    "가상계좌 대역",
                    "per-payer virtual accounts that settle into this collection account: "
                    "leading digits (7901234) or ranges FROM~TO, separated by commas",
                ),
                ("as_of", "date", "기준일", "day the account list was taken"),
                _UPDATED,
            ),
            key="account_no",
            department="department",
            official="official_id",
            reference=True,
        ),
    ]
}


def get(name: str) -> Dataset:
    """Return the canonical dataset called ``name`` (KeyError if there is none)."""
    return DATASETS[name]
