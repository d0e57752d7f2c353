"""Korean working days and working hours: the one calendar every deadline is counted on.

A **working day** is Monday to Friday and not a public holiday. Public holidays are those of
``holidays.KR`` (the 관공서의 공휴일에 관한 규정 days: 설날 and 추석 with their eves and next
days, substitute holidays 대체공휴일, election days, and the temporary holidays the government
declares, 임시공휴일, e.g. 2024-10-01 and 2025-01-27), plus the days the city adds and minus
the days it removes in its configuration::

    [calendar]
    extra_holidays = ["2025-10-10"]     # a 임시공휴일 declared after this release
    removed_holidays = ["2026-05-01"]   # a day the package lists that the city works

(:mod:`naebu.engine.calendar_settings` reads that section and calls :func:`configure`.) The expression
functions (``is_holiday``, ``is_business_day``, ``business_days_between``,
``civil_deadline``, ``is_late``), the alert deadlines (:func:`add_business_days`) and the demo
city (naebu/demo/days.py) all ask this module, so a city's holiday counts the same way everywhere.

**Statutory handling periods** (:func:`civil_deadline`) follow 민원 처리에 관한 법률 제19조
(처리기간의 계산), as read from memory of the current text - this project was written without
internet access, so the article number and wording should be checked against 국가법령정보센터
(제17조 is 법정 처리기간 및 처리기간의 게시):

1. A period of **5 days or less** is counted in hours from the time of receipt, Saturdays and
   public holidays not counted, one day being 8 working hours. Our reading of "8 hours of
   working time": the hours of 국가공무원 복무규정 제9조, 09:00-18:00 less the 12:00-13:00
   lunch hour. The clock only runs inside them: received Monday 14:00 with 1 day, the
   deadline is Tuesday 14:00 (4 hours Monday, 3 + 1 Tuesday). A receipt outside working hours
   (evening, weekend, online at night) starts the clock at the next working hour. A receipt
   known only by its day (a date, 00:00:00) is taken as received at the end of that day's
   working hours, the clock starting on the next working day: the latest deadline a receipt
   that day can have. Taking it as received at 09:00 instead would make a decision on the last
   lawful day late whenever the application actually came in the afternoon - a finding made of
   a missing receipt time, which the project never raises. Give the time (``received_at``) and
   the deadline is exact.
2. A period of **6 days or more** is counted in days, the first day (the day of receipt)
   counted, Saturdays and public holidays not counted: the deadline is the end of the N-th
   working day counting the day of receipt if it is one.
3. A period in **weeks, months or years** counts the first day and follows 민법 제159조-제161조:
   it ends the day before the day of the last week/month/year corresponding to the day of
   receipt (the month's last day when it has no such day), and when that is a Saturday or a
   public holiday, on the next working day. The deadline is the end of that day.
4. A period given **in hours** ("시간") is counted as working hours, as in 1.

:func:`civil_deadline` is that rule for one petition, as written; :func:`civil_deadlines` the
same rule for whole columns (what the rule functions call), held to it by a property test.
"""

from __future__ import annotations

import calendar as _month_calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    import holidays

#: How numpy moves a day that is not a working day before counting: to the next or the last.
Roll = Literal["forward", "backward"]

#: The working hours of a day (국가공무원 복무규정 제9조): 8 hours, the lunch hour left out.
WORKING_BLOCKS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
#: Working hours in one statutory day (민원처리법 제19조①).
HOURS_PER_DAY = 8
#: Periods of at most this many days are counted in working hours (제19조①).
HOUR_RULE_MAX_DAYS = 5
#: The last second of a day: a deadline "on" a day runs until the end of it.
END_OF_DAY = time(23, 59, 59)

#: Unit words a period may be given in -> canonical unit. An empty unit means days.
UNITS: dict[str, str] = {
    "시간": "hours", "hour": "hours", "hours": "hours", "h": "hours",
    "일": "days", "day": "days", "days": "days", "d": "days",
    "주": "weeks", "week": "weeks", "weeks": "weeks", "w": "weeks",
    "월": "months", "개월": "months", "month": "months", "months": "months",
    "년": "years", "연": "years", "year": "years", "years": "years", "y": "years",
}  # fmt: skip


