"""The Arrow-native read of sql sources (naebu.connectors.arrow_sql) gives exactly the batches
of the SQLAlchemy path: the demo city's sources on SQLite and on a PostgreSQL copy, compared
batch by batch (typed frames and their dtypes, quarantined rows with their reasons, row counts,
watermarks, unmapped values); and a driver that is not installed falls back to SQLAlchemy."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from services import pg_url, require_service, unique_name

import naebu.connectors.arrow_sql as arrow_sql
import naebu.connectors.sql as sql_connector
from naebu.connectors import Batch, SourceState, make_connector
from naebu.connectors.source_settings import SourceConfig
from naebu.demo import generate
from naebu.settings.config import load_config

ROOT = Path(__file__).resolve().parent.parent
DRIVERS = ("adbc_driver_sqlite", "adbc_driver_postgresql")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SourceConfig]]:
    """The demo city at a small scale and its sql sources (the repository's config)."""
    folder = tmp_path_factory.mktemp("arrow-city")
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    generate(folder / "demo-city", scale=0.3)
    config = load_config(folder / "config.toml")
    return folder, [s for s in config.sources.values() if s.kind == "sql"]


def pulled(
    source: SourceConfig, monkeypatch: pytest.MonkeyPatch, arrow: bool
) -> tuple[list[Batch], bool]:
    """Every batch of a first pull of ``source``, and whether ADBC read it; ``arrow=False``
    reads with the drivers made unimportable (as when they are not installed)."""
    taken: list[bool] = []
    chunks = sql_connector.arrow_chunks

    def spy(*args: Any, **kwargs: Any) -> Any:
        frames = chunks(*args, **kwargs)
        taken.append(frames is not None)
        return frames

    with monkeypatch.context() as m:
        m.setattr(sql_connector, "arrow_chunks", spy)
        if not arrow:
            for name in DRIVERS:
                # None in sys.modules makes `import` raise ImportError, as when not installed.
                m.setitem(sys.modules, f"{name}.dbapi", None)
        batches = list(make_connector(source).pull(SourceState()))
    return batches, any(taken)


def assert_same(source: SourceConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    arrow, took = pulled(source, monkeypatch, arrow=True)
    assert took, f"{source.name}: the ADBC driver did not read it"
    plain, took = pulled(source, monkeypatch, arrow=False)
    assert not took, f"{source.name}: read through ADBC without its driver"
    assert len(arrow) == len(plain), source.name
    for a, p in zip(arrow, plain, strict=True):
        pd.testing.assert_frame_equal(a.frame, p.frame, check_exact=True)
        assert a.quarantined == p.quarantined, source.name
        assert (a.rows_read, a.watermark, a.unmapped) == (p.rows_read, p.watermark, p.unmapped)


def needs_driver(name: str) -> None:
    pytest.importorskip(f"{name}.dbapi", reason=f"{name} is not installed")


def test_demo_sources_on_sqlite_read_the_same_through_arrow(city, monkeypatch):
    needs_driver("adbc_driver_sqlite")
    _, sources = city
    for source in sources:
        assert_same(source, monkeypatch)
    # The demo plants rows to quarantine (an amount of 미정 among numbers: a column of two
    # SQLite storage classes); they must be among what was compared.
    payments = next(s for s in sources if s.name == "payments")
    batches, _ = pulled(payments, monkeypatch, arrow=True)
    assert sum(len(b.quarantined) for b in batches) == 2


def test_small_chunks_split_the_same_way(city, monkeypatch):
    needs_driver("adbc_driver_sqlite")
    _, sources = city
    payments = next(s for s in sources if s.name == "payments")
    small = dataclasses.replace(payments, options={**payments.options, "chunk_size": 997})
    batches, _ = pulled(small, monkeypatch, arrow=True)
    assert len(batches) > 2 and all(b.rows_read == 997 for b in batches[:-1])
    assert_same(small, monkeypatch)


def test_sqlite_values_of_every_storage_class_and_legacy_bytes(tmp_path, monkeypatch):
    """NULLs first, then integers, reals, text, EUC-KR text and blobs in one column."""
    needs_driver("adbc_driver_sqlite")
    db = tmp_path / "mixed.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE pay (pay_no TEXT, pay_amt, dept_nm TEXT, upd_dt TEXT, "
            "paid_on TEXT DEFAULT '2025-01-01')"
        )
        rows: list[tuple[Any, ...]] = [(f"P-{i}", None, None, None) for i in range(1500)]
        rows += [
            ("P-a", 1200, "총무과", "2025-01-02"),
            ("P-b", 1200.5, "  재무과 ", "2025-01-01"),
            ("P-c", "1,300원", "김담당".encode("cp949"), "2025-01-03"),
            ("P-d", "미정", b"\xff\xfe", "2025-01-03"),
            (None, 7, "세무과", None),
        ]
        conn.executemany(
            "INSERT INTO pay (pay_no, pay_amt, dept_nm, upd_dt) VALUES (?, ?, ?, ?)", rows
        )
        # Text (not a blob) that is not UTF-8: what a legacy system left behind.
        conn.execute(
            "INSERT INTO pay (pay_no, pay_amt, dept_nm, upd_dt) "
            "VALUES ('P-e', 5, CAST(X'C3D1B9ABB0FA' AS TEXT), '2025-01-04')"
        )
    source = SourceConfig(
        "pay",
        "sql",
        "payments",
        columns={
            "payment_id": "pay_no",
            "amount": "pay_amt",
            "paid_on": "paid_on",
            "department": "dept_nm",
            "updated_at": "upd_dt",
        },
        options={"url": f"sqlite:///{db}", "table": "pay", "watermark": "upd_dt"},
    )
    assert_same(source, monkeypatch)
    [batch], _ = pulled(source, monkeypatch, arrow=True)
    reasons = {q.location: q.reason for q in batch.quarantined}
    assert "table pay, pay_no=P-d" in reasons
    assert "'미정' is not a number" in reasons["table pay, pay_no=P-d"]
    assert "neither UTF-8 nor CP949" in reasons["table pay, pay_no=P-d"]
    good = batch.frame.set_index("payment_id")
    assert good.loc["P-c", "department"] == "김담당"
    assert good.loc["P-e", "department"] == "총무과"
    assert good.loc["P-c", "amount"] == 1300.0
    assert batch.watermark == "2025-01-04"


@pytest.fixture
def pg_city(city) -> Any:
    """The demo city's tables copied into a fresh PostgreSQL schema."""
    url = require_service("PostgreSQL", pg_url())
    folder, sources = city
    schema = unique_name("arrow")
    engine = sa.create_engine(url)
    with sqlite3.connect(folder / "demo-city" / "city.sqlite") as lite:
        names = [r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        frames = {n: pd.read_sql_query(f'SELECT * FROM "{n}"', lite) for n in names}
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        for name, frame in frames.items():
            frame.to_sql(name, conn, schema=schema, index=False)
    try:
        yield [
            dataclasses.replace(s, options={**s.options, "url": url, "schema": schema})
            for s in sources
            if "table" in s.options
        ]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_demo_sources_on_postgresql_read_the_same_through_arrow(pg_city, monkeypatch):
    needs_driver("adbc_driver_postgresql")
    # The small city's tables are under the size ADBC is opened for: compare at any size.
    monkeypatch.setattr(arrow_sql, "_PG_MIN_BYTES", 0)
    assert pg_city
    for source in pg_city:
        assert_same(source, monkeypatch)
    # Rows sharing a watermark straddle chunk ends: ordered by the key too, they split alike.
    payments = next(s for s in pg_city if s.name == "payments")
    assert_same(
        dataclasses.replace(payments, options={**payments.options, "chunk_size": 997}),
        monkeypatch,
    )


def test_postgresql_types_come_as_psycopg2_gives_them(monkeypatch):
    needs_driver("adbc_driver_postgresql")
    url = require_service("PostgreSQL", pg_url())
    table = unique_name("arrow_types")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {table} (pay_no text, pay_amt numeric(14, 2), "
                "paid_on date, upd_dt timestamptz, dept_nm varchar(20), n int)"
            )
        )
        conn.execute(
            sa.text(
                f"INSERT INTO {table} VALUES ('P-1', 1200.50, '2025-01-02', "
                "'2025-01-02 09:00+09', '총무과', 1), ('P-2', NULL, NULL, NULL, NULL, NULL), "
                "('P-3', 'NaN', '2025-02-01', '2025-01-03 00:00+00', ' ', 2)"
            )
        )
    source = SourceConfig(
        "pay",
        "sql",
        "payments",
        columns={
            "payment_id": "pay_no",
            "amount": "pay_amt",
            "paid_on": "paid_on",
            "department": "dept_nm",
            "updated_at": "upd_dt",
        },
        options={"url": url, "table": table, "watermark": "upd_dt"},
    )
    try:
        # A table this small is read through psycopg2: an ADBC connection costs more.
        assert not pulled(source, monkeypatch, arrow=True)[1]
        monkeypatch.setattr(arrow_sql, "_PG_MIN_BYTES", 0)
        assert_same(source, monkeypatch)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE {table}"))
        engine.dispose()
