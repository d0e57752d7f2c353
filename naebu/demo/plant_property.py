"""Planting the public-property sale scenarios (공유재산 매각) beyond the appraisal ones.

:func:`plant_sales` edits sales before their proceeds are settled (missing appraisals,
sole-source sales without a ground, parcels split for one buyer, price cuts past the floor);
:func:`plant_proceeds` then edits the receipts and title transfers (proceeds late or never
received, title passed before full payment, proceeds paid into an account that is not the
city's). Every planter also plants near-misses that must not fire, and returns the labels of
what it planted, computed from the final records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days
from naebu.demo.anomalies import Label, Picker, grow
from naebu.demo.property import GROUNDS

BASE_COUNTS: dict[str, int] = {
    "PROP-NO-APPRAISAL": 3,
    "PROP-SOLE-SOURCE-NO-GROUND": 4,
    "PROP-SPLIT-PARCEL": 2,  # groups of two or three sales
    "PROP-PRICE-CUT": 3,
    "PROP-PROCEEDS-LATE": 4,
    "PROP-TITLE-BEFORE-PAYMENT": 3,
    "REV-RECEIPT-OTHER-ACCOUNT": 3,
}
BAD_GROUNDS = (None, "38-1-99", "기타", None)
SPLIT_LIMIT = 30_000_000
LATE_AFTER = 60


def _set(df: pd.DataFrame, rows: np.ndarray, column: str, values: object) -> None:
    df.loc[df.index[rows], column] = values  # type: ignore[call-overload]


def _keys(rule: str, df: pd.DataFrame, rows: np.ndarray | list[int]) -> list[Label]:
    return [(rule, "property_sales", str(k)) for k in df["sale_id"].iloc[rows]]


def _appraised_at(df: pd.DataFrame, rows: np.ndarray, price: np.ndarray) -> None:
    """Two appraisals averaging exactly ``price``, first-round sale at that price."""
    _set(df, rows, "appraisal_count", 2)
    for col in ("appraisal_mean", "planned_price", "initial_planned_price", "sale_price"):
        _set(df, rows, col, price)
    _set(df, rows, "previous_planned_price", np.nan)
    _set(df, rows, "tender_round", 1)


def plant_sales(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: Picker
) -> list[Label]:
    """Sales planted before settlement; returns their labels."""
    labels: list[Label] = []
    signed = df["contract_date"].to_numpy().astype("datetime64[D]")
    every = np.ones(len(df), dtype=bool)

    rule = "PROP-NO-APPRAISAL"
    worth = (df["planned_price"] >= 12_000_000).to_numpy()
    rows = pick.take(worth, grow(BASE_COUNTS[rule], scale), rule)
    _set(df, rows, "appraisal_count", 0)
    _set(df, rows, "appraisal_mean", np.nan)
    _set(df, rows, "appraisal_date", pd.NaT)
    labels += _keys(rule, df, rows)
    near = pick.take(every, 1, "near-miss")  # no appraisal, but worth just under KRW 10m
    _set(df, near, "appraisal_count", 0)
    _set(df, near, "appraisal_mean", np.nan)
    _set(df, near, "appraisal_date", pd.NaT)
    for col in ("planned_price", "initial_planned_price", "sale_price"):
        _set(df, near, col, 9_990_000.0)
    # Sold at the first tender: a re-tender's previous price would make it a price cut.
    _set(df, near, "previous_planned_price", np.nan)
    _set(df, near, "tender_round", 1)

    rule = "PROP-SOLE-SOURCE-NO-GROUND"
    rows = pick.take(every, grow(BASE_COUNTS[rule], scale), rule)
    _set(df, rows, "method", "수의")
    _set(df, rows, "ground_code", [BAD_GROUNDS[i % len(BAD_GROUNDS)] for i in range(len(rows))])
    labels += _keys(rule, df, rows)
    near = pick.take(every, 1, "near-miss")  # a rarely used but allowed ground
    _set(df, near, "method", "수의")
    _set(df, near, "ground_code", "38-1-5")

    labels += _plant_split(rng, df, scale, pick, signed)
    labels += _plant_price_cuts(rng, df, scale, pick)
    return labels


def _plant_split(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: Picker, signed: np.ndarray
) -> list[Label]:
    """Groups of 2-3 parcels split from one lot, each at most KRW 30m, sold by 수의 to one buyer;
    near-misses: a lot whose two parcels total exactly KRW 30m, and one sold to two buyers."""
    rule = "PROP-SPLIT-PARCEL"
    labels: list[Label] = []
    groups = grow(BASE_COUNTS[rule], scale)
    sizes = [2 + (g % 2) for g in range(groups)] + [2, 2]  # the last two are near-misses
    free = np.ones(len(df), dtype=bool)
    for g, size in enumerate(sizes):
        rows = pick.take(free, size, rule)
        lot = f"중앙동 {900 + g}"  # background lots end at 899: a lot of its own
        parcels = [f"{lot}-{i + 1}" for i in range(size)]
        buyer = df["buyer_name"].iloc[rows[0]]
        if g < groups:
            price = np.round(rng.uniform(16e6, SPLIT_LIMIT, size), -4)
            price[0] = SPLIT_LIMIT if g == 0 else price[0]  # each at most the limit, inclusive
            buyers = [buyer] * size
            labels += _keys(rule, df, rows)
        elif g == groups:
            price = np.array([14_000_000.0, 16_000_000.0])  # together exactly the limit
            buyers = [buyer] * size
        else:
            price = np.array([20_000_000.0, 20_000_000.0])
            buyers = [buyer, df["buyer_name"].iloc[rows[1]]]
            if buyers[0] == buyers[1]:
                buyers[1] = buyer + "(주)"
        _appraised_at(df, rows, price)
        _set(df, rows, "parcel_id", parcels)
        _set(df, rows, "parent_parcel_id", lot)
        _set(df, rows, "buyer_name", buyers)
        _set(df, rows, "method", "수의")
        _set(df, rows, "ground_code", GROUNDS[g % len(GROUNDS)])
    return labels


def _plant_price_cuts(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: Picker
) -> list[Label]:
    """Cuts past the §40 limits (a 15% step, a cut at round 2, a fifth round under 80% of the
    first price); near-miss: a fifth round at exactly 80% after lawful 10% steps.

    Each cut price is below what its round allows, so these sales are also
    PROP-BELOW-APPRAISAL's; the near-miss is lawful for both rules.
    """
    rule = "PROP-PRICE-CUT"
    two = (df["appraisal_count"] == 2).to_numpy()
    k = grow(BASE_COUNTS[rule], scale)
    rows = pick.take(two, k, rule)
    near = pick.take(two, 1, "near-miss")
    first = df["appraisal_mean"].to_numpy()
    kind = np.arange(k) % 3
    p1 = first[rows]
    r3 = np.ceil(p1 * 0.9 / 1000) * 1000
    r4 = np.ceil(r3 * 0.9 / 1000) * 1000
    planned = np.select(
        [kind == 0, kind == 1], [np.floor(p1 * 0.85 / 1000) * 1000, p1 * 0.9], r4 * 0.9
    )
    planned = np.floor(planned / 1000) * 1000
    previous = np.select([kind == 0, kind == 1], [p1, p1], r4)
    rounds = np.select([kind == 0, kind == 1], [3, 2], 5)
    _set(df, rows, "tender_round", rounds)
    _set(df, rows, "initial_planned_price", p1)
    _set(df, rows, "previous_planned_price", previous)
    _set(df, rows, "planned_price", planned)
    _set(df, rows, "sale_price", planned)
    _set(df, rows, "method", "일반입찰")
    _set(df, rows, "ground_code", None)
    p1n = first[near]
    n3 = np.ceil(p1n * 0.9 / 1000) * 1000
    n4 = np.ceil(n3 * 0.9 / 1000) * 1000
    _set(df, near, "tender_round", 5)
    _set(df, near, "initial_planned_price", p1n)
    _set(df, near, "previous_planned_price", n4)
    _set(df, near, "planned_price", p1n * 0.8)
    _set(df, near, "sale_price", p1n * 0.8)
    _set(df, near, "method", "일반입찰")
    _set(df, near, "ground_code", None)
    return _keys(rule, df, rows) + _keys("PROP-BELOW-APPRAISAL", df, rows)


def plant_proceeds(
    rng: np.random.Generator,
    sales: pd.DataFrame,
    receipts: pd.DataFrame,
    scale: float,
    pick: Picker,
    employees: pd.DataFrame,
) -> tuple[pd.DataFrame, list[Label]]:
    """Edits the settled sales' receipts and title transfers; returns the receipts and labels.

    ``receipts`` are the sale receipts of :func:`naebu.demo.property.settle_sales` (not yet
    numbered), so a receipt is found by its ``ref_id`` and ``received_on``.
    """
    labels: list[Label] = []
    receipts = receipts.copy()
    signed = sales["contract_date"].to_numpy().astype("datetime64[D]")
    paid_full = _full_payment_day(sales, receipts)
    settled = ~np.isnat(paid_full)
    early = settled & (signed <= np.datetime64("2025-09-01"))

    rule = "PROP-PROCEEDS-LATE"
    rows = pick.take(early, grow(BASE_COUNTS[rule], scale), rule)
    balance = _balance_rows(sales, receipts, rows)
    late = days.roll_forward(signed[rows] + rng.integers(61, 90, len(rows)).astype("m8[D]"))
    never = np.arange(len(rows)) % 2 == 1  # half never paid the balance at all
    receipts.loc[balance[~never], "received_on"] = days.to_timestamps(late[~never]).to_numpy()
    receipts = receipts.drop(index=balance[never])
    _set(sales, rows, "title_transfer_date", pd.NaT)
    labels += _keys(rule, sales, rows)
    ok_day = signed + np.timedelta64(LATE_AFTER, "D")
    near = pick.take(early & days.is_business_day(ok_day), 2, "near-miss")  # paid on day 60
    receipts.loc[_balance_rows(sales, receipts, near), "received_on"] = days.to_timestamps(
        ok_day[near]
    ).to_numpy()
    _set(sales, near, "title_transfer_date", days.to_timestamps(ok_day[near] + 7).to_numpy())

    rule = "PROP-TITLE-BEFORE-PAYMENT"
    gap = (paid_full - signed).astype("int64")
    room = settled & (gap >= 3)
    rows = pick.take(room, grow(BASE_COUNTS[rule], scale), rule)
    before = signed[rows] + (gap[rows] // 2).astype("m8[D]")
    _set(sales, rows, "title_transfer_date", days.to_timestamps(before).to_numpy())
    labels += _keys(rule, sales, rows)
    near = pick.take(settled, 2, "near-miss")  # title passed on the day of full payment
    _set(sales, near, "title_transfer_date", days.to_timestamps(paid_full[near]).to_numpy())

    rule = "REV-RECEIPT-OTHER-ACCOUNT"
    rows = pick.take(settled, grow(BASE_COUNTS[rule], scale), rule)
    balance = _balance_rows(sales, receipts, rows)
    own = employees.set_index("employee_id")["account_no"]
    receipts.loc[balance, "account_no"] = own.loc[sales["official_id"].iloc[rows]].to_numpy()
    # The receipt numbers are given later (build_receipts): mark the planted ones meanwhile.
    receipts["_planted"] = False
    receipts.loc[balance, "_planted"] = True
    return receipts, labels


def _full_payment_day(sales: pd.DataFrame, receipts: pd.DataFrame) -> np.ndarray:
    """Per sale, the day its receipts reached the sale price (NaT if they never did)."""
    r = receipts.sort_values(["ref_id", "received_on"], kind="stable")
    total = r.groupby("ref_id")["amount"].cumsum()
    price = sales.set_index("sale_id")["sale_price"]
    done = r[total.to_numpy() >= price.loc[r["ref_id"]].to_numpy()]
    first = done.groupby("ref_id")["received_on"].min()
    day = first.reindex(sales["sale_id"]).to_numpy()
    return np.asarray(day, dtype="datetime64[D]")


def _balance_rows(sales: pd.DataFrame, receipts: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Index labels of the last receipt (the balance) of each sale at ``rows``, in the order of
    ``rows`` (so per-sale values line up with them)."""
    ids = sales["sale_id"].iloc[rows]
    wanted = receipts[receipts["ref_id"].isin(ids)]
    last = wanted.sort_values("received_on", kind="stable").groupby("ref_id").tail(1)
    return pd.Series(last.index, index=last["ref_id"].to_numpy()).loc[ids.to_numpy()].to_numpy()
