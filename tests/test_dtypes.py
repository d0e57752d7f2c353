"""Joining batches of canonical records (naebu.core.dtypes.joined)."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt

from naebu.core.dtypes import joined, text_array, whole_chunks


def _batch(start: int, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": pd.Series(text_array([f"K-{i}" for i in range(start, start + n)])),
            "note": pd.Series(
                [None if i % 3 == 0 else f"n{i}" for i in range(start, start + n)], dtype="str"
            ),
            "amount": [float(i) for i in range(start, start + n)],
            "count": pd.Series(range(start, start + n), dtype="int64[pyarrow]"),
        },
        index=pd.RangeIndex(100, 100 + n),  # a batch's own index: replaced
    )


def _chunks(frame: pd.DataFrame, column: str) -> int:
    return int(frame[column].array.__arrow_array__().num_chunks)


def test_joined_equals_concat_with_every_arrow_column_in_one_chunk() -> None:
    batches = [_batch(0, 5), _batch(5, 4), _batch(9, 3)]
    concatenated = pd.concat(batches, ignore_index=True)
    assert _chunks(concatenated, "key") == 3  # what joined exists to undo

    result = joined(batches)

    pdt.assert_frame_equal(result, concatenated)
    assert [_chunks(result, c) for c in ("key", "note", "count")] == [1, 1, 1]
    assert list(result.dtypes) == list(concatenated.dtypes)
    assert result.loc[3, "note"] is pd.NA or pd.isna(result.loc[3, "note"])


def test_joined_one_batch_gets_a_fresh_index_and_is_not_altered() -> None:
    batch = _batch(0, 4)
    result = joined([batch])
    assert list(result.index) == [0, 1, 2, 3]
    assert list(batch.index) == [100, 101, 102, 103]
    pdt.assert_frame_equal(result, batch.reset_index(drop=True))


def test_whole_chunks_leaves_a_frame_already_whole_as_it_is() -> None:
    frame = _batch(0, 3).reset_index(drop=True)
    assert whole_chunks(frame) is frame


def test_whole_chunks_does_not_change_the_frame_it_was_given() -> None:
    concatenated = pd.concat([_batch(0, 2), _batch(2, 2)], ignore_index=True)
    whole_chunks(concatenated)
    assert _chunks(concatenated, "key") == 2
