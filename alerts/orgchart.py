"""The department tree (조직도): which organisation a department belongs to.

Built from the canonical ``departments`` dataset: each ``department`` names the ``parent`` it
reports to (a bureau, 실·국, or the head of the organisation, 부시장). One naebu may serve
several organisations from one directory (a province's 시·군); the tree tells them apart,
so that each audit office is told of its own organisation's alerts only
(:meth:`naebu.alerts.directory.Directory.audit_office`).

What the tree cannot tell is *unknown* (None), never a guess: a department missing from the
table, and a department whose chain of parents loops or is absurdly deep. Callers keep
today's behaviour (every auditor) for what is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

#: More levels than any organisation chart has: a longer chain is a data error (a loop
#: through many departments), treated like a loop.
MAX_DEPTH = 64


def _name(value: Any) -> str | None:
    """A department cell as stripped text, None for missing or blank values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # list-like cells: not a scalar NA
        pass
    text = str(value).strip()
    return text or None


class OrgChart:
    """Departments and the parent each reports to.

    ``parents`` maps a department to its parent (None: a top of the tree). A department
    whose parent is itself is a top too (some HR systems mark their roots so). An empty
    chart knows nothing: every question about it is unknown.
    """

    def __init__(
        self,
        parents: Mapping[str, str | None] | None = None,
        heads: Mapping[str, str | None] | None = None,
    ) -> None:
        #: Department -> employee id of its head (``departments.head_id``), where given.
        self.heads: dict[str, str] = {}
        for department, head in (heads or {}).items():
            name, head_id = _name(department), _name(head)
            if name is not None and head_id is not None:
                self.heads[name] = head_id
        self._parent: dict[str, str | None] = {}
        for department, parent in (parents or {}).items():
            name = _name(department)
            if name is None:
                continue
            above = _name(parent)
            self._parent[name] = None if above == name else above
        # A province asks about its few hundred departments tens of thousands of times.
        self._lines: dict[str, frozenset[str] | None] = {}

    @classmethod
    def from_frame(cls, departments: pd.DataFrame) -> OrgChart:
        """The chart of a ``departments`` frame (canonical columns ``department``, ``parent``,
        and ``head_id`` when given).

        A frame without those columns gives an empty chart (nothing known); a department
        listed twice keeps its last row, as the record history does.
        """
        columns = set(departments.columns)
        if departments.empty or "department" not in columns:
            return cls()
        names = departments["department"].tolist()
        heads = None
        if "head_id" in columns:
            heads = dict(zip(names, departments["head_id"].tolist(), strict=True))
        if "parent" not in columns:
            return cls(None, heads)
        return cls(dict(zip(names, departments["parent"].tolist(), strict=True)), heads)

    @classmethod
    def of(cls, departments: OrgChart | Mapping[str, str | None] | pd.DataFrame | None) -> OrgChart:
        """A chart from whatever a caller holds: a chart, a ``{department: parent}``
        mapping, a ``departments`` frame, or None (an empty chart)."""
        if isinstance(departments, OrgChart):
            return departments
        if isinstance(departments, pd.DataFrame):
            return cls.from_frame(departments)
        return cls(departments)

    def __len__(self) -> int:
        return len(self._parent)

    def __contains__(self, department: object) -> bool:
        return department in self._parent

    def __iter__(self) -> Iterator[str]:
        return iter(self._parent)

    def parent(self, department: str | None) -> str | None:
        """The parent of ``department``; None when it has none or is not in the chart."""
        if department is None:
            return None
        return self._parent.get(department)

    def line(self, department: str | None) -> frozenset[str] | None:
        """``department`` and everything above it, following ``parent`` upwards.

        None (unknown) when the department is missing, blank or not in the chart, and when
        its chain of parents loops or runs past :data:`MAX_DEPTH` levels. The last name may
        be a parent that is not itself a listed department (the organisation's head).
        """
        if department is None or department not in self._parent:
            return None
        if department in self._lines:
            return self._lines[department]
        seen = [department]
        line: frozenset[str] | None = None
        while True:
            above = self._parent.get(seen[-1])
            if above is None:
                line = frozenset(seen)
                break
            if above in seen or len(seen) > MAX_DEPTH:
                break  # a loop, or a chain too long to be real: the data cannot tell
            seen.append(above)
        self._lines[department] = line
        return line
