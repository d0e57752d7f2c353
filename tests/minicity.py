"""A small city for reliability tests: three officials, one payments table, one rule file.

The officials live in a SQLite file; the payments table can be in SQLite, PostgreSQL or
MariaDB (any SQLAlchemy URL), and a CSV drop folder can be added as a second source. Tests
change the source (kill its connection, add or drop columns, repeat keys) or the rule file
and run the real pipeline against a real SQLite store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

from naebu.pipeline import RunSummary, run_once
from naebu.settings.config import Config, load_config
from naebu.store import tables as store

OFFICIALS = [
    ("E001", "김담당", "재무과", "담당자", "e001@example.go.kr"),
    ("E010", "이과장", "재무과", "부서관리자", "e010@example.go.kr"),
    ("E030", "박감사", "감사실", "감사자", "e030@example.go.kr"),
]

RULE = """\
[[rule]]
id = "PAY-BIG"
title = "고액 지출"
title_en = "Large payment"
type = "match"
dataset = "payments"
when = "amount >= params.limit"
params = { limit = 1000000 }
severity = "high"
message = "지출 {payment_id}: {amount:,}원"

[[rule.example]]
fires = true
record = { payment_id = "P-1", amount = 5_000_000, paid_on = "2025-06-02" }

[[rule.example]]
fires = false
record = { payment_id = "P-2", amount = 5_000, paid_on = "2025-06-02" }
"""

#: Source columns of the payments table, in order.
PAY_COLUMNS = ("pay_no", "dept_nm", "emp_no", "amt", "pay_ymd", "upd_dt")

NOW = datetime(2025, 7, 1, 9, 0)


def payment(n: int, amount: int, updated: str = "2025-06-10 10:00:00") -> tuple[object, ...]:
    """One source row of the payments table (pay_no ``P-00001`` ...)."""
    return (f"P-{n:05d}", "재무과", "E001", amount, "2025-06-02", updated)


def make_city(
    folder: Path,
    *,
    payments_url: str | None = None,
    table: str = "pay",
    chunk_size: int = 50_000,
    files: bool = False,
    file_columns: str = "",
) -> Path:
    """Write the city into ``folder`` and return its config.toml.

    ``payments_url``: where the payments table is (default: the city's SQLite file); the
    table itself is made by :func:`create_payments`. ``files``: add a ``card`` source reading
    CSV drops from ``folder/drops`` (payments too, mapped by ``file_columns`` or by name).
    """
    folder.mkdir(parents=True, exist_ok=True)
    city = folder / "city.sqlite"
    with sqlite3.connect(city) as db:
        db.execute(
            "CREATE TABLE emp (emp_no TEXT, emp_nm TEXT, dept_nm TEXT, role_nm TEXT, email TEXT)"
        )
        db.executemany("INSERT INTO emp VALUES (?, ?, ?, ?, ?)", OFFICIALS)
    url = payments_url or f"sqlite:///{city}"
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "pay.toml").write_text(RULE, encoding="utf-8")
    text = f"""\
[store]
url = "sqlite:///{folder / "var" / "naebu.sqlite"}"

[rules]
paths = ["rules"]

[sources.employees]
kind = "sql"
url = "sqlite:///{city}"
dataset = "employees"
table = "emp"

[sources.employees.columns]
employee_id = "emp_no"
name = "emp_nm"
department = "dept_nm"
role = "role_nm"
email = "email"

[sources.payments]
kind = "sql"
url = "{url}"
dataset = "payments"
table = "{table}"
watermark = "upd_dt"
chunk_size = {chunk_size}

[sources.payments.columns]
payment_id = "pay_no"
department = "dept_nm"
official_id = "emp_no"
amount = "amt"
paid_on = "pay_ymd"
"""
    if files:
        (folder / "drops").mkdir(exist_ok=True)
        text += f"""
[sources.drops]
kind = "files"
path = "drops"
dataset = "payments"
chunk_size = {chunk_size}
{file_columns}
"""
    text += """
[routing]
directory = "employees"

[notify]
language = "ko"
"""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def create_payments(
    url: str, rows: Iterable[Sequence[object]], table: str = "pay", replace: bool = True
) -> None:
    """(Re)create the payments table at ``url`` and insert ``rows``."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if replace:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
            conn.execute(
                sa.text(
                    f"CREATE TABLE {table} (pay_no VARCHAR(20), dept_nm VARCHAR(50), "
                    "emp_no VARCHAR(20), amt BIGINT, pay_ymd VARCHAR(10), upd_dt VARCHAR(19))"
                )
            )
        insert_payments(url, rows, table)
    finally:
        engine.dispose()


def insert_payments(url: str, rows: Iterable[Sequence[object]], table: str = "pay") -> None:
    """Insert payment rows (in :data:`PAY_COLUMNS` order) into the table at ``url``."""
    rows = [dict(zip(PAY_COLUMNS, r, strict=True)) for r in rows]
    if not rows:
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} ({', '.join(PAY_COLUMNS)}) VALUES "
                    f"({', '.join(':' + c for c in PAY_COLUMNS)})"
                ),
                rows,
            )
    finally:
        engine.dispose()


def run(config_path: Path, now: datetime = NOW, **kwargs: object) -> RunSummary:
    """One run of the pipeline on the city, as ``naebu run --once`` does it."""
    config = load_config(config_path)
    return run_once(config, now=now, **kwargs)  # type: ignore[arg-type]


def config_of(config_path: Path) -> Config:
    """The city's loaded config."""
    return load_config(config_path)


def store_of(config_path: Path) -> Engine:
    """An engine on the city's store (dispose it)."""
    return store.connect(load_config(config_path).store_url)


def history_query(config_path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql`` over the city's record history (``rec_<dataset>`` tables, read through
    the history's readers: tests/history_copy.py)."""
    from history_copy import history_sql

    return history_sql(load_config(config_path).store_url, sql)


def query(config_path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql`` on the city's store."""
    engine = store_of(config_path)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()
