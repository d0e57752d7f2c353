"""outlier rules on real frames: IQR fences, z-scores, sides, small groups, nulls."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType

CTX = EvalContext(now=datetime(2100, 1, 1))
HEAD = """
[[rule]]
id = "OUT-1"
title = "t"
title_en = "t"
type = "outlier"
dataset = "card_transactions"
severity = "low"
value = "amount"
peer_group = ["department"]
"""


def load(tmp_path: Path, body: str) -> tuple[list[RuleType], list[str]]:
    (tmp_path / "r.toml").write_text(HEAD + body, encoding="utf-8")
    result = load_rules([tmp_path], root=tmp_path)
    return result.rules, [str(p) for p in result.problems]


def rule(tmp_path: Path, body: str = "") -> RuleType:
    rules, problems = load(tmp_path, body)
    assert problems == []
    return rules[0]


def cards(amounts: list[float | None], departments: list[str | None] | None = None) -> pd.DataFrame:
    n = len(amounts)
    return pd.DataFrame(
        {
            "approval_id": [f"A{i}" for i in range(n)],
            "department": pd.Series(departments or ["D"] * n, dtype="str"),
            "amount": pd.Series(amounts, dtype="float64"),
            "approved_date": pd.to_datetime(["2025-03-03"] * n),
        }
    )


def fired(r: RuleType, frame: pd.DataFrame) -> list[str]:
    return sorted(f.record_key for f in r.evaluate({"card_transactions": frame}, CTX))


def test_iqr_fences_and_evidence(tmp_path: Path) -> None:
    r = rule(tmp_path, 'message = "{amount:,} > {peer.upper:,} ({peer.size}건)"\n')
    assert r.lookback == timedelta(days=365)
    assert fired(r, cards([])) == []
    amounts = [10.0, 11, 12, 13, 14, 15, 16, 17, 100]
    found = r.evaluate({"card_transactions": cards(amounts)}, CTX)
    assert [f.record_key for f in found] == ["A8"]
    q1, q3 = np.percentile(amounts, [25, 75])
    assert found[0].evidence["peer.upper"] == q3 + 1.5 * (q3 - q1)
    assert found[0].evidence["peer.size"] == 9
    assert found[0].message == f"100 > {q3 + 1.5 * (q3 - q1):,.0f} (9건)"
    # exactly on the fence is not beyond it
    upper = q3 + 1.5 * (q3 - q1)
    assert fired(r, cards([*amounts[:8], upper])) == []


def test_small_groups_nulls_and_sides(tmp_path: Path) -> None:
    r = rule(tmp_path)
    assert fired(r, cards([10.0, 11, 12, 13, 14, 15, 100])) == []  # 7 < min_group_size 8
    with_nulls = cards([10.0, 11, 12, 13, 14, 15, 16, 17, 100, None], [*["D"] * 9, "D"])
    assert fired(r, with_nulls) == ["A8"]
    null_group = cards([10.0, 11, 12, 13, 14, 15, 16, 17, 100], [*["D"] * 8, None])
    assert fired(r, null_group) == []
    low = rule(tmp_path, 'side = "low"\n')
    assert fired(low, cards([100.0, 101, 102, 103, 104, 105, 106, 107, 1])) == ["A8"]
    assert fired(low, cards([10.0, 11, 12, 13, 14, 15, 16, 17, 100])) == []
    both = rule(tmp_path, 'side = "both"\nk = "params.k"\nparams = { k = 1.5 }\n')
    assert fired(both, cards([100.0, 101, 102, 103, 104, 105, 106, 107, 1, 500])) == ["A8", "A9"]


def test_zscore_and_constant_groups(tmp_path: Path) -> None:
    r = rule(tmp_path, 'method = "zscore"\nthreshold = 2\nmin_group_size = 3\n')
    values = [10.0] * 9 + [50.0]
    z = (50 - np.mean(values)) / np.std(values, ddof=1)
    assert z > 2
    assert fired(r, cards(values)) == ["A9"]
    assert fired(r, cards([10.0] * 9)) == []  # std 0: nothing is an outlier


def test_peer_groups_are_separate(tmp_path: Path) -> None:
    r = rule(tmp_path, "min_group_size = 3\n")
    frame = cards([1.0, 1, 1, 1, 1000, 1000, 1000, 1000], ["A", "A", "A", "A", "B", "B", "B", "B"])
    assert fired(r, frame) == []


def test_wrong_options(tmp_path: Path) -> None:
    cases = {
        'peer_group = ["departmnt"]\n': "peer_group: unknown column 'departmnt' - did you mean 'department'?",
        'method = "iqrr"\n': "method: unknown method 'iqrr' - did you mean 'iqr'?",
        'method = "zscore"\nk = 2\n': "k: k does not apply to method 'zscore'",
        'side = "up"\n': "side: unknown side 'up'",
        'history = "1year"\n': "history: invalid window '1year'",
        'k = "params.kk"\n': "k: unknown parameter 'params.kk'",
    }
    for body, expected in cases.items():
        text = HEAD + body
        if body.startswith("peer_group"):
            text = text.replace('peer_group = ["department"]\n', "", 1)
        (tmp_path / "r.toml").write_text(text, encoding="utf-8")
        found = [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]
        assert len(found) == 1 and expected in found[0] and found[0].startswith("r.toml:"), (
            body,
            found,
        )
    (tmp_path / "r.toml").write_text(
        HEAD.replace('value = "amount"', 'value = "merchant_name"'), encoding="utf-8"
    )
    found = [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]
    assert len(found) == 1 and "value: column 'merchant_name' is not a number" in found[0]
