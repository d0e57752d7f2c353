"""The fair ranking's arithmetic (naebu.alerts.ranking) and the rate chart's gaps, on small
hand-made figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli, write_config

from naebu.alerts.ranking import PRIOR, Board, Handling, rank, shrunk, total
from naebu.alerts.ranking_xlsx import write_ranking
from naebu.inbox.charts import rate_chart


def _dept(name: str, raised: int, answered: int, approved: int, confirmed: int, on_time: int,
          overdue: int = 0) -> Handling:  # fmt: skip
    return Handling(name, raised=raised, answered=answered, approved=approved,
                    confirmed=confirmed, on_time=on_time, overdue=overdue)  # fmt: skip


def test_a_single_perfect_alert_scores_near_the_city_rate() -> None:
    big = _dept("큰과", 200, 190, 185, 180, 185, 5)
    poor = _dept("느린과", 200, 120, 100, 80, 90, 60)
    small = _dept("작은과", 1, 1, 1, 1, 1)
    city = total([big, poor, small], "")
    ordered = rank([small, poor, big], city, approval=True)
    # Ranked by raw rates 작은과 (100% everywhere) would be first; shrunk it sits between.
    assert [h.name for h in ordered] == ["큰과", "작은과", "느린과"]
    assert (big.rank, small.rank, poor.rank) == (1, 2, 3)
    # 작은과 moves only 1/(1 + PRIOR) of the way from the city's rate toward 100%.
    for key in ("action", "approval", "confirmation", "timely"):
        c = city.rate(key)
        assert c is not None
        n, d = {"action": (1, 1), "approval": (1, 1), "confirmation": (1, 1),
                "timely": (1, 1)}[key]  # fmt: skip
        assert shrunk(n, d, c) == pytest.approx(c + (1 - c) / (1 + PRIOR))
    assert small.score is not None and big.score is not None
    assert small.score < big.score
    mean = sum(city.rate(k) or 0 for k in ("action", "approval", "confirmation", "timely")) / 4
    assert abs(small.score - mean) <= 1 / (1 + PRIOR)


def test_ties_share_a_rank_and_no_alert_no_rank() -> None:
    a, b, c = (
        _dept("가과", 10, 5, 5, 5, 5),
        _dept("나과", 10, 5, 5, 5, 5),
        _dept("다과", 10, 9, 9, 9, 9),
    )
    city = total([a, b, c], "")
    rank([a, b, c], city, approval=True)
    assert (c.rank, a.rank, b.rank) == (1, 2, 2)
    empty = Handling("빈과")
    nothing = total([empty], "")
    assert rank([empty], nothing, approval=True)[0].rank is None  # no city rate: no score


def test_without_the_approval_step_the_approval_rate_is_not_scored() -> None:
    a, b = _dept("가과", 10, 10, 0, 5, 10), _dept("나과", 10, 10, 10, 5, 10)
    city = total([a, b], "")
    rank([a, b], city, approval=False)
    assert a.score == b.score and a.rank == b.rank == 1
    rank([a, b], city, approval=True)
    assert b.rank == 1 and a.rank == 2


def test_rate_lines_break_at_months_without_data() -> None:
    svg = str(
        rate_chart(
            ["2025-01", "2025-02", "2025-03", "2025-04"],
            [("조치율", [0.5, None, 0.75, 1.0], "#000")],
            gaps=["", "none", "", ""],
            gap_names=("경보 없음", "자료 없음"),
        )
    )
    lines = re.findall(r'<polyline[^>]*points="([^"]*)"', svg)
    assert len(lines) == 1 and len(lines[0].split()) == 2  # March to April only
    assert svg.count("<circle") == 3  # January stands alone as a dot
    assert 'class="nodata none"' in svg and "2025-02: 경보 없음" in svg


def test_the_xlsx_without_the_approval_step_has_no_approval_rate(tmp_path: Path) -> None:
    import openpyxl

    a, b = _dept("가과", 10, 8, 0, 4, 6, 1), _dept("=HYPERLINK(1)", 1, 1, 0, 1, 1)
    city = total([a, b], "")
    months = ["2025-02", "2025-03"]
    board = Board(
        months, rank([a, b], city, approval=False), city, [Handling("2025-02"), a], ["none", "data"]
    )
    out = tmp_path / "s.xlsx"
    write_ranking(out, board, approval=False, language="en", period="2025-02..2025-03")
    book = openpyxl.load_workbook(out)
    ranking, months_sheet = book.worksheets
    rows = [list(r) for r in ranking.iter_rows(values_only=True)]
    head = rows[2]
    assert "Approval rate" not in head and "Approved" not in head
    assert head[:3] == ["Rank", "Department", "Fair score"]
    names = [r[1] for r in rows[3:]]
    assert "'=HYPERLINK(1)" in names and names[-1] == "City total"  # not run as a formula
    assert ranking.cell(row=4, column=3).number_format == "0.0%"
    assert [list(r) for r in months_sheet.iter_rows(values_only=True)][1] == [
        "2025-02",
        0,
        "no alerts",
        "no alerts",
        "no alerts",
    ]


def test_naebu_report_scorecard_writes_xlsx_only(tmp_path: Path) -> None:
    write_config(tmp_path, f'[store]\nurl = "sqlite:///{tmp_path / "s.sqlite"}"\n')
    result = run_cli("report", "scorecard", "--out", str(tmp_path / "s.csv"), cwd=tmp_path)
    assert result.returncode != 0 and "XLSX" in result.stderr
