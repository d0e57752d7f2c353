"""``settle``: how long a ``sequence`` rule waits for late records before judging an absence.

A daemon sees a city in slices, and records are keyed in late: an inspection is entered up to
two days after the payment it vouches for. Judged the moment its window closes, the payment
is "paid before inspection" until the inspection arrives; the alert is then withdrawn
(:mod:`naebu.alerts.withdrawal`), but its official was told twice for nothing.

``settle = "2d"`` on a rule with ``expect = "absent"`` or ``"before"`` makes it judge a record
only once its window closed ``settle`` ago by the run's clock, so records keyed in up to that
late are there when it is judged. One run over everything waits exactly as long, so slices and
one full run still find the same. Withdrawal stays the guarantee for records later than
``settle``; ``settle`` only spares officials the raise-then-withdraw churn, at the price of
learning of a finding that much later. With ``expect = "present"`` a late record can only add a
presence, never take one away: ``settle`` has no use there and is refused.

The value is ``"<N>d"`` or ``"<N>h"`` (whole days when the sides' times are calendar dates),
at most :data:`LONGEST`; absent means ``"0d"`` (judged as soon as the window closes).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from naebu.engine.registry import ProblemFactory

#: A longer wait would hold back every finding of the rule for over a month.
LONGEST = timedelta(days=31)
_SETTLE_RE = re.compile(r"^\s*(\d+)\s*([dh])\s*$")
_HINT = 'write "2d" (days) or "12h" (hours), at most "31d"'


def read_settle(
    raw: Any, expect: str | None, by_day: bool, problem: ProblemFactory
) -> timedelta | None:
    """The rule's settling period (zero when absent), or None after reporting a problem."""
    if raw is None:
        return timedelta(0)
    if not isinstance(raw, str):
        return None  # the loader has reported the type already
    found = _SETTLE_RE.match(raw)
    if not found:
        problem("settle", f"cannot read {raw!r} as a settling period", _HINT)
        return None
    n, unit = int(found.group(1)), found.group(2)
    settle = timedelta(days=n) if unit == "d" else timedelta(hours=n)
    if settle > LONGEST:
        problem("settle", f"{raw!r} is longer than {LONGEST.days} days", _HINT)
        return None
    if by_day and settle % timedelta(days=1):
        problem(
            "settle",
            f"{raw!r} is not whole days, but the times are calendar dates",
            'write days, e.g. "2d"',
        )
        return None
    if expect == "present" and settle:
        problem(
            "settle",
            'has no effect with expect = "present": a late record can only add a presence',
            "leave settle out",
        )
        return None
    return settle
