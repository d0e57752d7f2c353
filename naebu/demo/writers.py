"""Writing the demo city as a city would deliver it.

- ``city.sqlite``: one table per dataset (card approvals excepted) under e-호조/새올-style source
  column names, dates as ``YYYYMMDD`` or ISO text, and an ``upd_dt`` change stamp (the watermark).
- ``card-drop/``: the card company's monthly CSV files with Korean headers, some cp949, some
  UTF-8 with a BOM, amounts with thousands separators.

The source names here are the ones ``config.toml`` maps back onto the canonical datasets.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from naebu.core import datasets

YMD = "%Y%m%d"
ISO_DAY = "%Y-%m-%d"
STAMP = "%Y-%m-%d %H:%M:%S"
WATERMARK = "upd_dt"


@dataclass(frozen=True)
class Table:
    """One source table: its name, canonical -> source columns, and non-ISO date formats."""

    dataset: str
    name: str
    columns: dict[str, str]
    formats: dict[str, str] = field(default_factory=dict)


def _t(dataset: str, name: str, cols: str, formats: Sequence[str] = ()) -> Table:
    """A table from ``"canonical=source ..."``; the columns in ``formats`` are ``YYYYMMDD``."""
    mapping = dict(pair.split("=") for pair in cols.split())
    return Table(dataset, name, mapping, {c: YMD for c in formats})


TABLES: tuple[Table, ...] = (
    _t(
        "departments",
        "cmm_dept",
        "department=dept_nm code=dept_cd parent=up_dept_nm head_id=dept_head_emp_no",
    ),
    _t(
        "employees",
        "hr_emp_mst",
        "employee_id=emp_no name=emp_nm department=dept_nm position=jikwi_nm grade=grd_nm "
        "role=alrm_role_nm supervisor_id=sprvsr_emp_no email=email_addr notify_url=ntcn_url "
        "account_no=slry_acnt_no active=hdof_yn hired_on=appnt_ymd retired_on=rtrm_ymd",
        ("hired_on", "retired_on"),
    ),
    _t(
        "vendors",
        "fin_cust_mst",
        "vendor_id=cust_cd name=cust_nm business_no=bizr_no owner_type=cust_se_nm "
        "account_no=acnt_no account_changed_on=acnt_chg_ymd updated_at=upd_dt",
        ("account_changed_on",),
    ),
    _t(
        "contracts",
        "ctrt_mst",
        "contract_id=ctrt_no department=dept_nm official_id=chrg_emp_no vendor_id=cust_cd "
        "title=ctrt_nm category=ctrt_se_nm method=ctrt_mthd_nm "
        "sole_source_ground=prvt_ctrt_rsn amount=ctrt_amt contract_date=ctrt_ymd "
        "inspection_date=insp_ymd updated_at=upd_dt",
        ("contract_date", "inspection_date"),
    ),
    _t(
        "payments",
        "expd_rsltn",
        "payment_id=pay_no department=dept_nm official_id=drft_emp_no approver_id=aprv_emp_no "
        "vendor_id=cust_cd contract_id=ctrt_no payee_name=rcvr_nm payee_account=rcvr_acnt_no "
        "amount=pay_amt paid_on=pay_ymd invoice_no=txinv_aprv_no purpose=expd_smry "
        "updated_at=upd_dt",
        ("paid_on",),
    ),
    _t(
        "property_sales",
        "prpt_sale",
        "sale_id=sale_no department=dept_nm official_id=chrg_emp_no parcel_id=lotno_addr "
        "parent_parcel_id=bfr_lotno_addr buyer_name=byr_nm method=sale_mthd_nm "
        "ground_code=prvt_rsn_cd appraisal_count=apprs_cnt appraisal_mean=apprs_avg_amt "
        "appraisal_date=apprs_ymd planned_price=prdt_prc initial_planned_price=frst_prdt_prc "
        "previous_planned_price=bfr_prdt_prc tender_round=bid_ord "
        "sale_price=sale_amt contract_date=ctrt_ymd due_date=pay_dln_ymd "
        "title_transfer_date=ownr_trsf_ymd updated_at=upd_dt",
    ),
    _t(
        "receipts",
        "rvn_rcpt",
        "receipt_id=rcpt_no department=dept_nm official_id=chrg_emp_no ref_type=rfrn_se "
        "ref_id=rfrn_no payer_name=pyr_nm amount=rcpt_amt received_on=rcpt_ymd "
        "account_no=rcpt_acnt_no updated_at=upd_dt",
        ("received_on",),
    ),
    _t(
        "attendance",
        "hr_atnd_dly",
        "record_id=atnd_no employee_id=emp_no department=dept_nm work_date=atnd_ymd "
        "leave_type=vctn_knd_nm leave_hours=vctn_hr trip_type=bztrp_se_nm trip_hours=bztrp_hr "
        "overtime_hours=ovtm_hr updated_at=upd_dt",
        ("work_date",),
    ),
    _t(
        "permits",
        "saeol_prmsn",
        "permit_id=aplct_no department=dept_nm official_id=chrg_emp_no "
        "permit_type=prmsn_knd_nm applicant=aplcnt_nm received_on=rcpt_ymd "
        "received_at=rcpt_dt decided_on=prcs_ymd decided_at=prcs_dt legal_days=lgl_prcs_dcnt "
        "legal_unit=lgl_prcs_unit_nm due_on=prcs_dln_ymd "
        "status=prcs_stts_nm updated_at=upd_dt",
    ),
    _t(
        "levies",
        "ntx_levy",
        "levy_id=levy_no department=dept_nm official_id=chrg_emp_no permit_id=aplct_no "
        "levy_type=levy_knd_nm payer_name=pyr_nm amount=levy_amt reduction_amount=rdcn_amt "
        "reduction_code=rdcn_rsn_cd reduction_reason=rdcn_rsn_nm levied_on=levy_ymd "
        "due_date=pay_dln_ymd updated_at=upd_dt",
        ("levied_on", "due_date"),
    ),
    _t(
        "payroll",
        "pay_slry_dtl",
        "pay_line_id=slry_dtl_no transfer_id=trsf_file_no department=dept_nm "
        "official_id=chrg_emp_no employee_id=emp_no pay_month=pay_ym paid_on=pay_ymd "
        "amount=rcpt_amt account_no=slry_acnt_no updated_at=upd_dt",
        ("pay_month", "paid_on"),
    ),
    _t(
        "payroll_transfers",
        "pay_bulk_trsf",
        "transfer_id=trsf_file_no department=dept_nm official_id=chrg_emp_no pay_month=pay_ym "
        "paid_on=trsf_ymd total_amount=trsf_tot_amt line_count=trsf_cnt updated_at=upd_dt",
        ("pay_month", "paid_on"),
    ),
    _t(
        "subsidies",
        "sbsd_grnt",
        "grant_id=grnt_dcsn_no department=dept_nm official_id=chrg_emp_no program=biz_nm "
        "recipient_id=rcpnt_no recipient_name=rcpnt_nm amount=grnt_amt decided_on=dcsn_ymd "
        "updated_at=upd_dt",
        ("decided_on",),
    ),
    _t(
        "accounts",
        "pbfn_acnt",
        "account_no=acnt_no department=dept_nm official_id=chrg_emp_no bank=bank_nm "
        "purpose=acnt_prps_nm opened_on=opn_ymd last_activity_on=last_trns_ymd "
        "status=acnt_stts_nm virtual_accounts=vrtl_acnt_band as_of=crtr_ymd "
        "updated_at=upd_dt",
        ("opened_on", "last_activity_on", "as_of"),
    ),
)

#: Card company file columns, canonical -> Korean header (카드소지자 carries the name only).
CARD_COLUMNS: dict[str, str] = {
    "approval_id": "승인번호",
    "department": "부서명",
    "holder_name": "카드소지자",
    "holder_id": "사원번호",
    "card_no": "카드번호",
    "approved_date": "승인일자",
    "approved_time": "승인시각",
    "merchant_name": "가맹점명",
    "merchant_category": "업종",
    "merchant_address": "가맹점주소",
    "amount": "승인금액",
    "attendees": "인원",
    "attendees_text": "대상인원",  # in words, "팀장 등 4명"
    "payment_method": "결제방법",
    "purpose": "사용목적",
    "card_kind": "카드구분",  # 업무추진비, 일반구매
}
#: Odd months arrive in cp949 (older card-company exports), even months in UTF-8 with a BOM.
CARD_ENCODINGS = ("cp949", "utf-8-sig")


def _values(s: pd.Series, typ: str, fmt: str | None) -> list[Any]:
    """One canonical column as the Python values the source system stores (vectorised)."""
    if typ in ("date", "datetime"):
        return _date_texts(s.to_numpy(dtype="datetime64[ns]"), typ == "datetime", fmt).tolist()
    if typ == "bool":
        return np.where(s.fillna(False).astype(bool), "Y", "N").tolist()
    if typ in ("number", "int"):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        nan = np.isnan(v)
        filled = np.where(nan, 0.0, v)
        if (filled == np.round(filled)).all():
            return _with_nulls(filled.astype(np.int64).tolist(), nan)
        return _with_nulls(filled.tolist(), nan)
    v = s.to_numpy(dtype=object, copy=True)
    v[pd.isna(v)] = None
    return v.tolist()


#: ``HH:MM:SS`` for every second of a day (a lookup: formatting a million stamps is slow).
_CLOCK = np.array(
    [f" {h:02d}:{m:02d}:{sec:02d}" for h in range(24) for m in range(60) for sec in range(60)],
    dtype=object,
)


def _date_texts(v: np.ndarray, with_time: bool, fmt: str | None) -> np.ndarray:
    """Days (``fmt``, ISO by default) or ISO stamps as text, ``None`` for NaT; each distinct
    day is formatted once."""
    day = v.astype("datetime64[D]")
    valid = ~np.isnat(day)
    out = np.full(len(v), None, dtype=object)
    distinct, at = np.unique(day[valid], return_inverse=True)
    if with_time or fmt in (None, ISO_DAY, YMD):
        text = np.datetime_as_string(distinct, unit="D")
        if fmt == YMD and not with_time:
            text = np.char.replace(text, "-", "")
    else:
        text = pd.DatetimeIndex(distinct).strftime(fmt).to_numpy(dtype=str)
    out[valid] = text.astype(object)[at]
    if with_time:
        seconds = (v[valid] - day[valid]).astype("timedelta64[s]").astype(np.int64)
        out[valid] = out[valid] + _CLOCK[seconds]
    return out


def _with_nulls(values: list[Any], null: np.ndarray) -> list[Any]:
    """``values`` with ``None`` where ``null`` is set (a loop over the nulls only)."""
    for i in np.flatnonzero(null):
        values[i] = None
    return values


def _sql_type(typ: str) -> str:
    return {"number": "NUMERIC", "int": "INTEGER"}.get(typ, "TEXT")


def source_rows(table: Table, df: pd.DataFrame, stamps: pd.Series | None = None) -> list[tuple]:
    """The rows of ``df`` (canonical columns) in the source table's column order."""
    ds = datasets.get(table.dataset)
    cols = [
        _values(df[c], ds.by_name[c].type, table.formats.get(c))
        for c in table.columns
        if c in df.columns
    ]
    if "updated_at" not in table.columns:
        assert stamps is not None, table.name
        cols.append(_values(stamps, "datetime", None))
    return list(zip(*cols, strict=True))


