"""The mapping tables of a source beyond ``columns`` and ``formats``: checked when the
configuration is loaded (:func:`naebu.settings.config.load_config`).

```toml
[sources.card_approvals.constants]        # canonical column = fixed value for every row
payment_method = "카드"

[sources.contracts.values.method]         # source value = canonical value
"수의계약" = "수의"
"1인 수의" = "수의"

[sources.property_sales.derive]           # canonical column = expression over source columns
appraisal_mean = 'mean_present(감정가1, 감정가2, column("감정가 (3)"))'
```

A canonical column is given by exactly one of ``columns``, ``constants`` and ``derive``. A value
map may apply to a column given by ``columns`` or ``derive``; its keys are compared with the
source text NFKC-normalised and stripped, as the connectors read it. A constant or mapped value
of a column with a closed vocabulary (:attr:`naebu.core.datasets.Column.closed`) must be one of its
codes; a value mapped to ``""`` is read as empty. A derived column's expression is checked with
every source column as text (the source's columns are only known once it is read); a source
column it names that the source lacks is a SourceError when the source is pulled.

The connectors apply all of this in :mod:`naebu.connectors.mapping`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from naebu.core.datasets import Column, Dataset
from naebu.core.problems import Problem, did_you_mean
from naebu.engine.expr.kinds import describe

#: The result types a derived column of each canonical type accepts (text is read as a mapped
#: column's text would be).
_FITS = {
    "str": {"str", "null"},
    "int": {"int", "number", "str", "null"},
    "number": {"int", "number", "str", "null"},
    "date": {"date", "datetime", "str", "null"},
    "datetime": {"date", "datetime", "str", "null"},
    "time": {"time", "str", "null"},
    "bool": {"bool", "str", "null"},
}


@dataclass
class SourceMapping:
    """The checked ``constants``, ``values`` and ``derive`` tables of one source."""

    constants: dict[str, Any] = field(default_factory=dict)
    #: canonical column -> {normalised source text: canonical value ("" for empty)}.
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)


def normalise(text: str) -> str:
    """Source text as value maps compare it: NFKC form, surrounding whitespace stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def check_mapping(
    name: str, src: dict[str, Any], ds: Dataset, problems: list[Problem], file: str
) -> SourceMapping:
    """The mapping tables of source ``name`` (raw TOML ``src``), a Problem for each mistake."""
    key = f"sources.{name}"
    out = SourceMapping()

    def problem(where: str, message: str, hint: str | None = None) -> None:
        problems.append(Problem(file, message, key=f"{key}.{where}", hint=hint))

    def table(sect: str) -> dict[str, Any]:
        value = src.get(sect, {})
        if not isinstance(value, dict):
            problem(sect, f"{sect} must be a table", f"[{key}.{sect}]")
            return {}
        return value

    def known(sect: str, canon: str) -> bool:
        if canon in ds.by_name:
            return True
        hint = did_you_mean(canon, ds.by_name) or "columns: " + ", ".join(ds.column_names)
        problem(f"{sect}.{canon}", f"{canon!r} is not a column of dataset {ds.name}", hint)
        return False

    columns = src.get("columns", {}) if isinstance(src.get("columns"), dict) else {}
    given = {str(c): "columns" for c in columns}
    for sect in ("constants", "derive"):
        for canon in table(sect):
            if canon in given:
                problem(
                    f"{sect}.{canon}",
                    f"{canon} is given twice: by {given[canon]} and by {sect}",
                    "give each canonical column in one of columns, constants or derive",
                )
            given.setdefault(canon, sect)

    for canon, value in table("constants").items():
        if not known("constants", canon):
            continue
        col = ds.by_name[canon]
        if isinstance(value, dict | list) or value is None:
            problem(f"constants.{canon}", "a constant is one value", f'{canon} = "..."')
            continue
        if isinstance(value, dt.datetime | dt.date | dt.time):
            value = value.isoformat()
        if not _reads_as(value, col):
            problem(f"constants.{canon}", f"{value!r} is not {describe(col.type)}",
                    "write it as the column's values are written, e.g. 2025-03-01 for a date")  # fmt: skip
            continue
        if col.closed and str(value) not in col.values:
            problem(
                f"constants.{canon}",
                f"{value!r} is not a code of {ds.name}.{canon}",
                "codes: " + ", ".join(col.values),
            )
            continue
        out.constants[canon] = value

    for canon, mapping in table("values").items():
        where = f"values.{canon}"
        if not known("values", canon):
            continue
        if not isinstance(mapping, dict):
            problem(where, "a value map is a table of source value = canonical value",
                    f'[{key}.values.{canon}] "source value" = "canonical value"')  # fmt: skip
            continue
        if given.get(canon) == "constants":
            problem(where, f"{canon} is a constant: it needs no value map")
            continue
        col = ds.by_name[canon]
        checked: dict[str, str] = {}
        for source_value, target in mapping.items():
            if not isinstance(target, str):
                problem(f"{where}.{source_value}", f"must be text, not {target!r}",
                        f'"{source_value}" = "..." ("" for empty)')  # fmt: skip
                continue
            target = normalise(target)
            if col.closed and target and target not in col.values:
                hint = did_you_mean(target, col.values) or "codes: " + ", ".join(col.values)
                problem(f"{where}.{source_value}",
                        f"{target!r} is not a code of {ds.name}.{canon}", hint)  # fmt: skip
                continue
            checked[normalise(str(source_value))] = target
        out.values[canon] = checked

    for canon, text in table("derive").items():
        where = f"derive.{canon}"
        if not known("derive", canon):
            continue
        if not isinstance(text, str) or not text.strip():
            problem(where, "a derived column is an expression in text",
                    f"{canon} = 'mean_present(감정가1, 감정가2)'")  # fmt: skip
            continue
        message = derive_problem(text, ds.by_name[canon].type)
        if message is not None:
            problem(where, *message)
            continue
        out.derive[canon] = text
    return out


def _reads_as(value: Any, col: Column) -> bool:
    from naebu.connectors.coerce import reads_as  # the connectors' own reading of a value

    return reads_as(value, col)


def derive_problem(text: str, type_: str) -> tuple[str, str | None] | None:
    """(message, hint) when ``text`` does not compile as a derived column of type ``type_``
    with every source column as text; None when it does."""
    from naebu.engine.expr import ExprError, compile_expression
    from naebu.engine.expr.checker import AnyColumns

    try:
        compiled = compile_expression(text, AnyColumns("str"), expect=None)
    except ExprError as exc:
        first = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        return (
            f"{first.message} at column {first.offset + 1}: {_pointed(text, first.offset)}{more}",
            first.hint,
        )
    if compiled.result_type not in _FITS[type_]:
        return (
            f"the expression gives {describe(compiled.result_type)}, the column holds "
            f"{describe(type_)}",
            "text stays text: extract(x, pattern) or concat(...)"
            if type_ == "str"
            else "e.g. to_number(x) for a number, to_date(x) for a date",
        )
    return None


def _pointed(text: str, offset: int) -> str:
    """The expression with ``>>`` marking where the problem starts (one line)."""
    line = " ".join(text.split("\n"))
    return f"{line[:offset]}>>{line[offset:]}"
