"""Evidence as people read it (근거 자료): each value under its column's label, amounts in 원
with separators, dates with the weekday and the holiday's name, officials by name and position,
missing values as a word.

One renderer for every place an official reads an alert (digest mail, ``naebu alerts show``,
the inbox), so the terms are the same everywhere. Masking (naebu/core/masking.py) is applied first,
so a masked account stays masked whatever its label.

Evidence keys are a record's column names (``paid_on``), joined columns under the join's prefix
(``holder.name``, ``vendors.account_changed_on``) and values a rule type computed
(``group.count``, ``group.sum_amount``, ``payroll.sum_amount``); their labels and kinds come
from alerts/evidence_labels.py. A case alert's member records (``case.members``,
``case.count``) read as a section of their own, :func:`case_members` (대상 기록 15건, one line
a record, 외 3건), rendered by the same rules: the digest, ``naebu alerts show``, the inbox and
the export all call it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from naebu.alerts.evidence_labels import resolve_key
from naebu.core.datasets import DATASETS, Dataset
from naebu.core.formatting import day_text, number, won
from naebu.core.masking import mask_mapping
from naebu.core.workdays import holiday_name

if TYPE_CHECKING:
    from naebu.alerts.directory import Directory

_MISSING = {"ko": "없음", "en": "none"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})?$")


def _day(text: str, language: str) -> str:
    day = date.fromisoformat(text)
    return day_text(day, language, holiday_name(day))


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def format_kind(
    value: Any,
    kind: str,
    language: str = "ko",
    unit: str = "",
    directory: Directory | None = None,
) -> str:
    """One value as officials read it, by its column's kind (naebu/core/dataset_model.py)."""
    if value is None or value == "" or value == [] or _nan(value):
        return _MISSING.get(language, _MISSING["en"])
    if isinstance(value, list | tuple):
        return ", ".join(format_kind(v, kind, language, unit, directory) for v in value)
    if isinstance(value, bool):
        if language == "ko":
            return "예" if value else "아니오"
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if kind == "money":
            return won(value, language)
        if kind == "hours":
            return f"{number(value)}시간" if language == "ko" else f"{number(value)} h"
        if kind == "count" and unit and language == "ko":
            return f"{number(value)}{unit}"
        return number(value)
    text = str(value)
    if kind == "person" and directory is not None:
        official = directory.get(text)
        if official is not None:
            return official.display_name
    if kind == "month" and _DATE.match(text):
        return f"{text[:4]}년 {int(text[5:7])}월" if language == "ko" else text[:7]
    if _DATE.match(text):
        return _day(text, language)
    instant = _INSTANT.match(text)
    if instant and kind in ("instant", "date", "text"):
        return f"{_day(instant.group(1), language)} {instant.group(2)}"
    return text


def dataset_title(name: str, language: str = "ko") -> str:
    """What a record's dataset is called (지출, 공유재산 매각); the name itself if unknown."""
    dataset = DATASETS.get(name)
    if dataset is None:
        return name
    return dataset.title.split(" (")[0] if language == "ko" else name.replace("_", " ")


