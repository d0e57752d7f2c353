"""attendee_count(): the number of people an attendee text names, as Koreans write it.

The documented table (the module docstring of engine/expr/functions_attendees.py) is checked
row by row, and 100 texts of the real Seoul district disclosures (../shared/data/real/
seoul-districts-expense), sampled deterministically, were counted by hand: the function must
give the hand count for every one (None where the text is not a count: 경조사 recipients, 1인가구
in a purpose, a place "외1").
"""

from __future__ import annotations

import csv
import random
import re

import pandas as pd
import pytest
from conftest import ROOT

from naebu.engine.expr import compile_expression, functions_attendees
from naebu.engine.expr.functions_attendees import count_attendees

DISTRICTS = ROOT.parent / "shared" / "data" / "real" / "seoul-districts-expense"

#: The 100 sampled texts and the count read by hand (None: not a count). Ambiguous shapes
#: follow the documented rules: "A 및 B N명" is A plus N (20, 51, 60); 외 adds the one named.
HAND_COUNTED: list[tuple[str, int | None]] = [
    ("백업장비 관계자 4명", 4),
    ("보건소장 외 10명", 11),
    ("정보시스템 관계자 8명", 8),
    ("프로그램운영 사업담당자 및 참석자 등 112명", 112),
    ("1인가구지원센터 운영 간담회비 지급", None),
    ("경조사비 지급(김OO 외7명)", None),
    ("주택상생과장외 1명", 2),
    ("1인가구 지원서비스 체계 구축 추진 간담회", None),
    ("직원 경조사비 지급(1명)", None),
    ("공동주택지원팀장 외 7명", 8),
    ("정보시스템 관계자 3명", 3),
    ("보건지소팀장 외 4명", 5),
    ("재건축팀장 외2명", 3),
    ("힐링도시국 직원본인 결혼 3명", None),
    ("1인가구 지원사업 간담회", None),
    ("보건지소팀장 및 사업담당자 등 5명", 5),
    ("경조사비 지급(이OO 외 1명)", None),
    ("경조사비 지급(박OO 외1명)", None),
    ("보건지소팀장 등 6명", 6),
    ("주택상생과장외 7명", 8),
    ("의약과장직무대리 및 행사진행자 22명", 23),
    ("의약과장 직무대리 외 10인", 11),
    ("행정포털 담당자 7명", 7),
    ("1인가구 지원사업 간담회비 지출", None),
    ("행정전산장비 관계자 3명", 3),
    ("약무팀장 외 5인", 6),
    ("프로그램 운영담당자 등 참석자 45명", 45),
    ("경조사 직원 경조사비 지급(2명)", None),
    ("직원 경조사비 지급(4명)", None),
    ("1인가구 지원센터 운영관련 간담 회", None),
    ("1인 창조기업지원센터 사업 추진 관계자 간담회", None),
    ("주택상생과장 외 5명", 6),
    ("열린정보화교육 관계자 4명", 4),
    ("온나라 관계자 3명", 3),
    ("전문치과위생사 등 5명", 5),
    ("효도밥상 스마트관리 관계자 7명", 7),
    ("민원창구 직원 격려(동장 등 4명)", 4),
    ("1인가구지원센터 업무 협의 관련 간담회비 지급", None),
    ("보건지소팀장 외 사업담 당자 등 총 8명", 8),
    ("모바일행정시스템 관계자 3명", 3),
    ("의약과장직무대리 등 9명", 9),
    (
        "현수막지정게시대 업무관련 협의 ※ 테이블별 결제(133,000원+170,500원=303,500원) "
        "테이블별 인원(5명+6명=11명)",
        11,
    ),
    ("경조사비 지급(최OO외 8명)", None),
    ("1인가구지원센터 운영관련 간담회 비용 지출", None),
    ("2025년 1인가구 전월세 안심계약 도 움서비스 관련 업무추진비 지출", None),
    ("1인창조기업 창업지원 업무추진 관련 간담회", None),
    ("경조사비 지급(김OO 외6명)", None),
    ("프로그램 운영담당자 외 참석자 46명", 47),
    ("1인가구사업 업무협의 간담회", None),
    ("보건소장 및 협의체 위원 등 12명", 12),
    ("AI 마포 ON 관계자 5명", 5),
    ("동장 및 동주민센터 직원 5명", 6),
    ("약사회장 및 약물교육강사단장 등 9명 약무팀장 등 3명", 12),
    ("행정전산장비 관계자 6명", 6),
    ("정보화교육 관계자 6명", 6),
    ("1인가구 지원정책 관련 간담회", None),
    ("정보시스템 관계자 10명", 10),
    ("사업담당자 등 20명", 20),
    ("공공와이파이 관계자 8명", 8),
    ("1인가구지원사업 업무협의 관련 간담회", None),
    ("직능단체장 8명, 동장 및 직원 5명", 14),
    ("의약과장직무대리 외 3명", 4),
    ("1인가구 정책자문단 회의 다과비", None),
    ("보건소장, 사업담당자 등 4명", 4),
    ("의약과장 외 5명", 6),
    ("보건지소팀장 및 사업담당자 등(8명)", 8),
    ("약무팀장 등 10명", 10),
    ("1인가구 지원사업 업무협의 관련 간담회", None),
    ("1인가구 정책자문단 회의", None),
    ("공동주택지원팀장 외8명", 9),
    ("직원 7명 및 복지관 직원 3명", 10),
    ("의무팀장 등 6명", 6),
    ("건강생활지원팀장 등 6명", 6),
    ("의약과장직무대리, 사업담당자, 전문치과위생사 등 10명", 10),
    ("1인가구 지원사업 업무협의 관련 간담회비 지급", None),
    ("1인창조기업 창업 지원 관련 간담회비 지출", None),
    ("의무팀장 외 15인", 16),
    ("경조사비 지급(서OO 외 2명)", None),
    ("공동주택지원팀장 외5명", 6),
    ("장애인구강진료센터 사업관계자 4명", 4),
    ("의약과장직무대리 등 7명", 7),
    ("연서로 16길 35일대 외1 하수관로 개량공사 관련 간담회비 지급", None),
    ("의약과장직무대리 및 의료유사업 담당자 등 11인", 11),
    ("의약과 및 의료관계자 등 34명", 34),
    ("의약과장 등 8명", 8),
    ("보건지소팀장 등 7명", 7),
    ("공동주택지원팀장 외 8명", 9),
    ("보상주택팀장 외 5명", 6),
    ("보건지소팀장 및 선발시험위원회 위원(총10명)", 10),
    ("정보시스템 운영 관계자 5명", 5),
    ("마이마포 담당자 3명", 3),
    ("의약과장 직무대리 등 7명", 7),
    ("1인가구 전월세  도움서비스 관련 음료비 구입비 지급", None),
    ("주택상생과장 외4명", 5),
    ("직원 경조사비 지급(2명)", None),
    ("스마트정책과장 등 관계자 5명", 5),
    ("1인 창조기업·중장년 기술창업센터 지원사업 업무협의", None),
    ("프로그램 운영 담당자, 참석자 등(90명)", 90),
    ("치과의사 등 4인", 4),
    ("열린정보화 교육 관계자 6명", 6),
]


