"""Findings built column by column must equal findings built one record at a time with
:func:`json_value` and :meth:`MessageTemplate.render`: same keys, evidence (values and their
Python types), messages, departments, officials and event times, on every dtype and odd value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from naebu.core import datasets
from naebu.engine.evidence import findings_from_rows, json_column, json_value
from naebu.engine.findings import Finding
from naebu.engine.rule import RuleMeta
from naebu.engine.template import compile_template, format_column, format_value

FLOATS = [1.0, 19_800_000.0, np.nan, -0.0, 2.0**53, 2.0**53 - 1, 1e300, np.inf, -np.inf, 0.5,
          -12.25, 1234567.891, 3.0]  # fmt: skip
TEXTS = ["수의", "", " ", None, "\u3000", "a b", "C-1", "x", "-", "0", "  y ", "공사", "z"]
STAMPS = ["2025-01-02 03:04:05.999999999", None, "1969-12-31 23:59:59.5", "2262-04-11",
          "1677-09-22", "2024-02-29 23:59", "2025-06-30", "1970-01-01", "2000-01-01 00:00:00.000001",
          "2025-12-31 12:00", "1999-12-31 23:59:59", "2025-01-01", "2025-03-01 00:00:01"]  # fmt: skip
TIMES = ["00:00:00", "05:59:59.999", None, "23:00:00", "-00:00:01", "25:30:00", "12:00:00.5",
         "06:00:00", "00:00:59", "23:59:59", "-1 days 23:00:00", "10:10:10", "01:00:00"]  # fmt: skip
N = len(FLOATS)


def _frame() -> pd.DataFrame:
    stamps = pd.to_datetime(pd.Series(STAMPS, dtype=object), format="mixed")
    times = pd.to_timedelta(pd.Series(TIMES, dtype=object))
    return pd.DataFrame(
        {
            "f": pd.Series(FLOATS, dtype="float64"),
            "t_string": pd.Series(TEXTS, dtype="string"),
            "t_str": pd.Series(TEXTS, dtype="str"),
            "t_object": pd.Series(TEXTS, dtype=object),
            "d_ns": stamps,
            "d_us": stamps.astype("M8[us]"),
            "d_s": stamps.astype("M8[s]"),
            "d_tz": stamps.dt.tz_localize("Asia/Seoul"),
            "tm_ns": times,
            "tm_s": times.astype("m8[s]"),
            "i": pd.Series([1, None, 3, 4, 5, None, 7, 8, 9, 10, 11, 12, 13], dtype="Int64"),
            "b": pd.Series([True, False, None] * 4 + [True], dtype="boolean"),
            "lists": pd.Series([["a", 1.0], [], (2.0, None)] * 4 + [["z"]], dtype=object),
        },
        index=range(100, 100 + N),
    )


COLUMN_TYPES = [
    ("f", "number"), ("f", "int"), ("f", None), ("t_string", "str"), ("t_str", "str"),
    ("t_object", "str"), ("t_string", None), ("d_ns", "date"), ("d_ns", "datetime"),
    ("d_ns", None), ("d_us", "date"), ("d_us", "datetime"), ("d_s", "datetime"),
    ("d_tz", "datetime"), ("tm_ns", "time"), ("tm_s", "time"), ("i", "int"), ("b", "bool"),
    ("lists", None),
]  # fmt: skip


def _same(got: list[Any], expected: list[Any]) -> None:
    assert got == expected
    assert [type(v) for v in got] == [type(v) for v in expected]


@pytest.mark.parametrize(("column", "type_"), COLUMN_TYPES)
def test_json_column_equals_json_value(column: str, type_: str | None) -> None:
    series = _frame()[column]
    _same(json_column(series, type_), [json_value(v, type_) for v in series])


def test_json_column_of_years_numpy_and_pandas_write_differently() -> None:
    series = pd.Series(np.array(["0999-05-01", "2025-01-01", "9999-12-31"], dtype="M8[us]"))
    for type_ in ("date", "datetime"):
        _same(json_column(series, type_), [json_value(v, type_) for v in series])


@pytest.mark.parametrize(("column", "type_"), COLUMN_TYPES)
@pytest.mark.parametrize("spec", ["", ","])
def test_format_column_equals_format_value(column: str, type_: str | None, spec: str) -> None:
    series = _frame()[column]
    if type_ is None or (spec and type_ not in ("int", "number")):
        return
    assert format_column(series, type_, spec) == [format_value(v, type_, spec) for v in series]


@pytest.mark.parametrize("spec", ["d", ".2f", ",.1f"])
def test_format_column_number_specs(spec: str) -> None:
    series = _frame()["f"]
    assert format_column(series, "number", spec) == [
        format_value(v, "number", spec) for v in series
    ]


def _reference(meta: RuleMeta, dataset: datasets.Dataset, rows: pd.DataFrame, template: Any,
               evidence: list[str], extra: dict[str, str]) -> list[Finding]:  # fmt: skip
    """Findings one record at a time, as naebu.engine.evidence built them before it went columnar."""
    roles = [dataset.key, dataset.department, dataset.official, dataset.event_time]
    wanted: list[str] = []
    for name in [*roles, *evidence]:
        if name and name in dataset.by_name and name not in wanted:
            wanted.append(name)
    wanted += [c for c in extra if c in rows.columns and c not in wanted]
    types = {c.name: c.type for c in dataset.columns} | extra
    out = []
    for record in rows.to_dict("records"):
        department = json_value(record.get(dataset.department)) if dataset.department else None
        official = json_value(record.get(dataset.official)) if dataset.official else None
        when = record.get(dataset.event_time) if dataset.event_time else None
        out.append(
            Finding(
                rule_id=meta.id,
                dataset=dataset.name,
                record_key=str(json_value(record[dataset.key], types[dataset.key])),
                severity=meta.severity,
                message=template.render(record) if template else meta.title,
                department=None if department is None else str(department),
                official_id=None if official is None else str(official),
                event_time=pd.Timestamp(when).to_pydatetime()
                if isinstance(when, pd.Timestamp | dt.datetime) and when is not pd.NaT
                else None,
                evidence={c: json_value(record.get(c), types.get(c)) for c in wanted},
            )
        )
    return out


def _contracts() -> pd.DataFrame:
    frame = _frame()
    return pd.DataFrame(
        {
            "contract_id": frame["t_string"].fillna("C-null"),
            "department": frame["t_string"],
            "official_id": frame["t_object"],
            "title": frame["t_str"],
            "amount": frame["f"],
            "contract_date": frame["d_ns"],
            "inspection_date": frame["d_us"],
            "group.count": frame["i"],
            "group.members": frame["lists"],
        },
        index=frame.index,
    )


@pytest.mark.parametrize("with_template", [True, False])
def test_findings_equal_the_record_by_record_reference(with_template: bool) -> None:
    dataset = datasets.get("contracts")
    meta = RuleMeta(id="T-1", title="제목", title_en="Title", type="match", dataset="contracts",
                    severity="high", file=Path("t.toml"))  # fmt: skip
    extra = {"group.count": "int", "group.members": "str", "group.absent": "number"}
    aliases = {"group": {"count": "int", "members": "str"}}
    columns = {c.name: c.type for c in dataset.columns}
    template = (
        compile_template(
            "계약 {contract_id} ({title}) {amount:,}원 {contract_date} "
            "{inspection_date} {method} {group.count} {group.members} {{x}}",
            columns,
            {},
            aliases,
        )  # fmt: skip
        if with_template
        else None
    )
    rows = _contracts()
    evidence = ["title", "amount", "inspection_date", "method"]
    got = findings_from_rows(meta, dataset, rows, template, evidence, extra)
    expected = _reference(meta, dataset, rows, template, evidence, extra)
    assert got == expected
    for a, b in zip(got, expected, strict=True):
        assert list(a.evidence) == list(b.evidence)
        assert [type(v) for v in a.evidence.values()] == [type(v) for v in b.evidence.values()]
        assert type(a.event_time) is type(b.event_time)
    assert findings_from_rows(meta, dataset, rows.iloc[:0], template, evidence, extra) == []
