"""The scorecard's ranking as an XLSX workbook, with the figures the inbox page shows.

Three sheets: the departments ranked (rank, shrunk score, counts and raw rates) with the city's
totals last; per official when the reader may see them; per month, where a month without
alerts says so instead of showing 0%. Rates and the score are numbers formatted as percent
(a spreadsheet can sort them), an undefined rate is "-", never empty or "None"; headers are
words, not column names. Department and official names come from the directory, which an
insider may edit, so a text cell a spreadsheet would run as a formula is neutralized as in
:mod:`naebu.exporting` (``'`` in front).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from naebu.alerts.ranking import PRIOR, Handling, rate_keys

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

#: key: (Korean, English)
WORDS: dict[str, tuple[str, str]] = {
    "sheet.ranking": ("부서별 순위", "Ranking"),
    "sheet.officials": ("담당자별", "Officials"),
    "sheet.months": ("월별 추이", "Months"),
    "title": ("부서별 경보 처리 현황", "Department scorecard"),
    "rank": ("순위", "Rank"),
    "department": ("부서", "Department"),
    "official": ("담당자", "Official"),
    "score": ("보정 점수", "Fair score"),
    "raised": ("발생", "Raised"),
    "answered": ("조치", "Acted"),
    "approved": ("승인", "Approved"),
    "confirmed": ("확인", "Confirmed"),
    "on_time": ("기한 내 처리", "On time"),
    "overdue": ("기한 경과", "Overdue"),
    "action": ("조치율", "Action rate"),
    "approval": ("승인율", "Approval rate"),
    "confirmation": ("확인율", "Confirmation rate"),
    "timely": ("적기 처리율", "On-time rate"),
    "fp": ("오탐률", "False-positive rate"),
    "month": ("월", "Month"),
    "city": ("기관 전체", "City total"),
    "unranked": ("순위 없음", "not ranked"),
    "unassigned": ("미배정", "unassigned"),
    "none": ("경보 없음", "no alerts"),
    "before": ("자료 없음", "no data yet"),
    "no_department": ("부서 미지정", "no department"),
    "fair": (
        f"보정 점수 = 각 처리율을 기관 전체 처리율 쪽으로 {PRIOR}건만큼 보정한 값의 평균: "
        f"(부서 건수 + {PRIOR} × 기관 전체 처리율) ÷ (부서 분모 + {PRIOR}). 경보가 적은 부서는 "
        "기관 평균에 가깝게, 많은 부서는 자기 처리율에 가깝게 평가됩니다.",
        f"Fair score = the mean of the rates, each pulled toward the city's rate by {PRIOR} "
        f"alerts: (department's count + {PRIOR} x city rate) / (department's denominator + "
        f"{PRIOR}). A department with few alerts scores near the city average.",
    ),
}


class Ranked(Protocol):
    """What is written: a :class:`naebu.alerts.ranking.Board`, or the inbox's scorecard."""

    months: list[str]
    departments: list[Handling]
    city: Handling
    by_month: list[Handling]
    month_states: list[str]


def _safe(text: str) -> str:
    return "'" + text if text.lstrip().startswith(FORMULA_STARTS) else text


def _rate_columns(approval: bool) -> list[tuple[str, str]]:
    """(count, rate) word keys, in the page's order."""
    pairs = [("answered", "action"), ("approved", "approval"), ("confirmed", "confirmation")]
    return [p for p in pairs if approval or p[1] != "approval"]


def write_ranking(
    out: Path | IO[bytes],
    b: Ranked,
    *,
    approval: bool,
    language: str = "ko",
    period: str = "",
    officials: Sequence[tuple[str, Sequence[Handling]]] = (),
) -> None:
    """Write the workbook of ``b`` to ``out`` (a path or a binary file); ``officials``: per
    department (name), its officials' rows, for readers who may see them."""
    from openpyxl import Workbook

    i = 1 if language == "en" else 0

    def w(key: str) -> str:
        return WORDS[key][i]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = w("sheet.ranking")
    sheet.append([w("title") + (f" ({period})" if period else "")])
    sheet.append([w("fair")])
    head = [w("rank"), w("department"), w("score"), w("raised")]
    for count, rate in _rate_columns(approval):
        head += [w(count), w(rate)]
    head += [w("on_time"), w("overdue"), w("timely"), w("fp")]
    sheet.append(head)
    for h in b.departments:
        rank: Any = h.rank if h.rank is not None else w("unranked")
        name = w("no_department") if h.name == "-" else _safe(h.name)
        _row(sheet, [rank, name], h, approval, score=True)
    _row(sheet, ["-", w("city")], b.city, approval, score=True, city=True)

    if officials:
        s2 = book.create_sheet(w("sheet.officials"))
        s2.append([w("department"), w("official"), *head[3:]])
        for department, rows in officials:
            for h in rows:
                dept = w("no_department") if department in ("", "-") else _safe(department)
                who = _safe(h.name) if h.name else w("unassigned")
                _row(s2, [dept, who], h, approval, score=False)

    s3 = book.create_sheet(w("sheet.months"))
    rates = [k for k in rate_keys(approval)]
    s3.append([w("month"), w("raised"), *(w(k) for k in rates)])
    for month, h, state in zip(b.months, b.by_month, b.month_states, strict=True):
        if state == "before":
            s3.append([month, w("before")])
            continue
        line: list[Any] = [month, h.raised]
        line += [h.rate(k) if state == "data" else w("none") for k in rates]
        _append(s3, line, first_number=1)
    book.save(out)


def _row(
    sheet: Any,
    lead: list[Any],
    h: Handling,
    approval: bool,
    *,
    score: bool,
    city: bool = False,
) -> None:
    values: list[Any] = list(lead)
    if score:
        values.append("-" if city or h.score is None else h.score)
    values.append(h.raised)
    for count, rate in _rate_columns(approval):
        values += [h.count(count), h.rate(rate)]
    values += [h.on_time, h.overdue, h.on_time_rate, h.false_positive_rate]
    _append(sheet, values, first_number=len(lead))


def _append(sheet: Any, values: list[Any], *, first_number: int) -> None:
    """Append a row: ints as counts, floats as percent, None as "-"."""
    sheet.append(["-" if v is None else v for v in values])
    row = sheet.max_row
    for col, v in enumerate(values, 1):
        cell = sheet.cell(row=row, column=col)
        if isinstance(v, float):
            cell.number_format = "0.0%"
        elif isinstance(v, int) and not isinstance(v, bool) and col > first_number:
            cell.number_format = "#,##0"
