"""CLI tables line up by display width: a Hangul syllable takes two terminal columns.

Each test finds where every cell of a row starts, in display columns measured by
``wcwidth.wcswidth`` (not by the number of characters), and asserts that a column starts at
the same display column on every row, the header included.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from conftest import write_config
from servers import employees_frame, finding, sample_rules
from wcwidth import wcswidth

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.cli import main
from naebu.core import text_tables as tables
from naebu.core.text_tables import Column
from naebu.pipeline import RunSummary, SourceReport, summary_lines
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)


def starts(line: str, cells: list[str]) -> list[int]:
    """The display column where each cell begins in ``line`` (cells found left to right)."""
    found, at = [], 0
    for cell in cells:
        at = line.index(cell, at)
        found.append(wcswidth(line[:at]))
        at += len(cell)
    return found


def test_korean_cells_start_at_the_same_display_column() -> None:
    columns = [
        Column("rule", 12),
        Column("department", 8),
        Column("alerts", 6, ">"),
        Column("title", before="  "),
    ]
    rows = [
        ("R-PAY-DUP", "재무과", 1234, "동일 거래처 중복 지급 의심"),
        ("R-CARD-NIGHT", "기획예산담당관실", 7, "심야 법인카드 사용"),
        ("R-X", "-", 0, "plain English title"),
    ]
    lines = tables.render(columns, rows)
    expected = starts(lines[0], ["rule", "department", "alerts", "title"])
    for line, row in zip(lines[1:], rows, strict=True):
        cells = [row[0], row[1], f"{row[2]:,}", row[3]]
        # A right-aligned number: its column starts where its padding does, so measure its end.
        got = starts(line, cells)
        number_end = got[2] + wcswidth(cells[2])
        head_end = expected[2] + wcswidth("alerts")
        assert got[:2] + got[3:] == expected[:2] + expected[3:], line
        assert number_end == head_end, line
    # The 16-column department widened its column for every row, not only its own.
    assert expected[2] == expected[1] + 16 + 1
    # Numbers keep their thousands separators; free text at the end has no trailing spaces.
    assert "1,234" in lines[1] and not lines[1].endswith(" ")


def test_a_rule_line_is_as_wide_as_the_header() -> None:
    columns = [Column("rule", 6), Column("n", 4, ">")]
    lines = tables.render(columns, [("가나다라", 1), tables.RULE, ("ALL", 1)])
    assert lines[2] == "-" * wcswidth(lines[0])
    assert wcswidth(lines[1]) == wcswidth(lines[0]) == wcswidth(lines[3])


def test_a_row_with_a_missing_cell_is_refused() -> None:
    with pytest.raises(ValueError):
        tables.render([Column("a"), Column("b")], [("only one",)])


def test_pad_counts_display_columns() -> None:
    assert tables.width("재무과") == 6
    assert tables.pad("재무과", 8) == "재무과  "
    assert tables.pad("12", 4, ">") == "  12"
    assert tables.pad("기획예산담당관실", 8) == "기획예산담당관실"
    # A tab inside an error message does not make the width negative.
    assert tables.width("a\tb") == 2


@pytest.fixture
def korean_store(tmp_path: Path) -> Path:
    """Alerts for departments of 3, 5 and 8 syllables and assignees with Korean names."""
    write_config(tmp_path, '[store]\nurl = "sqlite:///store.sqlite"\n')
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    with engine.begin() as conn:
        sync_officials(conn, directory, now=T0)
        findings = [
            finding("P-1"),  # 재무과, 김민수
            finding("P-2", department="도시디자인과", official_id="E040"),
            finding("P-3", department="기획예산담당관실", official_id=None),
        ]
        raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=T0)
    engine.dispose()
    return tmp_path


def test_alerts_list_lines_up_korean_departments_and_assignees(korean_store: Path) -> None:
    config = str(korean_store / "config.toml")
    result = CliRunner().invoke(
        main, ["alerts", "list", "--config", config, "--now", "2025-03-10T10:00"]
    )
    assert result.exit_code == 0, result.output
    header, *rows, total = result.output.splitlines()
    assert total == "3 alert(s)"
    names = ["rule", "severity", "status", "department", "assignee", "deadline", "message"]
    expected = starts(header, names)
    id_end = wcswidth(header[: header.index("id") + 2])
    assignees = {"재무과": "E001", "도시디자인과": "E040", "기획예산담당관실": "-"}
    seen = []
    for line in rows:
        department = next(d for d in assignees if d in line)
        seen.append(department)
        alert_id = line.split()[0]
        assert wcswidth(line[: line.index(alert_id) + len(alert_id)]) == id_end, line
        cells = ["R-PAY-DUP", "high", "raised", department, assignees[department]]
        cells += ["Thu 2025-03-13, 3 days left", "지출"]
        assert starts(line, cells) == expected, line
    assert sorted(seen) == sorted(assignees)


def test_run_summary_lines_up_korean_source_names() -> None:
    summary = RunSummary(
        run_id=7,
        started_at=T0,
        sources=[
            SourceReport("지방재정", "payments", rows_read=12_345, files=2),
            SourceReport("hr", "employees", rows_read=40, quarantined=1),
        ],
    )
    summary.findings["R-PAY-DUP"] = 3
    summary.new_alerts["R-PAY-DUP"] = 2
    rules = {"R-PAY-DUP": SimpleNamespace(title="동일 거래처 중복 지급 의심")}
    text = "\n".join(summary_lines(summary, rules))
    # The source table is the block after the first line, up to the next blank line.
    header, *rows = text.split("\n\n")[1].splitlines()
    names = ["source", "dataset", "rows read", "quarantined", "note"]
    expected = ends(header, names)
    for line, cells in zip(
        rows,
        [["지방재정", "payments", "12,345", "0", "2 file(s)"], ["hr", "employees", "40", "1"]],
        strict=True,
    ):
        # Left-aligned columns start together, right-aligned numbers end together.
        assert starts(line, cells[:2]) == starts(header, names[:2]), text
        assert ends(line, cells)[2:4] == expected[2:4], text
    # Cells that fit print as the f-string widths did before.
    assert f"{'R-PAY-DUP':<24} {3:>9,} {2:>11,}  동일 거래처 중복 지급 의심" in text


def ends(line: str, cells: list[str]) -> list[int]:
    """The display column just after each cell of ``line`` (cells found left to right)."""
    return [s + wcswidth(c) for s, c in zip(starts(line, cells), cells, strict=True)]
