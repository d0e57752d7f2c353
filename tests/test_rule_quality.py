"""Rule quality (issue 24, build point 2): reason codes on false positives and exclusions, an
exclusion re-opened when its record changes, and the per-rule, per-month figures of
:mod:`naebu.alerts.quality` as ``naebu rules quality`` and the inbox's rule catalog show them.

The figures are checked against what each test built: which alerts were raised in which
month, how they were answered and reviewed, which were excluded, the amounts in their records.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from servers import employees_frame, finding, sample_rules
from sqlalchemy import Engine, select

from naebu.alerts import Directory, raise_alerts
from naebu.alerts import reasons as reason_codes
from naebu.alerts.lifecycle import LifecycleError, act
from naebu.alerts.officials import sync_officials
from naebu.alerts.quality import Period, PeriodError, amount_of, rule_quality
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.suppressions import SuppressionError, add_suppression
from naebu.alerts.trail import entries, verify
from naebu.store import tables as store

MARCH = datetime(2025, 3, 10, 9, 0)
APRIL = datetime(2025, 4, 7, 9, 0)


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame(), routing=RoutingConfig())


def _ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.alerts.c.record_key, store.alerts.c.id))
        return {r.record_key: int(r.id) for r in rows}


def test_reason_codes_are_a_closed_list_read_as_codes_or_korean_labels() -> None:
    assert reason_codes.parse("정상 업무") == "normal_business"
    assert reason_codes.parse("정상업무") == "normal_business"
    assert reason_codes.parse("data_error") == "data_error"
    assert reason_codes.parse("규칙 기준 부적합") == "rule_unfit"
    assert reason_codes.parse(None) == reason_codes.parse(" ") == "other"
    with pytest.raises(reason_codes.ReasonError, match="알 수 없는 사유 코드 '귀찮음'"):
        reason_codes.parse("귀찮음")
    assert reason_codes.label("data_error") == "자료 오류"
    assert reason_codes.label(None) == "사유 미기재"  # never None in what officials read


def test_a_false_positive_answer_stores_its_reason_code(
    engine: Engine, directory: Directory
) -> None:
    with engine.begin() as conn:
        raise_alerts(
            conn, [finding("P-1"), finding("P-2")], sample_rules(), directory, run_id=None,
            now=MARCH,
        )  # fmt: skip
    ids = _ids(engine)
    later = MARCH + timedelta(hours=1)
    with engine.begin() as conn, pytest.raises(LifecycleError, match="알 수 없는 사유 코드"):
        act(
            conn,
            ids["P-1"],
            "false_positive",
            "E001",
            "중복 아님",
            now=later,
            reason="몰라요",
            directory=directory,
        )
    with engine.begin() as conn, pytest.raises(LifecycleError, match="오탐 처리"):
        act(
            conn,
            ids["P-1"],
            "explain",
            "E001",
            "정상",
            now=later,
            reason="data_error",
            directory=directory,
        )
    with engine.begin() as conn:
        act(
            conn,
            ids["P-1"],
            "false_positive",
            "E001",
            "중복 아님",
            now=later,
            reason="자료 오류",
            directory=directory,
        )
        act(
            conn,
            ids["P-2"],
            "correct",
            "E001",
            "환수함",
            now=later,
            recovered=250_000,
            directory=directory,
        )
    with engine.connect() as conn:
        a = store.alerts.c
        rows = {
            r.id: r
            for r in conn.execute(select(a.id, a.reason_code, a.recovered_amount, a.last_answer))
        }
        trail = entries(conn, ids["P-1"])
        assert verify(conn).ok
    assert (rows[ids["P-1"]].reason_code, rows[ids["P-1"]].recovered_amount) == ("data_error", None)
    assert (rows[ids["P-2"]].reason_code, rows[ids["P-2"]].recovered_amount) == (None, 250_000)
    assert trail[-1]["details"]["reason_code"] == "data_error"
    # a negative amount, or one with another answer, is refused
    with engine.begin() as conn, pytest.raises(LifecycleError, match="환수액"):
        act(conn, ids["P-2"], "accept", "E030", now=later, recovered=-1, directory=directory)


def test_an_exclusion_carries_a_reason_code(engine: Engine, directory: Directory) -> None:
    def add(code: str | None) -> int:
        with engine.begin() as conn:
            return add_suppression(
                conn, rule_id="R-PAY-DUP", reason="연간 단가계약", author="E030",
                expires_at=MARCH + timedelta(days=30), now=MARCH, record_key="P-9",
                directory=directory, reason_code=code,
            )  # fmt: skip

    with pytest.raises(SuppressionError, match="알 수 없는 사유 코드"):
        add("아무거나")
    first, second = add("정상 업무"), add(None)
    with engine.connect() as conn:
        s = store.suppressions.c
        codes = dict(conn.execute(select(s.id, s.reason_code)).all())
    assert codes == {first: "normal_business", second: "other"}


def test_an_excluded_record_is_reopened_when_it_changes(
    engine: Engine, directory: Directory
) -> None:
    with engine.begin() as conn:
        sid = add_suppression(
            conn, rule_id="R-PAY-DUP", reason="소송 중", author="E030",
            expires_at=MARCH + timedelta(days=365), now=MARCH, record_key="P-9",
            directory=directory, reason_code="rule_unfit",
        )  # fmt: skip

    def run(amount: int, now: datetime) -> list[int]:
        found = finding("P-9", evidence={"amount": amount, "vendor_id": "V-77"})
        with engine.begin() as conn:
            return raise_alerts(conn, [found], sample_rules(), directory, run_id=None, now=now)

    assert run(1_000_000, MARCH) == []
    assert run(1_000_000, MARCH + timedelta(days=1)) == []  # unchanged: still excluded
    (alert_id,) = run(1_400_000, MARCH + timedelta(days=2))  # edited: raised again
    assert run(1_400_000, MARCH + timedelta(days=3)) == []  # and only once
    with engine.connect() as conn:
        row = conn.execute(select(store.alerts).where(store.alerts.c.id == alert_id)).one()
        trail = entries(conn, alert_id)
        assert verify(conn).ok
    assert (row.status, row.suppression_id, row.evidence["amount"]) == ("raised", sid, 1_400_000)
    assert [e["action"] for e in trail] == ["suppress", "unsuppress"]
    assert trail[-1]["details"]["record_changed"] is True


def _history(engine: Engine, directory: Directory) -> dict[str, int]:
    """March: P-1..P-4 and a contract K-1; April: P-5, P-6 and an excluded P-9."""
    rules = sample_rules()

    def pay(key: str, amount: int) -> object:
        return finding(key, evidence={"amount": amount, "vendor_id": "V-1"})

    with engine.begin() as conn:
        march = [pay("P-1", 100), pay("P-2", 200), pay("P-3", 300), pay("P-4", 400)]
        march.append(finding("K-1", rule_id="R-CON-SPLIT", evidence={"amount": 5000}))
        raise_alerts(conn, march, rules, directory, run_id=None, now=MARCH)
        add_suppression(
            conn, rule_id="R-PAY-DUP", reason="단가계약", author="E030",
            expires_at=APRIL + timedelta(days=30), now=APRIL, record_key="P-9",
            directory=directory, reason_code="normal_business",
        )  # fmt: skip
        april = [pay("P-5", 1000), pay("P-6", 2000), pay("P-9", 9000)]
        raise_alerts(conn, april, rules, directory, run_id=None, now=APRIL)
    ids = _ids(engine)
    t = APRIL + timedelta(days=1)
    with engine.begin() as conn:
        act(
            conn,
            ids["P-1"],
            "correct",
            "E001",
            "반환 받음",
            now=t,
            recovered=100,
            directory=directory,
        )
        act(conn, ids["P-1"], "accept", "E030", now=t, directory=directory)
        act(
            conn,
            ids["P-2"],
            "false_positive",
            "E001",
            "정상",
            now=t,
            reason="normal_business",
            directory=directory,
        )
        act(conn, ids["P-2"], "accept", "E030", now=t, directory=directory)
        act(
            conn,
            ids["P-3"],
            "false_positive",
            "E001",
            "자료 오류",
            now=t,
            reason="data_error",
            directory=directory,
        )
        act(conn, ids["P-4"], "explain", "E001", "근거 있음", now=t, directory=directory)
        act(conn, ids["P-4"], "reject", "E030", "증빙 부족", now=t, directory=directory)
        act(
            conn,
            ids["P-5"],
            "false_positive",
            "E001",
            "정상",
            now=t,
            reason="normal_business",
            directory=directory,
        )
    return ids


def test_quality_per_rule_and_month(engine: Engine, directory: Directory) -> None:
    _check_quality(engine, _history(engine, directory))


@pytest.mark.parametrize("server", ["PostgreSQL", "MariaDB"])
def test_quality_and_the_report_on_server_databases(server: str, directory: Directory) -> None:
    """The month expressions and sums in each dialect; the ISO report's queries run there."""
    from services import mysql_url, pg_url, require_service
    from test_daemon_helpers import fresh_database

    from naebu.reports import iso37001

    server_url = pg_url() if server == "PostgreSQL" else mysql_url()
    require_service(server, server_url)
    with fresh_database(server_url, "naebu_quality") as url:
        engine = store.connect(url)
        try:
            with engine.begin() as conn:
                sync_officials(conn, directory, now=MARCH)
            _check_quality(engine, _history(engine, directory))
            with engine.connect() as conn:
                report = iso37001.collect(
                    conn, Period.parse("2025-03..2025-04"), rules=sample_rules(), states={},
                    names={}, city="한빛시", now=APRIL + timedelta(days=2),
                )  # fmt: skip
        finally:
            engine.dispose()
    kpis = {name: fig for name, fig, _ in report.kpis}
    assert kpis["발생 경보"].value == 7 and kpis["오탐률"].text == "60.0%"  # 3 of 5 answers
    assert report.reviews["accepted"].value == 2 and report.reviews["rejected"].value == 1
    assert report.corrective["closed"].value == 1 and report.corrective["recovered"].value == 100


