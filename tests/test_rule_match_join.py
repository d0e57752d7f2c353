"""match with join and membership lookups, on real frames; the multi-dataset example format."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from naebu.engine.examples import run_examples
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType

CTX = EvalContext(now=datetime(2100, 1, 1))
HEAD = """
[[rule]]
id = "JOIN-1"
title = "t"
title_en = "t"
type = "match"
dataset = "payments"
severity = "high"
"""
JOIN = """join = [{ alias = "vendor", dataset = "vendors", on = { vendor_id = "vendor_id" } }]
when = "not_null(vendor.account_no) and payee_account != vendor.account_no"
message = "{payment_id}: {payee_account} (등록 {vendor.account_no})"
"""


def load(tmp_path: Path, body: str) -> tuple[list[RuleType], list[str]]:
    (tmp_path / "r.toml").write_text(HEAD + body, encoding="utf-8")
    result = load_rules([tmp_path], root=tmp_path)
    return result.rules, [str(p) for p in result.problems]


def rule(tmp_path: Path, body: str) -> RuleType:
    rules, problems = load(tmp_path, body)
    assert problems == []
    return rules[0]


def payments(rows: list[tuple[str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payment_id": [r[0] for r in rows],
            "vendor_id": pd.Series([r[1] for r in rows], dtype="str"),
            "payee_account": pd.Series([r[2] for r in rows], dtype="str"),
            "amount": [1.0] * len(rows),
            "paid_on": pd.to_datetime(["2025-01-02"] * len(rows)),
        }
    )


def vendors(rows: list[tuple[str | None, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vendor_id": pd.Series([r[0] for r in rows], dtype="str"),
            "account_no": pd.Series([r[1] for r in rows], dtype="str"),
            "updated_at": pd.to_datetime(pd.Series([r[2] for r in rows], dtype="object")),
        }
    )


def test_join_compares_with_the_registered_account(tmp_path: Path) -> None:
    r = rule(tmp_path, JOIN)
    assert r.datasets == ("payments", "vendors") and r.lookback is None
    pay = payments(
        [
            ("P1", "V1", "111"),
            ("P2", "V1", "999"),
            ("P3", "V2", "111"),
            ("P4", None, "1"),
            ("P5", "V3", "1"),
        ]
    )
    ven = vendors([("V1", "999", "2025-01-01"), ("V2", None, None), (None, "1", None)])
    found = r.evaluate({"payments": pay, "vendors": ven}, CTX)
    assert [f.record_key for f in found] == ["P1"]
    assert found[0].message == "P1: 111 (등록 999)"
    assert found[0].evidence["vendor.account_no"] == "999"
    # an empty vendors frame: nothing joined, nothing fires
    assert r.evaluate({"payments": pay, "vendors": vendors([])}, CTX) == []
    assert r.evaluate({"payments": payments([]), "vendors": ven}, CTX) == []


def test_duplicate_keys_on_the_other_side_take_the_latest(tmp_path: Path) -> None:
    r = rule(tmp_path, JOIN)
    pay = payments([("P1", "V1", "new")])
    latest_last = vendors([("V1", "old", "2024-01-01"), ("V1", "new", "2025-01-01")])
    latest_first = vendors([("V1", "new", "2025-01-01"), ("V1", "old", "2024-01-01")])
    assert r.evaluate({"payments": pay, "vendors": latest_last}, CTX) == []
    assert r.evaluate({"payments": pay, "vendors": latest_first}, CTX) == []
    undated = vendors([("V1", "new", None), ("V1", "old", None)])  # row order: the last wins
    assert [f.record_key for f in r.evaluate({"payments": pay, "vendors": undated}, CTX)] == ["P1"]


def test_index_of_the_primary_frame_is_kept(tmp_path: Path) -> None:
    r = rule(tmp_path, JOIN)
    pay = payments([("P1", "V1", "111"), ("P2", "V1", "999")]).set_axis([10, 20])
    found = r.evaluate({"payments": pay, "vendors": vendors([("V1", "999", None)])}, CTX)
    assert [f.record_key for f in found] == ["P1"]


def test_membership_in_another_datasets_column(tmp_path: Path) -> None:
    r = rule(tmp_path, 'when = "payee_account in employees.account_no"\n')
    assert r.datasets == ("payments", "employees")
    employees = pd.DataFrame(
        {"employee_id": ["E1", "E2"], "account_no": pd.Series(["111", None], dtype="str")}
    )
    pay = payments([("P1", "V", "111"), ("P2", "V", "222"), ("P3", "V", None)])
    found = r.evaluate({"payments": pay, "employees": employees}, CTX)
    assert [f.record_key for f in found] == ["P1"]
    assert r.evaluate({"payments": pay, "employees": employees.iloc[:0]}, CTX) == []
    negated = rule(tmp_path, 'when = "payee_account not in employees.account_no"\n')
    assert [
        f.record_key for f in negated.evaluate({"payments": pay, "employees": employees}, CTX)
    ] == ["P2"]


def test_wrong_join_options(tmp_path: Path) -> None:
    cases = {
        'join = [{ alias = "vendor", dataset = "vendors", on = { vendor_id = "vendor_code" } }]': "join[0].on: join key 'vendor_code' is not a column of vendors",
        'join = [{ alias = "vendor", dataset = "vendor", on = { vendor_id = "vendor_id" } }]': "join[0].dataset: unknown dataset 'vendor' - did you mean 'vendors'?",
        'join = [{ alias = "vendor", dataset = "vendors", on = { vendr_id = "vendor_id" } }]': "join[0].on: unknown column 'vendr_id' of payments",
        'join = [{ alias = "vendors", dataset = "vendors", on = { vendor_id = "vendor_id" } }]': "join[0].alias: alias 'vendors' is taken",
        'join = [{ alias = "vendor", dataset = "vendors", on = { amount = "vendor_id" } }]': "join[0].on: cannot join 'amount' (a number) with vendors.vendor_id (text)",
        'join = [{ alias = "vendor", datset = "vendors" }]': "join[0]: unknown key 'datset'",
    }
    for join, expected in cases.items():
        _, found = load(tmp_path, join + '\nwhen = "amount > 0"\n')
        assert len(found) == 1 and expected in found[0] and found[0].startswith("r.toml:"), (
            join,
            found,
        )
    _, found = load(tmp_path, JOIN.replace("vendor.account_no)", "vendor.acount_no)", 1))
    assert len(found) == 1 and "unknown column 'acount_no' of 'vendor'" in found[0]
    _, found = load(tmp_path, 'when = "payee_account in employees.acount_no"\n')
    assert len(found) == 1 and "did you mean 'account_no'?" in found[0]


EXAMPLES = (
    JOIN
    + """
