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
from naebu.demo.frames import column_of
from naebu.demo.volumes import DemoSizeError

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
CONTRACT_COLUMNS = ["department", "official_id", "vendor_id", "category", "method"]
CONTRACT_COLUMNS += ["sole_source_ground", "amount"]
PAYMENT_COLUMNS = ["department", "official_id", "approver_id", "vendor_id", "contract_id"]
PAYMENT_COLUMNS += ["payee_name", "payee_account", "amount", "invoice_no", "purpose", "paid_on"]


class _Columns(dict[str, np.ndarray]):
    """The columns a planter edits, as numpy arrays written back once (``flush``): a pandas
    assignment per planted record is far too slow when scale 100 plants thousands."""

    def __init__(self, df: pd.DataFrame, names: list[str]) -> None:
        super().__init__({c: df[c].to_numpy(copy=True) for c in names})
        self.df = df

    def flush(self) -> None:
        """Write the edited columns back into the frame."""
        for name, values in self.items():
            self.df[name] = column_of(values, self.df[name].dtype, self.df.index)


def _set(cols: _Columns, rows: np.ndarray | list[int], column: str, values: object) -> None:
    cols[column][rows] = values


def _keys(rule: str, dataset: str, df: pd.DataFrame, rows: np.ndarray | list[int]) -> list[Label]:
    key = "contract_id" if dataset == "contracts" else "payment_id"
    return [(rule, dataset, str(k)) for k in df[key].iloc[rows]]


class _Pairs:
    """Department-vendor pair codes of the contracts, kept up to date as planting moves them.

    A planted group must be alone in its pair: at large scales every pair recurs, so the
    pair's other contracts are made competitive (``clear``), which no contract rule reads.
    """

    def __init__(self, df: _Columns, pick: Picker, vendors: pd.DataFrame) -> None:
        self.df, self.pick = df, pick
        self.vendors = vendors["vendor_id"].to_numpy()
        self.vcode = {v: i for i, v in enumerate(self.vendors)}
        self.depts = np.unique(df["department"].astype(str))
        self.dcode = {d: i for i, d in enumerate(self.depts)}
        self.dept = pd.Series(df["department"]).map(self.dcode).to_numpy(dtype="int64", copy=True)
        v = pd.Series(df["vendor_id"]).map(self.vcode).to_numpy(dtype="int64")
        self.code = self.dept * len(self.vendors) + v
        #: Pairs holding a record another planter chose: never a planted group's pair.
        self.dirty = set(np.unique(self.code[pick.used]).tolist())
        #: Per contract: is its pair dirty? (kept in step with ``dirty``, so no set lookups)
        self.dirty_row = np.isin(self.code, list(self.dirty))

    def move(self, rows: np.ndarray, department: str, vendor: str) -> None:
        """Give ``rows`` the pair, make the pair's other contracts competitive, mark it used."""
        code = self.dcode[department] * len(self.vendors) + self.vcode[vendor]
        _set(self.df, rows, "department", department)
        _set(self.df, rows, "vendor_id", vendor)
        self.dept[rows] = self.dcode[department]
        self.code[rows] = code
        members = self.code == code
        others = members.copy()
        others[rows] = False
        _set(self.df, others, "method", "일반경쟁")
        _set(self.df, others, "sole_source_ground", None)
        self.pick.used[others] = True
        self.dirty.add(int(code))
        self.dirty_row |= members

    def cap_sole_source(self, sole: np.ndarray, most: int) -> None:
        """Make competitive the unplanted contracts of pairs with more than ``most`` sole-source
        contracts: planting elsewhere may have tipped a busy pair (large scales) over the edge."""
        counts = pd.Series(self.code[sole]).value_counts()
        busy = counts.index[counts > most].to_numpy()
        hit = np.flatnonzero(np.isin(self.code, busy) & sole & ~self.pick.used)
        _set(self.df, hit, "method", "일반경쟁")
        _set(self.df, hit, "sole_source_ground", None)

    def clean(self) -> np.ndarray:
        """Contracts whose pair holds no planted record."""
        return ~self.dirty_row

    def clean_vendor(self, rng: np.random.Generator, department: str) -> str:
        """A vendor whose pair with ``department`` holds no planted record."""
        base = self.dcode[department] * len(self.vendors)
        ok = [v for i, v in enumerate(self.vendors) if base + i not in self.dirty]
        return str(ok[int(rng.integers(0, len(ok)))])


