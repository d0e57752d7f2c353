"""The rule expression language: the rule pack's conditions, operators, null semantics and
functions (its errors and safety: tests/test_expr_errors.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from expr_support import COLUMNS, PARAMS, expr_frame, only_problem, run

from naebu.engine.expr import (
    FUNCTIONS,
    CompiledExpression,
    ExprError,
    compile_expression,
)
from naebu.engine.expr.kinds import value_type


@pytest.fixture
def frame() -> pd.DataFrame:
    return expr_frame()


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
