"""The city's organisation: departments, employees (the officials directory) and vendors.

The demo city 한빛시 has 31 departments, 299 officials and 400 vendors. A large demo (see
:mod:`naebu.demo.volumes`) is a province of several local governments (시·군) of that same
shape: the first is 한빛시 with its plain department names, the others carry their name in
front (``가람시 기획예산과``), each with its own officials, audit office and 400 more vendors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from naebu.demo import names
from naebu.demo.frames import table

TOP = "부시장"

#: (bureau, ((department, staff count), ...)); 감사담당관 reports to the deputy mayor.
ORGANISATION: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("기획조정실", (("기획예산과", 12), ("정책홍보과", 10), ("법무통계과", 8))),
    (
        "행정국",
        (
            ("총무과", 14),
            ("재무과", 12),
            ("회계과", 12),
            ("세무과", 16),
            ("징수과", 10),
            ("민원여권과", 14),
            ("정보통신과", 9),
        ),
    ),
    ("경제환경국", (("일자리경제과", 11), ("환경과", 13), ("청소자원과", 10), ("농축산과", 9))),
    (
        "복지문화국",
        (
            ("복지정책과", 14),
            ("노인장애인과", 11),
            ("여성가족과", 10),
            ("문화체육과", 12),
            ("관광과", 8),
        ),
    ),
    (
        "도시건설국",
        (
            ("도시계획과", 11),
            ("건축과", 14),
            ("도로관리과", 14),
            ("공원녹지과", 11),
            ("교통행정과", 12),
            ("토지정보과", 9),
        ),
    ),
)
AUDIT = "감사담당관"
AUDIT_SIZE = 8
CITY_CODE = "39900"
#: The local governments of a large demo, in order; the first is the demo city itself.
CITIES: tuple[str, ...] = (
    "한빛시", "가람시", "누리군", "다솜시", "미르군", "바다시", "새솔군", "아라시", "온새미군",
    "하늬시", "가온군", "나래시", "다온군", "라온시", "마루군", "벼리시", "솔빛군", "여울시",
    "윤슬군", "초롱시", "타래군", "파랑시", "한결군", "구름시", "노을군", "달빛시", "별빛군",
    "산들시", "이슬군", "찬솔시", "해솔군",
)  # fmt: skip
VENDORS_PER_CITY = 400
#: Extra trade-name prefixes once a province needs more vendors than stem x trade gives.
FIRM_PREFIXES = (
    "중부", "남부", "북부", "동부", "서부", "신", "새", "참", "한국", "동방", "서해", "남해",
    "대륙", "태백", "소백",
)  # fmt: skip

BANKS = ("110-###-######", "######-##-######", "301-####-####-##", "1002-###-######")


def unit(city: int, name: str) -> str:
    """The name of department (or bureau) ``name`` in local government ``city``."""
    return name if city == 0 else f"{CITIES[city]} {name}"


@dataclass
class City:
    """The reference tables and the lookups the transaction generators need.

    ``city_of`` maps every department (and bureau) to the index of its local government in
    :data:`CITIES`, ``base_of`` to its name in the demo city's organisation chart.
    """

    departments: pd.DataFrame
    employees: pd.DataFrame
    vendors: pd.DataFrame
    city_of: dict[str, int] = field(default_factory=dict)
    base_of: dict[str, str] = field(default_factory=dict)

    @property
    def cities(self) -> int:
        """How many local governments the organisation has."""
        return max(self.city_of.values(), default=0) + 1

    def units(self, base: str) -> list[str]:
        """Department ``base`` (a name of the demo city's chart) in every local government."""
        return [unit(c, base) for c in range(self.cities)]

    def staff_of(self, base: str) -> pd.DataFrame:
        """Active 담당자 of department ``base`` in every local government, city by city."""
        staff = self.staff()
        return staff[staff["department"].isin(self.units(base))]

    def cities_of(self, departments: object) -> np.ndarray:
        """The local-government index of each department (vectorised)."""
        return pd.Series(np.asarray(departments, dtype=object)).map(self.city_of).to_numpy(int)

    def staff(self, department: str | None = None) -> pd.DataFrame:
        """Active officials who draft records (담당자 with a supervisor), optionally of one department."""
        e = self.employees
        mask = e["active"].astype(bool) & (e["role"] == "담당자") & e["supervisor_id"].notna()
        if department is not None:
            mask &= e["department"] == department
        return e[mask]

    def card_holders(self) -> pd.DataFrame:
        """Active 과장 and 팀장 of the line departments: each holds a department card."""
        e = self.employees
        mask = e["active"].astype(bool) & e["position"].isin(["과장", "팀장"])
        return e[mask & ~e["department"].isin(self.units(AUDIT))]


def line_departments() -> list[str]:
    """The departments (과) that do the city's business, in organisation order."""
    return [d for _, depts in ORGANISATION for d, _ in depts]


def _accounts(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """``n`` distinct bank-style account numbers not in ``taken`` (which is updated)."""
    out: list[str] = []
    while len(out) < n:
        pattern = BANKS[int(rng.integers(0, len(BANKS)))]
        acct = "".join(str(int(rng.integers(0, 10))) if c == "#" else c for c in pattern)
        if acct not in taken:
            taken.add(acct)
            out.append(acct)
    return out


def city_code(city: int) -> str:
    """The five-digit code of local government ``city`` (한빛시: ``39900``)."""
    return str(int(CITY_CODE) + 10 * city)


def _departments(cities: int) -> tuple[pd.DataFrame, dict[str, int], dict[str, str]]:
    """The departments of every local government, and each one's city and chart name."""
    rows: list[tuple[str, str, str]] = []
    city_of: dict[str, int] = {}
    base_of: dict[str, str] = {}
    for c in range(cities):
        code = city_code(c)
        chart: list[tuple[str, str, str]] = []
        for b, (bureau, depts) in enumerate(ORGANISATION, start=1):
            chart.append((bureau, f"{code}{b:02d}00", TOP))
            for d, (dept, _) in enumerate(depts, start=1):
                chart.append((dept, f"{code}{b:02d}{d:02d}", bureau))
        chart.append((AUDIT, f"{code}9900", TOP))
        for name, dept_code, parent in chart:
            rows.append((unit(c, name), dept_code, unit(c, parent)))
            city_of[unit(c, name)] = c
            base_of[unit(c, name)] = name
    return pd.DataFrame(rows, columns=["department", "code", "parent"]), city_of, base_of


def _chart(city: int) -> list[dict[str, object]]:
    """The positions and reporting lines of one local government (``sup``: a row position)."""
    rows: list[dict[str, object]] = []
    for bureau, depts in ORGANISATION:
        head = len(rows)
        rows.append(
            {
                "department": unit(city, bureau),
                "position": "국장",
                "role": "부서관리자",
                "sup": None,
            }
        )
        for dept, size in depts:
            rows.extend(_department_staff(unit(city, dept), size, len(rows), head))
    rows.extend(
        _department_staff(unit(city, AUDIT), AUDIT_SIZE, len(rows), None, staff_role="감사자")
    )
    return rows


def _employees(rng: np.random.Generator, taken: set[str], cities: int) -> pd.DataFrame:
    # Positions and reporting lines first, then names and numbers for everyone at once.
    rows: list[dict[str, object]] = []
    city = []
    for c in range(cities):
        chart = _chart(c)
        for r in chart:
            if isinstance(r["sup"], int):
                r["sup"] += len(rows)
        city += [c] * len(chart)
        rows += chart
    n = len(rows)
    ids = 10000 + rng.choice(90000, size=n, replace=False)
    emp_ids = [f"E{i}" for i in ids]
    sups = [r.pop("sup") for r in rows]
    df = pd.DataFrame(rows)
    df.insert(0, "employee_id", emp_ids)
    df.insert(1, "name", names.person_names(rng, n))
    df["supervisor_id"] = [emp_ids[s] if isinstance(s, int) else None for s in sups]
    df["email"] = [f"{e}@demo.naebu.local" for e in emp_ids]
    df["notify_url"] = None
    df["account_no"] = _accounts(rng, n, taken)
    seniority = df["position"].map({"국장": 28, "과장": 22, "팀장": 15, "주무관": 5}).to_numpy()
    years = np.clip(seniority + rng.integers(-4, 6, n), 1, 33)
    hired = np.datetime64("2025-01-01") - (years * 365 + rng.integers(0, 365, n)).astype(
        "timedelta64[D]"
    )
    df["hired_on"] = pd.Series(hired.astype("datetime64[ns]"))
    df["active"] = True
    df["retired_on"] = pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    # In each local government a few 주무관 retired during the year, one is on long leave (휴직).
    junior = (df["position"] == "주무관").to_numpy() & (df["role"] == "담당자").to_numpy()
    for c in range(cities):
        juniors = np.flatnonzero(junior & (np.asarray(city) == c))
        gone = rng.choice(juniors, size=5, replace=False)
        retire_days = np.sort(rng.choice(np.arange(60, 330), size=4, replace=False))
        for idx, day in zip(gone[:4], retire_days, strict=True):
            df.loc[idx, "retired_on"] = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(day))
            df.loc[idx, "active"] = False
        df.loc[gone[4], "active"] = False
    df["active"] = df["active"].astype("boolean")
    # 직급 follows the position; a 주무관 of ten years or more is 7급, a younger one 8급.
    grade = df["position"].map({"국장": "4급", "과장": "5급", "팀장": "6급"})
    df["grade"] = grade.where(grade.notna(), np.where(years >= 10, "7급", "8급"))
    cols = [
        "employee_id", "name", "department", "position", "grade", "role", "supervisor_id",
        "email", "notify_url", "account_no", "active", "hired_on", "retired_on",
    ]  # fmt: skip
    return df[cols]


def _department_staff(
    dept: str, size: int, first: int, bureau_head: int | None, staff_role: str = "담당자"
) -> list[dict[str, object]]:
    """One department: a 과장 (부서관리자), 팀장 per five staff, 주무관 spread over the teams."""
    chief = first
    rows: list[dict[str, object]] = [
        {"department": dept, "position": "과장", "role": "부서관리자", "sup": bureau_head}
    ]
    n_teams = max(1, (size - 1) // 5)
    leads = [first + 1 + t for t in range(n_teams)]
    rows += [{"department": dept, "position": "팀장", "role": staff_role, "sup": chief}] * n_teams
    for i in range(size - 1 - n_teams):
        rows.append(
            {
                "department": dept,
                "position": "주무관",
                "role": staff_role,
                "sup": leads[i % n_teams],
            }
        )
    return [dict(r) for r in rows]


def _vendors(rng: np.random.Generator, taken: set[str], n: int = VENDORS_PER_CITY) -> pd.DataFrame:
    combos = [s + t for s in names.FIRM_STEMS for t in names.FIRM_TRADES]
    if n > len(combos):  # a province: regional prefixes keep every trade name distinct
        combos += [p + c for p in FIRM_PREFIXES for c in combos]
    chosen = [combos[i] for i in rng.choice(len(combos), size=n, replace=False)]
    form = rng.random(n)
    trade = [
        f"(주){c}" if f < 0.4 else (f"{c}(주)" if f < 0.6 else c)
        for c, f in zip(chosen, form, strict=True)
    ]
    biz = 1_000_000_000 + rng.choice(8_999_999_999, size=n, replace=False)
    business_no = [f"{b // 10**7:03d}-{b // 10**5 % 100:02d}-{b % 10**5:05d}" for b in biz]
    owner = rng.choice(
        np.array(["일반", "여성기업", "장애인기업", "사회적기업"], dtype=object),
        size=n,
        p=[0.84, 0.08, 0.04, 0.04],
    )
    # Registered accounts changed, if ever, well before the demo year (by 2024-11-30), so no
    # 2025 payment follows a change within days.
    changed = np.datetime64("2019-01-01") + rng.integers(0, 6 * 365 - 32, n).astype(
        "timedelta64[D]"
    )
    changed = np.where(rng.random(n) < 0.35, changed, np.datetime64("NaT"))
    updated = np.where(
        np.isnat(changed),
        np.datetime64("2024-12-31") - rng.integers(0, 600, n).astype("timedelta64[D]"),
        changed,
    ).astype("datetime64[s]") + (rng.integers(9 * 3600, 18 * 3600, n)).astype("timedelta64[s]")
    return table(
        {
            "vendor_id": [f"V{10001 + i}" for i in range(n)],
            "name": trade,
            "business_no": business_no,
            "owner_type": owner,
            "account_no": _accounts(rng, n, taken),
            "account_changed_on": pd.Series(changed.astype("datetime64[ns]")),
            "updated_at": pd.Series(updated.astype("datetime64[ns]")),
        }
    )


def build_city(seed: int, cities: int = 1) -> City:
    """The organisation, officials and vendors for ``seed`` and ``cities`` local governments
    (one, the demo city, unless the demo is large: see :mod:`naebu.demo.volumes`)."""
    if not 1 <= cities <= len(CITIES):
        raise ValueError(f"between 1 and {len(CITIES)} local governments, not {cities}")
    rng = np.random.default_rng([seed, 1])
    taken: set[str] = set()
    employees = _employees(rng, taken, cities)
    vendors = _vendors(rng, taken, VENDORS_PER_CITY * cities)
    departments, city_of, base_of = _departments(cities)
    # 부서장: the department's 국장 or 과장 (its 부서관리자); the top (부시장) has none here.
    heads = employees[employees["role"] == "부서관리자"].drop_duplicates("department")
    departments["head_id"] = departments["department"].map(
        heads.set_index("department")["employee_id"]
    )
    return City(departments, employees, vendors, city_of, base_of)
