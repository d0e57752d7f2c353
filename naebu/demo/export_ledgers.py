"""The demo city's ledgers as the systems of another city export them (``--shape exports``).

One function per ledger: canonical frame in, :class:`~naebu.demo.export_text.ExportFile` out,
with Korean headers and each system's habits: its encoding, title lines above the header, its
date form, amounts with separators (and ``원``), coded values in its own words, figures left
to derive (appraisal count and mean, attendees, statutory days), and what naebu holds as one
dataset split over several files (attendance: 초과근무, 휴가, 출장). The HR export has no role
column. ``examples/exports-city/config.toml`` maps every file back.

Systems and their habits (folder: date form, encoding):

- ``인사/`` (HR, e-사람 style): ``2025.03.12``, cp949 (the department list UTF-8 with a BOM)
- ``e호조/`` (finance): ``20250312``, cp949, XLSX for the vendor and account lists; vouchers
  and receipts in ``재정.sqlite`` (tables with Korean column names)
- ``공유재산/`` (property): ``2025.03.12``, UTF-8 with a BOM
- ``새올/`` (permits and levies): ``2025-03-12``, cp949 / UTF-8 with a BOM
- ``카드사/`` (card company): ``20250312``, monthly files, odd months cp949, even UTF-8 with BOM
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo.export_text import (
    DOTS,
    ISO,
    YMD,
    ExportFile,
    amounts,
    clock,
    days,
    frame,
    numbers,
    stamps,
    text,
    words,
)

BOM = "utf-8-sig"
DB = "재정.sqlite"

#: Codes in the systems' words (canonical -> what the system writes).
CONTRACT_CATEGORY = {
    "물품": ("물품구매", "물품제조"),
    "용역": ("일반용역", "기술용역"),
    "공사": ("종합공사", "전문공사"),
}
CONTRACT_METHOD = {
    "수의": ("수의계약", "1인 수의", "2인 이상 견적"),
    "일반경쟁": "일반경쟁입찰",
    "제한경쟁": "제한경쟁입찰",
    "지명경쟁": "지명경쟁입찰",
}
SALE_METHOD = {"일반입찰": "일반경쟁입찰", "수의": "수의매각"}
OWNER_TYPE = {"일반": "일반기업"}
RECEIPT_TYPE = {"property_sale": "공유재산 매각대금", "levy": "세외수입"}
LEAVE_TYPE = {
    "연가": "연가(전일)",
    "병가": "병가(일반)",
    "공가": "공가(공무)",
    "특별휴가": "특별휴가(경조사)",
}
TRIP_TYPE = {"관내출장": "관내", "관외출장": "관외"}
PERMIT_STATUS = {
    "허가": "처리완료(허가)",
    "불허": "처리완료(불허)",
    "처리중": "처리중",
    "접수": "접수",
}
ACCOUNT_PURPOSE = {
    "세입": "세입금 수납",
    "세출": "세출 지급",
    "보조금": "보조금 관리",
    "기금": "기금 관리",
    "보관금": "세입세출외현금(보관금)",
}
ACCOUNT_STATUS = {"사용": "정상", "해지": "해지"}


def departments(df: pd.DataFrame) -> ExportFile:
    """부서 현황: code first, UTF-8 with a BOM, header on row 1."""
    cols = {
        "부서코드": text(df["code"]),
        "부서명": text(df["department"]),
        "상위부서": text(df["parent"]),
    }
    return ExportFile("departments", "인사/부서현황.csv", frame(cols), BOM)


def employees(df: pd.DataFrame) -> ExportFile:
    """직원 현황: no role column; 재직상태 in words (재직, 휴직, 퇴직); two title lines."""
    active = df["active"].fillna(False).astype(bool).to_numpy()
    status = np.where(active, "재직", np.where(df["retired_on"].notna(), "퇴직", "휴직"))
    cols = {
        "사번": text(df["employee_id"]),
        "성명": text(df["name"]),
        "소속": text(df["department"]),
        "직위": text(df["position"]),
        "상급자사번": text(df["supervisor_id"]),
        "전자우편": text(df["email"]),
        "급여계좌": text(df["account_no"]),
        "재직상태": status,
        "임용일": days(df["hired_on"], DOTS),
        "퇴직일": days(df["retired_on"], DOTS),
    }
    title = ("직원 현황", "출력일: 2025.12.31  한빛시 인사정보시스템")
    return ExportFile("employees", "인사/직원현황.csv", frame(cols), "cp949", title)


def vendors(df: pd.DataFrame) -> ExportFile:
    """거래처 현황: an XLSX sheet with typed date cells, one title line."""
    cols = {
        "거래처코드": text(df["vendor_id"]),
        "거래처명": text(df["name"]),
        "사업자번호": text(df["business_no"]),
        "기업구분": words(df["owner_type"], OWNER_TYPE, np.random.default_rng(0)),
        "계좌번호": text(df["account_no"]),
        "계좌변경일": _cells(df["account_changed_on"], day=True),
        "최종수정일시": _cells(df["updated_at"], day=False),
    }
    return ExportFile("vendors", "e호조/거래처현황.xlsx", frame(cols), title=("거래처 현황",))


def contracts(df: pd.DataFrame, rng: np.random.Generator) -> ExportFile:
    """계약대장: 계약구분 and 계약방법 in the system's words, amounts with 원, two title lines."""
    cols = {
        "계약번호": text(df["contract_id"]),
        "계약부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "업체코드": text(df["vendor_id"]),
        "계약명": text(df["title"]),
        "계약구분": words(df["category"], CONTRACT_CATEGORY, rng),
        "계약방법": words(df["method"], CONTRACT_METHOD, rng),
        "수의계약사유": text(df["sole_source_ground"]),
        "계약금액": amounts(df["amount"], "원"),
        "계약일자": days(df["contract_date"], YMD),
        "검수일자": days(df["inspection_date"], YMD),
        "수정일시": stamps(df["updated_at"]),
    }
    title = ("2025년 계약대장", "출력일시: 2025-12-31 18:00")
    return ExportFile("contracts", "e호조/계약대장_2025.csv", frame(cols), "cp949", title)


