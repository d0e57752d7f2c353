"""The files connector's ``header_row``: real exports put titles, blank rows, unit lines and
merged-cell banners above their header. Detected by default, or given; locations stay true."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from naebu.connectors import check_source, make_connector
from naebu.connectors.base import SourceState
from naebu.connectors.header import header_index
from naebu.connectors.source_settings import SourceConfig

COLUMNS = {"approval_id": "승인번호", "approved_date": "승인일자", "amount": "이용금액"}
TITLED = (
    "법인카드 승인내역,,\n"
    "조회기간: 2025.03.01 ~ 2025.03.31,,\n"
    ",,\n"
    "(단위: 원),,\n"
    "승인번호,승인일자,이용금액\n"
    'A1,20250301,"12,000"\n'
    "A2,20250230,5000\n"
    ",,\n"
    "A3,20250303,7000\n"
)


def source(folder: Path, **options: object) -> SourceConfig:
    return SourceConfig(
        "cards", "files", "card_transactions", columns=dict(COLUMNS),
        options={"path": str(folder), **options},
    )  # fmt: skip


def pull(src: SourceConfig) -> tuple[pd.DataFrame, list]:  # type: ignore[type-arg]
    batches = list(make_connector(src).pull(SourceState()))
    frame = pd.concat([b.frame for b in batches], ignore_index=True)
    return frame, [q for b in batches for q in b.quarantined]


@pytest.mark.parametrize("header_row", [None, 5, "auto"])
def test_csv_header_below_titles_is_found_and_lines_stay_true(tmp_path, header_row):
    (tmp_path / "cards.csv").write_bytes(TITLED.encode("cp949"))
    options = {} if header_row is None else {"header_row": header_row}
    frame, bad = pull(source(tmp_path, **options))
    assert frame["approval_id"].tolist() == ["A1", "A3"]
    assert frame["amount"].tolist() == [12000.0, 7000.0]
    [q] = bad
    assert q.location == "cards.csv:7"  # the 7th line of the file
    assert "approved_date: '20250230' is not a valid date" in q.reason


def test_csv_wrong_header_row_names_the_missing_column(tmp_path):
    (tmp_path / "cards.csv").write_bytes(TITLED.encode("cp949"))
    with pytest.raises(Exception, match="승인번호"):
        pull(source(tmp_path, header_row=1))


def test_skip_rows_keeps_its_meaning_without_detection(tmp_path):
    (tmp_path / "cards.csv").write_bytes(TITLED.encode("cp949"))
    frame, bad = pull(source(tmp_path, skip_rows=4))
    assert frame["approval_id"].tolist() == ["A1", "A3"] and bad[0].location == "cards.csv:7"


def test_xlsx_header_below_a_merged_banner(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["2025년 3월 법인카드 승인내역"])
    ws.merge_cells("A1:D1")
    ws.append([])
    ws.append(["승인정보", None, "금액정보", None])  # a banner over groups of columns
    ws.merge_cells("A3:B3")
    ws.merge_cells("C3:D3")
    ws.append(["승인번호", "승인일자", "이용금액", "비고"])
    ws.append(["X1", dt.datetime(2025, 3, 1), 12000, ""])
    ws.append(["X2", "미정", 3000, ""])
    book.save(tmp_path / "cards.xlsx")
    frame, bad = pull(source(tmp_path, pattern="*.xlsx"))
    assert frame["approval_id"].tolist() == ["X1"]
    assert frame["approved_date"].tolist() == [pd.Timestamp("2025-03-01")]
    assert [q.location for q in bad] == ["cards.xlsx:6"]


def test_header_row_option_is_checked(tmp_path):
    def problems(**options: object) -> str:
        return "\n".join(str(p) for p in check_source(source(tmp_path, **options), "c.toml"))

    assert problems(header_row=3) == "" and problems(header_row="auto") == ""
    assert 'header_row must be a row number from 1 or "auto", not 0' in problems(header_row=0)
    assert "not 'first'" in problems(header_row="first")
    assert "give header_row or skip_rows, not both" in problems(header_row=3, skip_rows=2)


def test_header_index_cases():
    rows = [["승인번호", "금액"], ["A1", "100"]]
    assert header_index(rows) == 0  # a plain file: row 1, as before
    assert header_index([["1", "2"], ["3", "4"]]) == 0  # no header at all: row 1
    titled = [["지출 내역", "", ""], ["출력일: 2025-04-01", "", ""], ["번호", "일자", "금액"], ["1", "2025-03-01", "5"]]  # fmt: skip
    assert header_index(titled) == 2
    banner = [["지급정보", "", "계약정보", ""], ["번호", "일자", "계약번호", "금액"], ["1", "2", "3", "4"]]  # fmt: skip
    assert header_index(banner) == 1
    merged_text = [["합계", "합계", "합계"], ["부서", "일자", "금액"], ["a", "2025-01-01", "1"]]
    assert header_index(merged_text) == 1
