"""The columns, parameters, frame and helpers the expression tests share
(tests/test_expr.py, tests/test_expr_errors.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from naebu.engine.expr import (
    ExprError,
    ExprProblem,
    compile_expression,
)

COLUMNS = {
    "payment_method": "str",
    "merchant_category": "str",
    "merchant_name": "str",
    "official_id": "str",
    "approver_id": "str",
    "approved_date": "date",
    "approved_time": "time",
    "updated_at": "datetime",
    "received_on": "date",
    "decided_on": "date",
    "legal_days": "int",
    "amount": "number",
    "attendees": "int",
    "appraisal_mean": "number",
    "sale_price": "number",
    "appraisal_count": "int",
    "active": "bool",
    "부서명": "str",
}
PARAMS = {
    "min_ratio": 0.95,
    "categories": ["유흥주점", "골프장"],
    "max_per_person": 50_000,
    "night_from": 23,
    "limit": 20_000_000,
    "since": dt.date(2024, 3, 1),
    "cutoff": dt.time(6, 0),
    "flag": True,
    "name": "홍길동",
    "codes": [1, 2.5],
    "nested": {"a": 1},
    "digits": 2,
}


def expr_frame() -> pd.DataFrame:
    """Five card approvals with every kind of null, in the canonical dtypes."""
    return pd.DataFrame(
        {
            "payment_method": pd.Series(["카드", "현금", "카드", None, "카드"], dtype="str"),
            "merchant_category": pd.Series(["유흥주점", "식당", "  ", None, "골프장"], dtype="str"),
            "merchant_name": pd.Series(
                ["Bar 한밤", "김밥천국", "GS25", None, "골프클럽"], dtype="str"
            ),
            "official_id": pd.Series(["A", "B", "C", None, "E"], dtype="str"),
            "approver_id": pd.Series(["A", "X", "C", None, None], dtype="str"),
            "approved_date": pd.to_datetime(
                ["2024-01-01", "2024-03-02", "2024-03-04", None, "2024-09-17"]
            ),
            "approved_time": pd.to_timedelta(
                ["23:30:00", "01:15:00", "12:00:00", None, "05:59:00"]
            ),
            "updated_at": pd.to_datetime(
                [
                    "2024-01-01 23:30",
                    "2024-03-02 01:15",
                    None,
                    "2024-03-05 09:00",
                    "2024-09-17 05:59",
                ]
            ),
            "received_on": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01", None]
            ),
            "decided_on": pd.to_datetime(
                ["2024-01-31", None, "2024-02-02", "2024-03-01", "2024-01-01"]
            ),
            "legal_days": pd.Series([20, 20, None, 10, 5], dtype="Int64"),
            "amount": [300_000.0, 50_000.0, np.nan, 10.0, 0.0],
            "attendees": pd.Series([2, 0, None, 1, 3], dtype="Int64"),
            "appraisal_mean": [100_000_000.0, 50.0, 10.0, np.nan, 1.0],
            "sale_price": [90_000_000.0, 50.0, 10.0, 5.0, np.nan],
            "appraisal_count": pd.Series([2, 1, 3, 2, None], dtype="Int64"),
            "active": pd.Series([True, False, None, True, False], dtype="boolean"),
            "부서명": pd.Series(["감사관", "회계과", "감사관", None, ""], dtype="str"),
        }
    ).set_axis([10, 11, 12, 13, 14])  # a non-default index: results must stay aligned


def run(text: str, frame: pd.DataFrame, expect: str | None = "bool") -> list:
    """Evaluate ``text`` over ``frame`` and return plain Python values."""
    result = compile_expression(text, COLUMNS, PARAMS, expect=expect).evaluate(frame)
    assert list(result.index) == list(frame.index)
    return [None if pd.isna(v) else v for v in result.tolist()]


def problems(
    text: str, columns: dict[str, str] | None = None, expect: str | None = "bool"
) -> list[ExprProblem]:
    """The problems ``text`` raises (it must raise ExprError)."""
    with pytest.raises(ExprError) as info:
        compile_expression(text, columns or COLUMNS, PARAMS, expect=expect)
    return info.value.problems


def only_problem(text: str, **kwargs) -> ExprProblem:  # type: ignore[no-untyped-def]
    found = problems(text, **kwargs)
    assert len(found) == 1, found
    return found[0]
