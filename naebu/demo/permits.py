"""Permits from the 새올 system and the non-tax levies (세외수입) charged on them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days, names
from naebu.demo.frames import table
from naebu.demo.people import City
from naebu.demo.property import revenue_accounts, virtual_accounts

#: (permit type, department, statutory days, share, levy type charged or "").
PERMIT_TYPES: tuple[tuple[str, str, int, float, str], ...] = (
    ("도로점용허가", "도로관리과", 20, 0.28, "도로점용료"),
    ("공원점용허가", "공원녹지과", 15, 0.08, "공원점용료"),
    ("행정재산 사용허가", "회계과", 20, 0.10, "행정재산 사용료"),
    ("옥외광고물 표시허가", "건축과", 15, 0.12, ""),
    ("건축신고", "건축과", 5, 0.14, ""),
    ("개발행위허가", "도시계획과", 15, 0.10, ""),
    ("배출시설 설치신고", "환경과", 10, 0.08, ""),
    ("화물자동차 운송사업 허가", "교통행정과", 10, 0.10, ""),
)
#: (department, fine, amounts to choose from, reduction code for voluntary payment).
FINES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("교통행정과", "주정차위반 과태료", (40_000, 50_000, 80_000)),
    ("청소자원과", "쓰레기 무단투기 과태료", (100_000, 200_000, 500_000)),
    ("환경과", "소음·진동 과태료", (200_000, 300_000, 1_000_000)),
    ("건축과", "건축물 이행강제금", (1_500_000, 3_000_000, 8_000_000)),
)
CODE_FINE = "QV-18"  # 질서위반행위규제법 제18조 자진납부 감경 (statutory: automatic by law)
CODE_RELIEF = "QV-52"  # 기초생활수급자 과태료 감경: granted on application, a discretionary one
CODES_USE = ("RD-68-1", "RD-68-3", "PA-24-2", "PR-24-1")  # 도로법 §68, 공원녹지법, 공유재산법
#: The reason the revenue system writes beside each code (감면사유명).
REASONS: dict[str, str] = {
    CODE_FINE: "의견제출기한 내 자진납부 감경 (질서위반행위규제법 제18조)",
    CODE_RELIEF: "기초생활수급자 과태료 감경",
    "RD-68-1": "도로법 제68조 점용료 감면 (공익사업)",
    "RD-68-3": "도로법 제68조 점용료 감면 (재해)",
    "PA-24-2": "공원녹지법 점용료 감면",
    "PR-24-1": "공유재산법 사용료 감면",
}
#: Reductions one official grants in a month in the background (LEVY-REDUCTION-REPEATED: 5).
MAX_REDUCTIONS_A_MONTH = 3
#: Applications arrive by this day, so every case is decided and levied within the year: the
#: demo is read long after 2025, when a case still open would be overdue.
LAST_RECEIPT_DAY = np.datetime64("2025-11-10")


def officials_of(
    rng: np.random.Generator, city: City, units: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """An official, and the department they work in, for each record of chart department
    ``units`` (``도로관리과``): any local government's staff of that department, at random."""
    official = np.empty(len(units), dtype=object)
    for d in np.unique(units):
        staff = city.staff_of(str(d))["employee_id"].to_numpy()
        mask = units == d
        official[mask] = staff[rng.integers(0, len(staff), int(mask.sum()))]
    where = city.employees.set_index("employee_id")["department"]
    return official, where.loc[official].to_numpy()


