"""Text the way source systems export it: dates, amounts and coded values in their own words.

Helpers for :mod:`naebu.demo.export_ledgers`. Each takes a canonical column and returns an
object array of the text a system writes (``""`` for a missing value), vectorised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Date forms of the demo's source systems.
YMD = "%Y%m%d"  # 20250312 (e-호조, 카드사)
DOTS = "%Y.%m.%d"  # 2025.03.12 (인사, 공유재산)
ISO = "%Y-%m-%d"  # 2025-03-12 (새올)


@dataclass
class ExportFile:
    """One file (or SQLite table) a source system hands over.

    ``path`` is relative to the exports folder; ``frame`` holds the source columns (Korean
    headers) as text, or as typed values for XLSX cells and SQLite columns; ``title`` the lines
    above the header (so the header is on row ``len(title) + 1``); ``table`` the SQLite table
    (``path`` is then the database file).
    """

    dataset: str
    path: str
    frame: pd.DataFrame
    encoding: str = "cp949"
    title: tuple[str, ...] = ()
    table: str | None = None

    @property
    def header_row(self) -> int:
        """The 1-based row holding the header."""
        return len(self.title) + 1

    @property
    def kind(self) -> str:
        """``csv``, ``xlsx`` or ``sqlite``."""
        if self.table is not None:
            return "sqlite"
        return "xlsx" if self.path.endswith(".xlsx") else "csv"


def days(s: pd.Series, fmt: str) -> np.ndarray:
    """Days as text in ``fmt``; ``""`` where missing."""
    d = pd.to_datetime(s)
    out = d.dt.strftime(fmt).to_numpy(dtype=object)
    out[d.isna().to_numpy()] = ""
    return out


def stamps(s: pd.Series) -> np.ndarray:
    """Instants as ``2025-03-12 14:30:29``; ``""`` where missing."""
    return days(s, "%Y-%m-%d %H:%M:%S")


def clock(s: pd.Series) -> np.ndarray:
    """Times of day (timedeltas) as ``14:30:29``; ``""`` where missing."""
    secs = s.dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(s), "", dtype=object)
    ok = ~np.isnan(secs)
    v = secs[ok].astype(np.int64)
    out[ok] = [
        f"{h:02d}:{m:02d}:{x:02d}" for h, m, x in zip(v // 3600, v // 60 % 60, v % 60, strict=True)
    ]
    return out


def amounts(s: pd.Series, unit: str = "") -> np.ndarray:
    """Whole KRW amounts with thousands separators (``1,234,000``, or ``1,234,000원`` with
    ``unit="원"``); ``""`` where missing."""
    v = s.to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(v), "", dtype=object)
    ok = ~np.isnan(v)
    out[ok] = [f"{int(x):,}{unit}" for x in v[ok]]
    return out


def numbers(s: pd.Series, unit: str = "") -> np.ndarray:
    """Numbers as plain text (``3``, ``2.5``) followed by ``unit``; ``""`` where missing."""
    v = s.to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(v), "", dtype=object)
    ok = ~np.isnan(v)
    out[ok] = [f"{x:g}{unit}" for x in v[ok]]
    return out


def text(s: pd.Series) -> np.ndarray:
    """Text cells, ``""`` where missing."""
    out = s.to_numpy(dtype=object, copy=True)
    out[pd.isna(out)] = ""
    return out


def words(
    s: pd.Series, vocabulary: Mapping[str, str | Sequence[str]], rng: np.random.Generator
) -> np.ndarray:
    """Canonical codes in a source system's words; a tuple of words is drawn from per row
    (one system writes 수의 as ``수의계약``, ``1인 수의`` or ``2인 이상 견적``).
    Codes not in ``vocabulary`` pass unchanged; ``""`` where missing."""
    v = text(s)
    out = v.copy()
    draw = rng.integers(0, 1 << 30, len(v))
    for code, said in vocabulary.items():
        at = v == code
        if isinstance(said, str):
            out[at] = said
        else:
            options = np.array(said, dtype=object)
            out[at] = options[draw[at] % len(options)]
    return out


def frame(columns: Mapping[str, object]) -> pd.DataFrame:
    """A frame of source columns, in the given order, every column an object array."""
    return pd.DataFrame(
        {k: pd.Series(np.asarray(v, dtype=object), dtype=object) for k, v in columns.items()}
    )
