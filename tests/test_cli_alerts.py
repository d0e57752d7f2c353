"""The command line of the lifecycle: `naebu alerts`, `naebu suppress`, `naebu audit`, run as
a user runs them (subprocesses). A user's mistake is one clear line and exit code 1, never a
traceback.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from servers import employees_frame, finding, sample_rules

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)
NOW = ["--now", "2025-03-10T10:00"]

RULE = """
[[rule]]
id = "R-PAY-DUP"
title = "동일 거래처 중복 지급 의심"
title_en = "Possible duplicate payment"
type = "match"
dataset = "payments"
severity = "high"
deadline_days = 3
basis = "감사 사례 (동일 세금계산서 이중 지급)"
why = "같은 세금계산서로 두 번 지급하면 한 번은 받을 근거가 없는 돈입니다."
why_en = "Paying one invoice twice means one payment had no basis."
when = "amount > 0"

[[rule.example]]
fires = true
record = { amount = 1_000 }

[[rule.example]]
fires = false
record = { amount = 0 }
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A store with the sample officials (as the daemon leaves them) and three alerts."""
    folder = tmp_path
    write_config(folder, '[store]\nurl = "sqlite:///store.sqlite"\n')
    (folder / "rules").mkdir()
    (folder / "rules" / "payments.toml").write_text(RULE, encoding="utf-8")
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect("sqlite:///" + str(folder / "store.sqlite"))
    with engine.begin() as conn:
        sync_officials(conn, directory, now=T0)
        findings = [
            finding("P-1"),  # 재무과, E001
            finding("P-2"),
            finding("P-3", department="세무과", official_id="E040"),
        ]
        raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=T0)
    engine.dispose()
    return folder


def ok(workdir: Path, *args: str) -> str:
    result = run_cli(*args, cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def refused(workdir: Path, *args: str) -> str:
    """The one line a refused command prints (exit 1, no traceback)."""
    result = run_cli(*args, cwd=workdir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_alert_from_acknowledgement_to_closing(workdir: Path) -> None:
    # A city without the department manager's approval step (tests/test_approval_cli.py walks
    # the three steps): the audit office reviews answers directly.
    write_config(workdir, '[store]\nurl = "sqlite:///store.sqlite"\n[workflow]\napproval = false\n')
    listed = json.loads(ok(workdir, "alerts", "list", "--format", "json"))
    assert {a["id"]: a["status"] for a in listed} == {1: "raised", 2: "raised", 3: "raised"}

    out = ok(workdir, "alerts", "ack", "1", "--as", "E001", *NOW)
    assert out.startswith("alert #1: raised -> acknowledged (audit entry #")
    out = ok(workdir, "alerts", "explain", "1", "--as", "E001", "-m", "선금·잔금 분할 지급", *NOW)
    assert "acknowledged -> explained" in out
    out = ok(
        workdir, "alerts", "review", "1", "--reject", "--as", "E030", "-m", "계약서 첨부", *NOW
    )
    assert "explained -> rejected, new deadline Thu 2025-03-13, 3 days left" in out
    ok(workdir, "alerts", "correct", "1", "--as", "E010", *NOW)  # the 과장 on E001's behalf
    out = ok(workdir, "alerts", "review", "1", "--accept", "--as", "E030", *NOW)
    assert "corrected -> closed" in out

    out = ok(workdir, "alerts", "false-positive", "2", "--as", "E001", "-m", "다른 건", *NOW)
    assert "raised -> false_positive" in out
    out = ok(workdir, "alerts", "reassign", "3", "--to", "E001", "--as", "E030", *NOW)
    assert out.startswith("alert #3: raised -> raised, assigned to E001")

    shown = ok(workdir, "alerts", "show", "1", "--lang", "en")
    assert "alert #1  R-PAY-DUP  [high]  closed" in shown
    for action in ("raise", "acknowledge", "explain", "reject", "correct", "accept"):
        assert f" {action} " in shown
    # officials by name, position and department, never a bare employee number
    assert "한가람 감사관 (감사실) reject explained -> rejected  계약서 첨부" in shown
    assert "  assignee: 김민수 주무관 (재무과)\n" in shown
    assert "  department: 재무과 (head: 최재원 과장)\n" in shown
    assert "  why it is a red flag: Paying one invoice twice" in shown
    shown = ok(workdir, "alerts", "show", "1")  # Korean by default: the same sections
    assert "경보 #1  R-PAY-DUP  [높음]  종결" in shown
    assert "한가람 감사관 (감사실) 검토 반려 소명 -> 반려  계약서 첨부" in shown
    assert "  담당자: 김민수 주무관 (재무과)\n" in shown
    assert "거래처 코드: V-77" in shown and "vendor_id" not in shown
    assert "E001" not in shown and "E030" not in shown
    # what the official reads first: the law and why the pattern matters
    assert "  근거: 감사 사례 (동일 세금계산서 이중 지급)\n" in shown
    assert "  왜 문제인가: 같은 세금계산서로 두 번 지급하면" in shown
    assert "audit trail intact" in ok(workdir, "audit", "verify")


def test_deadlines_show_weekday_and_days_left_or_overdue(workdir: Path) -> None:
    """list and show write a deadline with its weekday and the days left (or overdue) as of
    --now, not a bare date the official has to count from."""
    table = ok(workdir, "alerts", "list", "--now", "2025-03-10")
    assert "Thu 2025-03-13, 3 days left" in table
    assert "Thu 2025-03-13, due today" in ok(workdir, "alerts", "list", "--now", "2025-03-13")
    shown = ok(workdir, "alerts", "show", "1", "--now", "2025-03-17", "--lang", "en")
    assert "deadline: Thu 2025-03-13, 4 days overdue" in shown
    shown = ok(workdir, "alerts", "show", "1", "--now", "2025-03-17")
    assert "처리 기한: 2025-03-13(목) 마감, 기한 4일 지남" in shown


def test_user_mistakes_are_one_line_and_exit_1(workdir: Path) -> None:
    line = refused(workdir, "alerts", "ack", "999", "--as", "E001", *NOW)
    assert line == "naebu alerts: 경보 #999이(가) 없습니다 (no alert #999)"
    line = refused(workdir, "alerts", "explain", "2", "--as", "E001", *NOW)
    assert "needs a comment" in line
    line = refused(workdir, "alerts", "ack", "3", "--as", "E001", *NOW)
    assert "다른 부서" in line and "another department" in line
    line = refused(workdir, "alerts", "review", "2", "--as", "E030", *NOW)
    assert "give --accept or --reject" in line
    ok(workdir, "alerts", "explain", "2", "--as", "E001", "-m", "정상 지급", *NOW)
    line = refused(workdir, "alerts", "review", "2", "--accept", "--as", "E001", *NOW)
    assert "own alert" in line
    line = refused(workdir, "alerts", "review", "2", "--reject", "--as", "E030", *NOW)
    assert "reject needs a comment" in line
    line = refused(workdir, "alerts", "ack", "2", "--as", "E777", *NOW)
    assert "not in the officials directory" in line
    line = refused(workdir, "alerts", "show", "42")
    assert "no alert #42" in line
    line = refused(
        workdir,
        "suppress", "add", "--rule", "R-PAY-DPU", "--record", "P-1",
        "--reason", "x", "--until", "2025-06-30", "--as", "E030", *NOW,
    )  # fmt: skip
    assert "unknown rule 'R-PAY-DPU' - did you mean 'R-PAY-DUP'?" in line
    line = refused(
        workdir,
        "suppress", "add", "--rule", "R-PAY-DUP", "--where", "vendr_id=V-1",
        "--reason", "x", "--until", "2025-06-30", "--as", "E030", *NOW,
    )  # fmt: skip
    assert "'vendr_id' is not a column of payments" in line and "vendor_id" in line
    line = refused(
        workdir,
        "suppress", "add", "--rule", "R-PAY-DUP", "--record", "P-1",
        "--reason", "x", "--until", "2025-06-30", "--as", "E001", *NOW,
    )  # fmt: skip
    assert "only an auditor" in line
    assert "no suppression #77" in refused(
        workdir, "suppress", "remove", "77", "--reason", "x", "--as", "E030"
    )


def test_suppress_add_list_remove(workdir: Path) -> None:
    out = ok(
        workdir,
        "suppress", "add", "--rule", "R-PAY-DUP", "--where", "vendor_id=V-99",
        "--reason", "연간 단가계약", "--until", "2025-06-30", "--as", "E030", *NOW,
    )  # fmt: skip
    assert out.strip().endswith("R-PAY-DUP vendor_id = V-99 until 2025-06-30 23:59")
    sid = out.split("#")[1].split(":")[0]
    listed = json.loads(ok(workdir, "suppress", "list", "--format", "json", *NOW))
    assert [(s["id"], s["state"], s["target"]) for s in listed] == [
        (int(sid), "active", "vendor_id = V-99")
    ]
    later = json.loads(ok(workdir, "suppress", "list", "--format", "json", "--now", "2025-07-01"))
    assert later[0]["state"] == "expired"
    ok(workdir, "suppress", "remove", sid, "--reason", "계약 해지", "--as", "E030", *NOW)
    assert json.loads(ok(workdir, "suppress", "list", "--format", "json")) == []
    table = ok(workdir, "suppress", "list", "--all")
    assert "removed" in table and "1 suppression(s)" in table
    assert "audit trail intact" in ok(workdir, "audit", "verify")


def test_show_without_the_rule_says_nothing_of_it(workdir: Path) -> None:
    """An alert whose rule left the pack (or says no basis) shows no empty heading."""
    (workdir / "rules" / "payments.toml").unlink()
    shown = ok(workdir, "alerts", "show", "1")
    assert "경보 #1  R-PAY-DUP" in shown
    assert "근거:" not in shown and "왜 문제인가" not in shown and "None" not in shown
