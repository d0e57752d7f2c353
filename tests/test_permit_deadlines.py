"""Statutory deadlines of permits (민원 처리에 관한 법률 제19조) through both permit rules.

Every row of :data:`TABLE` was worked out by hand, on the 2024/2025 calendar, in its comment:
``received`` (an instant, or a day when the time of receipt is not known), the statutory period,
``decided`` (an instant, or a day), the deadline, and whether the decision is late. The city has
declared 2025-10-10 a holiday (``[calendar] extra_holidays``) for the whole table.

The rows go through PERMIT-LATE as decided permits, and through PERMIT-OPEN-OVERDUE as permits
still open when the run's clock reads ``decided`` (the end of that day for a day): its
``due_on`` is the 처리기한 as 새올 computes it, here ``civil_deadline()`` on the record, and it
fires once the deadline's day has fully passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pytest

from naebu.core import datasets, workdays
from naebu.core.problems import Problem
from naebu.engine.calendar_settings import apply, read_calendar
from naebu.engine.examples import records_frame
from naebu.engine.expr import compile_expression
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext
from naebu.engine.ruletypes.match import column_types
from naebu.settings.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CITY_HOLIDAY = date(2025, 10, 10)

# (id, received, period, unit, decided, deadline, late, open past its deadline's day)
Row = tuple[str, str, int, str, str, str, bool, bool]
TABLE: list[Row] = [
    # Weekend, 6 days counted in days, the day of receipt counted: Fri 3/7 (1), Mon 3/10 (2),
    # 11 (3), 12 (4), 13 (5), Fri 3/14 (6): due the end of 3/14. 7 calendar days, yet on time.
    ("W-1", "2025-03-07", 6, "", "2025-03-14", "2025-03-14 23:59:59", False, False),
    # Same, decided the next working day Mon 3/17: late.
    ("W-2", "2025-03-07", 6, "", "2025-03-17", "2025-03-14 23:59:59", True, True),
    # Public holidays: Mon 2025-06-02, 10 days; 6/3 (대통령선거일) and 6/6 (현충일) not counted:
    # 6/2 (1), 6/4 (2), 6/5 (3), 6/9-13 (4-8), 6/16 (9), 6/17 (10): due 6/17.
    ("H-1", "2025-06-02", 10, "", "2025-06-17", "2025-06-17 23:59:59", False, False),
    # Substitute holiday: Fri 2024-05-03, 7 days; 5/6 is the 어린이날 대체공휴일:
    # 5/3 (1), 5/7-10 (2-5), 5/13 (6), 5/14 (7): due 5/14 (5/15 is 부처님오신날).
    ("S-1", "2024-05-03", 7, "", "2024-05-14", "2024-05-14 23:59:59", False, False),
    # Temporary holiday 2024-10-01 (국군의날 임시공휴일), hour rule: Mon 2024-09-30 16:00, 2 days
    # = 16 working hours: Mon 16-18 (2 h), Tue 10/1 holiday, Wed 10/2 (10 h), Thu 10/3 개천절,
    # Fri 10/4 09-12 (13 h), 13-16 (16 h): due Fri 10/4 16:00. Decided that day (no time): on time.
    ("T-1", "2024-09-30 16:00", 2, "", "2024-10-04", "2024-10-04 16:00:00", False, False),
    # Same, decided Fri 10/4 17:00: an hour late, still the deadline's day for the open rule.
    ("T-2", "2024-09-30 16:00", 2, "", "2024-10-04 17:00", "2024-10-04 16:00:00", True, False),
    # Temporary holiday 2025-01-27 and 설날 1/28-30: Thu 2025-01-23, 6 days: 1/23 (1), 1/24 (2),
    # 1/31 (3), 2/3 (4), 2/4 (5), 2/5 (6): due 2/5, 13 calendar days after receipt.
    ("T-3", "2025-01-23", 6, "", "2025-02-05", "2025-02-05 23:59:59", False, False),
    # City holiday 2025-10-10 after 개천절 and 추석: Thu 2025-10-02, 6 days: 10/2 (1); 10/3,
    # 10/6-8 (추석, 대체공휴일), 10/9 (한글날), 10/10 (the city's) not counted; 10/13-17 (2-6):
    # due 10/17. Without the city's holiday it would be 10/16 (test below).
    ("C-1", "2025-10-02", 6, "", "2025-10-17", "2025-10-17 23:59:59", False, False),
    # 5-day hour rule from the time of receipt: Wed 2025-03-12 14:30, 5 days = 40 h: Wed 3.5 h,
    # Thu 3/13 (11.5), Fri (19.5), Mon 3/17 (27.5), Tue (35.5), Wed 3/19 09-12 (38.5),
    # 13:00-14:30 (40): due Wed 3/19 14:30. Decided 3/19: on time (7 calendar days).
    ("R-1", "2025-03-12 14:30", 5, "", "2025-03-19", "2025-03-19 14:30:00", False, False),
    # Lunch hour not counted: Mon 2025-03-17 10:30, 1 day = 8 h: 10:30-12 (1.5), 13-18 (6.5),
    # Tue 09:00-10:30 (8): due Tue 3/18 10:30. Decided 11:00: late although 1 calendar day.
    ("R-2", "2025-03-17 10:30", 1, "", "2025-03-18 11:00", "2025-03-18 10:30:00", True, False),
    # Received after hours: Fri 2025-03-14 19:00, 1 day: the clock starts Mon 3/17 09:00,
    # due Mon 18:00. Decided Mon 17:00: on time (3 calendar days).
    ("R-3", "2025-03-14 19:00", 1, "", "2025-03-17 17:00", "2025-03-17 18:00:00", False, False),
    # Time of receipt unknown: Fri 2025-03-14, 2 days = 16 h, counted from after Friday's
    # working hours (the latest receipt that day): Mon 3/17 (8), Tue 3/18 (16): due Tue 18:00.
    ("R-4", "2025-03-14", 2, "", "2025-03-18", "2025-03-18 18:00:00", False, False),
    # Period in hours: Mon 2025-03-17 16:00, 3 시간: 16-18 (2), Tue 09-10 (3): due Tue 10:00.
    ("R-5", "2025-03-17 16:00", 3, "시간", "2025-03-18 11:00", "2025-03-18 10:00:00", True, False),
    # Period in months: Mon 2025-03-10, 1 month, the first day counted (민법 제160조): ends
    # the day before 4/10, Wed 4/9: due 4/9; decided 4/9 on time.
    ("M-1", "2025-03-10", 1, "월", "2025-04-09", "2025-04-09 23:59:59", False, False),
    # Decided Thu 4/10: late, and the open rule sees 4/9 fully passed.
    ("M-2", "2025-03-10", 1, "월", "2025-04-10", "2025-04-09 23:59:59", True, True),
    # Month ending on a Saturday: Thu 2025-05-01, 1 month ends Sat 5/31; Sun 6/1; the next
    # working day is Mon 6/2 (민법 제161조): due 6/2.
    ("M-3", "2025-05-01", 1, "월", "2025-06-02", "2025-06-02 23:59:59", False, False),
    # Month with no corresponding day: Fri 2025-01-31, 1 month: February has no 31st, the
    # period ends on its last day, Fri 2/28 (민법 제160조③). Decided Tue 3/4 (3/3 is the 3·1절
    # 대체공휴일): late.
    ("M-4", "2025-01-31", 1, "월", "2025-03-04", "2025-02-28 23:59:59", True, True),
    # Weeks: Wed 2025-09-24, 2 weeks: ends 9/24 + 13 = Tue 10/7 (추석), then 10/8 대체공휴일,
    # 10/9 한글날, 10/10 the city's, the weekend: due Mon 10/13.
    ("K-1", "2025-09-24", 2, "주", "2025-10-13", "2025-10-13 23:59:59", False, False),
    # 20 days: Mon 2025-02-03 (1) ... Fri 2/28 (20); decided Tue 3/4 (3/3 대체공휴일): late.
    ("D-1", "2025-02-03", 20, "", "2025-03-04", "2025-02-28 23:59:59", True, True),
]


def _at(text: str) -> datetime:
    return (
        datetime.fromisoformat(text)
        if " " in text
        else datetime.combine(date.fromisoformat(text), time(0))
    )


@pytest.fixture(autouse=True)
def city_calendar() -> Iterator[None]:
    """The table's city: 2025-10-10 declared a holiday; the national calendar again after."""
    workdays.configure(extra=[CITY_HOLIDAY])
    yield
    workdays.configure()


