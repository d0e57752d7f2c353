"""Department card (업무추진비) approvals, as the card company reports them.

Ordinary use: business days, office or meal hours (07:00-22:30), allowed merchants, at most
KRW 38,000 a head, so none of the card rules fires on the background.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days, names
from naebu.demo.people import City

#: category -> (share, merchant names, per-head KRW range, attendees range, hours).
CATEGORIES: dict[str, tuple[float, tuple[str, ...], tuple[int, int], tuple[int, int], str]] = {
    "한식": (
        0.30,
        ("한우마을", "청기와식당", "고향집", "남도한정식", "시골밥상", "명동칼국수",
         "뚝배기집", "할매순대국", "산채비빔밥", "삼겹살마당"),
        (9_000, 38_000), (2, 12), "meal",
    ),
    "일반음식점": (
        0.20,
        ("바다횟집", "장터국밥", "오리마을", "생선구이집", "만나식당", "행복한식당",
         "해물탕집", "두부마을"),
        (9_000, 38_000), (2, 12), "meal",
    ),
    "중식": (0.07, ("만리장성", "홍콩반점", "차이나하우스", "진미반점"), (8_000, 30_000), (2, 10), "meal"),
    "일식": (0.06, ("스시젠", "미소야", "은행골", "돈까스연구소"), (12_000, 38_000), (2, 8), "meal"),
    "커피전문점": (
        0.17,
        ("스타벅스 시청점", "이디야커피 한빛점", "투썸플레이스", "메가커피 시청점", "카페 온"),
        (3_000, 8_000), (2, 10), "snack",
    ),
    "제과점": (0.07, ("파리바게뜨 시청점", "뚜레쥬르", "한빛베이커리"), (4_000, 12_000), (2, 12), "snack"),
    "문구": (0.05, ("알파문구", "모닝글로리", "한빛문구"), (5_000, 38_000), (1, 1), "supply"),
    "서점": (0.04, ("교보문고 한빛점", "영풍문고", "한빛서점"), (8_000, 38_000), (1, 1), "supply"),
    "분식": (0.04, ("김밥천국", "엽기분식", "한빛떡볶이"), (5_000, 12_000), (2, 10), "meal"),
}  # fmt: skip
PURPOSES = {
    "meal": ("업무협의 간담회", "유관기관 업무협의", "직원 격려 간담회", "현안업무 추진 간담회"),
    "snack": ("회의용 다과 구입", "업무협의 다과", "민원 상담 다과"),
    "supply": ("업무용 소모품 구입", "업무 참고자료 구입"),
}
RESTRICTED = (
    "유흥주점",
    "단란주점",
    "노래연습장",
    "골프장",
    "사우나",
    "안마시술소",
    "카지노",
    "성인용품점",
)


def merchants(seed: int) -> pd.DataFrame:
    """The merchants around city hall: name, category, address (fixed for a seed)."""
    rng = np.random.default_rng([seed, 90])
    rows = [(m, cat) for cat, spec in CATEGORIES.items() for m in spec[1]]
    df = pd.DataFrame(rows, columns=["merchant_name", "merchant_category"])
    df["merchant_address"] = names.addresses(rng, len(df))
    return df


def _cards(rng: np.random.Generator, holders: pd.DataFrame) -> np.ndarray:
    """One masked card number per holder (BIN and last four digits shown)."""
    n = len(holders)
    bins = names.pick(rng, ("9410", "5585", "4579", "9420"), n)
    return bins + "-" + names.digits(rng, n, 2) + "**-****-" + names.digits(rng, n, 4)


def seconds_between(rng: np.random.Generator, lo: str, hi: str, n: int) -> np.ndarray:
    """``n`` times of day (seconds) uniformly between ``lo`` and ``hi`` (``HH:MM``)."""

    def s(t: str) -> int:
        h, m = t.split(":")
        return int(h) * 3600 + int(m) * 60

    return rng.integers(s(lo), s(hi), n)


def build_cards(rng: np.random.Generator, city: City, seed: int, n: int) -> pd.DataFrame:
    """``n`` ordinary card approvals of the year, in time order."""
    holders = city.card_holders().reset_index(drop=True)
    card_no = _cards(rng, holders)
    hi = rng.integers(0, len(holders), n)
    shop = merchants(seed)
    cats = list(CATEGORIES)
    share = np.array([CATEGORIES[c][0] for c in cats])
    ci = rng.choice(len(cats), n, p=share / share.sum())
    # A merchant of the drawn category (merchants are listed category by category).
    counts = np.array([len(CATEGORIES[c][1]) for c in cats])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    mi = starts[ci] + rng.integers(0, counts[ci])
    lo = np.array([CATEGORIES[c][2][0] for c in cats])[ci]
    hi_ = np.array([CATEGORIES[c][2][1] for c in cats])[ci]
    a_lo = np.array([CATEGORIES[c][3][0] for c in cats])[ci]
    a_hi = np.array([CATEGORIES[c][3][1] for c in cats])[ci]
    # Small groups are commoner than big ones.
    attendees = a_lo + np.minimum(rng.geometric(0.35, n) - 1, a_hi - a_lo)
    per_head = rng.uniform(lo, hi_)
    amount = np.minimum(np.round(per_head * attendees, -2), 38_000 * attendees)
    kind = np.array([CATEGORIES[c][4] for c in cats], dtype=object)[ci]
    meal = kind == "meal"
    lunch = rng.random(n) < 0.6
    secs = np.where(
        meal,
        np.where(
            lunch,
            seconds_between(rng, "11:20", "13:40", n),
            seconds_between(rng, "17:40", "21:30", n),
        ),
        seconds_between(rng, "08:30", "18:00", n),
    )
    day = days.random_days(rng, n)
    order = np.lexsort((secs, day))
    purpose = np.select(
        [meal, kind == "snack"],
        [names.pick(rng, PURPOSES["meal"], n), names.pick(rng, PURPOSES["snack"], n)],
        names.pick(rng, PURPOSES["supply"], n),
    )
    approval = 10_000_000 + rng.choice(89_999_999, size=n, replace=False)
    df = pd.DataFrame(
        {
            "approval_id": approval.astype(str),
            "department": holders["department"].to_numpy()[hi],
            "holder_id": holders["employee_id"].to_numpy()[hi],
            "card_no": card_no[hi],
            "approved_date": days.to_timestamps(day),
            "approved_time": pd.Series(secs.astype("timedelta64[s]").astype("timedelta64[ns]")),
            "merchant_name": shop["merchant_name"].to_numpy()[mi],
            "merchant_category": shop["merchant_category"].to_numpy()[mi],
            "merchant_address": shop["merchant_address"].to_numpy()[mi],
            "amount": amount.astype("float64"),
            "attendees": pd.array(attendees, dtype="Int64"),
            "payment_method": "카드",
            "purpose": holders["department"].to_numpy()[hi] + " " + purpose,
        }
    )
    return df.iloc[order].reset_index(drop=True)
