"""A rule that judges each record against a lookup (a match with a join) reads only the new
records while its lookups are unchanged, and every record again once a lookup changes: an old
payment to an account the vendor no longer has registered is an alert too."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config
from sqlalchemy import select

from naebu import pipeline
from naebu.pipeline.planner import IncrementalPlanner
from naebu.settings.config import load_config
from naebu.store import tables as store
from naebu.store.history import NewRecords

RULES = """
[[rule]]
id = "PAY-ACCOUNT-MISMATCH"
title = "등록 계좌가 아닌 계좌로 지급"
title_en = "Payment to an account other than the registered one"
type = "match"
dataset = "payments"
join = [{ alias = "vendor", dataset = "vendors", on = { vendor_id = "vendor_id" } }]
when = "not_null(vendor.account_no) and not_null(payee_account) and payee_account != vendor.account_no"
severity = "high"
message = "지출 {payment_id}: {payee_account}(으)로 지급, 등록 계좌는 {vendor.account_no}"

[[rule.example]]
fires = true
record = { payment_id = "P-10", vendor_id = "V1", payee_account = "940", amount = 3, paid_on = "2025-06-02" }
related = { vendors = [ { vendor_id = "V1", account_no = "110" } ] }

[[rule.example]]
fires = false
record = { payment_id = "P-11", vendor_id = "V1", payee_account = "110", amount = 3, paid_on = "2025-06-02" }
related = { vendors = [ { vendor_id = "V1", account_no = "110" } ] }
"""

CONFIG = """
[store]
url = "sqlite:///var/naebu.sqlite"
[rules]
paths = ["rules"]
[connections.city]
url = "sqlite:///city.sqlite"
[sources.vendors]
kind = "sql"
connection = "city"
dataset = "vendors"
table = "vendors"
[sources.payments]
kind = "sql"
connection = "city"
dataset = "payments"
table = "payments"
watermark = "updated_at"
"""

NOW = datetime(2025, 7, 1, 9)


def _city(folder: Path) -> sqlite3.Connection:
    db = sqlite3.connect(folder / "city.sqlite", isolation_level=None)
    db.execute("create table vendors (vendor_id text, name text, account_no text)")
    db.execute(
        "create table payments (payment_id text, vendor_id text, payee_account text,"
        " amount real, paid_on text, updated_at text)"
    )
    db.executemany(
        "insert into vendors values (?, ?, ?)",
        [("V1", "한빛상사", "110"), ("V2", "두리건설", "220")],
    )
    return db


def _pay(db: sqlite3.Connection, payment_id: str, vendor: str, account: str, day: int) -> None:
    """A payment made on June ``day``, entered now (later than every earlier one)."""
    entered = db.execute("select count(*) from payments").fetchone()[0]
    db.execute(
        "insert into payments values (?, ?, ?, 1000, ?, ?)",
        (payment_id, vendor, account, f"2025-06-{day:02d}", f"2025-06-30 12:{entered:02d}:00"),
    )


def _alerts(config: Any) -> set[str]:
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(store.alerts.c.record_key)).scalars())
    finally:
        engine.dispose()


def _spy_on_narrowing(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``IncrementalPlanner.touched`` decides for each rule from now on, in order."""
    narrowed: list[dict[str, Any]] = []
    touched = IncrementalPlanner.touched

    def spy(self: IncrementalPlanner, conn: Any, rule: Any, state: Any) -> Any:
        found = touched(self, conn, rule, state)
        narrowed.append(found)
        return found

    monkeypatch.setattr(IncrementalPlanner, "touched", spy)
    return narrowed


def test_new_records_only_until_a_lookup_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, CONFIG)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(RULES, encoding="utf-8")
    db = _city(tmp_path)
    config = load_config(tmp_path / "config.toml")
    narrowed = _spy_on_narrowing(monkeypatch)

    _pay(db, "P1", "V1", "110", 20)
    _pay(db, "P2", "V2", "220", 21)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert _alerts(config) == set()

    # Later runs bring payments entered late, made before P1: a run reading every record
    # from the earliest new one on reads P1 again. Vendors unchanged (read whole again):
    # only the new payment is judged.
    _pay(db, "P3", "V1", "999", 3)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert isinstance(narrowed[-1].get("payments"), NewRecords)
    assert _alerts(config) == {"P3"}

    # V1's registered account changes: P1, paid in an earlier run, no longer matches it.
    db.execute("update vendors set account_no = '111' where vendor_id = 'V1'")
    _pay(db, "P4", "V2", "220", 4)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert _alerts(config) == {"P1", "P3"}
    assert narrowed[-1] == {}

    # V2 leaves the vendor list: a deletion changes the lookup too, so nothing is narrowed.
    db.execute("delete from vendors where vendor_id = 'V2'")
    _pay(db, "P5", "V1", "111", 5)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert narrowed[-1] == {}
    assert _alerts(config) == {"P1", "P3"}


SEQUENCE = """
[[rule]]
id = "PAY-AFTER-ACCOUNT-CHANGE"
title = "거래처 계좌 변경 직후 지급"
title_en = "Payment within days of a change of the vendor's account"
type = "sequence"
dataset = "payments"
first = { dataset = "vendors", time = "account_changed_on" }
then = { dataset = "payments", time = "paid_on" }
match = { vendor_id = "vendor_id" }
within = "7d"
expect = "present"
severity = "high"
message = "지출 {payment_id}: {paid_on} 지급, 거래처 계좌 변경 직후"

[[rule.example]]
fires = true
records = [ { payment_id = "P-16", vendor_id = "V1", amount = 4, paid_on = "2025-06-09" } ]
related = { vendors = [ { vendor_id = "V1", account_changed_on = "2025-06-02" } ] }
expect_keys = ["P-16"]

[[rule.example]]
fires = false
records = [ { payment_id = "P-17", vendor_id = "V1", amount = 4, paid_on = "2025-06-10" } ]
related = { vendors = [ { vendor_id = "V1", account_changed_on = "2025-06-02" } ] }
expect_keys = []
"""


def test_sequence_reads_new_records_only_while_the_other_side_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sequence between two datasets judges each payment against the vendors alone: with
    the vendors unchanged only new payments are read, and once an account change is recorded
    an older payment made right after it is found too."""
    write_config(tmp_path, CONFIG)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(SEQUENCE, encoding="utf-8")
    db = _city(tmp_path)
    db.execute("alter table vendors add column account_changed_on text")
    db.execute("update vendors set account_changed_on = '2025-06-01' where vendor_id = 'V2'")
    config = load_config(tmp_path / "config.toml")
    narrowed = _spy_on_narrowing(monkeypatch)

    _pay(db, "P1", "V1", "110", 20)
    _pay(db, "P2", "V2", "220", 21)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert _alerts(config) == set()

    # P3 is paid two days after V2's account changed; vendors unchanged: only P3 is read.
    _pay(db, "P3", "V2", "220", 3)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert narrowed[-1].get("payments") == NewRecords(1)
    assert _alerts(config) == {"P3"}

    # V1's account changed on June 15, recorded only now: P1 (June 20, read in the first run)
    # was paid within the week after it. P4, new, is V2's: still judged.
    db.execute("update vendors set account_changed_on = '2025-06-15' where vendor_id = 'V1'")
    _pay(db, "P4", "V2", "220", 5)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert _alerts(config) == {"P1", "P3", "P4"}
    assert not isinstance(narrowed[-1].get("payments"), NewRecords)
