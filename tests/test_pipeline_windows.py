"""Rules that need history run inside `naebu run`: windows over records read in earlier runs,
absences that become provable as the clock passes, and nothing raised twice."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, write_config

RULES = """
[[rule]]
id = "PROP-PROCEEDS-LATE"
title = "매각대금 60일 내 미납"
title_en = "Sale proceeds not received within 60 days"
type = "sequence"
dataset = "property_sales"
severity = "high"
first = { dataset = "property_sales", time = "contract_date" }
then = { dataset = "receipts", time = "received_on", when = 'ref_type == "property_sale"' }
match = { sale_id = "ref_id" }
within = "60d"
expect = "absent"
unmatched = "fire"
complete = { sum = "amount", at_least = "sale_price" }
message = "매각 {sale_id}: 계약 {contract_date}, 60일 내 전액 미수납"

[[rule.example]]
fires = true
record = { sale_id = "S1", sale_price = 100, contract_date = "2025-01-01" }

[[rule.example]]
fires = false
record = { sale_id = "S1", sale_price = 100, contract_date = "2025-01-01" }
related = { receipts = [ { receipt_id = "R1", ref_type = "property_sale", ref_id = "S1", amount = 100, received_on = "2025-02-01" } ] }

[[rule]]
id = "PAY-SPLIT"
title = "같은 거래처 30일 내 분할 지급"
title_en = "Split payments to one vendor within 30 days"
type = "aggregate"
dataset = "payments"
severity = "medium"
group_by = ["vendor_id"]
window = "30d"
having = "count() >= 2 and sum(amount) > params.limit"
params = { limit = 20_000_000 }

[[rule.example]]
fires = true
records = [ { payment_id = "P1", vendor_id = "V", amount = 15_000_000, paid_on = "2025-01-01" }, { payment_id = "P2", vendor_id = "V", amount = 15_000_000, paid_on = "2025-01-20" } ]

[[rule.example]]
fires = false
records = [ { payment_id = "P1", vendor_id = "V", amount = 15_000_000, paid_on = "2025-01-01" }, { payment_id = "P2", vendor_id = "V", amount = 15_000_000, paid_on = "2025-03-20" } ]
"""

CONFIG = """
[store]
url = "sqlite:///var/naebu.sqlite"
[rules]
paths = ["rules"]
[sources.sales]
kind = "files"
dataset = "property_sales"
path = "drop/sales"
[sources.receipts]
kind = "files"
dataset = "receipts"
path = "drop/receipts"
[sources.payments]
kind = "files"
dataset = "payments"
path = "drop/payments"
"""


def _drop(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def _alerts(cwd: Path) -> set[tuple[str, str]]:
    out = run_cli("alerts", "list", "--format", "json", cwd=cwd)
    assert out.returncode == 0, out.stderr
    return {(a["rule_id"], k) for a in json.loads(out.stdout) for k in a["records"]}


def _run(cwd: Path, now: str) -> str:
    result = run_cli("run", "--once", "--now", now, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_absence_and_window_rules_across_runs(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(RULES, encoding="utf-8")
    drop = tmp_path / "drop"
    _drop(
        drop / "sales",
        "s1.csv",
        "sale_id,sale_price,contract_date\nS1,100,2025-01-01\nS2,100,2025-01-01\nS3,100,2025-02-15\n",
    )
    _drop(
        drop / "receipts",
        "r1.csv",
        "receipt_id,ref_type,ref_id,amount,received_on\nR1,property_sale,S1,60,2025-01-20\n",
    )
    _drop(
        drop / "payments",
        "p1.csv",
        "payment_id,vendor_id,amount,paid_on\nP1,V1,15000000,2025-01-05\n",
    )

    # Day 40: no window has closed, the split is not complete yet.
    _run(tmp_path, "2025-02-10")
    assert _alerts(tmp_path) == set()

    # New files: S1 paid in full (in two parts), and a second payment to V1 within 30 days.
    _drop(
        drop / "receipts",
        "r2.csv",
        "receipt_id,ref_type,ref_id,amount,received_on\nR2,property_sale,S1,40,2025-02-20\n",
    )
    _drop(
        drop / "payments",
        "p2.csv",
        "payment_id,vendor_id,amount,paid_on\nP2,V1,15000000,2025-01-25\n",
    )
    _run(tmp_path, "2025-02-25")
    assert _alerts(tmp_path) == {("PAY-SPLIT", "P1"), ("PAY-SPLIT", "P2")}, (
        "P1 came in an earlier run"
    )

    # Day 61 for S1 and S2 (contracted 2025-01-01): only S2 is short. No new file is needed:
    # the clock alone makes the absence provable.
    _run(tmp_path, "2025-03-03")
    assert ("PROP-PROCEEDS-LATE", "S2") in _alerts(tmp_path)
    assert ("PROP-PROCEEDS-LATE", "S1") not in _alerts(tmp_path)
    assert ("PROP-PROCEEDS-LATE", "S3") not in _alerts(tmp_path), "S3's window is still open"

    # Much later: S3's window closed too; earlier alerts are not raised again.
    out = _run(tmp_path, "2025-06-01")
    assert _alerts(tmp_path) == {
        ("PAY-SPLIT", "P1"),
        ("PAY-SPLIT", "P2"),
        ("PROP-PROCEEDS-LATE", "S2"),
        ("PROP-PROCEEDS-LATE", "S3"),
    }
    assert "new alerts: 1 " in out
    assert "new alerts: 0 " in _run(tmp_path, "2025-06-02")
