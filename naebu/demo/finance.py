"""Contracts (계약) and payments (지출) as e-호조 would hold them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days, names
from naebu.demo.frames import table
from naebu.demo.people import City

GOODS = (
    "사무용 복합기 구매", "업무용 노트북 구매", "민원실 의자 구매", "방역 소독약품 구매",
    "제설용 염화칼슘 구매", "청사 LED 조명 자재 구매", "홍보물 인쇄물 제작", "재난안전 물품 구매",
    "도서관 도서 구입", "행사용 천막 구매", "청소차량 부품 구매", "CCTV 저장장치 구매",
)  # fmt: skip
SERVICES = (
    "시정소식지 편집 디자인 용역", "청사 청소 용역", "도시계획 기초조사 용역",
    "축제 행사 운영 대행 용역", "홈페이지 유지보수 용역", "가로수 병해충 방제 용역",
    "공공시설 안전점검 용역", "민원 콜센터 운영 용역", "통계 조사 용역", "시설물 경비 용역",
)  # fmt: skip
WORKS = (
    "보도블록 정비공사", "공원 놀이시설 보수공사", "하수관로 정비공사", "경로당 방수공사",
    "도로 재포장공사", "가로등 교체공사", "어린이보호구역 개선공사", "배수로 정비공사",
)  # fmt: skip
GROUND_SMALL = "지방계약법 시행령 제25조제1항제5호(추정가격 2천만원 이하)"
GROUND_ENTERPRISE = "지방계약법 시행령 제25조제1항제5호가목(여성·장애인·사회적기업 5천만원 이하)"
GROUND_WORKS = "지방계약법 시행령 제25조제1항제2호(전문공사 2억원 이하)"
MISC_PURPOSES = (
    "청사 전기요금 납부", "통신요금 납부", "사무용품 구입", "행사 물품 구입", "관용차량 유류비",
    "우편요금 납부", "회의 다과 구입", "교육 참가비", "차량 정비비", "소모품 구입",
)  # fmt: skip
PAY_KINDS = ("대금 지급", "기성금 지급", "선금 지급", "준공금 지급")

#: Sole-source 물품/용역 in the background stay strictly below this (the near-limit band).
NEAR_LIMIT_LOW = 19_000_000


def _log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


#: Background contracts of one department with one vendor lie at least this many days apart, so
#: no split-contract window (30-90 days) ever holds two of them by chance.
PAIR_SPACING_DAYS = 120


def _spread_vendors(
    rng: np.random.Generator, department: np.ndarray, vendor: np.ndarray, signed: np.ndarray
) -> np.ndarray:
    """``vendor`` with repeats of a department-vendor pair closer than the spacing redrawn.

    A few vectorised rounds; a pair still too close after them (only at very large scales,
    when every pair recurs) keeps its vendor, and is then made competitive by the caller.
    """
    vendor = vendor.copy()
    pool = np.unique(vendor)
    day = signed.astype("datetime64[D]").astype("int64")
    for _ in range(8):
        close = _too_close(department, vendor, day)
        if not close.any():
            break
        vendor[close] = pool[rng.integers(0, len(pool), int(close.sum()))]
    return vendor


def _too_close(department: np.ndarray, vendor: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Records whose department-vendor pair had a record fewer than the spacing days before."""
    # Integer codes: sorting Python strings is what made this slow at large scales.
    d = pd.factorize(department, sort=True)[0].astype(np.int64)
    v = pd.factorize(vendor, sort=True)[0].astype(np.int64)
    order = np.lexsort((day, v, d))
    d, v, t = d[order], v[order], day[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (d[1:] == d[:-1]) & (v[1:] == v[:-1]) & (t[1:] - t[:-1] < PAIR_SPACING_DAYS)
    out = np.zeros(len(order), dtype=bool)
    out[order] = same
    return out


def _positions(index: pd.Series, keys: object) -> np.ndarray:
    """The position in ``index`` of each of ``keys`` (all present)."""
    return pd.Index(index).get_indexer(np.asarray(keys, dtype=object))


def alone(department: np.ndarray, vendor: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
    """Records whose department-vendor pair has no other record within ``days`` days."""
    d = pd.factorize(department, sort=True)[0].astype(np.int64)
    v = pd.factorize(vendor, sort=True)[0].astype(np.int64)
    order = np.lexsort((day, v, d))
    d, v, t = d[order], v[order], day[order]
    near = np.zeros(len(order), dtype=bool)
    close = (d[1:] == d[:-1]) & (v[1:] == v[:-1]) & (t[1:] - t[:-1] <= days)
    near[1:] |= close  # the one before is close
    near[:-1] |= close  # the one after is close
    out = np.zeros(len(order), dtype=bool)
    out[order] = ~near
    return out


def build_contracts(rng: np.random.Generator, city: City, n: int) -> pd.DataFrame:
    """``n`` contracts of the year; sole-source amounts stay clear of the limit band.

    A department's contracts with one vendor lie ``PAIR_SPACING_DAYS`` apart, so neither split
    contracts nor a vendor's yearly concentration arise by chance.
    """
    staff = city.staff()
    who = rng.integers(0, len(staff), n)
    vendors = city.vendors
    vi = rng.integers(0, len(vendors), n)
    category = rng.choice(np.array(["물품", "용역", "공사"], dtype=object), n, p=[0.4, 0.35, 0.25])
    method = rng.choice(
        np.array(["수의", "일반경쟁", "제한경쟁", "지명경쟁"], dtype=object),
        n,
        p=[0.55, 0.3, 0.1, 0.05],
    )
    signed = np.sort(days.random_days(rng, n))
    department = staff["department"].to_numpy()[who]
    vendor_ids = _spread_vendors(rng, department, vendors["vendor_id"].to_numpy()[vi], signed)
    day = signed.astype("datetime64[D]").astype("int64")
    method[_too_close(department, vendor_ids, day)] = "일반경쟁"
    sole = method == "수의"
    works = category == "공사"
    owner = vendors["owner_type"].to_numpy()[_positions(vendors["vendor_id"], vendor_ids)]
    enterprise = owner != "일반"
    big_sole = sole & ~works & enterprise & (rng.random(n) < 0.5)
    amount = np.select(
        [sole & works, big_sole, sole, works],
        [
            _log_uniform(rng, 5e6, 1.5e8, n),
            rng.uniform(20.5e6, 49.5e6, n),
            _log_uniform(rng, 1.5e6, 18.5e6, n),
            _log_uniform(rng, 5e7, 5e9, n),
        ],
        _log_uniform(rng, 2.2e7, 2e9, n),
    )
    amount = np.round(amount, -4)
    ground = np.select(
        [sole & works, big_sole, sole], [GROUND_WORKS, GROUND_ENTERPRISE, GROUND_SMALL], ""
    ).astype(object)
    ground[ground == ""] = None
    obj = np.select(
        [category == "물품", category == "용역"],
        [names.pick(rng, GOODS, n), names.pick(rng, SERVICES, n)],
        names.pick(rng, names.DONG, n) + " " + names.pick(rng, WORKS, n),
    )
    title = "2025년 " + obj
    lag = np.select(
        [category == "물품", category == "용역"],
        [rng.integers(7, 31, n), rng.integers(20, 121, n)],
        rng.integers(30, 181, n),
    )
    inspected = days.clamp_to_year(days.roll_forward(signed + lag.astype("timedelta64[D]")))
    changed = np.where(np.isnat(inspected), signed, inspected)
    return table(
        {
            "contract_id": names.serial("C2025-", n, 6),
            "department": department,
            "official_id": staff["employee_id"].to_numpy()[who],
            "vendor_id": vendor_ids,
            "title": title,
            "category": category,
            "method": method,
            "sole_source_ground": ground,
            "amount": amount.astype("float64"),
            "contract_date": days.to_timestamps(signed),
            "inspection_date": days.to_timestamps(inspected),
            "updated_at": days.stamps(rng, changed, lag_days=2),
        }
    )


def build_payments(
    rng: np.random.Generator, city: City, contracts: pd.DataFrame, n: int
) -> pd.DataFrame:
    """``n`` payment vouchers: most against a contract after inspection, the rest petty costs.

    The approver is always the drafter's supervisor, so nobody approves their own voucher.
    """
    emp = city.employees
    staff = city.staff()
    vendors = city.vendors.set_index("vendor_id")
    on_contract = rng.random(n) < 0.8
    ci = rng.integers(0, len(contracts), n)
    c = contracts.iloc[ci].reset_index(drop=True)
    si = rng.integers(0, len(staff), n)
    vi = rng.integers(0, len(vendors), n)
    official = np.where(on_contract, c["official_id"], staff["employee_id"].to_numpy()[si])
    department = np.where(on_contract, c["department"], staff["department"].to_numpy()[si])
    vendor = np.where(on_contract, c["vendor_id"], vendors.index.to_numpy()[vi])

    base = c["inspection_date"].fillna(c["contract_date"]).to_numpy().astype("datetime64[D]")
    paid_c = days.add_business_days(base, rng.integers(0, 21, n))
    paid_c = np.where(paid_c > days.END, days.BUSINESS_DAYS[-1], paid_c)
    paid = np.where(on_contract, paid_c, days.random_days(rng, n))
    contract_amount = c["amount"].to_numpy()
    amount = np.where(
        on_contract,
        np.round(contract_amount * rng.uniform(0.05, 0.5, n), -3),
        np.round(_log_uniform(rng, 5e4, 5e6, n), -1),
    )
    # A contract not yet inspected can only have been paid an advance (선금).
    kind = np.where(
        c["inspection_date"].isna().to_numpy(), "선금 지급", names.pick(rng, PAY_KINDS, n)
    )
    purpose = np.where(
        on_contract, c["title"].to_numpy() + " " + kind, names.pick(rng, MISC_PURPOSES, n)
    )
    order = np.argsort(paid, kind="stable")
    ymd = np.char.replace(np.datetime_as_string(paid.astype("datetime64[D]"), unit="D"), "-", "")
    invoice = (
        ymd.astype(object) + "-41000" + names.digits(rng, n, 3) + "-" + names.digits(rng, n, 8)
    )
    at = _positions(city.vendors["vendor_id"], vendor)
    supervisor = emp["supervisor_id"].to_numpy()[_positions(emp["employee_id"], official)]
    df = table(
        {
            "department": department,
            "official_id": official,
            "approver_id": supervisor,
            "vendor_id": vendor,
            "contract_id": names.where_or_none(on_contract, c["contract_id"]),
            "payee_name": city.vendors["name"].to_numpy()[at],
            "payee_account": city.vendors["account_no"].to_numpy()[at],
            "amount": amount.astype("float64"),
            "paid_on": days.to_timestamps(paid),
            "invoice_no": invoice,
            "purpose": purpose,
            "updated_at": days.stamps(rng, paid),
        }
    )
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "payment_id", names.serial("P2025-", n, 7))
    return df
