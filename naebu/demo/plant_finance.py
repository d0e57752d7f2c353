"""Planting the contract (계약) and payment (지출) scenarios beyond the near-limit and
self-approval ones.

Contracts are planted before the payments are drawn from them, so a planted contract's
payments carry its department and vendor. Payments are planted in an order that keeps each
scenario to itself; the vendor-account change goes last and labels every payment that falls
in its seven days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days
from naebu.demo.anomalies import Label, Picker, grow
from naebu.demo.finance import GROUND_ENTERPRISE, GROUND_SMALL

BASE_COUNTS: dict[str, int] = {
    "CONTRACT-SPLIT": 3,  # groups of two or three contracts
    "CONTRACT-VENDOR-CONCENTRATION": 1,  # groups of six contracts
    "CONTRACT-SOLE-SOURCE-NO-GROUND": 4,
    "PAY-DUPLICATE": 3,  # pairs
    "PAY-ACCOUNT-MISMATCH": 3,
    "PAY-TO-EMPLOYEE": 3,
    "PAY-AFTER-ACCOUNT-CHANGE": 3,
    "PAY-BEFORE-INSPECTION": 4,
}
LIMIT = 20_000_000
SPLIT_SPAN_DAYS = 29  # planted splits lie within this many days: closer than any spacing
CONCENTRATION = 6


def _set(df: pd.DataFrame, rows: np.ndarray | list[int], column: str, values: object) -> None:
    df.loc[df.index[rows], column] = values  # type: ignore[call-overload]


def _keys(rule: str, dataset: str, df: pd.DataFrame, rows: np.ndarray | list[int]) -> list[Label]:
    key = "contract_id" if dataset == "contracts" else "payment_id"
    return [(rule, dataset, str(k)) for k in df[key].iloc[rows]]


def _as_pair(df: pd.DataFrame, rows: np.ndarray | list[int], anchor: int) -> None:
    """Make ``rows`` sole-source goods contracts of ``anchor``'s department, official, vendor."""
    for col in ("department", "official_id", "vendor_id"):
        _set(df, rows, col, df[col].iloc[anchor])
    _set(df, rows, "method", "수의")
    _set(df, rows, "category", "물품")
    _set(df, rows, "sole_source_ground", GROUND_SMALL)


def plant_contracts(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: Picker, vendors: pd.DataFrame
) -> list[Label]:
    """Split contracts, a vendor's concentration, sole-source without a ground; near-misses."""
    labels: list[Label] = []
    day = df["contract_date"].to_numpy().astype("datetime64[D]").astype("int64")
    pair = df["department"] + "|" + df["vendor_id"]
    alone = (pair.map(pair.value_counts()) == 1).to_numpy()
    goods = (df["category"] != "공사").to_numpy()

    rule = "CONTRACT-SPLIT"
    groups = grow(BASE_COUNTS[rule], scale)
    for g in range(groups + 2):  # the last two are near-misses
        anchor = int(pick.take(alone & goods & (day <= day.max() - 110), 1, rule)[0])
        if g <= groups:
            later = (day > day[anchor]) & (day <= day[anchor] + SPLIT_SPAN_DAYS)
        else:  # just outside the 90-day window
            later = (day >= day[anchor] + 91) & (day <= day[anchor] + 100)
        size = 2 + g % 2 if g < groups else 2
        others = pick.take(later & goods, size - 1, rule)
        rows = np.concatenate([[anchor], others])
        _as_pair(df, rows, anchor)
        if g < groups:
            # Each under the near-limit band, together over the limit.
            amounts = np.round(rng.uniform(10.5e6, 18.9e6, size), -4)
            labels += _keys(rule, "contracts", df, rows)
        else:
            # Two contracts totalling exactly the limit; two over it but 91+ days apart.
            amounts = np.array([8e6, 12e6]) if g == groups else np.array([15e6, 15e6])
        _set(df, rows, "amount", amounts)

    rule = "CONTRACT-VENDOR-CONCENTRATION"
    groups = grow(BASE_COUNTS[rule], scale)
    all_vendors = vendors["vendor_id"].to_numpy()
    for g in range(groups + 1):  # the last is a near-miss with one contract fewer than needed
        size = CONCENTRATION if g < groups else CONCENTRATION - 2
        dept = df["department"].iloc[int(pick.take(goods, 1, rule)[0])]
        in_dept = (df["department"] == dept).to_numpy()
        rows = pick.take(in_dept & goods, size, rule)
        # A vendor the department never contracted with in the background.
        new = np.setdiff1d(all_vendors, df.loc[in_dept, "vendor_id"].to_numpy())
        _set(df, rows, "vendor_id", new[rng.integers(0, len(new))])
        _set(df, rows, "method", "수의")
        _set(df, rows, "sole_source_ground", GROUND_SMALL)
        # Small contracts: together under the limit, so they are no split.
        _set(df, rows, "amount", np.round(rng.uniform(1.5e6, 3.2e6, size), -4))
        if g < groups:
            labels += _keys(rule, "contracts", df, rows)

    rule = "CONTRACT-SOLE-SOURCE-NO-GROUND"
    rows = pick.take(goods & alone, grow(BASE_COUNTS[rule], scale), rule)
    _set(df, rows, "method", "수의")
    _set(df, rows, "sole_source_ground", None)
    _set(df, rows, "amount", np.round(rng.uniform(21e6, 48e6, len(rows)), -4))
    labels += _keys(rule, "contracts", df, rows)
    near = pick.take(goods & alone, 2, "near-miss")
    _set(df, near, "method", "수의")
    # Over the limit with the enterprise ground; under the limit with no ground recorded.
    _set(df, near, "sole_source_ground", [GROUND_ENTERPRISE, None])
    _set(df, near, "amount", [35_000_000.0, 15_000_000.0])
    return labels


