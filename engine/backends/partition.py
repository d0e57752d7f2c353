"""Splitting one rule's evaluation into parts whose findings, put together, are exactly the
findings of the whole - the planning half of the Dask backend, with no Dask in it.

A rule says how it may be split (:class:`~naebu.engine.registry.Partitioning`); :func:`plan` turns
that and the frames into parts:

- **any split** (``match``: each record on its own): the rule's records are hashed by
  organization (their department) and event month;
- **by key** (``aggregate``, ``duplicate``, ``outlier``, ``sequence``): records are hashed by
  the rule's key columns - the group-by columns of a window, the peer group, the correlation
  key - so a group never spans two parts; the datasets a sequence correlates are hashed side
  by side on their corresponding columns;
- **by time**, only when no key column can split the rule but its reach in time is bounded (an
  ``aggregate`` whose ``group_by`` is empty or only expressions; a ``sequence`` within one
  dataset on different columns): each part owns a span of time and carries ``reach`` of
  history on either side; it keeps only the findings on the records it owns;
- **whole** otherwise (an ``outlier`` with no peer group, a rule type that declares nothing).

Datasets a rule reads but is not split on (joined vendors, ``in employees.account_no``
lookups) are given whole to every part.

:func:`evaluate_part` runs on a worker; :func:`merge` puts the parts' findings back in the
order one whole evaluation gives (every rule type emits findings in the order of its frame's
records). All rows that share a record key stay owned by one part: a plan that would
separate them is evaluated whole instead, so the first finding of each fingerprint - the one
the alert store keeps - is the same as with pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from naebu.core import datasets
from naebu.engine.evidence import json_value
from naebu.engine.expr.kinds import NUMERIC
from naebu.engine.expr.values import to_runtime
from naebu.engine.findings import Finding
from naebu.engine.registry import EvalContext, RuleType

_TZ = "Asia/Seoul"
_NAT = np.iinfo(np.int64).min


@dataclass
class Part:
    """One part of a rule's evaluation.

    ``frames`` holds this part's rows of every dataset the rule is split on (its own dataset
    first); ``positions`` are the positions of its own-dataset rows in the whole frame;
    ``owned`` marks the rows whose findings this part keeps (None: all of them).
    """

    frames: dict[str, pd.DataFrame]
    positions: np.ndarray
    owned: np.ndarray | None = None


@dataclass
class Plan:
    """The parts of one rule's evaluation and the datasets every part gets whole."""

    parts: list[Part]
    broadcast: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: How the rule was split, for logs and tests: "organization and month", "key (...)",
    #: "time (reach ...)", or "whole: <why>".
    how: str = "whole"

    @property
    def whole(self) -> bool:
        """True when the rule is evaluated in one piece."""
        return len(self.parts) <= 1


