"""Parameters tied to the law in force: a value per effective date (``by_date``).

A limit of the law changes when the law is amended, and a record is judged by the limit in
force on its date, not by today's. A rule writes the values with the day each took effect::

    [rule.params.limit]
    basis = "지방계약법 시행령 제30조제1항제2호"   # required: the article
    label = "1인 견적 수의계약 한도"              # optional: how the alert names it (Korean)
    unit = "원"                                  # optional: after the value in the alert
    date = "contract_date"                       # optional: the record's date (default below)
    by_date = [
      { value = 20_000_000 },                     # no from: in force before the next date too
      { from = 2025-07-08, value = 30_000_000 },  # TOML date, or text "2025-07-08"
    ]

Each value is in force from its ``from`` (that day included) until the next one's. The first
value may leave ``from`` out: it then holds for every earlier date. When it has a ``from``,
a record dated before it, and a record without a date, has no value (a null): every
comparison with it is false, so the rule does not judge that record. The record's date is
``date`` if given, else the rule's ``time`` (aggregate, duplicate), else the dataset's event
time. In a ``having`` (aggregate), the value is the one in force on the window's last record.

The value for each record is found with one ``numpy.searchsorted`` over the sorted dates: no
Python per record. An alert's evidence cites the value it was judged by and since when
(:data:`EVIDENCE_KEY`), ``naebu check`` lists every value with its dates.

Nothing here knows a rule type; engine/params.py reads the table, engine/expr binds the
parameter as a column of the frame.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from naebu.core import datasets
from naebu.core.formatting import number
from naebu.core.problems import did_you_mean

BY_DATE = "by_date"
#: Keys of a dated parameter's table, and of each entry of its ``by_date`` list.
TABLE_KEYS = (BY_DATE, "basis", "label", "unit", "date")
ENTRY_KEYS = ("from", "value")
#: The evidence key citing the values in force (alerts/evidence_labels.py labels it).
EVIDENCE_KEY = "params.in_force"
USAGE = '{ basis = "...제30조", by_date = [{ value = 20_000_000 }, { from = 2025-07-08, value = 30_000_000 }] }'

#: The effective dates a rule may give (record times are nanoseconds: 1677 to 2262).
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)

Problem = Callable[[str, str, str], None]


@dataclass(frozen=True)
class DatedParam:
    """A parameter whose value depends on the record's date."""

    name: str
    #: The effective dates, ascending; the first may be None (in force since ever).
    starts: tuple[dt.date | None, ...]
    values: tuple[Any, ...]
    basis: str
    #: The record's date column the value is chosen by.
    date: str
    label: str = ""
    unit: str = ""

    @property
    def type(self) -> str:
        """The expression-language type of the values: number, str or bool."""
        first = self.values[0]
        if isinstance(first, bool):
            return "bool"
        return "number" if isinstance(first, int | float) else "str"

    def _bounds(self) -> np.ndarray:
        """The effective dates as int64 nanoseconds (the open first start as the smallest)."""
        low = np.iinfo(np.int64).min
        return np.array([low if s is None else pd.Timestamp(s).value for s in self.starts],
                        dtype=np.int64)  # fmt: skip

    def periods(self, dates: pd.Series | np.ndarray) -> np.ndarray:
        """For each date, the position of the value in force (-1: none, or no date)."""
        raw = np.asarray(dates)
        if raw.dtype.kind == "M":  # the canonical date columns: no conversion
            ns = raw.astype("datetime64[ns]")
        else:  # text (a record of an example, an alert's evidence), dates, aware times
            try:
                stamps = pd.to_datetime(pd.Series(raw, dtype=object), errors="coerce")
            except (TypeError, ValueError):  # time zones mixed: compared in UTC
                stamps = pd.to_datetime(pd.Series(raw, dtype=object), errors="coerce", utc=True)
            if isinstance(stamps.dtype, pd.DatetimeTZDtype):
                stamps = stamps.dt.tz_localize(None)
            ns = stamps.to_numpy(dtype="datetime64[ns]")
        missing = np.isnat(ns)
        found = np.searchsorted(self._bounds(), ns.astype(np.int64), side="right") - 1
        found[missing] = -1
        return found.astype(np.intp)

    def values_at(self, dates: pd.Series | np.ndarray, index: pd.Index | None = None) -> pd.Series:
        """The value in force on each date, as a column (null where none is)."""
        at = self.periods(dates)
        none = at < 0
        pick = np.where(none, 0, at)
        if self.type == "number":
            out = np.asarray(self.values, dtype=np.float64)[pick]
            out[none] = np.nan
            return pd.Series(out, index=index, dtype="float64")
        if self.type == "bool":
            arr = pd.array(np.asarray(self.values, dtype=bool)[pick], dtype="boolean")
            arr[none] = pd.NA
            return pd.Series(arr, index=index)
        texts = np.asarray(self.values, dtype=object)[pick]
        texts[none] = None
        return pd.Series(texts, index=index, dtype="str")

    def cite(self, period: int) -> str:
        """What an alert says of the value in force in ``period`` (Korean, officials read it)."""
        label = self.label or "기준값"
        if period < 0:
            first = self.starts[0]
            before = f"{first} 이전이거나 " if first is not None else ""
            return f"{label}: {before}날짜가 없는 기록이라 판단하지 않음"
        start = self.starts[period]
        if start is not None:
            since = f"{start}부터 적용"
        elif len(self.starts) > 1:
            since = f"{self.starts[1]} 전까지 적용"
        else:
            since = "적용"
        return f"{label} {shown(self.values[period])}{self.unit} ({since}, {self.basis})"

    def lines(self, today: dt.date | None = None) -> list[str]:
        """Each value with the dates it is in force, for ``naebu check``; the one in force
        ``today`` is marked."""
        now = int(self.periods(np.array([np.datetime64(today, "ns")]))[0]) if today else None
        out = []
        if self.starts[0] is not None:
            out.append(f"before {self.starts[0]}: no value (records not judged)")
        for i, value in enumerate(self.values):
            start = self.starts[i]
            end = self.starts[i + 1] if i + 1 < len(self.starts) else None
            since = "any earlier date" if start is None else f"from {start}"
            until = f" to {end - dt.timedelta(days=1)}" if end is not None else ""
            mark = "  <- in force today" if i == now else ""
            out.append(f"{since}{until}: {shown(value)}{self.unit}{mark}")
        return out


