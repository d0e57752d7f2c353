"""Each audit office hears of its own organisation's alerts (the department tree).

One naebu serving two local governments (한빛시 and 가람시, named as the demo's province
names them) in one directory: a high alert, an overdue escalation and an answer awaiting
review reach the auditors of the alert's organisation only. Where the tree cannot tell (no
departments data, an unknown department, an auditor without a parent, a loop in the
parents) every auditor is told, as before. Real stores, the real pipeline; no mocks.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from minicity import config_of, create_payments, make_city, payment, query, run
from servers import finding, sample_rules
from sqlalchemy import Engine, select
from test_lifecycle import cycle

from naebu.alerts import Directory
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import act
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.orgchart import MAX_DEPTH, OrgChart
from naebu.alerts.routing_settings import RoutingConfig
from naebu.daemon.service import Daemon
from naebu.demo.people import AUDIT, TOP, build_city, unit
from naebu.store import tables as store

T0 = datetime(2025, 3, 10, 9, 0)  # Monday; R-PAY-DUP gives 3 business days: due Thu 13th
HANBIT, GARAM = 0, 1


def officials_frame() -> pd.DataFrame:
    """Two local governments' officials: per city a 재무과 with its manager, a 세무과 without
    one, and the 감사실 (two auditors in 한빛시, one in 가람시)."""
    rows = []
    for city, prefix in ((HANBIT, "E"), (GARAM, "G")):
        rows += [
            (f"{prefix}001", "담당", unit(city, "재무과"), "주무관", "담당자", f"{prefix}010"),
            (f"{prefix}010", "과장", unit(city, "재무과"), "과장", "부서관리자", None),
            (f"{prefix}020", "세무", unit(city, "세무과"), "주무관", "담당자", None),
            (f"{prefix}030", "감사", unit(city, "감사실"), "감사관", "감사자", None),
        ]
    rows.append(
        (
            "E031",
            "감사2",
            unit(HANBIT, "감사실"),
            "주무관",
            "감사자",
            "E030",
        )
    )
    cols = ["employee_id", "name", "department", "position", "role", "supervisor_id"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["active"] = True
    return frame


def tree() -> dict[str, str | None]:
    """Each city: 재무과 and 세무과 under 행정국 under the deputy mayor; 감사실 under him."""
    parents: dict[str, str | None] = {}
    for city in (HANBIT, GARAM):
        parents[unit(city, "재무과")] = unit(city, "행정국")
        parents[unit(city, "세무과")] = unit(city, "행정국")
        parents[unit(city, "행정국")] = unit(city, TOP)
        parents[unit(city, "감사실")] = unit(city, TOP)
    return parents


def tree_with(changes: dict[str, str | None]) -> dict[str, str | None]:
    """:func:`tree` with some departments' parents changed (or added)."""
    return {**tree(), **changes}


def directory(departments: object = None, audit_department: str | None = None) -> Directory:
    """The two cities' directory with the tree ``departments`` (default: :func:`tree`)."""
    return Directory.from_frame(
        officials_frame(),
        routing=RoutingConfig(audit_department=audit_department),
        departments=tree() if departments is None else departments,  # type: ignore[arg-type]
    )


def told(directory: Directory, department: str | None) -> list[str]:
    return [o.employee_id for o in directory.audit_office(department)]


HANBIT_AUDIT, GARAM_AUDIT, EVERYONE = ["E030", "E031"], ["G030"], ["E030", "E031", "G030"]


# -- the directory -----------------------------------------------------------------------------


def test_each_audit_office_is_told_of_its_own_organisation() -> None:
    d = directory()
    assert told(d, "재무과") == told(d, "행정국") == told(d, "감사실") == HANBIT_AUDIT
    assert told(d, "가람시 재무과") == told(d, "가람시 세무과") == GARAM_AUDIT
    # raise-time notifications go the same way
    assert d.recipients(["official", "audit"], "G001", "가람시 재무과") == {
        "G001": ["official"],
        "G030": ["audit"],
    }
    # a notice about no department (a suppression, a rule change): every auditor
    assert told(d, None) == EVERYONE


def test_the_demo_province_tree() -> None:
    city = build_city(42, cities=3)
    d = Directory.from_frame(city.employees, routing=RoutingConfig(), departments=city.departments)
    e = city.employees
    auditors = e[(e["role"] == "감사자") & e["active"].astype(bool)]
    by_city = {
        c: sorted(auditors.loc[auditors["department"] == unit(c, AUDIT), "employee_id"])
        for c in range(3)
    }
    assert all(by_city.values()) and len(set(map(tuple, by_city.values()))) == 3
    # `가람시 기획예산과` -> `가람시 기획조정실` -> `가람시 부시장`: 가람시's audit office
    for department in city.departments["department"]:
        assert told(d, department) == by_city[city.city_of[department]], department


