"""Evidence as people read it (근거 자료): each value under its column's label, amounts in 원
with separators, dates with the weekday and the holiday's name, officials by name and position,
missing values as a word.

One renderer for every place an official reads an alert (digest mail, ``naebu alerts show``,
the inbox), so the terms are the same everywhere. Masking (alerts/masking.py) is applied first,
so a masked account stays masked whatever its label.

Evidence keys are a record's column names (``paid_on``), joined columns under the join's prefix
(``holder.name``, ``vendors.account_changed_on``) and values a rule type computed
(``group.count``, ``group.sum_amount``, ``payroll.sum_amount``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from alerts.masking import mask_mapping
from engine.workdays import holiday_name
from naebu.datasets import DATASETS, Column, Dataset

if TYPE_CHECKING:
    from alerts.directory import Directory

_WEEKDAYS_KO = "월화수목금토일"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MISSING = {"ko": "없음", "en": "none"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})?$")

#: Join aliases the rule pack uses (``[[rule.join]] as = ...``) that are not dataset names:
#: the dataset they join and what the joined record is, in Korean and English.
_ALIASES: dict[str, tuple[str, str, str]] = {
    "holder": ("employees", "계좌 주인 직원", "account holder (employee)"),
    "vendor": ("vendors", "거래처", "vendor"),
    "emp": ("employees", "지급 대상 직원", "payee (employee)"),
}

#: Values a grouping rule type computes (``group.X``): label in Korean and English, and kind.
_GROUP: dict[str, tuple[str, str, str]] = {
    "count": ("건수", "count", "count"),
    "first": ("첫 기록일", "first record", "date"),
    "last": ("마지막 기록일", "last record", "date"),
    "records": ("관련 기록", "related records", "code"),
    "siblings": ("중복으로 보이는 기록", "look-alike records", "code"),
    "sibling_times": ("중복 기록의 일자", "dates of the look-alikes", "date"),
}


def _english(column: Column) -> str:
    """A short English label: the description up to its first bracket or colon."""
    text = re.split(r" \(|:|, |;", column.description or column.name.replace("_", " "))[0]
    return text.strip() or column.name.replace("_", " ")


def _label(column: Column, language: str) -> str:
    return (column.label or _english(column)) if language == "ko" else _english(column)


def _day(text: str, language: str) -> str:
    day = date.fromisoformat(text)
    if language == "ko":
        name = holiday_name(day)
        weekday = _WEEKDAYS_KO[day.weekday()]
        return f"{text}({weekday}, {name})" if name else f"{text}({weekday})"
    name = holiday_name(day)
    weekday = _WEEKDAYS_EN[day.weekday()]
    return f"{text} ({weekday}, holiday {name})" if name else f"{text} ({weekday})"


def _number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def format_kind(
    value: Any,
    kind: str,
    language: str = "ko",
    unit: str = "",
    directory: Directory | None = None,
) -> str:
    """One value as officials read it, by its column's kind (naebu/dataset_model.py)."""
    if value is None or value == "" or value == []:
        return _MISSING.get(language, _MISSING["en"])
    if isinstance(value, list | tuple):
        return ", ".join(format_kind(v, kind, language, unit, directory) for v in value)
    if isinstance(value, bool):
        if language == "ko":
            return "예" if value else "아니오"
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if kind == "money":
            return f"{_number(value)}원" if language == "ko" else f"KRW {_number(value)}"
        if kind == "hours":
            return f"{_number(value)}시간" if language == "ko" else f"{_number(value)} h"
        if kind == "count" and unit and language == "ko":
            return f"{_number(value)}{unit}"
        return _number(value)
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


def _spaced(name: str) -> str:
    """A key no dataset declares, readable: words apart, never ``snake_case``."""
    return name.replace("_", " ").replace(".", " ").strip() or "-"


def _guess_kind(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "count"
    return "text"


def _resolve(
    key: str, dataset: Dataset | None, language: str
) -> tuple[str, str, str]:  # (label, kind, unit)
    """The label, kind and unit of an evidence key."""
    ko = language == "ko"
    prefix, _, name = key.rpartition(".")
    if not prefix:
        column = dataset.by_name.get(name) if dataset is not None else None
        if column is not None:
            return _label(column, language), column.kind, column.unit
        if name.startswith("sum_") and dataset is not None:
            return _sum(name, dataset, "", language)
        return _spaced(name), "", ""
    if prefix == "group":
        if name in _GROUP:
            label_ko, label_en, kind = _GROUP[name]
            return (label_ko if ko else label_en), kind, "건" if name == "count" else ""
        if name.startswith("sum_") and dataset is not None:
            return _sum(name, dataset, "", language)
        return _spaced(name), "", ""
    other, prefix_ko, prefix_en = _joined(prefix)
    prefix_text = prefix_ko if ko else prefix_en
    if other is None:
        return f"{prefix_text} {_spaced(name)}", "", ""
    if name.startswith("sum_"):
        return _sum(name, other, prefix_text, language)
    column = other.by_name.get(name)
    if column is None:
        return f"{prefix_text} {_spaced(name)}", "", ""
    return f"{prefix_text} {_label(column, language)}", column.kind, column.unit


def _joined(prefix: str) -> tuple[Dataset | None, str, str]:
    """The dataset a join prefix names and how to call the joined record."""
    if prefix in _ALIASES:
        name, ko, en = _ALIASES[prefix]
        return DATASETS[name], ko, en
    other = DATASETS.get(prefix)
    if other is not None:
        return other, other.title.split(" (")[0], prefix.replace("_", " ")
    return None, "관련 기록", "related record"


def _sum(name: str, dataset: Dataset, prefix: str, language: str) -> tuple[str, str, str]:
    column = dataset.by_name.get(name[len("sum_") :])
    what = _label(column, language) if column is not None else _spaced(name[len("sum_") :])
    kind = column.kind if column is not None else "number"
    head = "합계" if language == "ko" else "total"
    text = " ".join(p for p in (prefix, head, what) if p)
    return text, kind, ""


def dataset_title(name: str, language: str = "ko") -> str:
    """What a record's dataset is called (지출, 공유재산 매각); the name itself if unknown."""
    dataset = DATASETS.get(name)
    if dataset is None:
        return name
    return dataset.title.split(" (")[0] if language == "ko" else name.replace("_", " ")


def evidence_lines(
    evidence: Mapping[str, Any],
    dataset: Dataset | str | None,
    language: str = "ko",
    directory: Directory | None = None,
    mask: bool = True,
) -> list[tuple[str, str]]:
    """``(label, text)`` for each evidence item, in the evidence's order; masked unless
    ``mask`` is false (the inbox shows the full evidence to those allowed to see the alert)."""
    if isinstance(dataset, str):
        dataset = DATASETS.get(dataset)
    lines = []
    for key, value in (mask_mapping(evidence) if mask else evidence).items():
        label, kind, unit = _resolve(str(key), dataset, language)
        column = dataset.by_name.get(str(key)) if dataset is not None else None
        if column is not None and column.unit_from and evidence.get(column.unit_from):
            unit = str(evidence[column.unit_from])
        lines.append(
            (label, format_kind(value, kind or _guess_kind(value), language, unit, directory))
        )
    return lines