[[rule.example]]
fires = true
record = { payment_id = "P-1", vendor_id = "V1", payee_account = "111", amount = 5, paid_on = "2025-01-02" }
related = { vendors = [ { vendor_id = "V1", account_no = "999" } ] }

[[rule.example]]
fires = false
records = [
  { payment_id = "P-2", vendor_id = "V1", payee_account = "999", amount = 5, paid_on = "2025-01-02" },
  { payment_id = "P-3", vendor_id = "V1", payee_account = "555", amount = 5, paid_on = "2025-01-02" },
]
expect_keys = ["P-3"]
related = { vendors = { vendor_id = "V1", account_no = "999" } }
"""
)


def test_examples_with_related_records_and_expected_keys(tmp_path: Path) -> None:
    r = rule(tmp_path, EXAMPLES)
    assert [str(p) for p in run_examples([r])] == []
    wrong = rule(
        tmp_path, EXAMPLES.replace('expect_keys = ["P-3"]', 'expect_keys = ["P-2", "P-3"]')
    )
    assert [str(p) for p in run_examples([wrong])] == [
        "r.toml:18: rule JOIN-1: example[1]: example fires on P-3, expected P-2, P-3 - check expect_keys, the condition and params"
    ]
    unread = rule(
        tmp_path, EXAMPLES.replace("related = { vendors = {", "related = { employees = {")
    )
    assert "related dataset 'employees' is not read by this rule" in str(run_examples([unread])[0])


def test_example_format_mistakes_are_located(tmp_path: Path) -> None:
    bad = {
        "records = []": "records must be a non-empty list of tables",
        "record = { amount = 1 }\nrecords = [{ amount = 1 }]": "either record = { ... } or records = [ ... ]",
        "record = { amount = 1 }\nrelated = { vendor = [] }": "unknown dataset 'vendor' in related - did you mean 'vendors'?",
        'record = { amount = 1 }\nexpect = ["P"]': "unknown key 'expect' - did you mean 'expect_keys'?",
    }
    for body, expected in bad.items():
        _, found = load(
            tmp_path, 'when = "amount > 0"\n\n[[rule.example]]\nfires = true\n' + body + "\n"
        )
        assert (
            len(found) == 1 and expected in found[0] and ":11: rule JOIN-1: example[0]:" in found[0]
        ), found


def test_check_refuses_a_rule_without_both_kinds(tmp_path: Path) -> None:
    r = rule(
        tmp_path,
        'when = "amount > 0"\n\n[[rule.example]]\nfires = true\nrecord = { amount = 1, paid_on = "2025-01-01" }\n',
    )
    assert [str(p) for p in run_examples([r])] == [
        "r.toml:2: rule JOIN-1: example: no example with fires = false - add [[rule.example]] tables: "
        "one record that must fire and one that must not"
    ]
    none = rule(tmp_path, 'when = "amount > 0"\n')
    assert "no example with fires = true and fires = false" in str(run_examples([none])[0])
