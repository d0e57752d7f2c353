"""What an evidence key is called and how its value reads: the label (Korean or English),
kind and counting word of every key an alert's evidence can hold, derived from the column
model (naebu/core/datasets.py), so no key ever shows as ``snake_case`` or a raw ``group.x``.

Keys are of four sorts:

- a column of the alert's dataset (``paid_on`` -> 지급일);
- a joined column under its join's prefix: a dataset name (``vendors.account_changed_on``
  -> 거래처 계좌 변경일) or a rule's join alias (``holder.name`` -> 계좌 주인 직원 성명);
- a value a rule type computed over a group (``group.sum_amount`` -> 합계 지급액,
  ``group.count`` -> 건수) or a peer group (``peer.median`` -> 비교 집단 중앙값);
- an aggregate of a joined dataset (``receipts.sum_amount`` -> 세입 수납 합계 수납액);
- the thresholds a record was judged by, for a rule whose parameters follow the law in force
  (``params.in_force`` -> 적용 기준(시행일)).

A computed value over a column (``sum_X``, ``max_X``...) reads by that column's label and
kind, so a total of amounts is in 원 and a total of hours in 시간.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import NamedTuple

from naebu.core.datasets import DATASETS, Column, Dataset

#: Join aliases the rule pack declares (``join = [{ alias = ..., dataset = ... }]``) that are
#: not dataset names: the dataset they join and what the joined record is to the alert's
#: record, in Korean and English. The rule files name the dataset but not the role, hence
#: this table; tests/test_evidence_labels.py checks it against every join of rules/.
JOIN_ALIASES: dict[str, tuple[str, str, str]] = {
    "holder": ("employees", "계좌 주인 직원", "employee holding the account"),
    "vendor": ("vendors", "거래처", "vendor"),
    "emp": ("employees", "지급 대상 직원", "employee paid"),
}

#: Values a grouping rule type computes (``group.X``): Korean, English, kind, counting word.
#: ``first``/``last`` are dates or instants; ``kind`` "date" reads both.
GROUP_FIELDS: dict[str, tuple[str, str, str, str]] = {
    "count": ("건수", "number of records", "count", "건"),
    "first": ("첫 기록일", "first record", "date", ""),
    "last": ("마지막 기록일", "last record", "date", ""),
    "records": ("관련 기록", "related records", "code", ""),
    "siblings": ("중복으로 보이는 기록", "look-alike records", "code", ""),
    "sibling_times": ("중복 기록의 일자", "dates of the look-alikes", "date", ""),
}

#: Values the outlier rule type computes over the record's peer group (``peer.X``).
PEER_FIELDS: dict[str, tuple[str, str, str, str]] = {
    "q1": ("비교 집단 하위 25% 값", "peer lower quartile", "number", ""),
    "median": ("비교 집단 중앙값", "peer median", "number", ""),
    "q3": ("비교 집단 상위 25% 값", "peer upper quartile", "number", ""),
    "lower": ("정상 범위 하한", "lower bound of the usual range", "number", ""),
    "upper": ("정상 범위 상한", "upper bound of the usual range", "number", ""),
    "mean": ("비교 집단 평균", "peer mean", "number", ""),
    "std": ("비교 집단 표준편차", "peer standard deviation", "number", ""),
    "zscore": ("표준점수", "z-score", "number", ""),
    "size": ("비교 대상 수", "peers compared", "count", "건"),
}

#: The thresholds of the law a record was judged by, with the day each took effect
#: (engine/params_dated.py EVIDENCE_KEY): English, Korean.
PARAMS_IN_FORCE = "params.in_force"
PARAMS_IN_FORCE_LABEL = ("threshold in force", "적용 기준(시행일)")

#: Aggregates over a column (``sum_amount``): Korean before the label, English before it,
#: and the kind when it is not the column's own (a count of distinct values).
_AGGREGATES: dict[str, tuple[str, str, str]] = {
    "sum": ("합계", "total", ""),
    "min": ("최소", "smallest", ""),
    "max": ("최대", "largest", ""),
    "mean": ("평균", "average", ""),
    "distinct": ("서로 다른", "distinct", "count"),
    "count": ("건수", "count of", "count"),
}
_AGGREGATE = re.compile(r"^(" + "|".join(_AGGREGATES) + r")_(\w+)$")


class KeyLabel(NamedTuple):
    """How one evidence key reads: its label, its value's kind (naebu/core/dataset_model.py) and
    the counting word after a count ("" for none)."""

    label: str
    kind: str
    unit: str = ""


def english(column: Column) -> str:
    """A short English label: the description up to its first bracket or colon."""
    text = re.split(r" \(|:|, |;", column.description or column.name.replace("_", " "))[0]
    return text.strip() or column.name.replace("_", " ")


def column_label(column: Column, language: str) -> str:
    """A column's label in ``language``: its Korean label, or the short English one."""
    return (column.label or english(column)) if language == "ko" else english(column)


