"""Department card (업무추진비) approvals, as the card company reports them.

Ordinary use: business days, office or meal hours (07:00-22:30), allowed merchants, at most
KRW 38,000 a head, and at most one payment a day per department and merchant, so none of the
card rules fires on the background. The attendees come as the card drop writes them, in words
(``"팀장 등 4명"``), and the per-person rule reads the number out of that text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days, names
from naebu.demo.frames import table
from naebu.demo.people import City
from naebu.demo.volumes import DemoSizeError

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
#: Who the attendee text names first ("팀장 등 4명").
LEADS = ("과장", "팀장", "주무관", "국장", "담당")
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


def attendee_texts(rng: np.random.Generator, attendees: np.ndarray) -> np.ndarray:
    """The attendee column as officials type it: ``"팀장 등 4명"``, ``"주무관 1명"``."""
    # One text per (lead, head count), looked up: formatting each row is slow at 500k rows.
    lead = rng.integers(0, len(LEADS), len(attendees))  # as names.pick(rng, LEADS, n) draws
    heads = np.asarray(attendees, dtype=np.int64)
    top = int(heads.max(initial=1)) + 1
    texts = np.array(
        [f"{ld} 등 {h}명" if h > 1 else f"{ld} {h}명" for ld in LEADS for h in range(top)],
        dtype=object,
    )
    return texts[lead * top + heads]


def separate_same_day(
    rng: np.random.Generator, df: pd.DataFrame, keep: np.ndarray | None = None
) -> None:
    """Give another merchant to every payment that shares its department, merchant and day
    with an earlier one (an unplanned CARD-SPLIT), in place.

    ``keep`` marks rows whose merchant must not change (planted splits and restricted
    merchants): a group with a kept row keeps only its kept rows, any other group its first
    row. The new merchant is one no payment of that department names that day: of the same
    category where one is free, else any ordinary merchant. Vectorised in rounds: each
    payment to move draws a free merchant at random, and a merchant two of them drew for the
    same department and day goes to the first, the other drawing again.
    """
    n = len(df)
    keep = np.zeros(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    card = (df["payment_method"] == "카드").to_numpy()
    raw, names_seen = pd.factorize(df["merchant_name"].to_numpy(dtype=object))
    name = np.array([str(m).strip() for m in names_seen], dtype=object)[raw]
    # A (department, day) group and a (group, merchant) pair per payment, as integer codes.
    dept_code = pd.factorize(df["department"])[0].astype(np.int64)
    day_code = df["approved_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    group = pd.factorize(dept_code * 100_000 + day_code - day_code.min())[0]
    name_code = pd.factorize(name)[0]
    pair = group.astype(np.int64) * (int(name_code.max()) + 1) + name_code
    # The first row of each pair stays (kept rows first); later unkept card payments move.
    order = np.lexsort((np.arange(n), ~keep, pair))
    first = np.ones(n, dtype=bool)
    first[order[1:]] = pair[order[1:]] != pair[order[:-1]]
    movers = np.flatnonzero(~first & card & ~keep)
    if len(movers) == 0:
        return

    # The ordinary merchants, as the approvals name them (the addresses depend on the seed).
    ordinary = {m for spec in CATEGORIES.values() for m in spec[1]}
    columns = ["merchant_name", "merchant_category", "merchant_address"]
    shop = df.loc[df["merchant_name"].isin(ordinary), columns].drop_duplicates("merchant_name")
    shop = shop.sort_values(columns, kind="stable").reset_index(drop=True)
    pool = shop["merchant_name"].to_numpy(dtype=object)
    slot = pd.Index(pool)
    # Which merchants each group of a payment to move already names.
    groups, local = np.unique(group[movers], return_inverse=True)
    taken = np.zeros((len(groups), len(pool)), dtype=bool)
    at = slot.get_indexer(name)
    in_group = np.searchsorted(groups, group)
    hit = (at >= 0) & (in_group < len(groups))
    hit[hit] = groups[in_group[hit]] == group[hit]
    taken[in_group[hit], at[hit]] = True

    category = shop["merchant_category"].to_numpy(dtype=object)
    same = category[None, :] == df["merchant_category"].to_numpy(dtype=object)[movers][:, None]
    chosen = np.full(len(movers), -1)
    todo = np.arange(len(movers))
    while len(todo):
        free = ~taken[local[todo]]
        ok = free & same[todo]
        ok[~ok.any(axis=1)] = free[~ok.any(axis=1)]  # no free merchant of the category
        stuck = ~ok.any(axis=1)
        if stuck.any():
            i = movers[todo[np.flatnonzero(stuck)[0]]]
            raise DemoSizeError(
                f"too many card payments for {df['department'].iat[i]} on "
                f"{df['approved_date'].iat[i]:%Y-%m-%d}: every one of the {len(pool)} "
                "merchants is taken that day (lower the card volume or add local governments)"
            )
        draw = np.where(ok, rng.random(ok.shape), -1.0).argmax(axis=1)
        # Two payments of one group drawing one merchant: the first gets it.
        claim = local[todo].astype(np.int64) * len(pool) + draw
        _, winner = np.unique(claim, return_index=True)
        won = todo[winner]
        chosen[won] = draw[winner]
        taken[local[won], draw[winner]] = True
        todo = np.setdiff1d(todo, won, assume_unique=True)

    rows = df.index[movers]
    for column in columns:
        df.loc[rows, column] = shop[column].to_numpy(dtype=object)[chosen]


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
    df = table(
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
            "attendees_text": attendee_texts(rng, attendees),
            "payment_method": "카드",
            "purpose": holders["department"].to_numpy()[hi] + " " + purpose,
            "card_kind": "업무추진비",
        }
    )
    df = df.iloc[order].reset_index(drop=True)
    separate_same_day(rng, df)
    return df
