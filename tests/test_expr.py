"""The rule expression language: operators, functions, null semantics, errors, and safety."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from naebu.engine.expr import (
    FUNCTIONS,
    CompiledExpression,
    ExprError,
    ExprProblem,
    caret,
    compile_expression,
)
from naebu.engine.expr.kinds import value_type

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


@pytest.fixture
def frame() -> pd.DataFrame:
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


# -- the rule pack's own conditions -------------------------------------------------------------
def test_night_card_condition(frame: pd.DataFrame) -> None:
    text = 'payment_method == "카드" and not is_null(approved_time) and (hour(approved_time) >= 23 or hour(approved_time) < 6)'
    assert run(text, frame) == [True, False, False, False, True]


def test_condition_returns_plain_bool_series(frame: pd.DataFrame) -> None:
    result = compile_expression("amount > 10", COLUMNS).evaluate(frame)
    assert result.dtype == np.dtype(bool)
    assert list(result.index) == [10, 11, 12, 13, 14]


def test_compiled_expression_metadata() -> None:
    compiled = compile_expression("sale_price < appraisal_mean * params.min_ratio", COLUMNS, PARAMS)
    assert isinstance(compiled, CompiledExpression)
    assert compiled.text == "sale_price < appraisal_mean * params.min_ratio"
    assert compiled.result_type == "bool"
    assert compiled.columns_used == frozenset({"sale_price", "appraisal_mean"})


def test_params_are_bound(frame: pd.DataFrame) -> None:
    assert run(
        "appraisal_count >= 2 and sale_price < appraisal_mean * params.min_ratio", frame
    ) == [True, False, False, False, False]
    assert run("amount / attendees > params.max_per_person", frame) == [
        True,
        False,
        False,
        False,
        False,
    ]
    assert run("hour(approved_time) >= params.night_from", frame) == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_permit_deadline(frame: pd.DataFrame) -> None:
    text = "not is_null(decided_on) and days_between(received_on, decided_on) > legal_days"
    assert run(text, frame) == [True, False, False, True, False]


def test_self_approval_compares_two_columns(frame: pd.DataFrame) -> None:
    assert run("official_id == approver_id", frame) == [True, False, True, False, False]
    assert run("official_id != approver_id", frame) == [False, True, False, False, False]


def test_korean_column_names(frame: pd.DataFrame) -> None:
    assert run('부서명 == "감사관"', frame) == [True, False, True, False, False]


# -- operators ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amount == 10", [False, False, False, True, False]),
        ("amount != 10", [True, True, False, False, True]),
        ("amount < 50_000", [False, False, False, True, True]),
        ("amount <= 50_000", [False, True, False, True, True]),
        ("amount > 50_000", [True, False, False, False, False]),
        ("amount >= 50_000", [True, True, False, False, False]),
        ("amount + 10 == 20", [False, False, False, True, False]),
        ("amount - 10 == 0", [False, False, False, True, False]),
        ("amount * 2 == 100_000", [False, True, False, False, False]),
        ("amount / 2 == 25_000", [False, True, False, False, False]),
        ("amount % 3 == 1", [False, False, False, True, False]),
        ("-amount < -100", [True, True, False, False, False]),
        ("amount > 0.5 * 100", [True, True, False, False, False]),
        ("2 + 3 * 4 == 14 and (2 + 3) * 4 == 20", [True] * 5),
        ("10 - 4 - 3 == 3 and 12 / 3 / 2 == 2", [True] * 5),
        ("amount > 10 and attendees > 1", [True, False, False, False, False]),
        ("amount > 100_000 or attendees == 3", [True, False, False, False, True]),
        ("not amount > 10", [False, False, True, True, True]),
        ("not amount > 10 and attendees == 3", [False, False, False, False, True]),
        ("amount == 0 or amount == 10 and attendees == 99", [False, False, False, False, True]),
        ("true and not false", [True] * 5),
        ("active", [True, False, False, True, False]),
        ("active == true", [True, False, False, True, False]),
        ("active != true", [False, True, False, False, True]),
        ("merchant_category in params.categories", [True, False, False, False, True]),
        ("merchant_category not in params.categories", [False, True, False, False, False]),
        ('merchant_category in ["식당", "편의점"]', [False, True, False, False, False]),
        ("amount in [0, 10]", [False, False, False, True, True]),
        ("amount in [-1, 0.0]", [False, False, False, False, True]),
        ("amount in params.codes", [False] * 5),
        ("amount in []", [False] * 5),
        ('payment_method >= "카"', [True, True, True, False, True]),  # 현 sorts after 카
        ('merchant_name < "H"', [True, False, True, False, False]),
    ],
)
def test_operators(frame: pd.DataFrame, text: str, expected: list[bool]) -> None:
    assert run(text, frame) == expected


def test_arithmetic_results(frame: pd.DataFrame) -> None:
    assert run("amount / attendees", frame, expect="number") == [150_000.0, None, None, 10.0, 0.0]
    assert compile_expression("attendees + 1", COLUMNS, expect=None).result_type == "int"
    assert compile_expression("attendees / 2", COLUMNS, expect=None).result_type == "number"


def test_number_literals() -> None:
    compiled = compile_expression("20_000_000 + 0.95 + 1_000.5", COLUMNS, expect="number")
    assert compiled.evaluate(pd.DataFrame(index=[0])).tolist() == [20_001_001.45]


def test_string_escapes_and_single_quotes() -> None:
    df = pd.DataFrame(
        {"merchant_name": pd.Series(['say "hi"', "it's", "a\\b", "탭\t"], dtype="str")}
    )
    cols = {"merchant_name": "str"}
    hits = compile_expression(
        r"""merchant_name == "say \"hi\"" or merchant_name == 'it\'s' or merchant_name == "a\\b" or merchant_name == "탭\t" """,
        cols,
    ).evaluate(df)
    assert hits.tolist() == [True, True, True, True]


def test_date_and_time_literals_from_text(frame: pd.DataFrame) -> None:
    assert run('approved_date >= "2024-03-02"', frame) == [False, True, True, False, True]
    assert run('approved_time < "06:00"', frame) == [False, True, False, False, True]
    assert run('updated_at > "2024-03-05 08:00"', frame) == [False, False, False, True, True]
    assert run("approved_date >= params.since", frame) == [False, True, True, False, True]
    assert run("approved_time < params.cutoff", frame) == [False, True, False, False, True]
    assert run('days_between(approved_date, "2024-12-31") > 300', frame) == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_date_compares_with_datetime(frame: pd.DataFrame) -> None:
    assert run("date(updated_at) == approved_date", frame) == [True, True, False, False, True]


# -- null semantics -----------------------------------------------------------------------------
def test_comparison_with_null_is_false(frame: pd.DataFrame) -> None:
    # row 12 has no amount; row 13 no payment method
    assert run("amount > -1", frame)[2] is False
    assert run("amount != 5", frame)[2] is False
    assert run('payment_method != "현금"', frame) == [True, False, True, False, True]


def test_not_of_a_null_comparison_is_true(frame: pd.DataFrame) -> None:
    # Documented: `not` is the exact opposite, so a comparison false because of null turns true.
    assert run("not (amount > 10)", frame) == [False, False, True, True, True]
    assert run("not_null(amount) and not (amount > 10)", frame) == [False, False, False, True, True]


def test_blank_text_counts_as_null(frame: pd.DataFrame) -> None:
    assert run("is_null(merchant_category)", frame) == [False, False, True, True, False]
    assert run("not_null(merchant_category)", frame) == [True, True, False, False, True]
    assert run('merchant_category != "식당"', frame) == [True, False, False, False, True]
    assert run("is_null(부서명)", frame) == [False, False, False, True, True]


def test_in_with_null_is_false(frame: pd.DataFrame) -> None:
    assert run('merchant_category not in ["식당"]', frame) == [True, False, False, False, True]


def test_division_by_zero_is_null_never_inf(frame: pd.DataFrame) -> None:
    assert run("amount / attendees", frame, expect="number")[1] is None
    assert run("amount / 0", frame, expect="number") == [None] * 5
    assert run("amount % 0", frame, expect="number") == [None] * 5
    assert run("amount / attendees > 0", frame)[1] is False
    assert run("is_null(amount / attendees)", frame) == [False, True, True, False, False]
    assert (
        compile_expression("1 / 0", {}, expect="number")
        .evaluate(pd.DataFrame(index=[0]))
        .isna()
        .all()
    )


def test_arithmetic_with_null_is_null(frame: pd.DataFrame) -> None:
    assert run("amount + 1", frame, expect="number") == [300_001.0, 50_001.0, None, 11.0, 1.0]


def test_null_bool_column_is_false_as_condition(frame: pd.DataFrame) -> None:
    assert run("active or false", frame) == [True, False, False, True, False]
    assert run("not active", frame) == [False, True, True, False, True]
    assert run("is_null(active)", frame) == [False, False, True, False, False]


def test_null_literal_in_functions(frame: pd.DataFrame) -> None:
    assert run("is_null(null)", frame) == [True] * 5
    assert run("coalesce(attendees, null) == 1", frame) == [False, False, False, True, False]


# -- functions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hour(approved_time)", [23, 1, 12, None, 5]),
        ("minute(approved_time)", [30, 15, 0, None, 59]),
        ("hour(updated_at)", [23, 1, None, 9, 5]),
        ("minute(updated_at)", [30, 15, None, 0, 59]),
        ("weekday(approved_date)", [0, 5, 0, None, 1]),
        ("weekday(updated_at)", [0, 5, None, 1, 1]),
        ("day(approved_date)", [1, 2, 4, None, 17]),
        ("month(approved_date)", [1, 3, 3, None, 9]),
        ("year(updated_at)", [2024, 2024, None, 2024, 2024]),
        ("days_between(received_on, decided_on)", [30, None, 1, 29, None]),
        ("days_between(decided_on, received_on)", [-30, None, -1, -29, None]),
        ("len(merchant_name)", [6, 4, 4, None, 4]),
        ("abs(-amount)", [300_000, 50_000, None, 10, 0]),
        ("abs(amount - 20)", [299_980, 49_980, None, 10, 20]),
        ("round(amount / 7)", [42_857, 7_143, None, 1, 0]),
        ("round(amount / 7, 2)", [42857.14, 7142.86, None, 1.43, 0]),
        ("round(amount / 7, params.digits)", [42857.14, 7142.86, None, 1.43, 0]),
        ("round(amount, -5)", [300_000, 100_000, None, 0, 0]),
        ("coalesce(attendees, 1)", [2, 0, 1, 1, 3]),
        ("coalesce(amount, appraisal_mean)", [300_000, 50_000, 10, 10, 0]),
    ],
)
def test_numeric_functions(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert run(text, frame, expect=None) == expected


def test_round_halves_away_from_zero() -> None:
    values = compile_expression("round(2.5) * 10 + round(-2.5)", {}, expect="number")
    assert values.evaluate(pd.DataFrame(index=[0])).tolist() == [27.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lower(merchant_name)", ["bar 한밤", "김밥천국", "gs25", None, "골프클럽"]),
        ("upper(merchant_name)", ["BAR 한밤", "김밥천국", "GS25", None, "골프클럽"]),
        ('trim("  a  ")', ["a"] * 5),
        ('coalesce(payment_method, "미상")', ["카드", "현금", "카드", "미상", "카드"]),
        ('coalesce(merchant_category, "미상")', ["유흥주점", "식당", "미상", "미상", "골프장"]),
    ],
)
def test_text_functions(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert run(text, frame, expect=None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('contains(merchant_name, "밥")', [False, True, False, False, False]),
        ('contains(lower(merchant_name), "bar")', [True, False, False, False, False]),
        ('startswith(merchant_name, "골프")', [False, False, False, False, True]),
        ('endswith(merchant_name, "25")', [False, False, True, False, False]),
        ("contains(official_id, approver_id)", [True, False, True, False, False]),
        ('contains(merchant_category, "")', [False] * 5),
        ('trim(merchant_category) == "식당"', [False, True, False, False, False]),
        ("is_null(trim(merchant_category))", [False, False, True, True, False]),
    ],
)
def test_text_tests(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert run(text, frame) == expected


def test_date_function(frame: pd.DataFrame) -> None:
    assert run("date(updated_at)", frame, expect=None)[0] == pd.Timestamp("2024-01-01")
    assert compile_expression("date(updated_at)", COLUMNS, expect="date").result_type == "date"


def test_is_holiday_uses_korean_calendar_not_weekends() -> None:
    days = pd.to_datetime(
        ["2024-01-01", "2024-02-10", "2024-02-12", "2024-03-02", "2024-03-04", "2025-10-06", None]
    )
    frame = pd.DataFrame({"approved_date": days})
    holiday = compile_expression("is_holiday(approved_date)", COLUMNS).evaluate(frame)
    # New Year, Seollal, Seollal substitute day, a Saturday (not a holiday), a Monday, Chuseok 2025, null
    assert holiday.tolist() == [True, True, True, False, False, True, False]
    either = compile_expression("weekday(approved_date) >= 5 or is_holiday(approved_date)", COLUMNS)
    assert either.evaluate(frame).tolist() == [True, True, True, True, False, True, False]


def test_is_holiday_on_an_all_null_column() -> None:
    frame = pd.DataFrame({"approved_date": pd.to_datetime([None, None])})
    assert compile_expression("is_holiday(approved_date)", COLUMNS).evaluate(frame).tolist() == [
        False,
        False,
    ]


def test_every_function_is_documented() -> None:
    for name, func in FUNCTIONS.items():
        assert func.doc, name
        assert func.signature().startswith(f"{name}(")
    expected = {"hour", "minute", "weekday", "day", "month", "year", "date", "is_holiday", "days_between", "is_null",
                "not_null", "contains", "startswith", "endswith", "lower", "upper", "trim", "len", "abs", "round", "coalesce"}  # fmt: skip
    assert expected <= set(FUNCTIONS)


def test_columns_in_loose_dtypes_are_converted() -> None:
    frame = pd.DataFrame(
        {
            "amount": pd.Series(["1000", "x", None], dtype=object),
            "approved_date": ["2024-01-01", "bad", None],
            "approved_time": ["23:00:00", None, "01:00:00"],
            "payment_method": pd.Series(["카드", None, 3], dtype=object),
        }
    )
    text = 'amount > 1 and approved_date == "2024-01-01" and hour(approved_time) == 23 and payment_method == "카드"'
    assert compile_expression(text, COLUMNS).evaluate(frame).tolist() == [True, False, False]


def test_missing_column_in_the_frame_is_an_expr_error() -> None:
    compiled = compile_expression("amount > 1", COLUMNS)
    with pytest.raises(ExprError, match="column 'amount' is missing from the data"):
        compiled.evaluate(pd.DataFrame({"x": [1]}))


def test_empty_frame() -> None:
    frame = pd.DataFrame({c: pd.Series([], dtype="float64") for c in ("amount", "attendees")})
    assert compile_expression("amount / attendees > 1", COLUMNS).evaluate(frame).tolist() == []


def test_expect_types() -> None:
    assert compile_expression("amount * 2", COLUMNS, expect="number").result_type == "number"
    assert compile_expression("attendees * 2", COLUMNS, expect="number").result_type == "int"
    p = only_problem("amount * 2", expect="date")
    assert (p.message, p.offset) == ("the expression must give a date, but it gives a number", 0)


def test_aliases_for_joined_datasets() -> None:
    aliases = {"vendor": {"account_no": "str", "account_changed_on": "date"}}
    compiled = compile_expression(
        "payee_account != vendor.account_no", {"payee_account": "str"}, aliases=aliases
    )
    assert compiled.columns_used == frozenset({"payee_account", "vendor.account_no"})
    frame = pd.DataFrame({"payee_account": ["1", "2"], "vendor.account_no": ["1", "3"]})
    assert compiled.evaluate(frame).tolist() == [False, True]
    with pytest.raises(ExprError) as info:
        compile_expression("vendor.acount_no == 'x'", {}, aliases=aliases)
    p = info.value.problems[0]
    assert (p.message, p.hint, p.offset) == (
        "unknown column 'acount_no' of 'vendor'",
        "did you mean 'account_no'?",
        7,
    )


def test_param_types_are_inferred() -> None:
    assert value_type(3) == value_type(2.5) == "number"
    assert value_type(True) == "bool"
    assert value_type("x") == "str"
    assert value_type(dt.date(2024, 1, 1)) == "date"
    assert value_type(dt.datetime(2024, 1, 1, 9)) == "datetime"
    assert value_type(dt.time(9)) == "time"
    assert value_type(["a", "b"]) == "list[str]"
    assert value_type([1, 2.5]) == "list[number]"
    assert value_type([]) == "list[any]"
    assert value_type(["a", 1]) is None
    assert value_type({"a": 1}) is None


# -- errors: every one located, with a message and a hint ---------------------------------------
@pytest.mark.parametrize(
    ("text", "message", "offset", "hint"),
    [
        # names
        ("amout > 1", "unknown column 'amout'", 0, "did you mean 'amount'?"),
        (
            "payment_method == 카드",
            "unknown column '카드'",
            18,
            'to compare with text, put it in quotes: "카드"',
        ),
        (
            "params.min_ratoi > 1",
            "unknown parameter 'params.min_ratoi'",
            7,
            "did you mean 'min_ratio'?",
        ),
        ("params.zzz > 1", "unknown parameter 'params.zzz'", 7, None),
        ("params > 1", "'params' needs a parameter name", 0, "write params.NAME"),
        (
            "params.nested == 1",
            "parameter 'params.nested' has a value of unsupported type",
            7,
            None,
        ),
        (
            "amount.real > 1",
            "'amount.real' is not allowed",
            0,
            "a column has no attributes; only params.NAME may contain a dot",
        ),
        ("merchant_name.lower() == 'a'", "'merchant_name.lower(...)' is not a function", 14, None),
        ('"a".upper() == merchant_name', "attribute access is not allowed: '.upper'", 3, None),
        ("lower(merchant_name).x == 'a'", "attribute access is not allowed: '.x'", 20, None),
        ("params.a.b > 1", "only one dot is allowed, as in params.NAME: '.b'", 8, None),
        ("__class__ == 1", "names starting with '__' are not allowed: '__class__'", 0, None),
        ("hour > 1", "'hour' is a function", 0, "call it: hour(...)"),
        # functions
        ("hours(approved_time) > 1", "unknown function 'hours'", 0, "did you mean 'hour'?"),
        ("amount(1) > 1", "'amount' is a column, not a function", 0, "drop the parentheses"),
        ("hour(approved_time, 1) > 1", "hour() takes 1 argument, got 2", 0, None),
        ("round() > 1", "round() takes 1 to 2 arguments, got 0", 0, None),
        ("contains(merchant_name) ", "contains() takes 2 arguments, got 1", 0, None),
        (
            "hour(amount) > 1",
            "argument 1 of hour() must be a date and time or a time of day, not a number",
            5,
            None,
        ),
        (
            "weekday(approved_time) > 1",
            "argument 1 of weekday() must be a date or a date and time, not a time of day",
            8,
            None,
        ),
        ("contains(amount, 'a')", "argument 1 of contains() must be text, not a number", 9, None),
        (
            "round(amount, attendees) > 1",
            "argument 2 of round() must be a fixed whole number",
            14,
            None,
        ),
        ("round(amount, 0.5) > 1", "argument 2 of round() must be a fixed whole number", 14, None),
        (
            "coalesce(amount, 'x') > 1",
            "coalesce() needs two values of the same type, got a number and text",
            0,
            None,
        ),
        (
            "days_between(received_on, '2024-02-30') > 1",
            "'2024-02-30' is not a date",
            26,
            'write it as "2024-01-31"',
        ),
        # types
        (
            'amount > "1"',
            "cannot compare a number with text",
            7,
            'numbers are written without quotes; text is written in quotes: "카드"',
        ),
        (
            "payment_method == 1",
            "cannot compare text with a whole number",
            15,
            'numbers are written without quotes; text is written in quotes: "카드"',
        ),
        ("approved_date > amount", "cannot compare a date with a number", 14, None),
        (
            'approved_date > "yesterday"',
            "'yesterday' is not a date",
            16,
            'write it as "2024-01-31"',
        ),
        ('approved_time > "25:00"', "'25:00' is not a time of day", 16, 'write it as "23:00"'),
        ("payment_method + 'x' == 'y'", "arithmetic '+' on text is not allowed", 15, None),
        (
            "approved_date - received_on > 3",
            "arithmetic '-' on a date is not supported",
            14,
            "use days_between(a, b) to count days, or hour(x) / minute(x)",
        ),
        ("active + 1 > 1", "'+' needs numbers, but one side is true/false", 7, None),
        (
            "amount and attendees > 1",
            "'and' needs true/false on both sides, but the left side is a number",
            0,
            None,
        ),
        (
            "active or amount",
            "'or' needs true/false on both sides, but the right side is a number",
            10,
            None,
        ),
        ("not amount", "'not' needs true/false, but this is a number", 0, None),
        ("-payment_method == 'a'", "'-' needs a number, but this is text", 0, None),
        ("active > false", "true/false values cannot be compared with '>'", 7, "use == or !="),
        (
            "amount == null",
            "comparing with null is always false",
            7,
            "use is_null(x) or not_null(x)",
        ),
        (
            "amount",
            "the condition must give true or false, but it gives a number",
            0,
            "compare it, e.g. amount > 0",
        ),
        (
            "lower(merchant_name)",
            "the condition must give true or false, but it gives text",
            0,
            None,
        ),
        # lists and in
        (
            "merchant_name in 'abc'",
            "'in' needs a list on the right, but this is text",
            17,
            'to look for text inside text, use contains(x, "...")',
        ),
        (
            "amount in params.max_per_person",
            "'in' needs a list on the right, but this is a number",
            10,
            None,
        ),
        ("amount in params.categories", "cannot look for a number in a list of text", 7, None),
        (
            "merchant_name in [1, 'a']",
            "a list must hold values of one kind",
            17,
            "all text or all numbers",
        ),
        ("merchant_name in [payment_method]", "a list may only hold fixed values", 18, None),
        ("[1, 2] == amount", "a list can only be used on the right of 'in'", 0, None),
        (
            "params.categories == 'a'",
            "a list cannot be compared with '=='",
            18,
            "use 'in' to test membership",
        ),
        # syntax
        ("amount = 1", "'=' assigns; it cannot be used in a condition", 7, "use == to compare"),
        ("amount ** 2 > 1", "'**' (power) is not supported", 7, "multiply instead, e.g. x * x"),
        ("amount[0] > 1", "indexing with [...] is not allowed", 6, None),
        ("lambda: 1", "'lambda' is not allowed", 0, None),
        ("lambda x: x", "'lambda' is not allowed", 0, None),
        ("[x for x in y]", "loops and comprehensions ('for') are not allowed", 3, None),
        (
            "amount in [x for x in params.categories]",
            "loops and comprehensions ('for') are not allowed",
            13,
            None,
        ),
        ("amount if active else 1", "'if' expressions are not allowed", 7, None),
        ("import os", "'import' is not allowed", 0, None),
        (
            "amount is None",
            "'is' is not supported",
            7,
            "use == to compare, or is_null(x) to test for an empty value",
        ),
        ("active == True", "'True' is not a value here", 10, "write true in lower case"),
        ("amount > 1 && active", "'&&' is not an operator here", 11, "write and"),
        ("amount <> 1", "'<>' is not an operator here", 7, "write !="),
        (
            "1 < amount < 5",
            "comparisons cannot be chained",
            11,
            "write a < b and b < c instead of a < b < c",
        ),
        ('payment_method == "카드', "unterminated text value", 18, 'close it with "'),
        ("payment_method == '카드", "unterminated text value", 18, "close it with '"),
        ('payment_method == "a\\q"', "unknown escape '\\q' in text", 20, None),
        ("amount > 1 $", "unexpected character '$'", 11, None),
        ("payment_method == “카드”", "unexpected character '“'", 18, "use straight quotes \" or '"),
        ("amount > 1 amount", "unexpected name 'amount' after the end of the expression", 11, None),
        ("amount > 1)", "unexpected ')' after the end of the expression", 10, None),
        ("(amount > 1", "expected ')' to close '(', found end of expression", 11, None),
        ("amount >", "expected a value, found end of expression", 8, None),
        ("amount > 1e6", "invalid number '1e6'", 9, "write plain digits, e.g. 1_000_000 or 0.95"),
        (
            "amount > 1_000_",
            "invalid number '1_000_'",
            9,
            "'_' may only separate digits, e.g. 20_000_000",
        ),
        ("amount > 10원", "invalid number '10원'", 9, None),
        ("", "the expression is empty", 0, None),
        ("   ", "the expression is empty", 0, None),
        ("not", "expected a value, found end of expression", 3, None),
        ("amount not 1", "unexpected 'not' here", 7, None),
        ("f()()", "only built-in functions can be called", 3, None),
    ],
)
def test_errors(text: str, message: str, offset: int, hint: str | None) -> None:
    found = problems(text)
    assert found, text
    first = found[0]
    assert first.message == message
    assert first.offset == offset
    if hint is not None:
        assert first.hint == hint


def test_unknown_names_all_reported_in_one_pass() -> None:
    text = "amout > 1 and hours(approved_time) > 2 or payment_method == 3 and params.zz > 1"
    found = problems(text)
    assert [(p.message, p.offset) for p in found] == [
        ("unknown column 'amout'", 0),
        ("unknown function 'hours'", text.index("hours")),
        ("cannot compare text with a whole number", text.index("==")),
        ("unknown parameter 'params.zz'", text.index("zz")),
    ]


def test_error_offsets_point_into_the_text() -> None:
    text = "amount > 1 and merchnt_name == 'x'"
    problem = only_problem(text)
    assert text[problem.offset :].startswith("merchnt_name")
    assert caret(text, problem).splitlines()[1] == " " * 15 + "^"
    assert (
        str(problem) == "column 16: unknown column 'merchnt_name' - did you mean 'merchant_name'?"
    )


def test_expr_error_message_lists_all_problems() -> None:
    with pytest.raises(ExprError) as info:
        compile_expression("amout > 1 or paymnt == 'x'", COLUMNS)
    assert str(info.value).count("unknown column") == 2


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    text = "(" * 500 + "amount > 1" + ")" * 500
    assert only_problem(text).message == "expression nested too deeply (over 100 levels)"


# -- safety: nothing from a rule file is ever run ----------------------------------------------
@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.mark.parametrize(
    "attack",
    [
        "__import__('os').system('touch {s}')",
        '__import__("os").system("touch {s}") == 0',
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "amount.__class__.__init__.__globals__",
        "lambda: open('{s}', 'w')",
        "[x for x in (open('{s}', 'w'),)]",
        "open('{s}', 'w')",
        "open('{s}', 'w') == 1",
        "eval(\"open('{s}', 'w')\")",
        "exec('import os')",
        "compile('1', 'x', 'eval')",
        "getattr(amount, '__class__')",
        "globals()",
        "params.__class__",
        "params.categories.__len__()",
        '"{{}}".format(amount)',
        "amount; import os",
        "amount if __import__('os').system('touch {s}') else 1",
        "breakpoint()",
    ],
)
def test_attacks_are_rejected_and_nothing_runs(attack: str, sentinel: Path) -> None:
    text = attack.format(s=sentinel)
    with pytest.raises(ExprError) as info:
        compile_expression(text, COLUMNS, PARAMS)
    assert info.value.problems
    assert all(
        isinstance(p, ExprProblem) and 0 <= p.offset <= len(text) for p in info.value.problems
    )
    assert not sentinel.exists()


def test_dunder_import_message(sentinel: Path) -> None:
    # One problem per chain of calls and attributes: the first mistake in it.
    found = problems(f"__import__('os').system('touch {sentinel}')")
    assert found == [
        ExprProblem(
            "names starting with '__' are not allowed: '__import__'",
            "use a column name, params.NAME or a built-in function",
            0,
        )
    ]
    assert not sentinel.exists()


def test_one_problem_per_chain_but_every_chain_reported() -> None:
    # Syntax problems stop before name checks, so merchant_name.x is not reported yet.
    found = problems("merchant_name.x.y == 'a' or open('x').read() or __a.b")
    assert [(p.message, p.offset) for p in found] == [
        ("only one dot is allowed, as in params.NAME: '.y'", 15),
        ("attribute access is not allowed: '.read'", 37),
        ("names starting with '__' are not allowed: '__a'", 48),
    ]


def test_open_is_an_unknown_function() -> None:
    p = only_problem("open('x') == 1")
    assert (p.message, p.offset) == ("unknown function 'open'", 0)


def test_no_eval_exec_or_ast_in_the_package() -> None:
    package = Path(__file__).resolve().parent.parent / "engine"
    sources = [*package.joinpath("expr").glob("*.py"), package / "template.py"]
    source = "\n".join(path.read_text("utf-8") for path in sources)
    # A call of a builtin: not a method (.compile), not a definition (def compile).
    assert not re.search(r"(?<![\w.])(?<!def )(eval|exec|compile|__import__|getattr)\(", source)
    assert not re.search(r"^\s*(import ast|from ast)", source, re.M)
    assert ".format(" not in source and "format_map(" not in source


# -- performance: vectorized ------------------------------------------------------------------
def test_100k_rows_evaluate_vectorized() -> None:
    n = 100_000
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "payment_method": pd.Series(rng.choice(["카드", "현금", ""], n), dtype="str"),
            "approved_time": pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
            "approved_date": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 730, n), unit="D"),
            "amount": rng.integers(0, 1_000_000, n).astype(float),
            "attendees": pd.Series(rng.integers(0, 5, n), dtype="Int64"),
            "merchant_category": pd.Series(
                rng.choice(["유흥주점", "식당", "골프장"], n), dtype="str"
            ),
            "merchant_name": pd.Series(rng.choice(["한밤 Bar", "김밥천국"], n), dtype="str"),
        }
    )
    text = (
        'payment_method == "카드" and not is_null(approved_time) and (hour(approved_time) >= 23 or hour(approved_time) < 6)'
        " or (weekday(approved_date) >= 5 or is_holiday(approved_date)) and amount / attendees > params.max_per_person"
        ' or merchant_category in params.categories and contains(lower(merchant_name), "bar")'
    )
    compiled = compile_expression(text, COLUMNS, PARAMS)
    started = time.perf_counter()
    result = compiled.evaluate(frame)
    elapsed = time.perf_counter() - started
    assert len(result) == n and result.dtype == np.dtype(bool)
    assert 0 < result.sum() < n
    assert elapsed < 5, f"{elapsed:.2f}s for {n} rows: not vectorized?"
    # Cross-check one branch against plain pandas.
    night = (frame.payment_method == "카드") & (
        (frame.approved_time.dt.total_seconds() // 3600 >= 23)
        | (frame.approved_time.dt.total_seconds() // 3600 < 6)
    )
    assert not (night & ~result).any()


# -- robustness: arbitrary text never raises anything but ExprError ---------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(
    ["amount", "attendees", "payment_method", "approved_time", "approved_date", "active", "params.min_ratio",
     "params.categories", "params.nested", "hour(", "round(", "coalesce(", "is_holiday(", "contains(", "(", ")",
     "[", "]", ",", ".", " and ", " or ", " not ", " in ", " not in ", "==", "!=", "<", ">=", "+", "-", "*", "/",
     "%", "1", "0", "2.5", "1_000", '"카드"', "'x'", "true", "null", "__import__", "lambda", "for", "=", "**",
     '"', "\\", "{", ":"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_random_text_only_raises_expr_error(text: str) -> None:
    _compile_and_run(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_random_token_soup_only_raises_expr_error(text: str) -> None:
    _compile_and_run(text)


def _compile_and_run(text: str) -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.0, np.nan, 0.0],
            "attendees": pd.Series([1, None, 0], dtype="Int64"),
            "payment_method": pd.Series(["카드", None, " "], dtype="str"),
            "approved_time": pd.to_timedelta(["23:00:00", None, "00:00:00"]),
            "approved_date": pd.to_datetime(["2024-01-01", None, "2024-06-06"]),
            "active": pd.Series([True, None, False], dtype="boolean"),
        }
    )
    try:
        result = compile_expression(text, COLUMNS, PARAMS, expect=None).evaluate(frame)
    except ExprError as exc:  # includes "column missing from the data" at evaluation
        assert exc.problems and all(0 <= p.offset <= len(text) for p in exc.problems)
        return
    assert len(result) == 3