def build_permits(rng: np.random.Generator, city: City, n: int) -> pd.DataFrame:
    """``n`` permit cases, all decided within their statutory days (received + at most the
    statutory days in calendar days, which is never past the working-day deadline)."""
    share = np.array([t[3] for t in PERMIT_TYPES])
    kind = rng.choice(len(PERMIT_TYPES), n, p=share / share.sum())
    ptype = np.array([t[0] for t in PERMIT_TYPES], dtype=object)[kind]
    dept = np.array([t[1] for t in PERMIT_TYPES], dtype=object)[kind]
    legal = np.array([t[2] for t in PERMIT_TYPES])[kind]
    official, dept = officials_of(rng, city, dept)
    season = days.BUSINESS_DAYS[days.BUSINESS_DAYS <= LAST_RECEIPT_DAY]
    received = np.sort(days.random_days(rng, n, season))
    received_at = days.receipt_times(received)
    decided = days.roll_backward(received + rng.integers(0, legal + 1).astype("timedelta64[D]"))
    decided = days.clamp_to_year(decided)
    open_ = np.isnat(decided)
    status = np.where(rng.random(n) < 0.88, "허가", "불허").astype(object)
    status[open_] = np.where(rng.random(int(open_.sum())) < 0.5, "접수", "처리중")
    applicant = np.where(rng.random(n) < 0.6, names.person_names(rng, n), names.firm_names(rng, n))
    return table(
        {
            "permit_id": names.serial("PM2025-", n, 6),
            "department": dept,
            "official_id": official,
            "permit_type": ptype,
            "applicant": applicant,
            "received_on": days.to_timestamps(received),
            "received_at": received_at,
            "decided_on": days.to_timestamps(decided),
            "decided_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
            "legal_days": pd.array(legal, dtype="Int64"),
            "legal_unit": "일",
            "due_on": days.to_timestamps(days.legal_deadlines(received_at.to_numpy(), legal)),
            "status": status,
            "updated_at": days.stamps(rng, np.where(open_, received, decided)),
        }
    )


def decision_times(permits: pd.DataFrame) -> None:
    """Fill ``decided_at`` (처리일시) from ``decided_on``, once every plant has set the days: a
    time in office hours, never past the deadline on the deadline's own day (a decision on
    the last lawful day is on time)."""
    decided = permits["decided_on"].to_numpy().astype("datetime64[D]")
    at = days.receipt_times(decided, salt=27).to_numpy().astype("datetime64[s]")
    due = days.legal_deadline_instants(
        permits["received_at"].to_numpy(), permits["legal_days"].to_numpy(dtype="int64")
    )
    same_day = ~np.isnat(due) & (due.astype("datetime64[D]") == decided)
    at[same_day] = np.minimum(at[same_day], due[same_day])
    permits["decided_at"] = at.astype("datetime64[ns]")


def reduction_reasons(codes: pd.Series) -> pd.Series:
    """The reduction reason (감면사유명) of each code; empty where the code is."""
    return codes.map(REASONS).astype(object).where(codes.notna(), None)


