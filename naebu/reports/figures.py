"""Figures that say where they come from, and how officials read numbers.

Every figure a report prints is a :class:`Figure`: its value, and the records it counts (alert
ids, suppression ids, audit-trail entries, runs) with the query that found them in words. A
report's :class:`Sources` numbers the figures that have records; the HTML links each figure
to its note in the appendix "근거 기록", which lists the ids, so an auditor can open every
alert behind a number (``naebu alerts show ID``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from naebu.core import formatting


@dataclass
class Figure:
    """One number of a report and the records behind it."""

    value: float | int | None
    #: How it reads (``12건``, ``1,234,000원``, ``25%``).
    text: str
    #: What was counted, in words: "경보 (규칙 PAY-DUPLICATE, 발생 2025-01..2025-06)".
    source: str = ""
    #: The records counted: ("alert", ids), ("suppression", ids), ("trail", seqs), ("run", ids).
    records: list[tuple[str, list[int]]] = field(default_factory=list)
    #: Its note number in the appendix, given by :meth:`Sources.note`.
    note: int | None = None


RECORD_LABELS = {
    "alert": "경보",
    "suppression": "예외 처리",
    "trail": "감사 기록",
    "run": "점검 실행",
    "version": "규칙 버전",
}


class Sources:
    """The appendix of one report: every figure with records, numbered in order of use."""

    def __init__(self) -> None:
        self.notes: list[Figure] = []

    def note(self, figure: Figure) -> Figure:
        """Number ``figure`` (once) when it has a source; returns it."""
        if figure.note is None and figure.source:
            self.notes.append(figure)
            figure.note = len(self.notes)
        return figure

    def count(
        self, ids: Iterable[int], source: str, kind: str = "alert", unit: str = "건"
    ) -> Figure:
        """A count of records (``ids``), noted."""
        found = sorted(set(ids))
        return self.note(Figure(len(found), f"{len(found):,}{unit}", source, [(kind, found)]))

    def amount(self, value: float | None, ids: Iterable[int], source: str) -> Figure:
        """A sum in won of the records ``ids`` (``해당 없음`` when there is no amount)."""
        return self.note(Figure(value, won(value), source, [("alert", sorted(set(ids)))]))

    def rate(self, part: int, whole: int, ids: Iterable[int], source: str) -> Figure:
        """``part`` out of ``whole`` as a percentage, noted with the records of ``part``."""
        value = part / whole if whole else None
        return self.note(Figure(value, pct(value), source, [("alert", sorted(set(ids)))]))


def link(figure: Figure) -> Markup:
    """The figure as HTML: its text, linked to its note when it has one."""
    text = escape(figure.text)
    if figure.note is None:
        return Markup(text)
    return Markup(f'<a class="fig" href="#src-{figure.note}">{text}<sup>{figure.note}</sup></a>')


def records_text(figure: Figure, limit: int = 400) -> str:
    """The records of a note: ``경보 3건: #1, #4, #9`` (the first ``limit`` of each kind)."""
    parts = []
    for kind, ids in figure.records:
        label = RECORD_LABELS.get(kind, kind)
        if not ids:
            parts.append(f"{label} 없음")
            continue
        shown = ", ".join(f"#{i}" for i in ids[:limit])
        more = f" 외 {len(ids) - limit:,}건" if len(ids) > limit else ""
        parts.append(f"{label} {len(ids):,}건: {shown}{more}")
    return "; ".join(parts)


def won(value: float | None) -> str:
    """An amount as officials read it: ``1,234,000원``; ``해당 없음`` without one."""
    return "해당 없음" if value is None else formatting.won(value, places=0)


def pct(value: float | None) -> str:
    """A share as a percentage: ``12.5%``; ``답변 없음`` when nothing was counted."""
    return "답변 없음" if value is None else f"{value * 100:.1f}%"


def days(value: float | None) -> str:
    """A number of days: ``3.5일``; ``해당 없음`` without one."""
    return "해당 없음" if value is None else f"{value:.1f}일"
