"""``naebu sources suggest``: guess how a city's export maps onto a canonical dataset.

Given one CSV or XLSX file, :func:`suggest` reads its first rows the way the files connector
will (encoding and header row detected: :func:`naebu.connectors.file_encoding.decoding`,
:func:`naebu.connectors.header.header_index`), then scores every canonical dataset by how well its
columns match the file's headers:

- a header is normalised (:func:`normalise`) and compared with the synonyms of each canonical
  column (``connectors/synonyms.toml`` plus the city's own files named in
  ``[onboarding] synonyms``): equal to a synonym scores 0.95, one containing the other less,
  a near spelling (difflib ratio) less again;
- the sample values then confirm or weaken it: a date column whose values read as dates gains,
  an amount column of words loses;
- each header serves one canonical column and each canonical column one header (best first);
  a header that many datasets share (부서명) weighs less in choosing the dataset than one only
  a single dataset has (승인번호).

For the chosen dataset it proposes ``formats`` for dates not in ISO form, value maps for coded
columns (the distinct values seen beside the canonical codes, each with a guess where the
synonyms or the spelling make one), and ``constants`` a file of that kind usually implies.
:mod:`naebu.connectors.suggest_render` prints the result as a config section or JSON.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from naebu.connectors.file_encoding import decoding
from naebu.connectors.files import EXCEL_SUFFIXES, cell_text, header_names
from naebu.connectors.header import SCAN_ROWS, header_index
from naebu.connectors.suggest_propose import (
    Derivation,
    ValueGuess,
    date_format,
    derive_proposals,
    numbered_groups,
    value_map,
)
from naebu.connectors.synonyms import Synonyms, load_synonyms, normalise
from naebu.core import datasets

__all__ = [
    "Sample",
    "Suggestion",
    "SuggestError",
    "load_synonyms",
    "normalise",
    "read_samples",
    "sqlite_tables",
    "suggest",
]

#: Data rows read for the type checks and the value maps.
SAMPLE_ROWS = 2000
#: A guess below this is not proposed (the header is listed as unmapped).
MIN_SCORE = 0.6
#: A coded column with more distinct values than this is free text: no value map proposed.
MAX_CODES = 40

# Reading a sample ---------------------------------------------------------------------------


@dataclass
class Sample:
    """The first rows of a file, read as the files connector reads them."""

    path: Path
    encoding: str | None
    header_row: int
    headers: list[str]
    rows: list[list[str]]
    sheet: str | None = None
    delimiter: str = ","
    #: A SQLite database's table (the section is then ``kind = "sql"``).
    table: str | None = None

    def column(self, header: str) -> list[str]:
        """The non-empty sample values of one column, stripped."""
        i = self.headers.index(header)
        values = (row[i].strip() if i < len(row) else "" for row in self.rows)
        return [v for v in values if v]


class SuggestError(Exception):
    """The file cannot be read at all (one line, shown to the user)."""


#: Files read as SQLite databases (one section per table).
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def read_sample(
    path: Path, encoding: str = "auto", rows: int = SAMPLE_ROWS, table: str | None = None
) -> Sample:
    """The header (detected) and up to ``rows`` data rows of a CSV or XLSX file, or of a
    table of a SQLite database."""
    if not path.is_file():
        raise SuggestError(f"{path}: no such file")
    if path.suffix.lower() in SQLITE_SUFFIXES:
        return _sqlite_sample(path, table or "", rows)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _excel_samples(path, rows)[0]
    used, error = decoding(path, encoding)
    if used is None:
        raise SuggestError(f"{path}: {error}")
    records: list[list[str]] = []
    delimiter = _sniff_delimiter(path, used)
    with path.open(encoding=used, newline="") as fh:
        try:
            for record in csv.reader(fh, delimiter=delimiter):
                records.append(record)
                if len(records) >= SCAN_ROWS + rows:
                    break
        except csv.Error as exc:
            if not records:
                raise SuggestError(f"{path}: not readable as CSV ({exc})") from None
    sample = _sample(path, used, records, rows)
    sample.delimiter = delimiter
    return sample


def sqlite_tables(path: Path) -> list[str]:
    """The tables of a SQLite database file, by name."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            found = db.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise SuggestError(f"{path}: not a readable SQLite database ({exc})") from None
    return [str(name) for (name,) in found]


def _sqlite_sample(path: Path, table: str, rows: int) -> Sample:
    import sqlite3

    tables = sqlite_tables(path)
    if table not in tables:
        raise SuggestError(f"{path}: no table {table!r} - tables: {', '.join(tables) or 'none'}")
    quoted = '"' + table.replace('"', '""') + '"'
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        cursor = db.execute(f"SELECT * FROM {quoted} LIMIT ?", (rows,))  # noqa: S608
        headers = [d[0] for d in cursor.description]
        data = [[cell_text(v) for v in row] for row in cursor.fetchall()]
    return Sample(path, None, 1, headers, data, table=table)


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as fh:
        head = fh.read(8192)
    counts = {d: head.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] * 2 else ","


