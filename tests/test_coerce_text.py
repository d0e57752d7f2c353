"""Text coercion has two paths - Arrow kernels for plain text columns, Python for columns with
numbers or dates mixed in - and they must give the same values, NFKC and stripping included."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naebu.connectors.text_values import WHITESPACE, _arrow_text, _python_text
from naebu.connectors.text_values import normalised_text as _text

TRICKY = [
    "  상호  ",
    "\u3000전각 공백\u3000",
    "\xa0nbsp\xa0",
    "\x1c\x1d\x1e\x1fseparators\x85",
    "\u2028line\u2029",
    "ＡＢＣ１２３",  # full-width forms
    "ﬁ ligature",
    "㈜한빛",  # parenthesised ideograph: NFKC expands it
    "\u1100\u1161\u11a8",  # conjoining jamo: NFKC composes 각
    "",
    "   ",
    "\t\n",
    "a\x00b",  # a NUL inside a value
    None,
    math.nan,
    pd.NA,
]


def _values(series: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in series]


def test_both_paths_agree_on_awkward_text() -> None:
    series = pd.Series(TRICKY, dtype=object)
    arrow = _arrow_text(series)
    assert arrow is not None, "a text column takes the Arrow path"
    assert _values(pd.Series(pd.arrays.ArrowStringArray(arrow))) == _values(_python_text(series))
    assert _values(_text(series))[:2] == ["상호", "전각 공백"]
    assert _values(_text(series))[9:12] == [None, None, None]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        # Characters Python's Unicode database assigns: Arrow's (utf8proc) may be a version
        # newer and decompose a character Python does not know yet (U+1E030, Unicode 15).
        st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs", "Cn")))),
        max_size=30,
    )
)
def test_both_paths_agree_on_any_text(values: list[str | None]) -> None:
    series = pd.Series(values, dtype=object)
    arrow = _arrow_text(series)
    assert arrow is not None
    assert _values(pd.Series(pd.arrays.ArrowStringArray(arrow))) == _values(_python_text(series))


@pytest.mark.parametrize(
    "values",
    [
        [1, "a", None],  # numbers mixed into text
        [2018.0, 3.5],
        [b"bytes", "text"],
        [pd.Timestamp("2025-03-01"), "2025-03-02"],
    ],
)
def test_columns_that_are_not_plain_text_take_the_python_path(values: list[object]) -> None:
    series = pd.Series(values, dtype=object)
    assert _arrow_text(series) is None
    assert len(_text(series)) == len(values)


def test_all_missing_and_string_dtype_columns() -> None:
    assert _values(_text(pd.Series([None, math.nan], dtype=object))) == [None, None]
    typed = pd.Series([" x ", None, ""], dtype="string")
    assert _values(_text(typed)) == ["x", None, None]


def test_the_whitespace_arrow_trims_is_what_python_strips() -> None:
    assert set(WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}
