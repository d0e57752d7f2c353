"""``naebu sources suggest``: guess how a city's export maps onto a canonical dataset.

Given one CSV or XLSX file, :func:`suggest` reads its first rows the way the files connector
will (encoding and header row detected: :func:`connectors.files.decoding`,
:func:`connectors.header.header_index`), then scores every canonical dataset by how well its
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
:mod:`connectors.suggest_render` prints the result as a config section or JSON.
"""

from __future__ import annotations

import csv
import difflib
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from connectors.files import EXCEL_SUFFIXES, cell_text, decoding, header_names
from connectors.header import SCAN_ROWS, header_index
from naebu import datasets
from naebu.problems import Problem, did_you_mean

#: Data rows read for the type checks and the value maps.
SAMPLE_ROWS = 2000
#: A guess below this is not proposed (the header is listed as unmapped).
MIN_SCORE = 0.6
#: A coded column with more distinct values than this is free text: no value map proposed.
MAX_CODES = 40

_BRACKETED = re.compile(r"[(\[{（［<〈][^)\]}）］>〉]*[)\]}）］>〉]")
_NOISE = re.compile(r"[\s_·\-./:~*※#]+")


@dataclass
class Synonyms:
    """The synonym dictionary: header synonyms, value synonyms and constant hints."""

    #: (dataset, column) -> source headers, as written.
    columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: "dataset.column" -> canonical code -> source values.
    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: "dataset.column" -> (value, reason).
    constants: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, raw: dict[str, object], file: str, problems: list[Problem]) -> None:
        """Add the tables of one synonym file; a mistake in it is a located problem."""
        for section, body in raw.items():
            if section not in ("columns", "values", "constants") or not isinstance(body, dict):
                problems.append(
                    Problem(
                        file,
                        f"unknown table [{section}]",
                        key=section,
                        hint='[columns.DATASET], [values."DATASET.COLUMN"] or '
                        '[constants."DATASET.COLUMN"]',
                    )
                )
                continue
            for name, entries in body.items():
                where = f"{section}.{name}"
                if section == "columns":
                    if name not in datasets.DATASETS or not isinstance(entries, dict):
                        problems.append(_unknown_dataset(file, where, name))
                        continue
                    for column, headers in entries.items():
                        if self._column_ok(file, f"{where}.{column}", name, column, problems):
                            self.columns.setdefault((name, column), []).extend(
                                _strings(headers, file, f"{where}.{column}", problems)
                            )
                    continue
                ds, _, column = name.partition(".")
                if not self._column_ok(file, where, ds, column, problems):
                    continue
                if not isinstance(entries, dict):
                    problems.append(Problem(file, "must be a table", key=where))
                elif section == "values":
                    codes = self.values.setdefault(name, {})
                    for code, variants in entries.items():
                        codes.setdefault(str(code), []).extend(
                            _strings(variants, file, f"{where}.{code}", problems)
                        )
                else:
                    self.constants[name] = (
                        str(entries.get("value", "")),
                        str(entries.get("reason", "")),
                    )

    @staticmethod
    def _column_ok(file: str, where: str, ds: str, column: str, problems: list[Problem]) -> bool:
        if ds not in datasets.DATASETS:
            problems.append(_unknown_dataset(file, where, ds))
            return False
        if column not in datasets.get(ds).by_name:
            problems.append(
                Problem(
                    file,
                    f"{column!r} is not a column of dataset {ds}",
                    key=where,
                    hint=did_you_mean(column, datasets.get(ds).by_name) or None,
                )
            )
            return False
        return True

    def vocabulary(self, dataset: str, column: str) -> tuple[str, ...]:
        """The canonical codes of a coded column (naebu/datasets.py, else this dictionary)."""
        col = datasets.get(dataset).by_name[column]
        declared = tuple(getattr(col, "values", ()) or ())
        return declared or tuple(self.values.get(f"{dataset}.{column}", {}))


def _unknown_dataset(file: str, where: str, name: str) -> Problem:
    return Problem(
        file,
        f"unknown dataset {name!r}",
        key=where,
        hint=did_you_mean(name, datasets.DATASETS) or "one of: " + ", ".join(datasets.DATASETS),
    )