@pytest.fixture(scope="module")
def rules() -> dict:
    loaded = load_rules([ROOT / "rules" / "permits"])
    assert not loaded.problems, loaded.problems
    return loaded.by_id()


def _records(decided: bool) -> pd.DataFrame:
    rows = []
    for pid, received, n, unit, when, _due, _late, _open in TABLE:
        row = {"permit_id": pid, "received_on": received[:10], "legal_days": n}
        if " " in received:
            row["received_at"] = received
        if unit:
            row["legal_unit"] = unit
        if decided:
            row["decided_on"] = when[:10]
            if " " in when:
                row["decided_at"] = when
        rows.append(row)
    frame, bad = records_frame(datasets.get("permits"), rows, "P", "table")
    assert not bad, bad
    return frame


def test_table_covers_what_issue_26_asks() -> None:
    assert len(TABLE) >= 12
    units = {row[3] for row in TABLE}
    assert {"", "월", "주", "시간"} <= units
    assert {row[6] for row in TABLE} == {True, False} and {row[7] for row in TABLE} == {True, False}


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_deadline_worked_by_hand(row: Row) -> None:
    _pid, received, n, unit, _decided, due, _late, _open = row
    assert workdays.civil_deadline(_at(received), n, unit or None) == datetime.fromisoformat(due)


