"""Text read as dates, datetimes, times of day and yes/no values, for :mod:`naebu.connectors.coerce`.

Vectorized: regular expressions extract the parts of every value at once, pandas assembles
them; impossible dates (``2025-02-30``) and times (``25:00``) come out as NaT. See
:mod:`naebu.connectors.coerce` for the forms each type accepts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_BOOL_TRUE = ("y", "yes", "1", "1.0", "true", "t", "o", "예", "네", "참")
_BOOL_FALSE = ("n", "no", "0", "0.0", "false", "f", "x", "아니오", "아니요", "거짓")

# Date part: 2025-03-01, 2025.3.1, 2025/03/01, 2025년 3월 1일 (then anything, e.g. a time).
_DATE_SEP = r"^(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})(?!\d)\s*[.일]?"
_DATE_8 = r"^(\d{4})(\d{2})(\d{2})"
_TIME_COLON = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
_TIME_PLAIN = r"(\d{2})(\d{2})(\d{2})?"
_TZ = r"\s*(Z|[+-]\d{2}:?\d{2})?$"


def as_ns(parsed: pd.Series) -> pd.Series:
    """Parsed datetimes as ``datetime64[ns]``, the unit every frame holds; one outside its
    range (1677-09-22 .. 2262-04-11: a year typed 2825) is NaT, a bad value, where the
    conversion used to raise for the whole batch."""
    parsed = pd.Series(parsed)
    if parsed.dtype != "datetime64[ns]":
        parsed = parsed.where((parsed >= _NS_MIN) & (parsed <= _NS_MAX))
    return parsed.astype("datetime64[ns]")


_NS_MIN, _NS_MAX = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _ints(frame: pd.DataFrame, col: int | str) -> pd.Series:
    """A group of digits as float64 (NaN when absent), so date arithmetic never meets NA."""
    return pd.Series(_floats(pd.to_numeric(frame[col], errors="coerce")), index=frame.index)


def _floats(nums: pd.Series | np.ndarray) -> np.ndarray:
    """Numbers (possibly nullable Int64/Float64) as a float64 array with NaN for missing."""
    if isinstance(nums, np.ndarray):
        return nums.astype("float64")
    return nums.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _date(text: pd.Series) -> pd.Series:
    parts = text.str.extract(_DATE_SEP + r"(?:$|[ T])").combine_first(
        text.str.extract(_DATE_8 + r"(?:$|[ T])")
    )
    result = _assemble(parts, 0)
    serial = _excel_serial(text)
    return result.where(result.notna().to_numpy(), serial.to_numpy())


#: Excel's day zero (its 1900 calendar counts a 29 February 1900 that never was).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serial days read as dates: 1954-10-03 .. 2119-01-09. A narrower number in a date column is
#: more likely an id or an amount pasted in the wrong place than a date, and stays refused.
_EXCEL_SERIALS = (20_000, 80_000)


def _excel_serial(text: pd.Series) -> pd.Series:
    """Dates from spreadsheet serial day numbers (``45658`` or ``45658.0`` is 2025-01-01),
    as a column of an exported sheet holds when its date format was lost; NaT otherwise."""
    digits = text.str.fullmatch(r"\d{5}(?:\.0+)?").fillna(False).to_numpy(dtype=bool)
    days = pd.to_numeric(text.where(digits), errors="coerce").to_numpy(dtype="float64")
    low, high = _EXCEL_SERIALS
    days[(days < low) | (days > high)] = np.nan
    dates = _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    return pd.Series(dates, dtype="datetime64[ns]").reset_index(drop=True)


def _assemble(parts: pd.DataFrame, first: int) -> pd.Series:
    ymd = pd.DataFrame(
        {
            "year": _ints(parts, first),
            "month": _ints(parts, first + 1),
            "day": _ints(parts, first + 2),
        }
    )
    return as_ns(pd.to_datetime(ymd, errors="coerce")).reset_index(drop=True)


def _clock(parts: pd.DataFrame, first: int) -> pd.Series:
    """Time of day from hour, minute, second, fraction groups; NaT when out of range."""
    h, m = _ints(parts, first), _ints(parts, first + 1)
    s = _ints(parts, first + 2).fillna(0)
    frac = parts[first + 3].fillna("0") if first + 3 in parts else pd.Series("0", index=h.index)
    ns = pd.to_numeric(frac.str.ljust(9, "0").str.slice(0, 9), errors="coerce").fillna(0)
    ok = (h >= 0) & (h <= 23) & (m >= 0) & (m <= 59) & (s >= 0) & (s <= 59)
    secs = (h * 3600 + m * 60 + s).where(ok)
    return pd.to_timedelta(secs, unit="s").astype("timedelta64[ns]") + pd.to_timedelta(
        ns, unit="ns"
    )


def _datetime(text: pd.Series) -> pd.Series:
    sep = text.str.extract(_DATE_SEP + r"(?:[ T]+" + _TIME_COLON + r")?" + _TZ)
    plain = text.str.extract(_DATE_8 + r"(?:[ T]?" + _TIME_PLAIN + r")?" + _TZ)
    # Align both layouts on year, month, day, hour, minute, second, fraction, offset.
    plain = plain.rename(columns={6: 7})
    plain[6] = pd.NA
    parts = sep.combine_first(plain).reset_index(drop=True)
    day = _assemble(parts, 0)
    has_time = parts[3].notna()
    clock = _clock(parts, 3).where(has_time, pd.Timedelta(0))
    result = day + clock
    offset = parts[7]
    if offset.notna().any():
        sign = offset.str.slice(0, 1).map({"+": 1, "-": -1}).fillna(1)
        digits = offset.str.replace(r"\D", "", regex=True)
        minutes = _ints(pd.DataFrame({0: digits.str.slice(0, 2)}), 0) * 60 + _ints(
            pd.DataFrame({0: digits.str.slice(2, 4)}), 0
        )
        minutes = (sign * minutes).fillna(0).where(offset.notna(), 9 * 60)
        # Seoul is UTC+9 all year (no daylight saving since 1988).
        result = result + pd.to_timedelta((9 * 60 - minutes) * 60, unit="s")
    return result.astype("datetime64[ns]")


def _time(text: pd.Series) -> pd.Series:
    # A leading date (a datetime given where a time is expected) is dropped.
    t = text.str.replace(_DATE_SEP + r"[ T]+", "", regex=True)
    colon = t.str.extract("^" + _TIME_COLON + "$")
    plain = t.str.extract("^" + _TIME_PLAIN + "$")
    plain[3] = pd.NA
    parts = colon.combine_first(plain).reset_index(drop=True)
    return _clock(parts, 0)


def _bool(text: pd.Series) -> pd.Series:
    lower = text.str.casefold()
    result = pd.Series(pd.NA, index=text.index, dtype="boolean")
    result[lower.isin(_BOOL_TRUE).fillna(False)] = True
    result[lower.isin(_BOOL_FALSE).fillna(False)] = False
    return result.reset_index(drop=True)
