"""Subsidy grants (보조금 교부) and the city's list of public bank accounts (공금 계좌).

Each recipient is granted at most once per programme in the background, and every account in
use moved money in the two months before the list's base date, so neither the duplicate-grant
rule nor the dormant-account rule fires on background records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days, names
from naebu.demo.frames import table
from naebu.demo.people import City, line_departments, unit
from naebu.demo.permits import officials_of
from naebu.demo.property import revenue_account, virtual_band

#: (programme, granting department, amount range in KRW).
PROGRAMS: tuple[tuple[str, str, float, float], ...] = (
    ("소상공인 경영안정 지원", "일자리경제과", 1e6, 5e6),
    ("청년 창업 지원", "일자리경제과", 5e6, 3e7),
    ("경로당 운영비 지원", "노인장애인과", 1e6, 6e6),
    ("장애인 보조기기 지원", "노인장애인과", 5e5, 3e6),
    ("지역아동센터 운영 지원", "여성가족과", 5e6, 4e7),
    ("생활체육 동호회 지원", "문화체육과", 5e5, 5e6),
    ("지역축제 보조", "관광과", 1e7, 8e7),
    ("친환경 농자재 지원", "농축산과", 1e6, 1e7),
    ("노후 경유차 조기폐차 지원", "환경과", 1e6, 3e6),
)
#: The day the bank account list was taken (기준일).
ACCOUNTS_AS_OF = np.datetime64("2025-12-31")
BANKS = ("한빛은행", "농협은행", "국민은행", "신한은행")
ACCOUNT_PURPOSES = ("세출", "보조금", "보관금", "기금")


def build_subsidies(rng: np.random.Generator, city: City, n: int) -> pd.DataFrame:
    """``n`` grants; every recipient number is drawn once, so nobody is funded twice."""
    k = rng.integers(0, len(PROGRAMS), n)
    dept = np.array([p[1] for p in PROGRAMS], dtype=object)[k]
    low = np.array([p[2] for p in PROGRAMS])[k]
    high = np.array([p[3] for p in PROGRAMS])[k]
    official, dept = officials_of(rng, city, dept)
    number = 1_000_000_000 + rng.choice(8_999_999_999, size=n, replace=False)
    recipient_id = np.array(
        [f"{b // 10**7:03d}-{b // 10**5 % 100:02d}-{b % 10**5:05d}" for b in number], dtype=object
    )
    person = rng.random(n) < 0.5
    recipient = np.where(person, names.person_names(rng, n), names.firm_names(rng, n))
    decided = np.sort(days.random_days(rng, n))
    amount = np.round(np.exp(rng.uniform(np.log(low), np.log(high))), -4)
    return table(
        {
            "grant_id": names.serial("GR2025-", n, 6),
            "department": dept,
            "official_id": official,
            "program": np.array([p[0] for p in PROGRAMS], dtype=object)[k],
            "recipient_id": recipient_id,
            "recipient_name": recipient,
            "amount": amount.astype("float64"),
            "decided_on": days.to_timestamps(decided).to_numpy(),
            "updated_at": days.stamps(rng, decided, lag_days=2).to_numpy(),
        }
    )


def build_accounts(rng: np.random.Generator, city: City) -> pd.DataFrame:
    """Each local government's accounts: its revenue account, one expenditure account per
    department and a few for subsidies, deposits and funds; a handful closed years ago."""
    return pd.concat([_accounts_of(rng, city, c) for c in range(city.cities)], ignore_index=True)


def _accounts_of(rng: np.random.Generator, city: City, town: int) -> pd.DataFrame:
    """The accounts of local government ``town`` (numbered ``317-<town><nn>-...``)."""
    depts = [unit(town, d) for d in line_departments()]
    rows: list[tuple[str, str]] = [(unit(town, "재무과"), "세입")]
    rows += [(d, "세출") for d in depts]
    rows += [(d, ACCOUNT_PURPOSES[1 + i % 3]) for i, d in enumerate(depts[::3])]
    n_closed = 4
    rows += [(depts[i * 5], "보관금") for i in range(n_closed)]
    n = len(rows)
    dept = np.array([r[0] for r in rows], dtype=object)
    numbers = [revenue_account(town)] + [
        f"317-{town * 100 + i:04d}-{int(rng.integers(1000, 10000))}-{int(rng.integers(10, 100))}"
        for i in range(2, n + 1)
    ]
    first = city.staff().groupby("department")["employee_id"].first()
    official = first.loc[dept].to_numpy()
    opened = np.datetime64("2012-01-02") + rng.integers(0, 3650, n).astype("timedelta64[D]")
    last = days.roll_backward(ACCOUNTS_AS_OF - rng.integers(0, 60, n).astype("timedelta64[D]"))
    status = np.full(n, "사용", dtype=object)
    closed = np.arange(n - n_closed, n)
    status[closed] = "해지"
    # Closed accounts stopped long ago: old activity on a closed account is no finding.
    last[closed] = ACCOUNTS_AS_OF - rng.integers(800, 1500, n_closed).astype("timedelta64[D]")
    return table(
        {
            "account_no": numbers,
            "department": dept,
            "official_id": official,
            "bank": names.pick(rng, BANKS, n),
            "purpose": [r[1] for r in rows],
            "opened_on": days.to_timestamps(opened).to_numpy(),
            "last_activity_on": days.to_timestamps(last).to_numpy(),
            "status": status,
            # the revenue account (the first) collects the payers' virtual accounts
            "virtual_accounts": [virtual_band(town)] + [None] * (n - 1),
            "as_of": days.to_timestamps(np.full(n, ACCOUNTS_AS_OF)).to_numpy(),
            "updated_at": days.stamps(rng, np.full(n, ACCOUNTS_AS_OF)).to_numpy(),
        }
    )
