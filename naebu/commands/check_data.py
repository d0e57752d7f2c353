"""`naebu check --data`: read each enabled source and say how its data fits the mapping.

Each source is read through its real connector from the start (no watermark; nothing is
stored), up to :data:`SAMPLE_ROWS` rows, and reported in plain words:

- rows read and quarantined, with the most frequent reasons;
- values of coded columns no value map covers (count, examples, the config key to add them
  under): they are read as empty, so the rules that compare them cannot fire on those rows;
- columns the source maps (or derives, or sets) that are empty in every row read.

Findings about the data are warnings; a source that cannot be read at all (a mapped column it
lacks, a database that cannot be reached) is a problem, like a mistake in the config.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from naebu.connectors import SourceError, make_connector
from naebu.connectors.base import SourceState, UnmappedValues, add_unmapped
from naebu.connectors.source_settings import SourceConfig
from naebu.connectors.vocabulary import unmapped_text
from naebu.core.datasets import DATASETS
from naebu.engine.absence import DataFacts
from naebu.engine.registry import RuleType
from naebu.settings.config import Config

#: Rows read from each source at most.
SAMPLE_ROWS = 10_000
#: Quarantine reasons shown per source.
_REASONS = 3


@dataclass
class DataProfile:
    """What reading (the first rows of) one source showed."""

    source: str
    dataset: str
    rows_read: int = 0
    quarantined: int = 0
    #: Quarantine reasons by how often they occur (the first problem of each row).
    reasons: Counter[str] = field(default_factory=Counter)
    unmapped: dict[str, UnmappedValues] = field(default_factory=dict)
    #: Columns the source gives that are empty in every good row read.
    empty: list[str] = field(default_factory=list)
    #: Columns with a value in some good row read.
    filled: set[str] = field(default_factory=set)
    #: Whether the sample stopped before the end of the source.
    truncated: bool = False
    error: str | None = None


def profile_source(source: SourceConfig, limit: int = SAMPLE_ROWS) -> DataProfile:
    """Read up to ``limit`` rows of ``source`` through its connector and profile them."""
    out = DataProfile(source.name, source.dataset)
    connector = make_connector(source)
    if "chunk_size" in connector.options:
        chunk = min(int(connector.option("chunk_size")), limit)
        connector = make_connector(
            dataclasses.replace(source, options={**source.options, "chunk_size": chunk})
        )
    dataset = DATASETS[source.dataset]
    gives = {*source.columns, *source.constants, *source.derive}
    present: set[str] = set()
    seen_columns: set[str] = set()
    try:
        for batch in connector.pull(SourceState()):
            if out.rows_read >= limit:
                out.truncated = True
                break
            out.rows_read += batch.rows_read
            out.quarantined += len(batch.quarantined)
            out.reasons.update(q.reason.split("; ")[0] for q in batch.quarantined)
            add_unmapped(out.unmapped, batch.unmapped)
            if len(batch.frame):
                seen_columns.update(batch.frame.columns)
                present.update(c for c in batch.frame.columns if batch.frame[c].notna().any())
    except SourceError as exc:
        out.error = str(exc)
        return out
    out.filled = present
    if out.rows_read > out.quarantined:
        out.empty = [
            c.name
            for c in dataset.columns
            if c.name in gives and c.name in seen_columns and c.name not in present
        ]
    return out


def report_lines(profile: DataProfile, limit: int = SAMPLE_ROWS) -> list[str]:
    """The profile of one source as lines for the terminal."""
    if profile.error:
        return [f"{profile.source}: {profile.error}"]
    first = f"first {limit:,} rows: " if profile.truncated else ""
    name = profile.source
    if profile.dataset != profile.source:
        name += f" ({profile.dataset})"
    lines = [
        f"{name}: {first}{profile.rows_read:,} row(s) read, {profile.quarantined:,} quarantined"
    ]
    for reason, count in profile.reasons.most_common(_REASONS):
        lines.append(f"  quarantined {count:,}x: {reason}")
    for column, found in profile.unmapped.items():
        lines.append(f"  {unmapped_text(profile.source, column, found)}")
    for column in profile.empty:
        lines.append(
            f"  {column}: given by the mapping but empty in every row read - "
            "check the source column, or take it out of the mapping"
        )
    return lines


def check_data(
    config: Config, limit: int = SAMPLE_ROWS, rules: Iterable[RuleType] = ()
) -> tuple[list[str], list[str]]:
    """(lines to print, source errors) for every enabled source of ``config``; with ``rules``,
    also those the sample leaves nothing to judge on (engine/absence.py)."""
    lines = [f"data: each enabled source read from the start, at most {limit:,} rows"]
    errors = []
    profiles = []
    for source in config.sources.values():
        if not source.enabled:
            continue
        profile = profile_source(source, limit)
        profiles.append(profile)
        lines += report_lines(profile, limit)
        if profile.error:
            errors.append(profile.error)
    return lines + absence_lines(config, profiles, list(rules), limit), errors


def sample_facts(profiles: Iterable[DataProfile], limit: int = SAMPLE_ROWS) -> DataFacts:
    """What the samples hold nothing of: a dataset whose sources gave no good row, a column no
    good row of its dataset had a value in. A source that could not be read says nothing."""
    rows: Counter[str] = Counter()
    filled: dict[str, set[str]] = {}
    unread: set[str] = set()
    for p in profiles:
        if p.error:
            unread.add(p.dataset)
            continue
        rows[p.dataset] += p.rows_read - p.quarantined
        filled.setdefault(p.dataset, set()).update(p.filled)
    names = set(filled) - unread
    empty = frozenset(n for n in names if not rows[n])
    blank = frozenset(
        (n, c.name)
        for n in names
        if rows[n]
        for c in DATASETS[n].columns
        if c.name not in filled[n]
    )
    return DataFacts(empty, blank, scope=f"the first {limit:,} rows")


def absence_lines(
    config: Config, profiles: list[DataProfile], rules: list[RuleType], limit: int = SAMPLE_ROWS
) -> list[str]:
    """The rules a run would not judge on data like the samples, with why."""
    from naebu import coverage_report, data_coverage

    states = coverage_report.rule_states(config, rules)
    chosen = [r for r in coverage_report.runnable_rules(config, rules)[0] if r.meta.enabled]
    gone = data_coverage.blocked(chosen, states, sample_facts(profiles, limit))
    if not gone:
        return []
    lines = [
        f"rules with nothing to judge in the data read: {len(gone)} (not evaluable until it comes)"
    ]
    lines += [f"  {i}: {c.hint}" for i, c in sorted(gone.items())]
    return lines
