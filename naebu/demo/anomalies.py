"""Planting the scenarios the shipped rules look for, and near-misses they must not flag.

Each planter edits existing background records (so the department and the official of a
planted record are real) and returns the labels ``(rule_id, dataset, record_key)`` of what it
planted. Near-misses are edited too but never labelled. How many records are planted grows with
``scale`` and never drops below the base count, so even a tiny demo shows every scenario.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days
from naebu.demo.cards import RESTRICTED, separate_same_day
from naebu.demo.finance import GROUND_SMALL, alone
from naebu.demo.frames import Edits
from naebu.demo.volumes import DemoSizeError

Label = tuple[str, str, str]

#: Records planted per rule at scale 1; larger scales plant proportionally more.
BASE_COUNTS: dict[str, int] = {
    "PROP-BELOW-APPRAISAL": 4,
    "PROP-STALE-APPRAISAL": 3,
    "CONTRACT-NEAR-LIMIT": 5,
    "PAY-SELF-APPROVAL": 5,
    "CARD-NIGHT": 5,
    "CARD-HOLIDAY": 7,
    "CARD-SPLIT": 7,
    "CARD-PERPERSON": 5,
    "CARD-MERCHANT": 8,
    "ATT-OVERTIME-ON-LEAVE": 6,
    "PERMIT-LATE": 5,
    "LEVY-REDUCTION-NO-CODE": 4,
}

# Hand-picked values first; beyond them, random ones from the same band.
#: CONTRACT-SPLIT's window: two sole-source contracts of a pair this close are a split.
SPLIT_WINDOW_DAYS = 90
NEAR_LIMIT_AMOUNTS = (19_000_000, 19_500_000, 19_800_000, 19_990_000, 20_000_000)
NIGHT_TIMES = ("23:15:00", "23:48:12", "00:32:40", "01:10:05", "05:40:30")
HOLIDAYS = (
    "2025-01-29",  # 설날
    "2025-03-03",  # 삼일절 대체공휴일
    "2025-10-06",  # 추석
    "2025-05-06",  # 어린이날·부처님오신날 대체공휴일
    "2025-06-06",  # 현충일
    "2025-03-08",  # 토요일
    "2025-11-16",  # 일요일
)
FRIDAYS_BEFORE_HOLIDAY = ("2025-01-24", "2025-02-28", "2025-05-02")
RESTRICTED_NAMES = {
    "유흥주점": "샹그릴라 클럽",
    "단란주점": "별빛단란주점",
    "노래연습장": "뮤직타운 노래연습장",
    "골프장": "한빛컨트리클럽",
    "사우나": "황제사우나",
    "안마시술소": "건강안마원",
    "카지노": "세븐럭 카지노",
    "성인용품점": "핑크하우스",
}
#: Whether a restricted merchant's demo name holds a CARD-MERCHANT keyword (else only its
#: category shows what it is).
NAME_SAYS = {c: c not in ("유흥주점", "성인용품점") for c in RESTRICTED}
#: Ordinary restaurants whose names merely resemble a restricted merchant's (CARD-MERCHANT
#: near-misses): a bar-like word, or part of a keyword (클럽, 노래, 룸, 스파, 바).
BAR_LIKE_NAMES = (
    "한잔포차", "생맥주 호프집", "술익는마을", "프레스클럽", "노래하는 닭갈비", "디쉬룸",
    "한빛 스파게티", "바닷가작은부엌",
)  # fmt: skip
#: Attendee texts with no number followed by 명: CARD-PERPERSON cannot judge them.
NO_HEADCOUNT = ("부서 직원 격려", "유관기관 관계자")


def grow(base: int, scale: float) -> int:
    """``base`` records at scale 1, proportionally more at larger scales, never fewer."""
    return max(base, int(round(base * scale)))


def plant_count(rule_id: str, scale: float) -> int:
    """How many records of ``rule_id`` to plant at ``scale`` (at least the base count)."""
    return grow(BASE_COUNTS[rule_id], scale)


class _Picker:
    """Draws distinct row positions, so one record is never planted twice.

    One picker per dataset is shared by every planter of that dataset (``build_frames``), so a
    record planted or used as a near-miss for one rule is never reused for another.
    """

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        self.used = np.zeros(n, dtype=bool)

    def take(self, mask: np.ndarray, k: int, what: str) -> np.ndarray:
        free = np.flatnonzero(np.asarray(mask, dtype=bool) & ~self.used)
        if len(free) < k:
            raise DemoSizeError(f"demo too small to plant {k} x {what}: {len(free)} candidates")
        chosen = np.sort(self.rng.choice(free, size=k, replace=False))
        self.used[chosen] = True
        return chosen


#: The picker under its public name, for the planting modules beside this one.
Picker = _Picker


def _set(df: pd.DataFrame, rows: np.ndarray, column: str, values: object) -> None:
    """Overwrite ``column`` at row positions ``rows`` (the frames have a RangeIndex)."""
    df.loc[df.index[rows], column] = values  # type: ignore[call-overload]


def _labels(rule: str, dataset: str, keys: pd.Series) -> list[Label]:
    return [(rule, dataset, str(k)) for k in keys]


def _time(hms: str) -> pd.Timedelta:
    return pd.Timedelta(hms)


def plant_contracts(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: _Picker | None = None
) -> list[Label]:
    """Sole-source 물품/용역 just under the KRW 20m limit; near-misses just outside the rule."""
    rule = "CONTRACT-NEAR-LIMIT"
    k = plant_count(rule, scale)
    pick = pick or _Picker(rng, len(df))
    # Sole-source records planted here must not meet another contract of their department and
    # vendor within the split window (at large scales pairs recur: CONTRACT-SPLIT would fire).
    day = df["contract_date"].to_numpy().astype("datetime64[D]").astype("int64")
    lone = alone(df["department"].to_numpy(), df["vendor_id"].to_numpy(), day, SPLIT_WINDOW_DAYS)
    goods = (df["category"] != "공사").to_numpy() & lone
    rows = pick.take(goods, k, rule)
    extra = np.round(rng.uniform(19_000_000, 20_000_000, max(0, k - len(NEAR_LIMIT_AMOUNTS))), -4)
    amounts = np.concatenate([NEAR_LIMIT_AMOUNTS, extra])[:k]
    _set(df, rows, "amount", amounts)
    _set(df, rows, "method", "수의")
    _set(df, rows, "sole_source_ground", GROUND_SMALL)
    # Near-misses: just under the band; in the band but competitive; in the band but works.
    near = pick.take(goods, 2, "near-miss")
    _set(df, near, "amount", [18_990_000, 19_500_000])
    _set(df, near, "method", ["수의", "일반경쟁"])
    _set(df, near, "sole_source_ground", [GROUND_SMALL, None])
    works = pick.take((df["category"] == "공사").to_numpy() & lone, 1, "near-miss")
    _set(df, works, "amount", 19_600_000)
    _set(df, works, "method", "수의")
    return _labels(rule, "contracts", df["contract_id"].iloc[rows])


def plant_payments(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: _Picker | None = None
) -> list[Label]:
    """Vouchers the drafter approved; near-misses with no approver recorded."""
    rule = "PAY-SELF-APPROVAL"
    pick = pick or _Picker(rng, len(df))
    every = np.ones(len(df), dtype=bool)
    rows = pick.take(every, plant_count(rule, scale), rule)
    _set(df, rows, "approver_id", df["official_id"].iloc[rows].to_numpy())
    near = pick.take(every, 2, "near-miss")
    _set(df, near, "approver_id", None)
    return _labels(rule, "payments", df["payment_id"].iloc[rows])


def plant_sales(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: _Picker | None = None
) -> list[Label]:
    """Sales below the lowest price their tender round allows, and sales on year-old
    appraisals; near-misses include sales at lawfully reduced prices (§40)."""
    pick = pick or _Picker(rng, len(df))
    two = (df["appraisal_count"] == 2).to_numpy()
    labels: list[Label] = []

    rule = "PROP-BELOW-APPRAISAL"
    rows = pick.take(two, plant_count(rule, scale), rule)
    mean = df["appraisal_mean"].iloc[rows].to_numpy()
    # The planned price is lawful (round 1 at the mean, round 3 at 90% of it: §40), the contract
    # is signed below it: 95% of the mean at round 1, 85% at round 3 (which allows 90%).
    rounds = np.where(np.arange(len(rows)) % 2 == 0, 1, 3)
    third = np.ceil(mean * 0.9 / 1000) * 1000
    _set(df, rows, "tender_round", rounds)
    _set(df, rows, "initial_planned_price", mean)
    _set(df, rows, "previous_planned_price", np.where(rounds == 3, mean, np.nan))
    _set(df, rows, "planned_price", np.where(rounds == 3, third, mean))
    _set(df, rows, "sale_price", np.floor(mean * np.where(rounds == 3, 0.85, 0.95) / 1000) * 1000)
    _set(df, rows, "method", "일반입찰")
    _set(df, rows, "ground_code", None)
    labels += _labels(rule, "property_sales", df["sale_id"].iloc[rows])
    near = pick.take(two, 2, "near-miss")  # exactly at the mean
    _set(df, near, "sale_price", df["appraisal_mean"].iloc[near].to_numpy())
    one = pick.take(two, 1, "near-miss")  # below the mean, but a single appraisal
    _set(df, one, "appraisal_count", 1)
    _set(df, one, "sale_price", np.floor(df["appraisal_mean"].iloc[one] * 0.95 / 1000) * 1000)
    # Lawful reduced prices after two failed tenders (§40): round 3 at 90% of the mean, round 4
    # near 80% (each step at most 10% of the first price, rounded up to the thousand).
    cut = pick.take(two, 2, "near-miss")
    m = df["appraisal_mean"].iloc[cut].to_numpy()
    third = np.ceil(m * 0.9 / 1000) * 1000
    fourth = np.ceil(m * 0.8 / 1000) * 1000 + 2000
    _set(df, cut, "tender_round", [3, 4])
    _set(df, cut, "initial_planned_price", m)
    _set(df, cut, "previous_planned_price", [m[0], third[1]])
    _set(df, cut, "planned_price", [third[0], fourth[1]])
    _set(df, cut, "sale_price", [third[0], fourth[1]])
    _set(df, cut, "method", "일반입찰")
    _set(df, cut, "ground_code", None)

    rule = "PROP-STALE-APPRAISAL"
    rows = pick.take(two, plant_count(rule, scale), rule)
    signed = df["contract_date"].iloc[rows].to_numpy()
    age = (366 + rng.integers(0, 200, len(rows))).astype("timedelta64[D]")
    _set(df, rows, "appraisal_date", signed - age)
    labels += _labels(rule, "property_sales", df["sale_id"].iloc[rows])
    near = pick.take(two, 2, "near-miss")  # exactly 365 days old
    year_old = df["contract_date"].iloc[near].to_numpy() - np.timedelta64(365, "D")
    _set(df, near, "appraisal_date", year_old)
    return labels


def plant_cards(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: _Picker | None = None
) -> list[Label]:
    """Night and holiday use, split payments, over-limit per head, restricted merchants, and a
    near-miss beside each (22:59, two departments at one merchant, consecutive days, exactly
    KRW 40,000 a head, restaurants named like bars)."""
    pick = pick or _Picker(rng, len(df))
    ed = Edits(df)
    every = np.ones(len(df), dtype=bool)
    group = (df["attendees"] >= 2).to_numpy() & df["merchant_category"].isin(
        ["한식", "일반음식점", "중식", "일식"]
    ).to_numpy()
    # Rows whose merchant name makes or breaks a label: the final clean-up leaves them alone.
    named = np.zeros(len(df), dtype=bool)
    labels: list[Label] = []
    key = df["approval_id"]

    rule = "CARD-NIGHT"
    rows = pick.take(group, plant_count(rule, scale), rule)  # dinners that ran late
    extra = [
        str(pd.Timedelta(seconds=int(s)) % pd.Timedelta(days=1)).split()[-1]
        for s in rng.integers(23 * 3600, 30 * 3600, max(0, len(rows) - len(NIGHT_TIMES)))
    ]
    times = [_time(t) for t in (list(NIGHT_TIMES) + extra)[: len(rows)]]
    ed.set(rows, "approved_time", times)
    labels += _labels(rule, "card_transactions", key.iloc[rows])
    near = pick.take(group, 2, "near-miss")
    ed.set(near, "approved_time", [_time("22:59:59"), _time("06:00:00")])
    near = pick.take(every, 3, "near-miss")  # the card company gave no time
    ed.set(near, "approved_time", pd.NaT)

    rule = "CARD-HOLIDAY"
    rows = pick.take(every, plant_count(rule, scale), rule)
    year = np.arange(days.START, days.END + np.timedelta64(1, "D"), dtype="datetime64[D]")
    off = year[~days.is_business_day(year)]
    weekends = off[rng.integers(0, len(off), max(0, len(rows) - len(HOLIDAYS)))]
    dates = np.concatenate([np.array(HOLIDAYS, dtype="datetime64[D]"), weekends])[: len(rows)]
    ed.set(rows, "approved_date", dates)
    labels += _labels(rule, "card_transactions", key.iloc[rows])
    near = pick.take(every, len(FRIDAYS_BEFORE_HOLIDAY), "near-miss")
    ed.set(near, "approved_date", np.array(FRIDAYS_BEFORE_HOLIDAY, dtype="datetime64[D]"))
    # Near-misses: a general-purchase (일반구매) card late at night and on a holiday.
    near = pick.take(every, 2, "near-miss")
    ed.set(near, "card_kind", "일반구매")
    ed.set(near[:1], "approved_time", [_time("23:40:00")])
    ed.set(near[1:], "approved_date", np.array(HOLIDAYS[:1], dtype="datetime64[D]"))

    labels += _plant_splits(rng, ed, pick, plant_count("CARD-SPLIT", scale), named)

    rule = "CARD-PERPERSON"
    heads = ed["attendees"].astype(float)
    rows = pick.take(group, plant_count(rule, scale), rule)
    ed.set(rows, "amount", np.round(heads[rows] * rng.uniform(42_000, 90_000, len(rows)), -3))
    labels += _labels(rule, "card_transactions", key.iloc[rows])
    near = pick.take(group, 2, "near-miss")  # exactly KRW 40,000 a head
    ed.set(near, "amount", heads[near] * 40_000)
    near = pick.take(group, len(NO_HEADCOUNT), "near-miss")  # a big bill, but no head count
    ed.set(near, "attendees_text", list(NO_HEADCOUNT))
    ed.set(near, "amount", heads[near] * 60_000)

    rule = "CARD-MERCHANT"
    rows = pick.take(group, plant_count(rule, scale), rule)
    cats = [RESTRICTED[i % len(RESTRICTED)] for i in range(len(rows))]
    # Past eight, the names repeat as branches, so two planted rows never share a merchant.
    shops = [
        RESTRICTED_NAMES[c] + ("" if i < len(RESTRICTED) else f" {i // len(RESTRICTED) + 1}호점")
        for i, c in enumerate(cats)
    ]
    # Every third one without a category, as in a disclosure: only its name gives it away.
    shown = [None if i % 3 == 2 and NAME_SAYS[c] else c for i, c in enumerate(cats)]
    ed.set(rows, "merchant_category", shown)
    ed.set(rows, "merchant_name", shops)
    ed.set(rows, "purpose", ed["department"][rows] + " 직원 격려 간담회")
    named[rows] = True
    labels += _labels(rule, "card_transactions", key.iloc[rows])
    near = pick.take(group, len(BAR_LIKE_NAMES), "near-miss")  # named like a bar, 일반음식점
    ed.set(near, "merchant_category", "일반음식점")
    ed.set(near, "merchant_name", list(BAR_LIKE_NAMES))
    named[near] = True

    ed.flush()
    separate_same_day(rng, df, keep=named)
    return labels


#: The columns a planted split payment copies from the first payment of its group.
SPLIT_COLUMNS = ["department", "holder_id", "card_no", "merchant_name", "merchant_category",
                 "merchant_address", "approved_date"]  # fmt: skip


def _plant_splits(
    rng: np.random.Generator, ed: Edits, pick: _Picker, k: int, named: np.ndarray
) -> list[Label]:
    """``k`` card payments in groups of two (three for an odd rest) by one card holder at one
    merchant on one day, minutes apart; near-misses: two departments at one merchant on one
    day, one department at one merchant on consecutive business days, and a second payment
    there that day in cash."""
    rule = "CARD-SPLIT"
    n = len(ed.df)
    every = np.ones(n, dtype=bool)
    sizes = np.full(k // 2, 2)
    if k % 2:
        sizes[-1] = 3
    # All groups at once: the first row of each group is its anchor, the others copy it.
    rows = rng.permutation(pick.take(every, int(sizes.sum()), rule))
    group = np.repeat(np.arange(len(sizes)), sizes)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    anchor = rows[first][group]
    nth = np.arange(len(rows)) - first[group]  # 0 for the anchor, 1 and 2 for the others
    others, source = rows[nth > 0], anchor[nth > 0]
    for column in SPLIT_COLUMNS:
        ed.set(others, column, ed[column][source])
    # The first group's second payment is written with a trailing space: the same merchant
    # once normalized.
    ed.set(others[:1], "merchant_name", ed["merchant_name"][others[:1]] + " ")
    step = rng.integers(1, 6, len(sizes))[group][nth > 0]
    base = ed["approved_time"][source]
    ed.set(others, "approved_time", base + (nth[nth > 0] * step * 60).astype("timedelta64[s]"))
    tail = pd.Series(ed["purpose"][others]).str.split(" ", n=1).str[-1].to_numpy(dtype=object)
    ed.set(others, "purpose", ed["department"][others] + " " + tail)
    named[rows] = True
    keys = ed.df["approval_id"].to_numpy()[np.sort(rows)]

    # Near-miss: the same merchant on the same day, but another department's card.
    first_row = int(pick.take(every, 1, "near-miss")[0])
    other_dept = ed["department"] != ed["department"][first_row]
    second = pick.take(other_dept, 1, "near-miss")
    for column in ("merchant_name", "merchant_category", "merchant_address", "approved_date"):
        ed.set(second, column, ed[column][first_row])
    named[[first_row, *second]] = True
    # Near-miss: the same card at the same merchant on consecutive business days.
    dates = ed["approved_date"].astype("datetime64[D]")
    has_next = days.is_business_day(dates + np.timedelta64(1, "D"))
    first_row = int(pick.take(has_next, 1, "near-miss")[0])
    second = pick.take(every, 1, "near-miss")
    for column in SPLIT_COLUMNS[:-1]:
        ed.set(second, column, ed[column][first_row])
    ed.set(second, "approved_date", dates[first_row] + np.timedelta64(1, "D"))
    named[[first_row, *second]] = True
    # Near-miss: a second payment at the merchant that day, but in cash.
    first_row = int(pick.take(every, 1, "near-miss")[0])
    second = pick.take(every, 1, "near-miss")
    for column in SPLIT_COLUMNS:
        ed.set(second, column, ed[column][first_row])
    ed.set(second, "payment_method", "현금")
    named[[first_row, *second]] = True
    return _labels(rule, "card_transactions", pd.Series(keys))


def plant_attendance(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: _Picker | None = None
) -> list[Label]:
    """Overtime claimed on whole days of leave and of trips out of town (half each); near-misses:
    evening overtime after a half-day 연가 and after a short 관내출장."""
    rule = "ATT-OVERTIME-ON-LEAVE"
    k = plant_count(rule, scale)
    pick = pick or _Picker(rng, len(df))
    whole_leave = df["leave_type"].notna() & (df["leave_hours"] >= 8)
    whole_trip = (df["trip_type"] == "관외출장") & (df["trip_hours"] >= 8)
    leave = pick.take(whole_leave.to_numpy(), (k + 1) // 2, rule)
    trip = pick.take(whole_trip.to_numpy(), k // 2, rule)
    rows = np.sort(np.concatenate([leave, trip]))
    _set(df, rows, "overtime_hours", rng.choice([2.0, 3.0, 4.0], len(rows)))
    half = ((df["leave_type"] == "연가") & (df["leave_hours"] < 8)).to_numpy()
    short = ((df["trip_type"] == "관내출장") & (df["trip_hours"] <= 2)).to_numpy()
    near = np.concatenate([pick.take(half, 1, "near-miss"), pick.take(short, 1, "near-miss")])
    _set(df, near, "overtime_hours", np.array([2.0, 3.0]))
    return _labels(rule, "attendance", df["record_id"].iloc[rows])


def plant_permits(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: _Picker | None = None
) -> list[Label]:
    """Permits decided after their statutory deadline (working days, 민원처리법 제19조);
    near-misses decided on the deadline's own day, past it in calendar days."""
    rule = "PERMIT-LATE"
    pick = pick or _Picker(rng, len(df))
    received = df["received_on"].to_numpy().astype("datetime64[D]")
    legal = df["legal_days"].to_numpy(dtype="int64")
    decided = df["decided_on"].notna().to_numpy() & (received <= np.datetime64("2025-10-31"))
    rows = pick.take(decided, plant_count(rule, scale), rule)
    due = days.legal_deadlines(df["received_at"].to_numpy(), legal)
    late = days.roll_forward(due[rows] + rng.integers(3, 30, len(rows)).astype("timedelta64[D]"))
    _set(df, rows, "decided_on", late.astype("datetime64[ns]"))
    _set(df, rows, "updated_at", days.stamps(rng, late).to_numpy())
    last_day = due
    on_time = decided & days.is_business_day(last_day)
    near = pick.take(on_time, 2, "near-miss")
    _set(df, near, "decided_on", last_day[near].astype("datetime64[ns]"))
    _set(df, near, "updated_at", days.stamps(rng, last_day[near]).to_numpy())
    return _labels(rule, "permits", df["permit_id"].iloc[rows])


def plant_levies(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: _Picker | None = None
) -> list[Label]:
    """Reductions granted with no legal-ground code; near-misses with a code."""
    rule = "LEVY-REDUCTION-NO-CODE"
    pick = pick or _Picker(rng, len(df))
    plain = (df["reduction_amount"] == 0).to_numpy()
    rows = pick.take(plain, plant_count(rule, scale), rule)
    _set(df, rows, "reduction_amount", np.round(df["amount"].iloc[rows].to_numpy() * 0.5, -1))
    _set(df, rows, "reduction_code", None)
    near = pick.take(plain, 2, "near-miss")
    _set(df, near, "reduction_amount", np.round(df["amount"].iloc[near].to_numpy() * 0.3, -1))
    _set(df, near, "reduction_code", "RD-68-1")
    return _labels(rule, "levies", df["levy_id"].iloc[rows])
