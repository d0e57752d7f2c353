"""Built-in functions on working days and statutory deadlines.

All of them count on the one shared calendar of :mod:`naebu.core.workdays`: Korean public
holidays (substitute and temporary ones included) with the city's ``[calendar]`` changes, the
same calendar alert deadlines use. Registered in :data:`naebu.engine.expr.functions.FUNCTIONS` on
import (``functions`` imports this module at its end).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.core import workdays

from .functions import TEXT, register
from .kinds import NUMERIC, TEMPORAL
from .values import boolean


def _days(x: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The days of ``x`` as ``datetime64[D]`` (a placeholder where null) and the null mask."""
    missing = x.isna().to_numpy()
    days = x.dt.normalize().to_numpy().astype("datetime64[D]")
    if missing.any():  # any present day (no further year to look up); masked by the caller
        present = days[~missing]
        days[missing] = present[0] if present.size else np.datetime64("2000-01-03")
    return days, missing


@register("is_holiday", [TEMPORAL], "bool")
def _is_holiday(x: pd.Series) -> pd.Series:
    """Whether the day is a Korean public holiday (substitute and temporary holidays included,
    with the days the city adds or removes in ``[calendar]`` of its config).

    Saturdays and Sundays are not holidays for this function; combine with weekday(x) >= 5.
    """
    days, missing = _days(x)
    found = np.isin(days, workdays.holidays_for(days[~missing]))
    return boolean(found & ~missing, x.index)


@register("business_days_between", [TEMPORAL, TEMPORAL], "int")
def _business_days_between(a: pd.Series, b: pd.Series) -> pd.Series:
    """Business days from a to b: weekdays that are not Korean public holidays, counting a but
    not b (numpy busday_count); negative when b is earlier. Received Monday, decided Wednesday: 2.
    """
    start, missing_a = _days(a)
    end, missing_b = _days(b)
    counts = workdays.busday_count(start, end).astype("float64")
    counts[missing_a | missing_b] = np.nan
    return pd.Series(counts, index=a.index)


@register("is_business_day", [TEMPORAL], "bool")
def _is_business_day(x: pd.Series) -> pd.Series:
    """Whether the day is a business day: Monday to Friday and not a Korean public holiday."""
    days, missing = _days(x)
    result = workdays.is_busday(days)
    return boolean(result & ~missing, x.index)


def _deadlines(received: pd.Series, period: pd.Series, unit: pd.Series | None) -> pd.Series:
    """Per record, :func:`naebu.core.workdays.civil_deadline` (NaT where not judged), for the
    whole column at once (:func:`naebu.core.workdays.civil_deadlines`): a province's 150,000
    permits, each received at its own minute, cost milliseconds."""
    if isinstance(received.dtype, pd.DatetimeTZDtype):  # the wall clock, as civil_deadline
        received = received.dt.tz_localize(None)
    due = workdays.civil_deadlines(
        received.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")),
        period.to_numpy(dtype="float64", na_value=np.nan),
        unit,  # blank or null: days
    )
    return pd.Series(due, index=received.index)


@register("civil_deadline", [TEMPORAL, NUMERIC, TEXT], "datetime", optional=1)
def _civil_deadline(
    received: pd.Series, period: pd.Series, unit: pd.Series | None = None
) -> pd.Series:
    """The statutory deadline (처리기한) of a petition received at ``received`` with a handling
    period of ``period`` ``unit`` (민원 처리에 관한 법률 제19조, 처리기간의 계산):
    civil_deadline(received_on, legal_days, legal_unit).

    Up to 5 days: 8 working hours a day from the time of receipt, only working days'
    09:00-12:00 and 13:00-18:00 counting; received Monday 14:00 with 1 day, due Tuesday 14:00.
    A receipt known only by its day (a date) counts as received after that day's working
    hours, its latest possible time, so a missing time never makes a decision late. 6 days or more: working days, the day
    of receipt counted, due at the end of the last one. Weeks, months, years (unit "주", "월",
    "년"): by the calendar, the first day counted (received 2025-03-10 with 1 month: due
    2025-04-09), moved to the next working day when the last day is a Saturday or holiday.
    Unit "시간": working hours. An empty unit means days; an unknown unit, a period that is
    not a positive whole number or an empty one gives null (not judged).
    """
    return _deadlines(received, period, unit)


@register("is_late", [TEMPORAL, NUMERIC, TEMPORAL, TEXT], "bool", optional=1)
def _is_late(
    received: pd.Series, period: pd.Series, decided: pd.Series, unit: pd.Series | None = None
) -> pd.Series:
    """Whether ``decided`` comes after the statutory deadline civil_deadline(received, period,
    unit): is_late(received_on, legal_days, decided_on, legal_unit). A decision known only by
    its day is on time when that day is the deadline's day. False when any of them is null.
    """
    due = _deadlines(received, period, unit)
    late = (decided > due).to_numpy(dtype=bool, na_value=False)
    return boolean(late & ~decided.isna().to_numpy() & ~due.isna().to_numpy(), decided.index)