def write_sqlite(
    path: Path, frames: dict[str, pd.DataFrame], extra: dict[str, list[tuple]]
) -> None:
    """Write every table of ``TABLES`` (plus ``extra`` raw rows per dataset) to ``path``."""
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA cache_size = -200000")
        for table in TABLES:
            ds = datasets.get(table.dataset)
            df = frames[table.dataset]
            names = [table.columns[c] for c in table.columns]
            types = [_sql_type(ds.by_name[c].type) for c in table.columns]
            if WATERMARK not in names:
                names.append(WATERMARK)
                types.append("TEXT")
            key = table.columns[ds.key]
            ddl = ", ".join(
                f"{n} {t}{' NOT NULL' if n == key else ''}"
                for n, t in zip(names, types, strict=True)
            )
            con.execute(f"CREATE TABLE {table.name} ({ddl})")
            stamps = _reference_stamps(table.dataset, df)
            rows = source_rows(table, df, stamps) + extra.get(table.dataset, [])
            marks = ", ".join("?" * len(names))
            con.executemany(f"INSERT INTO {table.name} VALUES ({marks})", rows)
            # Indexes after the bulk insert: faster than maintaining them row by row.
            con.execute(f"CREATE UNIQUE INDEX ux_{table.name}_{key} ON {table.name} ({key})")
            con.execute(f"CREATE INDEX ix_{table.name}_{WATERMARK} ON {table.name} ({WATERMARK})")
        con.commit()
    finally:
        con.close()


