"""The shape of a canonical dataset (naebu/core/datasets.py declares them): its columns, their
types and Korean labels, and the roles some columns play (key, event time, department, official).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

COLUMN_TYPES = ("str", "int", "number", "date", "datetime", "time", "bool")

#: How a value reads to an official (alerts/evidence_text.py): ``money`` 12,954,000원, ``count``
#: 3건, ``hours`` 4시간, ``date`` 2025-10-03(금, 개천절), ``month`` 2025년 12월, ``instant`` with the time, ``person``
#: a name from the officials directory, ``code`` an identifier as is, ``text`` as is.
COLUMN_KINDS = (
    "money",
    "count",
    "hours",
    "number",
    "date",
    "month",
    "instant",
    "time",
    "flag",
    "person",
    "code",
    "text",
)

#: Columns holding an official's employee number: shown as the official's name and position.
_PERSON_COLUMNS = frozenset(
    {"official_id", "approver_id", "holder_id", "head_id", "supervisor_id", "employee_id"}
)
_MONEY_WORDS = ("amount", "price", "appraisal_mean")


def default_kind(name: str, typ: str) -> str:
    """A column's kind from its type and name, where no declaration says otherwise."""
    if name in _PERSON_COLUMNS:
        return "person"
    if typ == "number":
        if any(w in name for w in _MONEY_WORDS):
            return "money"
        return "hours" if name.endswith("_hours") else "number"
    if typ == "int":
        return "count"
    if typ in ("date", "time"):
        return typ
    if typ == "datetime":
        return "instant"
    if typ == "bool":
        return "flag"
    if name.endswith(("_id", "_no", "_code")) or name == "code":
        return "code"
    return "text"


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
    #: How a value reads (one of ``COLUMN_KINDS``); derived from type and name unless given.
    kind: str = ""
    #: The counting word after a count (건, 명, 회, 일), if any.
    unit: str = ""
    #: A column of the same record whose value, when given, is the unit instead (처리기간 단위).
    unit_from: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", default_kind(self.name, self.type))
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")


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