def test_permit_late_fires_exactly_on_the_late_rows(rules: dict) -> None:
    frame = _records(decided=True)
    findings = rules["PERMIT-LATE"].evaluate(
        {"permits": frame}, EvalContext(now=datetime(2100, 1, 1))
    )
    assert {f.record_key for f in findings} == {row[0] for row in TABLE if row[6]}


def test_permit_late_fires_on_none_of_them_before_a_decision(rules: dict) -> None:
    frame = _records(decided=False)
    findings = rules["PERMIT-LATE"].evaluate(
        {"permits": frame}, EvalContext(now=datetime(2100, 1, 1))
    )
    assert findings == []


def _with_due_on(frame: pd.DataFrame) -> pd.DataFrame:
    """``due_on`` as 새올 fills it: the statutory deadline's day."""
    due = compile_expression(
        "civil_deadline(coalesce(received_at, received_on), legal_days, legal_unit)",
        column_types(datasets.get("permits")),
        expect=None,
    ).evaluate(frame)
    return frame.assign(due_on=due.dt.normalize())


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_open_overdue_by_the_run_clock(rules: dict, row: Row) -> None:
    pid, _received, _n, _unit, decided, _due, _late, overdue = row
    frame = _with_due_on(_records(decided=False))
    frame = frame[frame["permit_id"] == pid]
    clock = (
        _at(decided)
        if " " in decided
        else datetime.combine(date.fromisoformat(decided), time(23, 59, 59))
    )
    findings = rules["PERMIT-OPEN-OVERDUE"].evaluate({"permits": frame}, EvalContext(now=clock))
    assert [f.record_key for f in findings] == ([pid] if overdue else [])


def test_without_the_city_holiday_the_deadline_is_a_day_earlier() -> None:
    workdays.configure()
    assert workdays.civil_deadline(date(2025, 10, 2), 6) == datetime(2025, 10, 16, 23, 59, 59)
    assert workdays.civil_deadline(date(2025, 9, 24), 2, "주") == datetime(2025, 10, 10, 23, 59, 59)


def test_calendar_days_would_call_most_lawful_rows_late() -> None:
    """What the issue reports: counted in calendar days, lawful decisions look late."""
    lawful = [r for r in TABLE if not r[6]]
    by_calendar = [r for r in lawful if (_at(r[4]).date() - _at(r[1]).date()).days > r[2]]
    assert len(by_calendar) >= 8


# -- the workday module ---------------------------------------------------------------------
def test_substitute_and_temporary_holidays() -> None:
    assert workdays.is_holiday(date(2024, 5, 6))  # 어린이날 대체공휴일
    assert workdays.is_holiday(date(2024, 10, 1))  # 국군의날 임시공휴일
    assert workdays.is_holiday(date(2025, 1, 27))  # 설 연휴 임시공휴일
    assert not workdays.is_working_day(date(2025, 3, 3))  # 3·1절 대체공휴일
    assert not workdays.is_holiday(date(2025, 3, 8))  # a Saturday is no holiday...
    assert not workdays.is_working_day(date(2025, 3, 8))  # ...and no working day
    assert workdays.is_working_day(date(2025, 3, 7))


