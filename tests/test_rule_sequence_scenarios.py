"""The ``sequence`` rule type on real pandas frames: the scenarios of
``shared/design/scenarios.md``, window edges, nulls, empty frames and the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from sequence_helpers import (
    INSPECTION,
    NOW,
    PERMIT,
    PROCEEDS,
    TITLE,
    VENDOR,
    frame,
    keys,
    load,
    receipt,
    sale,
)

from naebu.engine.registry import EvalContext

# -- property proceeds not received in full within 60 days (absent, complete) --------------------


def test_proceeds_absent_with_edges_partials_and_other_sales(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame(
        "property_sales",
        [
            sale("S1", "2025-01-01"),  # paid in full exactly on day 60: in time
            sale("S2", "2025-01-01"),  # full payment on day 61: late
            sale("S3", "2025-01-01"),  # three partial receipts sum to full: in time
            sale("S4", "2025-01-01"),  # partial only: late
            sale("S5", "2025-01-01"),  # nothing, but S5's money went to another sale: late
            sale("S6", "2025-01-01"),  # paid, but as a levy, not a property sale: late
            sale("S7", "2025-01-01", price=0),  # filtered out by when
            sale("S8", "2025-01-01"),  # full payment on the contract day: in time
        ],
    )
    receipts = frame(
        "receipts",
        [
            receipt(1, "S1", "2025-03-02", 1000),  # 2025-01-01 + 60 days
            receipt(2, "S2", "2025-03-03", 1000),
            receipt(3, "S3", "2025-01-05", 300),
            receipt(4, "S3", "2025-02-01", 300),
            receipt(5, "S3", "2025-03-02", 400),
            receipt(6, "S4", "2025-01-10", 999),
            receipt(7, "S1", "2025-01-10", 1000),  # another sale's money (S1), not S5's
            receipt(8, "S6", "2025-01-10", 1000, kind="levy"),
            receipt(9, "S8", "2025-01-01", 1000),
        ],
    )
    found = rule.evaluate({"property_sales": sales, "receipts": receipts}, EvalContext(now=NOW))
    assert sorted(f.record_key for f in found) == ["S2", "S4", "S5", "S6"]
    by_key = {f.record_key: f for f in found}
    assert by_key["S2"].message == "매각 S2: 계약 후 60일 내 매각대금 1,000원 전액 미수납"
    assert by_key["S2"].evidence["contract_date"] == "2025-01-01"
    assert by_key["S2"].evidence["sale_price"] == 1000
    assert by_key["S2"].dataset == "property_sales"


def test_proceeds_absence_waits_for_the_window_to_close(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame("property_sales", [sale("S1", "2025-01-01")])
    # the window's last day is 2025-03-02: not provable during it, provable once it is over
    assert keys(rule, {"property_sales": sales}, now=datetime(2025, 3, 1, 23, 0)) == []
    assert keys(rule, {"property_sales": sales}, now=datetime(2025, 3, 2, 23, 59)) == []
    assert keys(rule, {"property_sales": sales}, now=datetime(2025, 3, 3, 0, 0)) == ["S1"]


def test_proceeds_nulls_and_empty_frames(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame(
        "property_sales",
        [sale("S1", "2025-01-01"), sale("S2", "2025-01-01"), sale("S3", "2025-01-01")],
    )
    receipts = frame(
        "receipts",
        [
            receipt(1, None, "2025-01-05", 1000),  # null key: matches nothing
            receipt(2, "S2", "2025-01-05", 1000),
            receipt(3, "S3", "2025-01-05", 1000),
        ],
    )
    receipts.loc[1, "received_on"] = pd.NaT  # null time (a required column a source lost): skipped
    assert keys(rule, {"property_sales": sales, "receipts": receipts}) == ["S1", "S2"]
    assert keys(rule, {"property_sales": frame("property_sales", []), "receipts": receipts}) == []
    assert keys(rule, {"property_sales": sales}) == ["S1", "S2", "S3"]


def test_proceeds_sale_without_contract_date_is_skipped(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS)
    sales = frame("property_sales", [sale("S1", "2025-01-01")])
    sales.loc[0, "contract_date"] = pd.NaT  # a source that lost a required date
    assert keys(rule, {"property_sales": sales}) == []


# -- title transferred before full payment (before, complete) ------------------------------------


def test_title_transferred_before_full_payment(tmp_path: Path) -> None:
    rule = load(tmp_path, TITLE)
    sales = frame(
        "property_sales",
        [
            sale("S1", "2025-01-01", title_transfer_date="2025-02-01"),  # paid in full the same day
            sale("S2", "2025-01-01", title_transfer_date="2025-02-01"),  # full only after transfer
            sale("S3", "2025-01-01", title_transfer_date="2025-02-01"),  # never paid
            sale("S4", "2025-01-01"),  # no transfer yet: nothing to say
            sale("S5", "2025-01-01", title_transfer_date="2025-02-01"),  # two halves before
        ],
    )
    receipts = frame(
        "receipts",
        [
            receipt(1, "S1", "2025-02-01", 1000),
            receipt(2, "S2", "2025-01-20", 500),
            receipt(3, "S2", "2025-02-02", 500),
            receipt(4, "S5", "2025-01-10", 500),
            receipt(5, "S5", "2025-01-11", 500),
        ],
    )
    assert keys(rule, {"property_sales": sales, "receipts": receipts}) == ["S2", "S3"]


# -- vendor account changed, then paid within 7 days (present) -----------------------------------


def test_vendor_account_changed_then_paid(tmp_path: Path) -> None:
    rule = load(tmp_path, VENDOR)
    assert rule.datasets == ("payments", "vendors")
    assert rule.lookback == timedelta(days=7)
    vendors = frame(
        "vendors",
        [
            {"vendor_id": "V1", "account_changed_on": "2025-05-01"},
            {"vendor_id": "V2", "account_changed_on": None},  # never changed
            {"vendor_id": "V3", "account_changed_on": "2025-05-01"},
        ],
    )
    pay = [
        ("P1", "V1", "2025-05-01"),  # same day as the change: in the window
        ("P2", "V1", "2025-05-08"),  # exactly 7 days later: in the window
        ("P3", "V1", "2025-05-09"),  # 8 days: outside
        ("P4", "V1", "2025-04-30"),  # before the change: not this pattern
        ("P5", "V2", "2025-05-02"),
        ("P6", None, "2025-05-02"),  # no vendor: never matches
        ("P7", "V3", "2025-05-03"),
    ]
    payments = frame(
        "payments",
        [{"payment_id": p, "vendor_id": v, "paid_on": d, "amount": 10} for p, v, d in pay],
    )
    found = keys(rule, {"vendors": vendors, "payments": payments}, now=datetime(2025, 5, 3))
    assert found == ["P1", "P2", "P7"]


# -- payment before the contract's inspection (before) -------------------------------------------


def test_payment_before_inspection_or_without_one(tmp_path: Path) -> None:
    rule = load(tmp_path, INSPECTION)
    contracts = frame(
        "contracts",
        [
            {
                "contract_id": "C1",
                "contract_date": "2025-01-01",
                "amount": 1,
                "inspection_date": "2025-03-01",
            },
            {
                "contract_id": "C2",
                "contract_date": "2025-01-01",
                "amount": 1,
                "inspection_date": None,
            },
        ],
    )
    pay = [
        ("P1", "C1", "2025-02-28"),  # the day before the inspection
        ("P2", "C1", "2025-03-01"),  # on the inspection day: in order
        ("P3", "C1", "2025-03-02"),
        ("P4", "C2", "2025-03-02"),  # contract never inspected
        ("P5", None, "2025-03-02"),  # no contract: not this rule's business
    ]
    payments = frame(
        "payments",
        [{"payment_id": p, "contract_id": c, "paid_on": d, "amount": 10} for p, c, d in pay],
    )
    assert keys(rule, {"contracts": contracts, "payments": payments}) == ["P1", "P4"]
    # a payment made today cannot be judged before the day is over: the inspection may follow
    today = datetime(2025, 3, 2, 15, 0)
    assert keys(rule, {"contracts": contracts, "payments": payments}, now=today) == ["P1"]


def test_payment_whose_contract_is_not_in_the_data_is_not_judged(tmp_path: Path) -> None:
    """A contracts export of this year only: payments on last year's contracts have no
    counterpart record at all. Unknown, not "paid before inspection" (unmatched = "skip",
    the default); a contract that is there without an inspection in time is the finding."""
    rule = load(tmp_path, INSPECTION)
    contracts = frame(
        "contracts",
        [
            {"contract_id": "C1", "contract_date": "2025-01-01", "amount": 1,
             "inspection_date": "2025-03-01"},
            {"contract_id": "C2", "contract_date": "2023-01-01", "amount": 1,
             "inspection_date": "2023-06-01"},
        ],
    )  # fmt: skip
    pay = [
        ("P1", "C1", "2025-02-28"),  # the contract is there, inspected after: the finding
        ("P2", "C0", "2025-02-28"),  # last year's contract, not in the export: not judged
        ("P3", "C2", "2025-02-28"),  # inspected long before the window: not this rule's case
    ]
    payments = frame(
        "payments",
        [{"payment_id": p, "contract_id": c, "paid_on": d, "amount": 10} for p, c, d in pay],
    )
    assert keys(rule, {"contracts": contracts, "payments": payments}) == ["P1"]
    assert keys(rule, {"payments": payments}) == []  # no contract at all: nothing judged
    fire = load(tmp_path, INSPECTION + 'unmatched = "fire"\n', "SEQ-FIRE")
    assert keys(fire, {"contracts": contracts, "payments": payments}) == ["P1", "P2", "P3"]


# -- permit granted, no levy within N days (absent) ----------------------------------------------


def test_permit_without_levy(tmp_path: Path) -> None:
    rule = load(tmp_path, PERMIT)
    assert rule.lookback == timedelta(days=30)
    permits = frame(
        "permits",
        [
            {
                "permit_id": "A1",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "허가",
            },
            {
                "permit_id": "A2",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "허가",
            },
            {
                "permit_id": "A3",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "불허",
            },
            {
                "permit_id": "A4",
                "received_on": "2025-01-01",
                "decided_on": "2025-01-10",
                "status": "허가",
            },
        ],
    )
    levies = frame(
        "levies",
        [
            {"levy_id": "L1", "permit_id": "A1", "levied_on": "2025-02-09", "amount": 1},  # day 30
            {"levy_id": "L4", "permit_id": "A4", "levied_on": "2025-02-10", "amount": 1},  # day 31
        ],
    )
    assert keys(rule, {"permits": permits, "levies": levies}) == ["A2", "A4"]