def shown(value: Any) -> str:
    """A value as ``naebu check`` and an alert show it: 20,000,000, true, text."""
    if isinstance(value, bool):
        return "예" if value else "아니오"
    if isinstance(value, int | float):
        return number(value, places=4)
    return str(value)


def is_dated(raw: Any) -> bool:
    """Whether a parameter's value in a rule file is a dated table (has ``by_date``)."""
    return isinstance(raw, dict) and BY_DATE in raw


def dated_params(params: Mapping[str, Any]) -> list[DatedParam]:
    """The dated parameters among a rule's parameters in force."""
    return [v for v in params.values() if isinstance(v, DatedParam)]


def default_date(spec: Mapping[str, Any]) -> tuple[str | None, datasets.Dataset | None]:
    """The rule's date column (its ``time``, else the dataset's event time) and dataset."""
    dataset = datasets.DATASETS.get(spec.get("dataset"))  # type: ignore[arg-type]
    time = spec.get("time")
    if isinstance(time, str):
        return time, dataset
    return (dataset.event_time if dataset is not None else None), dataset


def parse_dated(name: str, raw: dict[str, Any], spec: Mapping[str, Any],
                problem: Problem) -> DatedParam | None:  # fmt: skip
    """Read ``params.NAME = { by_date = [...], basis = ... }``; every problem through
    ``problem(key, message, hint)``, None after one."""
    at = f"params.{name}"
    bad = False
    for key in raw:
        if key not in TABLE_KEYS:
            problem(f"{at}.{key}", "unknown key of a dated parameter",
                    did_you_mean(key, TABLE_KEYS) or "keys: " + ", ".join(TABLE_KEYS))  # fmt: skip
            bad = True
    texts = {}
    for key in ("basis", "label", "unit", "date"):
        value = raw.get(key, "")
        if not isinstance(value, str):
            problem(f"{at}.{key}", f"must be a text, not {type(value).__name__}",
                    f'{key} = "..."')  # fmt: skip
            bad = True
        texts[key] = value.strip() if isinstance(value, str) else ""
    if not texts["basis"]:
        problem(f"{at}.basis", "missing or empty",
                'basis = "지방계약법 시행령 제30조제1항제2호" (the article each value comes from)')  # fmt: skip
        bad = True
    date = _date_column(at, texts["date"], spec, problem)
    entries = _entries(at, raw.get(BY_DATE), problem)
    if bad or date is None or entries is None:
        return None
    starts = tuple(s for s, _ in entries)
    values = tuple(v for _, v in entries)
    return DatedParam(name, starts, values, texts["basis"], date, texts["label"], texts["unit"])