#: Sheets of a workbook looked at (a cover sheet or a legend often comes first).
MAX_SHEETS = 10


def read_samples(
    path: Path, encoding: str = "auto", rows: int = SAMPLE_ROWS, table: str | None = None
) -> list[Sample]:
    """:func:`read_sample`, but every non-empty sheet of a workbook (the first ones)."""
    if path.is_file() and path.suffix.lower() in EXCEL_SUFFIXES:
        return _excel_samples(path, rows)
    return [read_sample(path, encoding, rows, table)]


def _excel_samples(path: Path, rows: int) -> list[Sample]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise SuggestError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    samples = []
    try:
        for ws in book.worksheets[:MAX_SHEETS]:
            records = [
                [cell_text(v) for v in row]
                for row in ws.iter_rows(max_row=SCAN_ROWS + rows, values_only=True)
            ]
            if any(any(c.strip() for c in r) for r in records):
                sample = _sample(path, None, records, rows)
                sample.sheet = ws.title
                samples.append(sample)
    finally:
        book.close()
    if not samples:
        raise SuggestError(f"{path}: every sheet is empty")
    return samples


def _sample(path: Path, encoding: str | None, records: list[list[str]], rows: int) -> Sample:
    if not records:
        raise SuggestError(f"{path}: the file is empty")
    at = header_index(records)
    headers = header_names(records[at])
    data = [r for r in records[at + 1 :] if any(c.strip() for c in r)][:rows]
    return Sample(path, encoding, at + 1, headers, data)


# Scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What a column's sample values look like (fractions of the non-empty values)."""

    filled: int
    date: float
    time: float
    number: float
    flag: float
    distinct: int
    #: Values holding a digit (identifiers do; names do not).
    digits: float = 0.0
    #: Numbers written with a unit word (``14일``, ``100건``, ``3명``): derived, not mapped.
    unit: float = 0.0


_DATE = re.compile(
    r"^\d{4}\s*[-./년]\s*\d{1,2}\s*[-./월]\s*\d{1,2}|^(19|20)\d{2}[01]\d[0-3]\d$"
    r"|^\d{4}\s*[-./년]\s*\d{1,2}\s*월?$"  # a month: 2025-03, 2025년 03월 (formats read it)
)
_UNIT = re.compile(r"^[\d,]+(\.\d+)?\s*[가-힣]{1,2}$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$|^([01]\d|2[0-3])[0-5]\d([0-5]\d)?$")
_NUMBER = re.compile(r"^[(₩\-+]?\s*[\d,]+(\.\d+)?\s*원?\)?$")
_FLAGS = {"y", "n", "yes", "no", "예", "아니오", "true", "false", "0", "1"}


def profile(values: Sequence[str]) -> Profile:
    """The type evidence of one column's sample values."""
    n = len(values)
    if not n:
        return Profile(0, 0.0, 0.0, 0.0, 0.0, 0)
    texts = [unicodedata.normalize("NFKC", v) for v in values]
    return Profile(
        n,
        sum(bool(_DATE.match(v)) for v in texts) / n,
        sum(bool(_TIME.match(v)) for v in texts) / n,
        sum(bool(_NUMBER.match(v)) for v in texts) / n,
        sum(v.casefold() in _FLAGS for v in texts) / n,
        len(set(texts)),
        sum(any(c.isdigit() for c in v) for v in texts) / n,
        sum(bool(_UNIT.match(v)) and not v.endswith("원") for v in texts) / n,
    )


def _type_factor(column: datasets.Column, prof: Profile, codes: float) -> tuple[float, str]:
    """How the sample values bear on a guess: (factor, why). ``codes``: the share of the
    values that are the column's codes or their known synonyms."""
    type_ = column.type
    if not prof.filled:
        return 1.0, ""
    if codes >= 0.5:
        return 1.08, "values are its codes"
    if type_ in ("number", "int") and prof.unit >= 0.8:
        return 0.5, "numbers with a unit: derive it"
    if type_ == "str" and column.name.endswith(("_id", "_no")) and prof.digits < 0.2:
        return 0.7, "values hold no digits"
    evidence = {
        "date": prof.date,
        "datetime": prof.date,
        "time": prof.time,
        "number": prof.number,
        "int": prof.number,
        "bool": prof.flag,
    }.get(type_)
    if evidence is None:  # text: a column of dates or times is rarely a name or a code
        return (0.7, "values look like dates") if max(prof.date, prof.time) > 0.8 else (1.0, "")
    if evidence >= 0.8:
        return 1.08, f"values are {type_}s"
    if evidence < 0.3:
        return 0.45, f"values are not {type_}s"
    return 0.85, f"some values are not {type_}s"


