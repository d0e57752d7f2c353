"""Finding the header row of an export: title rows, blank rows and banners come first.

Korean administrative exports rarely start with their header. An e-호조 or 인사 system's
spreadsheet opens with a title (``2025년 3월 지출결의 내역``), a line saying when and by whom it
was printed (``출력일: 2025-04-01``), a unit (``(단위: 원)``), blank rows, and merged-cell banners
grouping the columns (``지급정보 | 계약정보``). The header is the first row that looks like one:
several distinct short cells, mostly not numbers or dates, about as wide as the rows after it.

:func:`header_index` is shared by the files connector (``header_row = "auto"``, its default) and
``naebu sources suggest``, so the section the suggestion prints reads the file the way it was
suggested. The helpers below it read the rows it looks at: the first rows of a CSV file, cells as
text, header cells as column names.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Rows looked at; a header further down than this is not found (give ``header_row``).
SCAN_ROWS = 30
#: A header cell is short: longer cells are titles, notes or data.
_MAX_HEADER_CELL = 40
_NUMERIC = re.compile(r"^[\s(₩\-+]*[\d,.]+\s*(원|%|\))?$")
_DATE_LIKE = re.compile(r"^\d{2,4}[-./년]\s*\d{1,2}[-./월]\s*\d{1,2}|^\d{8}$|^\d{1,2}:\d{2}")


def is_value_like(cell: str) -> bool:
    """True for a cell that reads as a number, a date or a time (data, not a name)."""
    text = cell.strip()
    return bool(_NUMERIC.match(text) or _DATE_LIKE.match(text))


def _width(row: Sequence[str]) -> int:
    """Position after the last non-empty cell (a data row's width, blank tail ignored)."""
    for i in range(len(row) - 1, -1, -1):
        if row[i].strip():
            return i + 1
    return 0


def looks_like_header(row: Sequence[str], following: Sequence[Sequence[str]]) -> bool:
    """Whether ``row`` reads as the header of the rows ``following`` it."""
    cells = [c.strip() for c in row if c.strip()]
    widths = [w for w in (_width(r) for r in following) if w]
    if not cells:
        return False
    if len(cells) < 2 and (not widths or statistics.median(widths) > 1):
        return False  # a title or a note above a wider table
    if len(set(cells)) < len(cells) * 0.8:
        return False  # merged-cell banners repeat their text across the cells they span
    if any(len(c) > _MAX_HEADER_CELL for c in cells):
        return False
    if sum(is_value_like(c) for c in cells) > len(cells) * 0.3:
        return False
    # Fewer cells than half the rows below: a banner over a group of columns.
    return not (widths and len(cells) < 0.5 * statistics.median(widths))


def header_index(rows: Sequence[Sequence[str]]) -> int:
    """The 0-based index in ``rows`` (the first rows of a file) of its header row.

    The first row that :func:`looks_like_header` wins; when none does (a file of numbers only),
    the first row, as before header detection existed.
    """
    rows = list(rows[:SCAN_ROWS])
    for i, row in enumerate(rows):
        following = [r for r in rows[i + 1 : i + 6] if any(c.strip() for c in r)]
        if not looks_like_header(row, following):
            continue
        # A banner over groups of columns reads like a header too, but the row under it is
        # one with more cells.
        if following and _filled(following[0]) > _filled(row):
            j = rows.index(following[0], i + 1)
            after = [r for r in rows[j + 1 : j + 6] if any(c.strip() for c in r)]
            if looks_like_header(following[0], after):
                continue
        return i
    return 0


def _filled(row: Sequence[str]) -> int:
    return sum(1 for c in row if c.strip())


def check_header_row(value: object) -> str | None:
    """Why ``value`` is not a valid ``header_row`` option, or None."""
    if value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f'header_row must be a row number from 1 or "auto", not {value!r}'
    return None


def csv_head(path: Path, encoding: str, delimiter: str) -> list[list[str]]:
    """The first rows of a CSV file (fewer when a row is not readable: detection stops there)."""
    rows: list[list[str]] = []
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            for record in reader:
                rows.append(record)
                if len(rows) >= SCAN_ROWS:
                    break
        except csv.Error:
            pass
    return rows


def header_names(cells: list[str]) -> list[str]:
    """Header cells made usable as column names: BOM, NUL and spaces stripped, blanks and
    duplicates named (``column4``, ``amount.2``)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = cell.replace("\ufeff", "").replace("\x00", "").strip() or f"column{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ids and amounts typed into Excel come back as floats
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
