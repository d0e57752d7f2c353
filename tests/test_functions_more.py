"""The functions added for issue 3: business days, calendar parts, normalize, patterns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from python_calls import per_record

from naebu.engine.expr import ExprError, compile_expression

COLUMNS = {"a": "date", "b": "date", "t": "str"}


def run(text: str, frame: pd.DataFrame, expect: str | None = None) -> list:
    result = compile_expression(text, COLUMNS, {"pat": r"(\d[\d,]*)\s*명"}, expect=expect).evaluate(
        frame
    )
    return [None if isinstance(x, float) and np.isnan(x) else x for x in result.tolist()]


def frame(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    data = {
        "a": pd.to_datetime(cols.get("a", [None] * n)),
        "b": pd.to_datetime(cols.get("b", [None] * n)),
        "t": pd.Series(cols.get("t", [None] * n), dtype="str"),
    }
    return pd.DataFrame(data)


def test_business_days_between_skips_weekends_and_korean_holidays() -> None:
    f = frame(
        a=["2025-03-10", "2025-03-07", "2025-10-02", "2025-03-12", None, "2025-02-28"],
        b=["2025-03-12", "2025-03-10", "2025-10-13", "2025-03-10", "2025-03-03", "2025-03-04"],
    )
    # Mon->Wed 2; Fri->Mon 1; 2025-10-03..09 개천절/추석/한글날 then the weekend; negative when b
    # is earlier; 2025-03-03 is the substitute holiday for 삼일절 (a Saturday)
    assert run("business_days_between(a, b)", f, None) == [2, 1, 2, -2, None, 1]
    assert run("is_business_day(a)", f) == [True, True, True, True, False, True]
    assert run('is_business_day(b) and b == "2025-10-13"', f) == [
        False,
        False,
        True,
        False,
        False,
        False,
    ]
    assert run("is_business_day(b)", f)[4] is False  # 2025-03-03


def test_quarter_and_week() -> None:
    f = frame(a=["2025-01-01", "2025-06-30", "2025-12-29", None])
    assert run("quarter(a)", f, None) == [1, 2, 4, None]
    assert run("week(a)", f, None) == [1, 27, 1, None]


def test_normalize() -> None:
    f = frame(t=["  ㈜한빛　상사 ", "ＡＢＣ１２３", "a\t\tb", None, "   "])
    assert run("normalize(t)", f, None) == ["(주)한빛 상사", "ABC123", "a b", None, None]
    assert run('normalize(t) == "(주)한빛 상사"', f) == [True, False, False, False, False]


def test_extract_number_and_matches() -> None:
    f = frame(t=["행정팀장 등 3명", "직원 1,200 명 격려", "간담회", None])
    assert run("extract_number(t, params.pat)", f, None) == [3, 1200, None, None]
    assert run('extract_number(t, "(\\\\d+)명") > 2', f) == [True, False, False, False]
    assert run('matches(t, "^행정")', f) == [True, False, False, False]
    assert run('matches(t, "격려|간담")', f) == [False, True, True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('extract_number(t, "\\\\d+") > 1', "needs exactly 1 group"),
        ('matches(t, "(a+)+$")', "a repeated group that itself repeats"),
        ('matches(t, "(a)\\\\1")', "back-references"),
        ('matches(t, "[")', "not a valid regular expression"),
        ("matches(t, t)", "argument 2 of matches() must be a fixed text"),
        ('matches(t, "' + "a" * 101 + '")', "longer than 100 characters"),
    ],
)
def test_patterns_are_checked_when_the_rule_loads(text: str, message: str) -> None:
    with pytest.raises(ExprError) as info:
        compile_expression(text, COLUMNS, {})
    assert len(info.value.problems) == 1 and message in str(info.value)


def test_functions_are_vectorized() -> None:
    # The same thousand dates over and over: work per distinct value is allowed, per record not.
    a = pd.date_range("2020-01-01", periods=1_000, freq="D").strftime("%Y-%m-%d").tolist()
    b = pd.date_range("2020-02-01", periods=1_000, freq="D").strftime("%Y-%m-%d").tolist()

    def days(n: int) -> pd.DataFrame:
        return frame(
            a=[a[i % 1_000] for i in range(n)],
            b=[b[(i * 7) % 1_000] for i in range(n)],
            t=[f"행사 {i % 9}명" for i in range(n)],
        )

    text = 'business_days_between(a, b) > 5 and extract_number(t, params.pat) > 3 and normalize(t) != "x"'
    built = {n: days(n) for n in (1_000, 100_000)}  # the frames are built outside the count
    extra = per_record(lambda n: run(text, built[n]))
    assert extra < 0.01, f"{extra:.3f} Python calls per record: not vectorized"
