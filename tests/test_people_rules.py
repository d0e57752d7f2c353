"""Which cards and which leave the business-card and overtime rules look at (issue 26, points 2
and 8), and that each of those rules says which lawful practice it resembles.

- The night, holiday, split and per-person rules look at 업무추진비 cards only
  (``params.card_kinds``). A source without a card kind is not silenced: coverage calls the
  rule partial and its fallback looks at every card. Restricted merchants are barred on every
  card.
- Overtime on leave counts whole days of leave (8 hours) and of trips out of town; a half-day
  연가 or a two-hour 관내출장 followed by evening overtime is ordinary. Without hours, the
  fallback decides by kind (관내출장 and 반일연가 still left out).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from conftest import ROOT

from naebu.core import datasets
from naebu.engine.coverage import LIVE, PARTIAL, coverage, runnable
from naebu.engine.examples import records_frame
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext

PACK = {r.meta.id: r for r in load_rules([ROOT / "rules"], root=ROOT).rules}
ALL = {name: frozenset(ds.column_names) for name, ds in datasets.DATASETS.items()}
BUSINESS = ("CARD-NIGHT", "CARD-HOLIDAY", "CARD-SPLIT", "CARD-PERPERSON")


def _fired(rule_id: str, provided, records: list[dict]) -> set[str]:
    rule = PACK[rule_id]
    chosen = runnable(rule, coverage(rule, provided))
    assert chosen is not None
    ds = datasets.get(rule.meta.dataset)
    frame, bad = records_frame(ds, records, "R", "test")
    assert not bad, bad
    found = chosen.evaluate({rule.meta.dataset: frame}, EvalContext(now=datetime(2100, 1, 1)))
    return {f.record_key for f in found}


def _without(dataset: str, *columns: str) -> dict[str, frozenset[str]]:
    return {**ALL, dataset: ALL[dataset] - set(columns)}


#: A Saturday night, one merchant, KRW 600,000 for one: every business-card rule fires on it.
NIGHT = {"payment_method": "카드", "approved_date": "2025-03-15", "approved_time": "23:40",
         "department": "회계과", "merchant_name": "한빛주유소", "amount": 600_000,
         "attendees_text": "주무관 1명"}  # fmt: skip


def test_business_card_rules_look_at_business_cards_and_fall_back_to_every_card() -> None:
    records = [
        {**NIGHT, "approval_id": "biz", "card_kind": "업무추진비"},
        {**NIGHT, "approval_id": "biz-2", "card_kind": "업무추진비"},
        {**NIGHT, "approval_id": "fuel", "card_kind": "일반구매"},
        {**NIGHT, "approval_id": "fuel-2", "card_kind": "일반구매"},
        {**NIGHT, "approval_id": "unknown"},
    ]
    unmapped = _without("card_transactions", "card_kind")
    for rid in BUSINESS:
        rule = PACK[rid]
        assert rule.meta.params["card_kinds"] == ["업무추진비"], rid
        assert coverage(rule, ALL).state == LIVE, rid
        state = coverage(rule, unmapped)
        assert state.state == PARTIAL and state.uses_fallback, rid
        assert _fired(rid, ALL, records) == {"biz", "biz-2"}, rid
        assert _fired(rid, unmapped, records) == {r["approval_id"] for r in records}, rid
    # restricted merchants: every card, and no card kind needed
    merchant = PACK["CARD-MERCHANT"]
    assert ("card_transactions", "card_kind") not in merchant.columns_read
    sauna = [{**NIGHT, "approval_id": "s", "card_kind": "일반구매", "merchant_name": "황제사우나"}]
    assert _fired("CARD-MERCHANT", ALL, sauna) == {"s"}


DAY = {"employee_id": "E1", "work_date": "2025-07-01", "overtime_hours": 3}


def test_overtime_counts_whole_days_of_leave_and_trips_out_of_town() -> None:
    records = [
        {**DAY, "record_id": "annual", "leave_type": "연가", "leave_hours": 8},
        {**DAY, "record_id": "half", "leave_type": "연가", "leave_hours": 4},
        {**DAY, "record_id": "half-kind", "leave_type": "반일연가"},
        {**DAY, "record_id": "sick", "leave_type": "병가", "leave_hours": 8},
        {**DAY, "record_id": "away", "trip_type": "관외출장", "trip_hours": 8},
        {**DAY, "record_id": "away-short", "trip_type": "관외출장", "trip_hours": 3},
        {**DAY, "record_id": "in-town", "trip_type": "관내출장", "trip_hours": 2},
        {**DAY, "record_id": "in-town-day", "trip_type": "관내출장", "trip_hours": 8},
        {**DAY, "record_id": "no-hours", "leave_type": "연가"},
    ]
    rid = "ATT-OVERTIME-ON-LEAVE"
    assert coverage(PACK[rid], ALL).state == LIVE
    assert _fired(rid, ALL, records) == {"annual", "sick", "away"}
    # a system without hours: partial, the kind alone decides
    no_hours = _without("attendance", "leave_hours", "trip_hours")
    assert coverage(PACK[rid], no_hours).state == PARTIAL
    assert _fired(rid, no_hours, records) == {
        "annual", "half", "sick", "away", "away-short", "no-hours"
    }  # fmt: skip


def test_every_people_rule_names_its_lawful_lookalikes() -> None:
    rules = [r for r in PACK.values() if r.meta.id.startswith(("CARD-", "ATT-OVERTIME"))]
    assert len(rules) == 7
    for rule in rules:
        notes = {e.note for e in rule.meta.examples}
        assert rule.meta.lookalikes, rule.meta.id
        for look in rule.meta.lookalikes:
            assert look.practice_en and look.how_en, rule.meta.id
            assert set(look.examples) <= notes
        kinds = {e.fires for e in rule.meta.examples}
        assert kinds == {True, False}, rule.meta.id


def test_records_frame_keeps_the_new_columns() -> None:
    frame, bad = records_frame(
        datasets.get("attendance"),
        [{"record_id": "x", "employee_id": "E1", "work_date": "2025-07-01", "leave_hours": 4}],
        "R",
        "test",
    )
    assert not bad and frame["leave_hours"].tolist() == [4.0]
    assert pd.isna(frame["trip_hours"]).all()