def plant_contracts(
    rng: np.random.Generator, frame: pd.DataFrame, scale: float, pick: Picker, vendors: pd.DataFrame
) -> list[Label]:
    """Split contracts, a vendor's concentration, sole-source without a ground; near-misses."""
    labels: list[Label] = []
    df = _Columns(frame, CONTRACT_COLUMNS)
    day = frame["contract_date"].to_numpy().astype("datetime64[D]").astype("int64")
    goods = df["category"] != "공사"
    pairs = _Pairs(df, pick, vendors)

    rule = "CONTRACT-SPLIT"
    groups = grow(BASE_COUNTS[rule], scale)
    for g in range(groups + 2):  # the last two are near-misses
        room = goods & pairs.clean() & (day <= day.max() - 110)
        anchor = int(pick.take(room, 1, rule)[0])
        if g <= groups:
            later = (day > day[anchor]) & (day <= day[anchor] + SPLIT_SPAN_DAYS)
        else:  # just outside the 90-day window
            later = (day >= day[anchor] + 91) & (day <= day[anchor] + 100)
        size = 2 + g % 2 if g < groups else 2
        others = pick.take(later & goods, size - 1, rule)
        rows = np.concatenate([[anchor], others])
        _set(df, rows, "official_id", df["official_id"][anchor])
        _set(df, rows, "method", "수의")
        _set(df, rows, "category", "물품")
        _set(df, rows, "sole_source_ground", GROUND_SMALL)
        pairs.move(rows, str(df["department"][anchor]), str(df["vendor_id"][anchor]))
        if g < groups:
            # Each under the near-limit band, together over the limit.
            amounts = np.round(rng.uniform(10.5e6, 18.9e6, size), -4)
            labels += _keys(rule, "contracts", frame, rows)
        else:
            # Two contracts totalling exactly the limit; two over it but 91+ days apart.
            amounts = np.array([8e6, 12e6]) if g == groups else np.array([15e6, 15e6])
        _set(df, rows, "amount", amounts)

    rule = "CONTRACT-VENDOR-CONCENTRATION"
    groups = grow(BASE_COUNTS[rule], scale)
    for g in range(groups + 1):  # the last is a near-miss with one contract fewer than needed
        size = CONCENTRATION if g < groups else CONCENTRATION - 2
        free = np.bincount(pairs.dept[goods & ~pick.used], minlength=len(pairs.depts))
        roomy = pairs.depts[free >= size]
        dept = str(roomy[rng.integers(0, len(roomy))])
        rows = pick.take((pairs.dept == pairs.dcode[dept]) & goods, size, rule)
        pairs.move(rows, dept, pairs.clean_vendor(rng, dept))
        _set(df, rows, "method", "수의")
        _set(df, rows, "sole_source_ground", GROUND_SMALL)
        # Small contracts: together under the limit, so they are no split.
        _set(df, rows, "amount", np.round(rng.uniform(1.5e6, 3.2e6, size), -4))
        if g < groups:
            labels += _keys(rule, "contracts", frame, rows)

    rule = "CONTRACT-SOLE-SOURCE-NO-GROUND"
    chosen = []
    for _ in range(grow(BASE_COUNTS[rule], scale) + 2):  # one pair each; the last two near
        row = pick.take(goods & pairs.clean(), 1, rule)
        pairs.move(row, str(df["department"][row[0]]), str(df["vendor_id"][row[0]]))
        chosen.append(int(row[0]))
    near, rows = np.array(chosen[-2:]), np.array(chosen[:-2])
    _set(df, rows, "method", "수의")
    _set(df, rows, "sole_source_ground", None)
    _set(df, rows, "amount", np.round(rng.uniform(21e6, 48e6, len(rows)), -4))
    labels += _keys(rule, "contracts", frame, rows)
    _set(df, near, "method", "수의")
    # Over the limit with the enterprise ground; under the limit with no ground recorded.
    _set(df, near, "sole_source_ground", [GROUND_ENTERPRISE, None])
    _set(df, near, "amount", [35_000_000.0, 15_000_000.0])
    pairs.cap_sole_source(df["method"] == "수의", CONCENTRATION - 1)
    df.flush()
    return labels