def payments(df: pd.DataFrame) -> ExportFile:
    """지출결의 (SQLite table): numbers typed, days as ``YYYYMMDD`` text, 변경일시 the watermark.

    Two more rows a connector must quarantine follow the real ones (지출일자 ``20251301``,
    지출금액 ``미정``), as in the canonical city.
    """
    cols = {
        "지출결의번호": text(df["payment_id"]),
        "지출부서": text(df["department"]),
        "기안자": text(df["official_id"]),
        "결재자": text(df["approver_id"]),
        "거래처코드": text(df["vendor_id"]),
        "계약번호": text(df["contract_id"]),
        "채주명": text(df["payee_name"]),
        "입금계좌": text(df["payee_account"]),
        "지출금액": df["amount"].to_numpy(dtype=object),
        "지출일자": days(df["paid_on"], YMD),
        "세금계산서승인번호": text(df["invoice_no"]),
        "적요": text(df["purpose"]),
        "변경일시": stamps(df["updated_at"]),
    }
    out = frame(cols)
    n = len(df)
    bad = out.iloc[[n // 3, n // 2]].copy()
    bad["지출결의번호"] = [f"P2025-{n + 1:07d}", f"P2025-{n + 2:07d}"]
    bad.iloc[0, bad.columns.get_loc("지출일자")] = "20251301"
    bad.iloc[1, bad.columns.get_loc("지출금액")] = "미정"
    out = pd.concat([out, bad], ignore_index=True)
    return ExportFile("payments", DB, out, table="지출결의")


def receipts(df: pd.DataFrame) -> ExportFile:
    """세입수납 (SQLite table): 수납구분 in words (세외수입, 공유재산 매각대금)."""
    cols = {
        "수납번호": text(df["receipt_id"]),
        "수납부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "수납구분": words(df["ref_type"], RECEIPT_TYPE, np.random.default_rng(0)),
        "부과번호": text(df["ref_id"]),
        "납부자": text(df["payer_name"]),
        "수납금액": df["amount"].to_numpy(dtype=object),
        "수납일자": days(df["received_on"], YMD),
        "입금계좌": text(df["account_no"]),
        "변경일시": stamps(df["updated_at"]),
    }
    return ExportFile("receipts", DB, frame(cols), table="세입수납")


def property_sales(df: pd.DataFrame, rng: np.random.Generator) -> ExportFile:
    """매각대장: each appraisal in its own columns (감정평가액1-3, 감정평가일1-3), no count or
    mean; the oldest appraisal is in a random slot. UTF-8 with a BOM, ``2025.03.12``."""
    n = len(df)
    count = df["appraisal_count"].fillna(0).to_numpy(dtype=np.int64)
    mean = df["appraisal_mean"].to_numpy(dtype="float64", na_value=np.nan)
    oldest = df["appraisal_date"].to_numpy(dtype="datetime64[ns]")
    # Two appraisals straddle the mean by up to 5% (whole thousands: the mean stays exact).
    spread = np.round(np.nan_to_num(mean) * rng.uniform(0, 0.05, n), -3)
    later = oldest + rng.integers(0, 21, n).astype("timedelta64[D]")
    first_old = rng.random(n) < 0.5
    value = np.full((n, 3), np.nan)
    when = np.full((n, 3), np.datetime64("NaT"), dtype="datetime64[ns]")
    one, two = count == 1, count == 2
    value[one, 0], when[one, 0] = mean[one], oldest[one]
    a, b = np.where(first_old, 0, 1), np.where(first_old, 1, 0)
    rows = np.flatnonzero(two)
    value[rows, a[rows]], when[rows, a[rows]] = mean[rows] + spread[rows], oldest[rows]
    value[rows, b[rows]], when[rows, b[rows]] = mean[rows] - spread[rows], later[rows]
    assert not (count > 2).any(), "the demo has at most two appraisals a sale"
    cols: dict[str, object] = {
        "매각번호": text(df["sale_id"]),
        "관리부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "소재지번": text(df["parcel_id"]),
        "분할전지번": text(df["parent_parcel_id"]),
        "매수인": text(df["buyer_name"]),
        "매각방법": words(df["method"], SALE_METHOD, rng),
        "수의매각사유": text(df["ground_code"]),
    }
    for i in range(3):
        cols[f"감정평가액{i + 1}"] = amounts(pd.Series(value[:, i]))
        cols[f"감정평가일{i + 1}"] = days(pd.Series(when[:, i]), DOTS)
    cols |= {
        "예정가격": amounts(df["planned_price"]),
        "최초예정가격": amounts(df["initial_planned_price"]),
        "직전예정가격": amounts(df["previous_planned_price"]),
        "입찰회차": numbers(df["tender_round"].astype("Float64")),
        "매각금액": amounts(df["sale_price"]),
        "계약일": days(df["contract_date"], DOTS),
        "잔금납부기한": days(df["due_date"], DOTS),
        "소유권이전일": days(df["title_transfer_date"], DOTS),
        "수정일시": stamps(df["updated_at"]),
    }
    title = ("공유재산 매각 대장 (2025년)",)
    return ExportFile("property_sales", "공유재산/매각대장_2025.csv", frame(cols), BOM, title)


def cards(df: pd.DataFrame, employees: pd.DataFrame) -> list[ExportFile]:
    """The card company's monthly approval files: no 결제방법 (a card file holds card
    payments only), attendees only in words (대상인원 ``팀장 등 4명``), ``YYYYMMDD`` days,
    amounts with separators. Two rows a connector must quarantine are added (승인일자
    ``20250230`` in February, 승인금액 ``1만2천원?`` in March), as in the canonical city.

    The canonical city's one cash payment (a near-miss of CARD-SPLIT) is not in a card
    company's file and is left out. The file holds every card of the city: 카드구분 tells
    업무추진비 cards from 일반구매 ones.
    """
    df = df[df["payment_method"] == "카드"]
    order = np.lexsort(
        (df["approved_time"].fillna(pd.Timedelta(0)).to_numpy(), df["approved_date"].to_numpy())
    )
    df = df.iloc[order]
    name_of = employees.set_index("employee_id")["name"]
    cols = {
        "승인일자": days(df["approved_date"], YMD),
        "승인시각": clock(df["approved_time"]),
        "승인번호": text(df["approval_id"]),
        "카드번호": text(df["card_no"]),
        "사원번호": text(df["holder_id"]),
        "카드소지자": name_of.loc[df["holder_id"]].to_numpy(dtype=object),
        "부서명": text(df["department"]),
        "가맹점명": text(df["merchant_name"]),
        "업종": text(df["merchant_category"]),
        "가맹점주소": text(df["merchant_address"]),
        "승인금액": amounts(df["amount"]),
        "대상인원": text(df["attendees_text"]),
        "사용목적": text(df["purpose"]),
        "카드구분": text(df["card_kind"]),
    }
    out = frame(cols)
    month = np.array([d[:6] for d in out["승인일자"]], dtype=object)
    taken = set(out["승인번호"])
    fresh = [str(n) for n in range(99_999_999, 99_999_000, -1) if str(n) not in taken][:2]
    files = []
    for ym in sorted(set(month)):
        part = out[month == ym]
        if ym == "202502":
            bad = part.iloc[[0]].copy()
            bad["승인번호"], bad["승인일자"] = fresh[0], "20250230"
            part = pd.concat([part, bad], ignore_index=True)
        if ym == "202503":
            bad = part.iloc[[0]].copy()
            bad["승인번호"], bad["승인금액"] = fresh[1], "1만2천원?"
            part = pd.concat([part, bad], ignore_index=True)
        encoding = "cp949" if int(ym[4:]) % 2 else BOM
        path = f"카드사/승인내역_{ym}.csv"
        files.append(ExportFile("card_transactions", path, part.reset_index(drop=True), encoding))
    return files


def attendance(df: pd.DataFrame, employees: pd.DataFrame) -> list[ExportFile]:
    """Attendance as three files keyed by 사번 and the day, no record number:

    - 초과근무: every day the official worked (and any overtime claimed on a leave day),
      초과근무시간 ``0`` when none; ``2025.03.12``; cp949
    - 휴가: leave days, 휴가종류 in words (``연가(전일)``), 휴가시간 (8, 4); ``2025.03.12``;
      cp949, a title line
    - 출장: trip days, 출장구분 ``관내``/``관외``, 출장시간; ``20250312``; UTF-8 with a BOM
    """
    name_of = employees.set_index("employee_id")["name"]
    leave = df["leave_type"].notna().to_numpy()
    trip = df["trip_type"].notna().to_numpy()
    worked = ~leave | (df["overtime_hours"].fillna(0).to_numpy() > 0)
    rng = np.random.default_rng(0)

    w = df[worked]
    overtime = {
        "사번": text(w["employee_id"]),
        "성명": name_of.loc[w["employee_id"]].to_numpy(dtype=object),
        "부서": text(w["department"]),
        "근무일자": days(w["work_date"], DOTS),
        "초과근무시간": numbers(w["overtime_hours"]),
        "등록일시": stamps(w["updated_at"]),
    }
    lv = df[leave]
    leaves = {
        "사번": text(lv["employee_id"]),
        "성명": name_of.loc[lv["employee_id"]].to_numpy(dtype=object),
        "부서": text(lv["department"]),
        "휴가일자": days(lv["work_date"], DOTS),
        "휴가종류": words(lv["leave_type"], LEAVE_TYPE, rng),
        "휴가시간": numbers(lv["leave_hours"]),
    }
    tr = df[trip]
    trips = {
        "출장자사번": text(tr["employee_id"]),
        "소속": text(tr["department"]),
        "출장일": days(tr["work_date"], YMD),
        "출장구분": words(tr["trip_type"], TRIP_TYPE, rng),
        "출장시간": numbers(tr["trip_hours"]),
    }
    return [
        ExportFile("attendance", "인사/초과근무_2025.csv", frame(overtime), "cp949"),
        ExportFile(
            "attendance", "인사/휴가_2025.csv", frame(leaves), "cp949", ("휴가 사용 내역 (2025년)",)
        ),
        ExportFile("attendance", "인사/출장_2025.csv", frame(trips), BOM),
    ]


def permits(df: pd.DataFrame) -> ExportFile:
    """인허가 처리대장: ISO days, 법정처리기간 as ``20일``, 처리상태 in words, two title lines."""
    cols = {
        "접수번호": text(df["permit_id"]),
        "처리부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "민원사무명": text(df["permit_type"]),
        "신청인": text(df["applicant"]),
        "접수일자": days(df["received_on"], ISO),
        "접수일시": stamps(df["received_at"]),
        "처리일자": days(df["decided_on"], ISO),
        "처리일시": stamps(df["decided_at"]),
        "법정처리기간": numbers(df["legal_days"].astype("Float64"), "일"),
        "처리기한": days(df["due_on"], ISO),
        "처리상태": words(df["status"], PERMIT_STATUS, np.random.default_rng(0)),
        "최종처리일시": stamps(df["updated_at"]),
    }
    title = ("민원 인허가 처리대장", "조회기간: 2025-01-01 ~ 2025-12-31")
    return ExportFile("permits", "새올/인허가처리대장_2025.csv", frame(cols), "cp949", title)


def levies(df: pd.DataFrame) -> ExportFile:
    """세외수입 부과내역: amounts with 원, ``2025.03.12``, UTF-8 with a BOM."""
    cols = {
        "부과번호": text(df["levy_id"]),
        "부과부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "인허가번호": text(df["permit_id"]),
        "세목": text(df["levy_type"]),
        "납부자": text(df["payer_name"]),
        "부과금액": amounts(df["amount"], "원"),
        "감면금액": amounts(df["reduction_amount"], "원"),
        "감면사유코드": text(df["reduction_code"]),
        "감면사유": text(df["reduction_reason"]),
        "부과일자": days(df["levied_on"], DOTS),
        "납기일자": days(df["due_date"], DOTS),
        "수정일시": stamps(df["updated_at"]),
    }
    return ExportFile("levies", "새올/세외수입부과_2025.csv", frame(cols), BOM)


def payroll(df: pd.DataFrame) -> ExportFile:
    """급여 지급명세: 귀속연월 ``2025-01``, 지급일 ``2025.01.20``, cp949."""
    cols = {
        "명세번호": text(df["pay_line_id"]),
        "이체파일번호": text(df["transfer_id"]),
        "담당부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "사번": text(df["employee_id"]),
        "귀속연월": days(df["pay_month"], "%Y-%m"),
        "지급일": days(df["paid_on"], DOTS),
        "실지급액": amounts(df["amount"]),
        "입금계좌": text(df["account_no"]),
        "처리일시": stamps(df["updated_at"]),
    }
    return ExportFile("payroll", "인사/급여지급명세_2025.csv", frame(cols), "cp949")


def payroll_transfers(df: pd.DataFrame) -> ExportFile:
    """급여 일괄이체: 귀속연월 ``2025년 01월``, 이체건수 ``100건``, a title line, UTF-8 BOM."""
    cols = {
        "이체파일번호": text(df["transfer_id"]),
        "담당부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "귀속연월": days(df["pay_month"], "%Y년 %m월"),
        "이체일자": days(df["paid_on"], YMD),
        "이체총액": amounts(df["total_amount"], "원"),
        "이체건수": numbers(df["line_count"].astype("Float64"), "건"),
        "처리일시": stamps(df["updated_at"]),
    }
    title = ("급여 일괄이체 내역",)
    return ExportFile("payroll_transfers", "인사/급여이체_2025.csv", frame(cols), BOM, title)


def subsidies(df: pd.DataFrame) -> ExportFile:
    """보조금 교부결정: amounts with 원, ``YYYYMMDD``, cp949, three title lines."""
    cols = {
        "교부결정번호": text(df["grant_id"]),
        "소관부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "보조사업명": text(df["program"]),
        "보조사업자번호": text(df["recipient_id"]),
        "보조사업자명": text(df["recipient_name"]),
        "교부결정액": amounts(df["amount"], "원"),
        "교부결정일": days(df["decided_on"], YMD),
        "수정일시": stamps(df["updated_at"]),
    }
    title = ("보조금 교부결정 내역", "회계연도: 2025", "(단위: 원)")
    return ExportFile("subsidies", "e호조/보조금교부결정_2025.csv", frame(cols), "cp949", title)


def accounts(df: pd.DataFrame) -> ExportFile:
    """공금 계좌 현황 (XLSX): the base date only in the title (``기준일``), 계좌용도 and 상태
    in words, typed date cells, three title lines."""
    cols = {
        "계좌번호": text(df["account_no"]),
        "관리부서": text(df["department"]),
        "담당자": text(df["official_id"]),
        "은행명": text(df["bank"]),
        "계좌용도": words(df["purpose"], ACCOUNT_PURPOSE, np.random.default_rng(0)),
        "가상계좌대역": text(df["virtual_accounts"]),
        "개설일": _cells(df["opened_on"], day=True),
        "최종거래일": _cells(df["last_activity_on"], day=True),
        "상태": words(df["status"], ACCOUNT_STATUS, np.random.default_rng(0)),
    }
    as_of = pd.Timestamp(df["as_of"].max()).strftime(DOTS)
    title = ("공금 계좌 현황", f"기준일: {as_of}", "한빛시 재무과")
    return ExportFile("accounts", "e호조/공금계좌현황.xlsx", frame(cols), title=title)


def _cells(s: pd.Series, day: bool) -> np.ndarray:
    """Typed spreadsheet cells: ``datetime.date`` (``day``) or ``datetime``; None if missing."""
    v = pd.to_datetime(s)
    out = np.full(len(v), None, dtype=object)
    ok = v.notna().to_numpy()
    py = v[ok].dt.to_pydatetime()
    out[ok] = [x.date() for x in py] if day else list(py)
    return out


def all_ledgers(frames: dict[str, pd.DataFrame], seed: int) -> list[ExportFile]:
    """Every file of the exports city, from the canonical frames."""

    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([seed, 900 + stream])

    e = frames["employees"]
    return [
        departments(frames["departments"]),
        employees(e),
        vendors(frames["vendors"]),
        contracts(frames["contracts"], rng(1)),
        payments(frames["payments"]),
        receipts(frames["receipts"]),
        property_sales(frames["property_sales"], rng(2)),
        *cards(frames["card_transactions"], e),
        *attendance(frames["attendance"], e),
        permits(frames["permits"]),
        levies(frames["levies"]),
        payroll(frames["payroll"]),
        payroll_transfers(frames["payroll_transfers"]),
        subsidies(frames["subsidies"]),
        accounts(frames["accounts"]),
    ]
