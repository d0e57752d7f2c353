"""Text that is not UTF-8 in a SQL source, and amounts that are not finite (issue 17, 3 and 11).

Legacy Korean systems hold EUC-KR/CP949 bytes in text columns: SQLite TEXT that is not UTF-8,
a MariaDB VARBINARY/BLOB column, or a MariaDB latin1 column. Such a value used to stop the
read with a traceback (sqlite3's "Could not decode to UTF-8", pandas' UnicodeDecodeError),
the watermark stuck; a latin1 column was silently read as Latin-1 (``±è´ã´ç``).
Now a CP949 value is read as CP949, bytes that are neither UTF-8 nor CP949 quarantine their
row (the column and the bytes named, escaped), and the rest of the batch loads.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from minicity import history_query, make_city, query, run
from services import mysql_url, require_service, unique_name

from naebu.connectors.coerce import coerce
from naebu.core.datasets import DATASETS

KIM = "김담당".encode("cp949")  # b'\xb1\xe8\xb4\xe3\xb4\xe7'
JUNK = b"\xff\xfe\x80"  # neither UTF-8 nor CP949


def _check_run(config: Path) -> None:
    summary = run(config)
    report = {s.name: s for s in summary.sources}["payments"]
    assert report.error is None, report.error
    assert report.rows_read == 3
    rows = history_query(
        config, "SELECT payment_id, department FROM rec_payments ORDER BY payment_id"
    )
    assert rows == [("P-1", "재무과"), ("P-2", "김담당")]
    (reason, raw) = query(config, "SELECT reason, raw FROM quarantine")[0]
    assert reason == r"department: b'\xff\xfe\x80' is neither UTF-8 nor CP949 text", reason
    assert r"b'\\xff\\xfe\\x80'" in str(raw), raw
    (watermark,) = query(config, "SELECT value FROM watermarks WHERE source = 'payments'")[0]
    assert watermark == "2025-06-10 10:00:03"


def test_sqlite_text_in_cp949_is_read_and_junk_bytes_are_quarantined(tmp_path: Path) -> None:
    config = make_city(tmp_path / "city")
    with sqlite3.connect(tmp_path / "city" / "city.sqlite") as db:
        db.execute(
            "CREATE TABLE pay (pay_no TEXT, dept_nm TEXT, emp_no TEXT, amt INTEGER, "
            "pay_ymd TEXT, upd_dt TEXT)"
        )
        db.execute(
            "INSERT INTO pay VALUES ('P-1', '재무과', 'E001', 5000000, '2025-06-02', "
            "'2025-06-10 10:00:01')"
        )
        for n, name in ((2, KIM), (3, JUNK)):
            db.execute(
                "INSERT INTO pay VALUES (?, CAST(? AS TEXT), 'E001', 5000000, '2025-06-02', ?)",
                (f"P-{n}", name, f"2025-06-10 10:00:0{n}"),
            )
    _check_run(config)


@pytest.mark.parametrize("column", ["VARBINARY(50)", "VARCHAR(50) CHARACTER SET latin1"])
def test_mariadb_cp949_bytes_are_read_and_junk_quarantined(tmp_path: Path, column: str) -> None:
    url = require_service("MariaDB", mysql_url())
    table = unique_name("pay_enc")
    config = make_city(tmp_path / "city", payments_url=url, table=table)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"CREATE TABLE {table} (pay_no VARCHAR(20), dept_nm {column}, "
                    "emp_no VARCHAR(20), amt BIGINT, pay_ymd VARCHAR(10), upd_dt VARCHAR(19))"
                )
            )
            for n, name in ((1, "재무과".encode()), (2, KIM), (3, JUNK)):
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table} VALUES (:p, :d, 'E001', 5000000, '2025-06-02', :u)"
                    ),
                    {"p": f"P-{n}", "d": name, "u": f"2025-06-10 10:00:0{n}"},
                )
        _check_run(config)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


@pytest.mark.parametrize("amount", ["1e400", "-1e400", 1e400, float("-inf")])
def test_an_amount_that_is_not_finite_is_quarantined(amount: object) -> None:
    raw = pd.DataFrame(
        {"payment_id": ["P-1", "P-2"], "amount": [1000.0, amount], "paid_on": ["2025-06-02"] * 2},
        dtype=object,
    )
    frame, quarantined = coerce(raw, DATASETS["payments"], {}, {}, ["row 1", "row 2"])
    assert list(frame["payment_id"]) == ["P-1"]
    assert [q.location for q in quarantined] == ["row 2"]
    shown = amount if isinstance(amount, str) else str(amount)
    assert quarantined[0].reason == f"amount: {shown!r} is not a finite number"


def test_a_sqlite_real_overflowing_to_infinity_is_quarantined(tmp_path: Path) -> None:
    config = make_city(tmp_path / "city")
    with sqlite3.connect(tmp_path / "city" / "city.sqlite") as db:
        db.execute(
            "CREATE TABLE pay (pay_no TEXT, dept_nm TEXT, emp_no TEXT, amt REAL, "
            "pay_ymd TEXT, upd_dt TEXT)"
        )
        db.execute(
            "INSERT INTO pay VALUES ('P-1', '재무과', 'E001', 5000000, '2025-06-02', "
            "'2025-06-10 10:00:01'), ('P-2', '재무과', 'E001', 1e400, '2025-06-02', "
            "'2025-06-10 10:00:02')"
        )
    run(config)
    assert history_query(config, "SELECT payment_id FROM rec_payments") == [("P-1",)]
    assert query(config, "SELECT reason FROM quarantine") == [
        ("amount: 'inf' is not a finite number",)
    ]


def test_a_csv_amount_of_1e400_is_quarantined_as_not_finite(tmp_path: Path) -> None:
    config = make_city(tmp_path / "city", files=True)
    with sqlite3.connect(tmp_path / "city" / "city.sqlite") as db:
        db.execute(
            "CREATE TABLE pay (pay_no TEXT, dept_nm TEXT, emp_no TEXT, amt INTEGER, "
            "pay_ymd TEXT, upd_dt TEXT)"
        )
    (tmp_path / "city" / "drops" / "pay.csv").write_text(
        "payment_id,department,official_id,amount,paid_on\n"
        "F-1,재무과,E001,3000000,2025-06-03\n"
        "F-2,재무과,E001,1e400,2025-06-03\n",
        encoding="utf-8",
    )
    run(config)
    assert history_query(config, "SELECT payment_id FROM rec_payments") == [("F-1",)]
    assert query(config, "SELECT reason FROM quarantine") == [
        ("amount: '1e400' is not a finite number",)
    ]