@pytest.mark.parametrize(
    ("departments", "department"),
    [
        ({}, "가람시 재무과"),  # no departments data at all
        (pd.DataFrame(), "가람시 재무과"),  # an empty departments frame
        (None, "가람시 청소과"),  # a department the table does not know
        (None, None),  # an alert without a department
        (None, ""),
    ],
)
def test_what_the_tree_cannot_tell_goes_to_every_auditor(
    departments: object, department: str | None
) -> None:
    assert told(directory(departments), department) == EVERYONE


def test_auditors_of_no_known_scope_hear_of_what_no_office_covers() -> None:
    # 가람시's 감사실 has no parent: its auditor's scope is unknown. 한빛시's alerts still go
    # to 한빛시 alone; 가람시's (no office's scope holds them) to the auditor of no scope.
    d = directory(tree_with({"가람시 감사실": None}))
    assert told(d, "재무과") == HANBIT_AUDIT
    assert told(d, "가람시 재무과") == GARAM_AUDIT
    # Nobody's scope and nobody without one: everyone rather than nobody. (Here 가람시's
    # auditor sits under a bureau (행정국): the deputy mayor's other departments are no
    # office's.)
    d = directory(tree_with({"가람시 감사실": "가람시 행정국"}))
    assert told(d, "가람시 재무과") == GARAM_AUDIT
    d = directory(
        tree_with({"가람시 감사실": "가람시 기획조정실", "가람시 기획조정실": "가람시 부시장"})
    )
    assert told(d, "가람시 재무과") == EVERYONE
    assert told(d, "재무과") == HANBIT_AUDIT


def test_a_loop_in_the_parents_ends_and_tells_everyone() -> None:
    loop = tree_with({"가람시 행정국": "가람시 재무과"})  # 재무과 -> 행정국 -> 재무과 ...
    chain = {f"D{i}": f"D{i + 1}" for i in range(MAX_DEPTH + 5)}  # too deep to be real
    results: dict[str, list[str]] = {}

    def ask() -> None:
        results["loop"] = told(directory(loop), "가람시 재무과")
        results["chain"] = told(directory(tree_with(chain)), "D0")
        results["self"] = told(
            directory(tree_with({"가람시 감사실": "가람시 감사실"})), "가람시 재무과"
        )

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the walk up the department tree did not end"
    assert results["loop"] == results["chain"] == EVERYONE
    # A department that is its own parent is a top (some HR systems mark roots so): the
    # auditor's scope is unknown, and 가람시's alerts go to the auditor of no scope.
    assert results["self"] == GARAM_AUDIT
    assert OrgChart(loop).line("가람시 재무과") is None
    assert OrgChart(loop).line("재무과") == {"재무과", "행정국", "부시장"}


def test_the_audit_department_still_restricts() -> None:
    assert told(directory(audit_department="감사실"), "재무과") == HANBIT_AUDIT
    # 가람시's alert, with only 한빛시's 감사실 configured: still someone, never nobody
    assert told(directory(audit_department="감사실"), "가람시 재무과") == HANBIT_AUDIT
    assert told(directory(audit_department="가람시 감사실"), "가람시 재무과") == GARAM_AUDIT
    assert told(directory(audit_department="가람시 감사실"), None) == GARAM_AUDIT
    # the routing set later is honoured: the cache is per audit_department
    d = directory()
    assert told(d, "재무과") == HANBIT_AUDIT
    d.routing = RoutingConfig(audit_department="가람시 감사실")
    assert told(d, "재무과") == GARAM_AUDIT


def test_returned_lists_are_the_callers_own() -> None:
    d = directory()
    office = d.audit_office("가람시 재무과")
    office.clear()
    assert told(d, "가람시 재무과") == GARAM_AUDIT


# -- notifications and escalations -------------------------------------------------------------


def _deliveries(engine: Engine) -> dict[tuple[int, str], list[str]]:
    """(alert id, kind) -> recipients, from the deliveries ledger."""
    out: dict[tuple[int, str], list[str]] = {}
    d = store.deliveries.c
    with engine.connect() as conn:
        for r in conn.execute(select(d.alert_id, d.kind, d.recipient).order_by(d.recipient)):
            out.setdefault((r.alert_id, r.kind), []).append(r.recipient)
    return out