@dataclass(frozen=True)
class CityHolidays:
    """The city's changes to the national calendar: days added (a 임시공휴일 declared after
    the ``holidays`` package was released, a local holiday the city's offices close on) and
    days removed (a day the package lists that the city's offices work)."""

    extra: frozenset[date] = frozenset()
    removed: frozenset[date] = frozenset()


_city = CityHolidays()
_generation = 0


@lru_cache(maxsize=1)
def _national() -> holidays.HolidayBase:
    import holidays  # imported when first needed: the expression language loads without it

    # One calendar that expands itself year by year as dates are looked up.
    return holidays.country_holidays("KR")


def configure(extra: Iterable[date] = (), removed: Iterable[date] = ()) -> None:
    """Set the city's extra and removed holidays (replacing any set before) for every
    calculation from now on; with no arguments, the national calendar alone."""
    global _city, _generation
    new = CityHolidays(frozenset(extra), frozenset(removed))
    if new != _city:
        _city = new
        _generation += 1
        _clear_caches()


def generation() -> int:
    """A number that changes whenever :func:`configure` changes the calendar: callers that
    cache results of their own key the cache on it."""
    return _generation


def city_holidays() -> CityHolidays:
    """The city's changes in force (see :func:`configure`)."""
    return _city


def _clear_caches() -> None:
    for cached in (
        is_holiday_date,
        holiday_array,
        _deadline,
        _business_day_offset,
        _business_day_count,
    ):
        cached.cache_clear()


