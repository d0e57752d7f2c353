"""aggregate rules on real frames: window edges, calendar months, nulls, and the vectorized
windows against a brute-force loop."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType
from naebu.engine.ruletypes import windows

CTX = EvalContext(now=datetime(2100, 1, 1))
HEAD = """
[[rule]]
id = "AGG-1"
title = "t"
title_en = "t"
type = "aggregate"
severity = "high"
"""


def rule(tmp_path: Path, body: str) -> RuleType:
    (tmp_path / "r.toml").write_text(HEAD + body, encoding="utf-8")
    result = load_rules([tmp_path], root=tmp_path)
    assert [str(p) for p in result.problems] == []
    return result.rules[0]


def problems(tmp_path: Path, body: str) -> list[str]:
    (tmp_path / "r.toml").write_text(HEAD + body, encoding="utf-8")
    return [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]


SPLIT = """dataset = "contracts"
when = "method == \\"수의\\""
group_by = ["department", "vendor_id"]
window = "30d"
having = "count() >= 2 and sum(amount) > params.limit and max(amount) <= params.limit"
params = { limit = 20_000_000 }
message = "{vendor_id}: {group.count}건 {group.sum_amount:,}원"
"""


def contracts(
    rows: list[tuple[str, str | None, str | None, float | None, str | None]],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contract_id": [r[0] for r in rows],
            "department": pd.Series([r[1] for r in rows], dtype="str"),
            "vendor_id": pd.Series([r[2] for r in rows], dtype="str"),
            "method": pd.Series(["수의"] * len(rows), dtype="str"),
            "amount": pd.Series([r[3] for r in rows], dtype="float64"),
            "contract_date": pd.to_datetime(pd.Series([r[4] for r in rows], dtype="object")),
        }
    )


def fired(r: RuleType, frame: pd.DataFrame) -> list[str]:
    return sorted(f.record_key for f in r.evaluate({r.meta.dataset: frame}, CTX))


def test_split_contracts_exactly_30_days_apart_share_a_window(tmp_path: Path) -> None:
    r = rule(tmp_path, SPLIT)
    frame = contracts([("C1", "A", "V", 15e6, "2025-01-01"), ("C2", "A", "V", 10e6, "2025-01-31")])
    found = r.evaluate({"contracts": frame}, CTX)
    assert sorted(f.record_key for f in found) == ["C1", "C2"]
    assert found[0].message == "V: 2건 25,000,000원"
    assert found[0].evidence["group.records"] == ["C1", "C2"]
    assert found[0].evidence["group.first"] == "2025-01-01"
    assert found[0].evidence["group.last"] == "2025-01-31"
    # 31 days apart: two windows of one contract each
    late = contracts([("C1", "A", "V", 15e6, "2025-01-01"), ("C2", "A", "V", 10e6, "2025-02-01")])
    assert fired(r, late) == []
    assert r.lookback == timedelta(days=30)


def test_groups_nulls_and_empty_frames(tmp_path: Path) -> None:
    r = rule(tmp_path, SPLIT)
    assert fired(r, contracts([])) == []
    frame = contracts(
        [
            ("C1", "A", "V", 15e6, "2025-01-01"),
            ("C2", "B", "V", 10e6, "2025-01-02"),  # other department
            ("C3", None, "V", 10e6, "2025-01-02"),  # null group key: takes no part
            ("C4", "A", " ", 10e6, "2025-01-02"),  # blank counts as null
            ("C5", "A", "V", 10e6, None),  # no time
            ("C6", "A", "V", None, "2025-01-03"),  # counted, not summed
        ]
    )
    assert fired(r, frame) == []
    frame.loc[5, "amount"] = 6e6
    assert fired(r, frame) == ["C1", "C6"]
    # one record over the limit itself is not a split
    over = contracts([("C1", "A", "V", 25e6, "2025-01-01"), ("C2", "A", "V", 1e6, "2025-01-02")])
    assert fired(r, over) == []


def test_same_day_records_share_their_window(tmp_path: Path) -> None:
    r = rule(tmp_path, SPLIT)
    frame = contracts([("C2", "A", "V", 12e6, "2025-01-05"), ("C1", "A", "V", 12e6, "2025-01-05")])
    assert fired(r, frame) == ["C1", "C2"]


def test_calendar_month_overtime(tmp_path: Path) -> None:
    r = rule(
        tmp_path,
        """dataset = "attendance"