def _date_column(at: str, given: str, spec: Mapping[str, Any], problem: Problem) -> str | None:
    """The record's date the value is chosen by; None after a reported problem."""
    default, dataset = default_date(spec)
    name = given or default
    if dataset is None:
        return name or ""  # the unknown dataset is reported where it is read
    if not name:
        problem(f"{at}.date", f"dataset {dataset.name} has no event time",
                'name the record\'s date: date = "..."')  # fmt: skip
        return None
    column = dataset.by_name.get(name)
    if column is None or column.type not in ("date", "datetime"):
        dates = [c.name for c in dataset.columns if c.type in ("date", "datetime")]
        what = "unknown column" if column is None else "not a date column"
        problem(f"{at}.date", f"{what} {name!r} of {dataset.name}",
                did_you_mean(name, dates) or "date columns: " + ", ".join(dates))  # fmt: skip
        return None
    return name


def _entries(at: str, raw: Any, problem: Problem) -> list[tuple[dt.date | None, Any]] | None:
    """The ``by_date`` list as (start, value) pairs, checked; None after a problem."""
    where = f"{at}.by_date"
    if not isinstance(raw, list) or not raw:
        problem(where, "must be a list of { from = DATE, value = ... }", USAGE)
        return None
    out: list[tuple[dt.date | None, Any]] = []
    ok = True
    for i, entry in enumerate(raw):
        key = f"{where}[{i}]"
        if not isinstance(entry, dict):
            problem(key, f"must be a table, not {type(entry).__name__}",
                    "{ from = 2025-07-08, value = 30_000_000 }")  # fmt: skip
            ok = False
            continue
        unknown = [k for k in entry if k not in ENTRY_KEYS]
        for k in unknown:
            problem(f"{key}.{k}", "unknown key", did_you_mean(k, ENTRY_KEYS) or "keys: from, value")
        if unknown:  # a misspelt from: its absence is the same mistake
            ok = False
            continue
        start = _start(key, entry, i, problem)
        value = entry.get("value")
        if not _plain(value):
            got = "nothing" if value is None else type(value).__name__
            problem(f"{key}.value", f"must be a number, text or true/false, not {got}",
                    "value = 20_000_000")  # fmt: skip
            ok = False
        if start is False:
            ok = False
            continue
        out.append((start, value))  # type: ignore[arg-type]
    if not ok:
        return None
    kinds = {_kind(v) for _, v in out}
    if len(kinds) > 1:
        problem(where, "values of one parameter must be of one kind (" + ", ".join(sorted(kinds)) + ")",
                "write every value as a number, or every value as text")  # fmt: skip
        return None
    return out if _ordered(where, out, problem) else None


