"""join_frame looks keys up by position (Arrow's hash lookup for text, pandas' index otherwise);
it must give exactly the frame a left merge gave: values, nulls and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from naebu.core import datasets
from naebu.engine.expr.values import to_runtime
from naebu.engine.ruletypes.match import Join, join_frame

PAYMENTS = datasets.get("payments")
VENDOR = Join("vendor", "vendors", (("vendor_id", "vendor_id"),))


def _reference(frame: pd.DataFrame, primary: datasets.Dataset, join: Join,
               other: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:  # fmt: skip
    """join_frame as it was: a left merge on the keys in their runtime dtypes."""
    other_ds = datasets.get(join.dataset)
    names = [f"{join.alias}.{c}" for c in wanted]
    lefts = [left for left, _ in join.on]
    rights = [right for _, right in join.on]
    right_keys = {
        f"_k{i}": to_runtime(other[r], other_ds.by_name[r].type) for i, r in enumerate(rights)
    }
    right = pd.DataFrame(
        {**right_keys, **{n: other[c] for n, c in zip(names, wanted, strict=True)}}
    )
    order_by = other_ds.event_time or ("updated_at" if "updated_at" in other.columns else None)
    if order_by is not None and order_by in other.columns:
        right = right.assign(_t=pd.to_datetime(other[order_by], errors="coerce").to_numpy())
        right = right.sort_values("_t", kind="stable", na_position="first").drop(columns="_t")
    right = right.dropna(subset=list(right_keys)).drop_duplicates(list(right_keys), keep="last")
    left = pd.DataFrame({f"_k{i}": to_runtime(frame[c], primary.by_name[c].type).to_numpy()
                         for i, c in enumerate(lefts)})  # fmt: skip
    for k in right_keys:
        if str(left[k].dtype) != str(right[k].dtype):
            left[k] = left[k].astype(object)
            right[k] = right[k].astype(object)
    merged = left.merge(right, how="left", on=list(right_keys), sort=False)
    return merged[names].set_axis(frame.index)


def _payments(dtype: str, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ids = [f"V{int(i)}" for i in rng.integers(0, 60, n)]
    for i in range(0, n, 13):
        ids[i] = None  # type: ignore[call-overload]
    for i in range(5, n, 17):
        ids[i] = " "
    return pd.DataFrame(
        {
            "payment_id": [f"P{i}" for i in range(n)],
            "vendor_id": pd.Series(ids, dtype=dtype),
            "official_id": pd.Series([f"E{i % 9}" for i in range(n)], dtype=dtype),
            "department": pd.Series([["가과", "나과", None][i % 3] for i in range(n)], dtype=dtype),
            "paid_on": pd.to_datetime(
                pd.Series(rng.integers(0, 40, n), dtype="int64"), unit="D", origin="2025-01-01"
            ),  # fmt: skip
        },
        index=pd.RangeIndex(1000, 1000 + n),
    )


def _vendors(dtype: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    m = 80  # V0..V49, some twice (the latest updated_at wins), a blank and a null id
    ids = [f"V{i % 50}" for i in range(m)]
    ids[60], ids[61] = " ", None  # type: ignore[call-overload]
    changed = pd.to_datetime(pd.Series(rng.integers(0, 40, m), dtype="int64"), unit="D",
                             origin="2025-01-01")  # fmt: skip
    changed[::7] = pd.NaT
    updated = pd.Series(
        pd.to_datetime("2025-06-01") + pd.to_timedelta(rng.integers(0, 5, m), unit="D")
    )
    updated[::11] = pd.NaT
    return pd.DataFrame(
        {
            "vendor_id": pd.Series(ids, dtype=dtype),
            "name": pd.Series([f"업체{i}" for i in range(m)], dtype=dtype),
            "account_no": pd.Series(
                [None if i % 9 == 0 else f"{i:06d}" for i in range(m)], dtype=dtype
            ),
            "account_changed_on": changed,
            "updated_at": updated,
            "flag": pd.Series([i % 2 == 0 for i in range(m)], dtype=bool),
            "count": pd.Series(range(m), dtype="int64"),
            "maybe": pd.Series([i if i % 4 else None for i in range(m)], dtype="Int64"),
        }
    )


@pytest.mark.parametrize("dtype", ["string", "str", "object"])
def test_join_frame_equals_a_left_merge(dtype: str) -> None:
    frame, other = _payments(dtype), _vendors(dtype)
    wanted = ["account_no", "account_changed_on", "name", "flag", "count", "maybe"]
    got = join_frame(frame, PAYMENTS, VENDOR, other, wanted)
    pd.testing.assert_frame_equal(got, _reference(frame, PAYMENTS, VENDOR, other, wanted))


@pytest.mark.parametrize("dtype", ["string", "object"])
def test_join_frame_where_every_key_matches_keeps_dtypes(dtype: str) -> None:
    other = _vendors(dtype)
    frame = _payments(dtype)
    frame["vendor_id"] = pd.Series(
        [f"V{i % 50}" for i in range(len(frame))], dtype=dtype, index=frame.index
    )
    wanted = ["flag", "count", "maybe", "account_no"]
    got = join_frame(frame, PAYMENTS, VENDOR, other, wanted)
    pd.testing.assert_frame_equal(got, _reference(frame, PAYMENTS, VENDOR, other, wanted))
    assert got["vendor.flag"].dtype == bool


def test_join_on_a_date_and_on_two_keys() -> None:
    frame, other = _payments("string"), _vendors("string")
    by_day = Join("vendor", "vendors", (("paid_on", "account_changed_on"),))
    wanted = ["vendor_id", "name"]
    pd.testing.assert_frame_equal(
        join_frame(frame, PAYMENTS, by_day, other, wanted),
        _reference(frame, PAYMENTS, by_day, other, wanted),
    )
    employees = pd.DataFrame(
        {
            "employee_id": pd.Series([f"E{i % 9}" for i in range(20)], dtype="string"),
            "department": pd.Series(
                [["가과", "나과", "다과", None][i % 4] for i in range(20)], dtype="string"
            ),
            "name": pd.Series([f"직원{i}" for i in range(20)], dtype="string"),
            "active": pd.Series([True, False, None, True] * 5, dtype="boolean"),
        }
    )
    two = Join("emp", "employees", (("official_id", "employee_id"), ("department", "department")))
    pd.testing.assert_frame_equal(
        join_frame(frame, PAYMENTS, two, employees, ["name", "active"]),
        _reference(frame, PAYMENTS, two, employees, ["name", "active"]),
    )
