"""Reference lists: list files under the rule folders, lists.NAME in conditions, located errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
from conftest import ROOT

from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext

LIST = """[list]
name = "restricted"
title = "사용제한 업종"
basis = "집행 규칙"
items = ["유흥주점", "골프장"]
"""
RULE = """[[rule]]
id = "L-1"
title = "t"
title_en = "t"
type = "match"
dataset = "card_transactions"
severity = "high"
when = "merchant_category in lists.restricted"
"""


def write(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]


def test_a_rule_reads_a_list_from_another_file(tmp_path: Path) -> None:
    assert write(tmp_path, {"lists/restricted.toml": LIST, "cards.toml": RULE}) == []
    result = load_rules([tmp_path], root=tmp_path)
    assert result.lists["restricted"].items == ("유흥주점", "골프장")
    assert result.lists["restricted"].basis == "집행 규칙"
    frame = pd.DataFrame(
        {
            "approval_id": ["A1", "A2", "A3"],
            "merchant_category": pd.Series(["골프장", "한식", None], dtype="str"),
            "approved_date": pd.to_datetime(["2025-01-01"] * 3),
            "amount": [1.0] * 3,
        }
    )
    found = result.rules[0].evaluate(
        {"card_transactions": frame}, EvalContext(datetime(2100, 1, 1))
    )
    assert [f.record_key for f in found] == ["A1"]


def test_unknown_list_is_located_with_did_you_mean(tmp_path: Path) -> None:
    found = write(
        tmp_path,
        {
            "lists/r.toml": LIST,
            "cards.toml": RULE.replace("lists.restricted", "lists.restricted_x"),
        },
    )
    assert found == [
        "cards.toml:8: rule L-1: when: unknown list 'lists.restricted_x' (at column 28) - did you mean 'restricted'?"
    ]


def test_list_file_mistakes(tmp_path: Path) -> None:
    found = write(
        tmp_path, {"l.toml": LIST.replace('items = ["유흥주점", "골프장"]', 'items = ["a", 1]')}
    )
    assert found == [
        "l.toml:5: list restricted: items: items must all be of one kind - all text, all numbers or all dates"
    ]
    found = write(tmp_path, {"l.toml": LIST.replace("title =", "titel =")})
    assert (
        len(found) == 1
        and "list restricted: titel: unknown key - did you mean 'title'?" in found[0]
    )
    found = write(tmp_path, {"l.toml": LIST.replace('"restricted"', '"Restricted List"')})
    assert len(found) == 1 and "l.toml:2:" in found[0] and "invalid list name" in found[0]


def test_duplicate_list_names(tmp_path: Path) -> None:
    found = write(tmp_path, {"a.toml": LIST, "b.toml": LIST})
    assert len(found) == 1 and found[0].startswith(
        "b.toml:2: list restricted: name: duplicate list name"
    )


def test_the_shipped_list_and_rule() -> None:
    result = load_rules([ROOT / "rules"], root=ROOT)
    assert result.problems == []
    assert "골프장" in result.lists["restricted_merchant_categories"].items
    rule = result.by_id()["CARD-MERCHANT"]
    assert "lists.restricted_merchant_categories" in rule.when.text  # type: ignore[attr-defined]
