"""naebu/core/formatting.py: numbers, amounts in 원 and days with their weekday, as every place an
official reads them writes them."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from naebu.alerts.deadline_text import deadline_date
from naebu.alerts.evidence_text import format_kind
from naebu.core.formatting import day_text, number, weekday, won
from naebu.engine.params_dated import shown
from naebu.reports.figures import won as report_won


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (1234567, 2, "1,234,567"),
        (1234567.0, 2, "1,234,567"),
        (np.float64(90000000.0), 2, "90,000,000"),
        (2.5, 2, "2.5"),
        (1234.5678, 2, "1,234.57"),
        (0.12345, 4, "0.1235"),
        (-1234.5, 2, "-1,234.5"),
        (1234.6, 0, "1,235"),  # no decimals: rounded, nothing stripped
        (10.4, 0, "10"),
    ],
)
def test_number(value: float, places: int, expected: str) -> None:
    assert number(value, places) == expected


def test_won() -> None:
    assert won(1234000) == "1,234,000원"
    assert won(1234.5, "en") == "KRW 1,234.5"
    assert won(1234.6, places=0) == "1,235원"
    assert report_won(1234000.0) == "1,234,000원" and report_won(None) == "해당 없음"
    assert format_kind(12000.0, "money") == won(12000.0) == "12,000원"


def test_days_with_their_weekday() -> None:
    seollal = date(2025, 1, 28)  # 설날 전날; the name is what the caller gives
    assert weekday(seollal) == "화" and weekday(seollal, "en") == "Tue"
    assert day_text(seollal, holiday="설날") == "2025-01-28(화, 설날)"
    assert day_text(seollal, "en", "설날") == "2025-01-28 (Tue, holiday 설날)"
    assert day_text(date(2025, 3, 14)) == "2025-03-14(금)"
    assert day_text(date(2025, 3, 14), "en") == "2025-03-14 (Fri)"


def test_every_reader_writes_the_same_forms() -> None:
    friday = datetime(2025, 3, 14, 23, 59, 59)
    assert deadline_date(friday) == day_text(friday.date()) == "2025-03-14(금)"
    assert deadline_date(friday, "en") == "Fri 2025-03-14"
    assert format_kind("2025-03-14", "date") == "2025-03-14(금)"
    assert format_kind("2025-01-29", "date") == "2025-01-29(수, 설날)"
    assert shown(20000000.0) == number(20000000.0) == "20,000,000"
    assert shown(0.12345) == "0.1235" and shown(True) == "예"
