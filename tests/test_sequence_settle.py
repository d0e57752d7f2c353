"""``settle`` on a ``sequence`` rule: a record is judged once its window closed that long ago,
located one-line problems for a wrong value, and the incremental planner reading far enough
back for the records whose settled moment passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sequence_helpers import INSPECTION, PROCEEDS, VENDOR, frame, keys, load, problems_of
from sqlalchemy import Engine

from naebu.pipeline.planner import IncrementalPlanner

PAYMENT = {"payment_id": "P1", "contract_id": "C1", "paid_on": "2025-05-02", "amount": 100}
#: Signed, not inspected (yet): the payment is "before" its inspection.
CONTRACT = {"contract_id": "C1", "contract_date": "2025-03-02", "amount": 100}


def _frames(inspected: str | None = None) -> dict[str, object]:
    contract = {**CONTRACT, "inspection_date": inspected}
    return {"payments": frame("payments", [PAYMENT]), "contracts": frame("contracts", [contract])}


def test_without_settle_a_payment_is_judged_once_its_day_has_passed(tmp_path: Path) -> None:
    rule = load(tmp_path, INSPECTION)
    assert keys(rule, _frames(), now=datetime(2025, 5, 2, 23, 0)) == []
    assert keys(rule, _frames(), now=datetime(2025, 5, 3, 0, 1)) == ["P1"]


def test_settle_waits_for_late_records(tmp_path: Path) -> None:
    rule = load(tmp_path, INSPECTION + 'settle = "2d"\n')
    # The day passed, but two days have not: the inspection may still be keyed in.
    assert keys(rule, _frames(), now=datetime(2025, 5, 4, 23, 0)) == []
    assert keys(rule, _frames(), now=datetime(2025, 5, 5, 0, 1)) == ["P1"]
    # Keyed in meanwhile (inspected on the payment day): never flagged.
    assert keys(rule, _frames("2025-05-02"), now=datetime(2025, 5, 5, 0, 1)) == []
    # The planner's moment of a record includes the settling period.
    assert rule.closing == ("payments", "paid_on", timedelta(days=3))


def test_settle_on_an_absence_of_the_first_side(tmp_path: Path) -> None:
    rule = load(tmp_path, PROCEEDS + 'settle = "3d"\n')
    assert rule.closing[2] == timedelta(days=60 + 3 + 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"2 days"', "settle: cannot read '2 days' as a settling period - write \"2d\""),
        ('"40d"', "settle: '40d' is longer than 31 days"),
        ('"36h"', "settle: '36h' is not whole days, but the times are calendar dates"),
        ("2", "settle: must be a text, not int"),
    ],
)
def test_a_wrong_settle_is_one_located_line(tmp_path: Path, value: str, expected: str) -> None:
    (line,) = problems_of(tmp_path, INSPECTION + f"settle = {value}\n")
    assert line.startswith("bad.toml:15: rule SEQ-BAD: " + expected), line


def test_settle_with_a_presence_is_refused(tmp_path: Path) -> None:
    (line,) = problems_of(tmp_path, VENDOR + 'settle = "1d"\n')
    assert line.startswith("bad.toml:15: rule SEQ-BAD: settle: has no effect with expect"), line


def test_the_planner_reads_back_to_records_whose_settled_moment_passed(
    tmp_path: Path, engine: Engine
) -> None:
    """A settling period longer than the window: the records decided since the last run lie
    further back than the lookback, and the planner reads them."""
    body = INSPECTION.replace('within = "365d"', 'within = "1d"') + 'settle = "5d"\n'
    rule = load(tmp_path, body)
    last = datetime(2025, 6, 10, 9, 0)
    state = SimpleNamespace(last_run_id=1, evaluated_at=last)
    planner = IncrementalPlanner(run_id=2, now=datetime(2025, 6, 11, 9, 0))
    with engine.connect() as conn:
        since, due = planner.since(conn, rule, state)
    assert due and since is not None
    # Decided since the last run: paid after last - 6 days (a day's close plus five settling).
    assert since <= last - timedelta(days=6)
