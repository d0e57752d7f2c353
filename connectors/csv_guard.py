"""Records a CSV reader returns but that must not load: a cell too long to be a value, and a
quoted cell still open at the end of the file (a cut file: ``"31,5`` would load as 315).

The ``csv`` module's own cell limit (131,072 characters) raises mid-file and used to cost
every row after it; reading with a higher limit (:data:`READ_LIMIT`) and refusing the one
record here keeps the rows after it. A cell past :data:`READ_LIMIT` is still a file error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

#: The longest cell a row may hold: the csv module's default limit.
MAX_CELL = 131_072
#: The limit the reader runs with, so one long cell is one refused row, not a stopped file.
READ_LIMIT = 64 << 20


def raise_field_limit() -> None:
    """Let the ``csv`` module read cells up to :data:`READ_LIMIT` (process-wide; only raised)."""
    if csv.field_size_limit() < READ_LIMIT:
        csv.field_size_limit(READ_LIMIT)


def tracked(lines: Iterable[str], raw: list[str], eof: list[bool]) -> Iterator[str]:
    """``lines``, each also appended to ``raw`` (cleared by the caller per record); ``eof``
    gets an entry once the lines run out, so a record that needed the end of the file shows."""
    for line in lines:
        raw.append(line)
        yield line
    eof.append(True)


def refusal(record: list[str], raw: list[str], eof: list[bool], delimiter: str) -> str | None:
    """Why ``record`` (read from the text ``raw``) must be quarantined, or None."""
    longest = max(map(len, record), default=0)
    if longest > MAX_CELL:
        column = next(i for i, c in enumerate(record) if len(c) == longest) + 1
        return (
            f"cell {column} holds {longest} characters, more than {MAX_CELL}: "
            "a quote not closed, or not this file's delimiter?"
        )
    if eof and '"' in "".join(raw) and _open_quote("".join(raw), delimiter):
        return "a quoted cell is not closed before the end of the file: is the file cut?"
    return None


def _open_quote(text: str, delimiter: str) -> bool:
    """Whether ``text`` ends inside a quoted cell (a strict reader runs out of data)."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False
