"""Values as officials read them: numbers with separators, amounts in 원, days with their weekday.

The one place these forms are written, so an amount or a date reads the same in evidence
(alerts/evidence_text.py), deadlines (alerts/deadline_text.py), parameters shown by ``naebu
check`` (engine/params_dated.py) and reports (naebu/reports/figures.py)::

    number(1234567)          1,234,567        number(2.5)           2.5
    won(1234.5)              1,234.5원        won(1234.5, "en")     KRW 1,234.5
    won(1234.5, places=0)    1,234원
    day_text(date(2025, 1, 28), holiday="설날")            2025-01-28(화, 설날)
    day_text(date(2025, 1, 28), "en", holiday="설날")      2025-01-28 (Tue, holiday 설날)

Part of the bottom floor: it imports nothing of the project. A holiday's name is given by the
caller (naebu/core/workdays.py knows the calendar).
"""

from __future__ import annotations

from datetime import date

__all__ = ["WEEKDAYS", "day_text", "number", "weekday", "won"]

#: Short weekday names, Monday first (``date.weekday()`` indexes them).
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "ko": ("월", "화", "수", "목", "금", "토", "일"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def number(value: float | int, places: int = 2) -> str:
    """A number with thousands separators: whole values without decimals (a whole float too),
    others with at most ``places`` decimals, trailing zeros dropped (``2.5``, ``1,234.57``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if places > 0 else text


def won(value: float | int, language: str = "ko", places: int = 2) -> str:
    """An amount of money: ``1,234원``, in English ``KRW 1,234`` (see :func:`number`)."""
    shown = number(value, places)
    return f"{shown}원" if language == "ko" else f"KRW {shown}"


def weekday(day: date, language: str = "ko") -> str:
    """The day's short weekday name: ``금``, ``Fri`` (English for a language not known)."""
    return WEEKDAYS.get(language, WEEKDAYS["en"])[day.weekday()]


def day_text(day: date, language: str = "ko", holiday: str | None = None) -> str:
    """A date with its weekday and, on a holiday, the holiday's name: ``2025-01-28(화, 설날)``,
    ``2025-01-28 (Tue, holiday 설날)``, ``2025-03-14(금)``."""
    text = day.isoformat()
    if language == "ko":
        return f"{text}({weekday(day, 'ko')}, {holiday})" if holiday else f"{text}({weekday(day)})"
    name = weekday(day, "en")
    return f"{text} ({name}, holiday {holiday})" if holiday else f"{text} ({name})"
