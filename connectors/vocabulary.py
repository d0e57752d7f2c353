"""Value maps and the canonical vocabulary: source values onto the codes rules compare against.

A source's ``[sources.X.values.COLUMN]`` table maps its own words onto canonical codes
(``"1인 수의" = "수의"``); keys were normalised when the configuration was loaded
(:func:`naebu.connectors.mapping_settings.normalise`) and are compared with the source text in the same
form. A value already canonical passes. For a column with a closed vocabulary
(:attr:`naebu.core.datasets.Column.closed`), a value neither mapped nor canonical is **unmapped**:
the row is kept, the value becomes empty (unknown, and unknown never makes a rule fire), and
it is counted with a few examples (:class:`~naebu.connectors.base.UnmappedValues`) for the run
summary and ``naebu check --data``. Nothing passes through silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from naebu.connectors.base import UNMAPPED_EXAMPLES, UnmappedValues
from naebu.core.datasets import Column


def map_values(
    text: pd.Series, column: Column, value_map: Mapping[str, str] | None, closed: bool
) -> tuple[pd.Series, UnmappedValues | None]:
    """``text`` (NFKC-normalised, stripped, empty as NA) with ``value_map`` applied, and
    when ``closed`` and the column's vocabulary is closed, the unmapped values made NA.

    Works on the distinct values (a coded column holds few), so the cost is per code, not per
    row. Returns the new text and what was unmapped (None when nothing was).
    """
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if not len(uniques):
        return text, None
    distinct = np.asarray(uniques, dtype=object)
    mapped = np.array(
        [(value_map or {}).get(v, v) for v in distinct],
        dtype=object,
    )
    mapped[mapped == ""] = None
    unmapped: UnmappedValues | None = None
    if closed and column.closed:
        known = set(column.values)
        outside = np.array([v is not None and v not in known for v in mapped], dtype=bool)
        if outside.any():
            counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
            order = sorted(np.flatnonzero(outside), key=lambda i: (-counts[i], str(distinct[i])))
            unmapped = UnmappedValues(
                rows=int(counts[outside].sum()),
                examples=tuple(str(distinct[i]) for i in order[:UNMAPPED_EXAMPLES]),
            )
            mapped[outside] = None
    if all(m is d for m, d in zip(mapped, distinct, strict=True)):
        # Every value canonical already (the common case): the text itself, not a copy
        # rebuilt row by row. coerce_mapped relies on getting ``text`` back unchanged.
        return text, unmapped
    if isinstance(text.array, pd.arrays.ArrowStringArray):
        # Per code, then one Arrow take for the rows (NA codes stay null).
        by_code = pa.array(list(mapped), type=pa.large_string())
        taken = by_code.take(pa.array(codes, mask=codes < 0))
        result = pd.Series(pd.arrays.ArrowStringArray(taken))
        if result.dtype == text.dtype:
            return result, unmapped
    values = np.full(len(text), None, dtype=object)
    present = codes >= 0
    values[present] = mapped[codes[present]]
    return pd.Series(pd.array(values, dtype=text.dtype)), unmapped


def unmapped_text(source: str, column: str, found: UnmappedValues) -> str:
    """In plain words, with the config key to add the values under: ``method: 37 value(s) no
    map covers, read as empty, e.g. '1인 견적', '긴급' - add them under
    [sources.contracts.values.method]``."""
    examples = ", ".join(repr(v) for v in found.examples)
    return (
        f"{column}: {found.rows:,} value(s) no map covers, read as empty, e.g. {examples}"
        f" - add them under [sources.{source}.values.{column}]"
    )


def unmapped_lines(sources: Iterable[tuple[str, Mapping[str, UnmappedValues]]]) -> list[str]:
    """For the run summary: a blank line, then ``SOURCE: COLUMN: ...`` per column with unmapped
    values; nothing when every value was mapped."""
    lines = [
        f"{name}: {unmapped_text(name, column, found)}"
        for name, unmapped in sources
        for column, found in unmapped.items()
    ]
    return ["", *lines] if lines else []


def unmapped_json(unmapped: Mapping[str, UnmappedValues]) -> dict[str, Any]:
    """JSON-safe form, for the run ledger."""
    return {c: {"rows": u.rows, "examples": list(u.examples)} for c, u in unmapped.items()}
