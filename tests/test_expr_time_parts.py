"""hour() and minute() on every time and date-time storage, checked against Python's own
datetime arithmetic (boundaries, nulls, times past midnight and before 1970)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from naebu.engine.expr import compile_expression

SECONDS = [0, 59, 60, 3599, 3600, 21599, 21600, 82800, 86399, 86400, 90061, -1, -3600, -86401]


def _times(unit: str) -> pd.Series:
    values = [pd.Timedelta(seconds=s) for s in SECONDS] + [
        pd.Timedelta(microseconds=3_599_999_999),
        pd.NaT,
    ]
    return pd.Series(values).astype(f"m8[{unit}]")


def _expected(seconds: list[float | None]) -> tuple[list[float], list[float]]:
    hours = [np.nan if s is None else float(s % 86400 // 3600) for s in seconds]
    minutes = [np.nan if s is None else float(s % 86400 // 60 % 60) for s in seconds]
    return hours, minutes


def _evaluate(text: str, series: pd.Series, type_: str) -> list[float]:
    expr = compile_expression(text, {"t": type_}, {}, expect=None)
    return expr.evaluate(pd.DataFrame({"t": series})).tolist()


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_hour_and_minute_of_a_time(unit: str) -> None:
    series = _times(unit)
    seconds: list[float | None] = [float(s) for s in SECONDS] + [3599.999999, None]
    if unit == "s":
        seconds[-2] = 3599.0  # the cast to whole seconds drops the fraction
    hours, minutes = _expected(seconds)
    assert _evaluate("hour(t)", series, "time") == pytest.approx(hours, nan_ok=True)
    assert _evaluate("minute(t)", series, "time") == pytest.approx(minutes, nan_ok=True)


@pytest.mark.parametrize("unit", ["ns", "us"])
def test_hour_and_minute_of_a_date_time(unit: str) -> None:
    stamps = [dt.datetime(2025, 3, 1, 23, 59, 59), dt.datetime(1969, 12, 31, 22, 30),
              dt.datetime(2024, 2, 29, 0, 0), dt.datetime(2025, 1, 1, 5, 59, 59, 999_999), None]  # fmt: skip
    series = pd.Series(stamps, dtype=f"M8[{unit}]")
    hours = [23.0, 22.0, 0.0, 5.0, np.nan]
    minutes = [59.0, 30.0, 0.0, 59.0, np.nan]
    assert _evaluate("hour(t)", series, "datetime") == pytest.approx(hours, nan_ok=True)
    assert _evaluate("minute(t)", series, "datetime") == pytest.approx(minutes, nan_ok=True)


def test_hour_of_a_date_time_with_a_time_zone_is_local() -> None:
    series = pd.Series(pd.to_datetime(["2025-03-01 23:30"]).tz_localize("Asia/Seoul"))
    assert _evaluate("hour(t)", series, "datetime") == [23.0]


def test_hour_and_minute_of_times_within_one_day() -> None:
    seconds = [0, 59, 3599, 3600, 21599, 82800, 86399]
    series = pd.Series([pd.Timedelta(seconds=s) for s in seconds])  # no NaT, nothing past a day
    hours, minutes = _expected([float(s) for s in seconds])
    assert _evaluate("hour(t)", series, "time") == hours
    assert _evaluate("minute(t)", series, "time") == minutes
    assert _evaluate("hour(t)", series.iloc[:0], "time") == []
