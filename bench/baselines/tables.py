"""The tables the DuckDB and Polars baselines query: the canonical frames, loaded once.

A competent analyst loads the data once, typed and cleaned, and then writes each rule as one
query over those tables. So does the benchmark: :func:`prepare` turns the frames naebu
evaluates into plain columns (``date`` columns as dates), and adds the cleaned forms the rules
compare - computed here once, not inside every query:

- ``*_n``: text in NFKC form, trimmed, inner whitespace collapsed (naebu's ``normalize``);
- ``*_d``: the digits of an account number, null when it has none (``digits``);
- ``*_bare``: NFKC text without any whitespace (what ``contains_any`` compares);
- ``attendee_n``: the number of people the attendee text names (``attendee_count``; the
  parser of the officials' free text is the one rule-specific piece no SQL dialect has);
- ``due_at``: a permit's statutory deadline (``civil_deadlines`` on the column: the 민원처리법 calendar
  arithmetic, holidays included, that an analyst takes from a shared library too);
- a ``holidays`` table of the Korean public holidays of the years the data spans.

The text columns are already trimmed and blank-as-null in the frames (the connectors do it),
so the queries use them as they are. The time this takes is reported apart (``prepare``
seconds), next to the engines' own loading (``load`` seconds).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from naebu.core import datasets, workdays
from naebu.engine.expr.functions_attendees import count_attendees

#: Derived columns: dataset -> {new column: (kind, source column)}.
DERIVED: dict[str, dict[str, tuple[str, str]]] = {
    "card_transactions": {"merchant_name_n": ("normalize", "merchant_name"),
                          "merchant_category_n": ("normalize", "merchant_category"),
                          "attendee_n": ("attendees", "attendees_text")},
    "payments": {"payee_account_d": ("digits", "payee_account"),
                 "payee_name_n": ("normalize", "payee_name")},
    "vendors": {"account_no_d": ("digits", "account_no")},
    "employees": {"name_n": ("normalize", "name")},
    "receipts": {"account_no_d": ("digits", "account_no")},
    "accounts": {"account_no_d": ("digits", "account_no")},
    "contracts": {"title_bare": ("bare", "title")},
    "levies": {"reduction_reason_bare": ("bare", "reduction_reason")},
}  # fmt: skip


def _per_distinct(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``fn`` applied once per distinct non-null value (names and accounts repeat a lot)."""
    codes, uniques = pd.factorize(series)
    mapped = np.array([None, *(fn(v) for v in uniques)], dtype=object)
    return pd.Series(mapped[codes + 1], index=series.index, dtype=object)


def normalize(text: str) -> str | None:
    """naebu's ``normalize``: NFKC, trimmed, whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split()) or None


def digits(text: str) -> str | None:
    """naebu's ``digits``: the digits (NFKC first), null when none."""
    found = "".join(ch for ch in unicodedata.normalize("NFKC", text) if "0" <= ch <= "9")
    return found or None


def bare(text: str) -> str:
    """NFKC without whitespace: what ``contains_any`` compares."""
    return "".join(unicodedata.normalize("NFKC", text).split())


KINDS = {"normalize": normalize, "digits": digits, "bare": bare, "attendees": count_attendees}


def holiday_days(days: list[object]) -> list[object]:
    """The public holidays of the years ``days`` span (a year more on each side)."""
    values = np.asarray([d for d in days if d is not None], dtype="datetime64[D]")
    return [d.astype(object) for d in workdays.holidays_for(values)]


def deadlines(received: object, period: object, unit: object) -> np.ndarray:
    """Statutory deadlines of whole columns (NaT where not judged): naebu's vectorised
    ``civil_deadlines``, as an analyst would call the calendar library on a column."""
    at = pd.to_datetime(pd.Series(received)).to_numpy(dtype="datetime64[ns]")
    days = pd.Series(period, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan)
    return workdays.civil_deadlines(at, days, pd.Series(unit, dtype=object))


def _deadlines(permits: pd.DataFrame) -> pd.Series:
    """Each permit's statutory deadline (NaT where not judged)."""
    received = permits["received_at"].fillna(permits["received_on"])
    due = deadlines(received, permits["legal_days"], permits["legal_unit"])
    return pd.Series(due, index=permits.index)


@dataclass
class Prepared:
    """The frames as the baselines load them, and the seconds the preparation took."""

    frames: dict[str, pd.DataFrame]
    holidays: pd.DataFrame
    seconds: float
    #: Seconds of the derivations that are one rule's logic rather than cleaning (the attendee
    #: count, the statutory deadline, the holiday table): charged to that rule's baselines.
    logic_seconds: dict[str, float]


def prepare(frames: Mapping[str, pd.DataFrame]) -> Prepared:
    """Typed, cleaned copies of ``frames`` with the derived columns (see the module)."""
    start = time.perf_counter()
    out: dict[str, pd.DataFrame] = {}
    logic: dict[str, float] = {}
    spans = []
    for name, frame in frames.items():
        f = frame.reset_index(drop=True).copy()
        for column in date_columns(name):
            if column in f.columns:
                f[column] = f[column].astype("datetime64[ns]").dt.floor("D")
                spans.append(f[column].dropna().to_numpy(dtype="datetime64[D]"))
        out[name] = f
    # The calendar first: the statutory deadlines below count working days on it.
    t = time.perf_counter()
    days = workdays.holidays_for(*spans)
    holidays = pd.DataFrame({"day": pd.to_datetime(np.asarray(days, dtype="datetime64[D]"))})
    logic["holidays"] = time.perf_counter() - t
    for name, f in out.items():
        for new, (kind, source) in DERIVED.get(name, {}).items():
            t = time.perf_counter()
            f[new] = _per_distinct(f[source], KINDS[kind])
            f[new] = f[new].astype("Float64" if kind == "attendees" else "string")
            if kind == "attendees":
                logic[new] = time.perf_counter() - t
        if name == "permits":
            t = time.perf_counter()
            f["due_at"] = _deadlines(f)
            logic["due_at"] = time.perf_counter() - t
    return Prepared(out, holidays, time.perf_counter() - start, logic)


def date_columns(name: str) -> list[str]:
    """The columns of dataset ``name`` that hold calendar days."""
    return [c.name for c in datasets.get(name).columns if c.type == "date"]