def header_score(header: str, synonyms: Sequence[str]) -> tuple[float, str]:
    """(score, why) of a header against one canonical column's synonyms, before types."""
    h = normalise(header)
    if not h:
        return 0.0, ""
    best = (0.0, "")
    for synonym in synonyms:
        s = normalise(synonym)
        if not s:
            continue
        if h == s:
            return 0.95, "synonym"
        if len(s) >= 2 and s in h:
            score = 0.72 + 0.2 * len(s) / len(h)
            why = f"contains {synonym}"
        elif len(h) >= 2 and h in s:
            score = 0.45 + 0.2 * len(h) / len(s)
            why = f"part of {synonym}"
        else:
            score = 0.85 * difflib.SequenceMatcher(None, h, s).ratio()
            why = f"similar to {synonym}"
        if score > best[0]:
            best = (score, why)
    return best


@dataclass
class ColumnGuess:
    """One canonical column guessed from one source header."""

    column: str
    header: str
    score: float
    why: str
    #: Several headers whose values are joined (year, month, day); ``header`` is the first.
    parts: tuple[str, ...] = ()

    @property
    def source(self) -> str | list[str]:
        """The mapping value: one header, or the list of joined headers."""
        return list(self.parts) if self.parts else self.header


@dataclass
class DatasetGuess:
    """How well one canonical dataset fits the file."""

    dataset: str
    score: float
    columns: list[ColumnGuess]


def guess_dataset(
    sample: Sample, synonyms: Synonyms, dataset: str, weights: dict[str, float]
) -> DatasetGuess:
    """The best one-to-one assignment of headers to the columns of ``dataset``, and its score."""
    ds = datasets.get(dataset)
    grouped = {h for group in numbered_groups(sample.headers).values() for h in group}
    single = [h for h in sample.headers if h not in grouped]
    profiles = {h: profile(sample.column(h)) for h in single}
    pairs: list[ColumnGuess] = []
    for col in ds.columns:
        names = [col.name, *synonyms.columns.get((dataset, col.name), [])]
        for header in single:
            score, why = header_score(header, names)
            if score < 0.45:
                continue
            codes = synonyms.code_share(dataset, col.name, sample.column(header))
            factor, reason = _type_factor(col, profiles[header], codes)
            score = min(score * factor, 1.0)
            pairs.append(ColumnGuess(col.name, header, round(score, 2), _join(why, reason)))
    pairs.sort(key=lambda g: (-g.score, ds.column_names.index(g.column)))
    taken_cols: set[str] = set()
    taken_headers: set[str] = set()
    chosen: list[ColumnGuess] = []
    for guess in pairs:
        if guess.score < MIN_SCORE or guess.column in taken_cols or guess.header in taken_headers:
            continue
        chosen.append(guess)
        taken_cols.add(guess.column)
        taken_headers.add(guess.header)
    _date_parts(sample, ds, chosen, taken_headers)
    taken_cols = {g.column for g in chosen}
    chosen.sort(key=lambda g: ds.column_names.index(g.column))
    total = sum(g.score * weights.get(normalise(g.header), 1.0) for g in chosen)
    if ds.key in taken_cols:
        total += 0.5 * weights.get(normalise(_header_of(chosen, ds.key)), 1.0)
    total -= 0.3 * sum(1 for c in ds.required_columns if c not in taken_cols and c != ds.key)
    return DatasetGuess(dataset, round(total, 3), chosen)


#: Headers of a date given in three columns (the Seoul city disclosures: year, month, day).
_PARTS = (("year", "연도", "년도", "년"), ("month", "월"), ("day", "일"))


def _date_parts(
    sample: Sample, ds: datasets.Dataset, chosen: list[ColumnGuess], taken: set[str]
) -> None:
    """Map the event date (else the first required date) onto year, month and day columns
    when no header gave it: the files connector joins a list of columns."""
    dates = [
        c.name for c in ds.columns if c.type == "date" and (c.required or c.name == ds.event_time)
    ]
    if not dates or any(g.column in dates for g in chosen):
        return
    found = []
    for names in _PARTS:
        header = next((h for h in sample.headers if h not in taken and normalise(h) in names), None)
        if header is None:
            return
        found.append(header)
    target = ds.event_time if ds.event_time in dates else dates[0]
    chosen.append(ColumnGuess(target, found[0], 0.8, "year, month and day columns", tuple(found)))
    taken.update(found)