def build_levies(
    rng: np.random.Generator, city: City, permits: pd.DataFrame, n_fines: int
) -> pd.DataFrame:
    """Fees on granted permits that carry one, plus ``n_fines`` fines; every reduction has a code."""
    levy_of = {t[0]: t[4] for t in PERMIT_TYPES if t[4]}
    p = permits[permits["permit_type"].isin(list(levy_of)) & (permits["status"] == "허가")]
    m = len(p)
    fee_day = days.clamp_to_year(
        days.roll_forward(
            p["decided_on"].to_numpy().astype("datetime64[D]")
            + rng.integers(0, 11, m).astype("timedelta64[D]")
        )
    )
    fees = table(
        {
            "department": p["department"].to_numpy(),
            "official_id": p["official_id"].to_numpy(),
            "permit_id": p["permit_id"].to_numpy(),
            "levy_type": p["permit_type"].map(levy_of).to_numpy(),
            "payer_name": p["applicant"].to_numpy(),
            "amount": np.round(np.exp(rng.uniform(np.log(5e4), np.log(5e6), m)), -1),
            "levied_on": fee_day,
        }
    )
    fees = fees[~np.isnat(fee_day)]
    fees["reduce"] = rng.random(len(fees)) < 0.1
    fees["rate"] = 0.5
    fees["code"] = names.pick(rng, CODES_USE, len(fees))

    k = rng.integers(0, len(FINES), n_fines)
    dept = np.array([f[0] for f in FINES], dtype=object)[k]
    official, dept = officials_of(rng, city, dept)
    amounts = np.array([f[2] for f in FINES], dtype=float)[k, rng.integers(0, 3, n_fines)]
    fines = table(
        {
            "department": dept,
            "official_id": official,
            "permit_id": None,
            "levy_type": np.array([f[1] for f in FINES], dtype=object)[k],
            "payer_name": names.person_names(rng, n_fines),
            "amount": amounts,
            "levied_on": days.random_days(rng, n_fines),
            "reduce": rng.random(n_fines) < 0.12,
            "rate": 0.2,
            "code": CODE_FINE,
        }
    )
    df = pd.concat([fees, fines], ignore_index=True)
    df = df.iloc[np.argsort(df["levied_on"].to_numpy(), kind="stable")].reset_index(drop=True)
    reduce = df.pop("reduce").to_numpy()
    rate = df.pop("rate").to_numpy()
    code = df.pop("code").to_numpy()
    levied = df["levied_on"].to_numpy().astype("datetime64[D]")
    # At most a few reductions per official and month, so LEVY-REDUCTION-REPEATED never fires
    # on the background, however large the scale.
    month = levied.astype("datetime64[M]")
    nth = (
        pd.DataFrame({"o": df["official_id"], "m": month, "r": reduce})
        .groupby(["o", "m", "r"])
        .cumcount()
    )
    reduce = reduce & (nth.to_numpy() < MAX_REDUCTIONS_A_MONTH)
    df["reduction_amount"] = np.where(reduce, np.round(df["amount"].to_numpy() * rate, -1), 0.0)
    df["reduction_code"] = np.where(reduce, code, None)
    df["levied_on"] = days.to_timestamps(levied).to_numpy()
    df["due_date"] = days.to_timestamps(levied + np.timedelta64(30, "D")).to_numpy()
    df["updated_at"] = days.stamps(rng, levied).to_numpy()
    df.insert(0, "levy_id", names.serial("LV2025-", len(df), 6))
    cols = [
        "levy_id", "department", "official_id", "permit_id", "levy_type", "payer_name",
        "amount", "reduction_amount", "reduction_code", "levied_on", "due_date", "updated_at",
    ]  # fmt: skip
    return df[cols]


def levy_receipts(rng: np.random.Generator, levies: pd.DataFrame, city: City) -> pd.DataFrame:
    """Most levies are paid (net of reduction) within their 30 days, most into the payer's
    virtual account of the revenue account; unpaid ones have no receipt."""
    n = len(levies)
    paid = rng.random(n) < 0.85
    on = days.clamp_to_year(
        days.roll_forward(
            levies["levied_on"].to_numpy().astype("datetime64[D]")
            + rng.integers(0, 28, n).astype("timedelta64[D]")
        )
    )
    keep = paid & ~np.isnat(on)
    lv = levies[keep]
    dept = lv["department"].to_numpy()
    virtual = rng.random(len(lv)) < 0.6  # 세외수입 is mostly paid into per-payer virtual accounts
    return table(
        {
            "department": lv["department"].to_numpy(),
            "official_id": lv["official_id"].to_numpy(),
            "ref_type": "levy",
            "ref_id": lv["levy_id"].to_numpy(),
            "payer_name": lv["payer_name"].to_numpy(),
            "amount": (lv["amount"] - lv["reduction_amount"]).to_numpy(),
            "received_on": days.to_timestamps(on[keep]).to_numpy(),
            "account_no": np.where(
                virtual, virtual_accounts(rng, city, dept), revenue_accounts(city, dept)
            ),
        }
    )


def build_receipts(rng: np.random.Generator, *parts: pd.DataFrame) -> pd.DataFrame:
    """All receipts in date order, numbered, with their change stamps."""
    df = pd.concat(parts, ignore_index=True)
    on = df["received_on"].to_numpy().astype("datetime64[D]")
    df = df.iloc[np.argsort(on, kind="stable")].reset_index(drop=True)
    df.insert(0, "receipt_id", names.serial("RC2025-", len(df), 7))
    df["updated_at"] = days.stamps(
        rng, df["received_on"].to_numpy().astype("datetime64[D]")
    ).to_numpy()
    return df
