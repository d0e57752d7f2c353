"""CSV drops read by Arrow's C++ parser, when the file is one the ``csv`` module would read the
same way: the cells, the header and each row's line number are then exactly those of the
Python reader in :mod:`naebu.connectors.files`, which stays the reader of every other file.

The Python reader costs about 20 µs a row (the ``csv`` module, then a check and a fit of each
record in Python); a card company's year of approvals is hundreds of thousands of rows.
Arrow parses the same bytes in a fraction of that, but it counts records, not lines, skips
nothing and fits nothing. So a file takes this path only when every record is one line of
exactly the header's width: :func:`read` checks that, and returns None (the Python reader
reads the file) for anything else:

- a row with more or fewer cells than the header (Arrow refuses it: the Python reader pads,
  trims or quarantines it), a blank line or a row of empty cells (not a record), a cell
  holding a line break (a record over several lines: its line number is the first one),
- a cell over :data:`~naebu.connectors.csv_guard.MAX_CELL` characters, a quoted cell still open
  at the end of the file, a NUL, a carriage return not followed by a line feed,
- more rows than ``max_rows``, a header the ``csv`` module cannot read, repeated header names,
  a file over :data:`MAX_BYTES` (the Python reader holds a chunk at a time, not the file).

Quoting agrees otherwise: both read a quote inside an unquoted cell as a character and the
text after a closing quote as part of the cell (``"ab"c`` is ``abc``), a doubled quote inside
a quoted cell as one (``tests/test_sources_csv_arrow.py`` compares the two readers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from naebu.connectors import csv_guard
from naebu.connectors.header import header_names
from naebu.connectors.text_values import WHITESPACE

#: Larger files are read by the Python reader, chunk by chunk: this path holds the file's
#: bytes and its parsed cells whole (about three times the file), so the memory a read
#: takes stays bounded by the chunk or by this, not by the file (a year's export in one
#: file). A card company's monthly drop is a few megabytes.
MAX_BYTES = 16 << 20


@dataclass
class Parsed:
    """A file's header, the line of its first row, and every row's cells (as Arrow text)."""

    header: list[str]
    first_line: int
    table: pa.Table

    def chunks(
        self, size: int
    ) -> Iterator[tuple[list[str], tuple[pd.DataFrame, list[int], list[Any]]]]:
        """The Python reader's chunks of ``size`` rows: (header, (cells, their lines, no
        refused rows)), the cells a frame of text as the files connector builds it."""
        for start in range(0, self.table.num_rows, size):
            part = self.table.slice(start, size)
            n = part.num_rows
            columns = {
                name: pd.arrays.ArrowStringArray(column.combine_chunks())
                for name, column in zip(self.header, part.columns, strict=True)
            }
            frame = pd.DataFrame(columns, index=pd.RangeIndex(n))
            line = self.first_line + start
            yield self.header, (frame, list(range(line, line + n)), [])


def read(
    path: Path, encoding: str, delimiter: str, skip: int, above: int, max_rows: int
) -> Parsed | None:
    """The file parsed by Arrow, or None when the Python reader must read it (see the module
    docstring). ``skip`` lines, then ``above`` records, come before the header."""
    if path.stat().st_size > MAX_BYTES:
        return None
    data = path.read_bytes()
    try:
        if encoding in ("utf-8", "utf-8-sig"):
            if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
        else:
            data = data.decode(encoding).encode("utf-8")
    except UnicodeError:
        return None
    if b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    begin = _header_end(data, delimiter, skip, above)
    if begin is None:
        return None
    header, offset, lines_before = begin
    if len(set(header)) != len(header):
        return None
    rest = data[offset:]
    if not rest:
        return None
    lines = rest.count(b"\n") + (not rest.endswith(b"\n"))
    if lines_before + lines > max_rows:
        return None
    end = len(rest) - (2 if rest.endswith(b"\r\n") else int(rest.endswith(b"\n")))
    last = rest[rest.rfind(b"\n", 0, end) + 1 : end]
    if b'"' in last and csv_guard._open_quote(last.decode("utf-8", "replace"), delimiter):
        return None
    names = [str(i) for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(rest),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != lines or not _plain(table):
        return None
    return Parsed(header, lines_before + 1, table)


def _header_end(
    data: bytes, delimiter: str, skip: int, above: int
) -> tuple[list[str], int, int] | None:
    """(header names, byte offset after the header record, lines up to it), read as the
    Python reader reads them; None when the ``csv`` module cannot."""
    stream = io.BytesIO(data)
    for _ in range(skip):
        stream.readline()
    csv_guard.raise_field_limit()
    reader = csv.reader(_decoded(stream), delimiter=delimiter)
    try:
        for _ in range(above):
            next(reader, None)
        first = next(reader, None)
    except (csv.Error, UnicodeDecodeError):
        return None
    if first is None:
        return None
    return header_names(first), stream.tell(), skip + reader.line_num


def _decoded(stream: io.BytesIO) -> Iterator[str]:
    """The stream's lines as text, read one at a time (its position stays after the last
    line the ``csv`` module asked for)."""
    for line in iter(stream.readline, b""):
        yield line.decode("utf-8")


def _plain(table: pa.Table) -> bool:
    """No cell over the limit or holding a line break, no row of empty cells."""
    blank = None
    for column in table.columns:
        if len(column) and pc.max(pc.utf8_length(column)).as_py() > csv_guard.MAX_CELL:
            return False
        if pc.any(pc.match_substring(column, "\n")).as_py():
            return False
        empty = pc.equal(pc.utf8_trim(column, WHITESPACE), "")
        blank = empty if blank is None else pc.and_(blank, empty)
    return blank is None or not pc.any(blank).as_py()