def _strings(value: object, file: str, where: str, problems: list[Problem]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    problems.append(
        Problem(file, "must be a list of text", key=where, hint='["지급일자", "지급일"]')
    )
    return []


def load_synonyms(extra: Iterable[Path] = ()) -> tuple[Synonyms, list[Problem]]:
    """The shipped dictionary plus the city's own files, and the problems found in them."""
    synonyms = Synonyms()
    problems: list[Problem] = []
    shipped = resources.files("connectors").joinpath("synonyms.toml").read_text(encoding="utf-8")
    synonyms.add(tomllib.loads(shipped), "connectors/synonyms.toml", problems)
    for path in extra:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem(str(path), "synonym file not found", key="onboarding.synonyms"))
            continue
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), f"not valid UTF-8 TOML: {exc}"))
            continue
        synonyms.add(raw, str(path), problems)
    return synonyms, problems


def normalise(text: str) -> str:
    """A header or value as compared: NFKC, bracketed units and notes dropped, no spaces or
    punctuation, latin lower-cased (``"지급 금액(원)"`` -> ``"지급금액"``)."""
    text = unicodedata.normalize("NFKC", text).strip()
    stripped = _BRACKETED.sub("", text)
    text = stripped if stripped.strip() else text
    return _NOISE.sub("", text).casefold()


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

    def column(self, header: str) -> list[str]:
        """The non-empty sample values of one column, stripped."""
        i = self.headers.index(header)
        values = (row[i].strip() if i < len(row) else "" for row in self.rows)
        return [v for v in values if v]


class SuggestError(Exception):
    """The file cannot be read at all (one line, shown to the user)."""


def read_sample(path: Path, encoding: str = "auto", rows: int = SAMPLE_ROWS) -> Sample:
    """The header (detected) and up to ``rows`` data rows of a CSV or XLSX file."""
    if not path.is_file():
        raise SuggestError(f"{path}: no such file")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _excel_sample(path, rows)
    used, error = decoding(path, encoding)
    if used is None:
        raise SuggestError(f"{path}: {error}")
    records: list[list[str]] = []
    with path.open(encoding=used, newline="") as fh:
        try:
            for record in csv.reader(fh, delimiter=_sniff_delimiter(path, used)):
                records.append(record)
                if len(records) >= SCAN_ROWS + rows:
                    break
        except csv.Error as exc:
            if not records:
                raise SuggestError(f"{path}: not readable as CSV ({exc})") from None
    return _sample(path, used, records, rows)


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as fh:
        head = fh.read(8192)
    counts = {d: head.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] * 2 else ","


def _excel_sample(path: Path, rows: int) -> Sample:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise SuggestError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        ws = book.worksheets[0]
        records = [
            [cell_text(v) for v in row]
            for row in ws.iter_rows(max_row=SCAN_ROWS + rows, values_only=True)
        ]
        sample = _sample(path, None, records, rows)
        sample.sheet = ws.title
        return sample
    finally:
        book.close()


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


_DATE = re.compile(r"^\d{4}\s*[-./년]\s*\d{1,2}\s*[-./월]\s*\d{1,2}|^(19|20)\d{2}[01]\d[0-3]\d$")
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
    )


def _type_factor(type_: str, prof: Profile) -> tuple[float, str]:
    """How the sample values bear on a guess: (factor, why) for a canonical type."""
    if not prof.filled:
        return 1.0, ""
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
    profiles = {h: profile(sample.column(h)) for h in sample.headers}
    pairs: list[ColumnGuess] = []
    for col in ds.columns:
        names = [col.name, *synonyms.columns.get((dataset, col.name), [])]
        for header in sample.headers:
            score, why = header_score(header, names)
            if score < 0.45:
                continue
            factor, reason = _type_factor(col.type, profiles[header])
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


# Proposals ----------------------------------------------------------------------------------

