"""Exports neutralize spreadsheet formula injection planted in the watched data."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from openpyxl import load_workbook

from naebu.exporting import neutralize
from naebu.store import tables as store

EVIL = [
    '=HYPERLINK("http://127.0.0.1/x","보기")',
    "@SUM(A1:A9)",
    "+82-10",
    "-2+3",
    " =1+1",
    "\uff1d1+1",
    "\t=1",
]


@pytest.mark.parametrize("text", EVIL)
def test_formula_starts_are_neutralized(text: str) -> None:
    assert neutralize(text) == "'" + text


def test_plain_values_stay() -> None:
    assert neutralize("한빛식당") == "한빛식당"
    assert neutralize(-5000) == -5000 and neutralize(1.5) == 1.5 and neutralize(None) is None
    assert neutralize(datetime(2025, 3, 1, 9, 30)) == "2025-03-01 09:30:00"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_config(tmp_path, '[store]\nurl = "sqlite:///var/s.db"\n[rules]\npaths = []\n')
    engine = store.connect(f"sqlite:///{tmp_path / 'var' / 's.db'}")
    with engine.begin() as conn:
        conn.execute(
            store.alerts.insert(),
            [
                {
                    "fingerprint": f"fp{i}",
                    "rule_id": "CARD-NIGHT",
                    "dataset": "card_transactions",
                    "record_key": f"A{i}",
                    "severity": "medium",
                    "status": "raised",
                    "department": "재무과",
                    "assignee": "E1",
                    "title": "심야 시간대 업무추진비 카드 사용",
                    "message": text,
                    "evidence": {"merchant_name": text, "amount": 12000},
                    "created_at": datetime(2025, 3, 1),
                }
                for i, text in enumerate(EVIL)
            ],
        )
    engine.dispose()
    return tmp_path


def test_csv_export(folder: Path) -> None:
    result = run_cli("export", "--out", str(folder / "a.csv"), cwd=folder)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((folder / "a.csv").open(encoding="utf-8-sig")))
    assert len(rows) == len(EVIL)
    for row, text in zip(rows, EVIL, strict=True):
        assert row["message"] == "'" + text
        assert row["evidence"].startswith("{")  # JSON text, not a formula


def test_xlsx_export_has_no_formula(folder: Path) -> None:
    result = run_cli("export", "--out", str(folder / "a.xlsx"), cwd=folder)
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(folder / "a.xlsx").active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert cells and all(c.data_type != "f" for c in cells)
    messages = [row[11].value for row in sheet.iter_rows(min_row=2)]
    assert messages == ["'" + t for t in EVIL]


def test_unknown_format_is_a_clear_error(folder: Path) -> None:
    result = run_cli("export", "--out", str(folder / "a.pdf"), cwd=folder)
    assert result.returncode == 1 and "use a .csv or .xlsx file name" in result.stderr


def test_deadline_stays_a_date_and_gets_a_readable_column(folder: Path) -> None:
    engine = store.connect(f"sqlite:///{folder / 'var' / 's.db'}")
    with engine.begin() as conn:
        a = store.alerts.c
        deadline = datetime(2025, 3, 14, 23, 59, 59)
        conn.execute(store.alerts.update().where(a.id == 1).values(deadline=deadline))
        conn.execute(
            store.alerts.update().where(a.id == 2).values(deadline=deadline, status="closed")
        )
    engine.dispose()
    out = folder / "a.csv"
    result = run_cli("export", "--out", str(out), "--now", "2025-03-17", cwd=folder)
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in csv.DictReader(out.open(encoding="utf-8-sig"))}
    assert rows["1"]["deadline"] == "2025-03-14 23:59:59"  # still sortable in a spreadsheet
    assert rows["1"]["deadline_text"] == "2025-03-14(금) 마감, 기한 3일 지남"
    assert rows["2"]["deadline_text"] == "2025-03-14(금)"  # closed: nothing left to count
    assert rows["3"]["deadline_text"] == ""  # none: an empty cell


def test_export_explains_each_alert_by_its_rule(tmp_path: Path) -> None:
    """근거 and 왜 문제인가: the rule's basis and why, from the configured rule files; empty
    for an alert whose rule is no longer in the pack (never 'None')."""
    from conftest import ROOT

    from naebu.engine.loader import load_rules

    cards = ROOT / "rules" / "cards"
    write_config(tmp_path, f'[store]\nurl = "sqlite:///s.db"\n[rules]\npaths = ["{cards}"]\n')
    engine = store.connect(f"sqlite:///{tmp_path / 's.db'}")
    with engine.begin() as conn:
        conn.execute(
            store.alerts.insert(),
            [
                {
                    "fingerprint": f"fp{rule_id}",
                    "rule_id": rule_id,
                    "dataset": "card_transactions",
                    "record_key": "A1",
                    "severity": "medium",
                    "status": "raised",
                    "title": "제목",
                    "message": "내용",
                    "evidence": {},
                    "created_at": datetime(2025, 3, 1),
                }
                for rule_id in ("CARD-NIGHT", "RETIRED-RULE")
            ],
        )
    engine.dispose()
    night = {r.meta.id: r.meta for r in load_rules([cards], root=ROOT).rules}["CARD-NIGHT"]
    assert night.basis and night.why
    result = run_cli("export", "--out", str(tmp_path / "a.csv"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "a.csv").open(encoding="utf-8-sig")))
    assert [(r["근거"], r["왜 문제인가"]) for r in rows] == [(night.basis, night.why), ("", "")]
    result = run_cli("export", "--out", str(tmp_path / "a.xlsx"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(tmp_path / "a.xlsx").active
    assert sheet is not None
    head, first, second = (list(r) for r in sheet.iter_rows(values_only=True))
    at = head.index("근거")
    assert head[at : at + 3] == ["근거", "왜 문제인가", "근거 자료"]
    assert first[at : at + 2] == [night.basis, night.why]
    assert second[at : at + 2] in ([None, None], ["", ""])
    assert first[at + 2] in (None, "")  # no evidence: an empty cell
    assert head[-2:] == ["대상 기록 수", "대상 기록"] and first[-2:] in ([None, None], ["", ""])


def test_export_carries_the_evidence_as_officials_read_it() -> None:
    from naebu.exporting import COLUMNS, header, rows_for_export

    alert = {
        "rule_id": "R",
        "dataset": "payments",
        "status": "raised",
        "evidence": {"amount": 1250000, "payee_account": "123-456789-01", "purpose": None},
    }
    (row,) = rows_for_export([alert])
    cell = row[COLUMNS.index("evidence_text")]
    assert header()[COLUMNS.index("evidence_text")] == "근거 자료"
    assert cell == "지급액: 1,250,000원\n채주 계좌번호: 123-456789-01\n적요: 없음"


def test_export_lists_the_records_of_a_case() -> None:
    """대상 기록: one line per member record by the same labels, 외 N건 for those not
    listed; 대상 기록 수 a number a spreadsheet sorts by."""
    from naebu.alerts.directory import Directory, Official
    from naebu.exporting import COLUMNS, header, rows_for_export

    members = [
        {"payment_id": "P-1", "paid_on": "2025-10-03", "amount": 30806000, "official_id": "E9"},
        {"payment_id": "P-2", "paid_on": "2025-10-06", "amount": 3081000, "official_id": "E8"},
    ]
    alert = {
        "rule_id": "R",
        "dataset": "payments",
        "status": "raised",
        "evidence": {"payment_id": "P-1", "case.members": members, "case.count": 5},
    }
    directory = Directory([Official("E9", "김민수", "회계과", "주무관")])
    (row,) = rows_for_export([alert], directory=directory)
    assert header()[COLUMNS.index("case_members")] == "대상 기록"
    assert row[COLUMNS.index("case_count")] == 5
    assert row[COLUMNS.index("case_members")].splitlines() == [
        "대상 기록 5건",
        "지출결의번호 P-1: 지급일 2025-10-03(금, 개천절) · 지급액 30,806,000원 · 기안자 김민수 주무관",
        "지출결의번호 P-2: 지급일 2025-10-06(월, 추석) · 지급액 3,081,000원 · 기안자 E8",
        "외 3건",
    ]
    assert row[COLUMNS.index("evidence_text")] == "지출결의번호: P-1"  # the case keys apart
