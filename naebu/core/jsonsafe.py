"""Values made storable as JSON: the one converter every stored or hashed value goes through.

Evidence (alerts/raising.py), quarantined source rows (connectors/coerce.py), audit-trail
details (alerts/trail.py) and rule versions (naebu/rulechanges.py) are written as JSON and
hashed, so they must agree on how a value is written:

- ``None``, text, booleans and integers stay as they are;
- a float stays a float, but NaN and infinity become ``None`` (JSON has neither);
- ``pd.NA``, ``pd.NaT`` and numpy's NaN / NaT become ``None``;
- numpy scalars are unboxed (``np.int64(3)`` -> ``3``);
- dates, times and date-times (``pd.Timestamp`` too) become ISO text (``isoformat()``);
- **Decimal** (what SQL ``NUMERIC`` columns read as) is never made a float, which would round
  it: a whole one becomes an ``int`` (``Decimal("12000.00")`` -> ``12000``), any other its exact
  text (``Decimal("1.5")`` -> ``"1.5"``); a Decimal NaN or infinity becomes ``None``;
- bytes are decoded as UTF-8 (undecodable bytes replaced);
- mappings become dicts with text keys, lists, tuples and sets become lists, converted inside;
- anything else becomes its ``str()``.

Part of the bottom floor: it imports nothing of the project. A caller that needs another form
on purpose (evidence writes dates as ``YYYY-MM-DD``, engine/evidence.py) wraps :func:`json_safe`
rather than copying it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pandas as pd

__all__ = ["json_decimal", "json_safe"]


def json_decimal(value: Decimal) -> int | str | None:
    """A Decimal as JSON without rounding: an int when whole, else its exact text; None for
    NaN and infinity."""
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return int(value)
    return str(value)


def json_safe(value: Any) -> Any:
    """``value`` as a JSON-safe value, by the rules of this module's docstring."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else float(value)  # np.float64 too
    if value is pd.NaT:  # a datetime subclass: before the dates
        return None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return json_decimal(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    try:
        if pd.isna(value) is True:  # pd.NA, numpy nan and NaT
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "isoformat"):  # numpy-free date-like objects
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return json_safe(value.item())
    return str(value)
