"""The ISO 37001 report and the departments' monthly reports (issue 24, "Done when" 4).

One demo city serves every test (module fixture): ``naebu demo``, ``naebu run --once``, then a
month of answers as officials and auditors give them (``naebu alerts correct/explain/
false-positive/review``, ``naebu suppress add``), a rule file edited and run again (a rule
change in the trail), and ``naebu report iso37001`` and ``naebu report department``.

Every section must be filled with the store's figures, and the key figures are recomputed here
with plain SQL over the store (never through naebu.alerts.quality or naebu.reports); each figure's
note must list exactly the records the SQL finds. The PDF is rendered to PNG (poppler's
pdftoppm) and must not be blank.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, run_cli

from naebu.cli import main


@dataclass
class City:
    """The demo city after its month: folder, store, the month, the reports written."""

    folder: Path
    db: Path
    month: str
    html: str
    pdf: Path
    department: str
    department_html: str

    def sql(self, query: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(query, args).fetchall()


def _cli(folder: Path, *args: str) -> str:
    """``naebu ARGS`` in this process (a subprocess costs a second each)."""
    res = CliRunner().invoke(main, [*args[:2], "--config", str(folder / "config.toml"), *args[2:]])
    assert res.exit_code == 0, (args, res.output)
    return res.output


def _answer_a_month(folder: Path, db: Path) -> None:
    """Officials answer nine alerts (payments first: they have amounts), auditors review the
    eight answers (one explanation sent back), and an exclusion is added."""
    with sqlite3.connect(db) as conn:
        auditors = [
            r[0] for r in conn.execute("SELECT employee_id FROM officials WHERE role = '감사자'")
        ]
        rows = conn.execute(
            "SELECT id, assignee FROM alerts WHERE assignee IS NOT NULL AND status = 'raised' "
            "ORDER BY dataset = 'payments' DESC, id LIMIT 9"
        ).fetchall()
        last = conn.execute("SELECT rule_id, record_key FROM alerts ORDER BY id DESC").fetchone()
    plan = [
        ("correct", "-m", "지급 취소 후 반환받음", "--recovered", "1500000"),
        ("correct", "-m", "지급 취소 후 반환받음", "--recovered", "250000"),
        ("correct", "-m", "지급 취소 후 반환받음"),
        ("false-positive", "-m", "정상 지급", "--reason", "정상 업무"),
        ("false-positive", "-m", "정상 지급", "--reason", "data_error"),
        ("false-positive", "-m", "정상 지급", "--reason", "자료 오류"),
        ("explain", "-m", "계약서에 근거 있음"),
        ("explain", "-m", "계약서에 근거 있음"),
        ("ack",),
    ]
    for i, ((alert_id, who), (step, *extra)) in enumerate(zip(rows, plan, strict=True)):
        _cli(folder, "alerts", step, str(alert_id), "--as", who, *extra)
        if step == "ack":
            continue
        auditor = next(a for a in auditors if a != who)
        verdict = ["--reject", "-m", "증빙 보완 필요"] if i == 7 else ["--accept"]
        _cli(folder, "alerts", "review", str(alert_id), "--as", auditor, *verdict)
    _cli(
        folder, "suppress", "add", "--rule", last[0], "--record", last[1], "--reason",
        "소송 중인 건", "--code", "규칙 기준 부적합", "--until", "2099-01-01", "--as", auditors[0],
    )  # fmt: skip


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    folder = tmp_path_factory.mktemp("iso-city")
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    with (folder / "config.toml").open("a", encoding="utf-8") as f:
        f.write("\n[workflow]\napproval = false\n")  # auditors review answers directly here
    shutil.copytree(ROOT / "rules", folder / "rules")
    made = run_cli("demo", "--out", str(folder / "demo-city"), "--scale", "0.1", cwd=folder)
    assert made.returncode == 0, made.stderr
    ran = run_cli("run", "--once", cwd=folder)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    db = folder / "var" / "naebu.sqlite"
    _answer_a_month(folder, db)
    # a threshold decision: CARD-NIGHT becomes high severity, and the next run records it
    card = folder / "rules" / "cards" / "business_card.toml"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace('severity = "medium"', 'severity = "high"', 1), encoding="utf-8")
    again = run_cli("run", "--once", cwd=folder)
    assert again.returncode == 0, again.stdout + again.stderr
    with sqlite3.connect(db) as conn:
        month = conn.execute("SELECT substr(max(created_at), 1, 7) FROM alerts").fetchone()[0]
        (department,) = conn.execute(
            "SELECT department FROM alerts WHERE status != 'suppressed' "
            "GROUP BY department ORDER BY count(*) DESC, department LIMIT 1"
        ).fetchone()
    out = folder / "reports"
    made = run_cli("report", "iso37001", "--period", month, "--out", str(out), cwd=folder)
    assert made.returncode == 0, made.stdout + made.stderr
    dept = run_cli(
        "report", "department", "--month", month, "--department", department, "--out",
        str(out), cwd=folder,
    )  # fmt: skip
    assert dept.returncode == 0, dept.stdout + dept.stderr
    (dept_file,) = out.glob("department-*.html")
    return City(
        folder=folder,
        db=db,
        month=month,
        html=(out / f"iso37001-{month}.html").read_text(encoding="utf-8"),
        pdf=out / f"iso37001-{month}.pdf",
        department=department,
        department_html=dept_file.read_text(encoding="utf-8"),
    )


# -- reading the HTML ------------------------------------------------------------------------

FIG = re.compile(r'<a class="fig" href="#src-(\d+)">([^<]*)<sup>')


def section(html: str, anchor: str) -> str:
    """The HTML of one section: from its heading to the next."""
    start = html.index(f'<h2 id="{anchor}">')
    end = html.find("<h2", start + 5)
    return html[start : end if end > 0 else len(html)]


def note_ids(html: str, note: str) -> list[int]:
    """The alert (or other record) ids a figure's note lists."""
    m = re.search(rf'<li id="src-{note}">(.*?)</li>', html, re.S)
    assert m is not None, note
    return [int(x) for x in re.findall(r"#(\d+)", unescape(m.group(1)))]


