"""``kind = "files"``: CSV and XLSX files dropped in a folder, each taken once.

Options:

- ``path``: the folder (relative to the config file).
- ``pattern``: glob of the files to take, or a list of globs (default ``"*.csv"``; ``"*.xlsx"``
  for spreadsheets; ``"**/*.csv"`` to look into subfolders).
- ``encoding``: ``auto`` (default), ``utf-8``, ``utf-8-sig``, ``cp949`` or ``euc-kr``. ``auto``
  reads a byte-order mark (UTF-8 or UTF-16), else checks that the whole file is UTF-8, else
  CP949 (the Windows superset of EUC-KR that Korean Excel writes).
- ``delimiter``: one character (default ``,``; ``"\\t"`` for tab-separated exports).
- ``sheet``: XLSX sheet name, or its position counting from 1 (default: the first sheet).
- ``header_row``: the row holding the header, counting the file's rows from 1 (a CSV record, as
  a spreadsheet shows it), or ``"auto"`` (the default): the first row that looks like a header
  (:mod:`naebu.connectors.header`), past the title rows, blank rows and merged-cell banners real
  exports start with. Rows above it are not read; locations stay true file lines.
- ``skip_rows``: lines (CSV) or rows (XLSX) before the header line (default 0; the older way of
  saying ``header_row = skip_rows + 1``, without detection; give one of the two).
- ``chunk_size``: rows per batch (default 50,000).
- ``key``: how a row is keyed when the dataset's key column is not mapped (below): ``"line"``
  (default) or ``"content"``.
- ``max_rows`` (default 5,000,000; an XLSX sheet stops at Excel's 1,048,576 whatever it says)
  and ``max_quarantined`` (default 10,000): past either the file ends with a file error. The
  chunk that crosses ``max_quarantined`` is not loaded, so at most that many bad rows reach the
  quarantine; chunks committed before it stay (as after any mid-file file error): a file is
  refused whole when ``chunk_size`` >= ``max_quarantined``, as with the defaults.
- ``max_uncompressed_mb`` (512) and ``max_ratio`` (100): an XLSX zip over either is refused
  before it is opened, and so is one declaring a DTD or entities (:mod:`naebu.connectors.xlsx_guard`).

Files are taken in name order, each once: a file is known by the sha256 of its content, so a
renamed copy of a taken file is not taken again, and a file whose content changed is taken as
new. A file's last batch lists it in ``Batch.files``; the pipeline records it once committed.

Rows are located as ``"{file}:{line}"`` (the header is line 1 when ``skip_rows`` is 0). When the
dataset's key column is not mapped (and the file has no column of that name), that location
is the record key, so files with no identifier (the Seoul expense disclosures) still load.

Such a key knows the row by where it was read, so a publisher that delivers a row again - in an
overlapping later file, or twice within one file - makes a second record of it (and a second
alert). With ``key = "content"`` the record key is instead a hash of the row's mapped, typed
values (every canonical column but the key): ``"c:"`` and 20 hex digits of their sha256. A row
delivered again has the same key, so it updates the same record and raises no new alert; within
one batch it is read once (``rows_read`` still counts it; a log line says how many were merged).
Rows that are alike in every mapped column are then one record: choose it for publications
that repeat rows, not for sources where two identical rows are two payments.

Cells are read as text (the ``csv`` module: it reports the line of each record and lets a
ragged line be refused; Arrow, when every record is a plain line: :mod:`.csv_arrow`) and typed
by ``map_source``. A line with more cells than the header is quarantined; a shorter one padded;
blank lines are not rows. A cell over 131,072 characters, or a quoted cell still open at the
end of the file (a cut file), quarantines its record (:mod:`naebu.connectors.csv_guard`). A file
that cannot be decoded or opened (or a workbook openpyxl cannot read: malformed XML, a bad
CRC) becomes one quarantined entry for the whole file and is recorded as taken (retrying it
would fail the same way); fix it and drop it again under any name. A mapped column the file lacks is a SourceError: the file is not taken,
so it is read again once the mapping or the file is fixed.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from naebu.connectors import csv_arrow, csv_guard, merge, xlsx_guard
from naebu.connectors.base import (
    Batch,
    Connector,
    FileTaken,
    QuarantinedRow,
    SourceError,
    SourceState,
    check_int,
    check_str,
    keep_last,
)
from naebu.connectors.coerce import empty_frame
from naebu.connectors.file_encoding import checksum, decoding, drop_files
from naebu.connectors.header import (
    SCAN_ROWS,
    cell_text,
    check_header_row,
    csv_head,
    header_index,
    header_names,
)
from naebu.connectors.mapping import check_columns, map_source
from naebu.connectors.registry import register
from naebu.connectors.source_settings import SourceConfig
from naebu.core import datasets
from naebu.core.problems import Problem

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp949", "euc-kr")
KEY_MODES = ("line", "content")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
MAX_ROWS = 5_000_000
MAX_QUARANTINED = 10_000
log = logging.getLogger(__name__)

#: A chunk as read: source rows (text cells; a frame of them when Arrow parsed the file),
#: their line numbers, and lines refused outright.
_Chunk = tuple[list[list[str]] | pd.DataFrame, list[int], list[QuarantinedRow]]


class FileError(Exception):
    """A file that cannot be read at all; it becomes one quarantined entry."""


@register
class FilesConnector(Connector):
    """Takes CSV and XLSX files dropped in a folder, each file once."""

    kind = "files"
    options = {
        "path": (None, "folder of the dropped files"),
        "pattern": ("*.csv", "glob (or list of globs) of the files to take"),
        "encoding": ("auto", "text encoding of CSV files"),
        "delimiter": (",", "CSV field delimiter"),
        "sheet": (None, "XLSX sheet name or position (from 1)"),
        "header_row": ("auto", 'row holding the header (from 1), or "auto" (detected)'),
        "skip_rows": (0, "lines before the header"),
        "chunk_size": (50_000, "rows per batch"),
        "key": ("line", 'record key when the key column is not mapped: "line" or "content"'),
        "max_rows": (MAX_ROWS, "rows per file; a longer file is a file error"),
        "max_quarantined": (MAX_QUARANTINED, "bad rows per file; more is a file error"),
        "max_uncompressed_mb": (xlsx_guard.MAX_UNCOMPRESSED_MB, "XLSX size once unzipped"),
        "max_ratio": (xlsx_guard.MAX_RATIO, "XLSX unzipped / zipped size"),
    }

    @classmethod
    def check(cls, source: SourceConfig, file: str) -> list[Problem]:
        """Check the options without touching the folder."""
        problems = super().check(source, file)
        opts = source.options
        key = f"sources.{source.name}"
        check_str(source, file, "path", problems, required=True, hint='path = "drops/cards"')
        pattern = opts.get("pattern", "*.csv")
        patterns = pattern if isinstance(pattern, list) else [pattern]
        if not patterns or not all(isinstance(p, str) and p.strip() for p in patterns):
            problems.append(
                Problem(file, "pattern must be a glob or a list of globs", key=f"{key}.pattern")
            )
        elif any(p.startswith(("/", "\\")) or ".." in Path(p).parts for p in patterns):
            problems.append(
                Problem(
                    file,
                    "pattern is matched inside path and cannot leave it",
                    key=f"{key}.pattern",
                    hint='put the folder in path and the file names in pattern: "*.csv"',
                )
            )
        if opts.get("encoding", "auto") not in ENCODINGS:
            problems.append(
                Problem(
                    file,
                    f"unknown encoding {opts['encoding']!r}",
                    key=f"{key}.encoding",
                    hint="one of: " + ", ".join(ENCODINGS),
                )
            )
        delimiter = opts.get("delimiter", ",")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            problems.append(
                Problem(
                    file,
                    f"delimiter must be one character, not {delimiter!r}",
                    key=f"{key}.delimiter",
                    hint='"," or "\\t" or ";"',
                )
            )
        sheet = opts.get("sheet")
        if sheet is not None and not (
            (isinstance(sheet, str) and sheet)
            or (isinstance(sheet, int) and not isinstance(sheet, bool) and sheet >= 1)
        ):
            problems.append(
                Problem(
                    file,
                    f"sheet must be a sheet name or a position from 1, not {sheet!r}",
                    key=f"{key}.sheet",
                )
            )
        check_int(source, file, "skip_rows", 0, problems)
        header_row = opts.get("header_row", "auto")
        why = check_header_row(header_row)
        if why is not None:
            problems.append(Problem(file, why, key=f"{key}.header_row", hint="header_row = 3"))
        elif header_row != "auto" and opts.get("skip_rows"):
            problems.append(
                Problem(
                    file,
                    "give header_row or skip_rows, not both",
                    key=f"{key}.header_row",
                    hint=f"header_row = {header_row} alone (rows counted from the file's top)",
                )
            )
        check_int(source, file, "chunk_size", 1, problems)
        mode = opts.get("key", "line")
        if mode not in KEY_MODES:
            problems.append(
                Problem(
                    file,
                    f"unknown key {mode!r}",
                    key=f"{key}.key",
                    hint='"line" (file:line, the default) or "content" (a hash of the row)',
                )
            )
        elif mode == "content" and source.dataset in datasets.DATASETS:
            dataset_key = datasets.get(source.dataset).key
            if dataset_key in source.columns:
                problems.append(
                    Problem(
                        file,
                        f'key = "content" but {dataset_key} is mapped: the source has a key',
                        key=f"{key}.key",
                        hint=f'remove key = "content" or the mapping of {dataset_key}',
                    )
                )
        return problems

    def pull(self, state: SourceState) -> Iterator[Batch]:
        """Yield the rows of every file not taken before, file by file, chunk by chunk."""
        folder = Path(str(self.option("path")))
        if not folder.is_dir():
            raise self.problem(f"folder {folder} not found", "create it or fix path")
        taken = set(state.seen_checksums)
        held: list[SourceError] = []
        for path, name in drop_files(folder, self.option("pattern")):
            excel = path.suffix.lower() in EXCEL_SUFFIXES
            # The checksum first: a file taken before is not decoded again on every run.
            digest = checksum(path)
            if digest in taken:
                continue
            taken.add(digest)
            encoding, error = (
                (None, None) if excel else decoding(path, str(self.option("encoding")))
            )
            if error is None:
                try:
                    yield from self._take(path, name, digest, encoding, excel)
                except SourceError as exc:
                    # A mapped column (or the sheet) missing from this file: it waits, not
                    # recorded as taken, until the mapping or the file is fixed. The files
                    # after it are read now: one drop must not hold back the folder.
                    held.append(exc)
            else:
                yield self._file_error(path, name, digest, error)
        if len(held) == 1:
            raise held[0]
        if held:
            first = held[0]
            others = ", ".join(e.message.split(":", 1)[0] for e in held[1:])
            raise SourceError(
                first.source, f"{first.message}; also not taken: {others}", first.hint
            )

    def _take(
        self, path: Path, name: str, checksum: str, encoding: str | None, excel: bool
    ) -> Iterator[Batch]:
        """The batches of one file; the last one carries its FileTaken."""
        chunks = (
            self._read_excel(path, name)
            if excel
            else self._read_csv(path, name, encoding or "utf-8")
        )
        rows = bad = 0
        cap = int(self.option("max_quarantined"))
        pending: Batch | None = None
        try:
            for header, chunk in chunks:
                if pending is not None:
                    yield pending
                pending = self._batch(name, header, chunk, excel)
                bad += len(pending.quarantined)
                if bad > cap:
                    # This chunk is not loaded: at most ``cap`` bad rows reach the quarantine.
                    seen, pending = rows + pending.rows_read, None
                    raise FileError(
                        f"more than {cap} bad rows in its first {seen} rows (max_quarantined): "
                        "is this the right file?"
                    )
                rows += pending.rows_read
        except FileError as exc:
            if pending is not None:
                yield pending
            error = self._file_error(path, name, checksum, str(exc))
            error.files[0].rows = rows
            yield error
            return
        if pending is None:
            pending = Batch(
                self.source.name, self.dataset.name, empty_frame(self.dataset), [], 0, None
            )
        pending.files.append(FileTaken(str(path), checksum, rows))
        yield pending

    def _batch(self, name: str, header: list[str], chunk: _Chunk, excel: bool = False) -> Batch:
        cells, lines, refused = chunk
        locations = [f"{name}:{line}" for line in lines]
        defaults: dict[str, Sequence[str]] = {}
        key = self.dataset.key
        given = {*self.source.columns, *self.source.constants, *self.source.derive}
        keyless = key not in given and key not in header
        # Merged with other sources (merge_on): the key is built from the typed merge_on
        # values, not the location (naebu.connectors.merge).
        built = merge.builds_key(self.source, self.dataset, header)
        if keyless or built:
            defaults[key] = locations
        try:
            check_columns(header, self.dataset, self.source, defaults)
        except SourceError as exc:
            # Name the file: the folder's earlier files had the columns (schemas drift).
            raise SourceError(
                exc.source, f"{name}: {exc.message}; the file is not taken until fixed", exc.hint
            ) from None
        if not isinstance(cells, pd.DataFrame):  # else parsed by Arrow, as Arrow strings
            # CSV cells are all text: as Arrow strings, coercion never scans them for bytes.
            text = object if excel else pd.StringDtype("pyarrow")
            cells = pd.DataFrame(cells, columns=header, dtype=text)
        frame, quarantined, unmapped = map_source(
            cells,
            self.dataset,
            self.source,
            locations,
            defaults=defaults,
            also_required=self.source.merge_on,
        )
        if built:
            frame = merge.with_merge_keys(frame, self.dataset, self.source.merge_on)
            frame = keep_last(frame, key, self.source.name, name)
        elif keyless and self.option("key") == "content":
            frame = self._content_keys(name, frame)
        elif not keyless:  # line keys are unique; a mapped key column may repeat
            frame = keep_last(frame, key, self.source.name, name)
        quarantined = sorted(refused + quarantined, key=lambda q: _line_of(q.location))
        return Batch(
            self.source.name,
            self.dataset.name,
            frame,
            quarantined,
            len(cells) + len(refused),
            None,
            unmapped=unmapped,
        )

    def _content_keys(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` keyed by content (:func:`content_keys`), each key once (the first row)."""
        key = self.dataset.key
        frame = frame.assign(
            **{key: pd.Series(content_keys(frame, self.dataset), index=frame.index, dtype="string")}
        )
        repeated = frame[key].duplicated().to_numpy()
        if repeated.any():
            log.info(
                "source %s: %s: %d row(s) repeat a row of the same batch (same content key): "
                "read once",
                self.source.name,
                name,
                int(repeated.sum()),
            )
            frame = frame[~repeated].reset_index(drop=True)
        return frame

    def _file_error(self, path: Path, name: str, checksum: str, reason: str) -> Batch:
        return Batch(
            self.source.name,
            self.dataset.name,
            empty_frame(self.dataset),
            [QuarantinedRow(name, {"file": name}, reason)],
            1,
            None,
            [FileTaken(str(path), checksum, 0)],
        )

    # Readers: each yields (header, chunk) pairs ---------------------------------------------

    def _read_csv(self, path: Path, name: str, encoding: str) -> Iterator[tuple[list[str], _Chunk]]:
        skip = int(self.option("skip_rows"))
        chunk_size = int(self.option("chunk_size"))
        max_rows = int(self.option("max_rows"))
        delimiter = str(self.option("delimiter"))
        csv_guard.raise_field_limit()
        above = self._rows_above(lambda: csv_head(path, encoding, delimiter))
        # A plain file is parsed by Arrow to the same cells (naebu.connectors.csv_arrow).
        parsed = csv_arrow.read(path, encoding, delimiter, skip, above, max_rows)
        if parsed is not None:
            yield from parsed.chunks(chunk_size)
            return
        raw: list[str] = []  # the text of the record being read (csv_guard)
        eof: list[bool] = []
        with path.open(encoding=encoding, newline="") as fh:
            for _ in range(skip):
                fh.readline()
            reader = csv.reader(csv_guard.tracked(fh, raw, eof), delimiter=delimiter)
            for _ in range(above):
                self._next(reader, skip)
            first = self._next(reader, skip)
            if first is None:
                return
            header = header_names(first)
            rows: list[list[str]] = []
            lines: list[int] = []
            refused: list[QuarantinedRow] = []
            while True:
                before = reader.line_num
                raw.clear()
                try:
                    record = self._next(reader, skip)
                except FileError:
                    # Keep what was read before the unreadable line, then report the file.
                    if rows or refused:
                        yield header, (rows, lines, refused)
                    raise
                if record is None:
                    break
                line = skip + before + 1
                if line > max_rows:
                    stop = FileError(f"more than {max_rows} rows (max_rows)")
                    if rows or refused:
                        yield header, (rows, lines, refused)
                    raise stop
                why = csv_guard.refusal(record, raw, eof, delimiter)
                if why is not None:
                    cells = None
                    refused.append(QuarantinedRow(f"{name}:{line}", _raw(header, record), why))
                else:
                    cells = self._fit(record, header, name, line, refused)
                if cells is not None:
                    rows.append(cells)
                    lines.append(line)
                if len(rows) + len(refused) >= chunk_size:
                    yield header, (rows, lines, refused)
                    rows, lines, refused = [], [], []
            if rows or refused:
                yield header, (rows, lines, refused)

    @staticmethod
    def _next(reader: Any, skip: int) -> list[str] | None:
        try:
            return next(reader, None)
        except csv.Error as exc:
            where = skip + reader.line_num
            raise FileError(
                f"line {where}: not readable as CSV ({exc}); rest of file not read"
            ) from None

    def _read_excel(self, path: Path, name: str) -> Iterator[tuple[list[str], _Chunk]]:
        import openpyxl  # imported here: only spreadsheet drops need it
        from openpyxl.utils.exceptions import InvalidFileException

        refusal = xlsx_guard.refusal(
            path, float(self.option("max_uncompressed_mb")), float(self.option("max_ratio"))
        )
        if refusal is not None:
            raise FileError(refusal)
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise FileError(f"not a readable .xlsx workbook: {exc}") from None
        except Exception as exc:  # openpyxl raises what its XML parser meets (see xlsx_guard)
            raise FileError(xlsx_guard.broken(exc)) from None
        try:
            yield from self._sheet_rows(book, name)
        except (SourceError, FileError):
            raise
        except Exception as exc:  # malformed sheet XML, a bad CRC: the file, not the run
            raise FileError(xlsx_guard.broken(exc)) from None
        finally:
            book.close()

    def _sheet_rows(self, book: Any, name: str) -> Iterator[tuple[list[str], _Chunk]]:
        """The rows of the chosen sheet (read by :meth:`_read_excel`, which owns the book)."""
        sheet = self.option("sheet")
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int):
            if sheet > len(book.worksheets):
                raise self.problem(f"{name} has no sheet {sheet}", f"sheets: {book.sheetnames}")
            ws = book.worksheets[sheet - 1]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise self.problem(f"{name} has no sheet {sheet!r}", f"sheets: {book.sheetnames}")
        # The <dimension> a sheet declares pads every row read to its width: a lying
        # "A1:XFD1048576" turns each row into 16,384 cells. Rows are read as they are.
        ws.reset_dimensions()
        skip = int(self.option("skip_rows"))
        chunk_size = int(self.option("chunk_size"))
        skip += self._rows_above(
            lambda: [
                [cell_text(v) for v in row]
                for row in ws.iter_rows(max_row=SCAN_ROWS, values_only=True)
            ]
        )
        it = ws.iter_rows(values_only=True)
        for _ in range(skip):
            next(it, None)
        first = next(it, None)
        if first is None:
            return
        header = header_names([cell_text(v) for v in first])
        rows: list[list[str]] = []
        lines: list[int] = []
        refused: list[QuarantinedRow] = []
        max_rows = min(int(self.option("max_rows")), xlsx_guard.EXCEL_ROWS)
        width = len(header)
        for line, values in enumerate(it, start=skip + 2):
            if line > max_rows:
                if rows or refused:
                    yield header, (rows, lines, refused)
                raise FileError(f"more than {max_rows} rows (max_rows)")
            if not values:
                continue  # a row the sheet skips (a gap before a far row number)
            if len(values) > width and values[width:].count(None) == len(values) - width:
                values = values[:width]  # empty cells past the header: not each made text
            cells = self._fit([cell_text(v) for v in values], header, name, line, refused)
            if cells is not None:
                rows.append(cells)
                lines.append(line)
            if len(rows) + len(refused) >= chunk_size:
                yield header, (rows, lines, refused)
                rows, lines, refused = [], [], []
        if rows or refused:
            yield header, (rows, lines, refused)

    def _rows_above(self, head: Any) -> int:
        """Rows above the header: from ``header_row``, or detected in the rows ``head()``
        returns; none when ``skip_rows`` places the header (the older option)."""
        header_row = self.option("header_row")
        if header_row != "auto":
            return int(header_row) - 1
        if self.option("skip_rows"):
            return 0
        return header_index(head())

    @staticmethod
    def _fit(
        record: list[str], header: list[str], name: str, line: int, refused: list[QuarantinedRow]
    ) -> list[str] | None:
        """The record's cells fitted to the header, or None (blank line, or refused; a
        refused record is located as ``name:line``)."""
        # One strip of the joined cells, not one per cell: run on every row of every file.
        text = "".join(record)
        if "\x00" in text:
            # NUL is no character of any text a person typed (legacy exports pad with it, an
            # XLSX writes it as _x0000_), and PostgreSQL refuses it in text: the batch
            # holding it could not be stored, and the source stopped at this file each run.
            record = [c.replace("\x00", "") for c in record]
            text = text.replace("\x00", "")
        if not text.strip():
            return None  # a blank line (or a row of empty cells) is not a record
        width = len(header)
        if len(record) > width:
            if any(c.strip() for c in record[width:]):
                raw: dict[str, Any] = dict(zip(header, record, strict=False))
                raw.update({f"column{i + 1}": v for i, v in enumerate(record) if i >= width})
                refused.append(
                    QuarantinedRow(
                        f"{name}:{line}",
                        raw,
                        f"line has {len(record)} cells but the header has {width}",
                    )
                )
                return None
            record = record[:width]
        elif len(record) < width:
            record = record + [""] * (width - len(record))
        return record


def content_keys(frame: pd.DataFrame, dataset: datasets.Dataset) -> list[str]:
    """A key per row from its typed values (every column of ``dataset`` but the key).

    The values are the canonical ones, so the same payment written ``24000`` in one file and
    ``24000.0`` in another, or its date as ``2017-01-01`` or ``2017.0, 1.0, 1.0``, gets one key.
    """
    columns = [c for c in dataset.column_names if c != dataset.key]
    parts = [frame[c].astype("string").fillna("\x00").to_numpy(dtype=object) for c in columns]
    keys = []
    for values in zip(*parts, strict=True):
        digest = hashlib.sha256("\x1f".join(values).encode("utf-8")).hexdigest()
        keys.append("c:" + digest[:20])
    return keys


def _raw(header: list[str], record: list[str]) -> dict[str, Any]:
    """A refused record as quarantined: its cells by header name, long cells cut to 200."""
    cells = dict(zip(header, record, strict=False))
    cells.update({f"column{i + 1}": v for i, v in enumerate(record) if i >= len(header)})
    return {k: v if len(v) <= 200 else v[:200] + "…" for k, v in cells.items()}


def _line_of(location: str) -> int:
    tail = location.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0
