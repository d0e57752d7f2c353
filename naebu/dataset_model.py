"""The shape of a canonical dataset (naebu/datasets.py declares them): its columns, their
types and Korean labels, and the roles some columns play (key, event time, department, official).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

COLUMN_TYPES = ("str", "int", "number", "date", "datetime", "time", "bool")


@dataclass(frozen=True)
class Column:
    """One column of a canonical dataset."""

    name: str
    type: str
    description: str = ""
    required: bool = False
    #: What officials call it (지출결의번호, 지급일, 채주 계좌번호): the words every page,
    #: message and document an official reads uses instead of the column name.
    label: str = ""
    #: The canonical codes of a coded column (contract methods, leave types...): what rules
    #: compare against. A source's values are mapped onto them (``[sources.X.values.COLUMN]``).
    values: tuple[str, ...] = ()
    #: Whether ``values`` is the whole vocabulary: a source value outside it that no map
    #: covers is an "unmapped value", read as unknown (null) and reported.
    closed: bool = False


@dataclass(frozen=True)
class Dataset:
    """A canonical dataset: its columns and the roles some of them play."""

    name: str
    title: str
    columns: tuple[Column, ...]
    key: str
    event_time: str | None = None
    department: str | None = None
    official: str | None = None
    #: Reference data (the officials directory, vendors) is read whole on every pull,
    #: because a rule or the router needs all of it, not only what changed.
    reference: bool = False
    #: Columns records are looked up by across datasets (a contract's payments, the payments
    #: of one invoice number): indexed in the record history, so an incremental run reads
    #: those records by seeking, not by reading the table through.
    lookups: tuple[str, ...] = ()
    by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        for role in (self.key, self.event_time, self.department, self.official, *self.lookups):
            if role is not None and role not in self.by_name:
                raise ValueError(f"dataset {self.name}: role column {role!r} is not a column")

    @property
    def column_names(self) -> list[str]:
        """Column names in declaration order."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns a source row must carry (the key always)."""
        return [c.name for c in self.columns if c.required or c.name == self.key]


def columns_of(
    *specs: tuple[str, str, str, str] | tuple[str, str, str, str, bool] | Column,
) -> tuple[Column, ...]:
    """Columns from ``(name, type, Korean label, English description[, required])`` tuples."""
    out = []
    for spec in specs:
        if isinstance(spec, Column):
            out.append(spec)
            continue
        name, typ, label, desc = spec[0], spec[1], spec[2], spec[3]
        required = bool(spec[4]) if len(spec) > 4 else False
        assert typ in COLUMN_TYPES, (name, typ)
        out.append(Column(name, typ, desc, required, label=label))
    return tuple(out)


def coded(name: str, label: str, description: str, *values: str, closed: bool = True) -> Column:
    """A text column holding one of ``values`` (a closed vocabulary unless ``closed=False``)."""
    return Column(name, "str", description, values=values, closed=closed, label=label)
