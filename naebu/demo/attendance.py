"""Daily attendance: one record per employee per business day in service.

Leave (연가, 병가, 공가, 특별휴가) and trips (관내출장, 관외출장) never carry overtime in the
background. Leave is mostly a whole day (8 hours; one 연가 in six is a half day, 4 hours); a
관내출장 takes 1-4 hours, a 관외출장 the day. Attendance does not grow with ``scale``: the city keeps its ~300 officials, so the
table stays at about 74,000 rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days
from naebu.demo.frames import table
from naebu.demo.people import City

LEAVES = (("연가", 0.045), ("병가", 0.007), ("공가", 0.004), ("특별휴가", 0.003))
TRIPS = (("관내출장", 0.05), ("관외출장", 0.015))


def build_attendance(rng: np.random.Generator, city: City) -> pd.DataFrame:
    """The attendance table of the year for every official in service."""
    e = city.employees
    # Officials on long leave (inactive, not retired) have no daily records.
    e = e[e["active"].astype(bool) | e["retired_on"].notna()]
    bd = days.BUSINESS_DAYS
    ei = np.repeat(np.arange(len(e)), len(bd))
    di = np.tile(np.arange(len(bd)), len(e))
    day = bd[di]
    hired = e["hired_on"].to_numpy().astype("datetime64[D]")[ei]
    retired = e["retired_on"].to_numpy().astype("datetime64[D]")[ei]
    keep = (day >= hired) & (np.isnat(retired) | (day <= retired))
    ei, day = ei[keep], day[keep]
    n = len(ei)

    r = rng.random(n)
    leave = np.full(n, None, dtype=object)
    trip = np.full(n, None, dtype=object)
    edge = 0.0
    for name, p in LEAVES:
        leave[(r >= edge) & (r < edge + p)] = name
        edge += p
    for name, p in TRIPS:
        trip[(r >= edge) & (r < edge + p)] = name
        edge += p
    ordinary = r >= edge
    hours = rng.choice(np.array([1.0, 2.0, 3.0, 4.0]), n, p=[0.35, 0.3, 0.2, 0.15])
    overtime = np.where(ordinary & (rng.random(n) < 0.3), hours, 0.0)
    # Drawn after the rest, so the leave, trips and overtime of a seed stay as they were.
    half = (leave == "연가") & (rng.random(n) < 1 / 6)
    leave_hours = np.where(pd.isna(leave), np.nan, np.where(half, 4.0, 8.0))
    short = rng.integers(1, 5, n).astype(float)
    trip_hours = np.where(trip == "관내출장", short, np.where(trip == "관외출장", 8.0, np.nan))

    emp_id = e["employee_id"].to_numpy()[ei]
    ymd = pd.Series(day).dt.strftime("%Y%m%d").to_numpy()
    return table(
        {
            "record_id": emp_id + "-" + ymd,
            "employee_id": emp_id,
            "department": e["department"].to_numpy()[ei],
            "work_date": days.to_timestamps(day),
            "leave_type": leave,
            "leave_hours": leave_hours,
            "trip_type": trip,
            "trip_hours": trip_hours,
            "overtime_hours": overtime,
            "updated_at": days.stamps(rng, day, lag_days=1),
        }
    )
