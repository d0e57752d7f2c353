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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

COLUMN_TYPES = ("str", "int", "number", "date", "datetime", "time", "bool")


@dataclass(frozen=True)
class Column:
    """One column of a canonical dataset."""

    name: str
    type: str
    description: str = ""
    required: bool = False
    #: The canonical codes of a coded column (contract methods, leave types...): what rules
    #: compare against. A source's values are mapped onto them (``[sources.X.values.COLUMN]``).
    values: tuple[str, ...] = ()
    #: Whether ``values`` is the whole vocabulary: a source value outside it that no map
    #: covers is an "unmapped value", read as unknown (null) and reported.
    closed: bool = False


@dataclass(frozen=True)
class Dataset:
    """A canonical dataset: its columns and the roles some of them play."""

    name: str
    title: str
    columns: tuple[Column, ...]
    key: str
    event_time: str | None = None
    department: str | None = None
    official: str | None = None
    #: Reference data (the officials directory, vendors) is read whole on every pull,
    #: because a rule or the router needs all of it, not only what changed.
    reference: bool = False
    #: Columns records are looked up by across datasets (a contract's payments, the payments
    #: of one invoice number): indexed in the record history, so an incremental run reads
    #: those records by seeking, not by reading the table through.
    lookups: tuple[str, ...] = ()
    by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        for role in (self.key, self.event_time, self.department, self.official, *self.lookups):
            if role is not None and role not in self.by_name:
                raise ValueError(f"dataset {self.name}: role column {role!r} is not a column")

    @property
    def column_names(self) -> list[str]:
        """Column names in declaration order."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns a source row must carry (the key always)."""
        return [c.name for c in self.columns if c.required or c.name == self.key]


def _cols(*specs: tuple[str, str, str] | tuple[str, str, str, bool] | Column) -> tuple[Column, ...]:
    out = []
    for spec in specs:
        if isinstance(spec, Column):
            out.append(spec)
            continue
        name, typ, desc = spec[0], spec[1], spec[2]
        required = bool(spec[3]) if len(spec) > 3 else False
        assert typ in COLUMN_TYPES, (name, typ)
        out.append(Column(name, typ, desc, required))
    return tuple(out)


def _coded(name: str, description: str, *values: str, closed: bool = True) -> Column:
    """A text column holding one of ``values`` (a closed vocabulary unless ``closed=False``)."""
    return Column(name, "str", description, values=values, closed=closed)


