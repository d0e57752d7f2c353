"""duplicate rules on real frames: window edges, distinct vouchers, nulls, siblings as evidence,
and the vectorized search against a brute-force loop."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType

CTX = EvalContext(now=datetime(2100, 1, 1))
HEAD = """
[[rule]]
id = "DUP-1"
title = "t"
title_en = "t"
type = "duplicate"
dataset = "payments"
severity = "high"
"""
BODY = 'keys = ["vendor_id", "amount"]\nwindow = "30d"\n'


def load(tmp_path: Path, body: str) -> tuple[list[RuleType], list[str]]:
    (tmp_path / "r.toml").write_text(HEAD + body, encoding="utf-8")
    result = load_rules([tmp_path], root=tmp_path)
    return result.rules, [str(p) for p in result.problems]


def rule(tmp_path: Path, body: str = BODY) -> RuleType:
    rules, problems = load(tmp_path, body)
    assert problems == []
    return rules[0]


def payments(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payment_id": [r[0] for r in rows],
            "vendor_id": pd.Series([r[1] for r in rows], dtype="str"),
            "amount": pd.Series([r[2] for r in rows], dtype="float64"),
            "paid_on": pd.to_datetime(pd.Series([r[3] for r in rows], dtype="object")),
            "invoice_no": pd.Series([r[4] if len(r) > 4 else None for r in rows], dtype="str"),
        }
    )


def fired(r: RuleType, frame: pd.DataFrame) -> list[str]:
    return sorted(f.record_key for f in r.evaluate({"payments": frame}, CTX))


def test_edges_of_the_window(tmp_path: Path) -> None:
    r = rule(tmp_path)
    assert r.lookback == timedelta(days=30)
    assert fired(r, payments([])) == []
    on_edge = payments([("P1", "V", 100, "2025-01-01"), ("P2", "V", 100, "2025-01-31")])
    found = r.evaluate({"payments": on_edge}, CTX)
    assert sorted(f.record_key for f in found) == ["P1", "P2"]
    first = next(f for f in found if f.record_key == "P1")
    assert first.evidence["group.siblings"] == ["P2"]
    assert first.evidence["group.sibling_times"] == ["2025-01-31"]
    assert first.evidence["vendor_id"] == "V" and first.evidence["amount"] == 100
    beyond = payments([("P1", "V", 100, "2025-01-01"), ("P2", "V", 100, "2025-02-01")])
    assert fired(r, beyond) == []


def test_nulls_never_match(tmp_path: Path) -> None:
    r = rule(tmp_path)
    frame = payments(
        [
            ("P1", None, 100, "2025-01-01"),
            ("P2", None, 100, "2025-01-01"),
            ("P3", "V", None, "2025-01-01"),
            ("P4", "V", None, "2025-01-01"),
            ("P5", "V", 100, None),
            ("P6", "V", 100, None),
            ("P7", "W", 100, "2025-01-01"),
        ]
    )
    assert fired(r, frame) == []


def test_distinct_vouchers_and_calendar_day(tmp_path: Path) -> None:
    r = rule(tmp_path, BODY + 'distinct = "invoice_no"\n')
    frame = payments(
        [
            ("P1", "V", 100, "2025-01-01", "I1"),
            ("P2", "V", 100, "2025-01-02", "I1"),  # the same invoice entered twice: not a duplicate
            ("P3", "V", 100, "2025-01-03", "I2"),
            ("P4", "W", 5, "2025-01-03", None),
            ("P5", "W", 5, "2025-01-04", None),  # unknown invoice counts as different
        ]
    )
    found = {f.record_key: f.evidence for f in r.evaluate({"payments": frame}, CTX)}
    assert sorted(found) == ["P1", "P2", "P3", "P4", "P5"]
    assert found["P1"]["group.siblings"] == ["P3"]
    assert found["P3"]["group.siblings"] == ["P1", "P2"] and found["P3"]["group.count"] == 3
    same_day = rule(tmp_path, 'keys = ["vendor_id"]\nwindow = "day"\n')
    frame2 = payments(
        [("P1", "V", 1, "2025-01-01"), ("P2", "V", 2, "2025-01-02"), ("P3", "V", 3, "2025-01-02")]
    )
    assert fired(same_day, frame2) == ["P2", "P3"]


def test_wrong_options(tmp_path: Path) -> None:
    cases = {
        'keys = ["vendor_id"]\n': "window: missing required key",
        'keys = ["vendor_id"]\nwindow = "30days"\n': "window: invalid window '30days'",
        'keys = ["vendr_id"]\nwindow = "30d"\n': "keys: unknown column 'vendr_id' - did you mean 'vendor_id'?",
        BODY + 'distinct = "invoice"\n': "distinct: unknown column 'invoice'",
        BODY + 'when = "amout > 0"\n': "when: unknown column 'amout'",
    }
    for body, expected in cases.items():
        _, found = load(tmp_path, body)
        assert len(found) == 1 and expected in found[0] and found[0].startswith("r.toml:"), (
            body,
            found,
        )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["V", "W"]), st.integers(0, 30), st.sampled_from(["I1", "I2", None])
        ),
        max_size=30,
    ),
    st.integers(0, 10),
)
def test_matches_brute_force(
    tmp_path_factory, rows: list[tuple[str, int, str | None]], days: int
) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("dup")
    r = rule(tmp, f'keys = ["vendor_id"]\nwindow = "{days}d"\ndistinct = "invoice_no"\n')
    base = pd.Timestamp("2025-01-01")
    frame = payments(
        [
            (f"P{i}", v, 1, str((base + pd.Timedelta(days=d)).date()), inv)
            for i, (v, d, inv) in enumerate(rows)
        ]
    )
    expected = {}
    for i, (v, d, inv) in enumerate(rows):
        sib = [
            f"P{j}"
            for j, (v2, d2, inv2) in enumerate(rows)
            if j != i
            and v2 == v
            and abs(d2 - d) <= days
            and (inv is None or inv2 is None or inv != inv2)
        ]
        if sib:
            expected[f"P{i}"] = sorted(sib)
    got = {
        f.record_key: sorted(f.evidence["group.siblings"])
        for f in r.evaluate({"payments": frame}, CTX)
    }
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["V1", "V2", " ", None]),
            st.sampled_from([1.0, 2.0, None]),
            st.sampled_from(["a", "b", "c", "", None]),
        ),
        max_size=25,
    )
)
def test_shared_codes_like_group_codes(rows: list[tuple[object, object, object]]) -> None:
    """The rows ``shared_codes`` keeps are exactly those whose key combination (no null or
    blank part) another row has, and their codes tell the same combinations apart as
    ``group_codes`` does."""
    from naebu.engine.ruletypes import windows

    frame = pd.DataFrame(rows, columns=["vendor_id", "amount", "invoice_no"])
    frame = frame.astype({"vendor_id": "string", "amount": "float64", "invoice_no": "string"})
    types = {"vendor_id": "str", "amount": "number", "invoice_no": "str"}
    columns = ["vendor_id", "amount", "invoice_no"]
    whole = windows.group_codes(frame, columns, types)
    pos, codes = windows.shared_codes(frame, columns, types)
    want = [i for i in range(len(frame)) if whole[i] >= 0 and (whole == whole[i]).sum() >= 2]
    assert pos.tolist() == want
    for a in range(len(pos)):
        for b in range(len(pos)):
            assert (codes[a] == codes[b]) == (whole[pos[a]] == whole[pos[b]])
