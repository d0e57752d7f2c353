"""The opening of a digest: how many alerts of each severity, the nearest deadlines and, for a
manager or an auditor, how many per department - what an official takes in before the list.

Counts cover every alert of the digest, also those a long digest only counts per rule.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from naebu.alerts.deadline_text import deadline_text
from naebu.engine.rule import SEVERITIES

#: Deadlines a digest's summary names (the nearest first, each with its number of alerts).
NEAREST = 3

#: What an alert without a department is counted under.
NO_DEPARTMENT = {"ko": "부서 미지정", "en": "no department"}


def _count(n: int, language: str) -> str:
    return f"{n:,}건" if language == "ko" else f"{n:,}"


def digest_summary(
    alerts: Sequence[Mapping[Any, Any]],
    severity_labels: Mapping[str, str],
    language: str,
    today: date | None,
    *,
    by_department: bool,
) -> dict[str, Any]:
    """The summary of a digest of ``alerts`` (rows with severity, deadline, department).

    ``severities``: ``심각 2건`` ... most severe first, severities without alerts left out;
    ``deadlines``: the :data:`NEAREST` earliest deadline days, each as read
    (:func:`naebu.alerts.deadline_text.deadline_text`) with its count; ``departments`` (only with
    ``by_department``, and only when there are two or more): the count per department, most
    first.
    """
    severities = Counter(a["severity"] for a in alerts)
    ordered = [s for s in reversed(SEVERITIES) if severities.get(s)]
    ordered += sorted(s for s in severities if s not in SEVERITIES)
    days: Counter[date] = Counter()
    for a in alerts:
        deadline = a["deadline"]
        if deadline is not None:
            days[deadline.date() if isinstance(deadline, datetime) else deadline] += 1
    departments: list[tuple[str, str]] = []
    if by_department:
        per = Counter(a["department"] or NO_DEPARTMENT.get(language, "-") for a in alerts)
        if len(per) > 1:
            departments = [
                (str(name), _count(n, language))
                for name, n in sorted(per.items(), key=lambda kv: (-kv[1], str(kv[0])))
            ]
    return {
        "severities": [
            (severity_labels.get(s, s), _count(severities[s], language)) for s in ordered
        ],
        "deadlines": [
            (deadline_text(day, today, language), _count(days[day], language))
            for day in heapq.nsmallest(NEAREST, days)
        ],
        "departments": departments,
    }
