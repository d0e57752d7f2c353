"""Baseline (c): the same rules as plain per-row Python loops over record dicts.

What a programmer writes without pandas: a predicate called on each record for a match rule;
for the window rules, records bucketed by group in a dict, each bucket sorted by time and
scanned. Times are integer nanoseconds (as the frames hold them). Only the loops are timed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

Record = dict[str, Any]
DAY_NS = 86_400 * 10**9


def loop_match(predicate: Callable[[Record], bool], records: Sequence[Record],
               key: str) -> tuple[float, list[Any]]:  # fmt: skip
    """Seconds of one pass calling ``predicate`` on every record, and the flagged keys."""
    start = time.perf_counter()
    flagged = [r[key] for r in records if predicate(r)]
    return time.perf_counter() - start, flagged


def window_records(frame: pd.DataFrame, key: str, time_column: str,
                   columns: Sequence[str]) -> list[Record]:  # fmt: skip
    """Record dicts for the window loops: the key, the time as int ns (None when missing) and
    ``columns`` (blank text as None)."""
    times = pd.to_datetime(frame[time_column], errors="coerce")
    ns = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    missing = times.isna().to_numpy()
    out: dict[str, list[Any]] = {key: frame[key].astype(object).tolist()}
    out["t"] = [None if m else int(v) for v, m in zip(ns.tolist(), missing.tolist(), strict=True)]
    for c in columns:
        values = frame[c].astype(object).tolist()
        out[c] = [
            None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
            or (isinstance(v, str) and not v.strip()) else v
            for v in values
        ]  # fmt: skip
    names = list(out)
    return [dict(zip(names, row, strict=True)) for row in zip(*out.values(), strict=True)]


def loop_duplicate(records: Sequence[Record], keys: Sequence[str], days: int,
                   key: str) -> tuple[float, list[Any]]:  # fmt: skip
    """Records sharing every key with another record at most ``days`` apart."""
    start = time.perf_counter()
    width = days * DAY_NS
    groups: dict[tuple[Any, ...], list[tuple[int, Any]]] = defaultdict(list)
    for r in records:
        group = tuple(r[k] for k in keys)
        if r["t"] is None or None in group:
            continue
        groups[group].append((r["t"], r[key]))
    flagged = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: m[0])
        for i, (t, k) in enumerate(members):
            before = i > 0 and t - members[i - 1][0] <= width
            after = i + 1 < len(members) and members[i + 1][0] - t <= width
            if before or after:
                flagged.append(k)
    return time.perf_counter() - start, flagged


def loop_split(records: Sequence[Record], days: int, limit: float, key: str,
               excluded: Callable[[str], bool],
               kind: Callable[[str], str]) -> tuple[float, list[Any]]:  # fmt: skip
    """CONTRACT-SPLIT: for each record, the window of its group ``days`` back up to its own
    time (records at the same time included); every member of a window with at least two
    records, none above ``limit`` and a total above it, is flagged. A record without a title,
    or whose title ``excluded`` (a textbook licence), takes no part; ``kind`` of the title is
    the third group key."""
    start = time.perf_counter()
    width = days * DAY_NS
    groups: dict[tuple[Any, Any, str], list[tuple[int, Any, Any]]] = defaultdict(list)
    for r in records:
        if r.get("method") != "수의" or r.get("category") is None or r["category"] == "공사":
            continue
        dept, vendor, title = r.get("department"), r.get("vendor_id"), r.get("title")
        if dept is None or vendor is None or r["t"] is None or title is None:
            continue
        if excluded(title):
            continue
        groups[(dept, vendor, kind(title))].append((r["t"], r.get("amount"), r[key]))
    flagged: set[Any] = set()
    for members in groups.values():
        members.sort(key=lambda m: m[0])
        lo, n = 0, len(members)
        for j in range(n):
            t = members[j][0]
            while members[lo][0] < t - width:
                lo += 1
            hi = j
            while hi + 1 < n and members[hi + 1][0] == t:
                hi += 1
            window = members[lo : hi + 1]
            amounts = [a for _, a, _ in window if a is not None]
            if len(window) >= 2 and amounts and max(amounts) <= limit and sum(amounts) > limit:
                flagged.update(k for _, _, k in window)
    return time.perf_counter() - start, list(flagged)