def _check_quality(engine: Engine, ids: dict[str, int]) -> None:
    with engine.connect() as conn:
        report = rule_quality(conn, Period.parse("2025-03..2025-04"))
    march, april = report.by_month("R-PAY-DUP")
    assert (march.month, march.alerts, march.answered, march.confirmed) == ("2025-03", 4, 4, 2)
    assert (march.corrected, march.explained, march.false_positive) == (1, 1, 2)
    assert march.confirmed_corrected == 1
    assert march.fp_rate == 0.5
    assert march.fp_reasons == {"normal_business": 1, "data_error": 1}
    assert march.at_stake == 1000 and march.recovered == 100
    assert sorted(march.alert_ids) == sorted(ids[k] for k in ("P-1", "P-2", "P-3", "P-4"))
    assert (april.alerts, april.answered, april.false_positive, april.excluded) == (2, 1, 1, 1)
    assert (april.exclusions, april.exclusion_reasons) == (1, {"normal_business": 1})
    assert april.excluded_ids == [ids["P-9"]] and april.at_stake == 3000  # excluded not at stake
    assert april.recovered is None
    total = report.total("R-PAY-DUP")
    assert (total.alerts, total.answered, total.false_positive, total.excluded) == (6, 5, 3, 1)
    assert report.total().alerts == 7  # the contract rule's alert too
    # a period of April alone sees none of March
    with engine.connect() as conn:
        only = rule_quality(conn, Period.parse("2025-04"), ["R-PAY-DUP"])
    assert only.rules() == ["R-PAY-DUP"] and only.total().alerts == 2