def _reference_stamps(dataset: str, df: pd.DataFrame) -> pd.Series | None:
    """Change stamps for tables without a canonical ``updated_at`` (departments, employees)."""
    if dataset == "departments":
        return pd.Series(pd.Timestamp("2025-01-02 09:00:00"), index=df.index)
    if dataset == "employees":
        retired = df["retired_on"] + pd.Timedelta(hours=18)
        return retired.fillna(pd.Timestamp("2025-01-02 09:00:00"))
    return None


def card_frame(cards: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """Card approvals as the card company's text columns (Korean headers)."""
    name_of = employees.set_index("employee_id")["name"]
    # Planting moved some approvals to other days or times: restore the card company's order.
    order = np.lexsort(
        (
            cards["approved_time"].fillna(pd.Timedelta(0)).to_numpy(),
            cards["approved_date"].to_numpy(),
        )
    )
    cards = cards.iloc[order]
    t = cards["approved_time"]
    secs = (t.dt.total_seconds().fillna(0)).astype("int64")
    hms = (
        (secs // 3600).astype(str).str.zfill(2)
        + ":"
        + (secs // 60 % 60).astype(str).str.zfill(2)
        + ":"
        + (secs % 60).astype(str).str.zfill(2)
    ).where(t.notna(), "")
    out = pd.DataFrame(
        {
            "approval_id": cards["approval_id"],
            "department": cards["department"],
            "holder_name": name_of.loc[cards["holder_id"]].to_numpy(),
            "holder_id": cards["holder_id"],
            "card_no": cards["card_no"],
            "approved_date": cards["approved_date"].dt.strftime(ISO_DAY),
            "approved_time": hms,
            "merchant_name": cards["merchant_name"],
            "merchant_category": cards["merchant_category"],
            "merchant_address": cards["merchant_address"],
            "amount": cards["amount"].astype("int64").map("{:,}".format),
            "attendees": cards["attendees"].astype("int64").astype(str),
            "attendees_text": cards["attendees_text"],
            "payment_method": cards["payment_method"],
            "purpose": cards["purpose"],
            "card_kind": cards["card_kind"],
        }
    ).astype(object)
    return out.rename(columns=CARD_COLUMNS)


def write_card_drop(folder: Path, frame: pd.DataFrame) -> list[Path]:
    """One CSV per month (``card_approvals_2025MM.csv``); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob("card_approvals_*.csv")):
        old.unlink()
    month = frame[CARD_COLUMNS["approved_date"]].str.slice(0, 7).to_numpy(dtype=object)
    # Text cells, empty for a missing value (as pandas' to_csv writes them, but faster).
    cells = []
    for column in frame.columns:
        v = frame[column].to_numpy(dtype=object, copy=True)
        v[pd.isna(v)] = ""
        cells.append(v)
    paths = []
    for ym in sorted(set(month)):
        m = int(ym[5:7])
        path = folder / f"card_approvals_{ym.replace('-', '')}.csv"
        rows = month == ym
        with path.open("w", encoding=CARD_ENCODINGS[(m + 1) % 2], newline="") as f:
            out = csv.writer(f, lineterminator="\r\n")
            out.writerow(frame.columns)
            out.writerows(zip(*(c[rows] for c in cells), strict=True))
        paths.append(path)
    return paths


def bad_card_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus two rows a connector must quarantine: an unreadable amount, an impossible day.

    Each is a copy of a real approval with a fresh approval number; they go last in the
    February (impossible date) and March (amount ``1만2천원?``) files.
    """
    key, day, amount = (CARD_COLUMNS[c] for c in ("approval_id", "approved_date", "amount"))
    taken = set(frame[key])
    fresh = [str(n) for n in range(99_999_999, 99_999_000, -1) if str(n) not in taken][:2]
    feb = frame[frame[day].str.startswith("2025-02")].iloc[[0]].copy()
    feb[key], feb[day] = fresh[0], "2025-02-30"
    mar = frame[frame[day].str.startswith("2025-03")].iloc[[0]].copy()
    mar[key], mar[amount] = fresh[1], "1만2천원?"
    out = pd.concat([frame, feb, mar], ignore_index=True)
    order = np.argsort(out[day].str.slice(0, 7).to_numpy(), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def bad_payment_rows(payments: pd.DataFrame) -> list[tuple]:
    """Two voucher rows a connector must quarantine: a day ``20251301`` and an amount ``미정``."""
    table = next(t for t in TABLES if t.dataset == "payments")
    sample = source_rows(table, payments.iloc[[len(payments) // 3, len(payments) // 2]])
    names = list(table.columns.values())
    n = len(payments)
    first, second = list(sample[0]), list(sample[1])
    first[names.index("pay_no")] = f"P2025-{n + 1:07d}"
    first[names.index("pay_ymd")] = "20251301"
    second[names.index("pay_no")] = f"P2025-{n + 2:07d}"
    second[names.index("pay_amt")] = "미정"
    return [tuple(first), tuple(second)]
