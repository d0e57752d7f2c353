"""What every connector shares: the batch it yields, the state it resumes from, its base class.

A connector reads one source (a database table or query, a folder of file drops) and yields
:class:`Batch` objects: rows already mapped onto a canonical dataset and typed by
:func:`naebu.connectors.coerce.coerce`, plus the rows that could not be typed
(:class:`QuarantinedRow`, each with its reason). The run pipeline commits a batch, then stores
its ``watermark`` and ``files`` in the source's :class:`SourceState`, so the next pull resumes
after it. A batch that is not committed (the run crashed) is simply read again next time; alerts
are idempotent by fingerprint, so reading a row twice is harmless, while losing one is not.

Within one batch a key is one record: when a source repeats a key, the last row read is kept
(:func:`keep_last`), as the record history does.

Errors that concern the whole source (a mapped column the source does not have, a table that
does not exist, a database that cannot be reached) raise :class:`SourceError`: one line naming
the source, so the pipeline can report it and go on with the other sources.
"""

from __future__ import annotations

import ast
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from naebu.connectors.source_settings import SourceConfig
from naebu.core.datasets import DATASETS
from naebu.core.problems import Problem, did_you_mean

log = logging.getLogger(__name__)

#: A column mapping value: one source column, or several whose parts are joined (see coerce).
ColumnSpec = str | Sequence[str]


@dataclass
class SourceState:
    """What the store remembers of a source between runs."""

    #: Last committed watermark, as text (ISO 8601 for dates and timestamps).
    watermark: str | None = None
    #: sha256 (hex) of the files already taken, so a file is taken once whatever its name.
    seen_checksums: set[str] = field(default_factory=set)


@dataclass
class QuarantinedRow:
    """A source row that could not be mapped onto the dataset, kept with the reason why."""

    #: Where the row is: ``"table fin_payment, pay_no=P-001"`` or ``"card-2025-01.csv:17"``.
    location: str
    #: The row as read, JSON-safe (str, None, numbers).
    raw: dict[str, Any]
    #: One line; several problems of one row are joined with ``"; "``.
    reason: str


@dataclass
class FileTaken:
    """A file completely taken by a batch; recorded in ``seen_checksums`` once committed."""

    path: str
    checksum: str
    #: Data rows read from the file (typed plus quarantined).
    rows: int


#: Examples of unmapped values kept per column.
UNMAPPED_EXAMPLES = 5


@dataclass
class UnmappedValues:
    """Values of a coded column that no value map covers and that are not canonical codes:
    read as empty (unknown), counted, a few kept as examples for the run summary and
    ``naebu check --data``."""

    #: Rows whose value was unmapped.
    rows: int = 0
    #: Up to five distinct values, the most frequent first.
    examples: tuple[str, ...] = ()

    def add(self, other: UnmappedValues) -> UnmappedValues:
        """Both counts together (examples: this one's first, then the other's)."""
        examples = list(self.examples)
        for value in other.examples:
            if value not in examples and len(examples) < UNMAPPED_EXAMPLES:
                examples.append(value)
        return UnmappedValues(self.rows + other.rows, tuple(examples))


def add_unmapped(
    into: dict[str, UnmappedValues], *more: Mapping[str, UnmappedValues]
) -> dict[str, UnmappedValues]:
    """``into`` with the counts of each of ``more`` added, column by column (``into`` is
    updated and returned)."""
    for counts in more:
        for column, values in counts.items():
            into[column] = into[column].add(values) if column in into else values
    return into


@dataclass
class Batch:
    """A chunk of one source mapped onto its canonical dataset."""

    source: str
    dataset: str
    #: Every canonical column of the dataset, in declaration order, with coerced dtypes;
    #: columns the source does not map are all-null.
    frame: pd.DataFrame
    quarantined: list[QuarantinedRow]
    #: ``len(frame) + len(quarantined)``.
    rows_read: int
    #: Watermark to store once this batch is committed (None: the source is not incremental).
    watermark: str | None
    #: Files completely taken by this batch.
    files: list[FileTaken] = field(default_factory=list)
    #: canonical column -> its values no value map covers (read as empty).
    unmapped: dict[str, UnmappedValues] = field(default_factory=dict)


class SourceError(Exception):
    """A problem with a whole source; the pipeline reports it and goes on with other sources.

    ``str()`` is one line: ``source NAME: message - hint``.
    """

    def __init__(self, source: str, message: str, hint: str | None = None) -> None:
        self.source = source
        self.message = message
        self.hint = hint
        text = f"source {source}: {message}"
        if hint:
            text += f" - {hint}"
        super().__init__(text)


