"""naebu/core/jsonsafe.py: the one JSON-safe converter, and the evidence wrapper that writes dates
as officials read them (engine/evidence.py json_value)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from naebu.core.jsonsafe import json_safe
from naebu.engine.evidence import json_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12000.00"), 12000),
        (Decimal("7"), 7),
        (Decimal("1.5"), "1.5"),
        (Decimal("12345678901234567.89"), "12345678901234567.89"),  # a float would round it
        (Decimal("NaN"), None),
        (Decimal("Infinity"), None),
    ],
)
def test_decimal_is_never_rounded(value: Decimal, expected: object) -> None:
    assert json_safe(value) == expected
    assert type(json_safe(value)) is type(expected)


@pytest.mark.parametrize(
    "missing", [None, float("nan"), float("inf"), np.nan, np.float32("nan"), pd.NA, pd.NaT,
                np.datetime64("NaT")],
)  # fmt: skip
def test_missing_values_are_none(missing: object) -> None:
    assert json_safe(missing) is None


def test_numpy_scalars_are_unboxed() -> None:
    values = [np.int64(3), np.float64(2.5), np.bool_(True), np.str_("a")]
    assert json_safe(values) == [3, 2.5, True, "a"]
    assert [type(v) for v in json_safe(values)] == [int, float, bool, np.str_]


def test_dates_and_times_are_iso_text() -> None:
    assert json_safe(dt.date(2025, 1, 28)) == "2025-01-28"
    assert json_safe(dt.datetime(2025, 1, 28, 9, 5)) == "2025-01-28T09:05:00"
    assert json_safe(dt.time(9, 5)) == "09:05:00"
    assert json_safe(pd.Timestamp("2025-01-28 09:05")) == "2025-01-28T09:05:00"
    assert json_safe(np.datetime64("2025-01-28", "D")) == "2025-01-28"


def test_containers_bytes_and_the_rest() -> None:
    value = {1: (Decimal("2"), {"b": b"\xea\xb0\x80"}), "s": {np.int64(1)}, "o": object}
    out = json_safe(value)
    assert out == {"1": [2, {"b": "가"}], "s": [1], "o": str(object)}
    json.dumps(out, allow_nan=False)  # nothing JSON cannot hold


def test_evidence_keeps_its_own_date_form_and_the_shared_rest() -> None:
    assert json_value(pd.Timestamp("2025-01-28")) == "2025-01-28"
    assert json_value(pd.Timestamp("2025-01-28 09:05"), "datetime") == "2025-01-28 09:05:00"
    assert json_value(pd.Timedelta(minutes=65)) == "01:05"
    assert json_value(np.float64(3.0)) == 3 and type(json_value(np.float64(3.0))) is int
    assert json_value(Decimal("1.5")) == json_safe(Decimal("1.5")) == "1.5"
    assert json_value(float("inf")) is None and json_value(pd.NA) is None
