"""Replaying rules over data without side effects: the engine of ``naebu test-rule`` and
``naebu backtest``.

Nothing here writes to the store or notifies anyone. Data comes from one of three places:

- the record history in the store (what earlier runs have read; the default);
- the configured sources, pulled afresh and whole, in memory (``--from-sources``, or a
  single ``--source NAME``), their watermarks and file checksums untouched;
- a file of canonical columns (``--data FILE``), read by the ``files`` connector.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from naebu.alerts.cases import group_cases
from naebu.connectors import make_connector
from naebu.connectors import merge_settings as merging
from naebu.connectors.base import SourceState
from naebu.connectors.coerce import empty_frame
from naebu.connectors.source_settings import SourceConfig
from naebu.core import datasets, dtypes
from naebu.core.progress import progress
from naebu.engine.findings import Finding
from naebu.engine.registry import EvalContext, RuleType
from naebu.settings.config import Config
from naebu.store import history
from naebu.store import tables as store


@dataclass
class Frames:
    """Canonical frames by dataset; a dataset never read is an empty frame, never missing."""

    by_dataset: dict[str, pd.DataFrame] = field(default_factory=dict)
    origin: str = ""
    quarantined: int = 0

    def get(self, name: str) -> pd.DataFrame:
        """The frame of ``name`` (empty when there is no data for it)."""
        frame = self.by_dataset.get(name)
        return frame if frame is not None else empty_frame(datasets.get(name))

    def rows(self) -> dict[str, int]:
        """Rows per dataset."""
        return {name: len(f) for name, f in self.by_dataset.items()}


def from_store(config: Config, names: Iterable[str]) -> Frames:
    """The record history of the given datasets (read only)."""
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            frames = {name: history.load(conn, name) for name in names}
    finally:
        engine.dispose()
    return Frames(frames, origin="store")


def _pull(source: SourceConfig) -> tuple[pd.DataFrame, int]:
    parts, bad = [], 0
    for batch in make_connector(source).pull(SourceState()):
        bad += len(batch.quarantined)
        if not batch.frame.empty:
            parts.append(batch.frame)
    ds = datasets.get(source.dataset)
    if source.merge_on and len(parts) > 1:
        # Merged on a key (naebu.connectors.merge_settings): a later batch's row completes an earlier one's.
        whole = parts[0]
        for part in parts[1:]:
            whole = merging.combine(whole, part, ds.key)
        return whole, bad
    return (dtypes.joined(parts) if parts else empty_frame(ds)), bad


def from_sources(config: Config, names: Iterable[str], only: str | None = None) -> Frames:
    """Pull the sources feeding ``names`` (or just source ``only``) afresh, whole, in memory."""
    wanted = set(names)
    result = Frames(origin="sources" if only is None else f"source {only}")
    chosen = [
        s
        for s in config.sources.values()
        if s.enabled and (s.name == only if only else s.dataset in wanted)
    ]
    for source in progress(chosen, "pulling sources"):
        frame, bad = _pull(source)
        result.quarantined += bad
        previous = result.by_dataset.get(source.dataset)
        if previous is None:
            result.by_dataset[source.dataset] = frame
        elif source.merge_on:  # several sources merged into one record per key
            key = datasets.get(source.dataset).key
            result.by_dataset[source.dataset] = merging.combine(previous, frame, key)
        else:
            result.by_dataset[source.dataset] = dtypes.joined([previous, frame])
    return result


def from_file(path: Path, dataset: str, mapping: SourceConfig | None = None) -> Frames:
    """Records of ``dataset`` from one CSV/XLSX file, with canonical column names (or the
    column mapping of the source ``mapping``)."""
    source = SourceConfig(
        name=f"file {path.name}",
        kind="files",
        dataset=dataset,
        columns=dict(mapping.columns) if mapping else {},
        formats=dict(mapping.formats) if mapping else {},
        options={
            "path": str(path.resolve().parent),
            "pattern": path.name,
            **{
                k: v
                for k, v in (mapping.options if mapping and mapping.kind == "files" else {}).items()
                if k in ("encoding", "delimiter", "sheet", "skip_rows")
            },
        },
    )
    frame, bad = _pull(source)
    return Frames({dataset: frame}, origin=f"file {path}", quarantined=bad)


def period_bounds(
    since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """A period given as days: ``until`` covers its whole day."""
    if until is not None and until.time() == time(0):
        until = until + timedelta(days=1) - timedelta(microseconds=1)
    return since, until


def in_period(
    frame: pd.DataFrame,
    dataset: str,
    since: datetime | None,
    until: datetime | None,
    column: str | None = None,
) -> pd.DataFrame:
    """The rows whose time (``column``, default the event time) lies in ``[since, until]``;
    rows without one are kept."""
    column = column or datasets.get(dataset).event_time
    if column is None or frame.empty or (since is None and until is None):
        return frame
    t = frame[column]
    keep = t.isna()
    window = t.notna()
    if since is not None:
        window &= t >= pd.Timestamp(since)
    if until is not None:
        window &= t <= pd.Timestamp(until)
    return frame[keep | window]


def evaluate(
    rule: RuleType,
    frames: Frames,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> list[Finding]:
    """The rule's findings on records whose event time is within the period.

    Every dataset the rule reads is given from ``since - lookback`` on, so a window that
    starts before the period still sees its records; findings on records before ``since`` are
    dropped. Absences are judged as of ``now``.
    """
    start = since - (rule.lookback or timedelta(0)) if since is not None else None
    given = {
        name: in_period(frames.get(name), name, start, until, rule.time_columns.get(name))
        for name in rule.datasets
    }
    found = rule.evaluate(given, EvalContext(now=now))
    return [f for f in found if _finding_in_period(f, since, until)]


def _finding_in_period(f: Finding, since: datetime | None, until: datetime | None) -> bool:
    if f.event_time is None:
        return True
    if since is not None and f.event_time < since:
        return False
    return not (until is not None and f.event_time > until)


@dataclass
class Backtest:
    """Findings per rule per month over a period, for one or two rule sets."""

    months: list[str]
    per_month: dict[str, Counter[str]]
    findings: dict[str, set[tuple[str, str]]]
    titles: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    #: Per rule, the alerts its findings make: one per case (alerts/cases.py).
    cases: dict[str, int] = field(default_factory=dict)
    #: Per rule, those alerts by their fingerprint (the identity the store gives the alert,
    #: alerts/cases.py) -> the key of the case's first record.
    alerts: dict[str, dict[str, str]] = field(default_factory=dict)


def backtest(
    rules: Sequence[RuleType],
    frames: Frames,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    label: str = "backtest",
) -> Backtest:
    """Evaluate ``rules`` over the period; count findings per rule and month."""
    per_month: dict[str, Counter[str]] = defaultdict(Counter)
    findings: dict[str, set[tuple[str, str]]] = {}
    errors: dict[str, str] = {}
    cases: dict[str, int] = {}
    alerts: dict[str, dict[str, str]] = {}
    months: set[str] = set()
    for rule in progress(list(rules), label):
        try:
            found = evaluate(rule, frames, since=since, until=until, now=now)
        except Exception as exc:  # one broken rule does not end the backtest
            errors[rule.meta.id] = f"{type(exc).__name__}: {exc}"
            continue
        findings[rule.meta.id] = {(f.dataset, f.record_key) for f in found}
        cases[rule.meta.id] = len({(f.dataset, f.case) for f in found})
        alerts[rule.meta.id] = {c.fingerprint: c.record_keys[0] for c in group_cases(found)}
        for f in found:
            month = f.event_time.strftime("%Y-%m") if f.event_time else "-"
            months.add(month)
            per_month[rule.meta.id][month] += 1
    return Backtest(
        months=sorted(months),
        per_month=dict(per_month),
        findings=findings,
        titles={r.meta.id: r.meta.title for r in rules},
        errors=errors,
        cases=cases,
        alerts=alerts,
    )


def compare(base: Backtest, other: Backtest) -> dict[str, dict[str, Any]]:
    """Per rule id, what ``other`` (the edited rules) would add to and remove from ``base``."""
    out: dict[str, dict[str, Any]] = {}
    for rule_id in sorted(set(base.findings) | set(other.findings)):
        before = base.findings.get(rule_id, set())
        after = other.findings.get(rule_id, set())
        out[rule_id] = {
            "title": other.titles.get(rule_id) or base.titles.get(rule_id, ""),
            "before": len(before),
            "after": len(after),
            "added": sorted(k for _, k in after - before),
            "removed": sorted(k for _, k in before - after),
            "status": "new rule"
            if rule_id not in base.findings
            else "removed rule"
            if rule_id not in other.findings
            else "changed"
            if before != after
            else "same",
        }
    return out


@dataclass
class Comparison:
    """Two rule sets backtested on the same data (``naebu backtest --compare``, and the
    simulation of a rule draft, naebu.rule_simulation)."""

    base: Backtest
    other: Backtest | None
    frames: Frames
    #: Coverage states of the base rules (engine/coverage.py).
    states: dict[str, Any]


def compare_rules(
    config: Config,
    base_rules: Sequence[RuleType],
    other_rules: Sequence[RuleType] | None,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    pull_sources: bool = False,
) -> Comparison:
    """Backtest ``base_rules`` (and ``other_rules`` when given) over the same records: the
    store's history, or the sources pulled afresh. Rules no source can feed, and those whose
    finding is an absence when the data holds nothing of it, are not run (as in a run)."""
    from naebu import coverage_report
    from naebu.data_coverage import drop_blocked

    base, states = coverage_report.runnable_rules(config, list(base_rules))
    other, _ = coverage_report.runnable_rules(config, list(other_rules or []))
    names = datasets_of([*base, *other])
    frames = from_sources(config, names) if pull_sources else from_store(config, names)
    base, states = drop_blocked(base, states, frames.by_dataset)
    other, _ = drop_blocked(other, {}, frames.by_dataset)
    first = backtest(base, frames, since=since, until=until, now=now, label="rules")
    second = (
        backtest(other, frames, since=since, until=until, now=now, label="compared rules")
        if other_rules is not None
        else None
    )
    return Comparison(first, second, frames, dict(states))


def datasets_of(rules: Iterable[RuleType]) -> list[str]:
    """Every dataset the rules read, in a stable order."""
    names: list[str] = []
    for rule in rules:
        for name in rule.datasets:
            if name not in names:
                names.append(name)
    return names


def finding_rows(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings as JSON-safe dicts (for ``--format json``)."""
    return [
        {
            "rule_id": f.rule_id,
            "dataset": f.dataset,
            "record_key": f.record_key,
            "severity": f.severity,
            "department": f.department,
            "official_id": f.official_id,
            "event_time": f.event_time.isoformat(sep=" ") if f.event_time else None,
            "message": f.message,
            "evidence": f.evidence,
        }
        for f in findings
    ]


def summary_by(mapping: Mapping[str, int]) -> str:
    """``payments 10,000, vendors 400``."""
    return ", ".join(f"{k} {v:,}" for k, v in mapping.items())
