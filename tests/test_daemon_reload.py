"""Hot reload: rule files edited while ``naebu run`` runs. A good edit applies at the next
run; a broken rule keeps running in its last good version (a TOML syntax error keeps every
rule of its file); the problem is logged and sent to the admins once; other rules go on.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path

from test_daemon_helpers import (
    DaemonProcess,
    alert_keys,
    configure,
    daemons,
    demo_city,  # noqa: F401 - fixture
    free_port,
    labels,
    make_workdir,
    query,
    runs,
    summary_of,
    wait_for,
)

ADMIN = "E-ADMIN-1"


def _write(path: Path, text: str) -> None:
    # Replace the file in one step, as an editor saving it does: never a half-written file.
    tmp = path.with_suffix(".tmp-edit")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# Named columns: the demo's source tables gain columns as the rule pack grows.
SALE_COLUMNS = (
    "sale_no, dept_nm, chrg_emp_no, lotno_addr, bfr_lotno_addr, byr_nm, sale_mthd_nm, prvt_rsn_cd, "
    "apprs_cnt, apprs_avg_amt, apprs_ymd, prdt_prc, bid_ord, sale_amt, ctrt_ymd, pay_dln_ymd, "
    "ownr_trsf_ymd, upd_dt"
)
PAYMENT_COLUMNS = (
    "pay_no, dept_nm, drft_emp_no, aprv_emp_no, cust_cd, ctrt_no, rcvr_nm, rcvr_acnt_no, pay_amt, "
    "pay_ymd, txinv_aprv_no, expd_smry, upd_dt"
)


def _new_rows(city: Path) -> dict[str, str]:
    """Three new source rows, each firing one rule; returns rule -> record key."""
    with sqlite3.connect(city) as db:
        later = "2027-01-01 00:00:00"  # after every watermark: read by the next run
        # A stale appraisal (PROP-STALE-APPRAISAL, the rule we break).
        db.execute(
            f"INSERT INTO prpt_sale ({SALE_COLUMNS}) SELECT 'S-NEW-STALE', dept_nm, chrg_emp_no, "
            "lotno_addr, bfr_lotno_addr, byr_nm, sale_mthd_nm, prvt_rsn_cd, 2, apprs_avg_amt, "
            "'2023-01-10', prdt_prc, bid_ord, apprs_avg_amt * 2, '2025-06-01', pay_dln_ymd, "
            f"ownr_trsf_ymd, '{later}' FROM prpt_sale LIMIT 1"
        )
        # Sold at 105 % of the appraisals in the first tender: fires only under the edited
        # ratio 1.1.
        db.execute(
            f"INSERT INTO prpt_sale ({SALE_COLUMNS}) SELECT 'S-NEW-105', dept_nm, chrg_emp_no, "
            "lotno_addr, bfr_lotno_addr, byr_nm, sale_mthd_nm, prvt_rsn_cd, 2, 100000000, '2025-05-01', "
            "prdt_prc, 1, 105000000, '2025-06-01', pay_dln_ymd, ownr_trsf_ymd, "
            f"'{later}' FROM prpt_sale LIMIT 1"
        )
        # A payment its drafter approved (PAY-SELF-APPROVAL, in the file with a syntax error).
        db.execute(
            f"INSERT INTO expd_rsltn ({PAYMENT_COLUMNS}) SELECT 'P-NEW-SELF', dept_nm, drft_emp_no, drft_emp_no, "
            "cust_cd, ctrt_no, rcvr_nm, rcvr_acnt_no, 1000000, '20250602', txinv_aprv_no, "
            f"expd_smry, '{later}' FROM expd_rsltn WHERE pay_amt GLOB '[0-9]*' LIMIT 1"
        )
    return {
        "PROP-STALE-APPRAISAL": "S-NEW-STALE",
        "PROP-BELOW-APPRAISAL": "S-NEW-105",
        "PAY-SELF-APPROVAL": "P-NEW-SELF",
    }


def test_broken_rule_edit_keeps_the_last_good_version_and_is_reported(
    tmp_path: Path,
    demo_city: Path,  # noqa: F811
) -> None:
    workdir = make_workdir(tmp_path, demo_city)
    store = f"sqlite:///{workdir / 'var' / 'naebu.sqlite'}"
    port = free_port()
    configure(
        workdir,
        interval_seconds=1.5,
        admins=[ADMIN],
        daemon=f'http_port = {port}\nlog_format = "json"\n',
    )
    # Hot reload of edits made in place: no approval asked (rule governance is
    # tests/test_rule_governance.py's).
    config = workdir / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('paths = ["rules"]\n', 'paths = ["rules"]\nrequire_approval = false\n', 1),
        encoding="utf-8",
    )
    sales = workdir / "rules" / "property" / "sales.toml"
    approval = workdir / "rules" / "payments" / "approval.toml"
    with daemons() as started:
        daemon = DaemonProcess(workdir, "daemon")
        started.append(daemon)
        wait_for("the first run", lambda: any(r.status == "ok" for r in runs(store)), timeout=60)
        assert set(alert_keys(store)) == labels(workdir)

        # A good edit (the first rounds' ratio 1.0 -> 1.1, its "exactly the mean" example moved
        # with it: an edit whose examples fail would keep the last good version), a broken
        # rule in the same file (unknown column), and a TOML syntax error in another file.
        text = sales.read_text(encoding="utf-8")
        mean = "tender_round < params.first_cut_round and sale_price < appraisal_mean)"
        assert text.count(mean) == 1
        text = text.replace(mean, mean.replace("appraisal_mean)", "appraisal_mean * 1.1)"))
        limit = (
            'sale_id = "S-2", tender_round = 1, appraisal_count = 2, appraisal_mean = 100_000_000, '
            "sale_price = "
        )
        assert limit + "100_000_000" in text
        text = text.replace(limit + "100_000_000", limit + "111_000_000")
        text = text.replace('"exactly the mean is allowed"', '"above 110 % of the mean"')
        text = text.replace(
            "not_null(appraisal_date) and days_between(appraisal_date, contract_date)",
            "not_null(appraisal_dat) and days_between(appraisal_dat, contract_date)",
        )
        _write(sales, text)
        _write(approval, approval.read_text(encoding="utf-8") + "\nthis is = = not toml\n")
        edited_at = len(runs(store))

        def reported() -> list[object]:
            return query(
                store,
                "SELECT recipient, subject, body FROM outbox WHERE subject LIKE '%규칙 파일 오류%'",
            )

        notices = wait_for("the admin notice", reported, timeout=30)
        expected = _new_rows(workdir / "demo-city" / "city.sqlite")
        wait_for(
            "the new rows' alerts",
            lambda: set(expected.items()) <= {(r, k) for r, _, k in alert_keys(store)},
            timeout=30,
        )
        # A few more runs: the notice is not repeated on every run.
        count = len(runs(store))
        wait_for("two more runs", lambda: len(runs(store)) >= count + 2, timeout=30)
        # Health and metrics say the same.
        base = f"http://127.0.0.1:{port}"
        health = json.loads(urllib.request.urlopen(base + "/healthz", timeout=10).read())
        assert health["role"] == "leader" and health["rule_problems"] >= 2
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        assert "naebu_leader 1.0" in metrics and "naebu_rules_last_good 2.0" in metrics
        assert 'naebu_alerts{state="raised"}' in metrics
        assert daemon.stop() == 0, daemon.stderr()[-3000:]

    raised = alert_keys(store)
    assert len(raised) == len(set(raised))
    # Every label is still alerted once, plus the three new rows: the broken rule (its last
    # good version), the rules of the file with a syntax error, and the edited rule (its new
    # version: 105 % of the appraisals does not fire under the old ratio 1.0).
    expected = {
        ("PROP-STALE-APPRAISAL", "property_sales", "S-NEW-STALE"),
        ("PROP-BELOW-APPRAISAL", "property_sales", "S-NEW-105"),
        ("PAY-SELF-APPROVAL", "payments", "P-NEW-SELF"),
    }
    extra = set(raised) - labels(workdir)
    assert expected <= extra
    # Anything else is a side effect the test does not plant against: the new sales have no
    # receipts (the proceeds rules), or the tightened ratio 1.1 catches an existing sale.
    for rule_id, _, key in extra - expected:
        assert key.startswith("S-NEW-") or rule_id == "PROP-BELOW-APPRAISAL", (rule_id, key)
    # Reported once, to the admin, naming both files and what is wrong.
    assert len(reported()) == len(notices) == 1
    recipient, subject, body = notices[0]
    assert recipient == ADMIN and "[내부통제 운영]" in subject
    assert "rules/property/sales.toml" in body and "rule PROP-STALE-APPRAISAL" in body
    assert "appraisal_dat" in body
    assert "rules/payments/approval.toml" in body and "TOML syntax error" in body
    assert "PAY-SELF-APPROVAL" in body and "last good version" in body
    # Logs are JSON lines; the problems are among them.
    records = [json.loads(line) for line in daemon.stderr().splitlines() if line.startswith("{")]
    problems = [r["message"] for r in records if r["message"].startswith("rule problem: ")]
    assert any("appraisal_dat" in m for m in problems)
    assert any(r.get("run_id") and r.get("run", {}).get("job") == "run" for r in records)
    # The ledger names the rules that ran in their last good version.
    after = [summary_of(r) for r in runs(store)[edited_at:]]
    kept = [s.get("rules_last_good") for s in after if s.get("rules_last_good")]
    assert kept and set(kept[-1]) >= {"PROP-STALE-APPRAISAL", "PAY-SELF-APPROVAL"}
