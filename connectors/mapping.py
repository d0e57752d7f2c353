"""A source's mapping applied to a chunk of its rows: the one code path of every connector.

:func:`map_source` takes the raw rows of a chunk (source columns, as read) and gives the typed
canonical frame (:func:`naebu.connectors.coerce.coerce_mapped`) after:

- **constants** (``[sources.X.constants]``): the column holds the fixed value in every row;
- **derived columns** (``[sources.X.derive]``): the expression (:mod:`naebu.engine.expr`) is evaluated
  over the raw chunk, every source column as text (NFKC-normalised and stripped, empty as
  null); ``column("감정가 (1)")`` reads a header that is not a plain name. The result is typed
  like a mapped column: a value that does not fit goes to quarantine with the reason;
- **value maps** (``[sources.X.values.COLUMN]``) and the canonical vocabulary: unmapped values of
  closed-vocabulary columns become empty and are counted on the batch (``Batch.unmapped``).

:func:`check_columns` is the up-front check connectors run on a source's header: every mapped
column and every source column a derived expression names must be there.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from naebu.connectors.base import SourceError
from naebu.connectors.coerce import Coerced, coerce_mapped, resolve_columns
from naebu.connectors.source_settings import SourceConfig
from naebu.connectors.text_values import normalised_text
from naebu.core.datasets import Dataset
from naebu.core.problems import did_you_mean


def given_columns(source: SourceConfig) -> dict[str, None]:
    """Canonical columns the source gives by constants or derive (not read from a column)."""
    return dict.fromkeys([*source.constants, *source.derive])


def check_columns(
    available: Sequence[str],
    dataset: Dataset,
    source: SourceConfig,
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """:func:`naebu.connectors.coerce.resolve_columns` for ``source`` (its constants and derived
    columns count as given), and a SourceError when a derived expression names a source
    column that ``available`` lacks."""
    given = {**(defaults or {}), **given_columns(source)}
    found = resolve_columns(available, dataset, source.columns, given, source.name)
    for canon, text in source.derive.items():
        for name in sorted(_derive(text, dataset.by_name[canon].type).columns_used):
            if _find(name, available) is None:
                close = did_you_mean(name, available)
                raise SourceError(
                    source.name,
                    f"column {name!r} (read by derive.{canon}) is not in the source",
                    close or "source columns: " + ", ".join(list(available)[:20]),
                )
    return found


def map_source(
    raw: pd.DataFrame,
    dataset: Dataset,
    source: SourceConfig,
    locations: Sequence[str],
    *,
    defaults: Mapping[str, Sequence[Any]] | None = None,
    also_required: Sequence[str] = (),
) -> Coerced:
    """Map and type one chunk of ``source`` (see the module docstring). ``also_required``:
    columns a row must have besides the dataset's required ones (``merge_on``)."""
    n = len(raw)
    given: dict[str, Any] = dict(defaults or {})
    labels: dict[str, str] = {}
    for canon, value in source.constants.items():
        given[canon] = [value] * n
        labels[canon] = f"{canon} (constant)"
    header = [str(c) for c in raw.columns]
    for canon, text in source.derive.items():
        given[canon] = derive_column(raw, header, text, dataset.by_name[canon].type, source.name)
        labels[canon] = f"{canon} (derived)"
    return coerce_mapped(
        raw,
        dataset,
        source.columns,
        source.formats,
        locations,
        source=source.name,
        defaults=given,
        labels=labels,
        values=source.values,
        vocabulary=True,
        also_required=also_required,
    )


def derive_column(
    raw: pd.DataFrame, header: Sequence[str], text: str, type_: str, source: str
) -> pd.Series:
    """The values of a derived column over ``raw`` (0..n-1 index), in the expression's type."""
    compiled = _derive(text, type_)
    frame: dict[str, pd.Series] = {}
    for name in compiled.columns_used:
        hit = _find(name, header)
        if hit is None:
            close = did_you_mean(name, header)
            raise SourceError(
                source,
                f"column {name!r} (read by a derived column) is not in the source",
                close or "source columns: " + ", ".join(list(header)[:20]),
            )
        frame[name] = normalised_text(raw[hit].reset_index(drop=True)).astype("str")
    columns = {name: "str" for name in frame}
    data = pd.DataFrame(frame, index=pd.RangeIndex(len(raw)))
    return _evaluate(text, columns, data)


def _evaluate(text: str, columns: Mapping[str, str], data: pd.DataFrame) -> pd.Series:
    from naebu.engine.expr import compile_expression

    # Compiled against the chunk's own columns (all text), which the evaluation reads.
    compiled = compile_expression(text, columns, expect=None)
    return compiled.evaluate(data).reset_index(drop=True)


@functools.lru_cache(maxsize=256)
def _derive(text: str, type_: str) -> Any:
    """The expression checked with any source column as text (what the config loader did)."""
    from naebu.engine.expr import compile_expression
    from naebu.engine.expr.checker import AnyColumns

    return compile_expression(text, AnyColumns("str"), expect=None)


def _norm(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _find(name: str, header: Sequence[str]) -> str | None:
    """The header matching ``name`` exactly, else ignoring case, spaces around and width."""
    if name in header:
        return name
    hits = [h for h in header if _norm(h) == _norm(name)]
    return hits[0] if len(hits) == 1 else None