group_by = ["employee_id"]
window = "month"
having = "sum(overtime_hours) > params.cap"
params = { cap = 57 }
""",
    )
    assert r.lookback == timedelta(days=31)
    days = pd.to_datetime(["2025-01-31", "2025-02-01", "2025-02-28", "2025-01-15", "2025-02-10"])
    frame = pd.DataFrame(
        {
            "record_id": ["R1", "R2", "R3", "R4", "R5"],
            "employee_id": pd.Series(["E1", "E1", "E1", "E1", "E2"], dtype="str"),
            "work_date": days,
            "overtime_hours": [30.0, 28.5, 28.5, 27.0, 60.0],
        }
    )
    # January: 30 + 27 = 57 (not over); February: 28.5 + 28.5 = 57 (not over); E2: 60
    assert fired(r, frame) == ["R5"]
    frame.loc[1, "overtime_hours"] = 28.6
    assert fired(r, frame) == ["R2", "R3", "R5"]


def test_calendar_day_and_distinct(tmp_path: Path) -> None:
    r = rule(
        tmp_path,
        """dataset = "card_transactions"
group_by = ["department", "merchant_name"]
window = "day"
having = "count() >= 2 and distinct(card_no) >= 2 and min(amount) > 0"
""",
    )
    frame = pd.DataFrame(
        {
            "approval_id": ["A1", "A2", "A3", "A4"],
            "department": pd.Series(["D"] * 4, dtype="str"),
            "merchant_name": pd.Series(["M"] * 4, dtype="str"),
            "card_no": pd.Series(["K1", "K2", "K1", "K1"], dtype="str"),
            "approved_date": pd.to_datetime(
                ["2025-03-03", "2025-03-03", "2025-03-04", "2025-03-04"]
            ),
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    assert fired(r, frame) == ["A1", "A2"]


def test_wrong_options_give_one_located_line_each(tmp_path: Path) -> None:
    cases = {
        'window = "30days"': "window: invalid window '30days'",
        "": "window: missing required key",
        'window = "30d"\nhaving = "avg(amount) > 1"': "having: unknown aggregate 'avg'",
        'window = "30d"\nhaving = "sum(amout) > 1"': "having: unknown column 'amout'",
        'window = "30d"\nhaving = "amount > 1"': "having: 'amount' is a column of the records",
        'window = "30d"\ngroup_by = ["vendr_id"]': "group_by: unknown column 'vendr_id' - did you mean 'vendor_id'?",
        'window = "30d"\ntime = "title"': "time: column 'title' is not a date",
    }
    for body, expected in cases.items():
        text = 'dataset = "contracts"\n' + body + "\n"
        if "having" not in body:
            text += 'having = "count() > 1"\n'
        found = problems(tmp_path, text)
        assert len(found) == 1, (body, found)
        assert expected in found[0] and found[0].startswith("r.toml:"), found[0]


# -- the vectorized windows against a brute-force loop -------------------------------------------
def brute(
    groups: list[int], times: list[int], values: list[float | None], length: int
) -> dict[str, list]:
    n = len(groups)
    out: dict[str, list] = {"count": [], "sum": [], "min": [], "max": [], "distinct": []}
    for i in range(n):
        members = [
            j
            for j in range(n)
            if groups[j] == groups[i] and times[i] - length <= times[j] <= times[i]
        ]
        present = [values[j] for j in members if values[j] is not None]
        out["count"].append(len(members))
        out["sum"].append(sum(present) if present else None)
        out["min"].append(min(present) if present else None)
        out["max"].append(max(present) if present else None)
        out["distinct"].append(len(set(present)))
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 40),
            st.one_of(st.none(), st.integers(-5, 5).map(float)),
        ),
        max_size=40,
    ),
    st.integers(0, 12),
)
def test_trailing_windows_match_brute_force(
    rows: list[tuple[int, int, float | None]], days: int
) -> None:
    groups = [r[0] for r in rows]
    times = [r[1] for r in rows]
    values = [r[2] for r in rows]
    day = 86_400 * 10**9
    s = windows.prepare(
        np.array(groups, dtype=np.int64),
        pd.Series(pd.to_datetime(np.array(times) * day, unit="ns")),
    )
    start, end = windows.trailing(s, days * day)
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)[s.rows]
    got = {
        "count": (end - start).tolist(),
        "sum": windows.range_sum(v, start, end).tolist(),
        "min": windows.range_extreme(v, start, end, high=False).tolist(),
        "max": windows.range_extreme(v, start, end, high=True).tolist(),
        "distinct": windows.range_distinct(
            windows.previous_same(s, pd.Series(v[np.argsort(s.rows)] if len(s) else v)),
            start,
            end,
            shared=False,
        ).tolist(),
    }
    expected = brute(groups, times, values, days)
    for name, column in got.items():
        want = [expected[name][r] for r in s.rows]
        assert [None if isinstance(x, float) and np.isnan(x) else x for x in column] == want, name