def test_raised_escalated_and_answered_alerts_reach_their_own_auditors(engine: Engine) -> None:
    d = directory()
    notify = NotifyConfig(outbox_file=None)
    findings = [
        finding("P-1", department="재무과", official_id="E001"),
        finding("P-2", department="가람시 재무과", official_id="G001"),
        # 가람시 세무과 has no manager: its overdue alert goes to 가람시's audit office
        finding("P-3", department="가람시 세무과", official_id="G020"),
    ]
    cycle(engine, d, notify, sample_rules(), findings, T0)
    sent = _deliveries(engine)
    assert sent[(1, "new")] == ["E001", "E010", *HANBIT_AUDIT]
    assert sent[(2, "new")] == ["G001", "G010", *GARAM_AUDIT]
    assert sent[(3, "new")] == ["G020", *GARAM_AUDIT]

    # due Thu 13th: the managers on Fri 14th (the audit office where there is none) ...
    cycle(engine, d, notify, sample_rules(), [], datetime(2025, 3, 14, 9))
    sent = _deliveries(engine)
    assert sent[(1, "escalate_manager")] == ["E010"]
    assert sent[(2, "escalate_manager")] == ["G010"]
    assert sent[(3, "escalate_manager")] == GARAM_AUDIT
    # ... and three business days later the audit office
    cycle(engine, d, notify, sample_rules(), [], datetime(2025, 3, 20, 9))
    sent = _deliveries(engine)
    assert sent[(1, "escalate_audit")] == HANBIT_AUDIT
    assert sent[(2, "escalate_audit")] == GARAM_AUDIT
    assert sent[(3, "escalate_audit")] == GARAM_AUDIT

    # an answer awaiting review: 가람시's audit office
    with engine.begin() as conn:
        act(conn, 2, "explain", "G001", "정상 지급", now=datetime(2025, 3, 20, 10), directory=d)
    remind_and_escalate(engine, d, notify, now=datetime(2025, 3, 20, 11))
    assert _deliveries(engine)[(2, "answered")] == GARAM_AUDIT


# -- a whole run -------------------------------------------------------------------------------


def test_a_run_routes_with_the_departments_source(tmp_path: Path) -> None:
    config = make_city(tmp_path)
    with sqlite3.connect(tmp_path / "city.sqlite") as db:
        db.executemany(
            "INSERT INTO emp VALUES (?, ?, ?, ?, ?)",
            [
                ("G001", "가담당", "가람시 재무과", "담당자", None),
                ("G030", "가감사", "가람시 감사실", "감사자", None),
            ],
        )
        db.execute("CREATE TABLE dept (dept_nm TEXT, up_dept_nm TEXT)")
        db.executemany("INSERT INTO dept VALUES (?, ?)", list(tree().items()))
    garam = ("P-00002", "가람시 재무과", "G001", 5_000_000, "2025-06-02", "2025-06-10 10:00:00")
    create_payments(f"sqlite:///{tmp_path / 'city.sqlite'}", [payment(1, 5_000_000), garam])
    with config.open("a", encoding="utf-8") as f:
        f.write(
            f'\n[sources.departments]\nkind = "sql"\nurl = "sqlite:///{tmp_path / "city.sqlite"}"\n'
            'dataset = "departments"\ntable = "dept"\n\n'
            '[sources.departments.columns]\ndepartment = "dept_nm"\nparent = "up_dept_nm"\n'
        )
    summary = run(config)
    assert sum(summary.new_alerts.values()) == 2
    rows = query(
        config,
        "SELECT a.record_key, d.recipient FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
        "ORDER BY a.record_key, d.recipient",
    )
    assert rows == [
        ("P-00001", "E001"),
        ("P-00001", "E010"),
        ("P-00001", "E030"),
        ("P-00002", "G001"),
        ("P-00002", "G030"),
    ]

    # The daemon's follow-up job (its clock is today's: both alerts are long overdue) builds
    # its directory from the record history the same way.
    daemon = Daemon(config_of(config))
    try:
        daemon.reminders_job()
    finally:
        daemon.engine.dispose()
    rows = query(
        config,
        "SELECT a.record_key, f.kind, f.recipients FROM followups f JOIN alerts a "
        "ON a.id = f.alert_id ORDER BY 1, 2",
    )
    assert [(key, kind, json.loads(str(who))) for key, kind, who in rows] == [
        ("P-00001", "escalate_audit", ["E030"]),
        ("P-00001", "escalate_manager", ["E010"]),
        ("P-00002", "escalate_audit", ["G030"]),
        ("P-00002", "escalate_manager", ["G030"]),  # 가람시 재무과 has no manager
    ]
