"""naebu/core/workdays.py: the one business-day calendar (numpy's busday functions over the Korean
holidays and the city's ``[calendar]``), as alert deadlines, rule functions and the demo use it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from naebu.core import workdays
from naebu.core.workdays import (
    add_business_days,
    business_days_before,
    business_days_between,
    is_working_day,
)
from naebu.demo import days as demo_days
from naebu.engine.calendar_settings import apply, read_calendar

#: 2025's 설날: 27 January (임시공휴일), 28-30 January (연휴).
SEOLLAL = [date(2025, 1, d) for d in (27, 28, 29, 30)]


@pytest.fixture(autouse=True)
def national_calendar() -> Iterator[None]:
    workdays.configure()
    yield
    workdays.configure()


def _walk(day: date, n: int) -> date:
    """The oracle: the n-th working day after ``day`` (``day`` itself, rolled on, for 0)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    while n > 0:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


def test_seollal_is_not_counted() -> None:
    friday = datetime(2025, 1, 24, 9, 30)
    assert add_business_days(friday, 1) == datetime(2025, 1, 31, 23, 59, 59)
    assert add_business_days(friday, 0) == datetime(2025, 1, 24, 23, 59, 59)
    assert business_days_between(friday, datetime(2025, 1, 31, 8)) == 1
    assert business_days_between(datetime(2025, 1, 31), friday) == 0
    assert business_days_before(datetime(2025, 1, 31, 23, 59, 59), 1) == date(2025, 1, 24)
    week = np.arange("2025-01-24", "2025-02-01", dtype="datetime64[D]")
    assert workdays.is_busday(week).tolist() == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert int(workdays.busday_count(np.datetime64("2025-01-24"), np.datetime64("2025-02-03"))) == 2
    assert all(not is_working_day(d) for d in SEOLLAL)


def test_numpy_offsets_agree_with_a_day_by_day_walk() -> None:
    start = np.arange("2024-12-20", "2025-02-10", dtype="datetime64[D]")
    for n in range(6):
        moved = workdays.busday_offset(start, n, roll="forward").astype(date).tolist()
        assert moved == [_walk(d, n) for d in start.astype(date).tolist()], n
    assert workdays.is_busday(np.array(["NaT", "2025-01-31"], dtype="datetime64[D]")).tolist() == [
        False,
        True,
    ]


def test_a_city_holiday_from_the_calendar_section_counts_everywhere() -> None:
    thursday = datetime(2025, 10, 2, 15)  # then 개천절, 추석 연휴, 한글날, and the city's 10-10
    assert add_business_days(thursday, 1) == datetime(2025, 10, 10, 23, 59, 59)
    problems: list = []
    apply(read_calendar({"extra_holidays": ["2025-10-10"]}, problems, "config.toml"))
    assert problems == []
    assert add_business_days(thursday, 1) == datetime(2025, 10, 13, 23, 59, 59)
    assert business_days_between(thursday, datetime(2025, 10, 13)) == 1
    assert business_days_before(datetime(2025, 10, 13), 1) == date(2025, 10, 2)
    assert not workdays.is_busday(np.datetime64("2025-10-10")).item()
    assert demo_days.add_business_days(np.array(["2025-10-02"], dtype="datetime64[D]"), 1)[0] == (
        np.datetime64("2025-10-13")
    )
    apply(read_calendar({"removed_holidays": ["2025-10-09"]}, problems, "config.toml"))
    assert add_business_days(thursday, 1) == datetime(2025, 10, 9, 23, 59, 59)
