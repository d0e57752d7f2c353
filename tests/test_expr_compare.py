"""Comparisons in conditions, checked row by row against plain Python: a fixed side (literal or
parameter, on either side) and Arrow-backed text must give what SQL-like null semantics say."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from naebu.engine.expr import compile_expression

OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
TEXTS = ["수의", "공사", " ", "", None, "수의 ", "a", "B", "\u3000", "수의"]
NUMBERS = [1.0, 19_000_000.0, None, 20_000_000.0, -3.0, 0.0, 19_000_000.0, 2.5, None, 7.0]


def _null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _expected(op: str, left: list[Any], right: list[Any]) -> list[bool]:
    return [not (_null(a) or _null(b)) and OPS[op](a, b) for a, b in zip(left, right, strict=True)]


def _run(
    text: str, frame: pd.DataFrame, columns: dict[str, str], params: dict[str, Any]
) -> list[bool]:
    return compile_expression(text, columns, params).evaluate(frame).tolist()


@pytest.mark.parametrize("dtype", ["string", "str", "object"])
@pytest.mark.parametrize("op", list(OPS))
def test_text_compared_with_a_parameter_on_either_side(dtype: str, op: str) -> None:
    frame = pd.DataFrame({"method": pd.Series(TEXTS, dtype=dtype)})
    columns = {"method": "str"}
    for value in ["수의", "b", " ", ""]:
        right = _run(f"method {op} params.v", frame, columns, {"v": value})
        assert right == _expected(op, TEXTS, [value] * len(TEXTS)), (value, "right")
        left = _run(f"params.v {op} method", frame, columns, {"v": value})
        assert left == _expected(op, [value] * len(TEXTS), TEXTS), (value, "left")
        literal = _run(f'"{value}" {op} method', frame, columns, {})
        assert literal == left


@pytest.mark.parametrize("dtype", ["string", "str", "object"])
@pytest.mark.parametrize("op", list(OPS))
def test_two_text_columns(dtype: str, op: str) -> None:
    other = list(reversed(TEXTS))
    frame = pd.DataFrame(
        {"official_id": pd.Series(TEXTS, dtype=dtype), "approver_id": pd.Series(other, dtype=dtype)}
    )
    got = _run(
        f"official_id {op} approver_id", frame, {"official_id": "str", "approver_id": "str"}, {}
    )
    assert got == _expected(op, TEXTS, other)


@pytest.mark.parametrize("op", list(OPS))
def test_numbers_compared_with_fixed_values(op: str) -> None:
    frame = pd.DataFrame({"amount": pd.Series(NUMBERS, dtype="float64")})
    columns = {"amount": "number"}
    params = {"limit": 20_000_000, "band": 0.95}
    bound = 20_000_000 * 0.95
    got = _run(f"amount {op} params.limit * params.band", frame, columns, params)
    assert got == _expected(op, [None if v is None else v for v in NUMBERS], [bound] * len(NUMBERS))
    flipped = _run(f"params.limit * params.band {op} amount", frame, columns, params)
    assert flipped == _expected(op, [bound] * len(NUMBERS), NUMBERS)
    assert _run(f"amount {op} 7", frame, columns, {}) == _expected(
        op, NUMBERS, [7.0] * len(NUMBERS)
    )
    nan = {"missing": float("nan")}
    assert _run(f"amount {op} params.missing", frame, columns, nan) == [False] * len(NUMBERS)
    assert _run(f"not (params.missing {op} amount)", frame, columns, nan) == [True] * len(NUMBERS)


def test_dates_and_times_compared_with_fixed_values() -> None:
    days = pd.to_datetime(pd.Series(["2024-02-29", None, "2024-03-01", "2262-01-01"]))
    times = pd.to_timedelta(pd.Series(["05:59:59", "06:00:00", None, "23:30:00"]))
    frame = pd.DataFrame({"received_on": days, "approved_time": times})
    columns = {"received_on": "date", "approved_time": "time"}
    params = {"since": dt.date(2024, 3, 1), "cutoff": dt.time(6, 0), "far": dt.date(9999, 12, 31)}
    assert _run("received_on >= params.since", frame, columns, params) == [False, False, True, True]
    assert _run("params.since > received_on", frame, columns, params) == [True, False, False, False]
    assert _run("received_on < params.far", frame, columns, params) == [True, False, True, True]
    assert _run('received_on == "2024-03-01"', frame, columns, params) == [
        False,
        False,
        True,
        False,
    ]
    assert _run("approved_time < params.cutoff", frame, columns, params) == [
        True,
        False,
        False,
        False,
    ]
    assert _run('"06:00" <= approved_time', frame, columns, params) == [False, True, False, True]


def test_bool_column_compared_with_a_fixed_value() -> None:
    frame = pd.DataFrame({"active": pd.Series([True, None, False], dtype="boolean")})
    assert _run("active == true", frame, {"active": "bool"}, {}) == [True, False, False]
    assert _run("false == active", frame, {"active": "bool"}, {}) == [False, False, True]


def test_a_comparison_keeps_the_frame_index() -> None:
    frame = pd.DataFrame({"method": pd.Series(["수의", "공사"], dtype="string")}, index=[7, 3])
    result = compile_expression('method == "수의"', {"method": "str"}, {}).evaluate(frame)
    assert result.index.tolist() == [7, 3]
    assert result.dtype == np.dtype(bool)


def test_arithmetic_on_fixed_numbers() -> None:
    frame = pd.DataFrame({"amount": pd.Series(NUMBERS, dtype="float64")})
    columns = {"amount": "number"}
    params = {"limit": 20_000_000, "zero": 0, "band": 0.95}
    assert _run("amount > params.limit / params.zero", frame, columns, params) == [False] * len(
        NUMBERS
    )
    assert _run("not (amount > params.limit % params.zero)", frame, columns, params) == [
        True
    ] * len(NUMBERS)
    assert _run("-amount <= -params.limit * params.band", frame, columns, params) == _expected(
        ">=", NUMBERS, [19_000_000.0] * len(NUMBERS)
    )
    assert _run(
        "amount + 0 == 1 - -(params.limit - params.limit) * 2", frame, columns, params
    ) == _expected("==", NUMBERS, [1.0] * len(NUMBERS))
    assert _run("round(params.band * 10) == amount", frame, columns, params) == _expected(
        "==", NUMBERS, [10.0] * len(NUMBERS)
    )


def test_a_call_written_twice_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from naebu.engine.expr import FUNCTIONS

    calls: list[int] = []
    hour = FUNCTIONS["hour"]

    def counting(x: pd.Series) -> pd.Series:
        calls.append(len(x))
        return hour.impl(x)

    monkeypatch.setitem(FUNCTIONS, "hour", dataclasses.replace(hour, impl=counting))
    times = pd.to_timedelta(pd.Series(["23:30:00", "05:00:00", None, "12:00:00"]))
    frame = pd.DataFrame(
        {"approved_time": times, "updated_at": pd.to_datetime(["2025-01-01 23:10"] * 4)}
    )
    columns = {"approved_time": "time", "updated_at": "datetime"}
    expr = compile_expression(
        "hour(approved_time) >= params.night_from or hour( approved_time ) < 6 or hour(updated_at) == 99",
        columns,
        {"night_from": 23},
    )
    assert expr.evaluate(frame).tolist() == [True, True, False, False]
    assert calls == [4, 4]  # approved_time once, updated_at once
    assert expr.evaluate(frame).tolist() == [True, True, False, False]
    assert calls == [4, 4, 4, 4]  # nothing is kept from one evaluation to the next


@pytest.mark.parametrize("dtype", ["string", "str", "object"])
def test_membership_in_lists_and_in_another_dataset(dtype: str) -> None:
    frame = pd.DataFrame({"method": pd.Series(TEXTS, dtype=dtype)})
    columns = {"method": "str"}
    wanted = ["수의", " ", "a", "없음"]
    expected = [v is not None and bool(v.strip()) and v in wanted for v in TEXTS]
    assert _run('method in ["수의", " ", "a", "없음"]', frame, columns, {}) == expected
    assert _run("method in params.v", frame, columns, {"v": wanted}) == expected
    assert _run("method not in params.v", frame, columns, {"v": wanted}) == [
        not e and not _null(v) for e, v in zip(expected, TEXTS, strict=True)
    ]
    assert _run("method in params.v", frame, columns, {"v": []}) == [False] * len(TEXTS)
    other = pd.DataFrame({"account_no": pd.Series(["수의", None, " ", "a", "a"], dtype=dtype)})
    expr = compile_expression(
        "method in employees.account_no", columns, {}, lookups={"employees": {"account_no": "str"}}
    )
    got = expr.evaluate(frame, {"employees": other}).tolist()
    assert got == [v is not None and bool(v.strip()) and v in ("수의", "a") for v in TEXTS]
    assert expr.evaluate(frame, {"employees": other.iloc[:0]}).tolist() == [False] * len(TEXTS)