def plant_payments(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    scale: float,
    pick: Picker,
    contracts: pd.DataFrame,
    vendors: pd.DataFrame,
    employees: pd.DataFrame,
) -> list[Label]:
    """Duplicates, wrong accounts, employees' accounts, payment before inspection, payment
    right after an account change (edits ``vendors`` too); near-misses for each."""
    labels: list[Label] = []
    df = _Columns(frame, PAYMENT_COLUMNS)
    paid = df["paid_on"].astype("datetime64[D]")
    on_contract = pd.notna(df["contract_id"])
    every = np.ones(len(frame), dtype=bool)
    touched: set[str] = set()  # vendors whose payments carry a planted scenario

    rule = "PAY-DUPLICATE"
    early = on_contract & (paid <= paid.max() - 40)
    for g in range(grow(BASE_COUNTS[rule], scale) + 2):  # the last two are near-misses
        a = int(pick.take(early, 1, rule)[0])
        later = (paid > paid[a]) & (paid <= paid[a] + 30)
        b = int(pick.take(later, 1, rule)[0])
        copy = ["department", "official_id", "approver_id", "vendor_id", "contract_id"]
        copy += ["payee_name", "payee_account", "amount", "invoice_no", "purpose"]
        for col in copy:
            _set(df, [b], col, df[col][a])
        if g >= grow(BASE_COUNTS[rule], scale):
            # A monthly fee: same vendor and amount, another invoice.
            _set(df, [b], "invoice_no", df["invoice_no"][a] + "-2")
        else:
            labels += _keys(rule, "payments", frame, [a, b])
        touched.add(str(df["vendor_id"][a]))

    rule = "PAY-BEFORE-INSPECTION"
    inspected = contracts.set_index("contract_id")["inspection_date"]
    insp = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    insp[on_contract] = inspected.loc[df["contract_id"][on_contract]].to_numpy()
    has = ~np.isnat(insp) & (insp >= np.datetime64("2025-02-01"))
    rows = pick.take(has, grow(BASE_COUNTS[rule], scale), rule)
    early = days.roll_backward(insp[rows] - rng.integers(3, 15, len(rows)).astype("m8[D]"))
    _set(df, rows, "paid_on", early.astype("datetime64[ns]"))
    _set(df, rows, "purpose", _purpose(df, rows, "준공금 지급"))
    labels += _keys(rule, "payments", frame, rows)
    near = pick.take(has, 2, "near-miss")  # paid on the day of inspection; an advance before it
    _set(df, near, "paid_on", (insp[near] - np.array([0, 5])).astype("datetime64[ns]"))
    _set(
        df,
        near,
        "purpose",
        [_purpose(df, near[:1], "준공금 지급")[0]] + [_purpose(df, near[1:], "선금 지급")[0]],
    )
    touched.update(df["vendor_id"][np.concatenate([rows, near])].astype(str))

    vendor = pd.notna(df["vendor_id"])
    rule = "PAY-ACCOUNT-MISMATCH"
    rows = pick.take(vendor, grow(BASE_COUNTS[rule], scale), rule)
    fresh = [f"940-{int(n):04d}-{int(m):06d}" for n, m in rng.integers(0, 10_000, (len(rows), 2))]
    _set(df, rows, "payee_account", fresh)
    labels += _keys(rule, "payments", frame, rows)
    touched.update(df["vendor_id"][rows].astype(str))

    rule = "PAY-TO-EMPLOYEE"
    rows = pick.take(vendor, grow(BASE_COUNTS[rule], scale), rule)
    staff = employees.iloc[rng.integers(0, len(employees), len(rows))]
    _set(df, rows, "payee_account", staff["account_no"].to_numpy())
    # An employee's account is not the vendor's registered one either.
    labels += _keys(rule, "payments", frame, rows) + _keys(
        "PAY-ACCOUNT-MISMATCH", "payments", frame, rows
    )
    touched.update(df["vendor_id"][rows].astype(str))
    # Travel expenses paid to an official, registered as an individual payee (개인 채주) under
    # her own payee code, as e-호조 does: her name on the voucher, her salary account.
    near = pick.take(every, 2, "near-miss")
    staff = employees.iloc[rng.integers(0, len(employees), 2)]
    for col, value in (
        ("vendor_id", ("C-" + staff["employee_id"]).to_numpy()),
        ("contract_id", None),
        ("invoice_no", None),
        ("payee_name", staff["name"].to_numpy()),
        ("payee_account", staff["account_no"].to_numpy()),
        ("purpose", "관외출장 여비 지급"),
    ):
        _set(df, near, col, value)

    labels += _plant_account_change(rng, df, frame, scale, pick, vendors, touched)
    df.flush()
    return labels


