"""Monthly pay (급여): one pay line per official per month, paid in bulk transfer files.

Every official in service in a month is paid on the 20th (or the business day before) for that
month, into their registered salary account; an official who retires is paid for the month of
retirement and never after. Each local government's 총무과 sends the lines of a month to the
bank in ``TRANSFERS_PER_MONTH`` files whose totals are exactly the sums of their lines. Like
attendance, payroll grows with the organisation (about 3,600 lines a year per local
government), not with the transaction volumes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days, names
from naebu.demo.frames import table
from naebu.demo.people import City

PAYROLL_DEPARTMENT = "총무과"
TRANSFERS_PER_MONTH = 3
#: Monthly net pay by position, KRW (a rough 2025 scale; the demo needs plausible, not exact).
NET_PAY = {"국장": 6_400_000, "과장": 5_600_000, "팀장": 4_700_000, "주무관": 3_300_000}
MONTHS = np.arange(np.datetime64("2025-01"), np.datetime64("2026-01"), dtype="datetime64[M]")


def pay_day(month: np.ndarray) -> np.ndarray:
    """The 20th of each month, or the business day before it."""
    return days.roll_backward(month.astype("datetime64[D]") + np.timedelta64(19, "D"))


def build_payroll(rng: np.random.Generator, city: City) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pay lines of the year and the bulk transfers that paid them."""
    e = city.employees
    # Officials on long leave (inactive, not retired) draw no pay in the demo.
    e = e[e["active"].astype(bool) | e["retired_on"].notna()].reset_index(drop=True)
    ei = np.repeat(np.arange(len(e)), len(MONTHS))
    mi = np.tile(np.arange(len(MONTHS)), len(e))
    month = MONTHS[mi].astype("datetime64[D]")
    retired = e["retired_on"].to_numpy().astype("datetime64[D]")[ei]
    keep = np.isnat(retired) | (month <= retired)
    ei, mi, month = ei[keep], mi[keep], month[keep]
    n = len(ei)
    base = e["position"].map(NET_PAY).to_numpy(dtype=float)[ei]
    amount = np.round(base * rng.uniform(0.93, 1.07, n), -1)
    # Each local government pays its own officials, from its own 총무과.
    town = city.cities_of(e["department"].to_numpy())[ei]
    batch = town * TRANSFERS_PER_MONTH + ei % TRANSFERS_PER_MONTH
    transfer = (
        "PT2025"
        + pd.Series(mi + 1).astype(str).str.zfill(2).to_numpy()
        + "-"
        + (batch + 1).astype(str).astype(object)
    )
    payroll = np.array(city.units(PAYROLL_DEPARTMENT), dtype=object)
    clerks = np.array([city.staff(d)["employee_id"].to_numpy()[0] for d in payroll], dtype=object)
    paid = pay_day(MONTHS[mi])
    order = np.lexsort((ei, batch, mi))
    lines = table(
        {
            "transfer_id": transfer[order],
            "department": payroll[town[order]],
            "official_id": clerks[town[order]],
            "employee_id": e["employee_id"].to_numpy()[ei][order],
            "pay_month": days.to_timestamps(month[order]).to_numpy(),
            "paid_on": days.to_timestamps(paid[order]).to_numpy(),
            "amount": amount[order],
            "account_no": e["account_no"].to_numpy()[ei][order],
            "updated_at": days.stamps(rng, paid[order]).to_numpy(),
        }
    )
    lines.insert(0, "pay_line_id", names.serial("PL2025-", n, 6))
    return lines, transfers_of(lines)


def transfers_of(lines: pd.DataFrame) -> pd.DataFrame:
    """One bulk transfer per ``transfer_id``: its total and count are those of its lines."""
    g = lines.groupby("transfer_id", sort=True)
    out = g.agg(
        department=("department", "first"),
        official_id=("official_id", "first"),
        pay_month=("pay_month", "first"),
        paid_on=("paid_on", "first"),
        total_amount=("amount", "sum"),
        line_count=("amount", "size"),
        updated_at=("updated_at", "max"),
    ).reset_index()
    out["line_count"] = out["line_count"].astype("Int64")
    return out