def _header_of(guesses: Sequence[ColumnGuess], column: str) -> str:
    return next(g.header for g in guesses if g.column == column)


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def header_weights(sample: Sample, synonyms: Synonyms) -> dict[str, float]:
    """Per normalised header, 1 / the number of datasets having it as a synonym (a header
    every dataset has says little about which dataset the file is)."""
    owners: dict[str, set[str]] = {}
    for (ds, _), names in synonyms.columns.items():
        for name in names:
            owners.setdefault(normalise(name), set()).add(ds)
    return {normalise(h): 1.0 / max(1, len(owners.get(normalise(h), ()))) for h in sample.headers}


@dataclass
class Suggestion:
    """Everything ``naebu sources suggest`` proposes for one file."""

    sample: Sample
    dataset: str
    forced: bool
    ranking: list[tuple[str, float]]
    columns: list[ColumnGuess]
    unmapped: list[str]
    formats: dict[str, str]
    values: dict[str, list[ValueGuess]]
    vocabularies: dict[str, tuple[str, ...]]
    free_text: dict[str, int]
    constants: dict[str, tuple[str, str]]
    missing_required: list[str]
    #: No header holds the dataset's record key: rows are keyed by ``file:line``.
    keyless: bool = False
    #: Derived columns proposed (commented: check the expression before switching it on).
    derive: list[Derivation] = field(default_factory=list)

    @property
    def mapping(self) -> dict[str, str | list[str]]:
        """canonical column -> source header (or the headers joined)."""
        return {g.column: g.source for g in self.columns}


def suggest(
    path: Path,
    synonyms: Synonyms,
    dataset: str | None = None,
    encoding: str = "auto",
    table: str | None = None,
) -> Suggestion:
    """Read ``path`` (``table`` of a SQLite file) and propose its dataset, mapping, formats,
    value maps and constants."""
    best: tuple[float, Sample, dict[str, DatasetGuess]] | None = None
    for candidate in read_samples(path, encoding, table=table):
        weights = header_weights(candidate, synonyms)
        found = {n: guess_dataset(candidate, synonyms, n, weights) for n in datasets.DATASETS}
        top = found[dataset].score if dataset else max(g.score for g in found.values())
        if best is None or top > best[0]:
            best = (top, candidate, found)  # a workbook: the sheet that fits best
    assert best is not None
    _, sample, guesses = best
    ranking = sorted(((g.dataset, g.score) for g in guesses.values()), key=lambda p: -p[1])
    chosen = guesses[dataset or ranking[0][0]]
    ds = datasets.get(chosen.dataset)
    mapped = {h for g in chosen.columns for h in (g.parts or (g.header,))}
    formats: dict[str, str] = {}
    values: dict[str, list[ValueGuess]] = {}
    vocabularies: dict[str, tuple[str, ...]] = {}
    free_text: dict[str, int] = {}
    for guess in chosen.columns:
        if guess.parts:
            continue
        col = ds.by_name[guess.column]
        seen = sample.column(guess.header)
        if col.type in ("date", "datetime"):
            fmt = date_format(seen)
            if fmt:
                formats[col.name] = fmt
        vocabulary = synonyms.vocabulary(ds.name, col.name)
        if vocabulary:
            vocabularies[col.name] = vocabulary
            distinct = {unicodedata.normalize("NFKC", v).strip() for v in seen}
            if len(distinct) > MAX_CODES:
                free_text[col.name] = len(distinct)
            else:
                variants = synonyms.values.get(f"{ds.name}.{col.name}", {})
                guessed = value_map(seen, vocabulary, variants)
                if guessed:
                    values[col.name] = guessed
    chosen_columns = {g.column for g in chosen.columns}
    derive = derive_proposals(sample.headers, ds, synonyms.derive, chosen_columns, sample.column)
    derived = {h for d in derive for h in d.headers}
    constants = _constants(synonyms, ds.name, chosen_columns)
    return Suggestion(
        sample=sample,
        dataset=ds.name,
        forced=dataset is not None,
        ranking=ranking,
        columns=chosen.columns,
        unmapped=[h for h in sample.headers if h not in mapped and h not in derived],
        formats=formats,
        values=values,
        vocabularies=vocabularies,
        free_text=free_text,
        constants=constants,
        missing_required=[c for c in ds.required_columns if c not in {*chosen_columns, ds.key}],
        keyless=ds.key not in chosen_columns,
        derive=derive,
    )


def _constants(synonyms: Synonyms, dataset: str, mapped: set[str]) -> dict[str, tuple[str, str]]:
    out = {}
    for key, hint in synonyms.constants.items():
        ds_name, _, column = key.partition(".")
        if ds_name == dataset and column not in mapped:
            out[column] = hint
    return out