def plant_payments(
    rng: np.random.Generator,
    df: pd.DataFrame,
    scale: float,
    pick: Picker,
    contracts: pd.DataFrame,
    vendors: pd.DataFrame,
    employees: pd.DataFrame,
) -> list[Label]:
    """Duplicates, wrong accounts, employees' accounts, payment before inspection, payment
    right after an account change (edits ``vendors`` too); near-misses for each."""
    labels: list[Label] = []
    paid = df["paid_on"].to_numpy().astype("datetime64[D]")
    on_contract = df["contract_id"].notna().to_numpy()
    every = np.ones(len(df), dtype=bool)
    touched: set[str] = set()  # vendors whose payments carry a planted scenario

    rule = "PAY-DUPLICATE"
    for g in range(grow(BASE_COUNTS[rule], scale) + 2):  # the last two are near-misses
        a = int(pick.take(on_contract & (paid <= paid.max() - 40), 1, rule)[0])
        later = (paid > paid[a]) & (paid <= paid[a] + 30)
        b = int(pick.take(later, 1, rule)[0])
        copy = ["department", "official_id", "approver_id", "vendor_id", "contract_id"]
        copy += ["payee_name", "payee_account", "amount", "invoice_no", "purpose"]
        for col in copy:
            _set(df, [b], col, df[col].iloc[a])
        if g >= grow(BASE_COUNTS[rule], scale):
            # A monthly fee: same vendor and amount, another invoice.
            _set(df, [b], "invoice_no", df["invoice_no"].iloc[a] + "-2")
        else:
            labels += _keys(rule, "payments", df, [a, b])
        touched.add(str(df["vendor_id"].iloc[a]))

    rule = "PAY-BEFORE-INSPECTION"
    inspected = contracts.set_index("contract_id")["inspection_date"]
    insp = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[D]")
    insp[on_contract] = inspected.loc[df.loc[on_contract, "contract_id"]].to_numpy()
    has = ~np.isnat(insp) & (insp >= np.datetime64("2025-02-01"))
    rows = pick.take(has, grow(BASE_COUNTS[rule], scale), rule)
    early = days.roll_backward(insp[rows] - rng.integers(3, 15, len(rows)).astype("m8[D]"))
    _set(df, rows, "paid_on", days.to_timestamps(early).to_numpy())
    _set(df, rows, "purpose", _purpose(df, rows, "준공금 지급"))
    labels += _keys(rule, "payments", df, rows)
    near = pick.take(has, 2, "near-miss")  # paid on the day of inspection; an advance before it
    _set(df, near, "paid_on", days.to_timestamps(insp[near] - np.array([0, 5])).to_numpy())
    _set(
        df,
        near,
        "purpose",
        [_purpose(df, near[:1], "준공금 지급")[0]] + [_purpose(df, near[1:], "선금 지급")[0]],
    )
    touched.update(df["vendor_id"].iloc[np.concatenate([rows, near])].astype(str))

    vendor = df["vendor_id"].notna().to_numpy()
    rule = "PAY-ACCOUNT-MISMATCH"
    rows = pick.take(vendor, grow(BASE_COUNTS[rule], scale), rule)
    fresh = [f"940-{int(n):04d}-{int(m):06d}" for n, m in rng.integers(0, 10_000, (len(rows), 2))]
    _set(df, rows, "payee_account", fresh)
    labels += _keys(rule, "payments", df, rows)
    touched.update(df["vendor_id"].iloc[rows].astype(str))

    rule = "PAY-TO-EMPLOYEE"
    rows = pick.take(vendor, grow(BASE_COUNTS[rule], scale), rule)
    staff = employees.iloc[rng.integers(0, len(employees), len(rows))]
    _set(df, rows, "payee_account", staff["account_no"].to_numpy())
    # An employee's account is not the vendor's registered one either.
    labels += _keys(rule, "payments", df, rows) + _keys(
        "PAY-ACCOUNT-MISMATCH", "payments", df, rows
    )
    touched.update(df["vendor_id"].iloc[rows].astype(str))
    near = pick.take(every, 2, "near-miss")  # travel expenses refunded to an official
    staff = employees.iloc[rng.integers(0, len(employees), 2)]
    for col, value in (
        ("vendor_id", None),
        ("contract_id", None),
        ("invoice_no", None),
        ("payee_name", staff["name"].to_numpy()),
        ("payee_account", staff["account_no"].to_numpy()),
        ("purpose", "관외출장 여비 지급"),
    ):
        _set(df, near, col, value)

    labels += _plant_account_change(rng, df, scale, pick, vendors, touched)
    return labels


