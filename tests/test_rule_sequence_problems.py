"""The ``sequence`` rule type's located one-line problems for wrong options, and its examples
in the multi-dataset format."""

from __future__ import annotations

from pathlib import Path

import pytest
from sequence_helpers import PROCEEDS, VENDOR, load, problems_of

from naebu.engine.examples import run_examples

# -- wrong options: one located line each --------------------------------------------------------


def test_missing_within(tmp_path: Path) -> None:
    body = PROCEEDS.replace('within = "60d"\n', "")
    (line,) = problems_of(tmp_path, body)
    assert line.startswith("bad.toml:2: rule SEQ-BAD: within: missing required key")


def test_match_column_not_in_the_other_dataset(tmp_path: Path) -> None:
    body = PROCEEDS.replace('match = { sale_id = "ref_id" }', 'match = { sale_id = "ref_idx" }')
    (line,) = problems_of(tmp_path, body)
    assert line.startswith("bad.toml:12: rule SEQ-BAD: match.sale_id: ")
    assert "column 'ref_idx' is not in receipts (then)" in line and "did you mean 'ref_id'?" in line


def test_unknown_unmatched(tmp_path: Path) -> None:
    body = PROCEEDS.replace('unmatched = "fire"', 'unmatched = "fier"')
    (line,) = problems_of(tmp_path, body)
    assert line == (
        "bad.toml:15: rule SEQ-BAD: unmatched: unknown unmatched 'fier' - did you mean 'fire'?"
    )


def test_unmatched_with_a_presence(tmp_path: Path) -> None:
    (line,) = problems_of(tmp_path, VENDOR + 'unmatched = "skip"\n')
    assert line.startswith("bad.toml:15: rule SEQ-BAD: unmatched: has no effect with expect")


def test_bad_expect(tmp_path: Path) -> None:
    body = PROCEEDS.replace('expect = "absent"', 'expect = "absnet"')
    (line,) = problems_of(tmp_path, body)
    assert (
        line
        == "bad.toml:14: rule SEQ-BAD: expect: unknown expect 'absnet' - did you mean 'absent'?"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('within = "60d"', 'within = "60 days"', "within: cannot read '60 days' as a window"),
        ('within = "60d"', 'within = "36h"', "within: '36h' is not whole days"),
        ('time = "contract_date"', 'time = "sale_price"', "first.time: 'sale_price' is not a date"),
        (
            'dataset = "property_sales"\nfirst',
            'dataset = "receipts"\nfirst',
            "dataset: findings are on the first side",
        ),
        (
            'expect = "absent"',
            'expect = "absent"\nflag = "then"',
            "flag: expect = 'absent' flags first",
        ),
        ('at_least = "sale_price"', 'at_least = "sale_pric"', "complete: at_least: "),
        ('when = "sale_price > 0"', 'when = "sale_price >"', "first.when: "),
    ],
)
def test_other_wrong_options(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in PROCEEDS
    (line,) = problems_of(tmp_path, PROCEEDS.replace(old, new, 1))
    assert expected in line, line


# -- examples in the multi-dataset format (engine/examples.py) -----------------------------------

PROCEEDS_EXAMPLES = """
[[rule.example]]
fires = true
note = "only 400 of 1,000 received within 60 days; the rest on day 61"
record = { sale_id = "S-1", contract_date = "2025-01-01", sale_price = 1000 }
related = { receipts = [
  { receipt_id = "R-1", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-01-20", amount = 400 },
  { receipt_id = "R-2", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-03-03", amount = 600 },
] }

[[rule.example]]
fires = false
note = "two receipts reach the price on day 60, the window's last day"
record = { sale_id = "S-1", contract_date = "2025-01-01", sale_price = 1000 }
related = { receipts = [
  { receipt_id = "R-1", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-01-20", amount = 400 },
  { receipt_id = "R-2", ref_type = "property_sale", ref_id = "S-1", received_on = "2025-03-02", amount = 600 },
] }
"""

VENDOR_EXAMPLES = """
[[rule.example]]
fires = true
record = { payment_id = "P-1", vendor_id = "V-1", paid_on = "2025-05-08", amount = 5000000 }
related = { vendors = [ { vendor_id = "V-1", account_changed_on = "2025-05-01" } ] }

[[rule.example]]
fires = false
note = "paid 8 days after the change"
record = { payment_id = "P-1", vendor_id = "V-1", paid_on = "2025-05-09", amount = 5000000 }
related = { vendors = [ { vendor_id = "V-1", account_changed_on = "2025-05-01" } ] }
"""


@pytest.mark.parametrize("body", [PROCEEDS + PROCEEDS_EXAMPLES, VENDOR + VENDOR_EXAMPLES])
def test_rule_file_examples_run(tmp_path: Path, body: str) -> None:
    rule = load(tmp_path, body)
    assert len(rule.meta.examples) == 2
    assert [str(p) for p in run_examples([rule])] == []
