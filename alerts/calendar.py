"""Business days: the deadlines officials are given count working days only.

A working day is Monday to Friday and not a Korean public holiday, as the one shared
calendar :mod:`engine.workdays` counts them: 설날 and 추석 with their eves and next days,
substitute holidays (대체공휴일), the temporary holidays the government declares (임시공휴일,
e.g. 2025-01-27) and the days the city adds or removes in ``[calendar]`` of its config.

Example: an alert raised on Friday 2025-01-24 with a 1-day deadline is due on Friday
2025-01-31 at 23:59:59, because the 27th (임시공휴일) and 28-30 (설날 연휴) are holidays.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from engine import workdays
from engine.workdays import END_OF_DAY

__all__ = [
    "END_OF_DAY",
    "add_business_days",
    "business_days_before",
    "business_days_between",
    "is_business_day",
]


def is_business_day(day: date) -> bool:
    """True on a weekday that is not a Korean public holiday (:func:`engine.workdays.is_working_day`)."""
    return workdays.is_working_day(day)


def add_business_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59) of the ``days``-th business day after ``start``'s date.

    ``start``'s own day does not count, whatever the hour: an alert raised on Monday with
    ``days=1`` is due Tuesday 23:59:59. With ``days <= 0`` the deadline is the end of
    ``start``'s own day. The time zone of ``start`` (if any) is kept; naive times are local
    (Asia/Seoul).

    >>> add_business_days(datetime(2025, 1, 24, 9, 30), 1)  # 설날 연휴 2025-01-27..30
    datetime.datetime(2025, 1, 31, 23, 59, 59)
    """
    return datetime.combine(
        _business_day_after(start.date(), days, workdays.generation()), END_OF_DAY, start.tzinfo
    )


# A run gives thousands of alerts the same deadline from the same day, and the reminder check
# walks every open alert's deadline on every run: each (day, count) is walked once. The
# calendar's generation is part of every cache key here, so a change of the city's holidays
# (engine.workdays.configure) is never answered from an older calendar.
@lru_cache(maxsize=4096)
def _business_day_after(day: date, days: int, _calendar: int) -> date:
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
    return _business_days_from_to(start.date(), end.date(), workdays.generation())


# Each overdue alert's notice says by how many business days: when 15,000 alerts fall due at
# once, that is 125,000 walks of weeks of days (6 s), over a handful of (deadline, today) pairs.
@lru_cache(maxsize=4096)
def _business_days_from_to(day: date, last: date, _calendar: int) -> int:
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
    return _business_day_before(deadline.date(), days, workdays.generation())


@lru_cache(maxsize=4096)
def _business_day_before(day: date, days: int, _calendar: int) -> date:
    remaining = days
    while remaining > 0:
        day -= timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day
