"""Plain-text tables for the command line, aligned by display width.

A Hangul syllable takes two terminal columns, so ``f"{title:<12}"`` (which counts characters)
pushes every later column of a Korean row to the right. Here cells are padded by their
display width, measured by ``wcwidth`` (East Asian Wide and Fullwidth characters count two
columns, combining marks none), and a column grows to its widest cell, so the columns of every
row start at the same display column.

Each column has a minimum width and the separator written before it; with cells that fit,
the output is what the old f-string widths printed. The last column, when left-aligned, is
not padded (no trailing spaces after a message or a title).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wcwidth import wcswidth, wcwidth

#: A row of cells, one per column.
Row = Sequence[object]


class _Rule(tuple[object, ...]):
    """The marker of a separator line."""


#: In place of a row: a line of dashes as wide as the header line (before a total row).
RULE: Row = _Rule()


def width(text: str) -> int:
    """The number of terminal columns ``text`` takes."""
    n = wcswidth(text)
    if n >= 0:
        return n
    # A control character (a tab or newline in an error message) has no width of its own;
    # count the printable characters around it instead of giving up on the row.
    return sum(max(wcwidth(ch), 0) for ch in text)


def pad(text: str, columns: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``columns`` display columns (``"<"`` left-aligned,
    ``">"`` right-aligned); text already as wide or wider comes back as it is."""
    fill = " " * max(columns - width(text), 0)
    return fill + text if align == ">" else text + fill


@dataclass(frozen=True)
class Column:
    """One column: its header, minimum display width, alignment (``"<"`` or ``">"``), the
    separator before it (ignored for the first column) and the format of its numbers."""

    header: str
    min_width: int = 0
    align: str = "<"
    before: str = " "
    number: str = ","

    def text(self, value: object) -> str:
        """A cell's text: numbers with thousands separators (or the column's format)."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format(value, self.number)
        return "" if value is None else str(value)


def render(columns: Sequence[Column], rows: Iterable[Row], header: bool = True) -> list[str]:
    """The table as lines: the header line (unless ``header`` is false), then one per row.

    Every row has one cell per column (a ``ValueError`` otherwise). Each column is as wide as its widest cell or its minimum width, whichever is more.
    """
    body = [
        None if isinstance(row, _Rule) else [c.text(v) for c, v in zip(columns, row, strict=True)]
        for row in rows
    ]
    head = [c.header for c in columns] if header else None
    cells = [r for r in [head, *body] if r is not None]
    widths = [max([c.min_width, *(width(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [] if head is None else [_line(columns, widths, head)]
    rule = "-" * (width(lines[0]) if lines else sum(widths))
    lines += [rule if r is None else _line(columns, widths, r) for r in body]
    return lines


def _line(columns: Sequence[Column], widths: Sequence[int], cells: Sequence[str]) -> str:
    parts = []
    for i, (column, cell) in enumerate(zip(columns, cells, strict=True)):
        # Free text in the last column runs on unpadded: no trailing spaces.
        last = i == len(columns) - 1 and column.align == "<"
        parts.append(
            ("" if i == 0 else column.before)
            + (cell if last else pad(cell, widths[i], column.align))
        )
    return "".join(parts)
