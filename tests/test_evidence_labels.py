"""Every evidence key reads as words (alerts/evidence_labels.py): computed values
(``group.*``, ``peer.*``) and joined columns under every prefix the shipped rules use are
labelled from the column model, their values by the column's kind."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from naebu.alerts.evidence_labels import (
    GROUP_FIELDS,
    JOIN_ALIASES,
    PEER_FIELDS,
    join_prefix,
    resolve_key,
)
from naebu.alerts.evidence_text import evidence_lines
from naebu.core.datasets import DATASETS
from naebu.engine.loader import load_rules

PACK = load_rules([ROOT / "rules"], root=ROOT)
RULES = [*PACK.rules, *(r.fallback for r in PACK.rules if r.fallback is not None)]
ALL_COLUMNS = {c.name for d in DATASETS.values() for c in d.columns}
HANGUL = re.compile(r"[가-힣]")


def _declared_joins() -> dict[str, str]:
    """alias -> dataset of every join in the rule files, read from their text (whatever rule
    type declares it), so a join the loader would not report is caught too."""
    found: dict[str, str] = {}
    join = re.compile(r'alias\s*=\s*"(\w+)"\s*,\s*dataset\s*=\s*"(\w+)"')
    for path in sorted((ROOT / "rules").rglob("*.toml")):
        for alias, dataset in join.findall(path.read_text(encoding="utf-8")):
            found[alias] = dataset
    return found


def test_the_rule_files_declare_joins_and_the_scan_reads_them() -> None:
    assert {"holder", "vendor", "emp"} <= set(_declared_joins())


def test_every_join_alias_of_the_rules_has_a_label_and_its_dataset() -> None:
    for alias, dataset in _declared_joins().items():
        assert alias in JOIN_ALIASES, f"rules join {dataset} as {alias!r}: add it to JOIN_ALIASES"
        assert JOIN_ALIASES[alias][0] == dataset, (alias, JOIN_ALIASES[alias], dataset)
    for rule in RULES:
        for join in getattr(rule, "joins", []):
            assert JOIN_ALIASES[join.alias][0] == join.dataset, (rule.meta.id, join)


@pytest.mark.parametrize("rule", RULES, ids=[r.meta.id for r in RULES])
def test_every_prefix_a_rule_can_put_in_evidence_reads_in_korean(rule: object) -> None:
    """Joined and looked-up datasets (``vendors.X``, ``receipts.sum_amount``) and join aliases
    name the record they come from in Korean, never the generic word."""
    prefixes = set(rule.datasets) | {j.alias for j in getattr(rule, "joins", [])}  # type: ignore[attr-defined]
    for prefix in prefixes:
        dataset, ko = join_prefix(prefix, "ko")
        assert dataset is not None and HANGUL.search(ko), (prefix, ko)
        _, en = join_prefix(prefix, "en")
        assert en and "_" not in en, (prefix, en)
        for column in dataset.columns:
            ko = resolve_key(f"{prefix}.{column.name}", None, "ko").label
            assert HANGUL.search(ko) and not set(re.split(r"[\s.()]+", ko)) & ALL_COLUMNS, ko
            assert "_" not in resolve_key(f"{prefix}.{column.name}", None, "en").label


def test_computed_group_and_peer_values_have_labels_in_both_languages() -> None:
    for table, prefix in ((GROUP_FIELDS, "group"), (PEER_FIELDS, "peer")):
        for name in table:
            ko = resolve_key(f"{prefix}.{name}", DATASETS["payments"], "ko")
            en = resolve_key(f"{prefix}.{name}", DATASETS["payments"], "en")
            assert HANGUL.search(ko.label) and ko.kind, (name, ko)
            assert "_" not in en.label and "." not in en.label, (name, en)


def test_aggregates_read_by_the_column_they_aggregate() -> None:
    payments = DATASETS["payments"]
    assert resolve_key("group.sum_amount", payments).label == "합계 지급액"
    assert resolve_key("group.sum_amount", payments).kind == "money"
    assert resolve_key("group.sum_amount", payments, "en").label == "total amount paid"
    assert resolve_key("group.max_amount", payments).label == "최대 지급액"
    assert resolve_key("group.distinct_vendor_id", payments).label == "서로 다른 거래처 코드 수"
    assert resolve_key("group.distinct_vendor_id", payments).kind == "count"
    attendance = DATASETS["attendance"]
    assert resolve_key("group.sum_overtime_hours", attendance).kind == "hours"
    assert resolve_key("group.count", attendance) == ("건수", "count", "건")
    sale = DATASETS["property_sales"]
    received = resolve_key("receipts.sum_amount", sale)
    assert received.label.startswith("세입 수납 합계") and received.kind == "money"
    assert resolve_key("emp.retired_on", DATASETS["payroll"]).label.startswith("지급 대상 직원")
    # English: the column, then the record it comes from; never a dataset's name
    assert resolve_key("receipts.sum_amount", sale, "en").label == "total amount received (receipt)"
    assert resolve_key("levies.levy_id", None, "en").label == "levy number (levy)"
    assert (
        resolve_key("holder.name", None, "en").label == "full name (employee holding the account)"
    )


def test_computed_values_render_by_their_kind() -> None:
    evidence = {
        "group.count": 15,
        "group.first": "2025-10-03",
        "group.sum_overtime_hours": 60,
        "peer.median": 1234567.5,
        "peer.size": 40,
        "receipts.sum_amount": 3081000,
        "vendor.account_no": "110-2345-6775-79",
    }
    lines = dict(evidence_lines(evidence, "attendance", "ko"))
    assert lines["건수"] == "15건"
    assert lines["첫 기록일"] == "2025-10-03(금, 개천절)"
    assert lines["합계 초과근무시간"] == "60시간"
    assert lines["비교 집단 중앙값"] == "1,234,567.5"
    assert lines["비교 대상 수"] == "40건"
    assert lines["세입 수납 합계 수납액"] == "3,081,000원"
    assert "2345" not in lines["거래처 등록 계좌번호"]  # masked whatever its prefix
    english = dict(evidence_lines(evidence, "attendance", "en"))
    assert english["number of records"] == "15"
    assert english["peer median"] == "1,234,567.5"


def test_a_key_of_another_dataset_is_labelled_by_that_column() -> None:
    """A column the alert's dataset lacks is still called by its label elsewhere."""
    assert resolve_key("account_changed_on", DATASETS["payments"]).label == "계좌 변경일"
    assert resolve_key("unknown_prefix.paid_on", None).label == "관련 기록 지급일"