def spaced(name: str) -> str:
    """A key nothing declares, readable: words apart, never ``snake_case``."""
    return name.replace("_", " ").replace(".", " ").strip() or "-"


def _common_ending(texts: list[str]) -> str:
    """The words every text ends with ("" for none): 부서 of 지출 부서 and 계약 부서."""
    words = [t.split() for t in texts]
    common: list[str] = []
    while all(len(w) > len(common) for w in words):
        ending = {w[-1 - len(common)] for w in words}
        if len(ending) != 1:
            break
        common.insert(0, ending.pop())
    return " ".join(common)


def _any_column(name: str) -> Column | None:
    """The column ``name`` of any dataset, for a key whose dataset is unknown or lacks it.

    Datasets call a column by their own words (지출 부서, 계약 부서); this one is labelled
    by the words all their labels end with (부서), else by the first dataset's label; in
    English by the words all descriptions end with, else by its name in words (never by
    another dataset's description, which may say something else: a salary account)."""
    columns = [d.by_name[name] for d in DATASETS.values() if name in d.by_name]
    if len(columns) <= 1:
        return columns[0] if columns else None
    label = _common_ending([c.label for c in columns]) or columns[0].label
    described = _common_ending([english(c) for c in columns]) or spaced(name)
    return replace(columns[0], label=label, description=described)


def _column_key(name: str, dataset: Dataset | None, language: str) -> KeyLabel | None:
    """A column of ``dataset`` (of any dataset when it is None or lacks it), or an aggregate
    over one (``sum_amount``); None when the name is neither."""
    column = dataset.by_name.get(name) if dataset is not None else None
    column = column or _any_column(name)
    if column is not None:
        return KeyLabel(column_label(column, language), column.kind, column.unit)
    aggregate = _AGGREGATE.match(name)
    if aggregate is None:
        return None
    head_ko, head_en, kind = _AGGREGATES[aggregate.group(1)]
    inner = _column_key(aggregate.group(2), dataset, language)
    what = inner.label if inner is not None else spaced(aggregate.group(2))
    kind = kind or (inner.kind if inner is not None else "number")
    if language != "ko":
        return KeyLabel(f"{head_en} {what}", kind, "")
    if aggregate.group(1) == "count":
        return KeyLabel(f"{what} 건수", kind, "건")
    if aggregate.group(1) == "distinct":
        return KeyLabel(f"서로 다른 {what} 수", kind, "")
    return KeyLabel(f"{head_ko} {what}", kind, "")


def join_prefix(prefix: str, language: str = "ko") -> tuple[Dataset | None, str]:
    """The dataset a join prefix names and how to call the joined record in ``language``;
    ``(None, "관련 기록")`` for a prefix neither a dataset nor a known alias."""
    ko = language == "ko"
    if prefix in JOIN_ALIASES:
        name, label_ko, label_en = JOIN_ALIASES[prefix]
        return DATASETS[name], label_ko if ko else label_en
    other = DATASETS.get(prefix)
    if other is not None:
        return other, other.title.split(" (")[0] if ko else _record_en(other)
    return None, "관련 기록" if ko else "related record"


def _record_en(dataset: Dataset) -> str:
    """A dataset's record in English, from its key's description: receipt (receipt number),
    permit case (permit case number)."""
    words = english(dataset.by_name[dataset.key]).split()
    if len(words) > 1 and words[-1] in ("number", "code", "name", "id"):
        words = words[:-1]
    return " ".join(words)


def _computed(table: dict[str, tuple[str, str, str, str]], name: str, language: str) -> KeyLabel:
    label_ko, label_en, kind, unit = table[name]
    return KeyLabel(label_ko if language == "ko" else label_en, kind, unit)


def resolve_key(key: str, dataset: Dataset | None, language: str = "ko") -> KeyLabel:
    """The label, kind and counting word of evidence ``key`` of an alert on ``dataset``."""
    if key == PARAMS_IN_FORCE:
        return KeyLabel(PARAMS_IN_FORCE_LABEL[language == "ko"], "text")
    prefix, _, name = key.rpartition(".")
    if not prefix:
        found = _column_key(name, dataset, language)
        return found or KeyLabel(spaced(name), "", "")
    if prefix == "group" and name in GROUP_FIELDS:
        return _computed(GROUP_FIELDS, name, language)
    if prefix == "peer" and name in PEER_FIELDS:
        return _computed(PEER_FIELDS, name, language)
    if prefix in ("group", "peer"):
        found = _column_key(name, dataset, language)
        return found or KeyLabel(spaced(name), "", "")
    other, record = join_prefix(prefix, language)
    found = _column_key(name, other, language) or KeyLabel(spaced(name), "", "")
    if language == "ko":
        return found._replace(label=f"{record} {found.label}")  # 거래처 계좌 변경일
    return found._replace(label=f"{found.label} ({record})")  # day decided (permit case)