_UPDATED = ("updated_at", "datetime", "last change in the source system (watermark)")

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "departments",
            "부서",
            _cols(
                ("department", "str", "department name (부서명)", True),
                ("code", "str", "organisation code (기관코드)"),
                ("parent", "str", "bureau or head the department reports to (실·국, 부시장)"),
                (
                    "head_id",
                    "str",
                    "employee_id of the head (부서장): a 부서관리자 when roles are derived",
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
                ("employee_id", "str", "employee number (공무원번호)", True),
                ("name", "str", "full name"),
                ("department", "str", "department name"),
                ("position", "str", "rank or title (주무관, 팀장, 과장...)"),
                ("grade", "str", "grade (직급: 6급, 지방행정사무관...), for derived roles"),
                _coded("role", "alert role", "담당자", "부서관리자", "감사자"),
                ("supervisor_id", "str", "employee_id of the supervisor"),
                ("email", "str", "mail address"),
                ("notify_url", "str", "apprise URL(s) of this official, space separated"),
                ("account_no", "str", "salary bank account"),
                ("active", "bool", "false once retired or on long leave"),
                ("hired_on", "date", "first day of service"),
                ("retired_on", "date", "last day of service"),
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
                ("vendor_id", "str", "vendor code", True),
                ("name", "str", "trade name"),
                ("business_no", "str", "business registration number (사업자등록번호)"),
                _coded(
                    "owner_type",
                    "kind of owner (기업 유형)",
                    "일반",
                    "여성기업",
                    "장애인기업",
                    "사회적기업",
                ),
                ("account_no", "str", "registered bank account"),
                ("account_changed_on", "date", "day the registered account last changed"),
                _UPDATED,
            ),
            key="vendor_id",
            reference=True,
        ),
        Dataset(
            "contracts",
            "계약",
            _cols(
                ("contract_id", "str", "contract number", True),
                ("department", "str", "contracting department"),
                ("official_id", "str", "official in charge"),
                ("vendor_id", "str", "vendor code"),
                ("title", "str", "object of the contract (계약명)"),
                _coded("category", "what is bought (계약 종류)", "물품", "용역", "공사"),
                _coded(
                    "method",
                    "contracting method (계약 방법)",
                    "일반경쟁",
                    "제한경쟁",
                    "지명경쟁",
                    "수의",
                ),
                ("sole_source_ground", "str", "legal ground of a sole-source contract"),
                ("amount", "number", "contract amount, KRW", True),
                ("contract_date", "date", "day signed", True),
                ("inspection_date", "date", "day inspected and accepted (검수)"),
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
                ("payment_id", "str", "voucher number (지출결의번호)", True),
                ("department", "str", "paying department"),
                ("official_id", "str", "drafter (기안자)"),
                ("approver_id", "str", "approver (결재자)"),
                ("vendor_id", "str", "payee vendor code"),
                ("contract_id", "str", "contract paid against"),
                ("payee_name", "str", "payee name"),
                ("payee_account", "str", "account paid into"),
                ("amount", "number", "amount paid, KRW", True),
                ("paid_on", "date", "day paid", True),
                ("invoice_no", "str", "invoice number"),
                ("purpose", "str", "purpose of the payment (적요)"),
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
                ("sale_id", "str", "sale number", True),
                ("department", "str", "managing department"),
                ("official_id", "str", "official in charge"),
                ("parcel_id", "str", "parcel number (지번)"),
                ("parent_parcel_id", "str", "lot the parcel was split from"),
                ("buyer_name", "str", "buyer"),
                _coded("method", "sale method (매각 방법)", "일반입찰", "수의"),
                ("ground_code", "str", "sole-source ground (공유재산법 시행령 §38)"),
                ("appraisal_count", "int", "number of appraisals"),
                ("appraisal_mean", "number", "mean of the appraisals, KRW"),
                ("appraisal_date", "date", "date of the oldest appraisal used"),
                ("planned_price", "number", "planned price (예정가격) of the round sold in, KRW"),
                ("initial_planned_price", "number", "planned price of the first tender round, KRW"),
                ("previous_planned_price", "number", "planned price of the round before, KRW"),
                ("tender_round", "int", "tender round the sale was made in"),
                ("sale_price", "number", "contracted price, KRW", True),
                ("contract_date", "date", "day the sale was contracted", True),
                ("due_date", "date", "day full payment is due"),
                ("title_transfer_date", "date", "day title passed to the buyer"),
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
                ("receipt_id", "str", "receipt number", True),
                ("department", "str", "department of the revenue"),
                ("official_id", "str", "official who recorded it"),
                _coded(
                    "ref_type", "what was paid: a property sale or a levy", "property_sale", "levy"
                ),
                ("ref_id", "str", "sale_id or levy_id paid"),
                ("payer_name", "str", "payer"),
                ("amount", "number", "amount received, KRW", True),
                ("received_on", "date", "day received", True),
                ("account_no", "str", "account the money reached"),
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
                ("approval_id", "str", "approval number", True),
                ("department", "str", "card holder's department"),
                ("holder_id", "str", "card holder (employee_id)"),
                ("card_no", "str", "card number (masked)"),
                ("approved_date", "date", "approval day", True),
                ("approved_time", "time", "approval time of day; empty when unknown"),
                ("merchant_name", "str", "merchant"),
                ("merchant_category", "str", "merchant category (업종)"),
                ("merchant_address", "str", "merchant address"),
                ("amount", "number", "amount, KRW", True),
                ("attendees", "int", "number of people served"),
                ("attendees_text", "str", "attendees as written (대상인원), e.g. 행정팀장 등 3명"),
                _coded(
                    "payment_method",
                    "how it was paid (결제 방법)",
                    "카드",
                    "현금",
                    "계좌이체",
                    "기타",
                ),
                ("purpose", "str", "purpose (집행목적)"),
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
                ("record_id", "str", "daily attendance record", True),
                ("employee_id", "str", "employee", True),
                ("department", "str", "department"),
                ("work_date", "date", "day", True),
                _coded(
                    "leave_type",
                    "kind of leave (휴가 종류); empty if at work",
                    "연가",
                    "병가",
                    "공가",
                    "특별휴가",
                ),
                _coded("trip_type", "business trip (출장); empty if none", "관내출장", "관외출장"),
                ("overtime_hours", "number", "overtime claimed that day, hours"),
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
                ("permit_id", "str", "permit case number", True),
                ("department", "str", "handling department"),
                ("official_id", "str", "official in charge"),
                ("permit_type", "str", "도로점용, 옥외광고물, 건축신고..."),
                ("applicant", "str", "applicant"),
                ("received_on", "date", "day the application arrived", True),
                ("decided_on", "date", "day decided; empty while open"),
                ("legal_days", "int", "statutory handling period, days"),
                ("due_on", "date", "statutory deadline (처리기한): received_on + legal_days"),
                _coded("status", "state of the case (처리 상태)", "접수", "처리중", "허가", "불허"),
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
                ("levy_id", "str", "levy number", True),
                ("department", "str", "levying department"),
                ("official_id", "str", "official who levied"),
                ("permit_id", "str", "permit the levy belongs to"),
                ("levy_type", "str", "점용료, 과태료, 사용료..."),
                ("payer_name", "str", "payer"),
                ("amount", "number", "levied amount before reductions, KRW", True),
                ("reduction_amount", "number", "reduction (감면), KRW"),
                ("reduction_code", "str", "legal ground code of the reduction"),
                ("levied_on", "date", "day levied", True),
                ("due_date", "date", "payment due"),
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
                ("pay_line_id", "str", "pay line number", True),
                ("transfer_id", "str", "bulk transfer (이체 파일) the line was paid in"),
                ("department", "str", "department that ran the payroll"),
                ("official_id", "str", "payroll official who prepared the line"),
                ("employee_id", "str", "employee paid", True),
                ("pay_month", "date", "first day of the month the pay is for"),
                ("paid_on", "date", "day paid", True),
                ("amount", "number", "net pay, KRW", True),
                ("account_no", "str", "account paid into"),
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
                ("transfer_id", "str", "transfer file number", True),
                ("department", "str", "department that ran the payroll"),
                ("official_id", "str", "official who sent the file to the bank"),
                ("pay_month", "date", "first day of the month the pay is for"),
                ("paid_on", "date", "day transferred", True),
                ("total_amount", "number", "total the bank was told to transfer, KRW", True),
                ("line_count", "int", "number of payees in the file"),
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
                ("grant_id", "str", "grant decision number", True),
                ("department", "str", "granting department"),
                ("official_id", "str", "official in charge"),
                ("program", "str", "subsidy programme (보조사업명)"),
                ("recipient_id", "str", "recipient's business or registration number"),
                ("recipient_name", "str", "recipient"),
                ("amount", "number", "amount granted, KRW", True),
                ("decided_on", "date", "day the grant was decided (교부결정일)", True),
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
                ("account_no", "str", "bank account number", True),
                ("department", "str", "department holding the account"),
                ("official_id", "str", "official in charge of the account"),
                ("bank", "str", "bank"),
                _coded(
                    "purpose",
                    "what the account is for (계좌 용도)",
                    "세입",
                    "세출",
                    "보조금",
                    "기금",
                    "보관금",
                ),
                ("opened_on", "date", "day opened"),
                ("last_activity_on", "date", "day of the last deposit or withdrawal"),
                _coded("status", "in use or closed (계좌 상태)", "사용", "해지"),
                ("as_of", "date", "day the account list was taken (기준일)"),
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