def test_city_configured_extra_and_removed_holidays() -> None:
    assert workdays.is_holiday(CITY_HOLIDAY)  # the fixture's city
    workdays.configure()
    assert workdays.is_working_day(CITY_HOLIDAY)
    workdays.configure(removed=[date(2024, 10, 1)])
    assert workdays.is_working_day(date(2024, 10, 1))
    assert date(2024, 10, 1) not in workdays.holiday_array((2024,)).astype(date).tolist()


def test_extra_holiday_reaches_expressions_and_alert_deadlines() -> None:
    from naebu.core.workdays import add_business_days

    frame = pd.DataFrame({"d": pd.to_datetime(["2025-10-10", "2025-10-13"])})
    holiday = compile_expression("is_holiday(d)", {"d": "date"})
    business = compile_expression("business_days_between(d, d)", {"d": "date"}, expect=None)
    assert holiday.evaluate(frame).tolist() == [True, False]
    assert business.evaluate(frame).tolist() == [0, 0]
    # Alert raised Thu 2025-10-02 with 2 business days: 10/3-10/10 are all holidays here.
    assert add_business_days(datetime(2025, 10, 2, 10), 2) == datetime(2025, 10, 14, 23, 59, 59)
    workdays.configure()
    assert holiday.evaluate(frame).tolist() == [False, False]
    assert add_business_days(datetime(2025, 10, 2, 10), 2) == datetime(2025, 10, 13, 23, 59, 59)


def test_working_hours_skip_lunch_evenings_and_holidays() -> None:
    assert workdays.add_working_hours(datetime(2025, 3, 17, 11, 30), 1) == datetime(
        2025, 3, 17, 13, 30
    )
    assert workdays.add_working_hours(datetime(2025, 3, 17, 9), 3) == datetime(2025, 3, 17, 12)
    assert workdays.add_working_hours(datetime(2025, 3, 17, 12, 30), 1) == datetime(2025, 3, 17, 14)
    assert workdays.add_working_hours(datetime(2025, 1, 24, 17), 2) == datetime(2025, 1, 31, 10)


def test_periods_that_are_not_judged() -> None:
    assert workdays.civil_deadline(date(2025, 3, 10), 0) is None
    assert workdays.civil_deadline(date(2025, 3, 10), 2.5) is None
    assert workdays.civil_deadline(date(2025, 3, 10), 3, "fortnight") is None
    assert workdays.civil_deadline(date(2025, 3, 10), 1, "개월") == datetime(2025, 4, 9, 23, 59, 59)
    assert workdays.civil_deadline(date(2024, 2, 29), 1, "년") == datetime(2025, 2, 28, 23, 59, 59)


def test_civil_deadline_function_nulls() -> None:
    cols = {"r": "date", "n": "int", "d": "date"}
    frame = pd.DataFrame(
        {
            "r": pd.to_datetime(["2025-03-07", None, "2025-03-07"]),
            "n": pd.array([6, 6, None], dtype="Int64"),
            "d": pd.to_datetime(["2025-03-17", "2025-03-17", "2025-03-17"]),
        }
    )
    late = compile_expression("is_late(r, n, d)", cols).evaluate(frame)
    assert late.tolist() == [True, False, False]


def test_calendar_section_of_the_config(tmp_path: Path) -> None:
    problems: list[Problem] = []
    parsed = read_calendar(
        {"extra_holidays": ["2025-10-10"], "removed_holidays": []}, problems, "c.toml"
    )
    assert problems == [] and parsed.extra_holidays == (CITY_HOLIDAY,)
    workdays.configure()
    apply(parsed)
    assert workdays.is_holiday(CITY_HOLIDAY)

    read_calendar({"extra_holiday": [], "removed_holidays": ["10/10"]}, problems, "c.toml")
    text = "\n".join(str(p) for p in problems)
    assert "c.toml: calendar.extra_holiday: unknown key - did you mean 'extra_holidays'?" in text
    assert "calendar.removed_holidays: '10/10' is not a day - write it as YYYY-MM-DD" in text

    workdays.configure()
    config = tmp_path / "config.toml"
    config.write_text("[calendar]\nextra_holidays = [2025-10-10]\n", encoding="utf-8")
    assert load_config(config).calendar.extra_holidays == (CITY_HOLIDAY,)
    assert workdays.is_holiday(CITY_HOLIDAY)