def plan(rule: RuleType, frames: Mapping[str, pd.DataFrame], n: int, min_rows: int = 1) -> Plan:
    """Split ``rule``'s evaluation over ``frames`` into at most ``n`` parts of about
    ``min_rows`` of the rule's own records or more (a part costs a fixed overhead: below
    that, moving the rows costs more than evaluating them)."""
    primary = rule.meta.dataset
    frame = frames.get(primary)
    if frame is None or len(frame) < 2:
        return _whole(frames, "whole: nothing to split")
    n = min(n, len(frame) // max(1, min_rows))
    if n <= 1:
        return _whole(frames, f"whole: {len(frame)} rows, too few to split")
    spec = rule.partitioning
    if primary not in spec.keys:
        return _any_split(rule, frames, n)
    keyed = {d: tuple(c) for d, c in spec.keys.items() if d in frames}
    if keyed[primary]:
        return _by_key(rule, frames, keyed, n)
    if spec.reach is not None:
        return _by_time(rule, frames, keyed, spec.reach, n)
    return _whole(frames, "whole: the rule cannot be split")


def evaluate_part(
    rule: RuleType,
    frames: Mapping[str, pd.DataFrame],
    ctx: EvalContext,
    positions: np.ndarray,
    owned: np.ndarray | None,
) -> list[tuple[int, Finding]]:
    """Evaluate one part (on a worker): its findings, each with the position of its record's
    first row in the whole frame. Findings on rows another part owns are dropped."""
    found = rule.evaluate(frames, ctx)
    if not found:
        return []
    dataset = datasets.get(rule.meta.dataset)
    keys = record_keys(frames[rule.meta.dataset], dataset)
    mine = np.ones(len(keys), dtype=bool) if owned is None else owned
    first = pd.Series(positions[mine], index=keys[mine])
    first = first[~first.index.duplicated()]
    wanted = [f.record_key for f in found]
    where = first.reindex(wanted).to_numpy(dtype=np.float64)
    context = set(keys[~mine].tolist())
    out: list[tuple[int, Finding]] = []
    for pos, finding in zip(where, found, strict=True):
        if not np.isnan(pos):
            out.append((int(pos), finding))
        elif finding.record_key not in context:
            # Every finding is on a record of the frame: a key not found means the record keys
            # computed here differ from the findings' - never drop findings silently.
            raise RuntimeError(
                f"rule {rule.meta.id}: finding on record {finding.record_key!r}, "
                "which is not in the part it was evaluated on"
            )
    return out


def merge(results: list[list[tuple[int, Finding]]]) -> list[Finding] | None:
    """The parts' findings in the order of one whole evaluation; None when two parts found
    something on the same record key (the caller then evaluates the rule whole)."""
    owner: dict[str, int] = {}
    tagged = []
    for part, found in enumerate(results):
        for local, (pos, finding) in enumerate(found):
            if owner.setdefault(finding.record_key, part) != part:
                return None
            tagged.append((pos, part, local, finding))
    tagged.sort(key=lambda t: t[:3])
    return [t[3] for t in tagged]


def record_keys(frame: pd.DataFrame, dataset: datasets.Dataset) -> np.ndarray:
    """Each row's record key as a finding renders it (:func:`naebu.engine.evidence.json_value`)."""
    type_ = dataset.by_name[dataset.key].type
    values = frame[dataset.key].tolist()
    return np.array(
        [v if type(v) is str else str(json_value(v, type_)) for v in values], dtype=object
    )


# -- the ways to split ---------------------------------------------------------------------


def _whole(frames: Mapping[str, pd.DataFrame], how: str) -> Plan:
    return Plan([], dict(frames), how)


def _any_split(rule: RuleType, frames: Mapping[str, pd.DataFrame], n: int) -> Plan:
    """Records judged one by one: by organization and event month."""
    primary = rule.meta.dataset
    frame = frames[primary]
    ds = datasets.get(primary)
    columns = [c for c in (ds.department,) if c is not None]
    extra = {}
    if ds.event_time is not None:
        extra["_month"] = _naive(frame[ds.event_time]).dt.to_period("M").astype("str")
    if not columns and not extra:
        columns = [ds.key]
    bucket = _hash(frame, columns, ds, extra) % np.uint64(n)
    raw = frame[ds.key].reset_index(drop=True)
    if raw.duplicated().any():
        # rows sharing a record key go where its first row goes (any split is allowed)
        bucket = pd.Series(bucket).groupby(raw, dropna=False, sort=False).transform("first")
        bucket = bucket.to_numpy(dtype=np.uint64)
    how = "organization and month" if ds.department else "month"
    return _assemble(rule, frames, {primary: bucket}, n, how)


def _by_key(
    rule: RuleType, frames: Mapping[str, pd.DataFrame], keyed: dict[str, tuple[str, ...]], n: int
) -> Plan:
    """Hash every keyed dataset on its key columns (corresponding one to one)."""
    buckets = {
        name: _hash(frames[name], list(cols), datasets.get(name)) % np.uint64(n)
        for name, cols in keyed.items()
    }
    how = "key (" + ", ".join(keyed[rule.meta.dataset]) + ")"
    return _assemble(rule, frames, buckets, n, how)


def _by_time(
    rule: RuleType,
    frames: Mapping[str, pd.DataFrame],
    keyed: dict[str, tuple[str, ...]],
    reach: timedelta,
    n: int,
) -> Plan:
    """Contiguous spans of the rule's own time column, each with ``reach`` on either side."""
    primary = rule.meta.dataset
    times: dict[str, np.ndarray] = {}
    for name in keyed:
        column = rule.time_columns.get(name) or datasets.get(name).event_time
        if column is None:
            return _whole(frames, f"whole: {name} has no time to split on")
        times[name] = _ticks(frames[name][column])
    own = times[primary]
    present = own[own != _NAT]
    if not len(present):
        return _whole(frames, "whole: no record has a time")
    cuts = np.unique(np.quantile(present, np.linspace(0, 1, n + 1)[1:-1], method="lower"))
    if not len(cuts):
        return _whole(frames, "whole: every record at one time")
    # part i owns [cuts[i-1], cuts[i]); records with no time go to part 0
    owner = np.searchsorted(cuts, own, side="right")
    owner[own == _NAT] = 0
    margin = int(pd.Timedelta(reach).value)
    bounds = np.concatenate(([np.iinfo(np.int64).min // 2], cuts, [np.iinfo(np.int64).max // 2]))
    parts: list[Part] = []
    if _keys_shared(frames[primary], primary, owner):
        return _whole(frames, "whole: rows sharing a record key fall in different time spans")
    for i in range(len(cuts) + 1):
        lo, hi = bounds[i] - margin, bounds[i + 1] + margin
        rows = np.flatnonzero(((own >= lo) & (own <= hi)) | (owner == i))
        if not (owner[rows] == i).any():
            continue
        part_frames = {primary: frames[primary].iloc[rows]}
        for name, t in times.items():
            if name != primary:
                # a record with no time takes no part; it is kept anyway, to be safe
                part_frames[name] = frames[name][(t == _NAT) | ((t >= lo) & (t <= hi))]
        parts.append(Part(part_frames, rows, owner[rows] == i))
    broadcast = {k: v for k, v in frames.items() if k not in keyed}
    return Plan(parts, broadcast, f"time (reach {pd.Timedelta(reach)})")


def _assemble(
    rule: RuleType,
    frames: Mapping[str, pd.DataFrame],
    buckets: dict[str, np.ndarray],
    n: int,
    how: str,
) -> Plan:
    primary = rule.meta.dataset
    if _keys_shared(frames[primary], primary, buckets[primary]):
        return _whole(frames, "whole: rows sharing a record key fall in different parts")
    parts = []
    for b in range(n):
        rows = np.flatnonzero(buckets[primary] == b)
        if not len(rows):
            continue
        part_frames = {primary: frames[primary].iloc[rows]}
        for name, bucket in buckets.items():
            if name != primary:
                part_frames[name] = frames[name][bucket == b]
        parts.append(Part(part_frames, rows))
    broadcast = {k: v for k, v in frames.items() if k not in buckets}
    return Plan(parts, broadcast, how)


# -- helpers ---------------------------------------------------------------------------------


def _keys_shared(frame: pd.DataFrame, name: str, owner: np.ndarray) -> bool:
    """True when rows with one record key are owned by different parts."""
    raw = frame[datasets.get(name).key].reset_index(drop=True)
    if not raw.duplicated().any():
        return False
    spread = pd.Series(owner).groupby(raw, dropna=False, sort=False).nunique()
    return bool((spread > 1).any())


def _hash(
    frame: pd.DataFrame,
    columns: list[str],
    ds: datasets.Dataset,
    extra: Mapping[str, pd.Series] | None = None,
) -> np.ndarray:
    """One uint64 per row from the values of ``columns``, equal for values the rule types
    group as equal (their canonical runtime form), whatever dtype each frame holds them in."""
    normal: dict[str, np.ndarray] = {}
    for i, c in enumerate(columns):
        normal[f"k{i}"] = _canonical(frame[c], ds.by_name[c].type)
    for name, series in (extra or {}).items():
        normal[name] = series.astype(object).where(series.notna(), None).to_numpy()
    table = pd.DataFrame(normal)
    return pd.util.hash_pandas_object(table, index=False).to_numpy(dtype=np.uint64)


def _canonical(series: pd.Series, type_: str) -> np.ndarray:
    """A column in one representation per value: floats (no -0.0, one NaN), nanoseconds, or
    Python text (None for null)."""
    value = to_runtime(series, type_)
    if type_ in NUMERIC:
        out = value.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0
        out[np.isnan(out)] = np.nan
        return out
    if type_ in ("date", "datetime"):
        return _ticks(value)
    if type_ == "time":
        td = pd.to_timedelta(value, errors="coerce")
        return td.to_numpy(dtype="timedelta64[ns]").astype(np.int64)
    return value.astype(object).where(value.notna(), None).to_numpy()


def _naive(series: pd.Series) -> pd.Series:
    """Times as naive Asia/Seoul datetimes (the canonical form), whatever they came as."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, errors="coerce")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(_TZ).dt.tz_localize(None)
    return series


def _ticks(series: pd.Series) -> np.ndarray:
    """Nanoseconds since 1970 (naive Seoul time); :data:`_NAT` for no time."""
    return _naive(series).to_numpy(dtype="datetime64[ns]").astype(np.int64)