#: Options every kind accepts besides its own (the config loader puts them in ``options``).
COMMON_OPTIONS: tuple[str, ...] = ()


class Connector(ABC):
    """Base class of a connector kind; subclasses set ``kind`` and ``options``, and ``pull``."""

    #: The ``kind = "..."`` value in the config that selects this class.
    kind: ClassVar[str]
    #: Option name -> (default, short help). An option not listed here is refused by check().
    options: ClassVar[Mapping[str, tuple[Any, str]]] = {}

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        self.dataset = DATASETS[source.dataset]

    def option(self, name: str) -> Any:
        """The value of option ``name``, or its declared default."""
        return self.source.options.get(name, self.options[name][0])

    @classmethod
    def check(cls, source: SourceConfig, file: str) -> list[Problem]:
        """Validate the source's options without any I/O; one Problem per mistake.

        The base check refuses unknown options (with a did-you-mean hint) and malformed
        ``columns`` values; subclasses add the checks of their own options.
        """
        problems: list[Problem] = []
        known = [*cls.options, *COMMON_OPTIONS]
        for name in source.options:
            if name not in known:
                problems.append(
                    Problem(
                        file,
                        f"unknown option {name!r} for kind {cls.kind!r}",
                        key=f"sources.{source.name}.{name}",
                        hint=did_you_mean(name, known) or "options: " + ", ".join(known),
                    )
                )
        for canon, spec in source.columns.items():
            parts = column_parts(spec)
            if not parts or not all(isinstance(p, str) and p for p in parts):
                problems.append(
                    Problem(
                        file,
                        "a column mapping is a source column name or a list of them",
                        key=f"sources.{source.name}.columns.{canon}",
                        hint=f'{canon} = "source_column" or {canon} = ["year", "month", "day"]',
                    )
                )
        return problems

    @abstractmethod
    def pull(self, state: SourceState) -> Iterator[Batch]:
        """Yield the source's new rows as batches, chunk by chunk (memory stays bounded)."""

    # Helpers for subclasses -------------------------------------------------------------

    def problem(self, message: str, hint: str | None = None) -> SourceError:
        """A :class:`SourceError` about this source (to be raised)."""
        return SourceError(self.source.name, message, hint)


def keep_last(frame: pd.DataFrame, key: str, source: str, where: str) -> pd.DataFrame:
    """``frame`` with one row per ``key`` value: the last one read.

    A source may hold a record twice in one pull (a change-log table, a file that repeats a
    row with a corrected amount). The record history keeps the last version of a key
    (``naebu.store.history.store_records``); the rules judge the batch itself, so it is cut the same
    way here: the rules, the stored record and its alert all see the last version, and a key
    gives one finding, not two. ``rows_read`` still counts every row; a log line says how many
    were superseded. Rows without a key are left as they are (coerce quarantines them).
    """
    if frame.empty or key not in frame.columns:
        return frame
    superseded = frame[key].notna() & frame.duplicated(subset=[key], keep="last")
    count = int(superseded.sum())
    if not count:
        return frame
    log.info(
        "source %s: %s: %d row(s) repeat the key of a later row in the same batch: "
        "the last one is kept",
        source,
        where,
        count,
    )
    return frame[~superseded.to_numpy()].reset_index(drop=True)


def column_parts(spec: Any) -> list[str]:
    """The source column(s) of a mapping value, as a list.

    The config loader turns every mapping value into text, so a TOML list arrives as
    ``"['year', 'month', 'day']"``; it is read back here rather than mistaken for a column name.
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                return [spec]
            if isinstance(value, list):
                return [str(v) for v in value]
        return [spec]
    if isinstance(spec, Iterable):
        return [str(v) for v in spec]
    return []


def check_int(
    source: SourceConfig, file: str, name: str, minimum: int, problems: list[Problem]
) -> None:
    """Append a Problem when option ``name`` is present and not a whole number >= minimum."""
    if name not in source.options:
        return
    value = source.options[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(
            Problem(
                file,
                f"{name} must be a whole number >= {minimum}, not {value!r}",
                key=f"sources.{source.name}.{name}",
            )
        )


def check_str(
    source: SourceConfig,
    file: str,
    name: str,
    problems: list[Problem],
    required: bool = False,
    hint: str | None = None,
) -> None:
    """Append a Problem when option ``name`` is not non-empty text (or is missing if required)."""
    key = f"sources.{source.name}.{name}"
    if name not in source.options:
        if required:
            problems.append(Problem(file, f"missing option {name}", key=key, hint=hint))
        return
    value = source.options[name]
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(file, f"{name} must be non-empty text, not {value!r}", key=key))
