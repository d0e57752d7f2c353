"""Checking, previewing and saving a suppression (naebu.alerts.suppression_check and
suppression_preview), below both ``naebu suppress add`` and the inbox:

- every field that is wrong is refused with a Korean and English message naming the field,
  with a hint;
- the preview (:func:`would_hide`) is what saving hides, nothing more: open alerts of the rule
  whose record (every record of a case) the suppression covers; answered ones stay;
- the hidden alerts stay hidden when the run sees their findings again, and come back when the
  suppression is removed - the run and the preview agree on what is covered;
- the trail verifies and the scorecard's tallies stay exact;
- ``naebu suppress add --dry-run`` lists what ``naebu suppress add`` then hides, saving nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from servers import employees_frame, finding, sample_rules
from sqlalchemy import Engine, func, select
from test_cli_alerts import RULE

from naebu.alerts import Directory, raise_alerts
from naebu.alerts import tallies as tally
from naebu.alerts.lifecycle import act
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.suppression_check import (
    FieldError,
    SuppressionForm,
    SuppressionRequest,
    check,
)
from naebu.alerts.suppression_preview import (
    PreviewChanged,
    describe,
    save,
    token,
    would_hide,
)
from naebu.alerts.suppressions import remove_suppression
from naebu.alerts.trail import entries, verify
from naebu.engine.findings import Finding
from naebu.store import tables as store

NOW = datetime(2025, 3, 10, 10, 0)
GOOD = {"rule": "R-PAY-DUP", "reason": "연간 단가계약", "until": "2025-06-30"}


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame(), routing=RoutingConfig())


def _check(directory: Directory, author: str = "E030", **fields: str) -> SuppressionRequest:
    form = SuppressionForm(**{**GOOD, **fields})
    return check(form, rules=sample_rules(), author=author, now=NOW, directory=directory)


@pytest.mark.parametrize(
    ("fields", "field", "ko", "en"),
    [
        ({"rule": ""}, "rule", "규칙: 규칙을 지정하지 않았습니다 - ", "rule: no rule given"),
        (
            {"rule": "R-PAY-DPU", "record_key": "P-1"},
            "rule",
            "규칙: 알 수 없는 규칙 'R-PAY-DPU' - 비슷한 이름: 'R-PAY-DUP'",
            "unknown rule 'R-PAY-DPU' - did you mean 'R-PAY-DUP'?",
        ),
        ({}, "target", "대상: 기록 키 하나, 또는 컬럼과 값을 지정하십시오 - 예:", "give either"),
        (
            {"record_key": "P-1", "column": "vendor_id", "value": "V-1"},
            "target",
            "대상: 기록 키와 컬럼·값을 함께 지정할 수 없습니다",
            "not both",
        ),
        ({"value": "V-1"}, "column", "컬럼: 값 'V-1'을(를) 비교할 컬럼이 없습니다", "no column"),
        (
            {"column": "vendor_id"},
            "value",
            "값: 컬럼 'vendor_id'의 값이 없습니다 - 예:",
            "no value",
        ),
        (
            {"column": "vendr_id", "value": "V-1"},
            "column",
            "컬럼: 'vendr_id'은(는) 지출(payments) 자료의 컬럼이 아닙니다 (규칙 R-PAY-DUP) - "
            "비슷한 이름: 'vendor_id'",
            "'vendr_id' is not a column of payments",
        ),
        (
            {"record_key": "P-1", "reason": "  "},
            "reason",
            "사유: 예외 처리에는 사유가 필요합니다",
            "needs a reason",
        ),
        (
            {"record_key": "P-1", "reason_code": "bogus"},
            "reason_code",
            "사유 코드: 알 수 없는 사유 코드 'bogus'",
            "unknown reason code",
        ),
        (
            {"record_key": "P-1", "until": ""},
            "until",
            "만료일: 만료일이 없습니다 - YYYY-MM-DD",
            "no expiry",
        ),
        (
            {"record_key": "P-1", "until": "2025-13-45"},
            "until",
            "만료일: '2025-13-45'은(는) 날짜가 아닙니다 - YYYY-MM-DD",
            "is not a date",
        ),
        (
            {"record_key": "P-1", "until": "2025-03-01"},
            "until",
            "만료일: 만료일은 현재 시각 이후여야 합니다 - 2025-03-10 이후의 날짜를 입력하십시오",
            "in the future",
        ),
    ],
)
def test_each_wrong_field_is_named_with_a_hint(
    directory: Directory, fields: dict[str, str], field: str, ko: str, en: str
) -> None:
    with pytest.raises(FieldError) as caught:
        _check(directory, **fields)
    assert caught.value.field == field
    assert caught.value.ko.startswith(ko), caught.value.ko
    assert " - " in caught.value.ko  # the hint
    assert en in caught.value.en


def test_the_author_must_be_an_auditor_or_a_manager(directory: Directory) -> None:
    with pytest.raises(FieldError) as caught:
        _check(directory, author="E001", record_key="P-1")
    assert caught.value.field == "author"
    assert caught.value.ko.startswith("등록자: 경보 예외 처리는 감사자 또는 부서관리자만")
    with pytest.raises(FieldError, match="담당자 명부에 없습니다"):
        _check(directory, author="E777", record_key="P-1")


def test_a_good_form_is_a_request(directory: Directory) -> None:
    req = _check(directory, column=" vendor_id ", value="V-77 ", reason_code="정상 업무")
    assert (req.rule_id, req.column, req.value, req.reason_code) == (
        "R-PAY-DUP", "vendor_id", "V-77", "normal_business",
    )  # fmt: skip
    assert req.expires_at == datetime(2025, 6, 30, 23, 59, 59)
    assert SuppressionForm.from_where("vendor_id=V=1").value == "V=1"
    assert SuppressionForm.from_where("vendor_id").value == ""


def _statuses(engine: Engine) -> dict[str, tuple[int, str, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.alerts).order_by(store.alerts.c.id))
        return {r.record_key: (r.id, r.status, r.suppression_id) for r in rows}


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        trail = conn.execute(select(func.count()).select_from(store.audit_trail)).scalar_one()
        supp = conn.execute(select(func.count()).select_from(store.suppressions)).scalar_one()
    return int(trail), int(supp)


def _city(engine: Engine, directory: Directory) -> list[Finding]:
    """Five alerts of R-PAY-DUP: three open of vendor V-77 (raised, acknowledged, rejected), one
    answered of V-77, one open of V-12; and one of another rule."""
    findings = [
        finding("P-1"),
        finding("P-2"),
        finding("P-3", department="세무과", official_id="E040"),
        finding("P-4"),
        finding("P-5", evidence={"amount": 3300000, "vendor_id": "V-12"}),
        finding("K-1", rule_id="R-CON-SPLIT", evidence={"vendor_id": "V-77"}),
    ]
    with engine.begin() as conn:
        raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=NOW)
    ids = {k: v[0] for k, v in _statuses(engine).items()}
    with engine.begin() as conn:
        act(conn, ids["P-2"], "ack", "E001", now=NOW, directory=directory)
        act(conn, ids["P-4"], "explain", "E001", "정상 지급", now=NOW, directory=directory)
        act(conn, ids["P-3"], "explain", "E040", "확인", now=NOW, directory=directory)
        act(conn, ids["P-3"], "reject", "E030", "근거 부족", now=NOW, directory=directory)
    return findings


def test_the_preview_is_what_saving_hides(engine: Engine, directory: Directory) -> None:
    findings = _city(engine, directory)
    req = _check(directory, column="vendor_id", value="V-77")
    before = _statuses(engine)
    counts = _counts(engine)
    with engine.connect() as conn:
        rows = would_hide(conn, req)
    assert [r["record_key"] for r in rows] == ["P-1", "P-2", "P-3"]
    assert _counts(engine) == counts and _statuses(engine) == before  # nothing saved

    with engine.begin() as conn:
        saved = save(conn, req, now=NOW, directory=directory, expect=token(rows))
    after = _statuses(engine)
    assert saved.hidden == [r["id"] for r in rows]
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"P-1", "P-2", "P-3"}
    assert all(after[k][1:] == ("suppressed", saved.suppression_id) for k in changed)
    with engine.connect() as conn:
        assert verify(conn).ok
        assert tally.stored(conn) == tally.computed(conn)
        steps = entries(conn, after["P-2"][0])
    assert (steps[-1]["action"], steps[-1]["actor"], steps[-1]["from_status"]) == (
        "suppress", "E030", "acknowledged",
    )  # fmt: skip
    assert steps[-1]["details"]["suppression_id"] == saved.suppression_id

    # The run sees the findings again: the hidden stay hidden, nothing is raised.
    with engine.begin() as conn:
        assert raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=NOW) == []
    assert _statuses(engine) == after
    # Removed: the next run raises them again, as any suppressed finding.
    with engine.begin() as conn:
        remove_suppression(conn, saved.suppression_id, actor="E030", reason="계약 종료", now=NOW,
                           directory=directory)  # fmt: skip
        raised = raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=NOW)
    assert sorted(raised) == sorted(saved.hidden)
    with engine.connect() as conn:
        assert verify(conn).ok and tally.stored(conn) == tally.computed(conn)


def test_saving_refuses_when_the_alerts_changed_since_the_preview(
    engine: Engine, directory: Directory
) -> None:
    _city(engine, directory)
    req = _check(directory, column="vendor_id", value="V-77")
    with engine.connect() as conn:
        previewed = token(would_hide(conn, req))
    with engine.begin() as conn:  # a run raises another alert of the vendor meanwhile
        raise_alerts(conn, [finding("P-9")], sample_rules(), directory, run_id=None, now=NOW)
    counts = _counts(engine)
    with pytest.raises(PreviewChanged) as caught, engine.begin() as conn:
        save(conn, req, now=NOW, directory=directory, expect=previewed)
    assert [r["record_key"] for r in caught.value.rows] == ["P-1", "P-2", "P-3", "P-9"]
    assert "미리보기 이후 숨겨질 경보가 바뀌었습니다 (이제 4건)" in caught.value.ko
    assert _counts(engine) == counts


def test_a_record_and_a_case(engine: Engine, directory: Directory) -> None:
    _city(engine, directory)
    with engine.connect() as conn:
        assert [r["record_key"] for r in would_hide(conn, _check(directory, record_key="P-2"))] == [
            "P-2"
        ]
        assert would_hide(conn, _check(directory, record_key="P-4")) == []

    def member(key: str, vendor: str) -> Finding:
        evidence = {"payment_id": key, "vendor_id": vendor, "amount": 700000}
        return Finding("R-PAY-DUP", "payments", key, "high", "중복", "재무과", "E001",
                       None, evidence, case_key=f"dup|{key[:3]}")  # fmt: skip

    case_all = [member("C1-1", "V-5"), member("C1-2", "V-5")]
    case_mixed = [member("C2-1", "V-5"), member("C2-2", "V-6")]
    with engine.begin() as conn:
        raise_alerts(conn, case_all + case_mixed, sample_rules(), directory, run_id=None, now=NOW)
    req = _check(directory, column="vendor_id", value="V-5")
    with engine.connect() as conn:
        rows = would_hide(conn, req)
    assert [r["record_key"] for r in rows] == ["C1-1"]  # every record of it: only the first case
    with engine.begin() as conn:
        save(conn, req, now=NOW, directory=directory)
        # the run agrees: the hidden case stays hidden, the mixed one stays raised
        assert raise_alerts(conn, case_all + case_mixed, sample_rules(), directory,
                            run_id=None, now=NOW) == []  # fmt: skip
    statuses = _statuses(engine)
    assert statuses["C1-1"][1] == "suppressed" and statuses["C2-1"][1] == "raised"
    # a record's suppression does not cover a case of two records
    with engine.connect() as conn:
        assert would_hide(conn, _check(directory, record_key="C2-1")) == []


def test_the_hidden_alerts_read_as_officials_read_them(
    engine: Engine, directory: Directory
) -> None:
    _city(engine, directory)
    with engine.connect() as conn:
        rows = would_hide(conn, _check(directory, column="vendor_id", value="V-77"))
    rows[0]["evidence"] = {**rows[0]["evidence"], "odd_column": 5, "paid_on": None}
    items = describe(rows, language="ko", directory=directory, rules=sample_rules(), mask=True)
    line = items[0].line()
    assert line.startswith(f"#{rows[0]['id']} ")
    assert "지출 P-1" in line and "재무과 김민수" in line and "발생" in line
    assert "지급액 1,250,000원" in line and "거래처 코드 V-77" in line
    for raw in ("amount", "vendor_id", "odd", "None", "1250000", "없음"):
        assert raw not in line, raw
    en = describe(rows, language="en", directory=directory, rules=sample_rules(), mask=True)
    assert "KRW 1,250,000" in en[0].line() and "raised" in en[0].line()


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, directory: Directory) -> Path:
    write_config(tmp_path, '[store]\nurl = "sqlite:///store.sqlite"\n')
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "payments.toml").write_text(RULE, encoding="utf-8")
    engine = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    with engine.begin() as conn:
        sync_officials(conn, directory, now=NOW)
    try:
        _city(engine, directory)
    finally:
        engine.dispose()
    return tmp_path


def test_dry_run_lists_what_add_then_hides(workdir: Path) -> None:
    args = ["suppress", "add", "--rule", "R-PAY-DUP", "--where", "vendor_id=V-77",
            "--reason", "연간 단가계약", "--until", "2025-06-30", "--as", "E030",
            "--now", "2025-03-10T10:00"]  # fmt: skip
    engine = store.connect("sqlite:///" + str(workdir / "store.sqlite"))
    try:
        before, counts = _statuses(engine), _counts(engine)
        dry = run_cli(*args, "--dry-run", cwd=workdir)
        assert dry.returncode == 0, dry.stderr
        assert "처리 중인 경보 3건을 숨깁니다" in dry.stdout and "nothing saved" in dry.stdout
        assert "지급액 1,250,000원" in dry.stdout and "김민수" in dry.stdout
        listed = [int(n) for n in re.findall(r"^  #(\d+) ", dry.stdout, re.M)]
        assert _statuses(engine) == before and _counts(engine) == counts
        done = run_cli(*args, cwd=workdir)
        assert done.returncode == 0, done.stderr
        hidden = [int(n) for n in re.findall(r"#(\d+)", done.stdout.splitlines()[-1])]
        assert hidden == listed
        after = _statuses(engine)
        assert sorted(v[0] for v in after.values() if v[1] == "suppressed") == listed
    finally:
        engine.dispose()
