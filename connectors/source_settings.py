"""``[sources.NAME]``: one source each, the connector kind, its dataset and its mapping.

What a kind accepts beyond the common keys is checked by the connector itself
(:func:`naebu.connectors.check_source`); the mapping tables by :mod:`naebu.connectors.mapping_settings`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naebu.connectors.mapping_settings import check_mapping
from naebu.connectors.merge_settings import parse_merge_on
from naebu.core import datasets
from naebu.core.problems import Problem, did_you_mean
from naebu.core.schedule import check_schedule


@dataclass
class SourceConfig:
    """One source: a connector kind, the canonical dataset it feeds, and its options.

    ``columns`` maps canonical column -> source column (or a list of source columns whose
    values are joined, e.g. year, month, day); ``formats`` maps canonical column ->
    a strptime format for dates and times. Everything else the connector kind defines is in
    ``options`` (already ``${ENV}``-interpolated; relative paths not yet resolved).
    """

    name: str
    kind: str
    dataset: str
    columns: dict[str, str | list[str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    #: Its own schedule (``{"cron": ...}`` or ``{"interval_minutes": ...}``); None: the
    #: ``[schedule]`` of the default run job.
    schedule: dict[str, Any] | None = None
    #: canonical column -> a fixed value for every row (see :mod:`naebu.connectors.mapping_settings`).
    constants: dict[str, Any] = field(default_factory=dict)
    #: canonical column -> {source value (NFKC, stripped): canonical value; "" for empty}.
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: canonical column -> expression over the source's columns (naebu.engine.expr, all text).
    derive: dict[str, str] = field(default_factory=dict)
    #: Canonical columns whose values name one record of the dataset when several sources
    #: feed it (``merge_on = ["employee_id", "work_date"]``); empty: the source alone.
    #: See :mod:`naebu.connectors.merge` and docs/sources.md, "Several sources into one dataset".
    merge_on: tuple[str, ...] = ()


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """Make ``sqlite:///relative.db`` relative to ``base_dir`` (absolute and memory URLs stay)."""
    m = re.match(r"^(sqlite(?:\+\w+)?):///(.*)$", url)
    if not m or not m.group(2) or m.group(2).startswith("/") or m.group(2) == ":memory:":
        return url
    path = (base_dir / m.group(2)).resolve()
    return f"{m.group(1)}:///{path}"


_SOURCE_COMMON = (
    "kind",
    "dataset",
    "columns",
    "formats",
    "connection",
    "enabled",
    "schedule",
    "constants",
    "values",
    "derive",
    "merge_on",
)


def parse_source(
    name: str,
    src: Any,
    connections: dict[str, str],
    base: Path,
    problems: list[Problem],
    file: str,
) -> SourceConfig | None:
    """``[sources.NAME]`` with its connection filled in and its paths resolved against
    ``base``; None when it is not a table or names no known dataset. Every mistake goes to
    ``problems``; the options of its kind are checked later, by the connector."""
    key = f"sources.{name}"
    if not isinstance(src, dict):
        problems.append(
            Problem(file, "a source must be a table", key=key, hint=f"[sources.{name}]")
        )
        return None
    kind = src.get("kind")
    dataset = src.get("dataset")
    if not kind:
        problems.append(
            Problem(file, "missing kind", key=f"{key}.kind", hint='kind = "sql" or kind = "files"')
        )
    if dataset not in datasets.DATASETS:
        problems.append(
            Problem(
                file,
                f"unknown dataset {dataset!r}" if dataset else "missing dataset",
                key=f"{key}.dataset",
                hint=did_you_mean(str(dataset), datasets.DATASETS)
                or "one of: " + ", ".join(datasets.DATASETS),
            )
        )
        return None
    ds = datasets.get(str(dataset))
    columns = src.get("columns", {})
    formats = src.get("formats", {})
    for sect, mapping in (("columns", columns), ("formats", formats)):
        if not isinstance(mapping, dict):
            problems.append(Problem(file, f"{sect} must be a table", key=f"{key}.{sect}"))
            continue
        for canon in mapping:
            if canon not in ds.by_name:
                problems.append(
                    Problem(
                        file,
                        f"{canon!r} is not a column of dataset {ds.name}",
                        key=f"{key}.{sect}.{canon}",
                        hint=did_you_mean(canon, ds.by_name)
                        or "columns: " + ", ".join(ds.column_names),
                    )
                )
    maps = check_mapping(name, src, ds, problems, file)
    options = {k: v for k, v in src.items() if k not in _SOURCE_COMMON}
    conn = src.get("connection")
    if conn is not None:
        if conn not in connections:
            problems.append(
                Problem(
                    file,
                    f"unknown connection {conn!r}",
                    key=f"{key}.connection",
                    hint=did_you_mean(str(conn), connections) or "define it under [connections]",
                )
            )
        else:
            options.setdefault("url", connections[conn])
    if isinstance(options.get("url"), str):
        options["url"] = resolve_sqlite_url(options["url"], base)
    # File-drop folders and other paths are resolved against the config's folder too.
    for opt in ("path",):
        if isinstance(options.get(opt), str):
            p = Path(os.path.expanduser(options[opt]))
            options[opt] = str(p if p.is_absolute() else (base / p).resolve())
    return SourceConfig(
        name=name,
        kind=str(kind or ""),
        dataset=ds.name,
        columns={str(k): _source_column(v) for k, v in (columns or {}).items()}
        if isinstance(columns, dict)
        else {},
        formats={str(k): str(v) for k, v in (formats or {}).items()}
        if isinstance(formats, dict)
        else {},
        options=options,
        enabled=bool(src.get("enabled", True)),
        schedule=check_schedule(src.get("schedule"), f"{key}.schedule", problems, file),
        constants=maps.constants,
        values=maps.values,
        derive=maps.derive,
        merge_on=parse_merge_on(key, src.get("merge_on"), ds, problems, file),
    )


def _source_column(value: Any) -> str | list[str]:
    # A list joins several source columns into one canonical value (year, month, day).
    return [str(v) for v in value] if isinstance(value, list) else str(value)