def figure(html: str, label_html: str) -> tuple[str, str]:
    """(text, note) of the first linked figure after ``label_html``."""
    at = html.index(label_html)
    m = FIG.search(html, at)
    assert m is not None, label_html
    return m.group(2), m.group(1)


def kpi(html: str, name: str) -> tuple[str, str]:
    return figure(section(html, "s91"), f"<td>{name}</td>")


def number(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text))


# -- the tests -------------------------------------------------------------------------------


def test_every_section_is_filled_with_real_figures(city: City) -> None:
    html = city.html
    for anchor, clause in [
        ("s93", "9.3"), ("s45", "4.5"), ("s83", "8.3"), ("s91", "9.1"), ("s92", "9.2"),
        ("s63", "6.3"), ("s101", "10.1"),
    ]:  # fmt: skip
        assert clause in section(html, anchor)
    rules = {r[0] for r in city.sql(
        "SELECT rule_id FROM rule_versions WHERE retired_at IS NULL AND rule_id NOT LIKE 'list:%'"
    )}  # fmt: skip
    assert len(rules) > 30
    register = section(html, "s45")
    assert {r for r in rules if f'id="risk-{r}"' in register} == rules  # every rule a control
    assert "부정 지급" in register and "공유재산 처분 비리" in register  # risks named
    controls = section(html, "s83")
    assert all(f'id="control-{r}"' in controls for r in rules) and "정상 운영" in controls
    runs = city.sql("SELECT id FROM runs WHERE status = 'ok'")
    text, note = figure(controls, "대상 기간 점검 실행")
    assert number(text) == 2 and sorted(note_ids(html, note)) == sorted(r[0] for r in runs)
    reviews = section(html, "s92")
    assert "증빙 보완 필요" in reviews and "검토 반려" in reviews
    changes = section(html, "s63")
    assert "CARD-NIGHT 수정" in changes and "규칙 기준 버전 기록" in changes
    corrective = section(html, "s101")
    assert "지급 취소 후 반환받음" in corrective and "1,750,000원" in corrective
    summary = section(html, "s93")
    assert "검토 필요 사항" in summary and "<li>" in summary
    # every figure of the tables links to the records it counts (or says there is no amount)
    for s in ("s45", "s83", "s91", "s92"):
        cells = re.findall(r'<td class="n">(.*?)</td>', section(html, s), re.S)
        assert cells and all('class="fig"' in c or c == "해당 없음" for c in cells), s
    for s in ("s93", "s45", "s83", "s91", "s92", "s63", "s101"):
        visible = re.sub(r"<[^>]+>", " ", section(html, s))
        assert not re.search(r"(?<![A-Za-z])(None|nan|NaT)(?![A-Za-z])", visible), s
        assert not re.search(r"(?<![\d,.])\d{5,}원", visible), s  # amounts are grouped


