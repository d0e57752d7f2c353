"""A directory without roles: ``[routing.roles]`` derives them, ``check``/``status`` warn.

HR exports rarely say who is 부서관리자 or 감사자. The config derives those roles from the
position, the grade, the department (the audit office) and the departments table's head; a
role the data gives always wins. When an alert could still reach no manager or no audit
office - above all a critical alert reaching only the official it may be about - ``naebu
check`` and ``naebu status`` say so. Real stores and the real pipeline for the end-to-end
parts; no mocks.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import run_cli
from minicity import create_payments, make_city, payment, query, run

from naebu.alerts.directory import Directory
from naebu.alerts.reach import reach_warnings
from naebu.alerts.role_settings import NamePattern, RoleRules, parse_roles
from naebu.alerts.roles import grade_number
from naebu.alerts.routing_settings import RoutingConfig
from naebu.core.problems import Problem, ProblemsError
from naebu.engine.loader import load_rules
from naebu.settings.config import load_config


def _rules(raw: dict[str, object], audit_department: str | None = None) -> RoleRules:
    problems: list[Problem] = []
    rules = parse_roles(raw, problems, "config.toml", audit_department)
    assert problems == []
    return rules


ROLES = {
    "managers": {"position": ["과장", "*담당관"], "grade": "4급 이상", "heads": True},
    "auditors": {"department": "*감사담당관", "employees": ["E099"]},
    "officials": ["E012"],
}


def hr_export() -> pd.DataFrame:
    """An HR export: positions, grades, departments - no role column."""
    rows = [
        ("E001", "세무과", "주무관", "지방행정주사보"),
        ("E010", "세무과", "과장", "지방행정사무관"),
        ("E011", "세무과", "팀장", "지방행정주사"),
        ("E012", "세무과", "과장", "5급"),  # listed as an official: the list wins
        ("E020", "회계과", "주무관", "7급"),
        ("E021", "회계과", "팀장", "6급"),  # the head of 회계과 in the departments table
        ("E030", "가람시 감사담당관", "감사담당관", "지방서기관"),  # position: a manager
        ("E031", "가람시 감사담당관", "주무관", "6급"),
        ("E040", "기획과", "국장", "지방부이사관"),  # 3급: 4급 이상
        ("E099", "기획과", "주무관", "8급"),  # listed as an auditor
    ]
    frame = pd.DataFrame(rows, columns=["employee_id", "department", "position", "grade"])
    frame["active"] = True
    return frame


def departments() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("세무과", "행정국", "E010"),
            ("회계과", "행정국", "E021"),
            ("기획과", "부시장", None),
            ("행정국", "부시장", None),
            ("가람시 감사담당관", "부시장", "E030"),
        ],
        columns=["department", "parent", "head_id"],
    )


def test_roles_derived_from_position_grade_heads_department_and_lists() -> None:
    routing = RoutingConfig(roles=_rules(ROLES))
    d = Directory.from_frame(hr_export(), routing=routing, departments=departments())
    roles = {o.employee_id: o.role for o in d}
    assert roles == {
        "E001": "담당자",
        "E010": "부서관리자",  # position 과장
        "E011": "담당자",
        "E012": "담당자",  # listed in officials
        "E020": "담당자",
        "E021": "부서관리자",  # head of 회계과
        "E030": "부서관리자",  # *담당관: managers come before auditors
        "E031": "감사자",  # department *감사담당관
        "E040": "부서관리자",  # 지방부이사관 = 3급, 4급 이상
        "E099": "감사자",  # listed in auditors
    }
    assert [o.employee_id for o in d.managers("회계과")] == ["E021"]
    assert [o.employee_id for o in d.audit_office("세무과")] == ["E031", "E099"]


def test_explicit_role_in_the_data_wins() -> None:
    frame = hr_export()
    frame["role"] = None
    frame.loc[frame["employee_id"] == "E010", "role"] = "담당자"  # a 과장 who is not
    frame.loc[frame["employee_id"] == "E001", "role"] = "감사자"
    d = Directory.from_frame(
        frame, routing=RoutingConfig(roles=_rules(ROLES)), departments=departments()
    )
    assert d.get("E010").role == "담당자"  # type: ignore[union-attr]
    assert d.get("E001").role == "감사자"  # type: ignore[union-attr]
    assert d.get("E011").role == "담당자"  # type: ignore[union-attr]


def test_without_roles_config_the_directory_is_as_given() -> None:
    d = Directory.from_frame(hr_export(), routing=RoutingConfig(), departments=departments())
    assert {o.role for o in d} == {None}


def test_audit_department_makes_its_members_auditors_when_roles_are_derived() -> None:
    rules = _rules({"managers": {"position": "과장"}}, audit_department="가람시 감사담당관")
    d = Directory.from_frame(hr_export(), routing=RoutingConfig(roles=rules))
    assert [o.employee_id for o in d if o.role == "감사자"] == ["E030", "E031"]


def test_patterns_and_grades() -> None:
    assert NamePattern.parse("과장").matches(" 과장 ")
    assert not NamePattern.parse("과장").matches("부과장")
    assert NamePattern.parse("*담당관").matches("가람시 감사담당관")
    assert NamePattern.parse("*감사*").matches("감사실")
    assert NamePattern.parse("re:(과|소)장$").matches("보건소장")
    assert not NamePattern.parse("re:^(과|소)장$").matches("보건소장")
    assert NamePattern.parse("감사담당관").matches("감사담당관\u3000")  # NFKC: a wide space
    assert [grade_number(t) for t in ("5급", "행정6급", "지방행정사무관", "지방시설주사보")] == [
        5,
        6,
        5,
        7,
    ]
    assert [grade_number(t) for t in ("부이사관", "이사관", "서기관", "서기보", "주무관")] == [
        3,
        2,
        4,
        9,
        None,
    ]


def test_config_mistakes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[routing.roles]\n"
        'managers = { position = ["re:(과"], grade = "오급", head = true }\n'
        'auditors = { department = "감사실", heads = true, employees = ["E1"] }\n'
        'officials = { employees = ["E1"], position = ["주무관"] }\n'
        'clerks = ["E2"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "config.toml:2: routing.roles.managers.position: bad regular expression '(과'" in text
    assert "routing.roles.managers.grade: not a grade: '오급' - \"5급\" (exactly)" in text
    assert "routing.roles.managers.head: unknown key - did you mean 'heads'?" in text
    assert "routing.roles.auditors.heads: unknown key" in text
    assert "routing.roles.officials.position: unknown key" in text
    assert "routing.roles.clerks: unknown role table" in text
    assert "employee E1 is listed for two roles (auditors and officials)" in text


def test_config_roles_parse(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[routing.roles]\n"
        'managers = { position = ["과장", "*담당관"], grade = "5급 이상", heads = true }\n'
        'auditors = ["E1001", "E1002"]\n',
        encoding="utf-8",
    )
    roles = load_config(path).routing.roles
    assert roles is not None
    assert roles.managers.heads and len(roles.managers.position) == 2
    assert roles.managers.grade[0].matches(4) and not roles.managers.grade[0].matches(6)
    assert roles.auditors.employees == {"E1001", "E1002"}


# -- reach warnings ----------------------------------------------------------------------


def _pack() -> list[Any]:
    root = Path(__file__).resolve().parents[1]
    return [r.meta for r in load_rules([root / "rules"], root=root).rules]


def test_no_roles_warns_of_missing_managers_auditors_and_the_control_failure() -> None:
    routing = RoutingConfig()
    d = Directory.from_frame(hr_export(), routing=routing, departments=departments())
    lines = reach_warnings(d, _pack(), routing)
    text = "\n".join(lines)
    assert lines[0].startswith("control failure: there is no 감사자, so in 4 department(s)")
    assert "4 of 4 department(s) with officials have no active 부서관리자" in text
    assert "no active 감사자: alerts reach no audit office" in text


def test_one_department_without_a_manager_is_named() -> None:
    routing = RoutingConfig(roles=_rules({"managers": {"position": "과장"}, "auditors": ["E031"]}))
    d = Directory.from_frame(hr_export(), routing=routing, departments=departments())
    lines = reach_warnings(d, _pack(), routing)
    # 세무과 has its 과장; 회계과, 기획과 and the audit office have none (no heads here).
    assert lines == [
        "3 of 4 department(s) with officials have no active 부서관리자, so their alerts reach "
        "no manager: 가람시 감사담당관, 기획과, 회계과 - give the directory a role column, or "
        'derive it: [routing.roles] managers = { position = ["과장"] } (docs/alerts.md)'
    ]


def test_derived_roles_leave_no_warning_and_critical_official_only_is_one() -> None:
    routing = RoutingConfig(roles=_rules(ROLES))
    d = Directory.from_frame(hr_export(), routing=routing, departments=departments())
    pack = _pack()
    assert reach_warnings(d, pack, routing) == []
    routing.notify["critical"] = ("official",)
    lines = reach_warnings(d, pack, routing)
    assert len(lines) == 1
    assert lines[0].startswith("control failure: ")
    assert "critical/high rule(s) notify only the official" in lines[0]


def test_audit_office_outside_the_tree_is_reported() -> None:
    tree = departments()
    tree.loc[tree["department"] == "가람시 감사담당관", "parent"] = "행정국"  # under a bureau
    roles = {"managers": ROLES["managers"], "auditors": {"department": "*감사담당관"}}
    routing = RoutingConfig(roles=_rules(roles))
    d = Directory.from_frame(hr_export(), routing=routing, departments=tree)
    lines = reach_warnings(d, _pack(), routing)
    assert any("1 department(s) belong to no audit office's organisation" in x for x in lines)
    assert any(": 기획과 - " in x for x in lines)


# -- end to end: routing, check, status ---------------------------------------------------


def _city_without_roles(tmp_path: Path, roles: str) -> Path:
    """The mini city with positions instead of roles, and a departments table with heads."""
    config = make_city(tmp_path)
    city = tmp_path / "city.sqlite"
    with sqlite3.connect(city) as db:
        db.execute("ALTER TABLE emp ADD COLUMN pos TEXT")
        db.executemany(
            "UPDATE emp SET pos = ? WHERE emp_no = ?",
            [("주무관", "E001"), ("팀장", "E010"), ("주무관", "E030")],
        )
        db.execute("CREATE TABLE dept (dept_nm TEXT, head_emp_no TEXT)")
        db.executemany("INSERT INTO dept VALUES (?, ?)", [("재무과", "E010"), ("감사실", None)])
    create_payments(f"sqlite:///{city}", [payment(1, 5_000_000)])
    text = config.read_text(encoding="utf-8")
    text = text.replace('role = "role_nm"', 'position = "pos"')
    text = text.replace('[routing]\ndirectory = "employees"\n', f"[routing]\n{roles}")
    text += (
        f'\n[sources.departments]\nkind = "sql"\nurl = "sqlite:///{city}"\n'
        'dataset = "departments"\ntable = "dept"\n\n'
        '[sources.departments.columns]\ndepartment = "dept_nm"\nhead_id = "head_emp_no"\n'
    )
    config.write_text(text, encoding="utf-8")
    return config


DERIVED = '[routing.roles]\nmanagers = { heads = true }\nauditors = { department = "감사실" }\n'


def test_an_alert_reaches_the_derived_manager_and_audit_office(tmp_path: Path) -> None:
    config = _city_without_roles(tmp_path, DERIVED)
    summary = run(config)
    assert sum(summary.new_alerts.values()) == 1
    rows = query(
        config,
        "SELECT d.recipient FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
        "ORDER BY d.recipient",
    )
    assert [r[0] for r in rows] == ["E001", "E010", "E030"]
    # The stored copy (web inbox, command line) holds the derived roles.
    assert query(config, "SELECT employee_id, role FROM officials ORDER BY employee_id") == [
        ("E001", "담당자"),
        ("E010", "부서관리자"),
        ("E030", "감사자"),
    ]


def test_check_and_status_warn_until_roles_are_derived(tmp_path: Path) -> None:
    config = _city_without_roles(tmp_path, "")
    first = run_cli("check", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "warning: the officials directory has not been read yet" in first.stdout
    assert not (tmp_path / "var" / "naebu.sqlite").exists()  # check made no store

    summary = run(config)
    assert sum(summary.new_alerts.values()) == 1
    checked = run_cli("check", "--config", str(config), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    out = checked.stdout
    assert out.startswith("OK:")
    assert "warning: control failure: there is no 감사자, so in 2 department(s)" in out
    assert "(PAY-BIG)" in out
    assert "2 of 2 department(s) with officials have no active 부서관리자" in out
    assert "warning: no active 감사자" in out

    status = run_cli("status", "--config", str(config), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "warning: no active 감사자" in status.stdout
    as_json = run_cli("status", "--format", "json", "--config", str(config), cwd=tmp_path)
    warnings = json.loads(as_json.stdout)["reach_warnings"]
    assert any(w.startswith("control failure") for w in warnings)

    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[routing]\n", "[routing]\n" + DERIVED), encoding="utf-8")
    fixed = run_cli("check", "--config", str(config), cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    # Left: the audit office's own records have no manager (its one official is its 감사자).
    warned = [line for line in fixed.stdout.splitlines() if line.startswith("warning:")]
    assert warned == [
        "warning: 1 of 2 department(s) with officials have no active 부서관리자, so their "
        "alerts reach no manager: 감사실 - give the directory a role column, or derive it: "
        '[routing.roles] managers = { position = ["과장"] } (docs/alerts.md)'
    ]


def test_roles_config_naming_unknown_people_or_missing_heads_is_reported() -> None:
    rules = _rules({"managers": {"position": "과장", "heads": True}, "auditors": ["E031", "E777"]})
    routing = RoutingConfig(roles=rules)
    without_heads = departments().drop(columns=["head_id"])
    d = Directory.from_frame(hr_export(), routing=routing, departments=without_heads)
    lines = reach_warnings(d, _pack(), routing)
    assert "routing.roles.auditors.employees: not in the directory: E777" in lines[-2]
    assert lines[-1].startswith("routing.roles.managers.heads = true, but the departments")

    moved = departments()
    moved.loc[moved["department"] == "회계과", "head_id"] = "E011"  # listed in 세무과
    d = Directory.from_frame(hr_export(), routing=routing, departments=moved)
    assert (
        "departments: the head of 회계과 (E011) is listed in 세무과, and manages that "
        "department's alerts" in reach_warnings(d, _pack(), routing)
    )


def test_check_warns_when_no_source_feeds_the_directory(tmp_path: Path) -> None:
    """A config whose sources leave out the HR export routes every alert to nobody: `check`
    says so before any run (not "the directory has not been read yet", which would wait for
    a directory that never comes)."""
    (tmp_path / "drop").mkdir()
    (tmp_path / "config.toml").write_text(
        '[store]\nurl = "sqlite:///var/naebu.sqlite"\n\n[rules]\npaths = []\n\n'
        '[sources.payments]\nkind = "files"\ndataset = "payments"\npath = "drop"\n'
        'pattern = "*.csv"\n',
        encoding="utf-8",
    )
    checked = run_cli("check", "--config", "config.toml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert (
        "warning: control failure: no source feeds the officials directory (dataset employees)"
        in checked.stdout
    ), checked.stdout
    assert "has not been read yet" not in checked.stdout
