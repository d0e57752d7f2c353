"""Row-wise functions for derived columns, variadic calls and column("header")."""

from __future__ import annotations

import pandas as pd
import pytest

from naebu.engine.expr import ExprError, compile_expression
from naebu.engine.expr.checker import AnyColumns

FRAME = pd.DataFrame(
    {
        "a": ["100,000,000원", None, "미정", "(5,000)"],
        "b": ["200,000,000", None, "5", "₩5,000"],
        "d1": ["2025.3.1", "20250302", None, "2025년 3월 4일"],
        "d2": ["2025-02-01", None, None, "45658"],
        "who": ["팀장 등 4명", "3명", None, "과장"],
        "감정 (1)": ["1", "2", "3", "4"],
    },
    dtype="str",
)
COLUMNS = {c: "str" for c in FRAME.columns}


def values(text: str) -> list[object]:
    result = compile_expression(text, COLUMNS, expect=None).evaluate(FRAME)
    return [None if pd.isna(v) else v for v in result]


def test_mean_and_count_of_the_values_that_hold_a_number() -> None:
    assert values("mean_present(a, b)") == [150_000_000, None, 5, 0]
    assert values("count_present(a, b)") == [2, 0, 1, 2]
    assert values("mean_present(a, b, 300000000)")[0] == 200_000_000


def test_greatest_and_least_ignore_nulls() -> None:
    assert values("greatest(to_date(d1), to_date(d2))") == [
        pd.Timestamp("2025-03-01"),
        pd.Timestamp("2025-03-02"),
        None,
        pd.Timestamp("2025-03-04"),
    ]
    assert values("least(to_date(d1), to_date(d2))")[0] == pd.Timestamp("2025-02-01")
    assert values("least(to_date(d1), to_date(d2))")[3] == pd.Timestamp("2025-01-01")  # serial
    assert values("least(to_number(a), to_number(b))") == [100_000_000, None, 5, -5000]


def test_to_number_and_to_date_read_text_as_connectors_do() -> None:
    assert values("to_number(a)") == [100_000_000, None, None, -5000]
    assert values("to_date(d1)")[3] == pd.Timestamp("2025-03-04")


def test_extract_and_concat() -> None:
    assert values('extract(who, "(\\\\d+)\\\\s*명")') == ["4", "3", None, None]
    assert values('extract(who, "\\\\d+명")') == ["4명", "3명", None, None]
    assert values('extract(who, "(\\\\S+) 등 (\\\\d+)", 2)') == ["4", None, None, None]
    assert values('concat(who, "/", b)') == ["팀장 등 4명/200,000,000", "3명/", "/5", "과장/₩5,000"]
    assert values('concat_ws(" ", who, b)') == [
        "팀장 등 4명 200,000,000",
        "3명",
        "5",
        "과장 ₩5,000",
    ]


def test_column_reads_a_header_that_is_not_a_name() -> None:
    assert values('to_number(column("감정 (1)")) * 2') == [2, 4, 6, 8]
    compiled = compile_expression('count_present(column("감정 (1)"), a)', COLUMNS, expect=None)
    assert compiled.columns_used == {"감정 (1)", "a"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mean_present()", "mean_present() takes 1 or more arguments, got 0"),
        ('extract(who, "(a+)+")', "a repeated group that itself repeats"),
        ('extract(who, "(\\\\d+)", 3)', "group 3 does not exist"),
        ("greatest(to_date(d1), 1)", "must all be numbers or all dates"),
        ("column(a)", "column() takes the column's name as one text"),
        ('column("없는 열")', "unknown column '없는 열'"),
    ],
)
def test_mistakes_are_located(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_expression(text, COLUMNS, expect=None)


def test_any_column_is_text_before_the_source_is_read() -> None:
    compiled = compile_expression("mean_present(감정가1, 감정가2)", AnyColumns(), expect=None)
    assert compiled.columns_used == {"감정가1", "감정가2"}
    with pytest.raises(ExprError, match="unknown function 'mean'"):
        compile_expression("mean(감정가1)", AnyColumns(), expect=None)
