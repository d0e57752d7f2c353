"""The demo year's calendar: 2025, Korean public holidays, business days.

Business days are weekdays that are not public holidays per ``holidays.KR`` (the same
calendar the rules' ``is_holiday()`` uses), so ordinary activity never lands on a day a
holiday rule would flag.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd

YEAR = 2025
START = np.datetime64(f"{YEAR}-01-01", "D")
END = np.datetime64(f"{YEAR}-12-31", "D")

#: Korean public holidays of the demo year (and the next, for deadlines that run over).
HOLIDAYS = np.array(
    sorted(np.datetime64(d, "D") for d in holidays.KR(years=[YEAR, YEAR + 1])),
    dtype="datetime64[D]",
)


def business_days(start: np.datetime64 = START, end: np.datetime64 = END) -> np.ndarray:
    """All business days from ``start`` to ``end`` inclusive, ascending."""
    days = np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    return days[np.is_busday(days, holidays=HOLIDAYS)]


BUSINESS_DAYS = business_days()


def is_business_day(days: np.ndarray) -> np.ndarray:
    """Vectorised: is each day a weekday that is not a public holiday?"""
    return np.is_busday(days.astype("datetime64[D]"), holidays=HOLIDAYS)


def roll_forward(days: np.ndarray) -> np.ndarray:
    """Each day, or the next business day if it is not one."""
    return np.busday_offset(days.astype("datetime64[D]"), 0, roll="forward", holidays=HOLIDAYS)


def roll_backward(days: np.ndarray) -> np.ndarray:
    """Each day, or the previous business day if it is not one."""
    return np.busday_offset(days.astype("datetime64[D]"), 0, roll="backward", holidays=HOLIDAYS)


def add_business_days(days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """Each (business) day moved ``n`` business days on."""
    return np.busday_offset(days.astype("datetime64[D]"), n, roll="forward", holidays=HOLIDAYS)


def is_holiday(day: dt.date) -> bool:
    """Whether ``day`` is a Saturday, Sunday or Korean public holiday."""
    return not bool(np.is_busday(np.datetime64(day, "D"), holidays=HOLIDAYS))


def to_timestamps(days: np.ndarray) -> pd.Series:
    """Days (``datetime64[D]``, NaT allowed) as a pandas ``datetime64[ns]`` series."""
    return pd.Series(np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]"))


def random_days(rng: np.random.Generator, n: int, days: np.ndarray = BUSINESS_DAYS) -> np.ndarray:
    """``n`` days drawn uniformly from ``days`` (business days of the year by default)."""
    return days[rng.integers(0, len(days), n)]


def clamp_to_year(days: np.ndarray) -> np.ndarray:
    """Days after the year's end become NaT (not happened yet when the data was taken)."""
    d = np.asarray(days, dtype="datetime64[D]").copy()
    d[d > END] = np.datetime64("NaT")
    return d


def stamps(rng: np.random.Generator, days: np.ndarray, lag_days: int = 0) -> pd.Series:
    """Change times for records of ``days``: the day (plus up to ``lag_days``) in office hours.

    Used for the ``upd_dt`` watermark columns; never before the record's own day.
    """
    d = np.asarray(days, dtype="datetime64[D]")
    n = len(d)
    lag = rng.integers(0, lag_days + 1, n).astype("timedelta64[D]")
    secs = rng.integers(9 * 3600, 19 * 3600, n).astype("timedelta64[s]")
    return pd.Series(((d + lag).astype("datetime64[s]") + secs).astype("datetime64[ns]"))