def _as_date(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day


def is_holiday(day: date) -> bool:
    """Whether ``day`` is a public holiday (national or added by the city, not removed).
    Saturdays and Sundays are not holidays here; see :func:`is_working_day`."""
    return is_holiday_date(_as_date(day))


# Deadlines walk day by day; a lookup in ``holidays`` costs microseconds, a few years fit here.
@lru_cache(maxsize=8192)
def is_holiday_date(day: date) -> bool:
    """:func:`is_holiday` for a plain date (cached)."""
    if day in _city.removed:
        return False
    return day in _city.extra or day in _national()


def holiday_name(day: date) -> str | None:
    """The holiday's name on ``day`` (개천절, 추석, "공휴일" for one the city added), or None
    when ``day`` is not a holiday: what a date shown to officials carries beside its weekday."""
    day = _as_date(day)
    if not is_holiday_date(day):
        return None
    name = _korean_names().get(day)
    return str(name).split(";")[0].strip() if name else "공휴일"


@lru_cache(maxsize=1)
def _korean_names() -> holidays.HolidayBase:
    import holidays

    # Names in Korean whatever the machine's locale (the package would follow LANG).
    return holidays.country_holidays("KR", language="ko")


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday."""
    day = _as_date(day)
    return day.weekday() < 5 and not is_holiday_date(day)


@lru_cache(maxsize=64)
def holiday_array(years: tuple[int, ...]) -> np.ndarray:
    """The public holidays of ``years`` (with the city's changes) as sorted ``datetime64[D]``,
    for numpy's ``busday_count`` / ``is_busday`` over whole columns."""
    import holidays

    days: set[date] = set()
    for year in years:
        days.update(d for d in holidays.country_holidays("KR", years=year) if d.year == year)
        days.update(d for d in _city.extra if d.year == year)
    days -= _city.removed
    return np.array(sorted(days), dtype="datetime64[D]")


# Business-day arithmetic is numpy's (busday_offset, busday_count, is_busday) over
# holiday_array: every count of working days, one day or a whole column, goes through these.


def holidays_for(*days: ArrayLike, margin_days: int = 0) -> np.ndarray:
    """:func:`holiday_array` of the years ``days`` span (NaT ignored), a year more on each side
    and ``margin_days`` further: enough for an offset of up to ``margin_days / 2`` business days."""
    present = [d for d in (np.asarray(x, dtype="datetime64[D]").ravel() for x in days) if d.size]
    values = np.concatenate(present) if present else np.array([], dtype="datetime64[D]")
    values = values[~np.isnat(values)]
    if not values.size:
        return holiday_array(())
    margin = np.timedelta64(margin_days, "D")
    first = int(str((values.min() - margin).astype("datetime64[Y]")))
    last = int(str((values.max() + margin).astype("datetime64[Y]")))
    return holiday_array(tuple(range(first - 1, last + 2)))


def is_busday(days: ArrayLike) -> np.ndarray:
    """Vectorised :func:`is_working_day` (``np.is_busday``); False where NaT."""
    days = np.asarray(days, dtype="datetime64[D]")
    missing = np.isnat(days)
    safe = np.where(missing, np.datetime64("2000-01-03", "D"), days)
    return np.is_busday(safe, holidays=holidays_for(days)) & ~missing


def busday_offset(days: ArrayLike, n: ArrayLike, roll: Roll = "forward") -> np.ndarray:
    """``np.busday_offset`` on this calendar: each day rolled to a working day (``forward`` or
    ``backward``), then moved ``n`` working days on (back when negative). NaT stays NaT."""
    days = np.asarray(days, dtype="datetime64[D]")
    reach = int(np.max(np.abs(n))) if np.size(n) else 0
    holidays = holidays_for(days, margin_days=2 * reach + 31)
    return np.busday_offset(days, n, roll=roll, holidays=holidays)


def busday_count(start: ArrayLike, end: ArrayLike) -> np.ndarray:
    """``np.busday_count`` on this calendar: working days from ``start`` (counted) to ``end``
    (not counted), negative when ``end`` is earlier."""
    start = np.asarray(start, dtype="datetime64[D]")
    end = np.asarray(end, dtype="datetime64[D]")
    return np.busday_count(start, end, holidays=holidays_for(start, end))


def business_day_offset(day: date, n: int, roll: Roll = "forward") -> date:
    """:func:`busday_offset` of one day."""
    moved = busday_offset(np.datetime64(day, "D"), n, roll)
    return date.fromisoformat(str(moved))


def add_business_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59) of the ``days``-th business day after ``start``'s date: an alert's
    deadline.

    ``start``'s own day does not count, whatever the hour: an alert raised on Monday with
    ``days=1`` is due Tuesday 23:59:59. With ``days <= 0`` the deadline is the end of
    ``start``'s own day. The time zone of ``start`` (if any) is kept; naive times are local
    (Asia/Seoul).

    >>> add_business_days(datetime(2025, 1, 24, 9, 30), 1)  # 설날 연휴 2025-01-27..30
    datetime.datetime(2025, 1, 31, 23, 59, 59)
    """
    day = start.date()
    if days > 0:  # back to a working day (none lies between), then on: start's day not counted
        day = _business_day_offset(day, days, "backward", _generation)
    return datetime.combine(day, END_OF_DAY, start.tzinfo)


def business_days_between(start: datetime, end: datetime) -> int:
    """How many business days come after ``start``'s date up to and including ``end``'s.

    The inverse of :func:`add_business_days`: ``business_days_between(t,
    add_business_days(t, n)) == n`` for ``n >= 1``. 0 when ``end`` is not after ``start``.
    """
    first, last = start.date() + timedelta(days=1), end.date() + timedelta(days=1)
    return max(_business_day_count(first, last, _generation), 0)


def business_days_before(deadline: datetime, days: int) -> date:
    """The business day ``days`` business days before ``deadline``'s date (its own date for 0).

    A reminder ``days`` business days ahead of a deadline goes out from this day on.
    """
    day = deadline.date()
    if days <= 0:
        return day
    return _business_day_offset(day, -days, "forward", _generation)


# A run gives thousands of alerts the same deadline from the same day, and each overdue alert's
# notice says by how many business days (15,000 at once): a handful of distinct (day, count)
# pairs, each asked of numpy once. The calendar's generation is part of every key, so a change
# of the city's holidays (configure) is never answered from an older calendar.
@lru_cache(maxsize=4096)
def _business_day_offset(day: date, n: int, roll: Roll, _calendar: int) -> date:
    return business_day_offset(day, n, roll)


@lru_cache(maxsize=4096)
def _business_day_count(first: date, last: date, _calendar: int) -> int:
    return int(busday_count(np.datetime64(first, "D"), np.datetime64(last, "D")))


def next_working_day(day: date, *, include: bool = True) -> date:
    """The first working day from ``day`` on (``day`` itself when ``include`` and it is one)."""
    day = _as_date(day)
    if not include:
        day += timedelta(days=1)
    return business_day_offset(day, 0)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The instant the ``hours``-th working hour from ``start`` ends: only working days'
    :data:`WORKING_BLOCKS` count. ``start`` outside them starts the clock at the next one.

    >>> add_working_hours(datetime(2025, 3, 10, 14), 8)  # Monday 14:00, 1 day
    datetime.datetime(2025, 3, 11, 14, 0)
    """
    remaining = timedelta(hours=hours)
    day, clock = start.date(), start.replace(tzinfo=None)
    while True:
        if is_working_day(day):
            for open_, close in WORKING_BLOCKS:
                begin = max(datetime.combine(day, open_), clock)
                end = datetime.combine(day, close)
                if begin >= end:
                    continue
                if end - begin >= remaining:
                    return begin + remaining
                remaining -= end - begin
        day += timedelta(days=1)
        clock = datetime.combine(day, time(0))


def nth_working_day(first: date, n: int) -> date:
    """The ``n``-th working day counting ``first`` itself when it is one (n >= 1)."""
    return business_day_offset(_as_date(first), max(n, 1) - 1)


def add_calendar_months(first: date, months: int) -> date:
    """The last day of a period of ``months`` months whose first day is ``first`` (counted):
    the day before the corresponding day of the last month, or that month's last day when it
    has none (민법 제160조). 2025-03-10 + 1 month -> 2025-04-09; 2025-01-31 + 1 -> 2025-02-28."""
    index = first.year * 12 + first.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _month_calendar.monthrange(year, month)[1]
    if first.day > last:
        return date(year, month, last)
    return date(year, month, first.day) - timedelta(days=1)


def unit_of(text: str | None) -> str | None:
    """The canonical unit (hours, days, weeks, months, years) of a unit word; ``days`` for an
    empty one, None for a word not known."""
    if text is None or not str(text).strip():
        return "days"
    return UNITS.get(str(text).strip().lower())


def civil_deadline(
    received: datetime | date, period: float, unit: str | None = None
) -> datetime | None:
    """The statutory deadline (처리기한) of a civil petition received at ``received`` with a
    handling period of ``period`` ``unit`` (days when empty), per 민원 처리에 관한 법률
    제19조 as described in this module's docstring. None when the period is not a positive
    whole number or the unit is unknown: not judged.

    >>> civil_deadline(datetime(2025, 3, 10, 14), 1)  # <= 5 days: 8 working hours
    datetime.datetime(2025, 3, 11, 14, 0)
    >>> civil_deadline(date(2025, 3, 10), 1)  # the day only: as if received after hours
    datetime.datetime(2025, 3, 11, 18, 0)
    >>> civil_deadline(date(2025, 3, 7), 6)  # Fri + Mon..Fri: 6th working day
    datetime.datetime(2025, 3, 14, 23, 59, 59)
    """
    canonical = unit_of(unit)
    if canonical is None or period is None or period != period or period <= 0:
        return None
    if float(period) != int(period):
        return None
    if not isinstance(received, datetime):
        received = datetime.combine(received, time(0))
    return _deadline(received.replace(tzinfo=None), int(period), canonical)


@lru_cache(maxsize=65536)
def _deadline(received: datetime, n: int, unit: str) -> datetime:
    if unit == "hours" or (unit == "days" and n <= HOUR_RULE_MAX_DAYS):
        start = received
        if received.time() == time(0):  # the day only: the latest receipt that day
            start = received + timedelta(days=1)
        return add_working_hours(start, n if unit == "hours" else n * HOURS_PER_DAY)
    first = received.date()
    if unit == "days":
        last = nth_working_day(first, n)
    else:
        if unit == "weeks":
            end = first + timedelta(days=7 * n - 1)
        else:
            end = add_calendar_months(first, n * (12 if unit == "years" else 1))
        last = next_working_day(end)  # 민법 제161조: a Saturday or holiday moves to the next day
    return datetime.combine(last, END_OF_DAY)


# -- whole columns ------------------------------------------------------------------------------
# civil_deadline() above is the rule as written, one petition at a time; civil_deadlines() is the
# same rule over whole columns in numpy (busday_offset on one holiday array for the whole span):
# 150,000 permits cost milliseconds, not seconds. tests/test_deadlines_vector.py holds the two to
# the same answers on random receipts, periods and units.

_HOUR = 3_600_000_000  # microseconds, the resolution civil_deadline's datetimes have


def _micros(clock: time) -> int:
    return ((clock.hour * 60 + clock.minute) * 60 + clock.second) * 1_000_000 + clock.microsecond


#: WORKING_BLOCKS in microseconds since midnight: morning and afternoon.
(_AM_OPEN, _AM_CLOSE), (_PM_OPEN, _PM_CLOSE) = ((_micros(a), _micros(b)) for a, b in WORKING_BLOCKS)
_MORNING = _AM_CLOSE - _AM_OPEN
_WORKING_DAY = _MORNING + _PM_CLOSE - _PM_OPEN
#: Periods above this are not judged by civil_deadlines: no deadline of theirs fits a
#: datetime64[ns], and int64 microsecond arithmetic on them could overflow.
_MAX_PERIOD = 10**8
#: The latest instant a ``datetime64[ns]`` holds (pandas' Timestamp.max), in microseconds.
_LATEST = np.datetime64("2262-04-11T23:47:16.854775", "us")
#: No year after this can matter to a deadline a ``datetime64[ns]`` holds.
_LAST_YEAR = 2263


def civil_deadlines(
    received: ArrayLike, period: ArrayLike, unit: ArrayLike | pd.Series | None = None
) -> np.ndarray:
    """:func:`civil_deadline` of every element, vectorised: ``received`` (``datetime64``, NaT
    where missing, naive local time), ``period`` (numbers, NaN where missing) and ``unit``
    (unit words; a missing one, or ``unit=None`` for all, means days) in; the deadlines out as
    ``datetime64[ns]``, NaT where :func:`civil_deadline` gives None or a value is missing.

    Where :func:`civil_deadline` has no answer at all (an infinite period, a deadline after
    2262 that a ``datetime64[ns]`` cannot hold; it raises) the answer here is NaT, not judged,
    rather than an error for the whole column.
    """
    at = np.asarray(received, dtype="datetime64[ns]").astype("datetime64[us]")  # as datetime
    size = at.shape[0]
    units = _canonical_units(unit, size)
    with np.errstate(invalid="ignore"):
        number = np.asarray(period, dtype="float64")
        valid = ~np.isnat(at) & (number > 0) & (number <= _MAX_PERIOD)
        valid &= number == np.floor(number)
    valid &= units != ""
    result = np.full(size, np.datetime64("NaT", "us"))
    if not valid.any():
        return result.astype("datetime64[ns]")
    n = np.where(valid, number, 1).astype("int64")
    days = at.astype("datetime64[D]")
    hours_unit = units == "hours"
    by_hours = valid & (hours_unit | ((units == "days") & (n <= HOUR_RULE_MAX_DAYS)))
    by_days = valid & (units == "days") & ~by_hours
    by_calendar = valid & ~by_hours & ~by_days
    hours = np.where(hours_unit, n, n * HOURS_PER_DAY)

    ends = _calendar_ends(days[by_calendar], n[by_calendar], units[by_calendar])
    reach = max(
        int(n[by_days].max(initial=0)), int(hours[by_hours].max(initial=0)) // HOURS_PER_DAY + 2
    )
    holidays = _holidays_spanning(np.concatenate([days[valid], ends]), reach)
    end_of_day = np.timedelta64(86399, "s")
    if by_days.any():  # the n-th working day, the day of receipt counted (제19조②)
        last = np.busday_offset(days[by_days], n[by_days] - 1, roll="forward", holidays=holidays)
        result[by_days] = _at(last, end_of_day)
    if by_calendar.any():  # a Saturday or holiday moves to the next working day (민법 제161조)
        last = np.busday_offset(ends, 0, roll="forward", holidays=holidays)
        result[by_calendar] = _at(last, end_of_day)
    if by_hours.any():  # working hours from the time of receipt (제19조①)
        result[by_hours] = _add_working_hours(at[by_hours], hours[by_hours], holidays)
    return result.astype("datetime64[ns]")


def _canonical_units(unit: ArrayLike | pd.Series | None, size: int) -> np.ndarray:
    """:func:`unit_of` per element ("" for a word not known), asked once per distinct word."""
    if unit is None:
        return np.full(size, "days")
    words_of = unit if isinstance(unit, pd.Series) else pd.Series(np.asarray(unit, dtype=object))
    codes, words = pd.factorize(words_of)  # a missing word: code -1, days
    canonical = np.array([unit_of(str(w)) or "" for w in words] + ["days"])
    return canonical[codes]


def _calendar_ends(days: np.ndarray, n: np.ndarray, units: np.ndarray) -> np.ndarray:
    """The last day of periods in weeks, months or years whose first day is ``days`` (민법
    제160조), before a Saturday or holiday moves it: :func:`add_calendar_months` vectorised."""
    weeks = units == "weeks"
    months = np.where(units == "years", 12 * n, n)
    first_month = days.astype("datetime64[M]")
    target = first_month + months.astype("timedelta64[M]")
    start = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - start).astype("int64")
    day_of_month = (days - first_month.astype("datetime64[D]")).astype("int64") + 1
    # The corresponding day's eve, or the month's last day when it has no such day.
    shift = np.where(day_of_month > length, length - 1, day_of_month - 2)
    by_month = start + shift.astype("timedelta64[D]")
    by_week = days + (7 * n - 1).astype("timedelta64[D]")
    return np.where(weeks, by_week, by_month).astype("datetime64[D]")