def _start(key: str, entry: dict[str, Any], i: int, problem: Problem) -> dt.date | None | bool:
    """An entry's ``from`` as a date; None for an open first entry; False after a problem."""
    if "from" not in entry:
        if i == 0:
            return None
        problem(f"{key}.from", "missing: only the first value may leave out its start",
                "from = 2025-07-08 (the day the amendment took effect)")  # fmt: skip
        return False
    value = entry["from"]
    if isinstance(value, dt.datetime):
        problem(f"{key}.from", "must be a day, not a date and time", "from = 2025-07-08")
        return False
    day: dt.date | None = value if isinstance(value, dt.date) else None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a day: reported below
            day = dt.date.fromisoformat(value.strip())
    if day is None:
        problem(f"{key}.from", f"not a date: {value!r}", "from = 2025-07-08 (year-month-day)")
        return False
    if not EARLIEST <= day <= LATEST:  # beyond what the engine's nanosecond times reach
        problem(f"{key}.from", f"{day} is out of range", f"a day from {EARLIEST} to {LATEST}")
        return False
    return day


def _ordered(where: str, entries: list[tuple[dt.date | None, Any]], problem: Problem) -> bool:
    """Whether the starts ascend; a repeated or earlier date is reported at its entry."""
    previous: dt.date | None = None
    for i, (start, _) in enumerate(entries):
        if start is None:
            continue
        if previous is not None and start == previous:
            problem(f"{where}[{i}].from", f"{start} is given twice: two values would be in force on one day",
                    "keep one value per date")  # fmt: skip
            return False
        if previous is not None and start < previous:
            problem(f"{where}[{i}].from", f"{start} comes before the previous entry's {previous}",
                    "list the values in the order they took effect, oldest first")  # fmt: skip
            return False
        previous = start
    return True


def _plain(value: Any) -> bool:
    return isinstance(value, bool | str) or (
        isinstance(value, int | float) and not np.isnan(float(value))
        and not np.isinf(float(value))
    )  # fmt: skip


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return "number" if isinstance(value, int | float) else "text"


# -- evaluation ---------------------------------------------------------------------------------
def column_name(name: str) -> str:
    """The frame column holding a dated parameter's value per record: ``params.NAME``."""
    return f"params.{name}"


def with_values(frame: pd.DataFrame, params: Iterable[DatedParam],
                dates: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    """``frame`` with a ``params.NAME`` column per dated parameter, chosen by each record's
    date (or by ``dates``, one per row); a parameter whose date column the frame lacks is
    left out."""
    columns = {}
    for p in params:
        if dates is not None:
            columns[column_name(p.name)] = p.values_at(dates, frame.index)
        elif p.date in frame.columns:
            columns[column_name(p.name)] = p.values_at(frame[p.date], frame.index)
    return frame.assign(**columns) if columns else frame


def citations(rows: pd.DataFrame, params: Iterable[DatedParam],
              dates: np.ndarray | None = None) -> list[str] | None:  # fmt: skip
    """Per row, the values in force it was judged by (:meth:`DatedParam.cite`, joined by
    ``"; "``); None when no parameter is dated or no row has its date."""
    parts = []
    for p in params:
        if dates is not None:
            periods = p.periods(dates)
        elif p.date in rows.columns:
            periods = p.periods(rows[p.date])
        else:
            continue
        texts = [p.cite(i) for i in range(-1, len(p.values))]  # one text per period
        parts.append([texts[i + 1] for i in periods.tolist()])
    if not parts:
        return None
    return ["; ".join(t) for t in zip(*parts, strict=True)]


def check_lines(rules: Iterable[Any], today: dt.date | None = None) -> list[str]:
    """What ``naebu check`` prints of the rules' parameters tied to dates: each with the
    record's date it goes by and its article, then each value with its dates."""
    out: list[str] = []
    for rule in sorted(rules, key=lambda r: r.meta.id):
        for p in dated_params(rule.meta.params):
            out.append(f"  {rule.meta.id} params.{p.name} by {p.date} - {p.basis}")
            out.extend(f"    {line}" for line in p.lines(today))
    return ["thresholds by date:", *out] if out else []