def test_periods_and_amounts_of_cases() -> None:
    assert Period.parse("2025-11..2026-02").months == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert Period.last_months(datetime(2026, 2, 5), 3) == Period("2025-12", "2026-02")
    for bad in ("2025-13", "2025-04..2025-03", "2025", "2025-01..2025-02..2025-03"):
        with pytest.raises(PeriodError):
            Period.parse(bad)
    case = {"case.members": [{"amount": 10}, {"amount": 32.5}, {"note": "x"}]}
    assert amount_of("payments", case) == 42.5
    assert amount_of("attendance", {"overtime_hours": 4}) is None  # no money column
    assert amount_of("property_sales", {"sale_price": 7, "appraisal_mean": 9}) == 7


def test_naebu_quality_table_and_json(tmp_path: Path, directory: Directory) -> None:
    write_config(tmp_path, '[store]\nurl = "sqlite:///store.sqlite"\n')
    engine = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    try:
        with engine.begin() as conn:
            sync_officials(conn, directory, now=MARCH)
        ids = _history(engine, directory)
    finally:
        engine.dispose()
    out = run_cli(
        "rules", "quality", "--period", "2025-03..2025-04", "--format", "json", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    rows = {(r["rule_id"], r["month"]): r for r in data["rows"]}
    march = rows[("R-PAY-DUP", "2025-03")]
    assert march["false_positive_rate"] == 0.5 and march["confirmed"] == 2
    assert march["false_positive_reasons"] == {"data_error": 1, "normal_business": 1}
    assert rows[("R-PAY-DUP", "2025-04")]["excluded_alert_ids"] == [ids["P-9"]]
    assert data["total"]["alerts"] == 7
    table = run_cli("rules", "quality", "--period", "2025-03..2025-04", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    line = next(
        x for x in table.stdout.splitlines() if x.startswith("R-PAY-DUP") and "2025-03 " in x
    )
    assert line.split()[2:6] == ["4", "4", "2", "2"] and "50%" in line
    bad = run_cli("rules", "quality", "--period", "2025-3", cwd=tmp_path)
    assert bad.returncode == 1 and "YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr
    wrong = run_cli(
        "alerts", "false-positive", str(ids["P-6"]), "--as", "E001", "-m", "x", "--reason",
        "핑계", cwd=tmp_path,
    )  # fmt: skip
    assert wrong.returncode == 1 and "알 수 없는 사유 코드" in wrong.stderr
    right = run_cli(
        "alerts", "false-positive", str(ids["P-6"]), "--as", "E001", "-m", "x", "--reason",
        "중복 경보", cwd=tmp_path,
    )  # fmt: skip
    assert right.returncode == 0, right.stderr


def test_the_inbox_takes_reason_codes_and_its_catalog_shows_the_quality(tmp_path: Path) -> None:
    from test_web_helpers import csrf_of, live_server, login, web_city

    city = web_city(tmp_path, now=datetime.now().replace(microsecond=0))
    first, second = city.alerts["P-1001"], city.alerts["P-1002"]
    with live_server(city) as server, server.client() as c:
        login(c, "E001")
        page = c.get(f"/alerts/{first}").text
        assert '<select name="reason">' in page and "규칙 기준 부적합" in page
        token = csrf_of(page)
        bad = c.post(
            f"/alerts/{first}/act",
            data={"action": "false_positive", "comment": "정상", "reason": "핑계", "csrf": token},
        )
        assert bad.status_code == 400 and "알 수 없는 사유 코드" in bad.text
        done = c.post(
            f"/alerts/{first}/act",
            data={"action": "false_positive", "comment": "정상", "reason": "data_error", "csrf": token},
        )  # fmt: skip
        assert done.status_code == 303
        corrected = c.post(
            f"/alerts/{second}/act",
            data={"action": "correct", "comment": "환수", "recovered": "300,000", "csrf": token},
        )
        assert corrected.status_code == 303
        catalog = c.get("/rules").text
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            a = store.alerts.c
            rows = dict(conn.execute(select(a.id, a.reason_code)).all())
            recovered = conn.execute(select(a.recovered_amount).where(a.id == second)).scalar_one()
    finally:
        engine.dispose()
    assert rows[first] == "data_error" and recovered == 300_000
    quality = catalog[catalog.index("규칙 품질") :]
    assert "자료 오류 1" in quality  # the reason, in words
    # three alerts of 1,250,000 + 3,300,000 + 2,100,000 won; 300,000 recovered
    assert "6,650,000원" in quality and "300,000원" in quality and "50.0%" in quality