def district_sample() -> list[str]:
    """100 distinct texts of the district files' 사용자 and 사용목적 columns that mention a
    number of people (N명, N인, 외 N, 등 N), sampled with a fixed seed."""
    pool: set[str] = set()
    for path in sorted(DISTRICTS.glob("*_expense_raw.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                for column in ("사용자", "사용목적"):
                    text = (row[column] or "").strip()
                    if text and re.search(r"\d\s*(명|인)|(외|등)\s*\d", text):
                        pool.add(text)
    return random.Random(26).sample(sorted(pool), 100)


@pytest.mark.skipif(
    not DISTRICTS.is_dir(),
    reason=f"{DISTRICTS} absent: the shared data folder is not beside the repository, so the "
    "hand count on the real Seoul district disclosures is skipped",
)
def test_counts_agree_with_a_hand_count_of_100_real_district_texts() -> None:
    sample = district_sample()
    assert sample == [text for text, _ in HAND_COUNTED], "the sample changed: count it again"
    wrong = [(t, n, count_attendees(t)) for t, n in HAND_COUNTED if count_attendees(t) != n]
    assert not wrong, wrong
    # the sample holds every shape the rules speak of
    counts = [n for _, n in HAND_COUNTED]
    assert sum(n is None for n in counts) >= 20 and sum(n is not None for n in counts) >= 60


def _documented_table() -> list[tuple[str, int | None]]:
    doc = functions_attendees.__doc__ or ""
    rows = re.findall(r"^``(.+?)``.*?\s{2,}(\d+|none)\s*$", doc, re.MULTILINE)
    return [(text, None if n == "none" else int(n)) for text, n in rows]


def test_the_documented_table_holds() -> None:
    table = _documented_table()
    assert len(table) >= 15
    for text, n in table:
        assert count_attendees(text) == n, text
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for text, n in table:  # docs/rules.md shows the same table
        assert f"| `{text}` | {'none' if n is None else n} |" in docs, text


@pytest.mark.parametrize(
    "text, count",
    [
        ("과장 외 2명", 3),  # the pack's old reading (first number before 명) said 2
        ("직원 9명, 민원인 3명", 12),  # the old reading said 9
        ("등 5명", 5),
        ("팀장 1명", 1),
        ("직원 1,200명", 1200),
        ("행정팀장 등 3명 (명단 별첨)", 3),
        ("인권담당관 외 6인", 7),
        ("1인 창조기업 간담회", None),  # 인 before a word is not a counter (1인 가구)
        ("", None),
        ("   ", None),
        ("화환 1개", None),
        ("환경조정평가팀장 외 3명", 4),  # 환경조정 holds 경조: not a 경조사
        ("업무협조의 건 관계자 3명", 3),  # 협조의 holds 조의
        ("힐링도시국 직원 부의금(2명)", None),
    ],
)
def test_counting_rules(text: str, count: int | None) -> None:
    assert count_attendees(text) == count


def test_attendee_count_in_a_condition() -> None:
    cond = compile_expression(
        "attendee_count(attendees_text) > 0 and amount / attendee_count(attendees_text) > 40000",
        {"attendees_text": "str", "amount": "number"},
    )
    frame = pd.DataFrame(
        {
            "attendees_text": pd.array(
                ["과장 외 2명", "과장 외 2명", "상수도사업본부 직원격려", None], dtype="string"
            ),
            "amount": [100_000.0, 130_000.0, 500_000.0, 500_000.0],
        }
    )
    # 100,000 for three is 33,333 a head (the old reading, two, made it 50,000)
    assert cond.evaluate(frame).tolist() == [False, True, False, False]
