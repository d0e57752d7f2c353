"""Runtime values of the expression language: blank text detection on every text storage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from naebu.engine.expr import compile_expression
from naebu.engine.expr.values import (
    _SPACE_LEAD,
    _SPACE_PAIR,
    _SPACES,
    arrow_bools,
    blanks,
    boolean,
    nulls,
    remembered_nulls,
    to_runtime,
)

#: Every whitespace character Python knows, as UTF-8 (Arrow's set is the same one).
SPACES = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and chr(c).isspace()]

TEXTS = ["", " ", "  ", "\t\n", "\u3000", "\u00a0", "\u2003 ", " a", "a ", "수의", " 공사 ",
         "\u3000x", "\u00e9", "\u1680", "x", None, "\u2028\u2029", "\x1c", "\u3001", "\u200b",
         "㈜동방", "\u2000x", "\u3000\u3001", "\u00a0\u00a0", "\u00a1"]  # fmt: skip


def _expected(values: list[str | None]) -> np.ndarray:
    return np.array([v is not None and not v.strip() for v in values], dtype=bool)


def test_space_lead_bytes_cover_every_whitespace_character() -> None:
    assert sorted(_SPACES) == SPACES
    leads = {ch.encode("utf-8")[0] for ch in SPACES}
    assert leads == set(np.flatnonzero(_SPACE_LEAD))
    pairs = {tuple(ch.encode("utf-8")[:2]) for ch in SPACES if ord(ch) >= 0x80}
    assert pairs == set(zip(*np.nonzero(_SPACE_PAIR), strict=True))
    arrow = pc.equal(pc.utf8_trim_whitespace(pa.array(SPACES, type=pa.large_string())), "")
    assert all(arrow.to_pylist())  # Arrow trims exactly what Python calls whitespace


@pytest.mark.parametrize("dtype", ["string", "str", "object"])
def test_blanks_on_every_storage(dtype: str) -> None:
    values = TEXTS * 3 + SPACES
    series = pd.Series(values, dtype=dtype)
    assert (blanks(series) == _expected(values)).all()


def test_blanks_on_sliced_and_chunked_arrow_text() -> None:
    values = TEXTS * 5
    chunked = pa.chunked_array(
        [pa.array(values[:7]), pa.array(values[7:40]).slice(3), pa.array([], pa.string())]
    )
    series = pd.Series(pd.arrays.ArrowStringArray(chunked))
    kept = values[:7] + values[10:40]
    assert (blanks(series) == _expected(kept)).all()
    sliced = pd.Series(values, dtype="string").iloc[5:31]
    assert (blanks(sliced) == _expected(values[5:31])).all()
    assert (nulls(sliced.astype("str")) == _expected(values[5:31]) | sliced.isna().to_numpy()).all()


def test_blanks_of_empty_and_all_null_text() -> None:
    assert blanks(pd.Series([], dtype="string")).shape == (0,)
    assert not blanks(pd.Series([None, None], dtype="string")).any()
    assert blanks(pd.Series(["", ""], dtype="string")).all()


@pytest.mark.parametrize("dtype", ["string", "str", "object"])
def test_nulls_are_missing_or_blank(dtype: str) -> None:
    values = TEXTS * 2
    series = pd.Series(values, dtype=dtype)
    expected = np.array([v is None or not v.strip() for v in values], dtype=bool)
    assert (nulls(series.astype("str")) == expected).all()
    assert (nulls(series) == (expected if dtype == "str" else series.isna().to_numpy())).all()


def test_nulls_are_remembered_only_within_one_evaluation() -> None:
    series = pd.Series(["a", " ", None, "b"], dtype="str")
    assert nulls(series) is not nulls(series)
    with remembered_nulls():
        first = nulls(series)
        assert nulls(series) is first
        assert not first.flags.writeable
        assert nulls(series.copy()) is not first  # another Series, even with equal values
        flags = boolean(first, series.index)
        flags.iloc[0] = True  # a condition built from a remembered mask is its own
        assert first.tolist() == [False, True, True, False]
        canonical = to_runtime(pd.Series(["x", "", None], dtype="string"), "str")
        assert nulls(canonical).tolist() == [False, True, True]
        assert not nulls(canonical).flags.writeable  # brought along by to_runtime
    assert nulls(series).flags.writeable


def test_a_column_tested_in_several_places() -> None:
    frame = pd.DataFrame(
        {
            "official_id": pd.Series(["E1", "E2", " ", None, "E5"], dtype="string"),
            "approver_id": pd.Series(["E1", None, " ", None, "E6"], dtype="string"),
        }
    )
    columns = {"official_id": "str", "approver_id": "str"}
    text = "not_null(approver_id) and official_id == approver_id or is_null(official_id)"
    assert compile_expression(text, columns).evaluate(frame).tolist() == [
        True,
        False,
        True,
        True,
        False,
    ]


def test_arrow_bools_of_sliced_chunked_arrays_with_nulls() -> None:
    values = [True, False, None, True, True, None, False, True, False, True, None, True] * 3
    whole = pa.array(values, type=pa.bool_())
    chunked = pa.chunked_array([whole.slice(3, 10), whole.slice(0, 0), whole.slice(13)])
    expected = [bool(v) for v in values[3:13] + values[13:]]
    assert arrow_bools(chunked).tolist() == expected
    assert arrow_bools(whole.slice(5, 9)).tolist() == [bool(v) for v in values[5:14]]
    assert arrow_bools(pa.chunked_array([], type=pa.bool_())).tolist() == []