#: Date layouts proposed as ``formats`` (ISO ``2025-03-12`` needs none).
_DATE_FORMATS = (
    (r"\d{8}", "%Y%m%d"),
    (r"\d{4}\.\d{1,2}\.\d{1,2}", "%Y.%m.%d"),
    (r"\d{4}\. \d{1,2}\. \d{1,2}\.?", None),  # read as is: the dots vary
    (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"),
    (r"\d{2}\.\d{2}\.\d{2}", "%y.%m.%d"),
    (r"\d{2}-\d{2}-\d{2}", "%y-%m-%d"),
    (r"\d{1,2}/\d{1,2}/\d{4}", "%m/%d/%Y"),
    (r"\d{4}년 ?\d{1,2}월 ?\d{1,2}일", None),  # read as is
)


def date_format(values: Sequence[str]) -> str | None:
    """The strptime format every sample value of a date column is in, when not ISO."""
    if not values:
        return None
    for pattern, fmt in _DATE_FORMATS:
        if fmt and all(re.fullmatch(pattern, v) for v in values):
            parsed = pd.to_datetime(pd.Series(list(values)), format=fmt, errors="coerce")
            if parsed.notna().all():
                return fmt
    return None


@dataclass
class ValueGuess:
    """One distinct source value of a coded column and the canonical code it may stand for."""

    value: str
    rows: int
    code: str | None
    score: float
    why: str


def value_map(
    values: Sequence[str], vocabulary: Sequence[str], variants: dict[str, list[str]]
) -> list[ValueGuess]:
    """Guesses for the distinct ``values`` not already canonical codes (most frequent first)."""
    counts = Counter(unicodedata.normalize("NFKC", v).strip() for v in values)
    lookup = {normalise(code): code for code in vocabulary}
    for code, names in variants.items():
        if code in vocabulary:
            lookup.update({normalise(n): code for n in names})
    out: list[ValueGuess] = []
    for value, rows in counts.most_common():
        if value in vocabulary:
            continue
        key = normalise(value)
        if key in lookup:
            out.append(ValueGuess(value, rows, lookup[key], 0.9, "synonym"))
            continue
        contained = [(len(k), code, k) for k, code in lookup.items() if k and k in key]
        if contained:
            _, code, part = max(contained)
            out.append(ValueGuess(value, rows, code, 0.7, f"contains {part}"))
            continue
        close = difflib.get_close_matches(key, list(lookup), n=1, cutoff=0.6)
        if close:
            out.append(ValueGuess(value, rows, lookup[close[0]], 0.6, f"similar to {close[0]}"))
        else:
            out.append(ValueGuess(value, rows, None, 0.0, "no guess"))
    return out


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

    @property
    def mapping(self) -> dict[str, str | list[str]]:
        """canonical column -> source header (or the headers joined)."""
        return {g.column: g.source for g in self.columns}


def suggest(
    path: Path, synonyms: Synonyms, dataset: str | None = None, encoding: str = "auto"
) -> Suggestion:
    """Read ``path`` and propose its dataset, mapping, formats, value maps and constants."""
    sample = read_sample(path, encoding)
    weights = header_weights(sample, synonyms)
    guesses = {name: guess_dataset(sample, synonyms, name, weights) for name in datasets.DATASETS}
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
    constants = _constants(synonyms, ds.name, chosen_columns)
    return Suggestion(
        sample=sample,
        dataset=ds.name,
        forced=dataset is not None,
        ranking=ranking,
        columns=chosen.columns,
        unmapped=[h for h in sample.headers if h not in mapped],
        formats=formats,
        values=values,
        vocabularies=vocabularies,
        free_text=free_text,
        constants=constants,
        missing_required=[c for c in ds.required_columns if c not in {*chosen_columns, ds.key}],
        keyless=ds.key not in chosen_columns,
    )


def _constants(synonyms: Synonyms, dataset: str, mapped: set[str]) -> dict[str, tuple[str, str]]:
    out = {}
    for key, hint in synonyms.constants.items():
        ds_name, _, column = key.partition(".")
        if ds_name == dataset and column not in mapped:
            out[column] = hint
    return out