def _holidays_spanning(days: np.ndarray, reach: int) -> np.ndarray:
    """One :func:`holiday_array` for offsets of up to ``reach`` working days forward from any
    of ``days`` (the margin :func:`busday_offset` allows), none later than a datetime64[ns]
    can hold: every later result is not judged whatever the holidays."""
    years = days.astype("datetime64[Y]").astype("int64") + 1970
    last_day = days.max() + np.timedelta64(2 * reach + 31, "D")
    last = min(int(last_day.astype("datetime64[Y]").astype("int64")) + 1970, _LAST_YEAR)
    first = min(int(years.min()), last)
    return holiday_array(tuple(range(first - 1, last + 2)))


def _at(days: np.ndarray, clock: np.timedelta64) -> np.ndarray:
    """``days`` at ``clock`` in microseconds; NaT past what a datetime64[ns] holds (checked
    on the day first: a day far enough on would overflow the microseconds)."""
    fits = days <= _LATEST.astype("datetime64[D]")
    instants = np.where(fits, days, np.datetime64("1970-01-01")).astype("datetime64[us]") + clock
    return np.where(fits & (instants <= _LATEST), instants, np.datetime64("NaT", "us"))


def _add_working_hours(start: np.ndarray, hours: np.ndarray, holidays: np.ndarray) -> np.ndarray:
    """:func:`add_working_hours` of every receipt with the date-only rule of ``_deadline`` (a
    receipt at 00:00:00 starts the clock the next day), in microseconds."""
    day = start.astype("datetime64[D]")
    clock = (start - day.astype("datetime64[us]")).astype("int64")
    # The day only (00:00:00): the latest receipt that day, the clock starting the next.
    day = np.where(clock == 0, day + np.timedelta64(1, "D"), day)
    # Working time already gone on the day of receipt, 0 to 8 hours.
    gone = np.clip(clock - _AM_OPEN, 0, _MORNING)
    gone += np.clip(clock - _PM_OPEN, 0, _WORKING_DAY - _MORNING)
    first = np.busday_offset(day, 0, roll="forward", holidays=holidays)
    gone = np.where(first == day, gone, 0)  # not a working day: from the next one's 09:00
    total = gone + hours * _HOUR
    # The deadline is on the working day `whole` on from `first`, `left` into its working time
    # (0 < left <= 8 h: a period that ends with a block ends at 12:00 or 18:00, not 13:00).
    whole = (total - 1) // _WORKING_DAY
    left = total - whole * _WORKING_DAY
    last = np.busday_offset(first, whole, roll="forward", holidays=holidays)
    clock_out = np.where(left > _MORNING, _PM_OPEN + left - _MORNING, _AM_OPEN + left)
    instants = _at(last, np.timedelta64(0, "us")) + clock_out.astype("timedelta64[us]")
    return np.where(instants <= _LATEST, instants, np.datetime64("NaT", "us"))