def _one_per_vendor(
    rng: np.random.Generator, mask: np.ndarray, vid: np.ndarray, k: int, taken: set[str]
) -> list[int]:
    """Up to ``k`` rows of ``mask``, at random, no two of one vendor nor of ``taken``."""
    out: list[int] = []
    seen = set(taken)
    for row in rng.permutation(np.flatnonzero(mask)):
        if vid[row] not in seen:
            seen.add(str(vid[row]))
            out.append(int(row))
            if len(out) == k:
                break
    return out


def _purpose(df: _Columns, rows: np.ndarray, kind: str) -> list[str]:
    """The payment's purpose with its kind (대금, 선금...) replaced by ``kind``."""
    text = pd.Series(df["purpose"][rows]).str.rsplit(" ", n=2).str[0]
    return [f"{t} {kind}" for t in text]


def _plant_account_change(
    rng: np.random.Generator,
    df: _Columns,
    frame: pd.DataFrame,
    scale: float,
    pick: Picker,
    vendors: pd.DataFrame,
    touched: set[str],
) -> list[Label]:
    """Vendors whose account changes in 2025, a payment within seven days (every payment in
    those days is labelled); near-miss: the first payment eight days after the change."""
    rule = "PAY-AFTER-ACCOUNT-CHANGE"
    labels: list[Label] = []
    paid = df["paid_on"].astype("datetime64[D]")
    vid = pd.Series(df["vendor_id"]).fillna("").to_numpy()
    # Vendors as integer codes: sorting and matching a million strings is slow.
    code, uniques = pd.factorize(vid)
    order = np.lexsort((paid, code))
    prev = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    same = np.zeros(len(frame), dtype=bool)
    same[1:] = code[order][1:] == code[order][:-1]
    prev_sorted = np.concatenate([[np.datetime64("NaT")], paid[order][:-1]]).astype("M8[D]")
    prev[order] = np.where(same, prev_sorted, np.datetime64("NaT"))
    spoken = np.zeros(len(uniques), dtype=bool)
    spoken[pd.Index(uniques).get_indexer(sorted(touched))] = True
    free = (vid != "") & ~spoken[code]
    free &= (paid >= np.datetime64("2025-01-15")) & ~pick.used
    # Near-misses need room before the payment: the vendor's previous one 9+ days earlier.
    room = free & (np.isnat(prev) | (paid - prev > np.timedelta64(8, "D")))
    near = _one_per_vendor(pick.rng, room, vid, 2, set())
    # The planted: one payment per vendor; at large scales, as many as untouched vendors allow.
    want = grow(BASE_COUNTS[rule], scale)
    planted = _one_per_vendor(pick.rng, free, vid, want, {str(vid[r]) for r in near})
    if len(planted) < min(want, BASE_COUNTS[rule]):
        raise DemoSizeError(f"demo too small to plant {want} x {rule}")
    rows = np.array(planted + near)
    pick.used[rows] = True
    # Planted: changed 0-7 days before the payment; near-misses: 8 days before.
    lag = np.concatenate([rng.integers(0, 8, len(planted)), np.full(len(near), 8)])
    changed = paid[rows] - lag.astype("m8[D]")
    digits = rng.integers(1000, 10000, (len(rows), 2))
    accounts = np.array([f"356-{a}-{b}-01" for a, b in digits], dtype=object)
    at = vendors.set_index("vendor_id").index.get_indexer(vid[rows])
    vendors.loc[vendors.index[at], "account_no"] = accounts
    vendors.loc[vendors.index[at], "account_changed_on"] = changed.astype("datetime64[ns]")
    stamp = changed.astype("datetime64[s]") + np.timedelta64(10 * 3600, "s")
    vendors.loc[vendors.index[at], "updated_at"] = stamp.astype("datetime64[ns]")
    # Per payment: its vendor's change day (NaT for the other vendors), by vendor code.
    slot = pd.Index(uniques).get_indexer(vid[rows])
    day_of = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[D]")
    day_of[slot] = changed
    account_of = np.full(len(uniques), None, dtype=object)
    account_of[slot] = accounts
    is_planted = np.zeros(len(uniques), dtype=bool)
    is_planted[slot[: len(planted)]] = True
    when = day_of[code]
    after = ~np.isnat(when) & (paid >= when)
    df["payee_account"][after] = account_of[code[after]]
    within = after & is_planted[code] & (paid <= when + np.timedelta64(7, "D"))
    labels += _keys(rule, "payments", frame, np.flatnonzero(within))
    return labels
