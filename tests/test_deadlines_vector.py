"""The vectorised statutory deadline (``workdays.civil_deadlines``, behind the rule functions
``civil_deadline()`` and ``is_late()``) against the scalar rule as written
(``workdays.civil_deadline``), on random receipts, periods and units: it must not drift.

The receipts cluster where the rule has edges: public holidays (substitute and temporary ones),
the days around new year, month ends (for periods in months), and the working-hour boundaries
(09:00, 12:00, lunch, 18:00, midnight, a microsecond either side, nanoseconds the scalar path
drops). A counting test keeps the expression functions off the scalar path.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from naebu.core import datasets, workdays
from naebu.engine.expr import compile_expression
from naebu.engine.ruletypes.match import column_types

UNITS: list[object] = [
    None, None, None, "", "일", "days", "시간", "h", " Hours ", "주", "week",
    "월", "개월", "년", "years", "fortnight", "분",
]  # fmt: skip
PERIODS = [1, 2, 3, 4, 5, 5, 6, 7, 10, 15, 20, 30, 60, 90, 365, 0, -2, 2.5, float("nan")]
CLOCKS = [
    "00:00:00", "00:00:00.000001", "08:59:59", "09:00:00", "09:00:00.000001", "11:59:59.999999",
    "12:00:00", "12:30:00", "13:00:00", "14:17:23", "17:59:59", "18:00:00", "18:00:01",
    "23:59:59.999999",
]  # fmt: skip


def _receipts(rng: np.random.Generator, size: int) -> np.ndarray:
    """Days near holidays, new year, month ends and anywhere, at edgy and random clocks."""
    holidays = workdays.holiday_array(tuple(range(2000, 2031)))
    near_holiday = rng.choice(holidays, size) + rng.integers(-4, 5, size).astype("timedelta64[D]")
    years = rng.integers(2000, 2031, size).astype(str).astype("datetime64[Y]")
    new_year = years.astype("datetime64[D]") + rng.integers(-12, 12, size).astype("timedelta64[D]")
    months = rng.integers(360, 720, size).astype("datetime64[M]")  # 2000-2029
    month_end = (months + 1).astype("datetime64[D]") - rng.integers(1, 4, size).astype(
        "timedelta64[D]"
    )
    anywhere = np.datetime64("1995-01-01") + rng.integers(0, 13000, size).astype("timedelta64[D]")
    kind = rng.integers(0, 4, size)
    days = np.choose(kind, [near_holiday, new_year, month_end, anywhere])
    edgy = np.array([np.timedelta64(pd.Timedelta(c).value, "ns") for c in CLOCKS])
    clocks = np.where(
        rng.random(size) < 0.6,
        rng.choice(edgy, size),
        rng.integers(0, 86_400_000_000_000, size).astype("timedelta64[ns]"),
    )
    return days.astype("datetime64[ns]") + clocks


def _scalar(received: np.ndarray, period: np.ndarray, units: list[object]) -> list[object]:
    """``civil_deadline`` row by row, as the rule functions called it before: NaT where not
    judged or missing, ``"raises"`` where it has no answer at all (it raises, or its answer
    does not fit the frame's datetimes and putting it there raised)."""
    out: list[object] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # nanoseconds dropped, as before
        for r, p, u in zip(pd.to_datetime(received), period, units, strict=True):
            if pd.isna(r) or p != p:
                out.append(pd.NaT)
                continue
            try:
                due = workdays.civil_deadline(r.to_pydatetime(), p, u)
            except (OverflowError, ValueError):
                out.append("raises")
                continue
            if due is not None and due > pd.Timestamp.max:  # a datetime64[ns] cannot hold it
                out.append("raises")
                continue
            out.append(pd.NaT if due is None else pd.Timestamp(due))
    return out


def _compare(received: np.ndarray, period: np.ndarray, units: list[object]) -> None:
    vector = pd.to_datetime(workdays.civil_deadlines(received, period, np.array(units, object)))
    expected = _scalar(received, period, [None if u is None else u for u in units])
    wrong = []
    for i, (got, want) in enumerate(zip(vector, expected, strict=True)):
        ok = pd.isna(got) if want == "raises" or pd.isna(want) else got == want
        if not ok:
            wrong.append((str(received[i]), period[i], units[i], got, want))
    assert not wrong, f"{len(wrong)} differ, e.g. {wrong[:5]}"


@pytest.fixture(autouse=True)
def national_calendar() -> Iterator[None]:
    workdays.configure()
    yield
    workdays.configure()


@pytest.mark.parametrize("seed", range(4))
def test_vector_equals_scalar_on_random_inputs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = 2500
    received = _receipts(rng, size)
    received[rng.random(size) < 0.03] = np.datetime64("NaT")
    period = rng.choice(np.array(PERIODS, dtype="float64"), size)
    units = [UNITS[i] for i in rng.integers(0, len(UNITS), size)]
    _compare(received, period, units)


def test_vector_equals_scalar_with_the_city_calendar() -> None:
    # The city works a national holiday and closes on days the package does not list.
    workdays.configure(
        extra=[date(2025, 10, 10), date(2024, 12, 31), date(2025, 5, 2)],
        removed=[date(2024, 10, 1), date(2025, 1, 27)],
    )
    rng = np.random.default_rng(7)
    days = np.arange("2024-09-20", "2025-11-01", dtype="datetime64[D]")
    received = np.repeat(days, 6).astype("datetime64[ns]")
    clocks = rng.choice([0, 9, 11, 12, 13, 15, 17, 18, 20], received.size) * 3_600_000_000_000
    received = received + clocks.astype("timedelta64[ns]")
    period = rng.choice(np.array([1, 2, 3, 5, 6, 7, 10, 20], dtype="float64"), received.size)
    units = [[None, "시간", "주", "월"][i] for i in rng.integers(0, 4, received.size)]
    _compare(received, period, units)


def test_every_period_from_each_day_of_a_holiday_season() -> None:
    # 추석 2025 with 개천절, 대체공휴일 and 한글날; 설날 2025 with its 임시공휴일; year end.
    days = np.concatenate(
        [
            np.arange("2025-09-26", "2025-10-15", dtype="datetime64[D]"),
            np.arange("2025-01-22", "2025-02-04", dtype="datetime64[D]"),
            np.arange("2024-12-24", "2025-01-06", dtype="datetime64[D]"),
        ]
    )
    grid = [(d, c, n, u) for d in days for c in (0, 10, 17) for n in range(1, 13)
            for u in (None, "시간", "주", "월", "년")]  # fmt: skip
    received = np.array([np.datetime64(d, "ns") + np.timedelta64(c, "h") for d, c, _, _ in grid])
    period = np.array([n for _, _, n, _ in grid], dtype="float64")
    _compare(received, period, [u for *_, u in grid])


def test_deadlines_that_do_not_fit_are_not_judged() -> None:
    received = np.array(["2025-03-10", "2262-03-10", "2262-04-01T10:00"], dtype="datetime64[ns]")
    due = workdays.civil_deadlines(received, [float("inf"), 30, 2])
    assert np.isnat(due).tolist() == [True, True, False]
    huge = workdays.civil_deadlines(received[:1].repeat(4), [1e5, 3000, 1e8, 1e300],
                                    ["일", "년", "시간", "주"])  # fmt: skip
    assert np.isnat(huge).all()
    assert workdays.civil_deadlines(np.array([], dtype="datetime64[ns]"), []).size == 0


def test_the_rule_functions_do_not_call_the_scalar_path(monkeypatch: pytest.MonkeyPatch) -> None:
    size = 3000
    rng = np.random.default_rng(1)
    received = pd.Series(_receipts(rng, size))
    frame = pd.DataFrame(
        {
            "received_at": received,
            "received_on": received.dt.normalize(),
            "decided_at": received + pd.to_timedelta(rng.integers(0, 40, size), unit="D"),
            "decided_on": pd.NaT,
            "legal_days": pd.array(rng.choice([1, 3, 6, 20], size), dtype="Int64"),
            "legal_unit": pd.array(rng.choice(["일", "시간", "월"], size), dtype="str"),
        }
    )
    types = column_types(datasets.get("permits"))
    calls = {"civil_deadline": 0, "holiday_array": 0}
    for name in calls:
        original = getattr(workdays, name)

        def counted(*args: object, _name: str = name, _f: object = original) -> object:
            calls[_name] += 1
            return _f(*args)  # type: ignore[operator]

        monkeypatch.setattr(workdays, name, counted)
    late = compile_expression(
        "is_late(coalesce(received_at, received_on), legal_days, "
        "coalesce(decided_at, decided_on), legal_unit)",
        types,
    ).evaluate(frame)
    assert calls == {"civil_deadline": 0, "holiday_array": 1}
    # ...and it agrees with the scalar rule row by row.
    due = _scalar(
        received.to_numpy(), frame["legal_days"].to_numpy(dtype="float64"),
        frame["legal_unit"].tolist(),
    )  # fmt: skip
    expected = [
        bool(d is not pd.NaT and dec > d) for d, dec in zip(due, frame["decided_at"], strict=True)
    ]
    assert late.tolist() == expected
    assert 0 < sum(expected) < size


def test_civil_deadline_function_on_tz_aware_receipts() -> None:
    frame = pd.DataFrame(
        {
            "r": pd.to_datetime(["2025-03-10 14:00", "2025-03-07 00:00"]).tz_localize("Asia/Seoul"),
            "n": [1.0, 6.0],
        }
    )
    due = compile_expression("civil_deadline(r, n)", {"r": "datetime", "n": "int"}, expect=None)
    assert due.evaluate(frame).tolist() == [
        pd.Timestamp(datetime(2025, 3, 11, 14)),
        pd.Timestamp(datetime(2025, 3, 14, 23, 59, 59)),
    ]
