"""engine/expr/arrow_strings.py against the pandas calls it replaces, on text chosen to find
differences: full-width and other compatibility forms, digits of other scripts, combining
marks, Hangul, whitespace, empty text, nulls, sliced and multi-chunk Arrow arrays, both text
dtypes; and the counts that keep ASCII text away from Python's per-value normalization."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from naebu.engine.expr import arrow_strings
from naebu.engine.expr.arrow_strings import digits_only, nfkc

ALPHABET = (
    "0123456789-  .abcXYZ가각힣ㄱᄀᆨ０１２３４５６７８９－（）㈜①²³½"
    "٣٤۵߁१३๓০\u0301\u0308\u00a0\u3000\t\nﬁÅé€"
)


def _texts(seed: int, size: int = 400) -> list[Any]:
    rng = random.Random(seed)
    out: list[Any] = []
    for _ in range(size):
        roll = rng.random()
        if roll < 0.08:
            out.append(None)
        elif roll < 0.12:
            out.append("")
        elif roll < 0.55:  # account numbers as ledgers write them
            out.append("-".join(str(rng.randint(1, 9999)) for _ in range(rng.randint(1, 4))))
        else:
            out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12))))
    return out


def _variants(values: list[Any]) -> list[pd.Series]:
    """The same texts as each dtype and layout a column can come in."""
    half = len(values) // 2
    chunked = pa.chunked_array([pa.array(values[:half]), pa.array(values[half:])])
    many = pd.Series(pd.arrays.ArrowStringArray(chunked.cast(pa.large_string())))
    return [
        pd.Series(values, dtype="str"),
        pd.Series(values, dtype="string"),
        pd.Series(values, dtype="str").iloc[7:-5],  # a slice: the buffers start elsewhere
        many.astype("str"),
        pd.Series(values, dtype="str", index=range(100, 100 + len(values)), name="a"),
    ]


@pytest.mark.parametrize("seed", range(5))
def test_nfkc_and_digits_as_pandas(seed: int) -> None:
    for text in _variants(_texts(seed)):
        expected = text.str.normalize("NFKC")
        got = nfkc(text)
        pd.testing.assert_series_equal(got, expected)
        digits = text.str.replace(r"\D", "", regex=True)
        found = digits_only(text)
        assert found is not None
        pd.testing.assert_series_equal(found, digits)
        empty_null = digits.mask(digits.str.len() == 0)
        found = digits_only(text, empty_as_null=True)
        assert found is not None
        pd.testing.assert_series_equal(found, empty_null)


def test_plain_ascii_column_takes_the_arrow_path_of_pandas_too() -> None:
    # pandas asks RE2 when a column is all ASCII, Python's re otherwise: the same answers.
    text = pd.Series(["110-123-456789", None, "", "x", "  7 "] * 50, dtype="str")
    found = digits_only(text, empty_as_null=True)
    expected = text.str.replace(r"\D", "", regex=True)
    assert found is not None
    pd.testing.assert_series_equal(found, expected.mask(expected.str.len() == 0))


def test_text_that_is_not_arrow_backed_keeps_the_pandas_path() -> None:
    text = pd.Series(["１２-3", None, "a"], dtype=object)
    assert digits_only(text) is None
    pd.testing.assert_series_equal(nfkc(text), text.str.normalize("NFKC"))


def test_only_non_ascii_texts_are_normalized_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counted(form: str, value: str) -> str:
        calls.append(value)
        return unicodedata.normalize(form, value)

    class Counting:
        normalize = staticmethod(counted)

    monkeypatch.setattr(arrow_strings, "unicodedata", Counting)
    ascii_only = pd.Series([f"317-{i:04d}-11" for i in range(5000)] + [None], dtype="str")
    assert nfkc(ascii_only) is ascii_only and calls == []
    mixed = pd.concat([ascii_only, pd.Series(["１２", "가"], dtype="str")], ignore_index=True)
    assert nfkc(mixed).tolist()[-2:] == ["12", "가"]
    assert calls == ["１２", "가"]


def test_expression_functions_agree_with_the_pandas_formulas() -> None:
    from naebu.engine.expr import compile_expression

    values = _texts(11)
    frame = pd.DataFrame({"t": pd.Series(values, dtype="str")})
    text = frame["t"].mask(frame["t"].str.strip() == "")  # blank is null in expressions
    got = compile_expression("digits(t)", {"t": "str"}, expect=None).evaluate(frame)
    found = text.str.normalize("NFKC").str.replace(r"\D", "", regex=True)
    assert got.tolist() == found.mask(found.str.len() == 0).tolist()
    got = compile_expression("normalize(t)", {"t": "str"}, expect=None).evaluate(frame)
    expected = text.str.normalize("NFKC").str.strip().str.replace(r"\s+", " ", regex=True)
    assert got.fillna("<null>").tolist() == expected.fillna("<null>").tolist()