def _guess_kind(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "count"
    return "text"


def _dataset(dataset: Dataset | str | None) -> Dataset | None:
    return DATASETS.get(dataset) if isinstance(dataset, str) else dataset


def _render(
    key: str,
    value: Any,
    record: Mapping[str, Any],
    dataset: Dataset | None,
    language: str,
    directory: Directory | None,
) -> tuple[str, str]:
    """``(label, text)`` of one item of ``record`` (an evidence mapping or a member's)."""
    label, kind, unit = resolve_key(key, dataset, language)
    column = dataset.by_name.get(key) if dataset is not None else None
    if column is not None and column.unit_from and record.get(column.unit_from):
        unit = str(record[column.unit_from])
    return label, format_kind(value, kind or _guess_kind(value), language, unit, directory)


def evidence_lines(
    evidence: Mapping[str, Any],
    dataset: Dataset | str | None,
    language: str = "ko",
    directory: Directory | None = None,
    mask: bool = True,
) -> list[tuple[str, str]]:
    """``(label, text)`` for each evidence item, in the evidence's order; masked unless
    ``mask`` is false (the inbox shows the full evidence to those allowed to see the alert).

    A case's member records (``case.members``, ``case.count``) are left out: they read as a
    section of their own, :func:`case_members`."""
    ds = _dataset(dataset)
    shown = mask_mapping(evidence) if mask else evidence
    return [
        _render(str(key), value, evidence, ds, language, directory)
        for key, value in shown.items()
        if key not in CASE_KEYS
    ]


# -- the member records of a case -------------------------------------------------------------

#: Evidence keys of a case alert: its member records (a list of evidence mappings, at most
#: 50 listed) and how many there are (may exceed those listed). An alert of one record has
#: neither.
CASE_MEMBERS = "case.members"
CASE_COUNT = "case.count"
CASE_KEYS = frozenset({CASE_MEMBERS, CASE_COUNT})
#: Kinds of the fields a case's records may share with its evidence and not repeat.
_SHARED_KINDS = frozenset({"person", "code", "text"})


@dataclass(frozen=True)
class MemberLine:
    """One member record of a case: its key under the key's label, and its other fields
    as ``(label, text)``."""

    key_label: str
    key: str
    fields: tuple[tuple[str, str], ...]

    def text(self) -> str:
        """One line: ``근태 기록번호 A-1: 근무일 2026-03-02(월) · 초과근무시간 4시간``."""
        rest = " · ".join(f"{label} {value}" for label, value in self.fields)
        return f"{self.key_label} {self.key}: {rest}" if rest else f"{self.key_label} {self.key}"


@dataclass(frozen=True)
class CaseMembers:
    """The member records of a case alert as people read them: a heading with their number
    (``대상 기록 15건``), one :class:`MemberLine` each, and ``외 3건`` when more exist than
    are listed."""

    heading: str
    count: int
    members: tuple[MemberLine, ...]
    more: str = ""

    def lines(self) -> list[str]:
        """The member lines, then the ``외 M건`` line if any (without the heading)."""
        return [m.text() for m in self.members] + ([self.more] if self.more else [])

    def table(self) -> tuple[list[str], list[list[str]]]:
        """For a page or an HTML mail: the headers (the key's label, then each field's label
        in first-seen order) and one row per listed member ("" for a field it lacks)."""
        labels = list(dict.fromkeys(label for m in self.members for label, _ in m.fields))
        head = [self.members[0].key_label if self.members else "", *labels]
        rows = [[m.key, *(dict(m.fields).get(label, "") for label in labels)] for m in self.members]
        return head, rows

    def compact(self) -> str:
        """The heading and every line, one per line: the export's ``대상 기록`` cell."""
        return "\n".join([self.heading, *self.lines()])


def case_members(
    evidence: Mapping[str, Any],
    dataset: Dataset | str | None,
    language: str = "ko",
    directory: Directory | None = None,
    mask: bool = True,
) -> CaseMembers | None:
    """The member records of a case alert's evidence (``case.members``), rendered by the
    same labels and kinds as :func:`evidence_lines`; None for an alert of one record.

    A field that says who or what the case is about (a person, a code, a text: the official,
    the department of a case grouped by them) with the same value in every listed member and
    in the evidence above is shown once, above, not on every line; amounts, hours and dates
    are shown on every line, however alike (a duplicate's amounts are the point).
    Masked unless ``mask`` is false, like :func:`evidence_lines`."""
    raw = evidence.get(CASE_MEMBERS)
    if not isinstance(raw, list) or not raw:
        return None
    ds = _dataset(dataset)
    members = [mask_mapping(m) if mask else dict(m) for m in raw if isinstance(m, Mapping)]
    count = evidence.get(CASE_COUNT)
    count = count if isinstance(count, int) and count >= len(members) else len(members)
    top = mask_mapping(evidence) if mask else evidence
    same = {
        k
        for k in members[0]
        if k in top
        and resolve_key(str(k), ds).kind in _SHARED_KINDS
        and all(m.get(k) == top[k] for m in members)
    }
    key_name = ds.key if ds is not None and all(ds.key in m for m in members) else None
    lines = []
    for member in members:
        name = key_name or next(iter(member), "")
        key_label, key_text = _render(name, member.get(name), member, ds, language, directory)
        fields = tuple(
            _render(str(k), v, member, ds, language, directory)
            for k, v in member.items()
            if k != name and k not in same and k not in CASE_KEYS
        )
        lines.append(MemberLine(key_label, key_text, fields))
    ko = language == "ko"
    heading = f"대상 기록 {count:,}건" if ko else f"{count:,} record{'s' if count != 1 else ''}"
    hidden = count - len(lines)
    more = "" if hidden <= 0 else (f"외 {hidden:,}건" if ko else f"and {hidden:,} more")
    return CaseMembers(heading, count, tuple(lines), more)
