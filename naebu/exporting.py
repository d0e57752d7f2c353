"""Exports of alerts and their evidence to CSV and XLSX, safe to open in a spreadsheet.

The values come from the watched systems, so an insider can plant a cell like
``=HYPERLINK("http://...")`` or ``@SUM(...)`` in a merchant name and wait for an auditor to
open the export. Every text cell that a spreadsheet would read as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also after leading spaces) is prefixed
with an apostrophe, as OWASP recommends; real numbers stay numbers.

``deadline`` stays a date-time a spreadsheet can sort and compute with; ``deadline_text``
beside it reads as everywhere else (:mod:`naebu.alerts.deadline_text`): the weekday and, for an
open alert, the days left or overdue on the day of the export.

Each alert row also carries its rule's basis and why the pattern is a red flag (근거, 왜
문제인가), from the rule files as they are now: an audit office reads an export without the
rule pack at hand. Beside the evidence as JSON (for tools), ``근거 자료`` is the evidence as
officials read it everywhere else (:mod:`naebu.alerts.evidence_text`): one ``label: value`` line per
item, unmasked like the JSON (an export is for those who may see the whole alert), officials
by name and position when the directory is given. A case alert's member records follow as
``대상 기록`` (one line a record, by the same labels) and their number as ``대상 기록 수``,
a number a spreadsheet can sort; both empty for an alert of one record.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naebu.alerts.deadline_text import deadline_text
from naebu.alerts.evidence_text import case_members, evidence_lines
from naebu.alerts.lifecycle import OPEN
from naebu.engine.rule import RuleMeta

if TYPE_CHECKING:
    from naebu.alerts.directory import Directory

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

COLUMNS = (
    "id",
    "rule_id",
    "title",
    "severity",
    "status",
    "department",
    "assignee",
    "dataset",
    "record_key",
    "created_at",
    "deadline",
    "message",
    "evidence",
    "deadline_text",
    "basis",
    "why",
    "evidence_text",
    "case_count",
    "case_members",
)

#: Header cells that differ from the column name: what the audit office reads in Korean.
HEADERS = {
    "basis": "근거",
    "why": "왜 문제인가",
    "evidence_text": "근거 자료",
    "case_count": "대상 기록 수",
    "case_members": "대상 기록",
}


def header() -> list[str]:
    """The header row of an export."""
    return [HEADERS.get(column, column) for column in COLUMNS]


def neutralize(value: Any) -> Any:
    """A cell value that no spreadsheet will evaluate."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    text = str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def rows_for_export(
    alerts: Iterable[Mapping[str, Any]],
    today: date | None = None,
    language: str = "ko",
    *,
    rules: Mapping[str, RuleMeta] | None = None,
    directory: Directory | None = None,
) -> list[list[Any]]:
    """Alert rows as neutralized cells in :data:`COLUMNS` order (evidence as JSON text); the
    deadline's days left are counted from ``today`` (none without it); the basis and why come
    from ``rules`` (rule id -> meta), empty for a rule it does not know; officials in the
    evidence by name from ``directory`` (their numbers without it)."""
    out = []
    for alert in alerts:
        meta = (rules or {}).get(alert.get("rule_id") or "")
        evidence = alert.get("evidence")
        evidence = evidence if isinstance(evidence, Mapping) else {}
        members = case_members(evidence, alert.get("dataset"), language, directory, mask=False)
        explained = {
            "basis": meta.basis if meta else "",
            "why": meta.why if meta else "",
            "case_count": members.count if members else None,
            "case_members": members.compact() if members else None,
        }
        cells = []
        for column in COLUMNS:
            value = explained[column] if column in explained else alert.get(column)
            if column == "deadline_text":
                counted = today if alert.get("status") in OPEN else None
                deadline = alert.get("deadline")
                # No deadline: an empty cell (a "-" would be read as the start of a formula).
                value = None if deadline is None else deadline_text(deadline, counted, language)
            elif column == "evidence_text":
                lines = evidence_lines(
                    evidence, alert.get("dataset"), language, directory, mask=False
                )
                value = "\n".join(f"{label}: {text}" for label, text in lines) or None
            elif column == "evidence" and value is not None and not isinstance(value, str):
                value = json.dumps(value, ensure_ascii=False, default=str)
            cells.append(neutralize(value))
        out.append(cells)
    return out


def write_csv(
    path: Path,
    alerts: Iterable[Mapping[str, Any]],
    today: date | None = None,
    language: str = "ko",
    *,
    rules: Mapping[str, RuleMeta] | None = None,
    directory: Directory | None = None,
) -> int:
    """Write a UTF-8 CSV with a byte-order mark (so Korean Excel reads it as UTF-8)."""
    rows = rows_for_export(alerts, today, language, rules=rules, directory=directory)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header())
        writer.writerows(rows)
    return len(rows)


def write_xlsx(
    path: Path,
    alerts: Iterable[Mapping[str, Any]],
    today: date | None = None,
    language: str = "ko",
    *,
    rules: Mapping[str, RuleMeta] | None = None,
    directory: Directory | None = None,
) -> int:
    """Write an XLSX workbook; every text cell is stored as text, never as a formula."""
    from openpyxl import Workbook

    rows = rows_for_export(alerts, today, language, rules=rules, directory=directory)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("alerts")
    sheet.append(header())
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return len(rows)
