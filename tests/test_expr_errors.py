"""The rule expression language: located errors, safety against hostile text, speed and
robustness (its operators and functions: tests/test_expr.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from expr_support import COLUMNS, PARAMS, expr_frame, only_problem, problems
from python_calls import per_record

from naebu.engine.expr import (
    ExprError,
    ExprProblem,
    caret,
    compile_expression,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return expr_frame()


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
def _card_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
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


def test_100k_rows_evaluate_vectorized() -> None:
    n = 100_000
    frame = _card_frame(n)
    text = (
        'payment_method == "카드" and not is_null(approved_time) and (hour(approved_time) >= 23 or hour(approved_time) < 6)'
        " or (weekday(approved_date) >= 5 or is_holiday(approved_date)) and amount / attendees > params.max_per_person"
        ' or merchant_category in params.categories and contains(lower(merchant_name), "bar")'
    )
    compiled = compile_expression(text, COLUMNS, PARAMS)
    result = compiled.evaluate(frame)
    assert len(result) == n and result.dtype == np.dtype(bool)
    assert 0 < result.sum() < n
    # No Python per record: the calls hardly grow from a thousand records to a hundred thousand.
    extra = per_record(lambda k: compiled.evaluate(_card_frame(k)))
    assert extra < 0.01, f"{extra:.3f} Python calls per record: not vectorized"
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
