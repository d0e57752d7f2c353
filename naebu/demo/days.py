"""The demo year's calendar: 2025, Korean public holidays, business days.

Business days are weekdays that are not public holidays, counted by :mod:`naebu.core.workdays`'
numpy functions (the one calendar the rules' ``is_holiday()``, ``civil_deadline()`` and alert
deadlines use), so ordinary activity never lands on a day a holiday rule would flag.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from naebu.core import workdays

YEAR = 2025
START = np.datetime64(f"{YEAR}-01-01", "D")
END = np.datetime64(f"{YEAR}-12-31", "D")


def business_days(start: np.datetime64 = START, end: np.datetime64 = END) -> np.ndarray:
    """All business days from ``start`` to ``end`` inclusive, ascending."""
    days = np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    return days[workdays.is_busday(days)]


BUSINESS_DAYS = business_days()


def is_business_day(days: np.ndarray) -> np.ndarray:
    """Vectorised: is each day a weekday that is not a public holiday?"""
    return workdays.is_busday(days)


def roll_forward(days: np.ndarray) -> np.ndarray:
    """Each day, or the next business day if it is not one."""
    return workdays.busday_offset(days, 0, roll="forward")


def roll_backward(days: np.ndarray) -> np.ndarray:
    """Each day, or the previous business day if it is not one."""
    return workdays.busday_offset(days, 0, roll="backward")


def add_business_days(days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """Each (business) day moved ``n`` business days on."""
    return workdays.busday_offset(days, n, roll="forward")


def is_holiday(day: dt.date) -> bool:
    """Whether ``day`` is a Saturday, Sunday or Korean public holiday."""
    return not workdays.is_working_day(day)


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


def legal_deadlines(received: np.ndarray, legal_days: np.ndarray) -> np.ndarray:
    """The statutory deadline day (처리기한, 민원처리법 제19조, as 새올 computes it) of each
    application received at ``received`` (instants, or days when the time is not known) with
    ``legal_days`` days (``datetime64[D]``); see :func:`legal_deadline_instants`."""
    return legal_deadline_instants(received, legal_days).astype("datetime64[D]")


def legal_deadline_instants(received: np.ndarray, legal_days: np.ndarray) -> np.ndarray:
    """The statutory deadline instant of each application (``datetime64[s]``, NaT where the
    receipt is unknown): the shared :func:`naebu.core.workdays.civil_deadline`, once per distinct
    (receipt, period)."""
    stamps = pd.to_datetime(pd.Series(received)).dt.to_pydatetime()
    out = np.full(len(stamps), np.datetime64("NaT"), dtype="datetime64[s]")
    found: dict[tuple[dt.datetime, int], np.datetime64] = {}
    for i, (at, n) in enumerate(zip(stamps, legal_days, strict=True)):
        if at is None or at is pd.NaT:
            continue
        key = (at, int(n))
        if key not in found:
            due = workdays.civil_deadline(at, int(n))
            found[key] = np.datetime64(due, "s") if due else np.datetime64("NaT")
        out[i] = found[key]
    return out


def receipt_times(days: np.ndarray, salt: int = 26) -> pd.Series:
    """A time in office hours (09:00-17:59, whole minutes) on each day (NaT stays NaT): what
    새올 records as 접수일시 or 처리일시. Drawn from a generator of its own, so adding these
    times left every other drawing of the demo as it was."""
    d = np.asarray(days, dtype="datetime64[D]")
    rng = np.random.default_rng([len(d), salt])
    minutes = rng.integers(9 * 60, 18 * 60, len(d)).astype("timedelta64[m]")
    return pd.Series((d.astype("datetime64[m]") + minutes).astype("datetime64[ns]"))
