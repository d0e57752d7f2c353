"""The ``[calendar]`` section of the config: the city's changes to the holiday calendar.

```toml
[calendar]
extra_holidays = ["2025-10-10"]     # a 임시공휴일 declared after this naebu release, a local holiday
removed_holidays = ["2026-05-01"]   # a day the holiday package lists that the city's offices work
```

Days are ``YYYY-MM-DD`` texts or TOML dates. The section feeds :mod:`naebu.core.workdays`, the one
calendar statutory deadlines (``civil_deadline``, ``is_late``), the holiday functions of rules
and alert deadlines count on; :func:`apply` puts it in force when the config is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from naebu.core import workdays
from naebu.core.problems import Problem, did_you_mean

CALENDAR_KEYS = ("extra_holidays", "removed_holidays")
_HINT = 'a list of days, e.g. extra_holidays = ["2025-10-10"]'


@dataclass(frozen=True)
class CalendarConfig:
    """The city's extra and removed holidays."""

    extra_holidays: tuple[date, ...] = ()
    removed_holidays: tuple[date, ...] = ()


def read_calendar(raw: dict[str, Any], problems: list[Problem], file: str) -> CalendarConfig:
    """Parse the ``[calendar]`` table; every mistake becomes a :class:`Problem` in ``problems``."""
    for key in raw:
        if key not in CALENDAR_KEYS:
            hint = did_you_mean(key, CALENDAR_KEYS) or "keys: " + ", ".join(CALENDAR_KEYS)
            problems.append(Problem(file, "unknown key", key=f"calendar.{key}", hint=hint))
    days = {key: _days(raw.get(key, []), key, problems, file) for key in CALENDAR_KEYS}
    both = set(days["extra_holidays"]) & set(days["removed_holidays"])
    for day in sorted(both):
        problems.append(
            Problem(
                file,
                f"{day.isoformat()} is both added and removed",
                key="calendar.removed_holidays",
                hint="keep it in one of the two lists",
            )
        )
    return CalendarConfig(days["extra_holidays"], days["removed_holidays"])


def _days(value: Any, key: str, problems: list[Problem], file: str) -> tuple[date, ...]:
    where = f"calendar.{key}"
    if not isinstance(value, list):
        problems.append(Problem(file, "must be a list of days", key=where, hint=_HINT))
        return ()
    out: list[date] = []
    for item in value:
        if isinstance(item, datetime):
            item = item.date()
        if isinstance(item, date):
            out.append(item)
            continue
        try:
            out.append(date.fromisoformat(str(item).strip()))
        except ValueError:
            problems.append(
                Problem(file, f"{item!r} is not a day", key=where, hint="write it as YYYY-MM-DD")
            )
    return tuple(out)


def apply(config: CalendarConfig) -> None:
    """Put the city's holidays in force for every working-day calculation of this process."""
    workdays.configure(config.extra_holidays, config.removed_holidays)
