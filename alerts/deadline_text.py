"""Deadlines as officials read them: the weekday, and how many days are left or overdue.

One formatter for every place a deadline shows (digests, follow-ups, ``naebu alerts``, the
web inbox), so a deadline reads the same everywhere::

    2025-03-14(금) 마감, D-3        Fri 2025-03-14, 3 days left
    2025-03-14(금) 마감, D-day      Fri 2025-03-14, due today
    2025-03-14(금) 마감, 기한 3일 지남   Fri 2025-03-14, 3 days overdue

Days are calendar days between the deadline's date and ``today`` (the run's clock, so a
``--now`` replay reads as it would have on that day): a deadline is the end of its day, so an
alert due today is not yet overdue. Without ``today`` only the date and weekday are written.
"""

from __future__ import annotations

from datetime import date, datetime

from naebu.core.formatting import day_text, weekday

#: What a missing deadline reads as.
NO_DEADLINE = "-"


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def days_left(deadline: date | datetime, today: date | datetime) -> int:
    """Calendar days from ``today`` to ``deadline``'s date: 0 due today, negative overdue."""
    return (_day(deadline) - _day(today)).days


def is_overdue(deadline: date | datetime | None, today: date | datetime | None) -> bool:
    """True when ``deadline`` is a day before ``today`` (False without either)."""
    if deadline is None or today is None:
        return False
    return days_left(deadline, today) < 0


def deadline_date(deadline: date | datetime, language: str = "ko") -> str:
    """The deadline's date with its weekday: ``2025-03-14(금)``, ``Fri 2025-03-14``."""
    day = _day(deadline)
    if language == "en":  # the weekday first, as English writes a due date
        return f"{weekday(day, 'en')} {day.isoformat()}"
    return day_text(day, "ko")


def countdown(deadline: date | datetime, today: date | datetime, language: str = "ko") -> str:
    """How far off the deadline is: ``D-3``, ``D-day``, ``기한 3일 지남`` (or the English)."""
    n = days_left(deadline, today)
    if language == "en":
        if n == 0:
            return "due today"
        if n > 0:
            return f"{n} day{'s' if n != 1 else ''} left"
        return f"{-n} day{'s' if n != -1 else ''} overdue"
    if n == 0:
        return "D-day"
    if n > 0:
        return f"D-{n}"
    return f"기한 {-n}일 지남"


def deadline_text(
    deadline: date | datetime | str | None,
    today: date | datetime | None = None,
    language: str = "ko",
) -> str:
    """A deadline as officials read it (see the module's examples); ``-`` for none.

    ``deadline`` may be an ISO text (a trail entry's details keep it so); one that is not a
    date is shown as given, never dropped.
    """
    if deadline is None or deadline == "":
        return NO_DEADLINE
    if isinstance(deadline, str):
        text = deadline
        try:
            deadline = datetime.fromisoformat(text)
        except ValueError:
            return text
    shown = deadline_date(deadline, language)
    if today is None:
        return shown
    if language == "en":
        return f"{shown}, {countdown(deadline, today, language)}"
    return f"{shown} 마감, {countdown(deadline, today, language)}"