def _purpose(df: pd.DataFrame, rows: np.ndarray, kind: str) -> list[str]:
    """The payment's purpose with its kind (대금, 선금...) replaced by ``kind``."""
    text = df["purpose"].iloc[rows].str.rsplit(" ", n=2).str[0]
    return [f"{t} {kind}" for t in text]


def _plant_account_change(
    rng: np.random.Generator,
    df: pd.DataFrame,
    scale: float,
    pick: Picker,
    vendors: pd.DataFrame,
    touched: set[str],
) -> list[Label]:
    """Vendors whose account changes in 2025, a payment within seven days (every payment in
    those days is labelled); near-miss: the first payment eight days after the change."""
    rule = "PAY-AFTER-ACCOUNT-CHANGE"
    labels: list[Label] = []
    paid = df["paid_on"].to_numpy().astype("datetime64[D]")
    vid = df["vendor_id"].fillna("").to_numpy()
    order = np.lexsort((paid, vid))
    prev = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[D]")
    same = np.zeros(len(df), dtype=bool)
    same[1:] = vid[order][1:] == vid[order][:-1]
    prev_sorted = np.concatenate([[np.datetime64("NaT")], paid[order][:-1]]).astype("M8[D]")
    prev[order] = np.where(same, prev_sorted, np.datetime64("NaT"))
    free = (vid != "") & ~df["vendor_id"].isin(sorted(touched)).to_numpy()
    # Room before the payment: the vendor's previous payment is more than eight days earlier.
    room = free & (np.isnat(prev) | (paid - prev > np.timedelta64(8, "D")))
    room &= paid >= np.datetime64("2025-01-15")
    k = grow(BASE_COUNTS[rule], scale)
    chosen: list[int] = []
    seen: set[str] = set()
    for row in pick.rng.permutation(np.flatnonzero(room & ~pick.used)):
        if vid[row] not in seen:
            seen.add(str(vid[row]))
            chosen.append(int(row))
        if len(chosen) == k + 2:
            break
    if len(chosen) < k + 2:
        raise ValueError(f"demo too small to plant {k} x {rule}")
    rows = np.array(chosen)
    pick.used[rows] = True
    lag = np.concatenate([rng.integers(0, 8, k), [8, 8]])  # the last two are near-misses
    changed = paid[rows] - lag.astype("m8[D]")
    index = vendors.set_index("vendor_id").index
    for row, day in zip(rows, changed, strict=True):
        v = vid[row]
        account = f"356-{int(rng.integers(1000, 10000))}-{int(rng.integers(1000, 10000))}-01"
        at = index.get_loc(v)
        vendors.loc[vendors.index[at], "account_no"] = account
        vendors.loc[vendors.index[at], "account_changed_on"] = pd.Timestamp(day)
        vendors.loc[vendors.index[at], "updated_at"] = pd.Timestamp(day) + pd.Timedelta(hours=10)
        after = (vid == v) & (paid >= day)
        df.loc[after, "payee_account"] = account
        if day + np.timedelta64(8, "D") > paid[row]:
            within = after & (paid <= day + np.timedelta64(7, "D"))
            labels += _keys(rule, "payments", df, np.flatnonzero(within))
    return labels
