"""Planting the permit, non-tax revenue, subsidy and account scenarios beyond the late-permit
and reduction-without-code ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days
from naebu.demo.anomalies import Label, Picker, grow
from naebu.demo.frames import column_of
from naebu.demo.permits import CODE_FINE, CODE_RELIEF, CODES_USE
from naebu.demo.volumes import DemoSizeError

BASE_COUNTS: dict[str, int] = {
    "PERMIT-OPEN-OVERDUE": 4,
    "LEVY-MISSING-FOR-PERMIT": 4,
    "LEVY-REDUCTION-REPEATED": 1,  # official-months of five or more reductions
    "SUBSIDY-DUPLICATE": 3,  # pairs
    "ACCOUNT-DORMANT": 3,
}
CHARGED = ("도로점용허가", "공원점용허가", "행정재산 사용허가")
LEVY_DAYS = 30
REPEATED = 6
#: LEVY-REDUCTION-REPEATED fires at this many reductions by one official in one month.
REPEATED_AT = 5


def _set(df: pd.DataFrame, rows: np.ndarray | list[int], column: str, values: object) -> None:
    df.loc[df.index[rows], column] = values  # type: ignore[call-overload]


def _keys(rule: str, dataset: str, key: str, df: pd.DataFrame, rows: object) -> list[Label]:
    return [(rule, dataset, str(k)) for k in df[key].iloc[rows]]  # type: ignore[call-overload]


def plant_open_permits(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: Picker
) -> list[Label]:
    """Applications left undecided long past their statutory deadline."""
    rule = "PERMIT-OPEN-OVERDUE"
    ok = df["decided_on"].notna().to_numpy() & (df["received_on"] <= "2025-10-31").to_numpy()
    rows = pick.take(ok, grow(BASE_COUNTS[rule], scale), rule)
    _set(df, rows, "decided_on", pd.NaT)
    _set(df, rows, "status", "처리중")
    received = df["received_on"].to_numpy().astype("datetime64[D]")[rows]
    _set(df, rows, "updated_at", days.stamps(rng, received, lag_days=3).to_numpy())
    return _keys(rule, "permits", "permit_id", df, rows)


def plant_missing_levies(
    rng: np.random.Generator,
    levies: pd.DataFrame,
    permits: pd.DataFrame,
    scale: float,
    pick: Picker,
) -> tuple[pd.DataFrame, list[Label]]:
    """Occupancy permits granted with no fee levied (the levy dropped) or levied too late (more
    than 30 days after the decision); near-miss: levied on exactly the 30th day."""
    rule = "LEVY-MISSING-FOR-PERMIT"
    decided = permits.set_index("permit_id")["decided_on"]
    fee = levies["permit_id"].notna().to_numpy()
    when = np.full(len(levies), np.datetime64("NaT"), dtype="datetime64[D]")
    when[fee] = decided.loc[levies.loc[fee, "permit_id"]].to_numpy()
    room = fee & (when <= np.datetime64("2025-10-31"))
    k = grow(BASE_COUNTS[rule], scale)
    rows = pick.take(room, k, rule)
    late = rows[::2]
    gone = rows[1::2]
    moved = days.roll_forward(when[late] + rng.integers(31, 45, len(late)).astype("m8[D]"))
    _set(levies, late, "levied_on", days.to_timestamps(moved).to_numpy())
    _set(levies, late, "due_date", days.to_timestamps(moved + 30).to_numpy())
    exact = when + np.timedelta64(LEVY_DAYS, "D")
    near = pick.take(room & days.is_business_day(exact), 2, "near-miss")
    _set(levies, near, "levied_on", days.to_timestamps(exact[near]).to_numpy())
    _set(levies, near, "due_date", days.to_timestamps(exact[near] + 30).to_numpy())
    ids = set(levies["permit_id"].iloc[rows])
    labels = [(rule, "permits", str(p)) for p in sorted(ids)]
    keep = np.ones(len(levies), dtype=bool)
    keep[gone] = False
    pick.used = pick.used[keep]
    return levies[keep].reset_index(drop=True), labels


def _months(df: pd.DataFrame) -> np.ndarray:
    """Each levy's month as ``YYYY-MM`` text."""
    day = df["levied_on"].to_numpy().astype("datetime64[M]")
    return np.datetime_as_string(day, unit="M").astype(object)