def test_key_figures_are_the_stores(city: City) -> None:
    """KPIs, per-rule counts and amounts recomputed with SQL; each note lists the same ids."""
    html, m = city.html, city.month
    raised = city.sql(
        "SELECT id FROM alerts WHERE substr(created_at, 1, 7) = ? AND status != 'suppressed'", m
    )
    text, note = kpi(html, "발생 경보")
    assert number(text) == len(raised) and sorted(note_ids(html, note)) == sorted(
        r[0] for r in raised
    )
    answered = city.sql(
        "SELECT id FROM alerts WHERE substr(created_at, 1, 7) = ? AND status != 'suppressed' "
        "AND last_answer IS NOT NULL", m,
    )  # fmt: skip
    assert len(answered) == 8  # the acknowledgement is no answer
    text, note = kpi(html, "답변율")
    assert text == f"{len(answered) / len(raised) * 100:.1f}%"
    assert sorted(note_ids(html, note)) == sorted(r[0] for r in answered)
    fps = city.sql("SELECT id, reason_code FROM alerts WHERE last_answer = 'false_positive'")
    assert sorted(r[1] for r in fps) == ["data_error", "data_error", "normal_business"]
    text, note = kpi(html, "오탐률")
    assert text == f"{3 / 8 * 100:.1f}%" and sorted(note_ids(html, note)) == sorted(
        r[0] for r in fps
    )
    assert "자료 오류 2건" in section(html, "s91") and "정상 업무 1건" in section(html, "s91")
    # the audit office's reviews: from the trail
    accepts = city.sql("SELECT seq FROM audit_trail WHERE action = 'accept'")
    rejects = city.sql("SELECT seq FROM audit_trail WHERE action = 'reject'")
    assert (len(accepts), len(rejects)) == (7, 1)
    text, note = figure(section(html, "s92"), "검토 승인")
    assert number(text) == 7 and sorted(note_ids(html, note)) == sorted(r[0] for r in accepts)
    # corrective actions: closed after a correction, with what was recovered
    fixed = city.sql(
        "SELECT id, recovered_amount FROM alerts WHERE status = 'closed' AND last_answer = 'correct'"
    )
    text, note = figure(section(html, "s101"), "감사 검토로 종결")
    assert number(text) == len(fixed) == 3
    assert sorted(note_ids(html, note)) == sorted(r[0] for r in fixed)
    assert sum(r[1] or 0 for r in fixed) == 1_750_000
    # per rule: the alerts of each payment rule and the amounts in their records
    for (rule_id,) in city.sql(
        "SELECT DISTINCT rule_id FROM alerts WHERE dataset = 'payments' AND status != 'suppressed'"
    ):
        rows = city.sql(
            "SELECT id, evidence FROM alerts WHERE rule_id = ? AND status != 'suppressed' "
            "AND substr(created_at, 1, 7) = ?", rule_id, m,
        )  # fmt: skip
        row = re.search(rf'<tr id="risk-{rule_id}">(.*?)</tr>', html, re.S)
        assert row is not None
        figures = FIG.findall(row.group(1))
        alerts_text, alerts_note = figures[0][1], figures[0][0]
        assert number(alerts_text) == len(rows)
        assert sorted(note_ids(html, alerts_note)) == sorted(r[0] for r in rows)
        stake = sum(_amount(json.loads(r[1])) for r in rows)
        assert f"{stake:,.0f}원" in row.group(1), rule_id


def _amount(evidence: dict) -> float:
    members = evidence.get("case.members")
    return (
        sum(float(m.get("amount") or 0) for m in members) if members else float(evidence["amount"])
    )


def test_the_pdf_renders_to_a_png_that_is_not_blank(city: City, tmp_path: Path) -> None:
    if not shutil.which("pdftoppm"):
        message = "pdftoppm is missing: apt-get install -y poppler-utils"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert city.pdf.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(city.pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))  # type: ignore[union-attr]
    assert pages >= 3
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(city.pdf), str(png)], check=True)  # fmt: skip
    (image,) = tmp_path.glob("page*.png")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same page in grey levels (PGM: a header, then one byte a pixel) to count the ink
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", str(city.pdf), str(tmp_path / "grey")], check=True)  # fmt: skip
    (grey,) = tmp_path.glob("grey*.pgm")
    data = grey.read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert header is not None
    pixels = data[header.end() :]
    dark = sum(1 for b in pixels if b < 160) / len(pixels)
    assert 0.01 < dark < 0.5, dark  # text on a white page: neither blank nor a black sheet


def test_the_department_report_counts_its_alerts(city: City) -> None:
    html = city.department_html
    rows = city.sql(
        "SELECT id, status FROM alerts WHERE department = ? AND substr(created_at, 1, 7) = ? "
        "AND status != 'suppressed'", city.department, city.month,
    )  # fmt: skip
    text, note = figure(html, "<td>발생 경보</td>")
    assert number(text) == len(rows) and sorted(note_ids(html, note)) == sorted(r[0] for r in rows)
    assert city.department in html and all(f"<td>#{r[0]}</td>" in html for r in rows)
    visible = re.sub(r"<[^>]+>", " ", html[: html.index('<h2 id="sources">')])
    assert not re.search(r"(?<![A-Za-z])(None|nan|NaT)(?![A-Za-z])", visible)
    assert not re.search(r"(?<![\d,.])\d{5,}원", visible)


def test_report_mistakes_are_one_line(city: City) -> None:
    bad = run_cli("report", "iso37001", "--period", "2025-13", "--out", "x", cwd=city.folder)
    assert bad.returncode == 1 and "YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr
    two = run_cli("report", "department", "--month", "2025-01..2025-02", "--out", "x", cwd=city.folder)  # fmt: skip
    assert two.returncode == 1 and "one month" in two.stderr
    assert datetime.strptime(city.month, "%Y-%m")  # the reports' month is a month


def test_alerts_show_tells_the_reason_and_the_amount_recovered(city: City) -> None:
    ((fp,),) = city.sql("SELECT id FROM alerts WHERE reason_code = 'normal_business'")
    ((fixed,),) = city.sql("SELECT id FROM alerts WHERE recovered_amount = 250000")
    assert "[사유: 정상 업무]" in _cli(city.folder, "alerts", "show", str(fp))
    assert "[환수액 250,000원]" in _cli(city.folder, "alerts", "show", str(fixed))
