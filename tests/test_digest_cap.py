"""A digest writes out at most ``digest_max_items`` alerts, the most severe first, and counts
the rest per rule: an audit office told of every high-severity alert of a province gets a
readable mail, not thousands of pages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import write_config

from naebu.alerts.digest import render_digest
from naebu.core.problems import ProblemsError
from naebu.engine.rule import RuleMeta
from naebu.settings.config import load_config


def _alert(i: int, rule: str, severity: str) -> dict[str, Any]:
    return {
        "id": i,
        "rule_id": rule,
        "title": f"{rule} 제목",
        "message": f"메시지 {i}",
        "dataset": "payments",
        "record_key": f"P-{i}",
        "severity": severity,
        "deadline": datetime(2026, 3, 10),
        "evidence": {"amount": 1000 * i},
        "assignee": "E1",
        "department": "재무과",
    }


ALERTS = [
    _alert(1, "PAY-A", "low"),
    _alert(2, "PAY-B", "critical"),
    _alert(3, "PAY-A", "medium"),
    _alert(4, "PAY-C", "high"),
    _alert(5, "PAY-A", "low"),
]


def test_a_long_digest_details_the_most_severe_and_counts_the_rest() -> None:
    subject, body = render_digest(None, "E9", ALERTS, "ko", max_items=2)
    assert "5건" in subject  # the subject counts every alert
    assert "#2" in body and "#4" in body  # critical and high, written out
    for hidden in ("#1", "#3", "#5"):
        assert hidden not in body
    assert "외 3건" in body
    assert "PAY-A 제목 (PAY-A): 3건" in body


def test_a_short_digest_is_written_out_whole() -> None:
    subject, body = render_digest(None, "E9", ALERTS, "en", max_items=100)
    assert all(f"#{i}" in body for i in range(1, 6))
    assert "more alert" not in body
    _, capped = render_digest(None, "E9", ALERTS, "en", max_items=4)
    assert "1 more alert," in capped and "PAY-A 제목 (PAY-A): 1" in capped


def test_digest_max_items_is_checked(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[notify]\ndigest_max_items = 0\n")
    try:
        load_config(path)
    except ProblemsError as exc:
        text = str(exc)
    else:
        raise AssertionError("digest_max_items = 0 was accepted")
    assert "notify.digest_max_items" in text and "at least 1" in text
    good = write_config(tmp_path, "[notify]\ndigest_max_items = 25\n")
    assert load_config(good).notify.digest_max_items == 25


def _meta(rule_id: str, **texts: str) -> RuleMeta:
    return RuleMeta(
        id=rule_id,
        title=f"{rule_id} 제목",
        title_en=f"{rule_id} title",
        type="match",
        dataset="payments",
        severity="low",
        file=Path(f"rules/{rule_id}.toml"),
        **texts,
    )


RULES = {
    "PAY-A": _meta("PAY-A", basis="지방회계법 제29조", why="에이 문제", why_en="A matters"),
    "PAY-B": _meta("PAY-B", basis="감사 사례 (이중 지급)", why="비 문제"),
    "PAY-C": _meta("PAY-C"),  # says neither: no heading
}


def test_each_rule_is_explained_once_even_when_counted_not_written_out() -> None:
    _, body = render_digest(None, "E9", ALERTS, "ko", max_items=2, rules=RULES)
    # PAY-A has three alerts, none written out (max_items=2): its basis and why, once
    assert body.count("근거: 지방회계법 제29조") == 1 and body.count("왜 문제인가: 에이 문제") == 1
    assert body.count("왜 문제인가: 비 문제") == 1
    assert "   - PAY-C 제목 (PAY-C)\n" not in body  # nothing to say: not listed
    assert "   - PAY-A 제목 (PAY-A)\n     근거: 지방회계법 제29조\n" in body
    assert "None" not in body
    # English: why_en, else the Korean paragraph; the rule's English title
    _, en = render_digest(None, "E9", ALERTS, "en", max_items=100, rules=RULES)
    assert "Why it is a red flag: A matters" in en and "Why it is a red flag: 비 문제" in en
    assert "PAY-A title (PAY-A)" in en


def test_a_digest_without_rules_or_of_unknown_rules_has_no_explanations() -> None:
    _, plain = render_digest(None, "E9", ALERTS, "ko", max_items=2)
    _, unknown = render_digest(None, "E9", ALERTS, "ko", max_items=2, rules={"X": RULES["PAY-A"]})
    assert plain == unknown and "규칙별 근거" not in plain
