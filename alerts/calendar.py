"""Business days: the deadlines officials are given count working days only.

A working day is Monday to Friday and not a Korean public holiday as ``holidays.KR`` knows
them: 설날 and 추석 with their eves and next days, substitute holidays (대체공휴일) and the
temporary holidays the government declares (임시공휴일, e.g. 2025-01-27).

Example: an alert raised on Friday 2025-01-24 with a 1-day deadline is due on Friday
2025-01-31 at 23:59:59, because the 27th (임시공휴일) and 28-30 (설날 연휴) are holidays.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

#: The last second of a day: a deadline "on" a day means until the end of it.
END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=1)
def _korean_holidays() -> holidays.HolidayBase:
    # One calendar that expands itself year by year as dates are looked up.
    return holidays.country_holidays("KR")


def is_business_day(day: date) -> bool:
    """True on a weekday that is not a Korean public holiday."""
    if isinstance(day, datetime):
        day = day.date()
    return _is_business_date(day)


# Every open alert's deadline is walked day by day on every run; a lookup in ``holidays``
# costs microseconds, and a few years of days fit in the cache.
@lru_cache(maxsize=8192)
def _is_business_date(day: date) -> bool:
    return day.weekday() < 5 and day not in _korean_holidays()


def add_business_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59) of the ``days``-th business day after ``start``'s date.

    ``start``'s own day does not count, whatever the hour: an alert raised on Monday with
    ``days=1`` is due Tuesday 23:59:59. With ``days <= 0`` the deadline is the end of
    ``start``'s own day. The time zone of ``start`` (if any) is kept; naive times are local
    (Asia/Seoul).

    >>> add_business_days(datetime(2025, 1, 24, 9, 30), 1)  # 설날 연휴 2025-01-27..30
    datetime.datetime(2025, 1, 31, 23, 59, 59)
    """
    return datetime.combine(_business_day_after(start.date(), days), END_OF_DAY, start.tzinfo)


# A run gives thousands of alerts the same deadline from the same day, and the reminder check
# walks every open alert's deadline on every run: each (day, count) is walked once.
@lru_cache(maxsize=4096)
def _business_day_after(day: date, days: int) -> date:
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def business_days_between(start: datetime, end: datetime) -> int:
    """How many business days come after ``start``'s date up to and including ``end``'s.

    The inverse of :func:`add_business_days`: ``business_days_between(t,
    add_business_days(t, n)) == n`` for ``n >= 1``. 0 when ``end`` is not after ``start``.
    """
    return _business_days_from_to(start.date(), end.date())


# Each overdue alert's notice says by how many business days: when 15,000 alerts fall due at
# once, that is 125,000 walks of weeks of days (6 s), over a handful of (deadline, today) pairs.
@lru_cache(maxsize=4096)
def _business_days_from_to(day: date, last: date) -> int:
    count = 0
    while day < last:
        day += timedelta(days=1)
        if is_business_day(day):
            count += 1
    return count


def business_days_before(deadline: datetime, days: int) -> date:
    """The business day ``days`` business days before ``deadline``'s date (its own date for 0).

    A reminder ``days`` business days ahead of a deadline goes out from this day on.
    """
    return _business_day_before(deadline.date(), days)


@lru_cache(maxsize=4096)
def _business_day_before(day: date, days: int) -> date:
    remaining = days
    while remaining > 0:
        day -= timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day
