"""Planting the personnel scenarios: overtime over the monthly cap, pay to retired officials,
and bulk pay transfers larger than their pay lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo.anomalies import Label, Picker
from naebu.demo.payroll import pay_day

#: Personnel tables grow only with the organisation: these counts stay (retired pay: one line
#: per official who retired, four in each local government).
BASE_COUNTS: dict[str, int] = {
    "ATT-OVERTIME-MONTHLY-CAP": 3,  # employee-months; every overtime day in them is labelled
    "PAYROLL-RETIRED": 4,  # one line per retired official (the demo city has four)
    "PAYROLL-TRANSFER-EXCESS": 3,
}
MONTHLY_CAP = 57.0


def plant_overtime_cap(rng: np.random.Generator, df: pd.DataFrame, pick: Picker) -> list[Label]:
    """Officials claiming 4 hours on 15 ordinary days of a month (60 h, over 57 h); near-miss:
    a month of exactly 57 hours. Months holding a planted or near-miss record are skipped."""
    rule = "ATT-OVERTIME-MONTHLY-CAP"
    # One integer per employee-month (string keys are slow on 72,000 rows).
    emp_code, _ = pd.factorize(df["employee_id"])
    month = df["work_date"].to_numpy().astype("datetime64[M]").astype("int64")
    group = emp_code.astype("int64") * 10_000 + month
    ordinary = (df["leave_type"].isna() & df["trip_type"].isna()).to_numpy()
    off_claims = (~ordinary) & (df["overtime_hours"] > 0).to_numpy()
    stats = pd.DataFrame({"g": group, "ord": ordinary, "bad": pick.used | off_claims})
    per = stats.groupby("g").agg(ord=("ord", "sum"), bad=("bad", "any"))
    eligible = per.index[(per["ord"] >= 16) & ~per["bad"]].to_numpy()
    # One month per official, so an official's months never mix.
    shuffled = rng.permutation(eligible)
    first = ~pd.Series(shuffled // 10_000).duplicated().to_numpy()
    chosen = shuffled[first][: BASE_COUNTS[rule] + 1]
    labels: list[Label] = []
    for i, g in enumerate(chosen):
        rows = np.flatnonzero((group == g) & ordinary)
        hours = np.zeros(len(rows))
        if i < BASE_COUNTS[rule]:
            hours[:15] = 4.0
            hours[15:] = df["overtime_hours"].to_numpy()[rows[15:]]
        else:
            hours[:15] = [4.0] * 14 + [1.0]  # exactly the cap
        df.loc[df.index[rows], "overtime_hours"] = hours
        pick.used[group == g] = True
        if i < BASE_COUNTS[rule]:
            claimed = (group == g) & (df["overtime_hours"] > 0).to_numpy()
            labels += [(rule, "attendance", str(k)) for k in df.loc[claimed, "record_id"]]
    return labels


def plant_retired_pay(
    lines: pd.DataFrame, employees: pd.DataFrame
) -> tuple[pd.DataFrame, list[Label]]:
    """One more month of pay for every retired official, in that month's transfer."""
    rule = "PAYROLL-RETIRED"
    retired = employees[employees["retired_on"].notna()]
    extra = []
    for employee_id, retired_on in zip(retired["employee_id"], retired["retired_on"], strict=True):
        month = (pd.Timestamp(retired_on).to_period("M") + 1).to_timestamp()
        if month.year != 2025:
            continue
        last = lines[lines["employee_id"] == employee_id].iloc[-1]
        same_month = lines[
            (lines["pay_month"] == month) & (lines["department"] == last["department"])
        ]
        paid = pay_day(np.array([month.to_datetime64()], dtype="datetime64[M]"))[0]
        extra.append(
            last.to_dict()
            | {
                "transfer_id": same_month["transfer_id"].iloc[0],
                "pay_month": month,
                "paid_on": pd.Timestamp(paid),
                "updated_at": pd.Timestamp(paid) + pd.Timedelta(hours=11),
            }
        )
    n = len(lines)
    added = pd.DataFrame(extra)
    added["pay_line_id"] = [f"PL2025-{n + 1 + i:06d}" for i in range(len(added))]
    out = pd.concat([lines, added], ignore_index=True)
    return out, [(rule, "payroll", k) for k in added["pay_line_id"]]


def plant_transfer_excess(rng: np.random.Generator, transfers: pd.DataFrame) -> list[Label]:
    """Bulk transfers sending more than their pay lines: an extra payee in the bank file."""
    rule = "PAYROLL-TRANSFER-EXCESS"
    rows = np.sort(rng.choice(len(transfers), size=BASE_COUNTS[rule], replace=False))
    extra = np.round(rng.uniform(2.8e6, 4.5e6, len(rows)), -1)
    transfers.loc[transfers.index[rows], "total_amount"] = (
        transfers["total_amount"].to_numpy()[rows] + extra
    )
    transfers.loc[transfers.index[rows], "line_count"] = (
        transfers["line_count"].to_numpy()[rows] + 1
    )
    return [(rule, "payroll_transfers", str(k)) for k in transfers["transfer_id"].iloc[rows]]
