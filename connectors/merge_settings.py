"""Several sources into one dataset: the ``merge_on`` key, checked, and rows combined.

A city often delivers one canonical record in pieces: overtime claims (초과근무 신청) from one
system and leave and business trips (휴가·출장) from another, while naebu holds one attendance
row per official per day. Every source of such a dataset names the same canonical columns in
``merge_on`` (``["employee_id", "work_date"]``); a source that does not give the dataset's key
gets it built from those values (:mod:`naebu.connectors.merge`), so the pieces of one record meet
under one key.

Columns combine by :func:`complete`: a record takes each column from the newest row, of any
source, that gives it a value; an empty value never blanks a stored one. The pipeline completes
each batch of a merged dataset from the stored records of its keys before the rules and the
record history see it (``naebu.pipeline``), so rules always judge whole rows.

The checks here run when the config is loaded; each mistake is a located
:class:`~naebu.core.problems.Problem`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from naebu.core import datasets, dtypes
from naebu.core.problems import Problem, did_you_mean

if TYPE_CHECKING:
    from naebu.connectors.source_settings import SourceConfig

_EXAMPLE = 'merge_on = ["employee_id", "work_date"]'


def parse_merge_on(
    key: str, value: Any, dataset: datasets.Dataset, problems: list[Problem], file: str
) -> tuple[str, ...]:
    """A source's ``merge_on`` as a tuple of canonical columns (empty when absent); appends a
    Problem per mistake (located at ``{key}.merge_on``)."""
    if value is None:
        return ()
    where = f"{key}.merge_on"
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        problems.append(
            Problem(
                file, "merge_on must be a list of canonical column names", key=where, hint=_EXAMPLE
            )
        )
        return ()
    columns = tuple(v.strip() for v in value)
    ok = True
    if dataset.reference:
        problems.append(
            Problem(
                file,
                f"dataset {dataset.name} is reference data, read whole from one source: it cannot "
                "be merged from several",
                key=where,
                hint="remove merge_on, or join the files before naebu reads them",
            )
        )
        ok = False
    for column in columns:
        if column not in dataset.by_name:
            problems.append(
                Problem(
                    file,
                    f"{column!r} is not a column of dataset {dataset.name}",
                    key=where,
                    hint=did_you_mean(column, dataset.by_name)
                    or "columns: " + ", ".join(dataset.column_names),
                )
            )
            ok = False
        elif column == dataset.key:
            problems.append(
                Problem(
                    file,
                    f"{column} is the record key, which naebu builds from the merge_on columns",
                    key=where,
                    hint="name the columns that identify a record, e.g. " + _EXAMPLE,
                )
            )
            ok = False
    if len(set(columns)) != len(columns):
        problems.append(Problem(file, "merge_on names a column twice", key=where, hint=_EXAMPLE))
        ok = False
    return columns if ok else ()


def given_columns(source: SourceConfig) -> set[str]:
    """The canonical columns a source gives by its config: mapped, set or derived."""
    given = set(source.columns)
    # constants and derive are added to SourceConfig by the source mappings (issue 16).
    for section in ("constants", "derive"):
        given |= set(getattr(source, section, None) or {})
    return given


def check_merges(sources: Mapping[str, SourceConfig], problems: list[Problem], file: str) -> None:
    """Append a Problem per inconsistency between the enabled sources of one dataset: all of
    them with the same ``merge_on`` or none, and every ``merge_on`` column given by each."""
    by_dataset: dict[str, list[SourceConfig]] = {}
    for source in sources.values():
        if source.enabled:
            by_dataset.setdefault(source.dataset, []).append(source)
    for name, group in by_dataset.items():
        merged = [s for s in group if s.merge_on]
        if not merged:
            continue
        first = merged[0]
        listed = "[" + ", ".join(f'"{c}"' for c in first.merge_on) + "]"
        for source in group:
            key = f"sources.{source.name}"
            if not source.merge_on:
                problems.append(
                    Problem(
                        file,
                        f"dataset {name} is merged on {listed} (sources.{first.name}) but this "
                        "source has no merge_on: its records would never meet the others'",
                        key=key,
                        hint=f"merge_on = {listed}, or give it a dataset of its own",
                    )
                )
                continue
            if source.merge_on != first.merge_on:
                problems.append(
                    Problem(
                        file,
                        "every source of one dataset must merge on the same columns in the same "
                        f"order; sources.{first.name} has merge_on = {listed}",
                        key=f"{key}.merge_on",
                        hint=f"merge_on = {listed}",
                    )
                )
            given = given_columns(source)
            for column in source.merge_on:
                if column not in given:
                    problems.append(
                        Problem(
                            file,
                            f"merge_on column {column} is not given by this source",
                            key=f"{key}.columns.{column}",
                            hint=f'map it: {column} = "<source column>" under [{key}.columns] '
                            "(or set it in constants or derive)",
                        )
                    )
            if source.options.get("key") == "content":
                problems.append(
                    Problem(
                        file,
                        'key = "content" and merge_on both say how a record is keyed',
                        key=f"{key}.key",
                        hint='remove key = "content": the merge_on values key the record',
                    )
                )


def merged_datasets(sources: Mapping[str, SourceConfig]) -> set[str]:
    """The datasets some enabled source of which has ``merge_on``."""
    return {s.dataset for s in sources.values() if s.enabled and s.merge_on}


def complete(frame: pd.DataFrame, earlier: pd.DataFrame, key: str) -> pd.DataFrame:
    """``frame`` (the newest rows, one per key) with each empty value taken from the earlier
    version of its record in ``earlier`` (same canonical columns and dtypes), when it has one.

    A row's own values always win; an empty one is filled, never the other way round: a
    source never blanks a column it does not give. ``earlier`` may hold keys ``frame`` does
    not (they are ignored) and a key more than once (the last is its version).
    """
    if earlier.empty or frame.empty:
        return frame
    versions = earlier.drop_duplicates(subset=[key], keep="last").set_index(key)
    found = frame[key].isin(versions.index).to_numpy(dtype=bool, na_value=False)
    if not found.any():
        return frame
    aligned = versions.reindex(frame[key].to_numpy()).reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for column in frame.columns:
        mine = frame[column]
        if column == key or column not in aligned.columns:
            out[column] = mine
            continue
        missing = mine.isna().to_numpy(dtype=bool)
        if not missing.any():
            out[column] = mine
            continue
        other = aligned[column]
        if other.dtype != mine.dtype:
            other = other.astype(mine.dtype)
        out[column] = mine.where(~missing, other.set_axis(mine.index))
    return pd.DataFrame(out, index=frame.index)


def combine(older: pd.DataFrame, newer: pd.DataFrame, key: str) -> pd.DataFrame:
    """Two frames of one merged dataset as one record per key, as the pipeline would store
    them: ``newer``'s rows completed from ``older`` (:func:`complete`), and ``older``'s rows
    whose key ``newer`` does not hold. For replays that pull every source in memory."""
    newer = complete(newer, older, key)
    rest = older[~older[key].isin(newer[key]).to_numpy(dtype=bool, na_value=False)]
    return dtypes.joined([rest, newer]) if len(rest) else newer