def plant_repeated_reductions(
    rng: np.random.Generator, df: pd.DataFrame, scale: float, pick: Picker, city_staff: pd.DataFrame
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """One official granting discretionary reductions (with codes) on six levies of a month;
    near-misses: four, and six fines reduced for voluntary payment (statutory, not counted).

    Returns the planted and near-miss (official, month) pairs; :func:`repeated_labels` labels
    every reduction of a planted pair once all levies are final.
    """
    # Departments, months and officials as integer codes: one pass per group stays cheap.
    month_text = _months(df)
    month, months = pd.factorize(month_text, sort=True)
    dept, depts = pd.factorize(df["department"].to_numpy(), sort=True)
    staff_ids = city_staff["employee_id"].to_numpy()
    staff_dept = city_staff["department"].to_numpy()
    who = pd.Index(staff_ids).get_indexer(df["official_id"].to_numpy())
    cell = dept.astype(np.int64) * len(months) + month
    planted: list[tuple[str, str]] = []
    near: list[tuple[str, str]] = []
    groups = grow(BASE_COUNTS["LEVY-REDUCTION-REPEATED"], scale)
    reduced = (df["reduction_amount"] > 0).to_numpy().copy()
    fine = df["permit_id"].isna().to_numpy()
    for g in range(groups + 2):
        statutory = g == groups + 1  # the fines officer's voluntary-payment reductions
        size = REPEATED - 2 if g == groups else REPEATED_AT if statutory else REPEATED
        room = ~pick.used & ~reduced
        if statutory:
            room &= fine
        counts = np.bincount(cell[room], minlength=len(depts) * len(months))
        # A month with room to spare if there is one (a small demo of many departments may
        # only have months with just enough).
        cells = np.flatnonzero(counts >= size + 2)
        if len(cells) == 0:
            cells = np.flatnonzero(counts >= size)
        if len(cells) == 0 and statutory:
            break  # a near-miss only: a small demo may have no month with enough fines
        if len(cells) == 0:
            raise DemoSizeError(
                f"demo too small to plant LEVY-REDUCTION-REPEATED: no department has {size} "
                "levies left in one month (more fines, or fewer local governments)"
            )
        c = int(cells[rng.integers(0, len(cells))])
        d, m = c // len(months), c % len(months)
        staff = np.flatnonzero(staff_dept == depts[d])
        # An official with no planted reduction that month; their background ones are undone,
        # so the month holds exactly the planted reductions.
        planted_by = set(who[reduced & pick.used & (month == m)].tolist())
        official = next(int(s) for s in rng.permutation(staff) if s not in planted_by)
        own = np.flatnonzero(reduced & (month == m) & (who == official))
        _set(df, own, "reduction_amount", 0.0)
        _set(df, own, "reduction_code", None)
        reduced[own] = False
        rows = pick.take(room & (cell == c), size, "LEVY-REDUCTION-REPEATED")
        codes = np.where(df["permit_id"].iloc[rows].isna(), CODE_RELIEF, CODES_USE[0])
        rate = 0.2 if statutory else 0.5
        _set(df, rows, "official_id", staff_ids[official])
        who[rows] = official
        _set(df, rows, "reduction_amount", np.round(df["amount"].to_numpy()[rows] * rate, -1))
        _set(df, rows, "reduction_code", CODE_FINE if statutory else codes)
        reduced[rows] = True
        (planted if g < groups else near).append((str(staff_ids[official]), str(months[m])))
    return planted, near


def cap_reductions(df: pd.DataFrame, planted: list[tuple[str, str]], pick: Picker) -> None:
    """Undo ordinary reductions in any (official, month) other than the planted ones that
    planting pushed to :data:`REPEATED_AT` (at large scales the reductions planted without a
    code, and levies moved to a later month, land on busy months); planted ones stay."""
    month = _months(df)
    official = df["official_id"].to_numpy()
    cell = pd.factorize(pd.Series(official, dtype=object) + "|" + pd.Series(month))[0]
    reduced = (df["reduction_amount"] > 0).to_numpy()
    counts = np.bincount(cell[reduced], minlength=int(cell.max()) + 1)
    mine = {f"{o}|{m}" for o, m in planted}
    key = pd.Series(official, dtype=object) + "|" + pd.Series(month)
    over = (counts[cell] >= REPEATED_AT) & ~key.isin(mine).to_numpy()
    undo = np.flatnonzero(over & reduced & ~pick.used)
    if len(undo) == 0:
        return
    # Within each cell, undo just enough of its ordinary reductions to fall under the threshold.
    nth = pd.Series(cell[undo]).groupby(cell[undo]).cumcount().to_numpy()
    undo = undo[nth < counts[cell[undo]] - (REPEATED_AT - 1)]
    _set(df, undo, "reduction_amount", 0.0)
    _set(df, undo, "reduction_code", None)


def repeated_labels(df: pd.DataFrame, planted: list[tuple[str, str]]) -> list[Label]:
    """Every reduction of each planted (official, month)."""
    pairs = set(planted)
    month = _months(df)
    official = df["official_id"].to_numpy()
    reduced = (df["reduction_amount"] > 0).to_numpy()
    hit = (
        np.array([(o, m) in pairs for o, m in zip(official, month, strict=True)], dtype=bool)
        & reduced
    )
    return [("LEVY-REDUCTION-REPEATED", "levies", str(k)) for k in df["levy_id"].to_numpy()[hit]]


def plant_subsidies(rng: np.random.Generator, df: pd.DataFrame, scale: float) -> list[Label]:
    """The same recipient granted twice by one programme; near-misses: the same recipient in
    another programme, and a namesake (same name, another number) in the same programme."""
    rule = "SUBSIDY-DUPLICATE"
    pick = Picker(rng, len(df))
    program = pd.factorize(df["program"].to_numpy())[0]
    number = df["recipient_id"].to_numpy(dtype=object, copy=True)
    name = df["recipient_name"].to_numpy(dtype=object, copy=True)
    every = np.ones(len(df), dtype=bool)
    rows: list[int] = []
    k = grow(BASE_COUNTS[rule], scale)
    for g in range(k + 2):
        a = int(pick.take(every, 1, rule)[0])
        same = program == program[a]
        b = int(pick.take(same if g != k else ~same, 1, rule)[0])
        if g <= k:  # the namesake keeps its own number
            number[b] = number[a]
        name[b] = name[a]
        if g < k:
            rows += [a, b]
    df["recipient_id"] = column_of(number, object, df.index)
    df["recipient_name"] = column_of(name, object, df.index)
    return _keys(rule, "subsidies", "grant_id", df, rows)


def plant_dormant_accounts(rng: np.random.Generator, df: pd.DataFrame) -> list[Label]:
    """Accounts in use with no activity for over a year; near-miss: 364 days."""
    rule = "ACCOUNT-DORMANT"
    spare = np.flatnonzero(
        (df["status"] == "사용").to_numpy() & (df["purpose"] != "세입").to_numpy()
    )
    rows = rng.choice(spare, size=BASE_COUNTS[rule] + 1, replace=False)
    as_of = df["as_of"].to_numpy().astype("datetime64[D]")[rows]
    idle = np.concatenate([rng.integers(366, 900, BASE_COUNTS[rule]), [364]])
    _set(df, rows, "last_activity_on", days.to_timestamps(as_of - idle.astype("m8[D]")).to_numpy())
    return _keys(rule, "accounts", "account_no", df, rows[:-1])


def plant_receipt_accounts(
    rng: np.random.Generator, receipts: pd.DataFrame, accounts: pd.DataFrame
) -> list[Label]:
    """Labels the receipts marked ``_planted`` (proceeds paid into an official's account, see
    :func:`naebu.demo.plant_property.plant_proceeds`) and drops the mark; near-miss: levies
    received into another account on the city's list (a deposit account)."""
    planted = receipts.pop("_planted").fillna(False).astype(bool).to_numpy()
    labels = _keys("REV-RECEIPT-OTHER-ACCOUNT", "receipts", "receipt_id", receipts, planted)
    other = accounts.loc[accounts["purpose"] == "보관금", "account_no"].iloc[0]
    levy = np.flatnonzero((receipts["ref_type"] == "levy").to_numpy())
    near = rng.choice(levy, size=2, replace=False)
    _set(receipts, near, "account_no", other)
    return labels
