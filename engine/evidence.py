"""Turning matched rows into findings: record keys, JSON-safe evidence, rendered messages.

Shared by every rule type, so an alert looks the same whichever type raised it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from engine.findings import Finding
from engine.rule import RuleMeta
from engine.template import MessageTemplate
from naebu.datasets import Dataset


def json_value(value: Any, column_type: str | None = None) -> Any:
    """A cell as a JSON-safe value: dates as ``YYYY-MM-DD``, times as ``HH:MM``, no NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
        if column_type == "date" or (column_type is None and ts == ts.normalize()):
            return ts.strftime("%Y-%m-%d")
        return ts.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, pd.Timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    if isinstance(value, list | tuple):  # sibling keys of a duplicate, members of a window
        return [json_value(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def findings_from_rows(
    meta: RuleMeta,
    dataset: Dataset,
    rows: pd.DataFrame,
    template: MessageTemplate | None,
    evidence_columns: Iterable[str],
    extra: Mapping[str, str] | None = None,
) -> list[Finding]:
    """One finding per row of ``rows`` (the records a rule matched).

    ``extra`` names further fields of ``rows`` to keep as evidence, with their types: joined
    columns (``vendor.account_no``) and values a rule type computed (``group.sum_amount``).
    """
    extra = extra or {}
    wanted = _evidence_columns(dataset, evidence_columns)
    wanted += [c for c in extra if c in rows.columns and c not in wanted]
    types = {c.name: c.type for c in dataset.columns} | dict(extra)
    findings = []
    records: list[dict[str, Any]] = rows.to_dict("records")  # type: ignore[assignment]
    for record in records:
        evidence = {c: json_value(record.get(c), types.get(c)) for c in wanted}
        findings.append(
            Finding(
                rule_id=meta.id,
                dataset=dataset.name,
                record_key=str(json_value(record[dataset.key], types[dataset.key])),
                severity=meta.severity,
                message=template.render(record) if template else meta.title,
                department=_text(record, dataset.department),
                official_id=_text(record, dataset.official),
                event_time=_time(record, dataset.event_time),
                evidence=evidence,
            )
        )
    return findings


def _evidence_columns(dataset: Dataset, used: Iterable[str]) -> list[str]:
    roles = [dataset.key, dataset.department, dataset.official, dataset.event_time]
    ordered: list[str] = []
    for name in [*roles, *used]:
        if name and name in dataset.by_name and name not in ordered:
            ordered.append(name)
    return ordered


def _text(record: Mapping[str, Any], column: str | None) -> str | None:
    value = json_value(record.get(column)) if column else None
    return None if value is None else str(value)


def _time(record: Mapping[str, Any], column: str | None) -> datetime | None:
    value = record.get(column) if column else None
    if value is None or value is pd.NaT or not isinstance(value, pd.Timestamp | datetime):
        return None
    return pd.Timestamp(value).to_pydatetime()
