"""Alerts: raising with dedup, routing, business-day deadlines, masking and digests.

Real SQLite stores in tmp_path (and PostgreSQL when reachable); no mocks.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pytest
from servers import employees_frame, finding, mysql_engine, pg_engine, sample_rules
from sqlalchemy import Engine, func, select

from naebu.alerts import (
    NO_ADDRESS,
    OUTBOX_FILE_CHANNEL,
    Directory,
    add_business_days,
    fill_url,
    is_business_day,
    mask_account,
    mask_text,
    mask_value,
    queue_digests,
    raise_alerts,
)
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.raising import _row
from naebu.alerts.storing import insert_ignoring_duplicates as _insert_ignoring_duplicates
from naebu.store import tables as store

NOW = datetime(2025, 1, 24, 9, 30)  # a Friday, before the 2025 설날 holidays


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame())


def _alerts(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.alerts).order_by(store.alerts.c.id))
        return [dict(r._mapping) for r in rows]


# -- raising and dedup -----------------------------------------------------------------------


def check_dedup(engine: Engine, directory: Directory) -> None:
    rules = sample_rules()
    first = [finding("P-1"), finding("P-2"), finding("P-1")]  # P-1 twice in one call
    with engine.begin() as conn:
        ids = raise_alerts(conn, first, rules, directory, run_id=None, now=NOW)
    assert len(ids) == 2

    second = [finding("P-2"), finding("P-3"), finding("P-3"), finding("P-1")]
    with engine.begin() as conn:
        ids2 = raise_alerts(conn, second, rules, directory, run_id=None, now=NOW)
    assert len(ids2) == 1
    assert not set(ids) & set(ids2)

    rows = _alerts(engine)
    assert [r["record_key"] for r in rows] == ["P-1", "P-2", "P-3"]
    assert len({r["fingerprint"] for r in rows}) == 3
    assert all(r["status"] == "raised" for r in rows)

    # Same rule and record: the same finding, even with a new message.
    with engine.begin() as conn:
        again = raise_alerts(
            conn, [finding("P-1", message="다른 문구")], rules, directory, run_id=None, now=NOW
        )
    assert again == []


def test_dedup_across_calls_and_within_one(engine: Engine, directory: Directory) -> None:
    check_dedup(engine, directory)


def test_dedup_on_postgresql(directory: Directory) -> None:
    with pg_engine() as engine:
        check_dedup(engine, directory)
        # Many findings at once: the pre-select runs in chunks.
        many = [finding(f"BULK-{i:04d}") for i in range(1200)]
        with engine.begin() as conn:
            ids = raise_alerts(conn, many, sample_rules(), directory, run_id=None, now=NOW)
        assert len(ids) == 1200
        with engine.begin() as conn:
            ids = raise_alerts(conn, many, sample_rules(), directory, run_id=None, now=NOW)
        assert ids == []


def test_dedup_on_mysql(directory: Directory) -> None:
    # No ON CONFLICT there: the unique constraint is guarded by a savepoint per row.
    with mysql_engine() as engine:
        check_dedup(engine, directory)


def check_last_guard(engine: Engine, directory: Directory) -> None:
    """A fingerprint stored by another writer after the pre-select is skipped, not an error."""
    rules = sample_rules()
    with engine.begin() as conn:
        raise_alerts(conn, [finding("P-1")], rules, directory, run_id=None, now=NOW)
    rows = [_row(finding(k), rules["R-PAY-DUP"], directory, None, NOW) for k in ("P-1", "P-5")]
    with engine.begin() as conn:
        inserted = _insert_ignoring_duplicates(conn, rows)
        assert list(inserted) == [finding("P-5").fingerprint]
        # The caller's transaction is still usable (PostgreSQL aborts it on a failed INSERT).
        assert conn.execute(select(func.count()).select_from(store.alerts)).scalar() == 2
    assert [r["record_key"] for r in _alerts(engine)] == ["P-1", "P-5"]


def test_unique_constraint_is_the_last_guard(engine: Engine, directory: Directory) -> None:
    check_last_guard(engine, directory)


def test_unique_constraint_is_the_last_guard_on_postgresql(directory: Directory) -> None:
    with pg_engine() as engine:
        check_last_guard(engine, directory)


def test_unique_constraint_is_the_last_guard_on_mysql(directory: Directory) -> None:
    with mysql_engine() as engine:
        check_last_guard(engine, directory)


def test_raise_alerts_does_not_commit(engine: Engine, directory: Directory) -> None:
    with engine.connect() as conn:
        trans = conn.begin()
        ids = raise_alerts(conn, [finding("P-9")], sample_rules(), directory, run_id=None, now=NOW)
        assert ids
        trans.rollback()
    assert _alerts(engine) == []


def test_stored_alert_fields(engine: Engine, directory: Directory) -> None:
    evidence = {"amount": 1250000.0, "paid_on": date(2025, 1, 20), "payee_account": None}
    with engine.begin() as conn:
        run_id = conn.execute(
            store.runs.insert().values(started_at=NOW, status="running").returning(store.runs.c.id)
        ).scalar_one()
        raise_alerts(
            conn,
            [finding("P-1", evidence=evidence)],
            sample_rules(),
            directory,
            run_id=run_id,
            now=NOW,
        )
    (row,) = _alerts(engine)
    assert row["title"] == "동일 거래처 중복 지급 의심"
    assert str(row["message"]).startswith("지출 P-1")
    assert row["severity"] == "high"
    assert row["assignee"] == "E001"
    assert row["department"] == "재무과"
    assert row["run_id"] == run_id
    assert row["created_at"] == NOW
    assert row["evidence"] == {"amount": 1250000.0, "paid_on": "2025-01-20", "payee_account": None}
    # 3 business days from Fri 2025-01-24 over 설날: 31 Jan, 3 Feb, 4 Feb.
    assert row["deadline"] == datetime(2025, 2, 4, 23, 59, 59)


def test_unknown_rule_is_refused_before_writing(engine: Engine, directory: Directory) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="R-NOPE"):
        raise_alerts(
            conn,
            [finding("P-1"), finding("P-2", rule_id="R-NOPE")],
            sample_rules(),
            directory,
            run_id=None,
            now=NOW,
        )
    assert _alerts(engine) == []


# -- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("department", "official", "expected"),
    [
        ("재무과", "E001", "E001"),  # the record's official, active
        ("재무과", "E002", "E010"),  # retired: their supervisor
        ("재무과", "E003", "E010"),  # retired, supervisor retired too: up the chain
        ("재무과", "E999", "E001"),  # unknown official: the department's first active 담당자
        ("재무과", None, "E001"),
        ("회계과", None, "E020"),  # no active 담당자: the 부서관리자
        ("회계과", "E021", "E020"),
        ("감사실", None, None),  # only a 감사자: nobody to route to
        ("총무과", None, None),  # unknown department
        (None, None, None),
        (None, "E002", "E010"),
    ],
)
def test_routing(
    directory: Directory, department: str | None, official: str | None, expected: str | None
) -> None:
    got = directory.assignee_for(department, official)
    assert (got.employee_id if got else None) == expected


def test_routing_follows_configured_roles() -> None:
    managers_first = Directory.from_frame(
        employees_frame(), fallback_roles=("부서관리자", "담당자")
    )
    got = managers_first.assignee_for("재무과", None)
    assert got is not None and got.employee_id == "E010"


def test_routing_survives_a_supervisor_loop() -> None:
    frame = employees_frame()
    frame.loc[frame["employee_id"] == "E010", ["supervisor_id", "active"]] = ["E003", False]
    got = Directory.from_frame(frame).assignee_for("재무과", "E003")
    assert got is not None and got.employee_id == "E001"  # loop broken: department fallback


def test_unassigned_alert_is_stored_and_reported(
    engine: Engine, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="alerts"), engine.begin() as conn:
        ids = raise_alerts(
            conn,
            [finding("P-7", department="총무과", official_id=None)],
            sample_rules(),
            directory,
            run_id=None,
            now=NOW,
        )
    assert len(ids) == 1
    (row,) = _alerts(engine)
    assert row["assignee"] is None and row["department"] == "총무과"
    assert "P-7" in caplog.text and "unassigned" in caplog.text


def test_routed_alerts_in_store(engine: Engine, directory: Directory) -> None:
    findings = [
        finding("A", official_id="E001"),
        finding("B", official_id="E002"),
        finding("C", department="회계과", official_id=None),
        finding("D", department=None, official_id="E003"),
    ]
    with engine.begin() as conn:
        raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=NOW)
    got = {r["record_key"]: (r["assignee"], r["department"]) for r in _alerts(engine)}
    assert got == {
        "A": ("E001", "재무과"),
        "B": ("E010", "재무과"),
        "C": ("E020", "회계과"),
        "D": ("E010", "재무과"),
    }


# -- business days ---------------------------------------------------------------------------


def test_business_days_over_seollal_2025() -> None:
    # 2025-01-27 (임시공휴일) and 28-30 (설날 연휴) are holidays; 25-26 a weekend.
    for day in (25, 26, 27, 28, 29, 30):
        assert not is_business_day(date(2025, 1, day)), day
    assert is_business_day(date(2025, 1, 24)) and is_business_day(date(2025, 1, 31))
    assert add_business_days(NOW, 1) == datetime(2025, 1, 31, 23, 59, 59)
    assert add_business_days(NOW, 2) == datetime(2025, 2, 3, 23, 59, 59)
    assert add_business_days(datetime(2025, 1, 23, 18, 0), 1) == datetime(2025, 1, 24, 23, 59, 59)
    assert add_business_days(datetime(2025, 1, 28, 10, 0), 1) == datetime(2025, 1, 31, 23, 59, 59)


def test_business_days_edges() -> None:
    assert add_business_days(NOW, 0) == datetime(2025, 1, 24, 23, 59, 59)
    # 10 business days from Fri 24 Jan: 31 Jan, 3-7 Feb, 10-13 Feb.
    assert add_business_days(NOW, 10) == datetime(2025, 2, 13, 23, 59, 59)
    # 삼일절 2025-03-01 is a Saturday: its substitute holiday is Monday 3 March.
    assert add_business_days(datetime(2025, 2, 28, 9, 0), 1) == datetime(2025, 3, 4, 23, 59, 59)


# -- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("900101-1234567", "900101-1******"),
        ("주민등록번호 900101-2234567 확인", "주민등록번호 900101-2****** 확인"),
        ("9001011234567", "900101-1******"),
        ("010-1234-5678", "010-****-5678"),
        ("01012345678", "010****5678"),
        ("02-123-4567", "02-***-4567"),
        ("031-987-6543", "031-***-6543"),
        ("110-123-456789", "***-***-**6789"),
        ("1002-123-456789", "****-***-**6789"),
        ("123456-01-234567", "******-**-**4567"),
        ("계좌번호: 1101234567890", "계좌번호: *********7890"),
        # Left alone: dates, amounts, ids and business registration numbers.
        ("2025-01-28", "2025-01-28"),
        ("1,250,000원", "1,250,000원"),
        ("C-2025-0001", "C-2025-0001"),
        ("123-45-67890", "123-45-67890"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_mask_by_field_name() -> None:
    assert mask_value("account_no", "1101234567890") == "*********7890"
    assert mask_value("payee_account", "110-123-456789") == "***-***-**6789"
    assert mask_value("amount", 1250000) == 1250000
    assert mask_value("phone", "010-1234-5678") == "010-****-5678"
    assert mask_value("memo", "연락처 010-1234-5678") == "연락처 010-****-5678"
    assert mask_account("1234") == "****"


# -- digests ---------------------------------------------------------------------------------


def _raise(engine: Engine, directory: Directory, findings: list[object]) -> list[int]:
    with engine.begin() as conn:
        return raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=NOW)  # type: ignore[arg-type]


def _outbox(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [
            dict(r._mapping) for r in conn.execute(select(store.outbox).order_by(store.outbox.c.id))
        ]


def test_one_digest_per_recipient_per_run(
    engine: Engine, directory: Directory, tmp_path: Path
) -> None:
    ids = _raise(
        engine,
        directory,
        [
            finding("P-1"),
            finding("P-2", official_id="E002"),  # -> E010
            finding("P-3"),
            finding("C-1", rule_id="R-CON-SPLIT", severity="low", official_id=None),  # -> E001
            finding("X-1", department="총무과", official_id=None),  # unassigned
        ],
    )
    notify = NotifyConfig(outbox_file=tmp_path / "outbox.jsonl")
    with engine.begin() as conn:
        n = queue_digests(conn, ids, directory, notify, run_id=None, now=NOW)
    assert n == 2
    rows = _outbox(engine)
    assert [(r["recipient"], r["channel"], r["status"]) for r in rows] == [
        ("E001", OUTBOX_FILE_CHANNEL, "pending"),
        ("E010", OUTBOX_FILE_CHANNEL, "pending"),
    ]
    kim = rows[0]
    assert kim["subject"] == "[내부통제] 확인이 필요한 경보 3건 (재무과)"
    body = str(kim["body"])
    assert body.startswith("김민수 주무관 님께,")
    for text in (
        "R-PAY-DUP",
        "동일 거래처 중복 지급 의심",
        "[높음]",
        "[낮음]",
        "수의계약 분할 의심",
        "대상: 지출 P-1",
        "처리 기한: 2025-02-04",  # 3 business days over 설날
        "처리 기한: 2025-02-13",  # 10 business days
        "지급액: 1,250,000원",
        "거래처 코드: V-77",
        "조치 또는 소명은 기한 내에 처리",
    ):
        assert text in body, text
    assert "P-2" not in body and "X-1" not in body

    with engine.connect() as conn:
        links = conn.execute(select(store.deliveries).order_by("alert_id")).all()
    assert sorted((d.alert_id, d.recipient) for d in links) == sorted(
        [(ids[0], "E001"), (ids[2], "E001"), (ids[3], "E001"), (ids[1], "E010")]
    )

    # Queued again (a retried run): nothing new.
    with engine.begin() as conn:
        assert queue_digests(conn, ids, directory, notify, run_id=None, now=NOW) == 0
    assert len(_outbox(engine)) == 2


def test_digest_is_masked(engine: Engine, directory: Directory) -> None:
    ids = _raise(
        engine,
        directory,
        [
            finding(
                "P-1",
                message="수취인 주민등록번호 900101-1234567, 연락처 010-1234-5678",
                evidence={"payee_account": "1101234567890", "memo": "계좌 110-123-456789"},
            )
        ],
    )
    with engine.begin() as conn:
        queue_digests(conn, ids, directory, NotifyConfig(), run_id=None, now=NOW)
    (row,) = _outbox(engine)
    body = str(row["body"])
    assert "900101-1******" in body and "1234567" not in body
    assert "010-****-5678" in body
    assert "채주 계좌번호: *********7890" in body
    assert "***-***-**6789" in body and "456789" not in body
    # The store keeps the full evidence for auditors.
    assert _alerts(engine)[0]["evidence"]["payee_account"] == "1101234567890"  # type: ignore[index]


def test_digest_in_english(engine: Engine, directory: Directory) -> None:
    ids = _raise(engine, directory, [finding("P-1"), finding("P-2")])
    with engine.begin() as conn:
        queue_digests(conn, ids, directory, NotifyConfig(language="en"), run_id=None, now=NOW)
    (row,) = _outbox(engine)
    assert row["subject"] == "[Internal control] 2 alerts to review (재무과)"
    assert "Deadline: Tue 2025-02-04, 11 days left" in str(row["body"]) and "[high]" in str(
        row["body"]
    )


def test_one_message_per_channel_and_no_address(engine: Engine, directory: Directory) -> None:
    ids = _raise(
        engine,
        directory,
        [finding("P-1"), finding("T-1", department="세무과", official_id="E040")],
    )
    secret_hook = "json://user:s3cret@127.0.0.1:9/hook"
    notify = NotifyConfig(
        channels=[
            ChannelConfig("mail", "mailto://127.0.0.1:25?from=naebu@demo.naebu.local&to={email}"),
            ChannelConfig("audit-hook", secret_hook),
        ]
    )
    with engine.begin() as conn:
        assert queue_digests(conn, ids, directory, notify, run_id=None, now=NOW) == 4
    got = [(r["recipient"], r["channel"], r["status"], r["last_error"]) for r in _outbox(engine)]
    assert got == [
        ("E001", "mail", "pending", None),
        ("E001", "audit-hook", "pending", None),
        ("E040", "mail", "failed", NO_ADDRESS),  # 윤서연 has no e-mail address
        ("E040", "audit-hook", "pending", None),
    ]
    # The channel's name is stored, never its (secret-bearing) URL.
    assert all("s3cret" not in str(r.values()) for r in _outbox(engine))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store.deliveries)).scalar() == 4


def test_fill_url_placeholders(directory: Directory) -> None:
    kim = directory.get("E001")
    assert fill_url("mailto://h?to={email}&x={name}", kim) == (
        "mailto://h?to=kim@demo.naebu.local&x=김민수"
    )
    assert fill_url("json://h/{employee_id}?a={unknown}", kim) == "json://h/E001?a={unknown}"
    assert fill_url("{notify_url}", kim) is None
    assert fill_url("json://shared/hook", None) == "json://shared/hook"
